// The simulated Entrust's shared parts: its issuing CA, the records of both
// APIs, issuance, the error shapes, throttling and the admin routes. The
// APIs themselves: ecs_api.cpp, cagw_api.cpp.

#include "tests/sim/entrust/entrust_sim.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/sim_pki.hpp"
#include "tests/sim/entrust/entrust_records.hpp"
#include "tests/sim/entrust/entrust_util.hpp"

namespace cbcs::sim::entrust {

using namespace std::chrono_literals;
namespace dom = simdjson::dom;

std::string ecs_serial(std::string_view hex) {
  std::string out;
  for (char c : hex) {
    if (c == ':' || c == ' ') continue;
    if (out.empty() && c == '0') continue;  // no leading zeros [REF §3]
    out += char(std::toupper(static_cast<unsigned char>(c)));
  }
  return out.empty() ? "0" : out;
}

namespace pki_detail {

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext || !X509_add_ext(cert, ext, -1)) throw std::runtime_error("cannot add a CA extension");
  X509_EXTENSION_free(ext);
}

// A CA certificate for key, signed by issuer / issuer_key, or self-signed
// when issuer is null. crypto::create_root_ca makes roots with pathlen:0
// (no intermediate below them), so the chain root -> intermediate -> leaf
// is built here.
crypto::x509_ptr make_ca(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                         const char* constraints, std::chrono::system_clock::time_point from,
                         std::chrono::hours lifetime) {
  crypto::x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  auto serial = fresh_serial();
  BIGNUM* bn = BN_bin2bn(serial.data(), int(serial.size()), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(from));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                std::chrono::system_clock::to_time_t(from + lifetime));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extension(cert.get(), signer, NID_basic_constraints, constraints);
  add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid");
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()))
    throw std::runtime_error("cannot sign a CA certificate");
  return cert;
}

}  // namespace pki_detail

entrust_sim::entrust_sim(std::string username, std::string api_key)
    : username_(std::move(username)), api_key_(std::move(api_key)) {
  // Issued certificates chain to a root through an intermediate, as
  // chainCerts "(certificate, intermediates, roots)" [REF §3] shows them.
  auto start = clock::now() - 1h;
  root_key_ = crypto::generate_key("ecdsa-p256");
  auto root = pki_detail::make_ca(root_key_.get(), "Entrust Sim Root CA - G4", nullptr, nullptr,
                                  "critical,CA:TRUE", start, 24h * 3650);
  root_pem_ = crypto::certificate_to_pem(root.get());
  intermediate_key_ = crypto::generate_key("ecdsa-p256");
  intermediate_ = pki_detail::make_ca(intermediate_key_.get(),
                                      "Entrust Sim Certification Authority - L1K", root.get(),
                                      root_key_.get(), "critical,CA:TRUE,pathlen:0", start,
                                      24h * 3000);
  intermediate_pem_ = crypto::certificate_to_pem(intermediate_.get());
}

entrust_sim::~entrust_sim() = default;

void entrust_sim::reset() {
  mode_ = approval_mode::issue;
  offset_ = 0s;
  orders_.clear();
  gateway_.clear();
  throttle_ecs_ = throttle_cagw_ = 0;
  truncate_ecs_ = truncate_cagw_ = 0;
  retry_after_ = "1";
  counters_.clear();
  next_tracking_ = 3000001;
  next_enrollment_ = 1;
}

// {"status": N, "errors": [{"message": M}]} [REF §3; KF API/Error.cs].
sim_response entrust_sim::ecs_error(int status, std::string_view message) {
  json_array errors;
  errors.raw(json_object{}.str("message", message).done());
  return sim_response::json(status,
                            json_object{}.num("status", status).raw("errors", errors.done()).done());
}

// {"type":"ErrorResponse","error":{code, message, target, details}} [REF §3;
// VP error_response.go reads error.code and error.message].
sim_response entrust_sim::cagw_error(int status, std::string_view code, std::string_view message) {
  auto error =
      json_object{}.str("code", code).str("message", message).str("target", "").raw("details", "[]");
  return sim_response::json(
      status, json_object{}.str("type", "ErrorResponse").raw("error", error.done()).done());
}

bool entrust_sim::throttled(bool cagw_api, sim_response& out) {
  int& left = cagw_api ? throttle_cagw_ : throttle_ecs_;
  if (left <= 0) return false;
  --left;
  ++counters_[cagw_api ? "cagw_throttled" : "ecs_throttled"];
  if (cagw_api) {
    // PKIaaS publishes 100 requests per 10 s, then 429 TooManyRequests [REF §3].
    out = cagw_error(429, "TooManyRequests", "Rate limit exceeded: 100 requests per 10 seconds");
  } else {
    // 429 with Retry-After seconds and X-Rate-Limit-Limit [REF §3].
    out = ecs_error(429, "Too many requests. Please retry later.");
    out.headers.emplace_back("X-Rate-Limit-Limit", "100");
  }
  if (!retry_after_.empty()) out.headers.emplace_back("Retry-After", retry_after_);
  return true;
}

