#include "protocol/ca/msca/xcep.hpp"

#include <cstdint>
#include <map>

#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::msca::xcep {
namespace {

using soap::soap_error;

pugi::xml_node child(pugi::xml_node parent, std::string_view local) {
  return soap::child_element(parent, ns_policy, local);
}

std::vector<pugi::xml_node> children(pugi::xml_node parent, std::string_view local) {
  return soap::child_elements(parent, ns_policy, local);
}

std::string text_line(pugi::xml_node element, std::size_t max_bytes) {
  return one_line(soap::read_trimmed(element).value_or(""), max_bytes);
}

std::optional<std::int32_t> int_value(pugi::xml_node element, std::string_view what) {
  auto v = soap::read_integer(element, INT32_MIN, INT32_MAX, what);
  if (!v) return std::nullopt;
  return static_cast<std::int32_t>(*v);
}

std::optional<std::uint32_t> unsigned_value(pugi::xml_node element, std::string_view what) {
  auto v = soap::read_integer(element, 0, UINT32_MAX, what);
  if (!v) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

// oIDs/oID ([MS-XCEP] 3.1.4.1.3.16): oIDReferenceID -> (value, defaultName).
std::map<std::int32_t, std::pair<std::string, std::string>> read_oids(pugi::xml_node response) {
  std::map<std::int32_t, std::pair<std::string, std::string>> oids;
  for (auto oid : children(child(response, "oIDs"), "oID")) {
    auto id = int_value(child(oid, "oIDReferenceID"), "oIDReferenceID");
    if (!id) throw soap_error("the answer has an OID without its oIDReferenceID");
    oids[*id] = {text_line(child(oid, "value"), 256), text_line(child(oid, "defaultName"), 256)};
  }
  return oids;
}

certification_authority read_ca(pugi::xml_node ca) {
  certification_authority out;
  auto id = int_value(child(ca, "cAReferenceID"), "cAReferenceID");
  if (!id) throw soap_error("the answer has a CA without its cAReferenceID");
  out.reference_id = *id;
  for (auto u : children(child(ca, "uris"), "cAURI")) {
    ca_uri uri;
    uri.authentication =
        unsigned_value(child(u, "clientAuthentication"), "clientAuthentication").value_or(0);
    uri.uri = text_line(child(u, "uri"), 2048);
    uri.priority = unsigned_value(child(u, "priority"), "priority");
    uri.renewal_only = soap::read_boolean(child(u, "renewalOnly"), "renewalOnly").value_or(false);
    out.uris.push_back(std::move(uri));
  }
  out.certificate = soap::read_base64(child(ca, "certificate"), "CA certificate");
  out.enroll_permission =
      soap::read_boolean(child(ca, "enrollPermission"), "enrollPermission").value_or(false);
  return out;
}

}  // namespace

const enrollment_policy* policies::find_template(std::string_view common_name) const {
  for (const auto& t : templates)
    if (t.common_name == common_name) return &t;
  return nullptr;
}

const certification_authority* policies::find_ca(std::int32_t reference_id) const {
  for (const auto& ca : cas)
    if (ca.reference_id == reference_id) return &ca;
  return nullptr;
}

xml_element build_get_policies() {
  xml_element get("GetPolicies");
  get.attribute("xmlns", ns_policy);
  auto& client = get.child("client");
  client.child("lastUpdate").attribute("xsi:nil", "true");
  client.child("preferredLanguage").attribute("xsi:nil", "true");
  get.child("requestFilter").attribute("xsi:nil", "true");
  return get;
}

std::optional<policies> read_get_policies_response(const soap::soap_document& doc) {
  auto answer = soap::child_element(doc.body(), ns_policy, "GetPoliciesResponse");
  if (!answer) return std::nullopt;
  policies out;
  auto response = child(answer, "response");
  out.policy_id = text_line(child(response, "policyID"), 256);
  out.friendly_name = text_line(child(response, "policyFriendlyName"), 256);
  out.not_changed = soap::read_boolean(child(response, "policiesNotChanged"), "policiesNotChanged")
                        .value_or(false);
  auto oids = read_oids(answer);
  for (auto policy : children(child(response, "policies"), "policy")) {
    enrollment_policy t;
    auto attributes = child(policy, "attributes");
    t.common_name = text_line(child(attributes, "commonName"), 256);
    if (t.common_name.empty()) throw soap_error("the answer has a template without a common name");
    // 3.1.4.1.3.7: the policyOIDReference MUST be among the answer's oIDReferenceIDs.
    auto reference = int_value(child(policy, "policyOIDReference"), "policyOIDReference");
    auto oid = reference ? oids.find(*reference) : oids.end();
    if (oid == oids.end())
      throw soap_error("the answer has a template whose OID reference it does not resolve");
    t.oid = oid->second.first;
    t.oid_default_name = oid->second.second;
    for (auto ca : children(child(policy, "cAs"), "cAReference"))
      if (auto id = int_value(ca, "cAReference")) t.ca_references.push_back(*id);
    auto permission = child(attributes, "permission");
    t.enroll = soap::read_boolean(child(permission, "enroll"), "enroll").value_or(false);
    t.auto_enroll =
        soap::read_boolean(child(permission, "autoEnroll"), "autoEnroll").value_or(false);
    t.ra_signatures =
        unsigned_value(child(child(attributes, "rARequirements"), "rASignatures"), "rASignatures")
            .value_or(0);
    t.minimal_key_length =
        unsigned_value(child(child(attributes, "privateKeyAttributes"), "minimalKeyLength"),
                       "minimalKeyLength")
            .value_or(0);
    out.templates.push_back(std::move(t));
  }
  for (auto ca : children(child(answer, "cAs"), "cA")) out.cas.push_back(read_ca(ca));
  return out;
}

}  // namespace cbcs::protocol::ca::msca::xcep
