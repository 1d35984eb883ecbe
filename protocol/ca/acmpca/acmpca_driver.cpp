#include "protocol/ca/acmpca/acmpca_driver.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>
#include <vector>

#include <simdjson.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/pem.hpp"
#include "crypto/per_thread.hpp"
#include "crypto/serial_number.hpp"
#include "crypto/sigv4.hpp"
#include "protocol/ca/acmpca/instance_role.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"
#include "protocol/common/xml.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::system_clock;

constexpr std::string_view service_name = "acm-pca";
constexpr std::string_view target_prefix = "ACMPrivateCA.";
constexpr std::string_view content_type = "application/x-amz-json-1.1";
// botocore's waiter for GetCertificate polls every second.
constexpr std::chrono::milliseconds poll_interval = 1s;
constexpr std::int64_t default_validity_days = 30;
// ListCertificateAuthorities returns at most 100 per page; bound the walk.
constexpr int max_list_pages = 1000;
// Real AWS error codes are short identifiers; a longer one is cut.
constexpr std::size_t max_error_code = 128;

const std::array<std::string_view, 10> signing_algorithms = {
    "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA", "SHA256WITHRSA", "SHA384WITHRSA",
    "SHA512WITHRSA",   "SM3WITHSM2",      "ML_DSA_44",       "ML_DSA_65",     "ML_DSA_87"};

// The error code as AWS names it ("com.amazonaws.acmpca#ResourceNotFoundException:http://...")
// reduced to the bare name. It goes into messages and backend_code, so it must
// be an identifier: anything else is not a code we can read ("").
std::string strip_error_code(std::string_view code) {
  if (auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  if (auto hash = code.find('#'); hash != std::string_view::npos) code = code.substr(hash + 1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.front())))
    code.remove_prefix(1);
  while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back())))
    code.remove_suffix(1);
  bool identifier = std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (!identifier) return {};
  return std::string(code.substr(0, max_error_code));
}

// RFC 5280 codes to AWS's RevocationReason; AWS has no hold (6, 8).
constexpr std::array<reason_word, 8> reasons{{
    {0, "UNSPECIFIED"},
    {1, "KEY_COMPROMISE"},
    {2, "CERTIFICATE_AUTHORITY_COMPROMISE"},
    {3, "AFFILIATION_CHANGED"},
    {4, "SUPERSEDED"},
    {5, "CESSATION_OF_OPERATION"},
    {9, "PRIVILEGE_WITHDRAWN"},
    {10, "A_A_COMPROMISE"},
}};

bool contains(std::initializer_list<std::string_view> set, std::string_view code) {
  return std::find(set.begin(), set.end(), code) != set.end();
}

// The backend's settings, resolved once per driver.
struct backend {
  std::string name;
  std::string problem;  // non-empty: misconfigured, every job fails with this
  std::string url;      // ends with '/'
  std::string host;     // the Host header: authority without a default port
  std::string path;     // the URL's path, "/" normally
  std::string region;
  std::string default_ca_arn;
  crypto::sigv4::credentials creds;  // static keys
  std::string imds_endpoint;         // non-empty: the instance role's keys instead
};

