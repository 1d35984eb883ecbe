#include "protocol/ca/common/http_status.hpp"

#include "protocol/ca/common/retry_after.hpp"

namespace cbcs::protocol::ca {

error_class classify_status(int status, std::span<const status_rule> overrides) {
  for (const auto& rule : overrides)
    if (rule.status == status) return rule.meaning;
  if (status == 401 || status == 403) return error_class::auth;
  if (status == 429) return error_class::throttled;
  if (status == 408 || (status >= 500 && status <= 599)) return error_class::unavailable;
  if (status >= 400 && status <= 499) return error_class::invalid_request;
  return error_class::internal;
}

outcome http_failure_as(error_class meaning, const http_response& response, std::string message,
                        std::string backend_code, std::chrono::system_clock::time_point now) {
  message += " (HTTP " + std::to_string(response.status) + ")";
  auto o = outcome::failed(meaning, std::move(message), std::move(backend_code));
  if (meaning == error_class::throttled || meaning == error_class::unavailable)
    if (auto wait = parse_retry_after(response.header("Retry-After"), now)) o.retry_after = *wait;
  return o;
}

outcome http_failure(const http_response& response, std::string message, std::string backend_code,
                     std::span<const status_rule> overrides,
                     std::chrono::system_clock::time_point now) {
  return http_failure_as(classify_status(response.status, overrides), response, std::move(message),
                         std::move(backend_code), now);
}

}  // namespace cbcs::protocol::ca