sim_response entrust_sim::finish(bool cagw_api, sim_response out) {
  int& left = cagw_api ? truncate_cagw_ : truncate_ecs_;
  if (left > 0 && !out.body.empty()) {
    --left;
    ++counters_["truncated"];
    out.body.resize(out.body.size() / 2);
  }
  return out;
}

void entrust_sim::issue(order& o, std::chrono::seconds validity) {
  auto req = util::read_csr(o.csr);
  if (!req) throw std::runtime_error("the stored CSR does not parse");
  crypto::x509_req_ptr templ;
  X509_REQ* use = req.get();
  if (!o.sans.empty()) {
    // subjectAltName[] replaces the CSR's [REF §3 "(replaces the CSR's)"].
    std::string san;
    for (auto& d : o.sans) san += (san.empty() ? "DNS:" : ",DNS:") + d;
    auto cn = util::common_name(X509_REQ_get_subject_name(req.get()));
    templ = template_request(X509_REQ_get0_pubkey(req.get()), cn.empty() ? o.sans.front() : cn,
                             san.c_str());
    use = templ.get();
  }
  order* previous = o.previous ? find(std::to_string(o.previous)) : nullptr;
  // Whole seconds, as X.509 times are: a reissue's expiry then matches.
  auto when = std::chrono::floor<std::chrono::seconds>(now());
  // A reissue keeps the expiry of the certificate it replaces [REF §3].
  auto until = [&](clock::time_point end) {
    return std::max(std::chrono::duration_cast<std::chrono::seconds>(end - when),
                    std::chrono::seconds(3600));
  };
  if (o.kind == "reissue" && previous)
    validity = until(previous->expires);
  else if (o.expiry_date)
    validity = until(*o.expiry_date);
  auto serial = fresh_serial();
  // A zero first nibble, so the DER hex has a leading zero that ECS drops.
  serial[0] = std::uint8_t((serial[0] & 0x0f) | 0x01);
  o.pem = crypto::issue_certificate(intermediate_key_.get(), intermediate_.get(), use,
                                    {.serial = serial, .now = when, .validity = validity});
  auto cert = std::move(crypto::parse_certificates(o.pem).front());
  o.serial = ecs_serial(crypto::serial_hex(cert.get()));
  o.dn = crypto::subject_line(cert.get());
  o.issued = when;
  o.expires = crypto::not_after(cert.get());
  o.status = "ACTIVE";
  // The old certificate becomes RENEWED or REISSUED [REF §3; A's statuses].
  if (previous) previous->status = o.kind == "reissue" ? "REISSUED" : "RENEWED";
  ++counters_["ecs_issued"];
}

entrust_sim::order* entrust_sim::find(const std::string& tracking_id) {
  if (tracking_id.empty() || tracking_id.size() > 18 ||
      !std::all_of(tracking_id.begin(), tracking_id.end(), ::isdigit))
    return nullptr;
  auto it = orders_.find(std::stoll(tracking_id));
  return it == orders_.end() ? nullptr : it->second.get();
}

// The serial in a CA Gateway path is read as a number: Entrust's own
// clients send it upper case without leading zeros ("{0:X}".format(
// cert.serial_number), [AN] cagw_certificate.py check()), lower case
// ("serial_no: 5b9ba13d", its examples) and zero-padded
// ("0000000091ca4b4b136a86b718ae01a5403ce62b", [PU] main.sh revoke_sn).
entrust_sim::gateway_certificate* entrust_sim::find_gateway(const std::string& serial) {
  auto it = gateway_.find(ecs_serial(serial));
  return it == gateway_.end() ? nullptr : it->second.get();
}

// ---- admin ----

std::string entrust_sim::admin_orders(const sim_request& r) const {
  auto info = r.query_param("trackingInfo");
  json_array list;
  std::map<std::string, std::int64_t> by_info;
  for (auto& [id, o] : orders_) {
    ++by_info[o->tracking_info];
    if (info && *info != o->tracking_info) continue;
    list.raw(json_object{}
                 .num("trackingId", id)
                 .str("kind", o->kind)
                 .num("previous", o->previous)
                 .str("status", o->status)
                 .str("trackingInfo", o->tracking_info)
                 .str("serialNumber", o->serial)
                 .str("issueDateTime", o->pem.empty() ? "" : util::rfc3339(o->issued))
                 .str("expiresAfter", o->pem.empty() ? "" : util::rfc3339(o->expires))
                 .str("crlReason", o->crl_reason)
                 .str("declineReason", o->decline_reason)
                 .done());
  }
  json_object counts;
  for (auto& [k, n] : by_info) counts.num(k, n);
  return json_object{}.raw("orders", list.done()).raw("by_tracking_info", counts.done()).done();
}

