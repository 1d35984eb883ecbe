#pragma once
// When to try a job again: full-jitter exponential back-off, the service's
// Retry-After honoured, bounded by an attempt limit and the job's deadline.
// Pure: time and randomness come in as arguments, so tests need no sleeps.

#include <chrono>
#include <cstdint>
#include <optional>

namespace cbcs::actors {

using clock = std::chrono::steady_clock;

struct retry_settings {
  std::chrono::milliseconds base{200};
  std::chrono::milliseconds cap{30'000};
  int max_attempts = 8;
  // Pending orders are polled with their own bounds (see poll_delay).
  std::chrono::milliseconds poll_min{1'000};
  std::chrono::milliseconds poll_max{300'000};
};

// Delay before attempt `attempt + 1` after `attempt` failed (attempt >= 1):
// uniform in [0, min(cap, base * 2^(attempt-1))], but at least retry_after.
// `unit_random` is a uniform draw in [0, 1).
std::chrono::milliseconds backoff_delay(const retry_settings& s, int attempt,
                                        std::chrono::milliseconds retry_after, double unit_random);

// Delay before polling a pending order the n-th time (n >= 1): the driver's
// hint if any, growing with n, jittered by +-20 %, within [poll_min, poll_max].
std::chrono::milliseconds poll_delay(const retry_settings& s, int n, std::chrono::milliseconds hint,
                                     double unit_random);

// nullopt: give up (attempts exhausted or the delay would pass the deadline).
std::optional<clock::time_point> next_attempt_time(const retry_settings& s, int attempt,
                                                   std::chrono::milliseconds retry_after,
                                                   clock::time_point now,
                                                   clock::time_point deadline, double unit_random);

}  // namespace cbcs::actors
