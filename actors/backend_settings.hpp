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
};

}  // namespace cbcs::actors