std::shared_ptr<const backend> resolve(const driver_config& config) {
  auto b = std::make_shared<backend>();
  b->name = config.name;
  b->region = setting(config.settings, "region");
  b->default_ca_arn = setting(config.settings, "ca_arn");
  auto source = setting(config.settings, "credentials");
  if (!source.empty() && source != "static" && source != "instance") {
    b->problem = "backend '" + config.name + "': credentials must be static or instance";
    return b;
  }
  if (source == "instance") {
    b->imds_endpoint = setting(config.settings, "imds_endpoint");
    if (b->imds_endpoint.empty()) b->imds_endpoint = default_imds_endpoint;
  } else {
    b->creds.access_key_id = setting(config.settings, "accesskeyid");
    b->creds.secret_access_key = setting(config.secrets, "secretaccesskey");
    if (auto token = setting(config.secrets, "sessiontoken"); !token.empty())
      b->creds.session_token = token;
  }
  auto fips = setting(config.settings, "fips");
  std::vector<std::string> missing;
  if (b->imds_endpoint.empty()) {
    if (b->creds.access_key_id.empty()) missing.emplace_back("accesskeyid");
    if (b->creds.secret_access_key.empty()) missing.emplace_back("secretaccesskey");
  }
  if (b->region.empty()) missing.emplace_back("region");
  if (!missing.empty()) {
    b->problem = "backend '" + config.name + "' is missing the setting";
    for (std::size_t i = 0; i < missing.size(); ++i)
      b->problem += (i == 0 ? " " : ", ") + missing[i];
    return b;
  }
  if (!fips.empty() && fips != "true" && fips != "false") {
    b->problem = "backend '" + config.name + "': fips must be true or false";
    return b;
  }
  b->url = endpoint_url(config);
  auto scheme_end = b->url.find("://");
  if (scheme_end == std::string::npos) {
    b->problem = "backend '" + config.name + "': endpoint is not a URL";
    return b;
  }
  auto scheme = b->url.substr(0, scheme_end);
  auto rest = b->url.substr(scheme_end + 3);
  auto slash = rest.find('/');
  b->host = rest.substr(0, slash);
  b->path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (b->host.empty() || b->host.find_first_of("?#@") != std::string::npos) {
    b->problem = "backend '" + config.name + "': endpoint has no usable host";
    return b;
  }
  // HTTP clients leave a default port out of Host; sign what goes on the wire.
  std::string default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && b->host.ends_with(default_port))
    b->host.resize(b->host.size() - default_port.size());
  return b;
}

// Summary of one CA for the inventory report.
struct ca_entry {
  std::string arn;
  std::string type;
  std::string status;
  std::string key_algorithm;
  std::string signing_algorithm;
  std::string subject;
  std::optional<std::int64_t> not_after;
  std::string error;
};

std::string subject_from_config(simdjson::dom::element subject) {
  // RFC 2253 order (most specific first), like crypto::subject_line.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> parts{{
      {"CommonName", "CN"},
      {"OrganizationalUnit", "OU"},
      {"Organization", "O"},
      {"Locality", "L"},
      {"State", "ST"},
      {"Country", "C"},
      {"SerialNumber", "serialNumber"},
  }};
  std::string out;
  json_fields fields(subject, {});
  for (auto [field, abbrev] : parts) {
    auto v = fields.maybe_str(field);
    if (!v || v->empty()) continue;
    if (!out.empty()) out += ',';
    out += std::string(abbrev) + "=" + *v;
  }
  return out;
}

class session final : public http_session {
 public:
  session(std::shared_ptr<const backend> b, std::shared_ptr<instance_role> role, job j,
          std::string resume)
      : backend_(std::move(b)),
        role_(std::move(role)),
        job_(std::move(j)),
        cert_arn_(std::move(resume)) {}

  std::string resume_token() const override { return cert_arn_; }

 private:
  step begin() override {
    if (!backend_->problem.empty())
      return outcome::failed(error_class::invalid_request, backend_->problem);
    return start();
  }

  // Every call here is safe to repeat (IssueCertificate carries the same
  // IdempotencyToken): the last one goes again, signed anew.
  step again() override {
    // The metadata service did not answer: while the keys held are still
    // good, a refresh can wait.
    if (fetch_ && role_->usable(now())) return fall_back_to_held_keys();
    if (fetch_) return fetch_->again();
    return request(last_op_, last_body_, last_rate_class_);
  }

  step on_answer(const http_response& r) override {
    if (fetch_) return on_fetch_answer(r);
    return on_response(r);
  }

  enum class state { start, describe, issue, get, revoke, list, ca_describe, ca_certificate };

  // --- Starting

  step start() {
    switch (job_.op) {
      case operation::enroll:
      case operation::renew:
        return start_issue();
      case operation::revoke:
        return start_revoke();
      case operation::inventory:
      case operation::test:
        return list_authorities();
    }
    return internal("unknown operation");
  }

