#include "protocol/ca/common/pending_order.hpp"

#include <charconv>

#include <fmt/format.h>

#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {

using namespace std::chrono;

const char* to_string(pending_reason r) {
  switch (r) {
    case pending_reason::needs_approval:
      return "needs_approval";
    case pending_reason::queued:
      return "queued";
    case pending_reason::validation:
      return "validation";
    case pending_reason::processing:
      return "processing";
    case pending_reason::unknown:
      break;
  }
  return "unknown";
}

std::string encode(const order_token& token) {
  return fmt::format("order:{}:{}",
                     duration_cast<seconds>(token.placed_at.time_since_epoch()).count(),
                     token.order_id);
}

std::optional<order_token> decode_order_token(std::string_view text) {
  if (!text.starts_with("order:")) return std::nullopt;
  text.remove_prefix(6);
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::int64_t secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + colon, secs);
  // 1970 to 2200: a token from a clock gone wrong is not ours.
  if (ec != std::errc{} || end != text.data() + colon || secs < 0 || secs > 7258118400)
    return std::nullopt;
  auto id = text.substr(colon + 1);
  if (id.empty()) return std::nullopt;
  return order_token{std::string(id), system_clock::time_point(seconds(secs))};
}

std::string encode(const placement_doubt& doubt) {
  return fmt::format("placing:{}:{}",
                     duration_cast<milliseconds>(doubt.since.time_since_epoch()).count(),
                     duration_cast<milliseconds>(doubt.deadline.time_since_epoch()).count());
}

std::optional<placement_doubt> decode_placement_doubt(std::string_view text) {
  if (!text.starts_with("placing:")) return std::nullopt;
  text.remove_prefix(8);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view digits) -> std::optional<std::int64_t> {
    std::int64_t ms = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ms);
    // 1970 to 2200, as order tokens.
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || ms < 0 ||
        ms > 7258118400000)
      return std::nullopt;
    return ms;
  };
  auto since = number(text.substr(0, colon)), deadline = number(text.substr(colon + 1));
  if (!since || !deadline || *deadline < *since) return std::nullopt;
  return placement_doubt{system_clock::time_point(milliseconds(*since)),
                         system_clock::time_point(milliseconds(*deadline))};
}

std::optional<seconds> parse_duration(std::string_view text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  std::int64_t n = 0;
  auto digits = text.substr(0, text.size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size() || n <= 0) return std::nullopt;
  if (n > 10LL * 366 * 86400 / unit) return std::nullopt;
  return seconds(n * unit);
}

pending_policy pending_policy::from(const driver_config& config) {
  pending_policy p;
  if (auto it = config.settings.find("maxpending"); it != config.settings.end())
    if (auto d = parse_duration(it->second)) p.max_age = *d;
  return p;
}

namespace {

std::string age_text(seconds age) {
  auto h = age.count() / 3600;
  if (h >= 48) return fmt::format("{} days", h / 24);
  if (h >= 1) return fmt::format("{} h", h);
  return fmt::format("{} min", age.count() / 60);
}

}  // namespace

outcome order_pending(const order_token& order, pending_reason reason, std::string message,
                      milliseconds poll_hint, const pending_policy& policy,
                      system_clock::time_point now) {
  auto age = duration_cast<seconds>(now - order.placed_at);
  if (age > policy.max_age)
    return outcome::failed(
        error_class::rejected,
        fmt::format("order {} is still pending at the CA ({}: {}) after {}, longer than the "
                    "backend's maximum pending age of {} (-maxpending); the order stays at the CA",
                    one_line(order.order_id, 128), to_string(reason), one_line(message, 256),
                    age_text(age), age_text(policy.max_age)));
  auto o = outcome::pending(poll_hint, one_line(message));
  o.pending_reason = to_string(reason);
  return o;
}

}  // namespace cbcs::protocol::ca
