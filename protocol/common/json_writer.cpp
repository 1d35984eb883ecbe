#include "protocol/common/json_writer.hpp"

#include <fmt/format.h>

namespace cbcs::protocol {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_writer::newline() {
  if (!pretty_) return;
  out_ += '\n';
  out_.append(counts_.size() * 2, ' ');
}

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!counts_.empty()) {
    if (counts_.back()++ > 0) out_ += ',';
    newline();
  }
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  counts_.push_back(0);
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  counts_.push_back(0);
  return *this;
}

void json_writer::close(char c) {
  bool had_members = !counts_.empty() && counts_.back() > 0;
  if (!counts_.empty()) counts_.pop_back();
  if (had_members) newline();
  out_ += c;
}

json_writer& json_writer::end_object() {
  close('}');
  return *this;
}

json_writer& json_writer::end_array() {
  close(']');
  return *this;
}

json_writer& json_writer::key(std::string_view k) {
  before_value();
  append_json_string(out_, k);
  out_ += pretty_ ? ": " : ":";
  after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view v) {
  before_value();
  append_json_string(out_, v);
  return *this;
}

json_writer& json_writer::value(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

json_writer& json_writer::value(std::uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

json_writer& json_writer::value(double v) {
  before_value();
  out_ += fmt::format("{}", v);
  return *this;
}

json_writer& json_writer::value(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

}  // namespace cbcs::protocol
