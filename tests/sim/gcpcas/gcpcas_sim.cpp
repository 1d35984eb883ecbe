#include "tests/sim/gcpcas/gcpcas_sim.hpp"

#include <simdjson.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/digest.hpp"
#include "crypto/jwt.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"
#include "crypto/serial_number.hpp"
#include "tests/sim/common/sim_command.hpp"

namespace cbcs::sim::gcpcas {

// Named, not anonymous: cbcs-sim builds as unity batches.
namespace gcpcas_detail {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;
using steady = std::chrono::steady_clock;

constexpr std::string_view api_audience = "https://privateca.googleapis.com/";
constexpr std::string_view cloud_platform = "https://www.googleapis.com/auth/cloud-platform";
constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
constexpr std::string_view time_message =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim.";

const std::vector<std::string> all_permissions = {"privateca.caPools.get",
                                                  "privateca.caPools.list",
                                                  "privateca.certificateAuthorities.get",
                                                  "privateca.certificateAuthorities.list",
                                                  "privateca.certificates.create",
                                                  "privateca.certificates.get",
                                                  "privateca.certificates.list",
                                                  "privateca.certificates.update",
                                                  "privateca.certificateTemplates.get",
                                                  "privateca.certificateTemplates.list",
                                                  "privateca.certificateTemplates.use"};

std::string status_name(int code) {
  switch (code) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ALREADY_EXISTS";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "NOT_IMPLEMENTED";
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

std::string google_error(int code, std::string_view status, std::string_view message) {
  return json_object{}
      .raw("error",
           json_object{}.num("code", code).str("message", message).str("status", status).done())
      .done();
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z",
                     std::chrono::time_point_cast<std::chrono::seconds>(t));
}

bool is_certificate_id(std::string_view id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// 8-4-4-4-12 hex digits, not all zero (Google refuses the zero UUID).
bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  bool nonzero = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    if (!dash && s[i] != '0') nonzero = true;
  }
  return nonzero;
}

// Google's label rules: keys start with a lower-case letter; keys and values
// hold lower-case letters, digits, '_' and '-', at most 63 characters.
bool is_label(std::string_view s, bool key) {
  if (s.size() > 63 || (key && (s.empty() || !std::islower(static_cast<unsigned char>(s[0])))))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

// "2592000s" or "3.5s" (a protobuf Duration in JSON); nullopt otherwise.
std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.size() < 2 || s.back() != 's') return std::nullopt;
  s.remove_suffix(1);
  auto dot = s.find('.');
  auto whole = s.substr(0, dot);
  if (whole.empty() || whole.size() > 12 ||
      !std::all_of(whole.begin(), whole.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  if (dot != std::string_view::npos) {
    auto frac = s.substr(dot + 1);
    if (frac.empty() || frac.size() > 9 ||
        !std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
  }
  return std::chrono::seconds(std::stoll(std::string(whole)));
}

std::string form_value(std::string_view body, std::string_view name) {
  sim_request r;
  r.query = std::string(body);
  return r.query_param(name).value_or("");
}

std::optional<dom::object> parse_object(dom::parser& parser, std::string_view text) {
  dom::object o;
  if (parser.parse(text.data(), text.size()).get_object().get(o)) return std::nullopt;
  return o;
}

std::string str_field(dom::object o, std::string_view key) {
  std::string_view v;
  if (o[key].get_string().get(v)) return {};
  return std::string(v);
}

std::optional<std::int64_t> int_field(dom::object o, std::string_view key) {
  std::int64_t v = 0;
  if (o[key].get_int64().get(v)) return std::nullopt;
  return v;
}

std::string random_hex(std::size_t n) { return crypto::to_hex(crypto::random_bytes(n)); }

// Google accepts an assertion without kid (it tries the account's keys); one
// that names a key must name this one.
bool kid_matches(dom::object header, const std::string& key_id) {
  auto kid = str_field(header, "kid");
  return kid.empty() || kid == key_id;
}

}  // namespace gcpcas_detail

using namespace gcpcas_detail;

gcpcas_sim::gcpcas_sim(const std::string& state_dir, gcpcas_options options, sim_pki& pki)
    : state_dir_(state_dir), options_(std::move(options)), pki_(pki) {
  client_email_ = fmt::format("cbcs-test@{}.iam.gserviceaccount.com", options_.project);
  auto key_path = fs::path(state_dir_) / "service-account.key";
  if (fs::exists(key_path)) {
    account_key_ = crypto::parse_private_key(read_file(key_path));
  } else {
    account_key_ = crypto::generate_key("rsa-2048");
    write_file(key_path, crypto::private_key_to_pem(account_key_.get()));
  }
  // The key id: what Google derives it from is not documented; a digest of
  // the public key keeps it stable across restarts.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(account_key_.get(), &der);
  key_id_ = crypto::to_hex(crypto::sha256(crypto::byte_view(der, static_cast<std::size_t>(len))))
                .substr(0, 40);
  OPENSSL_free(der);
  reset();
}

gcpcas_sim::~gcpcas_sim() = default;

void gcpcas_sim::reset() {
  pools_.clear();
  add_pool("pool-1", "ENTERPRISE", {"ca-1"});
  templates_ = {"tls-server"};
  held_ = {all_permissions.begin(), all_permissions.end()};
  certificates_.clear();
  request_ids_.clear();
  tokens_.clear();
  creates_per_second_ = 0;
  key_disabled_ = false;
  token_requests_ = token_refusals_ = self_signed_jwts_ = created_ = deduplicated_ =
      quota_refusals_ = 0;
}

void gcpcas_sim::add_pool(std::string id, std::string tier, std::vector<std::string> cas) {
  pools_.erase(std::remove_if(pools_.begin(), pools_.end(),
                              [&](const pool_record& p) { return p.id == id; }),
               pools_.end());
  pool_record p{.id = std::move(id), .tier = std::move(tier)};
  auto now = std::chrono::system_clock::now();
  for (auto& ca_id : cas) {
    auto made = crypto::create_root_ca("ecdsa-p256", fmt::format("cbcs-sim {} {}", p.id, ca_id),
                                       now, std::chrono::hours(24 * 365 * 3));
    ca_record ca{.id = ca_id};
    ca.key = crypto::parse_private_key(made.key_pem);
    ca.cert = std::move(crypto::parse_certificates(made.cert_pem).front());
    ca.cert_pem = made.cert_pem;
    p.cas.push_back(std::move(ca));
  }
  pools_.push_back(std::move(p));
}

sim_response gcpcas_sim::error(int code, std::string_view status, std::string_view message) const {
  return sim_response::json(code, google_error(code, status, message));
}

std::string gcpcas_sim::pool_name(const pool_record& p) const {
  return fmt::format("projects/{}/locations/{}/caPools/{}", options_.project, options_.location,
                     p.id);
}

gcpcas_sim::pool_record* gcpcas_sim::find_pool(std::string_view id) {
  for (auto& p : pools_)
    if (p.id == id) return &p;
  return nullptr;
}

std::optional<sim_response> gcpcas_sim::check_auth(const sim_request& r,
                                                   std::string_view permission,
                                                   const std::string& resource) {
  auto auth = r.header("Authorization");
  if (!auth.starts_with("Bearer "))
    return error(401, "UNAUTHENTICATED",
                 "Request is missing required authentication credential. Expected OAuth 2 access "
                 "token, login cookie or other valid authentication credential.");
  auto token = auth.substr(7);
  auto invalid = error(401, "UNAUTHENTICATED",
                       "Request had invalid authentication credentials. Expected OAuth 2 access "
                       "token, login cookie or other valid authentication credential.");
  if (auto it = tokens_.find(token); it != tokens_.end()) {
    if (steady::now() >= it->second) return invalid;
  } else {
    // A self-signed JWT (AIP-4111): Google's clients send one with a key file.
    auto jwt = crypto::split_jwt(token);
    if (!jwt || key_disabled_) return invalid;
    dom::parser hp, cp;
    auto header = parse_object(hp, jwt->header_json);
    auto claims = parse_object(cp, jwt->claims_json);
    if (!header || !claims || str_field(*header, "alg") != "RS256" ||
        !kid_matches(*header, key_id_) ||
        !crypto::verify_rs256(account_key_.get(), jwt->signing_input, jwt->signature))
      return invalid;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    auto iat = int_field(*claims, "iat"), exp = int_field(*claims, "exp");
    bool audience = str_field(*claims, "aud") == api_audience ||
                    str_field(*claims, "scope").find(cloud_platform) != std::string::npos;
    if (str_field(*claims, "iss") != client_email_ || !audience || !iat || !exp || *exp <= now ||
        *iat > now + 300 || *exp - *iat > 3600)
      return invalid;
    ++self_signed_jwts_;
  }
  if (!permission.empty() && !held_.count(std::string(permission)))
    return error(403, "PERMISSION_DENIED",
                 fmt::format("Permission '{}' denied on resource '//privateca.googleapis.com/{}' "
                             "(or it may not exist).",
                             permission, resource));
  return std::nullopt;
}

std::optional<sim_response> gcpcas_sim::check_parent(const sim_request& r) {
  if (r.param("project") == options_.project && r.param("location") == options_.location)
    return std::nullopt;
  return error(403, "PERMISSION_DENIED",
               fmt::format("Permission denied on resource project {} (or it may not exist).",
                           r.param("project")));
}

std::string gcpcas_sim::pool_json(const pool_record& p) const {
  return json_object{}.str("name", pool_name(p)).str("tier", p.tier).done();
}

std::string gcpcas_sim::ca_json(const pool_record& p, const ca_record& ca) const {
  return json_object{}
      .str("name", pool_name(p) + "/certificateAuthorities/" + ca.id)
      .str("type", "SELF_SIGNED")
      .str("state", ca.state)
      .str("tier", p.tier)
      .raw("pemCaCertificates", json_array{}.str(ca.cert_pem).done())
      .done();
}

std::string gcpcas_sim::certificate_json(const certificate_record& c) const {
  if (c.revocation.empty()) return c.json_base + "}";
  return c.json_base + ",\"revocationDetails\":" + c.revocation + "}";
}

sim_response gcpcas_sim::token(sim_request& r) {
  ++token_requests_;
  auto refuse = [&](std::string_view code, std::string_view description) {
    ++token_refusals_;
    return sim_response::json(
        400, json_object{}.str("error", code).str("error_description", description).done());
  };
  if (form_value(r.body, "grant_type") != jwt_bearer)
    return refuse("unsupported_grant_type",
                  "Invalid grant_type: " + form_value(r.body, "grant_type"));
  auto jwt = crypto::split_jwt(form_value(r.body, "assertion"));
  if (!jwt) return refuse("invalid_request", "Invalid JWT: not a compact JWS");
  dom::parser hp, cp;
  auto header = parse_object(hp, jwt->header_json);
  auto claims = parse_object(cp, jwt->claims_json);
  if (!header || !claims) return refuse("invalid_request", "Invalid JWT: not JSON");
  if (key_disabled_ || str_field(*header, "alg") != "RS256" || !kid_matches(*header, key_id_) ||
      !crypto::verify_rs256(account_key_.get(), jwt->signing_input, jwt->signature))
    return refuse("invalid_grant", "Invalid JWT Signature.");
  if (str_field(*claims, "iss") != client_email_)
    return refuse("invalid_grant", "Invalid email or User ID");
  auto aud = str_field(*claims, "aud");
  if (aud != token_url_ && aud != "https://oauth2.googleapis.com/token")
    return refuse("invalid_grant",
                  "Invalid JWT: Failed audience check. The right audience is " + token_url_);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto iat = int_field(*claims, "iat"), exp = int_field(*claims, "exp");
  if (!iat || !exp || *exp <= now || *iat > now + 300 || *exp - *iat > 3600)
    return refuse("invalid_grant", time_message);
  if (str_field(*claims, "scope").empty())
    return refuse("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  auto access = "ya29.sim-" + random_hex(24);
  tokens_[access] = steady::now() + std::chrono::seconds(options_.token_lifetime_s);
  return sim_response::json(200, json_object{}
                                     .str("access_token", access)
                                     .num("expires_in", options_.token_lifetime_s)
                                     .str("token_type", "Bearer")
                                     .done());
}

sim_response gcpcas_sim::list_pools(sim_request& r) {
  auto location = fmt::format("projects/{}/locations/{}", r.param("project"), r.param("location"));
  if (auto denied = check_auth(r, "privateca.caPools.list", location)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  json_array a;
  for (const auto& p : pools_) a.raw(pool_json(p));
  if (pools_.empty()) return sim_response::json(200, "{}");
  return sim_response::json(200, json_object{}.raw("caPools", a.done()).done());
}

sim_response gcpcas_sim::get_pool(sim_request& r) {
  auto name = fmt::format("projects/{}/locations/{}/caPools/{}", r.param("project"),
                          r.param("location"), r.param("pool"));
  if (auto denied = check_auth(r, "privateca.caPools.get", name)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  auto* p = find_pool(r.param("pool"));
  if (!p) return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", name));
  return sim_response::json(200, pool_json(*p));
}

sim_response gcpcas_sim::list_cas(sim_request& r) {
  auto name = fmt::format("projects/{}/locations/{}/caPools/{}", r.param("project"),
                          r.param("location"), r.param("pool"));
  if (auto denied = check_auth(r, "privateca.certificateAuthorities.list", name)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  auto* p = find_pool(r.param("pool"));
  if (!p) return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", name));
  json_array a;
  for (const auto& ca : p->cas) a.raw(ca_json(*p, ca));
  if (p->cas.empty()) return sim_response::json(200, "{}");
  return sim_response::json(200, json_object{}.raw("certificateAuthorities", a.done()).done());
}

sim_response gcpcas_sim::list_templates(sim_request& r) {
  auto location = fmt::format("projects/{}/locations/{}", r.param("project"), r.param("location"));
  if (auto denied = check_auth(r, "privateca.certificateTemplates.list", location)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  json_array a;
  for (const auto& t : templates_)
    a.raw(json_object{}.str("name", location + "/certificateTemplates/" + t).done());
  return sim_response::json(200, json_object{}.raw("certificateTemplates", a.done()).done());
}

sim_response gcpcas_sim::test_permissions(sim_request& r) {
  auto name = fmt::format("projects/{}/locations/{}/caPools/{}", r.param("project"),
                          r.param("location"), r.param("pool"));
  if (auto denied = check_auth(r, "", name)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  if (!find_pool(r.param("pool")))
    return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", name));
  dom::parser parser;
  auto body = parse_object(parser, r.body);
  dom::array asked;
  if (!body || (*body)["permissions"].get_array().get(asked))
    return error(400, "INVALID_ARGUMENT", "permissions: a list of permission names is required");
  json_array held;
  bool any = false;
  for (auto p : asked) {
    std::string_view s;
    if (p.get_string().get(s))
      return error(400, "INVALID_ARGUMENT", "permissions: each one is a string");
    if (s.find_first_of("*") != std::string_view::npos)
      return error(400, "INVALID_ARGUMENT",
                   "Permissions with wildcards (such as '*') are not allowed in this API.");
    if (held_.count(std::string(s))) {
      held.str(s);
      any = true;
    }
  }
  // Like Google: the key is absent when none is held.
  return sim_response::json(200, any ? json_object{}.raw("permissions", held.done()).done() : "{}");
}

sim_response gcpcas_sim::create(sim_request& r) {
  auto parent = fmt::format("projects/{}/locations/{}/caPools/{}", r.param("project"),
                            r.param("location"), r.param("pool"));
  if (auto denied = check_auth(r, "privateca.certificates.create", parent)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  auto* pool = find_pool(r.param("pool"));
  if (!pool) return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", parent));
  auto request_id = r.query_param("requestId").value_or("");
  if (!request_id.empty() && !is_uuid(request_id))
    return error(400, "INVALID_ARGUMENT",
                 "request_id: The request ID must be a valid UUID with the exception that zero "
                 "UUID is not supported (00000000-0000-0000-0000-000000000000).");
  if (auto it = request_ids_.find("create " + request_id);
      !request_id.empty() && it != request_ids_.end()) {
    ++deduplicated_;
    return sim_response::json(200, it->second);
  }
  bool enterprise = pool->tier == "ENTERPRISE";
  auto certificate_id = r.query_param("certificateId").value_or("");
  if (enterprise && certificate_id.empty())
    return error(400, "INVALID_ARGUMENT",
                 "certificate_id is required for certificates in an Enterprise tier CA Pool");
  if (!certificate_id.empty() && !is_certificate_id(certificate_id))
    return error(400, "INVALID_ARGUMENT",
                 "certificate_id: must match the regular expression [a-zA-Z0-9_-]{1,63}");
  auto name = parent + "/certificates/" + certificate_id;
  if (enterprise && certificates_.count(name))
    return error(409, "ALREADY_EXISTS", fmt::format("Resource '{}' already exists", name));

  dom::parser parser;
  auto body = parse_object(parser, r.body);
  if (!body) return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  auto pem_csr = str_field(*body, "pemCsr");
  if (pem_csr.empty()) return error(400, "INVALID_ARGUMENT", "certificate.pem_csr is required");
  std::optional<crypto::certificate_request> csr;
  try {
    csr.emplace(crypto::check_certificate_request(pem_csr));
  } catch (const std::exception& e) {
    return error(400, "INVALID_ARGUMENT", std::string("certificate.pem_csr: ") + e.what());
  }
  auto lifetime_text = str_field(*body, "lifetime");
  auto lifetime = parse_duration(lifetime_text);
  if (!lifetime || lifetime->count() <= 0)
    return error(400, "INVALID_ARGUMENT",
                 "certificate.lifetime is required: a duration in seconds such as \"2592000s\"");
  auto template_name = str_field(*body, "certificateTemplate");
  if (!template_name.empty()) {
    auto prefix = fmt::format("projects/{}/locations/{}/certificateTemplates/", options_.project,
                              options_.location);
    if (!template_name.starts_with(prefix))
      return error(400, "INVALID_ARGUMENT",
                   "certificate.certificate_template: must be a certificate template name in "
                   "the CA pool's location");
    if (auto denied = check_auth(r, "privateca.certificateTemplates.use", template_name))
      return *denied;
    if (!templates_.count(template_name.substr(prefix.size())))
      return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", template_name));
  }
  json_object labels;
  dom::object label_object;
  if (!(*body)["labels"].get_object().get(label_object)) {
    for (auto [k, v] : label_object) {
      std::string_view value;
      if (v.get_string().get(value) || !is_label(k, true) || !is_label(value, false))
        return error(400, "INVALID_ARGUMENT",
                     "labels: keys start with a lower-case letter; keys and values hold "
                     "lower-case letters, digits, '_' and '-', at most 63 characters");
      labels.str(k, value);
    }
  }
  // The CA: the one asked for, else the pool's enabled ones in turn.
  ca_record* ca = nullptr;
  if (auto wanted = r.query_param("issuingCertificateAuthorityId")) {
    for (auto& c : pool->cas)
      if (c.id == *wanted) ca = &c;
    if (!ca)
      return error(
          404, "NOT_FOUND",
          fmt::format("Resource '{}/certificateAuthorities/{}' was not found", parent, *wanted));
  } else {
    for (std::size_t i = 0; i < pool->cas.size() && !ca; ++i) {
      auto& c = pool->cas[(pool->next_ca + i) % pool->cas.size()];
      if (c.state == "ENABLED") {
        ca = &c;
        pool->next_ca = (pool->next_ca + i + 1) % pool->cas.size();
      }
    }
  }
  if (!ca || ca->state != "ENABLED")
    return error(400, "FAILED_PRECONDITION", "There are no enabled CAs in the CA Pool " + parent);
  auto now = steady::now();
  while (!ca->creates.empty() && now - ca->creates.front() >= std::chrono::seconds(1))
    ca->creates.pop_front();
  if (creates_per_second_ > 0 &&
      static_cast<std::int64_t>(ca->creates.size()) >= creates_per_second_) {
    ++quota_refusals_;
    return error(429, "RESOURCE_EXHAUSTED",
                 "Quota exceeded for quota metric 'Certificate create requests' and limit "
                 "'Certificate create requests per second per CA' of service "
                 "'privateca.googleapis.com'.");
  }
  ca->creates.push_back(now);

  auto issued_at = std::chrono::system_clock::now();
  crypto::certificate_issuer issuer(ca->key.get(), ca->cert.get());
  auto serial_bytes = fresh_serial();
  if (!next_serials_.empty()) {
    serial_bytes = next_serials_.front();
    next_serials_.pop_front();
  }
  auto issued = issuer.issue(*csr, {serial_bytes, issued_at, *lifetime});
  // "The serial number encoded in lowercase hexadecimal" (privateca v1
  // SubjectDescription.hexSerialNumber); Google writes Go's %x of the
  // integer, without a leading zero digit ("adcbe3b", not "0adcbe3b").
  auto hex_serial = crypto::serial_number::from_text(issued.serial_hex).hex_minimal();
  auto not_after = crypto::not_after(crypto::parse_certificates(issued.pem).front().get());
  ++created_;
  json_object c;
  if (enterprise) c.str("name", name);
  c.str("pemCsr", pem_csr)
      .str("lifetime", fmt::format("{}s", lifetime->count()))
      .str("issuerCertificateAuthority", parent + "/certificateAuthorities/" + ca->id)
      .str("pemCertificate", issued.pem)
      .raw("pemCertificateChain", json_array{}.str(ca->cert_pem).done())
      .raw(
          "certificateDescription",
          json_object{}
              .raw("subjectDescription", json_object{}
                                             .str("hexSerialNumber", hex_serial)
                                             .str("lifetime", fmt::format("{}s", lifetime->count()))
                                             .str("notBeforeTime", rfc3339(issued_at))
                                             .str("notAfterTime", rfc3339(not_after))
                                             .done())
              .done())
      .str("createTime", rfc3339(issued_at))
      .str("updateTime", rfc3339(issued_at))
      .raw("labels", labels.done());
  if (!template_name.empty()) c.str("certificateTemplate", template_name);
  auto text = c.done();
  certificate_record record{name, text.substr(0, text.size() - 1), hex_serial, ""};
  // DevOps pools keep no certificates (no get, no revoke).
  if (enterprise) certificates_[name] = record;
  if (!request_id.empty()) request_ids_["create " + request_id] = text;
  return sim_response::json(200, text);
}

sim_response gcpcas_sim::get_certificate(sim_request& r) {
  auto name = fmt::format("projects/{}/locations/{}/caPools/{}/certificates/{}", r.param("project"),
                          r.param("location"), r.param("pool"), r.param("id"));
  if (auto denied = check_auth(r, "privateca.certificates.get", name)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  auto it = certificates_.find(name);
  if (it == certificates_.end())
    return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", name));
  return sim_response::json(200, certificate_json(it->second));
}

sim_response gcpcas_sim::list_certificates(sim_request& r) {
  auto parent = fmt::format("projects/{}/locations/{}/caPools/{}", r.param("project"),
                            r.param("location"), r.param("pool"));
  if (auto denied = check_auth(r, "privateca.certificates.list", parent)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  // Only the filter the connector uses: by serial number, terms joined by
  // OR (AIP-160). A string compares exactly, as CA Service's does: an
  // upper-case or zero-padded serial finds nothing.
  auto filter = r.query_param("filter").value_or("");
  std::vector<std::string> serials;
  constexpr std::string_view serial_field =
      "certificate_description.subject_description.hex_serial_number";
  if (!filter.empty()) {
    std::string_view rest = filter;
    while (true) {
      auto or_at = rest.find(" OR ");
      std::string term;
      for (char ch : rest.substr(0, or_at))
        if (ch != ' ') term += ch;
      auto prefix = std::string(serial_field) + "=\"";
      if (!term.starts_with(prefix) || !term.ends_with("\"") || term.size() < prefix.size() + 2)
        return error(
            400, "INVALID_ARGUMENT",
            "filter: this simulator knows " + std::string(serial_field) + "=\"HEX\" [OR ...] only");
      serials.push_back(term.substr(prefix.size(), term.size() - prefix.size() - 1));
      if (or_at == std::string_view::npos) break;
      rest.remove_prefix(or_at + 4);
    }
  }
  json_array a;
  bool any = false;
  for (const auto& [n, c] : certificates_) {
    if (!n.starts_with(parent + "/")) continue;
    if (!serials.empty() &&
        std::find(serials.begin(), serials.end(), c.serial_hex) == serials.end())
      continue;
    a.raw(certificate_json(c));
    any = true;
  }
  return sim_response::json(200, any ? json_object{}.raw("certificates", a.done()).done() : "{}");
}

sim_response gcpcas_sim::revoke(sim_request& r) {
  auto name = fmt::format("projects/{}/locations/{}/caPools/{}/certificates/{}", r.param("project"),
                          r.param("location"), r.param("pool"), r.param("id"));
  if (auto denied = check_auth(r, "privateca.certificates.update", name)) return *denied;
  if (auto bad = check_parent(r)) return *bad;
  dom::parser parser;
  auto body = parse_object(parser, r.body);
  if (!body) return error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
  auto request_id = str_field(*body, "requestId");
  if (!request_id.empty() && !is_uuid(request_id))
    return error(400, "INVALID_ARGUMENT", "request_id: The request ID must be a valid UUID");
  if (auto it = request_ids_.find("revoke " + request_id);
      !request_id.empty() && it != request_ids_.end()) {
    ++deduplicated_;
    return sim_response::json(200, it->second);
  }
  static const std::set<std::string, std::less<>> reasons = {"REVOCATION_REASON_UNSPECIFIED",
                                                             "KEY_COMPROMISE",
                                                             "CERTIFICATE_AUTHORITY_COMPROMISE",
                                                             "AFFILIATION_CHANGED",
                                                             "SUPERSEDED",
                                                             "CESSATION_OF_OPERATION",
                                                             "CERTIFICATE_HOLD",
                                                             "PRIVILEGE_WITHDRAWN",
                                                             "ATTRIBUTE_AUTHORITY_COMPROMISE"};
  // proto3 JSON: an enum by name or by number (Google's Node client in REST
  // fallback asks for enum-encoding=int).
  static const std::array<std::string_view, 9> by_number = {"REVOCATION_REASON_UNSPECIFIED",
                                                            "KEY_COMPROMISE",
                                                            "CERTIFICATE_AUTHORITY_COMPROMISE",
                                                            "AFFILIATION_CHANGED",
                                                            "SUPERSEDED",
                                                            "CESSATION_OF_OPERATION",
                                                            "CERTIFICATE_HOLD",
                                                            "PRIVILEGE_WITHDRAWN",
                                                            "ATTRIBUTE_AUTHORITY_COMPROMISE"};
  auto reason = str_field(*body, "reason");
  if (auto n = int_field(*body, "reason"))
    reason = *n >= 0 && *n < 9 ? std::string(by_number[static_cast<std::size_t>(*n)])
                               : std::to_string(*n);
  if (reason.empty()) reason = "REVOCATION_REASON_UNSPECIFIED";
  if (!reasons.count(reason))
    return error(400, "INVALID_ARGUMENT",
                 fmt::format("Invalid value at 'reason' (type.googleapis.com/"
                             "google.cloud.security.privateca.v1.RevocationReason), \"{}\"",
                             reason));
  auto it = certificates_.find(name);
  if (it == certificates_.end())
    return error(404, "NOT_FOUND", fmt::format("Resource '{}' was not found", name));
  if (!it->second.revocation.empty())
    return error(400, "FAILED_PRECONDITION",
                 fmt::format("Certificate '{}' is already revoked", name));
  it->second.revocation = json_object{}
                              .str("revocationState", reason)
                              .str("revocationTime", rfc3339(std::chrono::system_clock::now()))
                              .done();
  auto text = certificate_json(it->second);
  if (!request_id.empty()) request_ids_["revoke " + request_id] = text;
  return sim_response::json(200, text);
}

sim_response gcpcas_sim::admin_pools(sim_request& r) {
  if (iequal(r.method, "GET")) {
    json_array a;
    for (const auto& p : pools_) {
      json_array cas;
      for (const auto& ca : p.cas) cas.raw(ca_json(p, ca));
      a.raw(json_object{}.str("id", p.id).str("tier", p.tier).raw("cas", cas.done()).done());
    }
    return sim_response::json(200, a.done());
  }
  dom::parser parser;
  auto body = parse_object(parser, r.body);
  if (!body) return sim_response::json(400, R"({"error":"a JSON object {id, tier, cas}"})");
  auto id = str_field(*body, "id");
  auto tier = str_field(*body, "tier");
  if (tier.empty()) tier = "ENTERPRISE";
  if (id.empty() || (tier != "ENTERPRISE" && tier != "DEVOPS"))
    return sim_response::json(400, R"({"error":"id is required; tier is ENTERPRISE or DEVOPS"})");
  std::vector<std::string> cas;
  dom::array list;
  if (!(*body)["cas"].get_array().get(list))
    for (auto c : list) {
      std::string_view s;
      if (!c.get_string().get(s)) cas.emplace_back(s);
    }
  bool replace_all = false;
  if ((*body)["replace"].get_bool().get(replace_all)) replace_all = false;
  if (replace_all) pools_.clear();
  add_pool(id, tier, cas);
  return sim_response::json(200, pool_json(*find_pool(id)));
}

sim_response gcpcas_sim::admin_permissions(sim_request& r) {
  if (!iequal(r.method, "GET")) {
    dom::parser parser;
    auto body = parse_object(parser, r.body);
    dom::array list;
    if (!body || (*body)["permissions"].get_array().get(list))
      return sim_response::json(400, R"({"error":"{\"permissions\": [names]}"})");
    held_.clear();
    for (auto p : list) {
      std::string_view s;
      if (!p.get_string().get(s)) held_.emplace(s);
    }
  }
  json_array a;
  for (const auto& p : held_) a.str(p);
  return sim_response::json(200, json_object{}.raw("permissions", a.done()).done());
}

sim_response gcpcas_sim::admin_stats(sim_request&) {
  std::int64_t revoked = 0;
  for (const auto& [n, c] : certificates_) revoked += c.revocation.empty() ? 0 : 1;
  return sim_response::json(
      200, json_object{}
               .num("token_requests", token_requests_)
               .num("token_refusals", token_refusals_)
               .num("self_signed_jwts", self_signed_jwts_)
               .num("certificates_created", created_)
               .num("certificates_stored", static_cast<std::int64_t>(certificates_.size()))
               .num("certificates_revoked", revoked)
               .num("deduplicated", deduplicated_)
               .num("quota_refusals", quota_refusals_)
               .num("access_tokens", static_cast<std::int64_t>(tokens_.size()))
               .done());
}

void gcpcas_sim::install(sim_server& server) {
  server.set_error_body([](int status, std::string_view message) {
    return google_error(status, status_name(status), message);
  });
  server.on_reset([this] { reset(); });
  auto& routes = server.routes();
  auto bind = [this](sim_response (gcpcas_sim::*f)(sim_request&)) {
    return [this, f](sim_request& r) { return (this->*f)(r); };
  };
  const std::string loc = "/v1/projects/{project}/locations/{location}";
  routes.add("POST", "/token", bind(&gcpcas_sim::token));
  routes.add("GET", loc + "/caPools", bind(&gcpcas_sim::list_pools));
  routes.add("POST", loc + "/caPools/{pool}:testIamPermissions",
             bind(&gcpcas_sim::test_permissions));
  routes.add("GET", loc + "/caPools/{pool}", bind(&gcpcas_sim::get_pool));
  routes.add("GET", loc + "/caPools/{pool}/certificateAuthorities", bind(&gcpcas_sim::list_cas));
  routes.add("POST", loc + "/caPools/{pool}/certificates", bind(&gcpcas_sim::create));
  routes.add("GET", loc + "/caPools/{pool}/certificates", bind(&gcpcas_sim::list_certificates));
  routes.add("POST", loc + "/caPools/{pool}/certificates/{id}:revoke", bind(&gcpcas_sim::revoke));
  routes.add("GET", loc + "/caPools/{pool}/certificates/{id}", bind(&gcpcas_sim::get_certificate));
  routes.add("GET", loc + "/certificateTemplates", bind(&gcpcas_sim::list_templates));

  auto& admin = server.admin_routes();
  admin.add("GET", "/pools", bind(&gcpcas_sim::admin_pools));
  admin.add("POST", "/pools", bind(&gcpcas_sim::admin_pools));
  admin.add("GET", "/permissions", bind(&gcpcas_sim::admin_permissions));
  admin.add("PUT", "/permissions", bind(&gcpcas_sim::admin_permissions));
  admin.add("GET", "/stats", bind(&gcpcas_sim::admin_stats));
  admin.add("PUT", "/quota", [this](sim_request& r) {
    dom::parser parser;
    auto body = parse_object(parser, r.body);
    auto n = body ? int_field(*body, "creates_per_second") : std::nullopt;
    if (!n || *n < 0) return sim_response::json(400, R"({"error":"{\"creates_per_second\": N}"})");
    creates_per_second_ = *n;
    return sim_response::json(200, json_object{}.num("creates_per_second", *n).done());
  });
  // The serials the next certificates get, in hex (a leading zero digit
  // is the case to test): {"next": ["0adcbe3b..."]}.
  admin.add("PUT", "/serials", [this](sim_request& r) {
    dom::parser parser;
    auto body = parse_object(parser, r.body);
    dom::array list;
    if (!body || (*body)["next"].get_array().get(list))
      return sim_response::json(400, R"({"error":"{\"next\": [HEX, ...]}"})");
    for (auto item : list) {
      std::string_view hex;
      auto serial = item.get_string().get(hex) ? std::nullopt : crypto::serial_number::parse(hex);
      if (!serial) return sim_response::json(400, R"({"error":"not a hex serial"})");
      next_serials_.push_back(serial->value());
    }
    return sim_response::json(
        200, json_object{}.num("queued", static_cast<std::int64_t>(next_serials_.size())).done());
  });
  admin.add("POST", "/tokens/expire", [this](sim_request&) {
    for (auto& [t, expiry] : tokens_) expiry = steady::now();
    return sim_response::json(
        200, json_object{}.num("expired", static_cast<std::int64_t>(tokens_.size())).done());
  });
  admin.add("PUT", "/key", [this](sim_request& r) {
    dom::parser parser;
    auto body = parse_object(parser, r.body);
    bool disabled = false;
    if (!body || (*body)["disabled"].get_bool().get(disabled))
      return sim_response::json(400, R"({"error":"{\"disabled\": true|false}"})");
    key_disabled_ = disabled;
    return sim_response::json(200, json_object{}.boolean("disabled", disabled).done());
  });
}

void gcpcas_sim::on_listening(std::uint16_t port) {
  token_url_ = fmt::format("https://127.0.0.1:{}/token", port);
  key_file_ = (fs::path(state_dir_) / "service-account.json").string();
  write_file(key_file_, json_object{}
                            .str("type", "service_account")
                            .str("project_id", options_.project)
                            .str("private_key_id", key_id_)
                            .str("private_key", crypto::private_key_to_pem(account_key_.get()))
                            .str("client_email", client_email_)
                            .str("client_id", "100000000000000000001")
                            .str("auth_uri", "https://accounts.google.com/o/oauth2/auth")
                            .str("token_uri", token_url_)
                            .str("universe_domain", "googleapis.com")
                            .done());
}

int run(int argc, char** argv) {
  constexpr std::string_view usage =
      "usage: cbcs-sim gcpcas --state-dir DIR [--port 0] [--admin-port 0] [--project P] "
      "[--location L] [--token-lifetime SECONDS]\n";
  try {
    sim_args args(argc, argv,
                  {"state-dir", "port", "admin-port", "project", "location", "token-lifetime"});
    if (args.help()) {
      fmt::print("{}", usage);
      return 0;
    }
    if (!args.has("state-dir")) throw std::invalid_argument("--state-dir is required");
    gcpcas_options options;
    options.project = args.get("project", options.project);
    options.location = args.get("location", options.location);
    options.token_lifetime_s = args.number("token-lifetime", 3600, 1, 86400);
    auto port = static_cast<std::uint16_t>(args.number("port", 0, 0, 65535));
    auto admin_port = static_cast<std::uint16_t>(args.number("admin-port", 0, 0, 65535));
    try {
      sim_pki pki(args.get("state-dir"), "gcpcas", "cbcs-sim Google CA Service TLS");
      gcpcas_sim sim(args.get("state-dir"), options, pki);
      sim_server server(pki, {.name = "gcpcas", .port = port, .admin_port = admin_port});
      sim.install(server);
      server.run([&](std::uint16_t p, std::uint16_t a) {
        sim.on_listening(p);
        print_ready_line(ready_line(p, a, pki)
                             .str("key_file", sim.key_file())
                             .str("project", options.project)
                             .str("location", options.location));
      });
    } catch (const std::exception& e) {
      fmt::print(stderr, "cbcs-sim gcpcas: {}\n", e.what());
      return 1;
    }
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "cbcs-sim gcpcas: {}\n{}", e.what(), usage);
    return 2;
  }
  return 0;
}

// cbcs-sim gcpcas (common/sim_command.hpp).
namespace {
const sim_command_registration registration{
    {"gcpcas", "Google Cloud CA Service (privateca v1, REST) and its OAuth token service", run}};
}  // namespace

}  // namespace cbcs::sim::gcpcas
