#include "protocol/common/soap_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "crypto/base64.hpp"
#include "protocol/common/soap.hpp"
#include "protocol/common/text.hpp"
#include "protocol/common/xml_writer.hpp"

namespace cbcs::protocol::soap {
namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

bool starts_with_at(std::string_view s, std::size_t i, std::string_view what) {
  return s.substr(i, what.size()) == what;
}

// XML 1.0 section 4.1, WFC "Entity Declared": without a DTD only the five
// predefined entities exist. pugixml leaves any other reference as literal
// text, so an undefined one is refused here, before parsing, outside comments,
// CDATA sections and processing instructions (where '&' is plain text).
bool references_are_predefined(std::string_view xml) {
  static constexpr std::pair<std::string_view, std::string_view> skipped[] = {
      {"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}};
  for (std::size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '<') {
      for (auto [open, close] : skipped) {
        if (!starts_with_at(xml, i, open)) continue;
        auto end = xml.find(close, i + open.size());
        if (end == std::string_view::npos) return true;  // unterminated: the parser refuses it
        i = end + close.size() - 1;
        break;
      }
      continue;
    }
    if (xml[i] != '&') continue;
    auto rest = xml.substr(i + 1);
    if (rest.starts_with("amp;") || rest.starts_with("lt;") || rest.starts_with("gt;") ||
        rest.starts_with("quot;") || rest.starts_with("apos;"))
      continue;
    if (!rest.starts_with("#")) return false;
    // WFC "Legal Character": a character reference names a Char.
    bool hex = rest.starts_with("#x");
    std::size_t k = hex ? 2 : 1, digits = 0;
    std::uint32_t value = 0;
    while (k < rest.size() && (hex ? std::isxdigit(static_cast<unsigned char>(rest[k]))
                                   : std::isdigit(static_cast<unsigned char>(rest[k])))) {
      unsigned char c = static_cast<unsigned char>(rest[k]);
      unsigned digit = std::isdigit(c) ? c - '0' : (std::tolower(c) - 'a' + 10);
      if (value <= 0x10FFFF) value = value * (hex ? 16 : 10) + digit;
      ++k;
      ++digits;
    }
    if (digits == 0 || k >= rest.size() || rest[k] != ';' || !xml_char(value)) return false;
  }
  return true;
}

std::string_view prefix_of(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? std::string_view() : name.substr(0, colon);
}

std::string_view local_of(std::string_view name) {
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The namespace `prefix` is bound to at `scope`; "" for an undeclared default
// namespace (no namespace), nullopt for an undeclared prefix.
std::optional<std::string_view> lookup_prefix(pugi::xml_node scope, std::string_view prefix) {
  if (prefix == "xml") return ns_xml;
  std::string attribute = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (auto n = scope; n && n.type() == pugi::node_element; n = n.parent()) {
    if (auto a = n.attribute(attribute.c_str())) {
      std::string_view value = a.value();
      // XML Namespaces 1.0 section 3: a prefix cannot be bound to "".
      if (value.empty() && !prefix.empty()) return std::nullopt;
      return value;
    }
  }
  if (prefix.empty()) return std::string_view();
  return std::nullopt;
}

// A name with at most one colon, and text on both sides of it.
bool well_formed_qname(std::string_view name) {
  auto colon = name.find(':');
  if (colon == std::string_view::npos) return !name.empty();
  return colon > 0 && colon + 1 < name.size() &&
         name.find(':', colon + 1) == std::string_view::npos;
}

// Depth, counts, and namespace well-formedness of every element and attribute
// name, in one walk after parsing. Its own walk (not pugixml's traverse) so
// that the prefixes in scope are kept as it enters and leaves elements: each
// lookup is then a map search, not a climb through the ancestors' attributes.
class tree_checker {
 public:
  // An empty string when the tree is fine, else the problem, one line.
  std::string check(pugi::xml_node root) {
    int depth = 0;
    for (auto node = root.first_child(); node;) {
      if (node.type() == pugi::node_element) {
        if (auto problem = enter(node); !problem.empty()) return problem;
        if (node.first_child()) {
          if (++depth >= soap_document::max_depth)
            return fmt::format("the answer nests deeper than {} levels", soap_document::max_depth);
          node = node.first_child();
          continue;
        }
        leave();
      }
      while (!node.next_sibling()) {
        node = node.parent();
        if (node == root) return {};
        leave();
        --depth;
      }
      node = node.next_sibling();
    }
    return {};
  }

 private:
  std::string enter(pugi::xml_node node) {
    if (++elements_ > soap_document::max_elements)
      return fmt::format("the answer has more than {} elements", soap_document::max_elements);
    names_.clear();
    for (auto a = node.first_attribute(); a; a = a.next_attribute()) {
      if (names_.size() == soap_document::max_attributes)
        return fmt::format("the answer has an element with more than {} attributes",
                           soap_document::max_attributes);
      names_.push_back(a.name());
    }
    // XML 1.0 section 3.1, WFC "Unique Att Spec" (pugixml does not check it).
    std::sort(names_.begin(), names_.end());
    if (std::adjacent_find(names_.begin(), names_.end()) != names_.end())
      return "the answer repeats an attribute";
    // Declarations first: they are in scope for the element's own names.
    frames_.emplace_back();
    for (auto a : node.attributes()) {
      std::string_view name = a.name();
      if (!well_formed_qname(name)) return "the answer has a malformed attribute name";
      if (prefix_of(name) != "xmlns") continue;
      // XML Namespaces 1.0 section 3: a prefix cannot be bound to "".
      if (std::string_view(a.value()).empty()) return "the answer undeclares a namespace prefix";
      ++in_scope_[local_of(name)];
      frames_.back().push_back(local_of(name));
    }
    if (!well_formed_qname(node.name()) || !declared(prefix_of(node.name())) ||
        prefix_of(node.name()) == "xmlns")
      return "the answer uses an undeclared namespace prefix or a malformed name";
    for (auto a : node.attributes()) {
      auto prefix = prefix_of(a.name());
      if (prefix != "xmlns" && !declared(prefix))
        return "the answer uses an undeclared namespace prefix";
    }
    return {};
  }

  void leave() {
    for (auto prefix : frames_.back())
      if (auto it = in_scope_.find(prefix); --it->second == 0) in_scope_.erase(it);
    frames_.pop_back();
  }

  bool declared(std::string_view prefix) const {
    return prefix.empty() || prefix == "xml" || in_scope_.contains(prefix);
  }

  std::size_t elements_ = 0;
  std::vector<std::string_view> names_;
  std::map<std::string_view, unsigned, std::less<>> in_scope_;
  std::vector<std::vector<std::string_view>> frames_;
};

bool whitespace_only(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

soap_document::soap_document(std::string_view xml) : doc_(std::make_unique<pugi::xml_document>()) {
  if (xml.size() > max_bytes)
    throw soap_error(fmt::format("the answer is larger than {} MiB", max_bytes / (1024 * 1024)));
  if (xml.starts_with(utf8_bom)) xml.remove_prefix(utf8_bom.size());
  // pugixml skips text before the root element; a document starts with markup.
  auto first = xml.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) throw soap_error("the answer is empty");
  if (xml[first] != '<') throw soap_error("the answer is not XML");
  // pugixml checks neither the encoding nor XML 1.0's Char production.
  if (!xml_text(xml)) throw soap_error("the answer is not UTF-8 text that XML allows");
  if (!references_are_predefined(xml))
    throw soap_error("the answer refers to an entity XML does not predefine, or to no character");
  // parse_doctype only so that a DOCTYPE is seen and refused below: pugixml
  // never expands entities a DTD declares, and SOAP 1.2 Part 1 section 5
  // forbids a document type declaration in a SOAP message. parse_fragment
  // keeps text and extra elements beside the root, which pugixml otherwise
  // drops in silence, so that they are seen and refused too.
  auto parsed = doc_->load_buffer(xml.data(), xml.size(),
                                  pugi::parse_default | pugi::parse_doctype | pugi::parse_fragment,
                                  pugi::encoding_utf8);
  if (!parsed)
    throw soap_error(fmt::format("the answer is not well-formed XML ({} at byte {})",
                                 parsed.description(), parsed.offset));
  int roots = 0;
  for (auto n : doc_->children()) {
    if (n.type() == pugi::node_doctype)
      throw soap_error("the answer has a document type declaration, which SOAP forbids");
    if (n.type() == pugi::node_element) ++roots;
    if ((n.type() == pugi::node_pcdata && !whitespace_only(n.value())) ||
        n.type() == pugi::node_cdata)
      throw soap_error("the answer has text outside its root element");
  }
  if (roots != 1) throw soap_error("the answer does not have exactly one root element");
  if (auto problem = tree_checker().check(*doc_); !problem.empty()) throw soap_error(problem);

  envelope_ = doc_->document_element();
  if (is_element(envelope_, ns_envelope_11, "Envelope"))
    throw soap_error("the answer is a SOAP 1.1 envelope, not SOAP 1.2");
  if (!is_element(envelope_, ns_envelope, "Envelope"))
    throw soap_error("the answer's root element is not a SOAP 1.2 Envelope");
  // SOAP 1.2 Part 1 section 5.1: an optional Header, then a Body, nothing else.
  for (auto n : envelope_.children()) {
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
      if (!whitespace_only(n.value())) throw soap_error("the envelope holds text");
      continue;
    }
    if (n.type() != pugi::node_element) continue;
    if (!header_ && !body_ && is_element(n, ns_envelope, "Header")) {
      header_ = n;
    } else if (!body_ && is_element(n, ns_envelope, "Body")) {
      body_ = n;
    } else {
      throw soap_error("the envelope holds an element other than one Header and one Body");
    }
  }
  if (!body_) throw soap_error("the envelope has no Body");
}

std::optional<std::string_view> namespace_of(pugi::xml_node element) {
  if (element.type() != pugi::node_element) return std::nullopt;
  return lookup_prefix(element, prefix_of(element.name()));
}

std::string_view local_name(pugi::xml_node element) { return local_of(element.name()); }

bool is_element(pugi::xml_node node, std::string_view ns, std::string_view local) {
  return node.type() == pugi::node_element && local_name(node) == local && namespace_of(node) == ns;
}

pugi::xml_node child_element(pugi::xml_node parent, std::string_view ns, std::string_view local) {
  for (auto n : parent.children())
    if (is_element(n, ns, local)) return n;
  return {};
}

pugi::xml_node find_element(pugi::xml_node root, std::string_view ns, std::string_view local) {
  return root.find_node([&](pugi::xml_node n) { return is_element(n, ns, local); });
}

std::vector<pugi::xml_node> child_elements(pugi::xml_node parent, std::string_view ns,
                                           std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (auto n : parent.children())
    if (is_element(n, ns, local)) out.push_back(n);
  return out;
}

std::optional<std::string_view> attribute_value(pugi::xml_node element, std::string_view ns,
                                                std::string_view local) {
  for (auto a : element.attributes()) {
    std::string_view name = a.name();
    auto prefix = prefix_of(name);
    if (prefix == "xmlns" || name == "xmlns" || local_of(name) != local) continue;
    // XML Namespaces 1.0 section 6.3: an unprefixed attribute is in no namespace.
    if (prefix.empty() ? ns.empty() : lookup_prefix(element, prefix) == ns) return a.value();
  }
  return std::nullopt;
}

bool is_nil(pugi::xml_node element) {
  auto nil = attribute_value(element, ns_xsi, "nil");
  return nil && (*nil == "true" || *nil == "1");
}

std::optional<std::string> element_text(pugi::xml_node element) {
  if (element.type() != pugi::node_element || is_nil(element)) return std::nullopt;
  std::string text;
  for (auto n : element.children())
    if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) text += n.value();
  return text;
}

std::optional<std::string> read_trimmed(pugi::xml_node element) {
  auto text = element_text(element);
  if (!text) return std::nullopt;
  auto first = text->find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return std::string();
  return text->substr(first, text->find_last_not_of(" \t\r\n") - first + 1);
}

std::optional<bool> read_boolean(pugi::xml_node element, std::string_view what) {
  auto text = read_trimmed(element);
  if (!text) return std::nullopt;
  // Section 3.2.2: true, false, 1 or 0.
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  throw soap_error(fmt::format("the answer's {} is not a boolean", what));
}

std::optional<std::int64_t> read_integer(pugi::xml_node element, std::int64_t min, std::int64_t max,
                                         std::string_view what) {
  auto text = read_trimmed(element);
  if (!text) return std::nullopt;
  // Section 3.3.13: an optional sign, then digits.
  std::string_view digits = *text;
  if (digits.starts_with('+')) digits.remove_prefix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < min ||
      value > max)
    throw soap_error(fmt::format("the answer's {} is not an integer in range", what));
  return value;
}

