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

  // A 429 says the service's view is tighter than ours: empty the bucket
  // and go 5 % slower (down to half the quota), once a second at most (the
  // 429s of one burst are one signal). Sending at exactly the published
  // rate meets a service counting over a sliding second at its edge: about
  // one call in ten came back 429 at GCP's 7/s.
  void drain(clock::time_point now);
  // An answer that was not a 429: after a quota's worth of them in a row
  // (about ten seconds at the rate), 1 % faster again, up to the quota.
  void answered();
  double rate() const { return rate_; }

 private:
  void refill(clock::time_point now);

  double quota_;  // the configured rate: never exceeded
  double rate_;   // what is sent now: quota_ or less after 429s
  int answered_in_a_row_ = 0;
  clock::time_point slowed_at_{};
  bool slowed_ = false;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace cbcs::actors
