#include "actors/policy/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace cbcs::actors {

using std::chrono::milliseconds;

milliseconds backoff_delay(const retry_settings& s, int attempt, milliseconds retry_after,
                           double unit_random) {
  int exponent = std::clamp(attempt - 1, 0, 30);
  double ceiling = std::min(static_cast<double>(s.cap.count()),
                            static_cast<double>(s.base.count()) * std::ldexp(1.0, exponent));
  auto jittered = milliseconds(static_cast<std::int64_t>(ceiling * unit_random));
  return std::max(jittered, retry_after);
}

milliseconds poll_delay(const retry_settings& s, int n, milliseconds hint, double unit_random) {
  // Grow by half each poll from the hint (or the floor), so a slow approval
  // does not cost a request a second, yet a quick one is seen quickly.
  double start = static_cast<double>(std::max(hint, s.poll_min).count());
  double grown = start * std::pow(1.5, std::clamp(n - 1, 0, 40));
  double jitter = 0.8 + 0.4 * unit_random;
  auto d = milliseconds(static_cast<std::int64_t>(std::min(grown, 1e12) * jitter));
  return std::clamp(d, s.poll_min, s.poll_max);
}

std::optional<clock::time_point> next_attempt_time(const retry_settings& s, int attempt,
                                                   milliseconds retry_after, clock::time_point now,
                                                   clock::time_point deadline, double unit_random) {
  if (attempt >= s.max_attempts) return std::nullopt;
  auto at = now + backoff_delay(s, attempt, retry_after, unit_random);
  if (at >= deadline) return std::nullopt;
  return at;
}

}  // namespace cbcs::actors
