#include "protocol/ca/acmpca/acmpca_api.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <stdexcept>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/per_thread.hpp"
#include "crypto/serial_number.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"
#include "protocol/common/xml.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace dom = simdjson::dom;
namespace {

constexpr std::string_view service_name = "acm-pca";
constexpr std::string_view target_prefix = "ACMPrivateCA.";
constexpr std::string_view content_type = "application/x-amz-json-1.1";
constexpr std::int64_t default_validity_days = 30;
// Real AWS error codes are short identifiers; a longer one is cut.
constexpr std::size_t max_error_code = 128;

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

bool contains(std::initializer_list<std::string_view> set, std::string_view code) {
  return std::find(set.begin(), set.end(), code) != set.end();
}

// A 2xx answer to `op` as a JSON object; the parser holds it until its next use.
dom::element answer_object(std::string_view body, std::string_view op) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  CBCS_PER_THREAD(dom::parser, parser);
  dom::element doc;
  if (auto err = reused(parser).parse(body.data(), body.size()).get(doc))
    throw std::runtime_error(std::string(op) + " answer is not JSON (" +
                             simdjson::error_message(err) + ")");
  if (!doc.is_object()) throw std::runtime_error(std::string(op) + " answer is not a JSON object");
  return doc;
}

std::string subject_from_config(dom::element subject) {
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

call ca_arn_call(std::string op, std::string_view ca_arn, std::string rate_class) {
  json_writer w(false);
  w.begin_object().member("CertificateAuthorityArn", ca_arn).end_object();
  return {std::move(op), w.str(), std::move(rate_class)};
}

}  // namespace

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

std::string split_endpoint(const std::string& url, endpoint& out) {
  out.url = url;
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "endpoint is not a URL";
  auto scheme = url.substr(0, scheme_end);
  auto rest = url.substr(scheme_end + 3);
  auto slash = rest.find('/');
  out.host = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.host.empty() || out.host.find_first_of("?#@") != std::string::npos)
    return "endpoint has no usable host";
  // HTTP clients leave a default port out of Host; sign what goes on the wire.
  std::string default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && out.host.ends_with(default_port))
    out.host.resize(out.host.size() - default_port.size());
  return {};
}

http_request signed_request(const call& c, const endpoint& e,
                            const crypto::sigv4::credentials& keys,
                            std::chrono::system_clock::time_point now) {
  crypto::sigv4::request req;
  req.method = "POST";
  req.path = e.path;
  req.headers = {{"Host", e.host},
                 {"Content-Type", std::string(content_type)},
                 {"X-Amz-Target", std::string(target_prefix) + c.op}};
  req.body = c.body;
  crypto::sigv4::options opts{
      .region = e.region, .service = std::string(service_name), .timestamp = now};
  auto sig = crypto::sigv4::sign(req, keys, opts);
  http_request out;
  out.method = "POST";
  out.url = e.url;
  for (auto& [name, value] : req.headers) out.headers.push_back({name, value});
  for (auto& [name, value] : sig.headers_to_add) out.headers.push_back({name, value});
  out.headers.push_back({"Authorization", sig.authorization});
  out.body = std::move(req.body);
  out.rate_class = c.rate_class;
  return out;
}

