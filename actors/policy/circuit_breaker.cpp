#include "actors/policy/circuit_breaker.hpp"

#include <algorithm>

namespace cbcs::actors {

circuit_breaker::state circuit_breaker::current(clock::time_point now) {
  if (state_ == state::open && now >= opened_at_ + open_for_) {
    state_ = state::half_open;
    probe_out_ = false;
  }
  return state_;
}

bool circuit_breaker::allow(clock::time_point now) {
  switch (current(now)) {
    case state::closed:
      return true;
    case state::open:
      return false;
    case state::half_open:
      if (probe_out_) return false;
      probe_out_ = true;
      return true;
  }
  return false;
}

void circuit_breaker::on_success() {
  state_ = state::closed;
  failures_ = 0;
  probe_out_ = false;
  open_for_ = settings_.open_for;
}

void circuit_breaker::on_throttled() {
  if (state_ == state::half_open) on_success();
}

void circuit_breaker::on_failure(clock::time_point now) {
  if (state_ == state::half_open) {
    open_for_ = std::min(open_for_ * 2, settings_.max_open_for);
    state_ = state::open;
    opened_at_ = now;
    probe_out_ = false;
    return;
  }
  if (state_ == state::closed && ++failures_ >= settings_.failure_threshold) {
    state_ = state::open;
    opened_at_ = now;
  }
}

const char* to_string(circuit_breaker::state s) {
  switch (s) {
    case circuit_breaker::state::closed:
      return "closed";
    case circuit_breaker::state::open:
      return "open";
    case circuit_breaker::state::half_open:
      return "half-open";
  }
  return "unknown";
}

}  // namespace cbcs::actors
