#include "protocol/common/json_writer.hpp"

#include <fmt/format.h>

namespace cbcs::protocol {

utf8_sequence next_utf8(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return {1, true};
  // Expected length and the range of the second byte, which is narrower than
  // 80..BF after E0, ED, F0 and F4 to exclude overlong forms, surrogates and
  // code points above U+10FFFF.
  std::size_t need = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {1, false};  // a continuation byte, C0, C1 or F5..FF
  }
  std::size_t i = 1;
  for (; i < need && i < s.size(); ++i) {
    unsigned char c = byte(i);
    if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) return {i, false};
  }
  return {i, i == need};
}

void append_json_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    // Runs of plain printable ASCII (PEM bodies are nothing else) go in one append.
    std::size_t run = i;
    while (run < s.size()) {
      auto r = static_cast<unsigned char>(s[run]);
      if (r < 0x20 || r >= 0x80 || r == '"' || r == '\\') break;
      ++run;
    }
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      continue;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      auto seq = next_utf8(s.substr(i));
      if (seq.valid)
        out.append(s.substr(i, seq.length));
      else
        out += utf8_replacement;
      i += seq.length;
      continue;
    }
    ++i;
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
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
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