  step start_issue() {
    if (!cert_arn_.empty()) {
      // A previous run issued already: fetch, never issue again.
      if (!cert_arn_.starts_with("arn:"))
        return internal("the resume token is not a certificate ARN");
      auto cut = cert_arn_.find("/certificate/");
      ca_arn_ = cut == std::string::npos ? job_ca_arn() : cert_arn_.substr(0, cut);
      if (ca_arn_.empty()) return no_ca_arn();
      return get_certificate();
    }
    ca_arn_ = job_ca_arn();
    if (ca_arn_.empty()) return no_ca_arn();
    if (job_.csr_pem.empty())
      return outcome::failed(error_class::invalid_request, "the job has no CSR");
    if (job_.validity_seconds < 0)
      return outcome::failed(error_class::invalid_request, "validity must not be negative");
    if (auto it = job_.params.find("signing_algorithm"); it != job_.params.end()) {
      if (std::find(signing_algorithms.begin(), signing_algorithms.end(), it->second) ==
          signing_algorithms.end())
        return outcome::failed(error_class::invalid_request,
                               "signing_algorithm must be one of SHA256WITHECDSA, "
                               "SHA384WITHECDSA, SHA512WITHECDSA, SHA256WITHRSA, "
                               "SHA384WITHRSA, SHA512WITHRSA, SM3WITHSM2, ML_DSA_44, "
                               "ML_DSA_65, ML_DSA_87");
      signing_algorithm_ = it->second;
      return issue_certificate();
    }
    return describe(state::describe, ca_arn_);
  }

  step start_revoke() {
    ca_arn_ = job_ca_arn();
    if (ca_arn_.empty()) return no_ca_arn();
    auto serial = aws_serial(job_.serial_hex);
    if (!serial)
      return outcome::failed(error_class::invalid_request,
                             "the job's serial is missing or not hexadecimal");
    serial_ = *serial;
    auto reason = revocation_reason(job_.reason);
    if (!reason) {
      if (iequals(job_.reason, "certificateHold") || iequals(job_.reason, "removeFromCRL"))
        return outcome::failed(
            error_class::invalid_request,
            "AWS Private CA cannot put a certificate on hold or take it off hold (reason " +
                one_line(job_.reason) + "); revoke with a final reason instead");
      return outcome::failed(error_class::invalid_request,
                             map_revocation_reason(job_.reason, reasons, "AWS Private CA").error);
    }
    reason_ = *reason;
    return revoke_certificate();
  }

  // --- Requests

  // The call, signed; or first a fetch of the instance role's keys, after
  // which on_fetch_answer() comes back here with the same call.
  step request(std::string op, std::string body, std::string rate_class) {
    last_op_ = op;
    last_body_ = body;
    last_rate_class_ = rate_class;
    const auto* keys = role_ ? role_->keys(now()) : &backend_->creds;
    if (!keys) {
      // Another session fetches them already: one fetch serves every job.
      if (role_->fetching()) return await_fetch{"the instance role's keys"};
      fetch_.emplace(*role_);
      return fetch_->start(now());
    }
    if (role_) signed_with_ = keys->access_key_id;  // static keys are never refetched
    crypto::sigv4::request req;
    req.method = "POST";
    req.path = backend_->path;
    req.headers = {{"Host", backend_->host},
                   {"Content-Type", std::string(content_type)},
                   {"X-Amz-Target", std::string(target_prefix) + op}};
    req.body = std::move(body);
    crypto::sigv4::options opts{
        .region = backend_->region, .service = std::string(service_name), .timestamp = now()};
    auto sig = crypto::sigv4::sign(req, *keys, opts);
    http_request out;
    out.method = "POST";
    out.url = backend_->url;
    for (auto& [name, value] : req.headers) out.headers.push_back({name, value});
    for (auto& [name, value] : sig.headers_to_add) out.headers.push_back({name, value});
    out.headers.push_back({"Authorization", sig.authorization});
    out.body = std::move(req.body);
    out.rate_class = std::move(rate_class);
    return out;
  }

