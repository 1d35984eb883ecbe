#include "protocol/common/text.hpp"

#include <algorithm>
#include <cctype>

#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol {

std::string one_line(std::string_view s, std::size_t max_bytes) {
  constexpr std::string_view more = "...";
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto seq = next_utf8(s.substr(i));
    auto ch = s.substr(i, seq.length);
    auto u = static_cast<unsigned char>(ch[0]);
    bool c1 = seq.valid && u == 0xC2 && static_cast<unsigned char>(ch[1]) < 0xA0;
    bool separator = seq.valid && (ch == "\xE2\x80\xA8" || ch == "\xE2\x80\xA9");
    if (u < 0x20 || u == 0x7f || c1 || separator)
      out += ' ';
    else if (!seq.valid)
      out += utf8_replacement;
    else
      out += ch;
    i += seq.length;
  }
  if (out.size() <= max_bytes) return out;
  // Cut on a character boundary so that the text and its mark fit.
  std::string_view all(out);
  std::size_t cut = 0;
  while (cut < all.size()) {
    auto n = next_utf8(all.substr(cut)).length;
    if (cut + n + more.size() > max_bytes) break;
    cut += n;
  }
  out.resize(cut);
  out += more;
  return out;
}

void redact(std::string& message, std::string_view secret) {
  if (secret.size() < 4) return;
  for (auto pos = message.find(secret); pos != std::string::npos; pos = message.find(secret, pos))
    message.replace(pos, secret.size(), "[redacted]");
}

std::string masked(std::string_view secret) {
  // Four of at least 16 characters leave 12 or more unknown.
  if (secret.size() < 16) return "[hidden]";
  auto tail = secret.substr(secret.size() - 4);
  bool printable =
      std::all_of(tail.begin(), tail.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  return printable ? "..." + std::string(tail) : "[hidden]";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string url_encode(std::string_view text) {
  static constexpr std::string_view hex = "0123456789ABCDEF";
  auto unreserved = [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
  };
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (unreserved(c)) {
      out.push_back(ch);
      continue;
    }
    out.append({'%', hex[c >> 4], hex[c & 15]});
  }
  return out;
}

}  // namespace cbcs::protocol
