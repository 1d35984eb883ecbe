#pragma once
// A small streaming JSON writer: we parse with simdjson, which does not write.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cbcs::protocol {

class json_writer {
 public:
  explicit json_writer(bool pretty = true) : pretty_(pretty) {}

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& value(std::string_view v);
  json_writer& value(const char* v) { return value(std::string_view{v}); }
  json_writer& value(const std::string& v) { return value(std::string_view{v}); }
  json_writer& value(std::int64_t v);
  json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  json_writer& value(std::uint64_t v);
  json_writer& value(double v);
  json_writer& value(bool v);
  json_writer& null();

  // Member shorthands.
  template <class T>
  json_writer& member(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }

 private:
  void before_value();
  void close(char c);
  void newline();

  std::string out_;
  // One entry per open container: number of members written so far.
  std::vector<int> counts_;
  bool pretty_;
  bool after_key_ = false;
};

// Appends s to out as a JSON string literal, quotes included. The result is
// always valid UTF-8: each invalid or truncated sequence in s becomes U+FFFD,
// because s may hold whatever bytes a remote service sent.
void append_json_string(std::string& out, std::string_view s);

// The UTF-8 sequence at the start of a non-empty s: its length in bytes and
// whether it encodes a character (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). When it does not, length is the maximal subpart
// that one U+FFFD replaces (Unicode's recommended practice), at least 1.
struct utf8_sequence {
  std::size_t length;
  bool valid;
};
utf8_sequence next_utf8(std::string_view s);

// The UTF-8 encoding of U+FFFD REPLACEMENT CHARACTER.
inline constexpr std::string_view utf8_replacement = "\xEF\xBF\xBD";

}  // namespace cbcs::protocol
