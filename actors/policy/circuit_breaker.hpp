#pragma once
// Stops sending to a backend that keeps failing, so its outage costs neither
// the CA nor us a storm of doomed requests. Closed -> (threshold failures in a
// row) -> open for `open_for` -> half-open: one probe; success closes it,
// failure opens it again for twice as long (capped).

#include <chrono>

#include "actors/policy/retry_policy.hpp"

namespace cbcs::actors {

struct breaker_settings {
  int failure_threshold = 5;
  std::chrono::milliseconds open_for{5'000};
  std::chrono::milliseconds max_open_for{300'000};
};

class circuit_breaker {
 public:
  enum class state { closed, open, half_open };

  explicit circuit_breaker(breaker_settings s) : settings_(s), open_for_(s.open_for) {}

  // May a request go now? In half-open, only one probe is let through.
  bool allow(clock::time_point now);
  void on_success();
  void on_failure(clock::time_point now);
  // A throttling answer (429): the CA is up and asks for less, which is the
  // rate limiter's business. Not a failure (a breaker opened by 429s stopped
  // all sending for seconds at GCP's quota); a half-open probe it answered
  // closes the breaker.
  void on_throttled();

  state current(clock::time_point now);
  // Half-open with its one probe still out: others must wait for its answer.
  bool awaiting_probe(clock::time_point now) {
    return current(now) == state::half_open && probe_out_;
  }
  // When an open breaker lets the next probe through.
  clock::time_point reopens_at() const { return opened_at_ + open_for_; }

 private:
  breaker_settings settings_;
  state state_ = state::closed;
  int failures_ = 0;
  bool probe_out_ = false;
  clock::time_point opened_at_{};
  std::chrono::milliseconds open_for_;
};

const char* to_string(circuit_breaker::state s);

}  // namespace cbcs::actors
