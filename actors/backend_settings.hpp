#pragma once
// Policy of one backend actor: how many jobs at once, how fast, how to retry.

#include <chrono>
#include <optional>
#include <string>

#include "actors/policy/circuit_breaker.hpp"
#include "actors/policy/retry_policy.hpp"
#include "protocol/ca/common/rate_limits.hpp"

namespace cbcs::actors {

struct backend_settings {
  std::size_t max_in_flight = 0;  // 0: the type's (runtime_policy), resolved by connector_runtime
  retry_settings retry;
  breaker_settings breaker;
  // Per driver call class ("issue", "get", ...; "" for the rest); nullopt:
  // the type's published quotas.
  std::optional<protocol::ca::rate_limits> rate_limits;
  // The backend's HTTP client timeouts: together the longest one request may
  // take (step_context::attempt_limit, a placement's deadline in doubt).
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
};

}  // namespace cbcs::actors
