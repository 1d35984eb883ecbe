#pragma once
// Compact JSON building for the admin API, which must embed JSON texts made by
// the protocol codecs (jobs, outcomes) as they are; json_writer cannot.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/common/json_writer.hpp"

namespace cbcs::sim {

class json_object {
 public:
  json_object& str(std::string_view k, std::string_view v) {
    key(k);
    protocol::append_json_string(out_, v);
    return *this;
  }
  json_object& num(std::string_view k, std::int64_t v) {
    key(k);
    out_ += std::to_string(v);
    return *this;
  }
  json_object& boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
    return *this;
  }
  // v must already be JSON text.
  json_object& raw(std::string_view k, std::string_view v) {
    key(k);
    out_ += v;
    return *this;
  }
  std::string done() const { return out_ + "}"; }

 private:
  void key(std::string_view k) {
    out_ += out_.size() > 1 ? "," : "";
    protocol::append_json_string(out_, k);
    out_ += ':';
  }
  std::string out_ = "{";
};

class json_array {
 public:
  json_array& raw(std::string_view v) {
    out_ += out_.size() > 1 ? "," : "";
    out_ += v;
    return *this;
  }
  json_array& str(std::string_view v) {
    out_ += out_.size() > 1 ? "," : "";
    protocol::append_json_string(out_, v);
    return *this;
  }
  std::string done() const { return out_ + "]"; }

 private:
  std::string out_ = "[";
};

}  // namespace cbcs::sim
