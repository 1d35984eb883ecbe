#include "actors/policy/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace cbcs::actors {

token_bucket::token_bucket(double rate, double burst, clock::time_point now)
    : quota_(rate > 0 ? rate : 1e9),
      rate_(quota_),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      last_(now) {}

void token_bucket::refill(clock::time_point now) {
  if (now <= last_) return;
  std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  last_ = now;
}

bool token_bucket::try_take(clock::time_point now) {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds token_bucket::wait_time(clock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil((1.0 - tokens_) / rate_ * 1000.0)));
}

void token_bucket::drain(clock::time_point now) {
  refill(now);
  tokens_ = 0;
  answered_in_a_row_ = 0;
  if (slowed_ && now - slowed_at_ < std::chrono::seconds(1)) return;
  slowed_ = true;
  slowed_at_ = now;
  rate_ = std::max(rate_ * 0.95, quota_ * 0.5);
}

void token_bucket::answered() {
  if (rate_ >= quota_) return;
  if (++answered_in_a_row_ < static_cast<int>(std::ceil(quota_ * 10.0))) return;
  answered_in_a_row_ = 0;
  rate_ = std::min(quota_, rate_ * 1.01);
}

}  // namespace cbcs::actors