  step on_fetch_answer(const http_response& r) {
    auto next = fetch_->on_answer(r, now());
    if (auto* more = std::get_if<http_request>(&next)) return std::move(*more);
    if (auto* failed = std::get_if<outcome>(&next)) {
      if (role_->usable(now())) return fall_back_to_held_keys();
      failed->message = scrub(std::move(failed->message));
      if (!failed->retryable) fetch_.reset();
      return std::move(*failed);
    }
    fetch_.reset();
    return request(last_op_, last_body_, last_rate_class_);
  }

  step fall_back_to_held_keys() {
    role_->postpone_refresh(now());
    fetch_.reset();
    return request(last_op_, last_body_, last_rate_class_);
  }

  step describe(state next_state, const std::string& arn) {
    state_ = next_state;
    json_writer w(false);
    w.begin_object().member("CertificateAuthorityArn", arn).end_object();
    return request("DescribeCertificateAuthority", w.str(), "describe");
  }

  step issue_certificate() {
    state_ = state::issue;
    std::int64_t days = default_validity_days;
    if (job_.validity_seconds > 0) days = (job_.validity_seconds + 86399) / 86400;
    json_writer w(false);
    w.begin_object()
        .member("CertificateAuthorityArn", ca_arn_)
        .member("Csr", crypto::base64_encode(crypto::as_bytes(job_.csr_pem)))
        .member("SigningAlgorithm", signing_algorithm_)
        .key("Validity")
        .begin_object()
        .member("Type", "DAYS")
        .member("Value", days)
        .end_object();
    if (!job_.profile.empty()) w.member("TemplateArn", job_.profile);
    w.member("IdempotencyToken", idempotency_token(job_.id)).end_object();
    return request("IssueCertificate", w.str(), "issue");
  }

  step get_certificate() {
    state_ = state::get;
    json_writer w(false);
    w.begin_object()
        .member("CertificateAuthorityArn", ca_arn_)
        .member("CertificateArn", cert_arn_)
        .end_object();
    return request("GetCertificate", w.str(), "get");
  }

  step revoke_certificate() {
    state_ = state::revoke;
    json_writer w(false);
    w.begin_object()
        .member("CertificateAuthorityArn", ca_arn_)
        .member("CertificateSerial", serial_)
        .member("RevocationReason", reason_)
        .end_object();
    return request("RevokeCertificate", w.str(), "revoke");
  }

  step list_authorities() {
    state_ = state::list;
    json_writer w(false);
    w.begin_object().member("MaxResults", 100);
    if (!next_token_.empty()) w.member("NextToken", next_token_);
    w.end_object();
    return request("ListCertificateAuthorities", w.str(), "describe");
  }

  step ca_certificate() {
    state_ = state::ca_certificate;
    json_writer w(false);
    w.begin_object().member("CertificateAuthorityArn", cas_[ca_index_].arn).end_object();
    return request("GetCertificateAuthorityCertificate", w.str(), "describe");
  }

  // --- Responses

  step on_response(const http_response& r) {
    bool ok = r.status >= 200 && r.status < 300;
    if (!ok) return on_error(r);
    std::string_view body = r.body;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
    CBCS_PER_THREAD(simdjson::dom::parser, parser);
    simdjson::dom::element doc;
    if (auto err = reused(parser).parse(body.data(), body.size()).get(doc))
      return internal(last_op_ + " answer is not JSON (" + simdjson::error_message(err) + ")");
    if (!doc.is_object()) return internal(last_op_ + " answer is not a JSON object");
    switch (state_) {
      case state::describe:
        return on_describe(doc);
      case state::issue:
        return on_issue(doc);
      case state::get:
        return on_certificate(doc);
      case state::revoke:
        return revoke_report(false);
      case state::list:
        return on_list(doc);
      case state::ca_describe:
        return on_ca_describe(doc);
      case state::ca_certificate:
        return on_ca_certificate(doc);
      case state::start:
        break;
    }
    return internal("response in an unexpected state");
  }

