#include "crypto/serial_number.hpp"

#include <stdexcept>

namespace cbcs::crypto {
namespace {

// RFC 5280 allows 20 octets; some CAs write more. Beyond this it is not a serial.
constexpr std::size_t max_octets = 64;

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string to_hex(const bytes& value, const char* digits) {
  std::string out;
  out.reserve(value.size() * 2);
  for (auto b : value) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

constexpr const char* lower_digits = "0123456789abcdef";
constexpr const char* upper_digits = "0123456789ABCDEF";

}  // namespace

std::optional<serial_number> serial_number::parse(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<serial_number> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
    text.remove_prefix(2);
  std::string digits;
  char previous = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':' || c == ' ' || c == '-') {
      // A separator between digits, never two in a row or at an end.
      if (digits.empty() || i + 1 == text.size() || previous == ':' || previous == ' ' ||
          previous == '-')
        return fail("a serial number is hex digits, optionally in pairs separated by ':' or ' '");
      previous = c;
      continue;
    }
    if (digit_value(c) < 0)
      return fail(std::string("a serial number is hexadecimal; '") +
                  (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e
                       ? std::string("\\x") + lower_digits[(c >> 4) & 0xf] + lower_digits[c & 0xf]
                       : std::string(1, c)) +
                  "' is not a hex digit");
    digits += c;
    previous = c;
  }
  if (digits.empty()) return fail("a serial number needs at least one hex digit");
  auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return fail("a serial number is a positive integer, not zero");
  digits.erase(0, first);
  if (digits.size() > 2 * max_octets)
    return fail("a serial number has at most 64 octets (128 hex digits)");
  if (digits.size() % 2) digits.insert(digits.begin(), '0');
  bytes value;
  value.reserve(digits.size() / 2);
  for (std::size_t i = 0; i < digits.size(); i += 2)
    value.push_back(
        static_cast<std::uint8_t>(digit_value(digits[i]) * 16 + digit_value(digits[i + 1])));
  return serial_number(std::move(value));
}

serial_number serial_number::from_text(std::string_view text) {
  std::string error;
  auto s = parse(text, &error);
  if (!s) throw std::invalid_argument(error);
  return *s;
}

std::optional<serial_number> serial_number::from_bytes(byte_view der_integer) {
  std::size_t first = 0;
  while (first < der_integer.size() && der_integer[first] == 0) ++first;
  if (first == der_integer.size() || der_integer.size() - first > max_octets) return std::nullopt;
  return serial_number(bytes(der_integer.begin() + std::ptrdiff_t(first), der_integer.end()));
}

std::string serial_number::hex() const { return to_hex(value_, lower_digits); }

std::string serial_number::hex_upper() const { return to_hex(value_, upper_digits); }

std::string serial_number::hex_minimal() const {
  auto out = hex();
  if (out.size() > 1 && out.front() == '0') out.erase(0, 1);
  return out;
}

std::string serial_number::colon_upper() const {
  std::string out;
  auto h = hex_upper();
  for (std::size_t i = 0; i < h.size(); i += 2) {
    if (i) out += ':';
    out.append(h, i, 2);
  }
  return out;
}

}  // namespace cbcs::crypto
