// The simulated ECS API v2 (base /enterprise/v2), from the public sources in
// entrust_sim.hpp. Every call needs HTTP Basic username:apikey [REF §3:
// "Auth: HTTP Basic `username:apikey` on every call"]. Errors are read by
// Entrust's own client as {"status", "errors": [{"message"}]} [A:
// module_utils/ecs/api.py RestOperationException: error.get("status"),
// err.get("message") for err in error.get("errors")].

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <tuple>

#include "crypto/base64.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/entrust/entrust_records.hpp"
#include "tests/sim/entrust/entrust_sim.hpp"
#include "tests/sim/entrust/entrust_util.hpp"

namespace cbcs::sim::entrust {

using namespace std::chrono_literals;
namespace dom = simdjson::dom;

namespace ecs_detail {

// certType: the choices of Entrust's module [A cert_type]; [KF Certificate.cs]
// lists "STANDARD_SSL, ADVANTAGE_SSL, UC_SSL, EV_SSL, WILDCARD_SSL, PRIVATE_SSL, SMIME_ENT".
bool known_cert_type(std::string_view t) {
  for (const char* k : {"STANDARD_SSL", "ADVANTAGE_SSL", "UC_SSL", "EV_SSL", "WILDCARD_SSL",
                        "PRIVATE_SSL", "PD_SSL", "CODE_SIGNING", "EV_CODE_SIGNING",
                        "CDS_INDIVIDUAL", "CDS_GROUP", "CDS_ENT_LITE", "CDS_ENT_PRO", "SMIME_ENT"})
    if (t == k) return true;
  return false;
}

// Publicly trusted TLS: at most 398 days since September 2020 (CA/Browser
// Forum); the simulator's assumption for these types, not an Entrust text.
bool public_tls(std::string_view t) {
  for (const char* k : {"STANDARD_SSL", "ADVANTAGE_SSL", "UC_SSL", "EV_SSL", "WILDCARD_SSL"})
    if (t == k) return true;
  return false;
}

// A list answer: {summary{timestamp, elapsed, offset, limit, total, sort}, KEY: items}
// [KF Certificate.cs Summary; G apimodel.go Summary].
std::string page(entrust_sim::clock::time_point now, std::int64_t offset, std::int64_t limit,
                 std::int64_t total, std::string_view sort, std::string_view key,
                 std::string_view items) {
  auto summary = json_object{}
                     .str("timestamp", util::rfc3339(now))
                     .num("elapsed", 1)
                     .num("offset", offset)
                     .num("limit", limit)
                     .num("total", total)
                     .str("sort", sort);
  return json_object{}.raw("summary", summary.done()).raw(key, items).done();
}

std::string chain_json(const std::string& leaf, const std::string& intermediate,
                       const std::string& root) {
  // chainCerts: "certificate, intermediates, roots" [REF §3].
  return json_array{}.str(leaf).str(intermediate).str(root).done();
}

// The order fields a new order, a renewal and a reissue share [REF §3; KF
// NewCertificateRequest.cs]. Returns an error message, "" when fine.
std::string read_order_fields(dom::object body, bool is_new, bool is_reissue,
                              entrust_sim::clock::time_point now, entrust_sim::order& o,
                              dom::object& tracking, bool& has_tracking) {
  // References to o's fields.
  auto [csr, cert_type, eku, signing_alg, org, ou, sans, validity] =
      std::tie(o.csr, o.cert_type, o.eku, o.signing_alg, o.org, o.ou, o.sans, o.validity);
  csr = util::str_of(body, "csr");
  if (csr.empty() && is_new) return "csr is required";
  if (!csr.empty() && !util::read_csr(csr)) return "csr is not a valid PKCS#10 certificate signing request";
  // "If a certificate is being reissued or renewed, this parameter is
  // ignored, and the cert_type of the initial certificate is used." [A]
  if (is_new && util::has(body, "certType")) cert_type = util::str_of(body, "certType");
  if (!known_cert_type(cert_type)) return fmt::format("certType {} is not valid", cert_type);
  if (util::has(body, "eku")) eku = util::str_of(body, "eku");
  if (eku != "SERVER_AUTH" && eku != "CLIENT_AUTH" && eku != "SERVER_AND_CLIENT_AUTH")
    return "eku must be SERVER_AUTH, CLIENT_AUTH or SERVER_AND_CLIENT_AUTH";
  if (util::has(body, "signingAlg")) signing_alg = util::str_of(body, "signingAlg");
  if (signing_alg != "SHA-2" && signing_alg != "SHA-1") return "signingAlg must be SHA-1 or SHA-2";
  if (util::has(body, "org")) org = util::str_of(body, "org");
  dom::array list;
  if (!body["ou"].get_array().get(list)) {
    ou.clear();
    for (auto v : list) {
      std::string_view s;
      if (!v.get_string().get(s)) ou.emplace_back(s);
    }
    // "ou (at most one)" [REF §3].
    if (ou.size() > 1) return "Only one organizational unit (ou) is allowed";
  }
  if (!body["subjectAltName"].get_array().get(list)) {
    sans.clear();
    for (auto v : list) {
      std::string_view s;
      dom::object o;
      if (!v.get_string().get(s)) sans.emplace_back(s);
      else if (!v.get_object().get(o)) sans.push_back(util::str_of(o, "value"));
    }
  }
  auto lifetime = util::str_of(body, "certLifetime");
  auto expiry = util::str_of(body, "certExpiryDate");
  if (is_reissue && (!lifetime.empty() || !expiry.empty()))
    // "lifetime fields are invalid on reissue" [field-lessons, Entrust].
    return "certLifetime and certExpiryDate are not allowed on a reissue; it keeps the expiry";
  if (!lifetime.empty()) {
    // certLifetime wins over certExpiryDate [REF §3].
    auto d = util::parse_duration(lifetime);
    if (!d) return fmt::format("certLifetime {} is not an ISO 8601 duration", lifetime);
    validity = *d;
    o.expiry_date.reset();
  } else if (!expiry.empty()) {
    auto t = util::parse_date(expiry, true);
    if (!t || *t <= now) return fmt::format("certExpiryDate {} is not a future date", expiry);
    validity = std::chrono::duration_cast<std::chrono::seconds>(*t - now);
    o.expiry_date = *t;
  }
  if (public_tls(cert_type) && validity > 24h * 398)
    return "The certificate lifetime may not exceed 398 days";
  has_tracking = !body["tracking"].get_object().get(tracking);
  return {};
}

}  // namespace ecs_detail

bool entrust_sim::authorized(const sim_request& r) const {
  auto h = r.header("Authorization");
  if (h.size() < 7 || !iequal(h.substr(0, 6), "Basic ")) return false;
  auto decoded = crypto::base64_decode(h.substr(6));
  if (!decoded) return false;
  std::string text(decoded->begin(), decoded->end());
  return text == username_ + ":" + api_key_;
}

std::string entrust_sim::order_json(const order& o, bool full) const {
  json_object j;
  j.str("status", o.status).num("trackingId", o.tracking_id);
  j.str("uri", fmt::format("/enterprise/v2/certificates/{}", o.tracking_id));
  if (!o.pem.empty()) {
    j.str("dn", o.dn)
        .str("serialNumber", o.serial)
        .str("issueDateTime", util::rfc3339(o.issued))
        .str("expiresAfter", util::rfc3339(o.expires));
  }
  j.str("signingAlg", o.signing_alg).str("eku", o.eku).str("org", o.org);
  json_array ou;
  for (auto& u : o.ou) ou.str(u);
  j.raw("ou", ou.done()).str("certType", o.cert_type).boolean("isThirdParty", false);
  if (!full) return j.done();
  json_array sans;
  for (auto& s : o.sans) sans.raw(json_object{}.str("type", "DNS").str("value", s).done());
  j.raw("subjectAltName", sans.done());
  j.raw("tracking", json_object{}
                        .str("trackingInfo", o.tracking_info)
                        .str("requesterName", o.requester_name)
                        .str("requesterEmail", o.requester_email)
                        .str("requesterPhone", o.requester_phone)
                        .done());
  j.str("csr", o.csr).str("creatorName", username_);
  if (!o.pem.empty()) {
    j.str("endEntityCert", o.pem)
        .raw("chainCerts", ecs_detail::chain_json(o.pem, intermediate_pem_, root_pem_));
  }
  if (!o.decline_reason.empty()) j.str("declineReason", o.decline_reason);
  if (!o.crl_reason.empty())
    j.str("crlReason", o.crl_reason)
        .str("revocationComment", o.revocation_comment)
        .str("revocationDateTime", util::rfc3339(o.revoked_at));
  return j.done();
}

sim_response entrust_sim::ecs(sim_request& r, const std::string& operation) {
  if (!authorized(r)) {
    ++counters_["ecs_unauthorized"];
    auto out = ecs_error(401, "Invalid username or API key");
    out.headers.emplace_back("WWW-Authenticate", R"(Basic realm="Entrust API")");
    return out;
  }
  sim_response limited;
  if (throttled(false, limited)) return limited;

  if (operation == "version")
    return sim_response::json(200, R"j({"version":"2.0.0 (cbcs-sim)"})j");
  if (operation == "organizations") {
    // {organizations[{name, verificationStatus, clientId}]} [REF §3]
    json_array orgs;
    orgs.raw(json_object{}
                 .str("name", "Example Inc")
                 .str("verificationStatus", "APPROVED")
                 .num("clientId", 1)
                 .done());
    return sim_response::json(200, json_object{}.raw("organizations", orgs.done()).done());
  }
  if (operation == "clients") {
    json_array clients;
    clients.raw(json_object{}
                    .num("clientId", 1)
                    .str("clientName", "Example Inc")
                    .str("verificationStatus", "APPROVED")
                    .str("ovExpiryDate", util::rfc3339(now() + 24h * 300))
                    .done());
    return sim_response::json(200, json_object{}.raw("clients", clients.done()).done());
  }
  if (operation == "domains") {
    // {summary, domains[{clientId, domainName, evEligible, evExpiry, ovEligible,
    // ovExpiry, verificationMethod (DNS, EMAIL, MANUAL, WEB_SERVER),
    // verificationStatus}]} [G apimodel.go GetDomainsResponse, Domain].
    // Eligibility and its expiry are there "when domain_status is APPROVED,
    // RE_VERIFICATION or EXPIRING" (ov_days_remaining), eligibility alone
    // also for EXPIRED [A ecs_domain RETURN]; a domain still in its first
    // verification has neither.
    if (r.param("id") != "1") return ecs_error(404, "Client not found");
    struct domain {
      const char* name;
      const char* status;
      std::optional<bool> ov_eligible;
      std::chrono::hours ov_left;
    };
    const domain list[] = {{"example.com", "APPROVED", true, 24h * 300},
                           {"example.net", "EXPIRING", true, 24h * 20},
                           {"example.org", "INITIAL_VERIFICATION", std::nullopt, 0h},
                           {"example.info", "EXPIRED", false, -24h * 3}};
    // ?offset=&limit= and verificationStatus= [Keyfactor/entrust-cagateway
    // APIProxy/Domain.cs GetDomainsByClientRequest: "clients/{clientId}/
    // domains?offset=..&limit=.." and "verificationStatus=APPROVED"]; limit
    // 1..1000 as the certificate list's (no source gives the domains' bound).
    std::int64_t offset = 0, limit = 100;
    for (auto [name, value, low] : {std::tuple{"offset", &offset, 0}, {"limit", &limit, 1}}) {
      auto v = r.query_param(name);
      if (!v) continue;
      if (v->empty() || v->size() > 9 || !std::all_of(v->begin(), v->end(), ::isdigit) ||
          std::stoll(*v) < low || (value == &limit && std::stoll(*v) > 1000))
        return ecs_error(400, fmt::format("{} must be a number{}", name,
                                          value == &limit ? " from 1 to 1000" : ""));
      *value = std::stoll(*v);
    }
    auto wanted_status = r.query_param("verificationStatus");
    std::vector<const domain*> hits;
    for (const auto& d : list)
      if (!wanted_status || *wanted_status == d.status) hits.push_back(&d);
    json_array domains;
    for (std::size_t i = std::size_t(offset); i < hits.size() && i < std::size_t(offset + limit);
         ++i) {
      const auto& d = *hits[i];
      json_object j;
      j.num("clientId", 1).str("domainName", d.name);
      if (d.ov_eligible) j.boolean("evEligible", false).boolean("ovEligible", *d.ov_eligible);
      if (d.ov_eligible && *d.ov_eligible) j.str("ovExpiry", util::rfc3339(now() + d.ov_left));
      j.str("verificationStatus", d.status).str("verificationMethod", "DNS");
      domains.raw(j.done());
    }
    return sim_response::json(200, ecs_detail::page(now(), offset, limit, std::int64_t(hits.size()),
                                                    "domainName", "domains", domains.done()));
  }
  if (operation == "inventories") {
    std::int64_t used = 0;
    for (auto& [id, o] : orders_)
      if (!o->pem.empty()) ++used;
    json_array inv;
    inv.raw(json_object{}
                .str("productType", "STANDARD_SSL")
                .num("totalCount", 1000)
                .num("remainingCount", 1000 - used)
                .num("usedCount", used)
                .done());
    return sim_response::json(200, json_object{}.raw("inventories", inv.done()).done());
  }
  if (operation == "create") return place(r);
  if (operation == "list") return list(r);
  auto* o = find(r.param("id"));
  if (!o) return ecs_error(404, fmt::format("Certificate with trackingId {} not found", r.param("id")));
  if (operation == "get") return sim_response::json(200, order_json(*o, true));
  if (operation == "patch") return patch(r, *o);
  if (operation == "renewals") return renew_or_reissue(r, *o, true);
  if (operation == "reissues") return renew_or_reissue(r, *o, false);
  if (operation == "revocations") return revoke(r, *o);
  return ecs_error(404, "Unknown operation");
}

sim_response entrust_sim::place(sim_request& r) {
  dom::parser p;
  dom::object body, tracking;
  if (!util::parse_object(p, r.body, body)) return ecs_error(400, "The request body is not JSON");
  auto o = std::make_unique<order>();
  o->cert_type = "STANDARD_SSL";
  o->eku = "SERVER_AUTH";
  o->signing_alg = "SHA-2";
  o->org = "Example Inc";
  o->validity = 24h * 365;  // P1Y
  bool has_tracking = false;
  auto problem = ecs_detail::read_order_fields(body, true, false, now(), *o, tracking, has_tracking);
  if (problem.empty()) {
    // requester_name, requester_email and requester_phone are required for a
    // new certificate in Entrust's own module [A].
    if (!has_tracking) problem = "tracking is required";
    else
      for (const char* k : {"requesterName", "requesterEmail", "requesterPhone"})
        if (util::str_of(tracking, k).empty()) {
          problem = fmt::format("tracking.{} is required", k);
          break;
        }
  }
  if (!problem.empty()) {
    ++counters_["ecs_refused"];
    return ecs_error(400, problem);
  }
  o->tracking_info = util::str_of(tracking, "trackingInfo");
  o->requester_name = util::str_of(tracking, "requesterName");
  o->requester_email = util::str_of(tracking, "requesterEmail");
  o->requester_phone = util::str_of(tracking, "requesterPhone");
  // 200 for validateOnly: nothing ordered, no inventory used [REF §3; KF
  // RenewCertificateRequest.cs "will not otherwise be processed"].
  if (util::bool_of(body, "validateOnly")) return sim_response::json(200, "{}");
  ++counters_["ecs_orders"];
  return submit(std::move(o), util::bool_of(body, "queueForApproval"));
}

// A new order, renewal or reissue that passed the checks: stored under a new
// trackingId, then issued or queued as the approval mode (or the order) says.
sim_response entrust_sim::submit(std::unique_ptr<order> o, bool queue_asked) {
  o->tracking_id = next_tracking_++;
  o->created = now();
  auto& placed = *o;
  orders_[o->tracking_id] = std::move(o);
  if (mode_ != approval_mode::issue || queue_asked) {
    placed.status = "PENDING";
    ++counters_["ecs_queued"];
    if (mode_ == approval_mode::decline) {
      placed.status = "DECLINED";
      placed.decline_reason = "Declined by the approver (cbcs-sim decline mode)";
      ++counters_["ecs_declined"];
    }
    // 202: {trackingId} only [REF §3; field-lessons: Lemur read endEntityCert from a 202].
    return sim_response::json(202, json_object{}.num("trackingId", placed.tracking_id).done());
  }
  issue(placed, placed.validity);
  // 201: {trackingId, endEntityCert, chainCerts, serialNumber, expiresAfter} [REF §3].
  return sim_response::json(
      201, json_object{}
               .num("trackingId", placed.tracking_id)
               .str("endEntityCert", placed.pem)
               .raw("chainCerts", ecs_detail::chain_json(placed.pem, intermediate_pem_, root_pem_))
               .str("serialNumber", placed.serial)
               .str("expiresAfter", util::rfc3339(placed.expires))
               .done());
}

sim_response entrust_sim::renew_or_reissue(sim_request& r, order& old, bool renewal) {
  dom::parser p;
  dom::object body, tracking;
  if (r.body.empty()) r.body = "{}";
  if (!util::parse_object(p, r.body, body)) return ecs_error(400, "The request body is not JSON");
  auto refuse = [&](int status, const std::string& message) {
    ++counters_["ecs_refused"];
    return ecs_error(status, message);
  };
  if (old.status != "ACTIVE")
    return refuse(400, fmt::format("Certificate {} is {} and cannot be {}", old.tracking_id,
                                   old.status, renewal ? "renewed" : "reissued"));
  // "the ECS API does not support the "renew" operation for certificates that
  // are not at least 30 days old" [A, force]; validateOnly is refused on
  // renewals [REF §3, KG]. Entrust's exact message is not public.
  if (renewal && now() - old.issued < 24h * 30)
    return refuse(400, fmt::format("Certificate {} cannot be renewed within 30 days of its "
                                   "issuance ({})",
                                   old.tracking_id, util::rfc3339(old.issued)));
  if (renewal && util::bool_of(body, "validateOnly"))
    return refuse(400, "validateOnly is not supported on renewals");
  auto o = std::make_unique<order>();
  *o = old;
  o->kind = renewal ? "renewal" : "reissue";
  o->previous = old.tracking_id;
  o->pem.clear();
  o->serial.clear();
  o->crl_reason.clear();
  o->decline_reason.clear();
  o->expiry_date.reset();  // the renewal's own lifetime fields, or the old lifetime
  if (renewal && o->validity <= 0s) o->validity = 24h * 365;
  bool has_tracking = false;
  auto problem =
      ecs_detail::read_order_fields(body, false, !renewal, now(), *o, tracking, has_tracking);
  if (!problem.empty()) return refuse(400, problem);
  if (o->csr.empty()) o->csr = old.csr;  // "no CSR = the same public key" [REF §3]
  if (has_tracking) {
    if (util::has(tracking, "trackingInfo")) o->tracking_info = util::str_of(tracking, "trackingInfo");
    if (util::has(tracking, "requesterName")) o->requester_name = util::str_of(tracking, "requesterName");
    if (util::has(tracking, "requesterEmail")) o->requester_email = util::str_of(tracking, "requesterEmail");
  }
  if (!renewal && util::bool_of(body, "validateOnly")) return sim_response::json(200, "{}");
  ++counters_[renewal ? "ecs_renewals" : "ecs_reissues"];
  return submit(std::move(o), util::bool_of(body, "queueForApproval"));
}

sim_response entrust_sim::revoke(sim_request& r, order& o) {
  dom::parser p;
  dom::object body;
  if (!util::parse_object(p, r.body, body)) return ecs_error(400, "The request body is not JSON");
  auto reason = util::str_of(body, "crlReason");
  auto refuse = [&](const std::string& message) {
    ++counters_["ecs_refused"];
    return ecs_error(400, message);
  };
  // Only keyCompromise and unspecified are accepted [REF §3: "Reported (by
  // Keyfactor only, not by an Entrust document)"; field-lessons].
  if (reason != "keyCompromise" && reason != "unspecified")
    return refuse(fmt::format("crlReason '{}' is not accepted; use keyCompromise or unspecified",
                              reason));
  if (o.status == "REVOKED") return refuse(fmt::format("Certificate {} is already revoked", o.tracking_id));
  if (o.pem.empty()) return refuse(fmt::format("Certificate {} is {} and was never issued", o.tracking_id, o.status));
  o.status = "REVOKED";
  o.crl_reason = reason;
  o.revocation_comment = util::str_of(body, "revocationComment");
  o.revoked_at = now();
  ++counters_["ecs_revocations"];
  // "200 on success" [REF §3]; the body's content is not documented.
  return sim_response::json(200, "{}");
}

sim_response entrust_sim::patch(sim_request& r, order& o) {
  dom::parser p;
  dom::object body;
  if (!util::parse_object(p, r.body, body)) return ecs_error(400, "The request body is not JSON");
  auto op = util::str_of(body, "operation");
  // {operation: APPROVE | DECLINE | SUSPEND | UNSUSPEND, declineReason};
  // approve/decline only while PENDING [REF §3; KF Certificate.cs PatchCertificateRequestBody].
  if (op == "APPROVE" || op == "DECLINE") {
    if (o.status != "PENDING")
      return ecs_error(400, fmt::format("Certificate {} is {}, not PENDING", o.tracking_id, o.status));
    if (op == "APPROVE") {
      issue(o, o.validity);
      ++counters_["ecs_approved"];
    } else {
      o.status = "DECLINED";
      o.decline_reason = util::str_of(body, "declineReason");
      ++counters_["ecs_declined"];
    }
    return sim_response::json(200, "{}");
  }
  if (op == "SUSPEND" || op == "UNSUSPEND") {
    auto from = op == "SUSPEND" ? "ACTIVE" : "SUSPENDED";
    if (o.status != from)
      return ecs_error(400, fmt::format("Certificate {} is {}, not {}", o.tracking_id, o.status, from));
    o.status = op == "SUSPEND" ? "SUSPENDED" : "ACTIVE";
    return sim_response::json(200, "{}");
  }
  return ecs_error(400, "operation must be APPROVE, DECLINE, SUSPEND or UNSUSPEND");
}

sim_response entrust_sim::list(sim_request& r) {
  // GET /certificates?serialNumber=&status=&trackingInfo=&limit=&offset=,
  // answered {summary{offset, limit, total}, certificates}, limit <= 1000
  // [REF §3; KF Certificate.cs GetCertificatesRequest / Summary].
  auto number = [&](std::string_view name, std::int64_t fallback) -> std::optional<std::int64_t> {
    auto v = r.query_param(name);
    if (!v) return fallback;
    if (v->empty() || v->size() > 9 || !std::all_of(v->begin(), v->end(), ::isdigit))
      return std::nullopt;
    return std::stoll(*v);
  };
  auto limit = number("limit", 100), offset = number("offset", 0);
  if (!limit || *limit < 1 || *limit > 1000) return ecs_error(400, "limit must be from 1 to 1000");
  if (!offset) return ecs_error(400, "offset must be a number");
  auto serial = r.query_param("serialNumber");
  auto status = r.query_param("status");
  auto info = r.query_param("trackingInfo");
  auto tracking_id = r.query_param("trackingId");
  std::vector<const order*> hits;
  for (auto& [id, o] : orders_) {
    if (serial && (o->serial.empty() || ecs_serial(*serial) != o->serial)) continue;
    if (status) {
      // A comma-separated list of statuses.
      bool any = false;
      std::string_view rest = *status;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        if (rest.substr(0, comma) == o->status) any = true;
        rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      }
      if (!any) continue;
    }
    if (info && *info != o->tracking_info) continue;
    if (tracking_id && *tracking_id != std::to_string(id)) continue;
    hits.push_back(o.get());
  }
  json_array certs;
  for (std::size_t i = std::size_t(*offset); i < hits.size() && i < std::size_t(*offset + *limit); ++i)
    certs.raw(order_json(*hits[i], false));
  return sim_response::json(
      200, ecs_detail::page(now(), *offset, *limit, std::int64_t(hits.size()), "trackingId",
                            "certificates", certs.done()));
}

}  // namespace cbcs::sim::entrust