  step on_error(const http_response& r) {
    auto e = parse_error(r);
    bool client_error = r.status >= 400 && r.status < 500;
    if (client_error && e.code == "RequestInProgressException" &&
        (state_ == state::get || state_ == state::revoke)) {
      return outcome::pending(
          poll_interval, state_ == state::get ? "AWS Private CA is still issuing the certificate"
                                              : "AWS Private CA is still revoking the certificate");
    }
    if (client_error && e.code == "RequestAlreadyProcessedException" && state_ == state::revoke)
      return revoke_report(true);
    auto o = classify_error(r, last_op_);
    // Role keys AWS refuses (revoked sessions, a clock that jumped): fetch
    // new ones once and send the call again; static keys cannot change.
    if (o.error == error_class::auth && role_ && !refetched_) {
      refetched_ = true;
      role_->invalidate(signed_with_);
      return request(last_op_, last_body_, last_rate_class_);
    }
    if ((state_ == state::ca_describe || state_ == state::ca_certificate) &&
        (o.error == error_class::rejected || o.error == error_class::invalid_request)) {
      // One CA in a bad state must not hide the others.
      cas_[ca_index_].error = scrub(o.message);
      return next_ca();
    }
    o.message = scrub(o.message);
    return o;
  }

  step on_describe(simdjson::dom::element doc) {
    simdjson::dom::element ca;
    if (doc["CertificateAuthority"].get(ca) || !ca.is_object())
      return internal("DescribeCertificateAuthority answer has no CertificateAuthority");
    auto status = json_fields(ca, {}).maybe_str("Status").value_or("");
    // Status and KeyAlgorithm are the service's words: scrub them like any echo.
    if (status != "ACTIVE")
      return outcome::failed(
          error_class::rejected,
          scrub("certificate authority " + ca_arn_ + " is " + one_line(status) + ", not ACTIVE"));
    std::optional<std::string> key;
    simdjson::dom::element config;
    if (!ca["CertificateAuthorityConfiguration"].get(config))
      key = json_fields(config, {}).maybe_str("KeyAlgorithm");
    signing_algorithm_ = signing_algorithm_for(key.value_or(""));
    if (signing_algorithm_.empty())
      return outcome::failed(
          error_class::invalid_request,
          scrub("cannot choose a signing algorithm for the CA's key algorithm '" +
                one_line(key.value_or("")) + "'; set the job parameter signing_algorithm"));
    return issue_certificate();
  }

  step on_issue(simdjson::dom::element doc) {
    auto arn = json_fields(doc, {}).maybe_str("CertificateArn");
    if (!arn || !arn->starts_with("arn:"))
      return internal("IssueCertificate answer has no CertificateArn");
    cert_arn_ = *arn;
    return get_certificate();
  }

  step on_certificate(simdjson::dom::element doc) {
    json_fields answer(doc, {});
    auto cert = answer.maybe_str("Certificate");
    if (!cert || cert->empty()) return internal("GetCertificate answer has no Certificate");
    auto chain = answer.maybe_str("CertificateChain").value_or("");
    std::string serial;
    try {
      serial = crypto::certificate_serial_hex(*cert);
    } catch (const std::exception& e) {
      return internal(std::string("GetCertificate returned a certificate that cannot be read (") +
                      e.what() + ")");
    }
    // The certificate the job's IdempotencyToken (or resume token) names:
    // never handed out expired (order_lookup.hpp). GetCertificate does not
    // say whether it is revoked; the token is the job's own, so no other
    // job's certificate comes back this way.
    if (auto why = unusable_certificate(*cert, {}, found_state::live, now()); !why.empty())
      return outcome::failed(error_class::rejected,
                             "the certificate AWS Private CA holds for this job (" + cert_arn_ +
                                 ") is not handed out as issued: " + why);
    return outcome::issued(ensure_newline(*cert), ensure_newline(chain), serial);
  }

