#pragma once
// The job_session contract for drivers that talk HTTP, kept once: after the
// first call, next(nullptr) means "the last request got no answer to read"
// (a pending poll, a retry after a retryable failure or a network error, a
// rate-limit wait before it went out), and the session sends its last request
// again. A pending or retryable failed outcome leaves the session open for
// that; after issued, done or a final failure it is closed, and a further
// call is a driver bug reported as an internal failure.

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

class http_session : public job_session {
 public:
  step next(const http_response* previous, const step_context& ctx) final;

 protected:
  using time_point = std::chrono::system_clock::time_point;

  // The first step.
  virtual step begin() = 0;
  // The answer to the last request.
  virtual step on_answer(const http_response& answer) = 0;
  // The last request once more; a driver that signs its requests overrides
  // this to sign it anew.
  virtual step again() { return last_request_; }
  // The last request, which never went out (step_context::unsent): what
  // again() gives unless a session's again() does more than resend.
  virtual step resend() { return again(); }

  const http_request& last_request() const { return last_request_; }

  // The time of this call to next(), from the actor.
  time_point now() const { return now_; }
  // step_context::attempt_limit of this call.
  std::chrono::milliseconds attempt_limit() const { return attempt_limit_; }

 private:
  step track(step s);

  http_request last_request_;
  time_point now_{};
  std::chrono::milliseconds attempt_limit_{0};
  bool started_ = false;
  bool resend_ = false;
  bool done_ = false;
};

}  // namespace cbcs::protocol::ca
