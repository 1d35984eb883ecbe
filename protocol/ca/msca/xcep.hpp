#pragma once
// [MS-XCEP] (X.509 Certificate Enrollment Policy), what AD CS's Certificate
// Enrollment Policy Web Service (CEP) speaks: the GetPolicies request, and
// the essentials of its answer: which templates the caller may enroll in
// (common name, OID, permission, RA signatures required) and the CAs with
// one URI per CES endpoint and the CA certificate.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.hpp"
#include "protocol/common/soap_reader.hpp"
#include "protocol/common/xml_writer.hpp"

namespace cbcs::protocol::ca::msca::xcep {

inline constexpr std::string_view ns_policy =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy";
inline constexpr std::string_view action_get_policies =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies";

// CAURI's clientAuthentication ([MS-XCEP] 3.1.4.1.3.5): how that CES endpoint
// authenticates its callers.
enum class client_authentication : std::uint32_t {
  anonymous = 1,
  kerberos = 2,
  username_password = 4,
  certificate = 8,
};

struct ca_uri {
  std::uint32_t authentication = 0;  // a client_authentication value
  std::string uri;
  std::optional<std::uint32_t> priority;  // lower is preferred
  bool renewal_only = false;
};

// A CA object ([MS-XCEP] 3.1.4.1.3.2).
struct certification_authority {
  std::int32_t reference_id = 0;  // cAReferenceID, what a template's cAs refer to
  std::vector<ca_uri> uris;
  crypto::bytes certificate;  // DER
  bool enroll_permission = false;
};

// A CertificateEnrollmentPolicy ([MS-XCEP] 3.1.4.1.3.7): one template.
struct enrollment_policy {
  std::string common_name;  // Attributes/commonName: the template's name (MachineEnrollmentAgent)
  std::string oid;          // policyOIDReference resolved through oIDs: the template's OID
  std::string oid_default_name;  // that OID's defaultName
  std::vector<std::int32_t> ca_references;
  bool enroll = false;  // Attributes/permission (3.1.4.1.3.11)
  bool auto_enroll = false;
  std::uint32_t ra_signatures = 0;       // Attributes/rARequirements/rASignatures (3.1.4.1.3.21)
  std::uint32_t minimal_key_length = 0;  // Attributes/privateKeyAttributes (3.1.4.1.3.20)
};

struct policies {
  std::string policy_id;
  std::string friendly_name;
  bool not_changed = false;  // policiesNotChanged: the lists are then empty
  std::vector<enrollment_policy> templates;
  std::vector<certification_authority> cas;

  const enrollment_policy* find_template(std::string_view common_name) const;
  const certification_authority* find_ca(std::int32_t reference_id) const;
};

// <GetPolicies> asking for everything: lastUpdate nil ([MS-XCEP] 3.1.4.1.3.9:
// older than any policy, so the answer is complete), no preferred language,
// requestFilter nil (3.1.4.1.2.1: no filter). For soap::write_envelope.
xml_element build_get_policies();

// The Body's GetPoliciesResponse ([MS-XCEP] 3.1.4.1.2.2), or nullopt when the
// Body holds none. Throws soap::soap_error when it is there but unreadable: a
// template without a common name, a reference to an OID the answer does not
// hold, a number or boolean out of its type, a certificate that is not base64.
std::optional<policies> read_get_policies_response(const soap::soap_document& doc);

}  // namespace cbcs::protocol::ca::msca::xcep
