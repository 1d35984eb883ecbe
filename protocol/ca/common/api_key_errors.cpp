#include "protocol/ca/common/api_key_errors.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {

std::string said_detail(std::string_view message, std::string_view api_key) {
  std::string said(message);
  redact(said, api_key);  // a service may echo what it was sent
  return said.empty() ? std::string() : fmt::format(": {}", said);
}

outcome api_key_error_outcome(const http_response& answer, std::string_view what,
                              const std::string& code, std::string_view message,
                              const api_key_service& service,
                              std::chrono::system_clock::time_point now) {
  auto detail = said_detail(message, service.api_key);
  if (answer.status == 401)
    return http_failure(
        answer,
        fmt::format("{} failed: {} refused the {}{}", what, service.name, service.who, detail),
        code, {}, now);
  if (answer.status == 403)
    return http_failure(
        answer, fmt::format("{} failed: the {} may not do this{}", what, service.who, detail), code,
        {}, now);
  if (answer.status == 429)
    return http_failure(answer,
                        fmt::format("{}: {}'s request limit was reached", what, service.name),
                        code.empty() ? std::string(service.rate_code) : code, {}, now);
  if (answer.status >= 500)
    return http_failure(answer, fmt::format("{}: {} is unavailable{}", what, service.name, detail),
                        code, {}, now);
  return http_failure(answer, fmt::format("{} failed{}", what, detail), code, {}, now);
}

}  // namespace cbcs::protocol::ca