std::string entrust_sim::stats_json() const {
  json_object o;
  for (const char* k : {"ecs_orders", "ecs_issued", "ecs_queued", "ecs_declined", "ecs_approved",
                        "ecs_renewals", "ecs_reissues", "ecs_revocations", "ecs_refused",
                        "ecs_unauthorized", "ecs_throttled", "cagw_enrollments",
                        "cagw_actions", "cagw_refused", "cagw_throttled", "truncated"}) {
    auto it = counters_.find(k);
    o.num(k, it == counters_.end() ? 0 : it->second);
  }
  return o.done();
}

namespace admin_detail {
const char* mode_word(approval_mode m) {
  switch (m) {
    case approval_mode::issue: return "issue";
    case approval_mode::queue: return "queue";
    case approval_mode::decline: return "decline";
  }
  return "issue";
}
sim_response bad(std::string_view message) {
  return sim_response::json(400, json_object{}.str("error", message).done());
}
}  // namespace admin_detail

sim_response entrust_sim::admin(sim_request& r, const std::string& operation) {
  using namespace admin_detail;
  dom::parser p;
  dom::object body;
  bool has_body = util::parse_object(p, r.body, body);
  if (operation == "approval") {
    if (r.method == "PUT" || r.method == "POST") {
      auto m = has_body ? util::str_of(body, "mode") : "";
      if (m == "issue") mode_ = approval_mode::issue;
      else if (m == "queue") mode_ = approval_mode::queue;
      else if (m == "decline") mode_ = approval_mode::decline;
      else return bad("mode must be issue, queue or decline");
    }
    return sim_response::json(200, json_object{}.str("mode", mode_word(mode_)).done());
  }
  if (operation == "approve" || operation == "decline") {
    auto* o = find(r.param("id"));
    if (!o) return sim_response::json(404, R"({"error":"no such trackingId"})");
    if (o->status != "PENDING") return bad("the order is " + o->status + ", not PENDING");
    if (operation == "approve") {
      issue(*o, o->validity);
      ++counters_["ecs_approved"];
    } else {
      o->status = "DECLINED";
      o->decline_reason = has_body ? util::str_of(body, "declineReason") : "";
      if (o->decline_reason.empty()) o->decline_reason = "Declined by the approver";
      ++counters_["ecs_declined"];
    }
    return sim_response::json(200, order_json(*o, true));
  }
  if (operation == "orders") return sim_response::json(200, admin_orders(r));
  if (operation == "stats") return sim_response::json(200, stats_json());
  if (operation == "clock") {
    if (r.method == "POST") {
      std::int64_t n = 0;
      if (!has_body || body["advance_seconds"].get_int64().get(n))
        return bad("advance_seconds must be a number");
      offset_ += std::chrono::seconds(n);
    }
    return sim_response::json(200, json_object{}
                                       .num("offset_seconds", offset_.count())
                                       .str("now", util::rfc3339(now()))
                                       .done());
  }
  if (operation == "throttle" || operation == "truncate") {
    // {api: ecs | cagw, count[, retry_after]}: the next count answers of that API.
    bool throttle = operation == "throttle";
    std::int64_t count = 0;
    auto api = has_body ? util::str_of(body, "api") : "";
    if (!has_body || body["count"].get_int64().get(count) || count < 0)
      return bad("count must be a number");
    if (api != "ecs" && api != "cagw") return bad("api must be ecs or cagw");
    int& ecs = throttle ? throttle_ecs_ : truncate_ecs_;
    int& cagw = throttle ? throttle_cagw_ : truncate_cagw_;
    (api == "ecs" ? ecs : cagw) = int(count);
    if (throttle && util::has(body, "retry_after")) retry_after_ = util::str_of(body, "retry_after");
    return sim_response::json(
        200, json_object{}.num("ecs", ecs).num("cagw", cagw).str("retry_after", retry_after_).done());
  }
  if (operation == "gateway") {
    json_array list;
    for (auto& [serial, c] : gateway_) list.raw(gateway_json(*c));
    return sim_response::json(200, json_object{}.raw("certificates", list.done()).done());
  }
  return sim_response::json(404, R"({"error":"no such admin resource"})");
}

}  // namespace cbcs::sim::entrust
