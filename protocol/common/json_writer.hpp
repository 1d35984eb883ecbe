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

// Appends s to out as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

}  // namespace cbcs::protocol