crypto::bytes read_base64(pugi::xml_node element, std::string_view what) {
  auto text = element_text(element);
  if (!text) return {};
  std::string compact;
  for (char c : *text)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  auto decoded = crypto::base64_decode(compact);
  if (!decoded) throw soap_error(fmt::format("the answer's {} is not base64", what));
  return std::move(*decoded);
}

std::optional<qname> resolve_qname(pugi::xml_node element, std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (!well_formed_qname(text) || text.find_first_of(" \t\r\n") != std::string_view::npos)
    return std::nullopt;
  // XML Schema Part 2 section 3.2.18: an unprefixed QName takes the default namespace.
  auto ns = lookup_prefix(element, prefix_of(text));
  if (!ns) return std::nullopt;
  return qname{std::string(*ns), std::string(local_of(text))};
}

std::optional<fault> read_fault(const soap_document& doc) {
  auto f = child_element(doc.body(), ns_envelope, "Fault");
  if (!f) return std::nullopt;
  fault out;
  auto value_of = [](pugi::xml_node holder, std::string_view what) {
    auto value = child_element(holder, ns_envelope, "Value");
    auto text = element_text(value);
    auto name = text ? resolve_qname(value, *text) : std::nullopt;
    if (!name) throw soap_error(fmt::format("the fault's {} has no Value that is a QName", what));
    return *name;
  };
  auto code = child_element(f, ns_envelope, "Code");
  if (!code) throw soap_error("the fault has no Code");
  out.code = value_of(code, "Code");
  for (auto sub = child_element(code, ns_envelope, "Subcode"); sub;
       sub = child_element(sub, ns_envelope, "Subcode"))
    out.subcodes.push_back(value_of(sub, "Subcode"));
  auto reason = child_element(f, ns_envelope, "Reason");
  auto text = element_text(child_element(reason, ns_envelope, "Text"));
  if (!text) throw soap_error("the fault has no Reason/Text");
  out.reason = one_line(*text, 2048);
  out.detail = child_element(f, ns_envelope, "Detail");
  return out;
}

std::string describe(const fault& f, std::size_t max_bytes) {
  std::string text = f.code.local;
  if (!f.subcodes.empty()) {
    text += " (";
    for (std::size_t i = 0; i < f.subcodes.size(); ++i)
      text += (i ? "/" : "") + f.subcodes[i].local;
    text += ")";
  }
  if (!f.reason.empty()) text += ": " + f.reason;
  return one_line(text, max_bytes);
}

}  // namespace cbcs::protocol::soap
