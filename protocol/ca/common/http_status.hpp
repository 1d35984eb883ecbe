#pragma once
// One reading of HTTP statuses for every HTTP driver: the error class a
// status means, with a type's own exceptions (GCP's 409 is "exists already",
// DigiCert's 403 may be a missing permission), and the failed outcome for
// an error answer, Retry-After honoured.

#include <chrono>
#include <span>
#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

struct status_rule {
  int status;
  error_class meaning;
};

// 401/403 auth, 429 throttled, 408/5xx unavailable, other 4xx invalid_request,
// anything else (1xx, 3xx, > 599) internal; `overrides` first.
error_class classify_status(int status, std::span<const status_rule> overrides = {});

inline bool is_success(int status) { return status >= 200 && status < 300; }

// The failed outcome for an error answer: `message` (one line, no secrets;
// " (HTTP n)" is added), the class from classify_status unless given, and
// for throttled and unavailable answers the Retry-After wait.
outcome http_failure(const http_response& response, std::string message,
                     std::string backend_code = {}, std::span<const status_rule> overrides = {},
                     std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The same with the class decided by the driver (from the body's error code).
outcome http_failure_as(
    error_class meaning, const http_response& response, std::string message,
    std::string backend_code = {},
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace cbcs::protocol::ca