  step on_list(simdjson::dom::element doc) {
    simdjson::dom::array list;
    auto field = doc["CertificateAuthorities"];
    if (field.error() == simdjson::SUCCESS && !field.value_unsafe().is_null()) {
      if (field.get_array().get(list))
        return internal("ListCertificateAuthorities answer has no CertificateAuthorities list");
      for (auto item : list) {
        auto arn = json_fields(item, {}).maybe_str("Arn");
        if (!arn || arn->empty())
          return internal("ListCertificateAuthorities answer has a CA without Arn");
        cas_.push_back(ca_entry{.arn = *arn});
      }
    }
    auto token = json_fields(doc, {}).maybe_str("NextToken").value_or("");
    if (!token.empty()) {
      if (!seen_tokens_.insert(token).second || ++pages_ >= max_list_pages)
        return internal("ListCertificateAuthorities keeps returning more pages");
      next_token_ = token;
      return list_authorities();
    }
    ca_index_ = 0;
    if (cas_.empty()) return inventory_report();
    return describe(state::ca_describe, cas_[0].arn);
  }

  step on_ca_describe(simdjson::dom::element doc) {
    auto& entry = cas_[ca_index_];
    simdjson::dom::element ca;
    if (doc["CertificateAuthority"].get(ca) || !ca.is_object())
      return internal("DescribeCertificateAuthority answer has no CertificateAuthority");
    json_fields fields(ca, {});
    entry.type = fields.maybe_str("Type").value_or("");
    entry.status = fields.maybe_str("Status").value_or("");
    simdjson::dom::element config;
    if (!ca["CertificateAuthorityConfiguration"].get(config) && config.is_object()) {
      json_fields config_fields(config, {});
      entry.key_algorithm = config_fields.maybe_str("KeyAlgorithm").value_or("");
      entry.signing_algorithm = config_fields.maybe_str("SigningAlgorithm").value_or("");
      simdjson::dom::element subject;
      if (!config["Subject"].get(subject) && subject.is_object())
        entry.subject = subject_from_config(subject);
    }
    double not_after = 0;
    // Epoch seconds; the bound keeps a hostile value from overflowing the cast.
    if (!ca["NotAfter"].get(not_after) && not_after > -1e15 && not_after < 1e15)
      entry.not_after = static_cast<std::int64_t>(not_after);
    // Only a CA with an installed certificate can hand it out.
    if (entry.status == "ACTIVE" || entry.status == "DISABLED" || entry.status == "EXPIRED")
      return ca_certificate();
    return next_ca();
  }

  step on_ca_certificate(simdjson::dom::element doc) {
    auto& entry = cas_[ca_index_];
    auto cert = json_fields(doc, {}).maybe_str("Certificate");
    if (!cert || cert->empty()) {
      entry.error = "GetCertificateAuthorityCertificate answer has no Certificate";
      return next_ca();
    }
    try {
      auto certs = crypto::parse_certificates(*cert);
      entry.subject = crypto::subject_line(certs.front().get());
    } catch (const std::exception&) {
      entry.error = "the CA certificate cannot be read";
    }
    return next_ca();
  }

  step next_ca() {
    if (++ca_index_ < cas_.size()) return describe(state::ca_describe, cas_[ca_index_].arn);
    return inventory_report();
  }

  // --- Outcomes

  outcome revoke_report(bool already) {
    json_writer w(false);
    w.begin_object()
        .member("certificate_authority_arn", ca_arn_)
        .member("serial", serial_)
        .member("reason", reason_)
        .member("already_revoked", already)
        .end_object();
    return outcome::done(w.str());
  }

  outcome inventory_report() {
    json_writer w(false);
    w.begin_object()
        .member("backend", backend_->name)
        .member("type", "acmpca")
        .member("region", backend_->region)
        .member("endpoint", backend_->url)
        .key("certificate_authorities")
        .begin_array();
    bool default_listed = false;
    for (const auto& ca : cas_) {
      default_listed = default_listed || ca.arn == backend_->default_ca_arn;
      w.begin_object()
          .member("arn", ca.arn)
          .member("type", ca.type)
          .member("status", ca.status)
          .member("key_algorithm", ca.key_algorithm)
          .member("signing_algorithm", ca.signing_algorithm)
          .member("subject", ca.subject);
      if (ca.not_after) w.member("not_after", *ca.not_after);
      if (!ca.error.empty()) w.member("error", ca.error);
      w.end_object();
    }
    w.end_array();
    if (!backend_->default_ca_arn.empty())
      w.member("default_ca_arn", backend_->default_ca_arn)
          .member("default_ca_listed", default_listed);
    w.end_object();
    return outcome::done(w.str());
  }

