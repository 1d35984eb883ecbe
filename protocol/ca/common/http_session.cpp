#include "protocol/ca/common/http_session.hpp"

namespace cbcs::protocol::ca {

step http_session::next(const http_response* previous, const step_context& ctx) {
  now_ = ctx.now;
  attempt_limit_ = ctx.attempt_limit;
  if (done_)
    return outcome::failed(error_class::internal,
                           "driver error: next() called after the job finished");
  if (!started_) {
    started_ = true;
    return track(begin());
  }
  if (previous == nullptr && ctx.unsent && !resend_) return track(resend());
  if (previous == nullptr || resend_) {
    resend_ = false;
    return track(again());
  }
  return track(on_answer(*previous));
}

step http_session::track(step s) {
  if (auto* request = std::get_if<http_request>(&s)) {
    last_request_ = *request;
    return s;
  }
  // Waiting for another job's credential: next(nullptr) comes, and the
  // session asks again.
  if (std::holds_alternative<await_fetch>(s)) {
    resend_ = true;
    return s;
  }
  const auto& o = std::get<outcome>(s);
  bool open = o.what == outcome::kind::pending || (o.what == outcome::kind::failed && o.retryable);
  done_ = !open;
  resend_ = open;
  return s;
}

}  // namespace cbcs::protocol::ca
