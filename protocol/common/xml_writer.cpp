#include "protocol/common/xml_writer.hpp"

#include <cstdint>
#include <stdexcept>
#include <utility>

namespace cbcs::protocol {
namespace {

bool name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// An NCName in ASCII (XML Namespaces 1.0 section 3): all our names are
// protocol constants, so the narrower rule costs nothing.
bool ncname(std::string_view s) {
  if (s.empty() || !name_start(s[0])) return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

bool qualified_name(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return ncname(s);
  return ncname(s.substr(0, colon)) && ncname(s.substr(colon + 1));
}

void check_name(std::string_view name, std::string_view what) {
  if (!qualified_name(name))
    throw std::invalid_argument("XML writer: " + std::string(what) + " is not a qualified name");
}

// The code point at text[i] and its length, or length 0 for invalid UTF-8
// (overlong forms, surrogates and values above U+10FFFF included).
std::pair<std::uint32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  std::size_t length = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 ? 2 : 0;
  if (length == 0 || b0 > 0xF4 || i + length > text.size()) return {0, 0};
  std::uint32_t cp = b0 & (0x7F >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < smallest[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, length};
}

void append_escaped(std::string& out, std::string_view text, std::string_view what,
                    bool attribute) {
  for (std::size_t i = 0; i < text.size();) {
    auto [cp, length] = decode_utf8(text, i);
    if (length == 0 || !xml_char(cp))
      throw std::invalid_argument("XML writer: the value of " + std::string(what) +
                                  " holds a character XML 1.0 cannot carry");
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;  // "]]>" may not stand in character data
      case '\r':
        out += "&#xD;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\t':
        out += attribute ? "&#x9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#xA;" : "\n";
        break;
      default:
        out.append(text.substr(i, length));
    }
    i += length;
  }
}

}  // namespace

// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
bool xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

bool xml_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto [cp, length] = decode_utf8(text, i);
    if (length == 0 || !xml_char(cp)) return false;
    i += length;
  }
  return true;
}

void append_xml_text(std::string& out, std::string_view text, std::string_view what) {
  append_escaped(out, text, what, false);
}

void append_xml_attribute_value(std::string& out, std::string_view text, std::string_view what) {
  append_escaped(out, text, what, true);
}

xml_element::xml_element(std::string_view name) : name_(name) {
  check_name(name, "an element name");
}

xml_element::xml_element(text_tag, std::string_view text) : is_text_(true), name_(text) {}

xml_element& xml_element::attribute(std::string_view name, std::string_view value) {
  check_name(name, "an attribute name of <" + name_ + ">");
  for (const auto& [existing, _] : attributes_)
    if (existing == name)
      throw std::invalid_argument("XML writer: <" + name_ + "> has the attribute " +
                                  std::string(name) + " twice");
  // Checked now, so that a bad value fails where it is given.
  std::string escaped;
  append_xml_attribute_value(escaped, value, "an attribute of <" + name_ + ">");
  attributes_.emplace_back(name, std::move(escaped));
  return *this;
}

xml_element& xml_element::text(std::string_view value) {
  std::string escaped;
  append_xml_text(escaped, value, "<" + name_ + ">");
  children_.push_back(xml_element(text_tag{}, escaped));
  return *this;
}

xml_element& xml_element::add(xml_element child) {
  children_.push_back(std::move(child));
  return *this;
}

xml_element& xml_element::child(std::string_view name) {
  children_.emplace_back(name);
  return children_.back();
}

void xml_element::write_to(std::string& out) const {
  if (is_text_) {
    out += name_;  // escaped when it was given
    return;
  }
  out += '<';
  out += name_;
  for (const auto& [name, value] : attributes_) {
    out += ' ';
    out += name;
    out += "=\"";
    out += value;
    out += '"';
  }
  if (children_.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const auto& c : children_) c.write_to(out);
  out += "</";
  out += name_;
  out += '>';
}

std::string xml_element::str() const {
  std::string out;
  write_to(out);
  return out;
}

}  // namespace cbcs::protocol
