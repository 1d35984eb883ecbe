// The simulated Entrust CA Gateway (base /cagw, API v1), from the public
// sources in entrust_sim.hpp. Mutual TLS only, no HTTP credentials [REF §3:
// "Mutual TLS only; no HTTP credentials [AN, VP, KC, PU]"]: the TLS port's
// client certificate check (entrust_main.cpp) is the whole authentication.
// Answers' envelopes beyond the fields [REF §3] and [VP] name (the "type"
// and "message" members) are the simulator's guess.

#include <fmt/format.h>

#include <algorithm>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/sim_pki.hpp"
#include "tests/sim/entrust/entrust_records.hpp"
#include "tests/sim/entrust/entrust_sim.hpp"
#include "tests/sim/entrust/entrust_util.hpp"

namespace cbcs::sim::entrust {

using namespace std::chrono_literals;
namespace dom = simdjson::dom;

namespace cagw_detail {

constexpr const char* ca_id = "ca-sim-1";
constexpr const char* ca_name = "Entrust Sim Certification Authority - L1K";
const char* const profiles[] = {"cagw-tls-server", "cagw-tls-client"};

bool known_profile(std::string_view id) {
  return std::find(std::begin(profiles), std::end(profiles), id) != std::end(profiles);
}

std::string message(std::string_view text) {
  return json_object{}.str("code", "OK").str("message", text).done();
}

// RFC 5280 CRLReason names (cACompromise, aACompromise in any case).
bool known_reason(std::string_view r) {
  for (const char* k : {"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
                        "superseded", "cessationOfOperation", "privilegeWithdrawn",
                        "aACompromise"})
    if (iequal(r, k)) return true;
  return false;
}

// The CN of "CN=a,O=b" (or "cn=a, o=b"); [PU bulk_issue] sends
// optionalCertificateRequestDetails.subjectDn "CN=$commonName".
std::string cn_of_dn(std::string_view dn) {
  std::size_t i = 0;
  while (i < dn.size()) {
    while (i < dn.size() && (dn[i] == ' ' || dn[i] == ',')) ++i;
    auto end = dn.find(',', i);
    auto part = dn.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (part.size() > 3 && (part[0] == 'C' || part[0] == 'c') && (part[1] == 'N' || part[1] == 'n') &&
        part[2] == '=')
      return std::string(part.substr(3));
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return {};
}

}  // namespace cagw_detail

std::string entrust_sim::gateway_json(const gateway_certificate& c) const {
  auto der = crypto::pem_block_der(c.pem, "CERTIFICATE");
  return json_object{}
      .str("serialNumber", c.serial)
      .str("subjectName", c.subject)
      .str("status", c.status)
      .str("certificateData", der ? crypto::base64_encode(*der) : "")
      .str("enrollmentId", c.enrollment_id)
      .str("caId", c.ca_id)
      .str("profileId", c.profile_id)
      .str("notBefore", util::rfc3339(c.issued))
      .str("notAfter", util::rfc3339(c.expires))
      .str("revocationReason", c.reason)
      .done();
}

sim_response entrust_sim::cagw(sim_request& r, const std::string& operation) {
  using namespace cagw_detail;
  sim_response limited;
  if (throttled(true, limited)) return limited;
  // The CA: {id, name, properties} [REF §3] and certificate.certificateData
  // (base64 DER), which Entrust's shell utility reads from each caList entry
  // [PU cagw-shell-util/main.sh get_caid_list: '.caList[$i]."certificate"."certificateData"'].
  auto der = crypto::pem_block_der(intermediate_pem_, "CERTIFICATE");
  auto ca_json = json_object{}
                     .str("id", ca_id)
                     .str("name", ca_name)
                     .raw("properties", "{}")
                     .raw("certificate", json_object{}
                                             .str("certificateData", crypto::base64_encode(*der))
                                             .done())
                     .done();
  if (operation == "cas") {
    json_array list;
    list.raw(ca_json);
    return sim_response::json(200, json_object{}
                                       .str("type", "CAListResponse")
                                       .raw("message", message("Success"))
                                       .raw("caList", list.done())
                                       .done());
  }
  if (r.param("caId") != ca_id)
    return cagw_error(404, "NotFound", fmt::format("Certificate authority {} not found", r.param("caId")));
  if (operation == "ca")
    return sim_response::json(200, json_object{}
                                       .str("type", "CAInformationResponse")
                                       .raw("message", message("Success"))
                                       .raw("certificateAuthority", ca_json)
                                       .done());
  if (operation == "profiles" || operation == "profile") {
    // {type: "ProfilesResponse", profiles[...]} [REF §3]
    json_array list;
    for (auto* p : profiles) {
      if (operation == "profile" && r.param("profileId") != p) continue;
      list.raw(json_object{}.str("id", p).str("name", p).done());
    }
    if (operation == "profile") {
      if (!known_profile(r.param("profileId")))
        return cagw_error(404, "NotFound", fmt::format("Profile {} not found", r.param("profileId")));
      return sim_response::json(200, json_object{}
                                         .str("type", "ProfileResponse")
                                         .raw("message", message("Success"))
                                         .raw("profile", json_object{}
                                                             .str("id", r.param("profileId"))
                                                             .str("name", r.param("profileId"))
                                                             .done())
                                         .done());
    }
    return sim_response::json(200, json_object{}
                                       .str("type", "ProfilesResponse")
                                       .raw("message", message("Success"))
                                       .raw("profiles", list.done())
                                       .done());
  }
  if (operation == "enroll") return enroll(r);
  auto* c = find_gateway(r.param("serial"));
  if (!c)
    return cagw_error(404, "NotFound",
                      fmt::format("Certificate with serial number {} not found", r.param("serial")));
  if (operation == "certificate")
    return sim_response::json(200, json_object{}
                                       .str("type", "CertificateResponse")
                                       .raw("message", message("Success"))
                                       .raw("certificate", gateway_json(*c))
                                       .done());
  if (operation == "action") return gateway_action(r, *c);
  return cagw_error(404, "NotFound", "Unknown operation");
}

sim_response entrust_sim::enroll(sim_request& r) {
  using namespace cagw_detail;
  auto refuse = [&](std::string_view message) {
    ++counters_["cagw_refused"];
    return cagw_error(400, "BadRequest", message);
  };
  dom::parser p;
  dom::object body, format_obj, details;
  if (!util::parse_object(p, r.body, body)) return refuse("The request body is not JSON");
  auto profile = util::str_of(body, "profileId");
  if (!known_profile(profile)) return refuse(fmt::format("Unknown profileId '{}'", profile));
  // csr: base64 DER; PEM armour accepted [REF §3; VP op_sign.go base64-encodes the DER].
  auto csr_text = util::str_of(body, "csr");
  auto csr = util::read_csr(csr_text);
  if (!csr) return refuse("csr is not a valid PKCS#10 request");
  std::string format = "X509";
  if (!body["requiredFormat"].get_object().get(format_obj))
    format = util::str_of(format_obj, "format");
  if (format == "PKCS12") return refuse("PKCS12 (a key made by the CA) is not simulated");
  if (format != "X509" && format != "PEM")
    return refuse(fmt::format("requiredFormat.format '{}' must be X509, PEM or PKCS12", format));
  bool has_details = !body["optionalCertificateRequestDetails"].get_object().get(details);
  // Validity defaults to 3 years [REF §3 from DOC]; an ISO 8601 duration, or
  // an interval start/end (the end a date or a duration).
  std::chrono::seconds validity = 24h * 365 * 3;
  auto start = now();
  if (has_details && util::has(details, "validityPeriod")) {
    auto period = util::str_of(details, "validityPeriod");
    auto slash = period.find('/');
    std::optional<std::chrono::seconds> d;
    if (slash == std::string::npos) {
      d = util::parse_duration(period);
    } else if (auto end = util::parse_date(period.substr(slash + 1)); end && *end > start) {
      d = std::chrono::duration_cast<std::chrono::seconds>(*end - start);
    } else {
      d = util::parse_duration(period.substr(slash + 1));
    }
    if (!d) return refuse(fmt::format("validityPeriod '{}' is not an ISO 8601 duration or interval", period));
    validity = *d;
  }
  // PKIaaS takes only the public key from the CSR; SANs come from
  // subjectAltNames [REF §3 from DOC], unless useSANFromCSR.
  std::string san;
  dom::array sans;
  if (!body["subjectAltNames"].get_array().get(sans)) {
    for (auto v : sans) {
      dom::object s;
      if (v.get_object().get(s)) return refuse("subjectAltNames holds {type, value} objects");
      auto type = util::str_of(s, "type"), value = util::str_of(s, "value");
      std::string prefix = type == "dNSName"                     ? "DNS:"
                           : type == "iPAddress"                 ? "IP:"
                           : type == "rfc822Name"                ? "email:"
                           : type == "uniformResourceIdentifier" ? "URI:"
                                                                 : "";
      if (prefix.empty() || value.empty())
        return refuse(fmt::format("subjectAltNames type '{}' is not supported", type));
      san += (san.empty() ? "" : ",") + prefix + value;
    }
  }
  bool san_from_csr = has_details && util::bool_of(details, "useSANFromCSR");
  auto dn = has_details ? util::str_of(details, "subjectDn") : "";
  auto cn = dn.empty() ? util::common_name(X509_REQ_get_subject_name(csr.get())) : cn_of_dn(dn);
  if (cn.empty()) return refuse("No subject common name: give subjectDn or a CSR with a CN");
  crypto::x509_req_ptr templ;
  X509_REQ* use = csr.get();
  if (!san_from_csr || !san.empty()) {
    templ = template_request(X509_REQ_get0_pubkey(csr.get()), cn, san.empty() ? nullptr : san.c_str());
    use = templ.get();
  }
  auto c = std::make_unique<gateway_certificate>();
  auto serial = fresh_serial();
  serial[0] = std::uint8_t((serial[0] & 0x0f) | 0x01);
  c->pem = crypto::issue_certificate(intermediate_key_.get(), intermediate_.get(), use,
                                     {.serial = serial, .now = start, .validity = validity});
  auto cert = std::move(crypto::parse_certificates(c->pem).front());
  c->serial = crypto::serial_hex(cert.get());
  c->subject = crypto::subject_line(cert.get());
  c->issued = start;
  c->expires = crypto::not_after(cert.get());
  c->ca_id = ca_id;
  c->profile_id = profile;
  c->enrollment_id = fmt::format("enr-{:06}", next_enrollment_++);
  ++counters_["cagw_enrollments"];
  // body: base64 DER for X509, PEM text for PEM [REF §3].
  std::string out_body = c->pem;
  if (format == "X509") {
    auto der = crypto::pem_block_der(c->pem, "CERTIFICATE");
    out_body = crypto::base64_encode(*der);
  }
  auto enrollment = json_object{}
                        .str("id", c->enrollment_id)
                        .str("serialNumber", c->serial)
                        .str("subjectName", c->subject)
                        .str("status", "ACCEPTED")
                        .str("body", out_body);
  auto& stored = gateway_[ecs_serial(c->serial)];
  stored = std::move(c);
  return sim_response::json(200, json_object{}
                                     .str("type", "EnrollmentResponse")
                                     .raw("message", message("Enrollment ACCEPTED"))
                                     .raw("enrollment", enrollment.done())
                                     .done());
}

sim_response entrust_sim::gateway_action(sim_request& r, gateway_certificate& c) {
  using namespace cagw_detail;
  auto refuse = [&](std::string_view m) {
    ++counters_["cagw_refused"];
    return cagw_error(400, "BadRequest", m);
  };
  dom::parser p;
  dom::object body, wrapped;
  if (!util::parse_object(p, r.body, body)) return refuse("The request body is not JSON");
  // {"action": {type: "RevokeAction", reason, comment}}; also HoldAction,
  // UnholdAction [REF §3]. Every public client wraps the action in "action":
  // Entrust's ansible cagw_certificate (update_action: body['action'] =
  // action) [AN], Entrust's shell utilities (--data
  // "{\"action\":{\"comment\":...,\"type\":...,\"reason\":...}}") [PU
  // cagw-shell-util/main.sh revoke_sn, bulk-revoke-shell/script.sh], and
  // Keyfactor's RevokeRequest ([JsonProperty("action")]) [KC]; none sends it
  // bare, so a bare one is refused.
  if (body["action"].get_object().get(wrapped))
    return refuse("the body must hold the action in \"action\": {\"action\": {\"type\": ...}}");
  body = wrapped;
  auto type = util::str_of(body, "type");
  auto reason = util::str_of(body, "reason");
  if (c.status == "revoked")
    return refuse(fmt::format("Certificate {} is already revoked", c.serial));
  if (type == "RevokeAction") {
    if (!reason.empty() && !known_reason(reason))
      return refuse(fmt::format("reason '{}' is not a CRL reason", reason));
    c.status = "revoked";
    c.reason = reason.empty() ? "unspecified" : reason;
    c.comment = util::str_of(body, "comment");
    c.revoked_at = now();
  } else if (type == "HoldAction") {
    c.status = "held";
  } else if (type == "UnholdAction") {
    if (c.status != "held") return refuse(fmt::format("Certificate {} is not on hold", c.serial));
    c.status = "normal";
  } else {
    return refuse(fmt::format("type '{}' must be RevokeAction, HoldAction or UnholdAction", type));
  }
  ++counters_["cagw_actions"];
  return sim_response::json(200, json_object{}
                                     .str("type", "ActionResponse")
                                     .raw("message", message("Action completed"))
                                     .raw("action", json_object{}
                                                        .str("type", type)
                                                        .str("status", "COMPLETED")
                                                        .str("serialNumber", c.serial)
                                                        .done())
                                     .done());
}

}  // namespace cbcs::sim::entrust
