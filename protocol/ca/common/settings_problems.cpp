#include "protocol/ca/common/settings_problems.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/ca/common/pending_order.hpp"

namespace cbcs::protocol::ca {

std::string settings_problems::required(std::string_view key) {
  auto v = setting(config_.settings, key);
  if (v.empty()) missing_.emplace_back(key);
  return v;
}

std::string settings_problems::required_secret(std::string_view key, std::string_view what) {
  auto v = setting(config_.secrets, key);
  if (v.empty()) problems_.push_back(fmt::format("{} ({}) is not in the vault", what, key));
  return v;
}

void settings_problems::flag(std::string_view key, bool& out) {
  auto v = setting(config_.settings, key);
  if (v.empty()) return;
  if (v != "true" && v != "false")
    problems_.push_back(fmt::format("{} must be true or false", key));
  else
    out = v == "true";
}

std::string settings_problems::choice(std::string_view key,
                                      std::initializer_list<std::string_view> allowed) {
  auto v = setting(config_.settings, key);
  if (v.empty()) return std::string(*allowed.begin());
  for (auto a : allowed)
    if (v == a) return v;
  std::string names;
  std::size_t i = 0;
  for (auto a : allowed)
    names += fmt::format("{}{}", i++ == 0 ? "" : (i == allowed.size() ? " or " : ", "), a);
  problems_.push_back(fmt::format("{} must be {}", key, names));
  return std::string(*allowed.begin());
}

void settings_problems::duration(std::string_view key, std::chrono::seconds& out) {
  auto v = setting(config_.settings, key);
  if (v.empty()) return;
  if (auto d = parse_duration(v))
    out = *d;
  else
    problems_.push_back(fmt::format("{} must be a duration such as 1m or 30s", key));
}

std::string settings_problems::message() const {
  if (missing_.empty() && problems_.empty()) return {};
  std::string text;
  if (!missing_.empty()) text = fmt::format("is missing the setting {}", fmt::join(missing_, ", "));
  for (const auto& p : problems_) text += (text.empty() ? "" : "; ") + p;
  return fmt::format("backend '{}': {}", config_.name, text);
}

}  // namespace cbcs::protocol::ca
