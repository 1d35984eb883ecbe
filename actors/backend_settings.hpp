#pragma once
// Policy of one backend actor: how many jobs at once, how fast, how to retry.

#include <chrono>
#include <map>
#include <string>

#include "actors/policy/circuit_breaker.hpp"
#include "actors/policy/retry_policy.hpp"

namespace cbcs::actors {

struct rate_limit {
  double per_second = 0;  // 0: unlimited
  double burst = 1;
};

// Jobs a backend works on at once when neither its type nor its options say.
constexpr std::size_t default_max_in_flight = 256;

struct backend_settings {
  std::size_t max_in_flight = 0;  // 0: the type's default (see connector_runtime)
  retry_settings retry;
  breaker_settings breaker;
  // Per driver rate class ("issue", "get", ...); "" is the default bucket.
  std::map<std::string, rate_limit> rate_limits;
};

}  // namespace cbcs::actors
