#include "protocol/common/xml.hpp"

#include <pugixml.hpp>

namespace cbcs::protocol {
namespace {

std::string_view local_name(std::string_view qualified) {
  auto colon = qualified.find(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

}  // namespace

std::optional<std::string> xml_first_text(std::string_view xml, std::string_view name) {
  // pugixml skips text outside the root element; a document starts with markup.
  auto first = xml.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || xml[first] != '<') return std::nullopt;
  pugi::xml_document doc;
  // parse_default without parse_doctype's use: pugixml never expands external
  // or DTD-defined entities; a document with errors is refused.
  auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return std::nullopt;
  auto found = doc.find_node([&](pugi::xml_node n) {
    return n.type() == pugi::node_element && local_name(n.name()) == name;
  });
  if (!found) return std::nullopt;
  return std::string(found.text().get());
}

}  // namespace cbcs::protocol
