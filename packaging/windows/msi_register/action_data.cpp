#include "action_data.hpp"

#include <charconv>
#include <cstddef>

namespace cbcs::msi {
namespace {

void put(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

// Reads <length>:<bytes> from the front of text.
std::optional<std::string_view> take(std::string_view& text) {
  std::size_t colon = text.find(':');
  // At most 9 digits: no length overflows, no value beyond a property's size.
  if (colon == std::string_view::npos || colon == 0 || colon > 9) return std::nullopt;
  std::size_t n = 0;
  auto digits = text.substr(0, colon);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;  // one spelling per length
  text.remove_prefix(colon + 1);
  if (n > text.size()) return std::nullopt;
  auto value = text.substr(0, n);
  text.remove_prefix(n);
  return value;
}

}  // namespace

std::string pack_action_data(const action_fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    put(out, name);
    put(out, value);
  }
  return out;
}

std::optional<action_fields> unpack_action_data(std::string_view text) {
  action_fields fields;
  while (!text.empty()) {
    auto name = take(text);
    if (!name || name->empty()) return std::nullopt;
    auto value = take(text);
    if (!value) return std::nullopt;
    if (!fields.emplace(std::string(*name), std::string(*value)).second) return std::nullopt;
  }
  return fields;
}

}  // namespace cbcs::msi