  step internal(const std::string& message) {
    return outcome::failed(error_class::internal, scrub(message));
  }

  step no_ca_arn() {
    return outcome::failed(error_class::invalid_request,
                           "no certificate authority: set the job parameter ca_arn or "
                           "the backend option ca_arn");
  }

  std::string job_ca_arn() const {
    auto it = job_.params.find("ca_arn");
    if (it != job_.params.end() && !it->second.empty()) return it->second;
    return backend_->default_ca_arn;
  }

  // A service could echo what it was sent; make sure no credential leaves in a message.
  std::string scrub(std::string message) const {
    redact(message, backend_->creds.secret_access_key);
    if (backend_->creds.session_token) redact(message, *backend_->creds.session_token);
    if (role_) role_->redact(message);
    return message;
  }

  static std::string ensure_newline(std::string pem) {
    if (!pem.empty() && pem.back() != '\n') pem += '\n';
    return pem;
  }

  std::shared_ptr<const backend> backend_;
  std::shared_ptr<instance_role> role_;  // null with static keys
  std::optional<role_fetch> fetch_;      // fetching the role's keys before the call
  std::string signed_with_;              // access key id of the last call's signature
  bool refetched_ = false;               // role keys refused once: fetched anew
  job job_;
  std::string cert_arn_;  // the resume token
  state state_ = state::start;
  std::string last_op_;
  std::string last_body_;
  std::string last_rate_class_;
  std::string ca_arn_;
  std::string signing_algorithm_;
  std::string serial_;
  std::string reason_;
  // inventory
  std::vector<ca_entry> cas_;
  std::size_t ca_index_ = 0;
  std::string next_token_;
  std::set<std::string> seen_tokens_;
  int pages_ = 0;
};

class acmpca_driver final : public driver {
 public:
  explicit acmpca_driver(std::shared_ptr<const backend> b) : backend_(std::move(b)) {
    if (!backend_->imds_endpoint.empty())
      role_ = std::make_shared<instance_role>(backend_->imds_endpoint);
  }

  std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) override {
    return std::make_unique<session>(backend_, role_, j, resume_token);
  }

 private:
  std::shared_ptr<const backend> backend_;
  // The role's keys, fetched by whichever session needs them first and
  // used by all.
  std::shared_ptr<instance_role> role_;
};

}  // namespace

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<acmpca_driver>(resolve(config));
}

