#include "mutation.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace cbcs::fuzz {

namespace {

// Bytes and tokens the parsers branch on: JSON, XML/SOAP, PEM, DER
// lengths, URLs and numbers at their limits.
constexpr std::array<std::uint8_t, 22> interesting_bytes{
    0x00, 0x01, 0x7f, 0x80, 0xff, '"', '\\', '{', '}', '[', ']', ',',
    ':',  '<',  '>',  '&',  '=', '-', '\n', '0', '9', 0x30};
constexpr std::array<std::string_view, 18> interesting_tokens{
    "null",
    "true",
    "-1",
    "18446744073709551616",
    "1e999",
    "\\u0000",
    "\\ud800",
    "-----BEGIN CERTIFICATE-----\n",
    "-----END CERTIFICATE-----\n",
    "<![CDATA[",
    "&amp;",
    "&#0;",
    "</",
    "xmlns=\"\"",
    "%00",
    "\x30\x82\xff\xff",
    "\x30\x80",
    "\xef\xbb\xbf"};

}  // namespace

bytes mutator::next(const bytes& input, const std::vector<bytes>& corpus, std::size_t max_size) {
  bytes b = input;
  auto rounds = 1 + below(4);
  for (std::size_t i = 0; i < rounds; ++i) mutate_once(b, corpus);
  if (b.size() > max_size) b.resize(max_size);
  return b;
}

void mutator::mutate_once(bytes& b, const std::vector<bytes>& corpus) {
  auto at = [&] { return below(b.size() + 1); };
  switch (below(9)) {
    case 0:  // flip a bit
      if (!b.empty()) b[below(b.size())] ^= std::uint8_t(1u << below(8));
      break;
    case 1:  // an interesting byte in place of one
      if (!b.empty())
        b[below(b.size())] = interesting_bytes[below(interesting_bytes.size())];
      break;
    case 2: {  // insert random bytes
      auto pos = at();
      auto n = 1 + below(8);
      bytes extra(n);
      for (auto& x : extra) x = std::uint8_t(random_());
      b.insert(b.begin() + std::ptrdiff_t(pos), extra.begin(), extra.end());
      break;
    }
    case 3: {  // insert a token
      auto token = interesting_tokens[below(interesting_tokens.size())];
      b.insert(b.begin() + std::ptrdiff_t(at()), token.begin(), token.end());
      break;
    }
    case 4: {  // delete a range
      if (b.empty()) break;
      auto pos = below(b.size());
      auto n = 1 + below(std::min<std::size_t>(b.size() - pos, 64));
      b.erase(b.begin() + std::ptrdiff_t(pos), b.begin() + std::ptrdiff_t(pos + n));
      break;
    }
    case 5: {  // repeat a range (deep nesting, long fields)
      if (b.empty()) break;
      auto pos = below(b.size());
      auto n = 1 + below(std::min<std::size_t>(b.size() - pos, 32));
      bytes range(b.begin() + std::ptrdiff_t(pos), b.begin() + std::ptrdiff_t(pos + n));
      auto times = 1 + below(64);
      for (std::size_t i = 0; i < times; ++i)
        b.insert(b.begin() + std::ptrdiff_t(pos), range.begin(), range.end());
      break;
    }
    case 6: {  // splice in part of another input
      const auto& other = corpus[below(corpus.size())];
      if (other.empty()) break;
      auto from = below(other.size());
      auto n = 1 + below(other.size() - from);
      b.insert(b.begin() + std::ptrdiff_t(at()), other.begin() + std::ptrdiff_t(from),
               other.begin() + std::ptrdiff_t(from + n));
      break;
    }
    case 7:  // cut the end off (a truncated answer)
      b.resize(below(b.size() + 1));
      break;
    default: {  // a digit run made long or a number at its edge
      auto pos = at();
      b.insert(b.begin() + std::ptrdiff_t(pos), 1 + below(24), std::uint8_t('9'));
      break;
    }
  }
}

}  // namespace cbcs::fuzz
