#include "protocol/ca/common/rate_limits.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace cbcs::protocol::ca {
namespace {

constexpr std::string_view syntax =
    "must be 'off' or class=rate pairs such as issue=25,get=75 or default=100/5s+1000/3m";

bool is_class_name(std::string_view v) {
  if (v.empty() || v.size() > 64) return false;
  for (char c : v)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return true;
}

// A positive number from 0.001 to 1e6, in plain decimal notation with at
// most three decimals (so that format_number writes it back exactly).
std::optional<double> number(std::string_view v) {
  if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789.") != std::string_view::npos)
    return std::nullopt;
  if (auto dot = v.find('.'); dot != std::string_view::npos && v.size() - dot - 1 > 3)
    return std::nullopt;
  double out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size() || out < 0.001 || out > 1e6)
    return std::nullopt;
  return out;
}

std::optional<std::chrono::milliseconds> duration(std::string_view v) {
  if (v.empty()) return std::nullopt;
  double unit_ms = 0;
  switch (v.back()) {
    case 's':
      unit_ms = 1e3;
      break;
    case 'm':
      unit_ms = 60e3;
      break;
    case 'h':
      unit_ms = 3600e3;
      break;
    default:
      return std::nullopt;
  }
  v.remove_suffix(1);
  double count = 1;
  if (!v.empty()) {
    auto n = number(v);
    if (!n) return std::nullopt;
    count = *n;
  }
  double ms = count * unit_ms;
  // A window from 1 ms to a day.
  if (ms < 1 || ms > 86400e3) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::optional<std::vector<rate_window>> windows(std::string_view spec) {
  std::vector<rate_window> out;
  if (spec.find('/') == std::string_view::npos) {
    auto rate = number(spec);
    if (!rate) return std::nullopt;
    out.push_back({*rate, std::chrono::seconds(1)});
    return out;
  }
  std::size_t start = 0;
  while (start <= spec.size()) {
    auto end = spec.find('+', start);
    if (end == std::string_view::npos) end = spec.size();
    auto part = spec.substr(start, end - start);
    auto slash = part.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto n = number(part.substr(0, slash));
    auto d = duration(part.substr(slash + 1));
    // A sliding window counts calls: a whole number of them.
    if (!n || !d || out.size() >= 8 || *n != std::floor(*n)) return std::nullopt;
    out.push_back({*n, *d, true});
    start = end + 1;
  }
  return out;
}

// What number() reads back: up to three decimals, no exponent.
std::string format_number(double v) {
  auto text = fmt::format("{:.3f}", v);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 3600000 == 0) return ms == 3600000 ? "h" : fmt::format("{}h", ms / 3600000);
  if (ms % 60000 == 0) return ms == 60000 ? "m" : fmt::format("{}m", ms / 60000);
  if (ms % 1000 == 0) return ms == 1000 ? "s" : fmt::format("{}s", ms / 1000);
  return format_number(static_cast<double>(ms) / 1000.0) + "s";
}

}  // namespace

std::optional<rate_limits> parse_rate_limits(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<rate_limits> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  if (text == "off") return rate_limits{};
  rate_limits out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    auto pair = text.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || !is_class_name(pair.substr(0, eq)))
      return fail(std::string(syntax));
    auto name = pair.substr(0, eq);
    auto w = windows(pair.substr(eq + 1));
    if (!w) return fail(std::string(syntax));
    std::string call_class = name == "default" ? std::string{} : std::string(name);
    for (const auto& c : out)
      if (c.call_class == call_class)
        return fail(fmt::format("names the class {} twice", name.empty() ? "default" : name));
    out.push_back({std::move(call_class), std::move(*w)});
    start = end + 1;
  }
  return out;
}

std::string format_rate_limits(const rate_limits& limits) {
  if (limits.empty()) return "off";
  std::string out;
  for (const auto& c : limits) {
    if (!out.empty()) out += ',';
    out += c.call_class.empty() ? "default" : c.call_class;
    out += '=';
    bool first = true;
    for (const auto& w : c.windows) {
      if (!first) out += '+';
      first = false;
      if (!w.sliding && w.window == std::chrono::seconds(1))
        out += format_number(w.requests);
      else
        out += format_number(w.requests) + "/" + format_duration(w.window);
    }
  }
  return out;
}

}  // namespace cbcs::protocol::ca
