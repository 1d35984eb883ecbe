#pragma once
// The rate limit of one call class: every window of it must have room before
// a call goes out (DigiCert's 100 per 5 s and 1,000 per 3 min both hold).
// Pure: the caller passes the time.

#include <chrono>
#include <deque>
#include <vector>

#include "actors/policy/retry_policy.hpp"
#include "actors/policy/token_bucket.hpp"
#include "protocol/ca/common/rate_limits.hpp"

namespace cbcs::actors {

class call_limiter {
 public:
  call_limiter(const std::vector<protocol::ca::rate_window>& windows, clock::time_point now);

  // Takes a slot in every window and returns true, or takes none and returns false.
  bool try_take(clock::time_point now);
  // How long until every window has room (zero when they have).
  std::chrono::milliseconds wait_time(clock::time_point now);
  // A 429 says the service's view is tighter than ours: no call for a while,
  // at least retry_after (the answer's Retry-After) when it says so.
  void drain(clock::time_point now, std::chrono::milliseconds retry_after = {});
  // A call of the class was answered without a 429 (the rate recovers).
  void answered();

 private:
  // At most `limit` calls in any `window`: the times of the last calls.
  struct sliding_window {
    std::size_t limit;
    clock::duration window;
    std::deque<clock::time_point> sent;
    clock::time_point blocked_until{};
    void forget_before(clock::time_point now);
    std::chrono::milliseconds wait_time(clock::time_point now);
  };

  std::vector<token_bucket> buckets_;
  std::vector<sliding_window> windows_;
  clock::time_point held_until_{};  // a Retry-After's end
};

}  // namespace cbcs::actors
