#include "actors/policy/call_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace cbcs::actors {

using std::chrono::milliseconds;

call_limiter::call_limiter(const std::vector<protocol::ca::rate_window>& windows,
                           clock::time_point now) {
  for (const auto& w : windows) {
    if (!(w.requests > 0)) continue;
    if (w.sliding)
      windows_.push_back({static_cast<std::size_t>(std::max(1.0, std::floor(w.requests))),
                          std::chrono::duration_cast<clock::duration>(w.window),
                          {},
                          {}});
    else
      buckets_.emplace_back(w.per_second(), std::max(1.0, w.requests), now);
  }
}

void call_limiter::sliding_window::forget_before(clock::time_point now) {
  while (!sent.empty() && sent.front() + window <= now) sent.pop_front();
}

milliseconds call_limiter::sliding_window::wait_time(clock::time_point now) {
  forget_before(now);
  auto until = blocked_until;
  if (sent.size() >= limit) until = std::max(until, sent.front() + window);
  if (until <= now) return milliseconds(0);
  return std::max(milliseconds(1), std::chrono::ceil<milliseconds>(until - now));
}

milliseconds call_limiter::wait_time(clock::time_point now) {
  milliseconds out{0};
  if (held_until_ > now) out = std::chrono::ceil<milliseconds>(held_until_ - now);
  for (auto& b : buckets_) out = std::max(out, b.wait_time(now));
  for (auto& w : windows_) out = std::max(out, w.wait_time(now));
  return out;
}

void call_limiter::answered() {
  for (auto& b : buckets_) b.answered();
}

bool call_limiter::try_take(clock::time_point now) {
  if (wait_time(now) > milliseconds(0)) return false;
  for (auto& b : buckets_) b.try_take(now);
  for (auto& w : windows_) w.sent.push_back(now);
  return true;
}

void call_limiter::drain(clock::time_point now, milliseconds retry_after) {
  for (auto& b : buckets_) b.drain(now);
  // One call's share of each window (5 s / 100 = 50 ms), not the whole window.
  for (auto& w : windows_)
    w.blocked_until = std::max(w.blocked_until, now + w.window / static_cast<long>(w.limit));
  held_until_ = std::max(held_until_, now + retry_after);
}

}  // namespace cbcs::actors
