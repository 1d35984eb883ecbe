#include "protocol/ca/entrust/ca_gateway_api.hpp"

#include <fmt/format.h>

#include <cctype>

#include "crypto/base64.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/json_answer.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace dom = simdjson::dom;
namespace {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// PEM as given, or base64 DER (format X509) armoured; "" when neither.
std::string as_pem(std::string_view body) {
  if (body.find("-----BEGIN") != std::string_view::npos) return std::string(body);
  auto der = crypto::base64_decode(body);
  if (!der || der->empty()) return {};
  return crypto::der_to_pem("CERTIFICATE", *der);
}

std::vector<named_item> parse_named(std::string_view body, std::string_view what,
                                    std::string_view list_key) {
  return read_object_list<named_item>(body, what, list_key,
                                      [](const json_fields& i) -> std::optional<named_item> {
                                        named_item item{i.line("id", 128), i.line("name", 256)};
                                        if (item.id.empty()) return std::nullopt;
                                        return item;
                                      });
}

}  // namespace

http_request gateway_request(std::string method, std::string url, std::string body) {
  http_request r{.method = std::move(method), .url = std::move(url)};
  r.headers.push_back({"Accept", "application/json"});
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

gateway_error parse_gateway_error(std::string_view body) {
  static const vendor_error_shape shape{.at = {"error"}, .code = {"code"}, .message = {"message"}};
  auto e = read_vendor_error(body, shape);
  if (!check_identifier(e.code).empty()) e.code.clear();  // see entrust_api.cpp
  return {std::move(e.code), one_line(e.message, 256)};
}

outcome gateway_error_outcome(const http_response& answer, std::string_view what,
                              std::chrono::system_clock::time_point now) {
  auto e = parse_gateway_error(answer.body);
  std::string detail = e.message.empty() ? std::string() : fmt::format(": {}", e.message);
  if (answer.status == 401 || answer.status == 403)
    return http_failure(
        answer,
        fmt::format("{} failed: the CA Gateway refused the client certificate{}", what, detail),
        e.code, {}, now);
  if (answer.status == 429 || e.code == "TooManyRequests")
    return http_failure_as(error_class::throttled, answer,
                           fmt::format("{}: the CA Gateway's request limit was reached", what),
                           e.code.empty() ? "TooManyRequests" : e.code, now);
  if (answer.status >= 500)
    return http_failure(answer, fmt::format("{}: the CA Gateway is unavailable{}", what, detail),
                        e.code, {}, now);
  return http_failure(answer, fmt::format("{} failed{}", what, detail), e.code, {}, now);
}

std::string enrollment_body(const enrollment_request& r) {
  json_writer w(false);
  w.begin_object().member("profileId", r.profile_id).member("csr", r.csr_pem);
  w.key("requiredFormat").begin_object().member("format", "PEM").end_object();
  w.key("subjectAltNames").begin_array();
  for (const auto& n : r.dns_names)
    w.begin_object().member("type", "dNSName").member("value", n).end_object();
  w.end_array();
  if (r.validity_seconds > 0)
    // ISO 8601 duration, as cagw-vault-plugin sends it ("PT%dM").
    w.key("optionalCertificateRequestDetails")
        .begin_object()
        .member("validityPeriod", fmt::format("PT{}S", r.validity_seconds))
        .end_object();
  w.key("properties").begin_object().member("cbcs-job", r.tag).end_object();
  w.end_object();
  return w.str();
}

enrollment_info parse_enrollment(std::string_view body) {
  dom::parser parser;
  auto root = answer_fields(parser, body, "enrollment answer");
  auto e = root.maybe_object("enrollment");
  if (!e) unreadable("enrollment answer", "it has no \"enrollment\" object");
  json_fields f(*e, "enrollment");
  enrollment_info out{f.line("id", 128), f.line("serialNumber", 128), f.line("status", 64), {}};
  if (auto pem = f.maybe_str("body"); pem && !pem->empty()) {
    out.certificate_pem = as_pem(*pem);
    if (out.certificate_pem.empty())
      unreadable("enrollment answer", "its body is neither PEM nor base64");
  }
  return out;
}

gateway_certificate parse_gateway_certificate(std::string_view body) {
  dom::parser parser;
  auto root = answer_fields(parser, body, "certificate answer");
  auto inner = root.maybe_object("certificate");
  json_fields f = inner ? json_fields(*inner, "certificate") : root;
  gateway_certificate out{f.line("serialNumber", 128), ascii_lower(f.line("status", 64)), {}};
  for (auto key : {"certificateData", "body"})
    if (auto data = f.maybe_str(key); data && !data->empty()) {
      out.certificate_pem = as_pem(*data);
      if (out.certificate_pem.empty())
        unreadable("certificate answer", fmt::format("its {} is neither PEM nor base64", key));
      break;
    }
  return out;
}

bool gateway_status_unusable(std::string_view status) {
  return status == "revoked" || status == "held" || status == "expired" || status == "suspended";
}

std::string revoke_action_body(std::string_view reason, std::string_view comment) {
  json_writer w(false);
  w.begin_object()
      .key("action")
      .begin_object()
      .member("type", "RevokeAction")
      .member("reason", reason)
      .member("comment", comment)
      .end_object()
      .end_object();
  return w.str();
}

std::string parse_action_status(std::string_view body) {
  dom::parser parser;
  auto root = answer_fields(parser, body, "action answer");
  auto action = root.maybe_object("action");
  if (!action) return {};
  auto status = json_fields(*action, "action").line("status", 32);
  for (auto& c : status) c = char(std::toupper(static_cast<unsigned char>(c)));
  return status;
}

std::vector<named_item> parse_authorities(std::string_view body) {
  return parse_named(body, "certificate authority list", "caList");
}

std::vector<named_item> parse_profiles(std::string_view body) {
  return parse_named(body, "profile list", "profiles");
}

std::optional<std::string> gateway_serial(std::string_view serial_hex) {
  return entrust_serial(serial_hex);
}

}  // namespace cbcs::protocol::ca::entrust