bool is_access_key_id(std::string_view v) {
  return v.size() >= 16 && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

call describe_call(std::string_view ca_arn) {
  return ca_arn_call("DescribeCertificateAuthority", ca_arn, "describe");
}

call issue_call(const issue_request& r) {
  std::int64_t days = default_validity_days;
  if (r.validity_seconds > 0) days = (r.validity_seconds + 86399) / 86400;
  json_writer w(false);
  w.begin_object()
      .member("CertificateAuthorityArn", r.ca_arn)
      .member("Csr", crypto::base64_encode(crypto::as_bytes(r.csr_pem)))
      .member("SigningAlgorithm", r.signing_algorithm)
      .key("Validity")
      .begin_object()
      .member("Type", "DAYS")
      .member("Value", days)
      .end_object();
  if (!r.template_arn.empty()) w.member("TemplateArn", r.template_arn);
  w.member("IdempotencyToken", idempotency_token(r.job_id)).end_object();
  return {"IssueCertificate", w.str(), "issue"};
}

call get_certificate_call(std::string_view ca_arn, std::string_view certificate_arn) {
  json_writer w(false);
  w.begin_object()
      .member("CertificateAuthorityArn", ca_arn)
      .member("CertificateArn", certificate_arn)
      .end_object();
  return {"GetCertificate", w.str(), "get"};
}

call revoke_call(std::string_view ca_arn, std::string_view serial, std::string_view reason) {
  json_writer w(false);
  w.begin_object()
      .member("CertificateAuthorityArn", ca_arn)
      .member("CertificateSerial", serial)
      .member("RevocationReason", reason)
      .end_object();
  return {"RevokeCertificate", w.str(), "revoke"};
}

call list_call(std::string_view next_token) {
  json_writer w(false);
  w.begin_object().member("MaxResults", 100);
  if (!next_token.empty()) w.member("NextToken", next_token);
  w.end_object();
  return {"ListCertificateAuthorities", w.str(), "describe"};
}

call ca_certificate_call(std::string_view ca_arn) {
  return ca_arn_call("GetCertificateAuthorityCertificate", ca_arn, "describe");
}

std::string idempotency_token(std::string_view job_id) {
  return crypto::to_hex(crypto::sha256(crypto::as_bytes(job_id))).substr(0, 32);
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

std::optional<std::string> revocation_reason(std::string_view name) {
  auto mapped = map_revocation_reason(name, revocation_reasons, "AWS Private CA");
  if (!mapped.error.empty()) return std::nullopt;
  return std::string(mapped.word);
}

std::optional<std::string> aws_serial(std::string_view serial_hex) {
  // RevokeCertificate's CertificateSerial: "Serial number of the certificate
  // to be revoked. This must be in hexadecimal format", as `openssl x509
  // -text` shows it (colon-separated pairs); AWS's own examples use it.
  auto serial = crypto::serial_number::parse(serial_hex);
  if (!serial) return std::nullopt;
  return serial->colon_upper();
}

authority parse_authority(std::string_view body) {
  auto doc = answer_object(body, "DescribeCertificateAuthority");
  dom::element ca;
  if (doc["CertificateAuthority"].get(ca) || !ca.is_object())
    throw std::runtime_error("DescribeCertificateAuthority answer has no CertificateAuthority");
  authority out;
  json_fields fields(ca, {});
  out.type = fields.maybe_str("Type").value_or("");
  out.status = fields.maybe_str("Status").value_or("");
  dom::element config;
  if (!ca["CertificateAuthorityConfiguration"].get(config) && config.is_object()) {
    json_fields config_fields(config, {});
    out.key_algorithm = config_fields.maybe_str("KeyAlgorithm").value_or("");
    out.signing_algorithm = config_fields.maybe_str("SigningAlgorithm").value_or("");
    dom::element subject;
    if (!config["Subject"].get(subject) && subject.is_object())
      out.subject = subject_from_config(subject);
  }
  double not_after = 0;
  // Epoch seconds; the bound keeps a hostile value from overflowing the cast.
  if (!ca["NotAfter"].get(not_after) && not_after > -1e15 && not_after < 1e15)
    out.not_after = static_cast<std::int64_t>(not_after);
  return out;
}

std::string parse_certificate_arn(std::string_view body) {
  auto arn = json_fields(answer_object(body, "IssueCertificate"), {}).maybe_str("CertificateArn");
  if (!arn || !arn->starts_with("arn:"))
    throw std::runtime_error("IssueCertificate answer has no CertificateArn");
  // It becomes the job's resume token and goes into messages and the next
  // call: an ARN is printable ASCII without spaces (found by the fuzz smoke).
  if (!std::all_of(arn->begin(), arn->end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    throw std::runtime_error("IssueCertificate answer's CertificateArn is not an ARN");
  return *arn;
}

certificate_answer parse_certificate(std::string_view body) {
  json_fields answer(answer_object(body, "GetCertificate"), {});
  auto cert = answer.maybe_str("Certificate");
  if (!cert || cert->empty()) throw std::runtime_error("GetCertificate answer has no Certificate");
  return {*cert, answer.maybe_str("CertificateChain").value_or("")};
}

void check_revoke_answer(std::string_view body) { answer_object(body, "RevokeCertificate"); }

authority_page parse_authority_page(std::string_view body) {
  auto doc = answer_object(body, "ListCertificateAuthorities");
  authority_page page;
  auto field = doc["CertificateAuthorities"];
  if (field.error() == simdjson::SUCCESS && !field.value_unsafe().is_null()) {
    dom::array list;
    if (field.get_array().get(list))
      throw std::runtime_error(
          "ListCertificateAuthorities answer has no CertificateAuthorities list");
    for (auto item : list) {
      auto arn = json_fields(item, {}).maybe_str("Arn");
      if (!arn || arn->empty())
        throw std::runtime_error("ListCertificateAuthorities answer has a CA without Arn");
      page.arns.push_back(*arn);
    }
  }
  page.next_token = json_fields(doc, {}).maybe_str("NextToken").value_or("");
  return page;
}

std::string parse_ca_certificate(std::string_view body) {
  auto doc = answer_object(body, "GetCertificateAuthorityCertificate");
  return json_fields(doc, {}).maybe_str("Certificate").value_or("");
}

aws_error parse_error(const http_response& response) {
  // The answer itself is the error object. strip_error_code reads and cuts
  // the code, so the reader must not drop a long one.
  static const vendor_error_shape shape{.at = {""},
                                        .code = {"__type", "code"},
                                        .message = {"message", "Message"},
                                        .code_limit = std::numeric_limits<std::size_t>::max(),
                                        .message_limit = 512};
  auto e = read_vendor_error(response.body, shape);
  bool json = !e.empty();
  aws_error out{strip_error_code(e.code), std::move(e.message)};
  if (!json) {
    if (auto code = xml_first_text(response.body, "Code")) {
      // Query-protocol style XML, which moto answers authentication failures with.
      // Nothing validated these bytes: the code must be an identifier and
      // one_line() makes the message valid UTF-8.
      out.code = strip_error_code(*code);
      out.message = one_line(xml_first_text(response.body, "Message").value_or(""));
    }
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
