#pragma once
// XML from outside (AWS's query-protocol error bodies), read with a real
// parser (pugixml): no entity expansion from a DTD, and malformed input is
// refused rather than searched for tags. AD CS's SOAP answers have their own,
// namespace-aware reader: soap_reader.hpp.

#include <optional>
#include <string>
#include <string_view>

namespace cbcs::protocol {

// The text of the first element called `name` (namespace prefix ignored), in
// document order; nullopt when `xml` is not well-formed or has no such element.
std::optional<std::string> xml_first_text(std::string_view xml, std::string_view name);

}  // namespace cbcs::protocol
