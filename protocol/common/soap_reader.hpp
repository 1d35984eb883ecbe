#pragma once
// SOAP 1.2 answers from AD CS's enrollment web services, read with pugixml
// under the guarantees of xml.hpp: a bounded size and depth, no DTD (so no
// entity is ever defined, let alone expanded), malformed input refused with
// one line. Elements are found by (namespace URI, local name), whatever
// prefix the server chose: the [MS-WSTEP] examples declare default
// namespaces on the elements themselves, other servers use prefixes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "crypto/bytes.hpp"

namespace cbcs::protocol::soap {

// An answer that is not a SOAP 1.2 envelope we can read. The message is one
// line made of the reader's own words (and pugixml's fixed descriptions and
// byte offsets): it never repeats the answer's content.
class soap_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct qname {
  std::string ns;  // empty: no namespace
  std::string local;
  bool operator==(const qname&) const = default;
};

class soap_document {
 public:
  // 4 MiB holds a CEP policy with hundreds of templates and a CES answer with
  // a long chain; real answers are tens of kilobytes.
  static constexpr std::size_t max_bytes = 4 * 1024 * 1024;
  static constexpr int max_depth = 48;
  // Namespace lookups walk an element's ancestors and their attributes: these
  // two bound that work (a real answer has a few thousand elements with a
  // handful of attributes each).
  static constexpr std::size_t max_elements = 100'000;
  static constexpr std::size_t max_attributes = 32;

  // Parses and checks the envelope (SOAP 1.2 Part 1 section 5: Envelope in
  // the 2003/05 namespace, at most one Header, then exactly one Body, and no
  // document type declaration). Throws soap_error.
  explicit soap_document(std::string_view xml);

  pugi::xml_node envelope() const { return envelope_; }
  pugi::xml_node header() const { return header_; }  // empty when the envelope has none
  pugi::xml_node body() const { return body_; }

 private:
  std::unique_ptr<pugi::xml_document> doc_;
  pugi::xml_node envelope_, header_, body_;
};

// Namespace-aware access: a prefix resolves through the xmlns declarations in
// scope (XML Namespaces 1.0 section 6); "xml" is bound by definition.
std::optional<std::string_view> namespace_of(pugi::xml_node element);
std::string_view local_name(pugi::xml_node element);
bool is_element(pugi::xml_node node, std::string_view ns, std::string_view local);
// The first child element, or the first element below `root` in document
// order, with that name; an empty node when there is none.
pugi::xml_node child_element(pugi::xml_node parent, std::string_view ns, std::string_view local);
pugi::xml_node find_element(pugi::xml_node root, std::string_view ns, std::string_view local);
std::vector<pugi::xml_node> child_elements(pugi::xml_node parent, std::string_view ns,
                                           std::string_view local);
// An attribute by namespace (empty: unprefixed, which is in no namespace).
std::optional<std::string_view> attribute_value(pugi::xml_node element, std::string_view ns,
                                                std::string_view local);
// xsi:nil="true" (or "1"): present but without a value (XML Schema Part 1
// section 2.6.2).
bool is_nil(pugi::xml_node element);
// The element's text (its character data children, not its descendants');
// nullopt for an empty node or a nil element.
std::optional<std::string> element_text(pugi::xml_node element);
// Typed values of simple-content elements (XML Schema Part 2 section 3.2):
// nullopt (or empty) when the element is absent or nil, soap_error naming
// `what` (never the value) when the text is not of the type. White space
// around the value is allowed; base64 may be wrapped anywhere (the [MS-WSTEP]
// examples wrap at 64 columns, with &#xD; line ends).
std::optional<std::string> read_trimmed(pugi::xml_node element);
std::optional<bool> read_boolean(pugi::xml_node element, std::string_view what);
std::optional<std::int64_t> read_integer(pugi::xml_node element, std::int64_t min, std::int64_t max,
                                         std::string_view what);
crypto::bytes read_base64(pugi::xml_node element, std::string_view what);

// A QName-valued text ("s:Receiver") resolved in the element's scope;
// nullopt when the prefix is not declared or the text is not a QName.
std::optional<qname> resolve_qname(pugi::xml_node element, std::string_view text);

// SOAP 1.2 Part 1 section 5.4: Code/Value, Code/Subcode/Value (nested,
// outermost first), the Reason/Text in the first language given, and Detail.
struct fault {
  qname code;                   // e.g. {ns_envelope, "Receiver"}
  std::vector<qname> subcodes;  // e.g. {WCF dispatcher, "InternalServiceFault"}
  std::string reason;           // one line
  pugi::xml_node detail;        // empty when absent; lives as long as the document
};

// The Body's Fault, or nullopt when the Body holds none. Throws soap_error
// when a Fault lacks what section 5.4 makes mandatory (Code/Value, Reason/Text)
// or its code is not a QName in scope.
std::optional<fault> read_fault(const soap_document& doc);

// "Receiver (InternalServiceFault): The server was unable ..." within
// `max_bytes`: for messages and logs.
std::string describe(const fault& f, std::size_t max_bytes = 400);

}  // namespace cbcs::protocol::soap