bool is_access_key_id(std::string_view v) {
  return v.size() >= 16 && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

std::string idempotency_token(std::string_view job_id) {
  return crypto::to_hex(crypto::sha256(crypto::as_bytes(job_id))).substr(0, 32);
}

std::optional<std::string> revocation_reason(std::string_view name) {
  auto mapped = map_revocation_reason(name, reasons, "AWS Private CA");
  if (!mapped.error.empty()) return std::nullopt;
  return std::string(mapped.word);
}

std::string signing_algorithm_for(std::string_view key_algorithm) {
  if (key_algorithm.starts_with("EC_")) return "SHA256WITHECDSA";
  if (key_algorithm.starts_with("RSA_")) return "SHA256WITHRSA";
  if (key_algorithm == "SM2") return "SM3WITHSM2";
  // ML-DSA keys sign with the algorithm of the same name.
  if (key_algorithm == "ML_DSA_44" || key_algorithm == "ML_DSA_65" || key_algorithm == "ML_DSA_87")
    return std::string(key_algorithm);
  return {};
}

std::optional<std::string> aws_serial(std::string_view serial_hex) {
  // RevokeCertificate's CertificateSerial: "Serial number of the certificate
  // to be revoked. This must be in hexadecimal format", as `openssl x509
  // -text` shows it (colon-separated pairs); AWS's own examples use it.
  auto serial = crypto::serial_number::parse(serial_hex);
  if (!serial) return std::nullopt;
  return serial->colon_upper();
}

std::string endpoint_url(const driver_config& config) {
  auto endpoint = setting(config.settings, "endpoint");
  if (!endpoint.empty()) {
    while (endpoint.ends_with('/')) endpoint.pop_back();
    return endpoint + "/";
  }
  auto region = setting(config.settings, "region");
  bool fips = setting(config.settings, "fips") == "true";
  std::string domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://" + std::string(fips ? "acm-pca-fips." : "acm-pca.") + region + "." + domain +
         "/";
}

aws_error parse_error(const http_response& response) {
  aws_error out;
  CBCS_PER_THREAD(simdjson::dom::parser, parser);
  simdjson::dom::element doc;
  if (!reused(parser).parse(response.body.data(), response.body.size()).get(doc) &&
      doc.is_object()) {
    json_fields fields(doc, {});
    out.code = strip_error_code(fields.maybe_str("__type").value_or(""));
    if (out.code.empty()) out.code = strip_error_code(fields.maybe_str("code").value_or(""));
    auto message = fields.maybe_str("message").value_or("");
    if (message.empty()) message = fields.maybe_str("Message").value_or("");
    out.message = one_line(message);
  } else if (auto code = xml_first_text(response.body, "Code")) {
    // Query-protocol style XML, which moto answers authentication failures with.
    // Nothing validated these bytes: the code must be an identifier and
    // one_line() makes the message valid UTF-8.
    out.code = strip_error_code(*code);
    out.message = one_line(xml_first_text(response.body, "Message").value_or(""));
  }
  if (out.code.empty()) out.code = strip_error_code(response.header("x-amzn-ErrorType"));
  return out;
}

outcome classify_error(const http_response& response, std::string_view operation) {
  auto e = parse_error(response);
  auto failed = [&](error_class c, std::string_view fallback) {
    std::string text = std::string(operation) + ": ";
    if (!e.code.empty()) text += e.code + ": ";
    text += e.message.empty() ? std::string(fallback) : e.message;
    return http_failure_as(c, response, std::move(text), e.code);
  };
  const auto& code = e.code;
  if (response.status == 429 ||
      contains(
          {"ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
           "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException", "SlowDown"},
          code))
    return failed(error_class::throttled, "the service is throttling requests");
  if (response.status >= 500) return failed(error_class::unavailable, "the service is unavailable");
  if (response.status == 401 || response.status == 403 ||
      contains({"UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
                "AccessDenied", "IncompleteSignature", "IncompleteSignatureException",
                "MissingAuthenticationToken", "MissingAuthenticationTokenException",
                "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
                "ExpiredTokenException", "AuthFailure", "UnauthorizedOperation", "RequestExpired",
                "InvalidAccessKeyId", "NotAuthorized"},
               code))
    return failed(error_class::auth, "the credentials were refused");
  if (response.status < 400 || response.status >= 600)
    return failed(error_class::internal, "unexpected HTTP status");
  if (code.empty()) return failed(error_class::internal, "the error answer cannot be read");
  // Transient conditions on AWS's side: worth another try.
  if (contains({"ConcurrentModificationException", "RequestInProgressException",
                "ServiceUnavailable", "InternalFailure"},
               code))
    return failed(error_class::unavailable, "the service asks to try again");
  if (contains({"ResourceNotFoundException", "InvalidStateException", "RequestFailedException",
                "LimitExceededException", "RequestAlreadyProcessedException",
                "LockoutPreventedException", "PermissionAlreadyExistsException"},
               code))
    return failed(error_class::rejected, "the certificate authority refused the request");
  if (code.starts_with("Invalid") || code.starts_with("Malformed") ||
      code.ends_with("ValidationException") || code == "ValidationError")
    return failed(error_class::invalid_request, "the request was invalid");
  return failed(error_class::rejected, "the request was refused");
}

}  // namespace cbcs::protocol::ca::acmpca
