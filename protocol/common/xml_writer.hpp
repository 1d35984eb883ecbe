#pragma once
// XML we send (SOAP envelopes for AD CS's CES and CEP), written by a small
// element tree that escapes every text and attribute value: no caller ever
// splices markup, so no value (a template name, a user name, a password) can
// close an element or open one.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cbcs::protocol {

// An element with attributes, text and child elements, in document order.
// Names must be XML qualified names (ASCII letters, digits, '_', '-', '.',
// at most one ':'; "xmlns" and "xmlns:p" declare namespaces); values are any
// UTF-8 text that XML 1.0 can carry (Char, XML 1.0 section 2.2). Anything else
// throws std::invalid_argument naming the element, never the value.
class xml_element {
 public:
  explicit xml_element(std::string_view name);

  xml_element& attribute(std::string_view name, std::string_view value);
  xml_element& text(std::string_view value);
  xml_element& add(xml_element child);
  // Adds <name> and returns it, for building nested elements in place; the
  // reference holds until the next child is added to this element.
  xml_element& child(std::string_view name);

  const std::string& name() const { return name_; }

  // Compact: no indentation or line breaks of its own; an element without
  // content is written <name/>, as the [MS-WSTEP] section 4 examples print.
  void write_to(std::string& out) const;
  std::string str() const;

 private:
  struct text_tag {};
  xml_element(text_tag, std::string_view text);

  bool is_text_ = false;
  std::string name_;  // the text itself for a text node
  std::vector<std::pair<std::string, std::string>> attributes_;
  std::vector<xml_element> children_;
};

// Escapes for XML 1.0 character data and for a double-quoted attribute value
// (section 2.4, 3.3.3): & < > always, " in attributes, and CR (and TAB, LF in
// attributes) as character references so that a parser's end-of-line and
// attribute-value normalization gives back exactly the text. Throws
// std::invalid_argument (with `what` in the message) on invalid UTF-8 or a
// character outside XML 1.0's Char production.
void append_xml_text(std::string& out, std::string_view text, std::string_view what);
void append_xml_attribute_value(std::string& out, std::string_view text, std::string_view what);

// XML 1.0 section 2.2, Char: what a document may hold, for the reader too
// (pugixml does not check it). xml_text: valid UTF-8 of Chars only.
bool xml_char(std::uint32_t code_point);
bool xml_text(std::string_view text);

}  // namespace cbcs::protocol
