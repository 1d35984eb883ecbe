#pragma once
// A token bucket per backend (and per call class), seeded from the service's
// published quotas. Pure: the caller passes the time.

#include <chrono>

#include "actors/policy/retry_policy.hpp"

namespace cbcs::actors {

class token_bucket {
 public:
  // rate tokens per second, at most burst stored; starts full.
  token_bucket(double rate, double burst, clock::time_point now);

  // Takes a token and returns true, or returns false and leaves it.
  bool try_take(clock::time_point now);
  // How long until a token is there (zero when one is).
  std::chrono::milliseconds wait_time(clock::time_point now);

  // A 429 says the service's view is tighter than ours: empty the bucket.
  void drain(clock::time_point now);

 private:
  void refill(clock::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace cbcs::actors
