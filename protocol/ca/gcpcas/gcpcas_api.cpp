#include "protocol/ca/gcpcas/gcpcas_api.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include "crypto/digest.hpp"
#include "crypto/per_thread.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/ca/gcpcas/revocation_reasons.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

namespace dom = simdjson::dom;

constexpr std::int64_t default_lifetime_seconds = 30 * 86400;

bool is_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

std::string hash_suffix(std::string_view job_id) {
  return crypto::to_hex(crypto::sha256(crypto::as_bytes(job_id))).substr(0, 16);
}

std::string ensure_newline(std::string s) {
  if (!s.empty() && s.back() != '\n') s += '\n';
  return s;
}

std::string api_url(std::string_view base, std::string_view path) {
  return std::string(base) + "/v1/" + std::string(path);
}

// A success answer's object, in this thread's parser until its next answer.
dom::element read_answer(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  CBCS_PER_THREAD(dom::parser, parser);
  dom::element doc;
  if (auto err = reused(parser).parse(body.data(), body.size()).get(doc))
    throw answer_error(std::string("CA Service's answer is not JSON (") +
                       simdjson::error_message(err) + ")");
  if (!doc.is_object()) throw answer_error("CA Service's answer is not a JSON object");
  return doc;
}

}  // namespace

std::string certificate_id(std::string_view job_id) {
  if (is_resource_id(job_id)) return std::string(job_id);
  std::string kept;
  for (char c : job_id.substr(0, 46)) kept += is_id_char(c) ? c : '-';
  return kept + "-" + hash_suffix(job_id);
}

std::string label_value(std::string_view job_id) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  if (job_id.size() <= 63 && std::all_of(job_id.begin(), job_id.end(), allowed))
    return std::string(job_id);
  std::string kept;
  for (char c : job_id.substr(0, 46)) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    kept += allowed(lower) ? lower : '_';
  }
  return kept + "-" + hash_suffix(job_id);
}

std::string uuid_v5(std::string_view namespace_uuid, std::string_view name) {
  crypto::bytes input;
  for (std::size_t i = 0; i + 1 < namespace_uuid.size(); ++i) {
    if (namespace_uuid[i] == '-') continue;
    auto hex = [](char c) {
      return c <= '9' ? c - '0' : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    };
    input.push_back(
        static_cast<std::uint8_t>(hex(namespace_uuid[i]) * 16 + hex(namespace_uuid[i + 1])));
    ++i;
  }
  input.insert(input.end(), name.begin(), name.end());
  auto digest = crypto::sha1(input);
  digest[6] = static_cast<std::uint8_t>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<std::uint8_t>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  auto hex = crypto::to_hex(crypto::byte_view(digest.data(), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::string request_id(std::string_view job_id) { return uuid_v5(request_namespace, job_id); }

// --- Names and calls

bool is_resource_id(std::string_view id) {
  return !id.empty() && id.size() <= 63 && std::all_of(id.begin(), id.end(), is_id_char);
}

std::string location_path(std::string_view project, std::string_view location) {
  return "projects/" + std::string(project) + "/locations/" + std::string(location);
}

std::string pool_path(std::string_view location_path, std::string_view pool_id) {
  return std::string(location_path) + "/caPools/" + std::string(pool_id);
}

std::string last_segment(std::string_view name) {
  auto slash = name.rfind('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

bool is_certificate_name(std::string_view location_path, std::string_view name) {
  auto prefix = std::string(location_path) + "/caPools/";
  if (!name.starts_with(prefix)) return false;
  auto rest = name.substr(prefix.size());
  auto cut = rest.find("/certificates/");
  if (cut == std::string_view::npos) return false;
  return is_resource_id(rest.substr(0, cut)) && is_resource_id(rest.substr(cut + 14));
}

http_request authorized(const api_call& call, std::string_view token) {
  http_request r;
  r.method = call.method;
  r.url = call.url;
  r.headers.push_back({"Authorization", "Bearer " + std::string(token)});
  if (!call.body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = call.body;
  r.rate_class = call.rate_class;
  return r;
}

api_call list_pools(std::string_view base, std::string_view location_path,
                    std::string_view page_token) {
  auto url = api_url(base, std::string(location_path) + "/caPools");
  if (!page_token.empty()) url += "?pageToken=" + url_encode(page_token);
  return {"GET", url, "", "list"};
}

api_call get_pool(std::string_view base, std::string_view pool_path) {
  return {"GET", api_url(base, pool_path), "", "get"};
}

api_call create_certificate(std::string_view base, std::string_view pool_path, const job& j,
                            std::string_view template_name, std::string_view ca_id) {
  auto url = api_url(base, std::string(pool_path) + "/certificates") +
             "?certificateId=" + certificate_id(j.id) + "&requestId=" + request_id(j.id);
  if (!ca_id.empty()) url += "&issuingCertificateAuthorityId=" + url_encode(ca_id);
  auto lifetime = j.validity_seconds > 0 ? j.validity_seconds : default_lifetime_seconds;
  json_writer w(false);
  w.begin_object().member("pemCsr", j.csr_pem).member("lifetime", std::to_string(lifetime) + "s");
  if (!template_name.empty()) w.member("certificateTemplate", template_name);
  w.key("labels").begin_object().member("cbcs-job", label_value(j.id)).end_object();
  w.end_object();
  return {"POST", url, w.str(), "create"};
}

api_call get_certificate(std::string_view base, std::string_view pool_path,
                         std::string_view job_id) {
  return {"GET", api_url(base, std::string(pool_path) + "/certificates/" + certificate_id(job_id)),
          "", "get"};
}

api_call find_by_serial(std::string_view base, std::string_view pool_path,
                        const crypto::serial_number& serial) {
  // CA Service documents hexSerialNumber as "The serial number encoded in
  // lowercase hexadecimal" without saying whether a leading zero digit is
  // kept (it writes Go's %x: none). Ask for both forms when they differ.
  constexpr std::string_view field =
      "certificate_description.subject_description.hex_serial_number";
  auto filter = std::string(field) + "=\"" + serial.hex_minimal() + "\"";
  if (serial.hex_minimal() != serial.hex())
    filter += " OR " + std::string(field) + "=\"" + serial.hex() + "\"";
  return {"GET",
          api_url(base, std::string(pool_path) + "/certificates") + "?filter=" + url_encode(filter),
          "", "get"};
}

api_call revoke_certificate(std::string_view base, std::string_view certificate_name,
                            std::string_view reason, std::string_view job_id) {
  json_writer w(false);
  w.begin_object().member("reason", reason).member("requestId", request_id(job_id)).end_object();
  return {"POST", api_url(base, certificate_name) + ":revoke", w.str(), "revoke"};
}

api_call list_cas(std::string_view base, std::string_view pool_name) {
  return {"GET", api_url(base, std::string(pool_name) + "/certificateAuthorities"), "", "list"};
}

api_call test_permissions(std::string_view base, std::string_view pool_path) {
  json_writer w(false);
  w.begin_object().key("permissions").begin_array();
  for (const auto& p : required_permissions()) w.value(p);
  w.end_array().end_object();
  return {"POST", api_url(base, pool_path) + ":testIamPermissions", w.str(), "list"};
}

// --- Answers

pool_page read_pools(std::string_view body, std::string_view location_path) {
  auto doc = read_answer(body);
  pool_page page;
  dom::array list;
  auto field = doc["caPools"];
  if (field.error() == simdjson::SUCCESS && !field.value_unsafe().is_null()) {
    if (field.get_array().get(list)) throw answer_error("the caPools answer has no caPools list");
    for (auto item : list) {
      json_fields f(item, "caPool");
      auto name = f.maybe_str("name").value_or("");
      auto id = last_segment(name);
      // The name goes into URLs: a pool of this location, by Google's characters.
      if (name != pool_path(location_path, id) || id.size() > 63 ||
          !std::all_of(id.begin(), id.end(), is_id_char))
        throw answer_error("the caPools answer names a pool that is not one of " +
                           std::string(location_path));
      page.pools.push_back({id, name, f.maybe_str("tier").value_or("")});
    }
  }
  page.next_page_token = json_fields(doc, {}).maybe_str("nextPageToken").value_or("");
  return page;
}

std::string read_pool_tier(std::string_view body) {
  auto tier = json_fields(read_answer(body), "CaPool").maybe_str("tier").value_or("");
  if (tier.empty()) throw answer_error("the CA pool answer has no tier");
  return tier;
}

certificate_answer read_certificate(std::string_view body) {
  auto doc = read_answer(body);
  certificate_answer out;
  out.pem = json_fields(doc, "Certificate").maybe_str("pemCertificate").value_or("");
  if (out.pem.empty()) throw answer_error("the certificate answer has no pemCertificate");
  out.pem = ensure_newline(std::move(out.pem));
  // revocationDetails, CA Service v1 Certificate.
  dom::element revoked;
  out.revoked = !doc["revocationDetails"].get(revoked) && !revoked.is_null();
  dom::array list;
  if (!doc["pemCertificateChain"].get_array().get(list)) {
    for (auto item : list) {
      std::string_view pem;
      if (item.get_string().get(pem)) {
        out.chain_error = "pemCertificateChain holds something that is not a string";
        break;
      }
      out.chain += ensure_newline(std::string(pem));
    }
  }
  return out;
}

std::vector<std::string> read_certificate_names(std::string_view body) {
  auto doc = read_answer(body);
  std::vector<std::string> names;
  dom::array list;
  if (!doc["certificates"].get_array().get(list))
    for (auto item : list)
      if (auto n = json_fields(item, "Certificate").maybe_str("name"); n && !n->empty())
        names.push_back(*n);
  return names;
}

void read_revoked(std::string_view body) { read_answer(body); }

std::vector<ca_info> read_cas(std::string_view body) {
  auto doc = read_answer(body);
  std::vector<ca_info> cas;
  dom::array list;
  if (!doc["certificateAuthorities"].get_array().get(list))
    for (auto item : list) {
      json_fields f(item, "CertificateAuthority");
      cas.push_back({f.maybe_str("name").value_or(""), f.maybe_str("state").value_or(""),
                     f.maybe_str("tier").value_or("")});
    }
  return cas;
}

const std::vector<std::string>& required_permissions() {
  static const std::vector<std::string> list = {
      "privateca.caPools.get",
      "privateca.caPools.list",
      "privateca.certificateAuthorities.get",
      "privateca.certificateAuthorities.list",
      "privateca.certificates.create",
      "privateca.certificates.get",
      "privateca.certificates.update",
      "privateca.certificateTemplates.get",
      "privateca.certificateTemplates.list",
      "privateca.certificateTemplates.use",
  };
  return list;
}

std::vector<std::string> missing_permissions(std::string_view body) {
  auto doc = read_answer(body);
  std::set<std::string, std::less<>> held;
  dom::array list;
  if (!doc["permissions"].get_array().get(list))
    for (auto item : list) {
      std::string_view s;
      if (!item.get_string().get(s)) held.emplace(s);
    }
  std::vector<std::string> missing;
  for (const auto& p : required_permissions())
    if (!held.count(p)) missing.push_back(p);
  return missing;
}

// --- Errors

google_error parse_error(std::string_view body) {
  static const vendor_error_shape shape{
      .at = {"error"}, .code = {"status"}, .message = {"message"}};
  static const vendor_error_shape number{.at = {"error"}, .code = {"code"}, .message = {}};
  google_error out;
  auto e = read_vendor_error(body, shape);
  if (e.code.size() <= 64 && std::all_of(e.code.begin(), e.code.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
      }))
    out.status = std::move(e.code);
  out.message = std::move(e.message);
  auto digits = read_vendor_error(body, number).code;
  int code = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (ec == std::errc{} && end == digits.data() + digits.size() && code > 0 && code < 1000)
    out.code = code;
  return out;
}

std::string permission_in(std::string_view message) {
  auto at = message.find("privateca.");
  while (at != std::string_view::npos) {
    auto end = at;
    while (end < message.size() &&
           (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '.'))
      ++end;
    auto found = message.substr(at, end - at);
    while (found.ends_with('.')) found.remove_suffix(1);
    // privateca.SERVICE.VERB at least
    if (std::count(found.begin(), found.end(), '.') >= 2) return std::string(found);
    at = message.find("privateca.", end);
  }
  return {};
}

outcome classify_error(const http_response& response, std::string_view what,
                       std::chrono::system_clock::time_point now) {
  auto e = parse_error(response.body);
  std::string message = "CA Service refused to " + std::string(what);
  if (!e.status.empty()) message += ": " + e.status;
  if (!e.message.empty()) message += " (" + e.message + ")";
  static constexpr std::array<std::pair<std::string_view, error_class>, 13> by_status{{
      {"UNAUTHENTICATED", error_class::auth},
      {"PERMISSION_DENIED", error_class::auth},
      {"INVALID_ARGUMENT", error_class::invalid_request},
      {"FAILED_PRECONDITION", error_class::invalid_request},
      {"OUT_OF_RANGE", error_class::invalid_request},
      {"NOT_FOUND", error_class::invalid_request},
      {"ALREADY_EXISTS", error_class::invalid_request},
      {"UNIMPLEMENTED", error_class::not_implemented},
      {"RESOURCE_EXHAUSTED", error_class::throttled},
      {"UNAVAILABLE", error_class::unavailable},
      {"DEADLINE_EXCEEDED", error_class::unavailable},
      {"ABORTED", error_class::unavailable},
      {"INTERNAL", error_class::unavailable},
  }};
  if (e.status == "PERMISSION_DENIED") {
    if (auto p = permission_in(e.message); !p.empty())
      message = "CA Service refused to " + std::string(what) + ": the service account lacks " + p +
                " (" + e.message + ")";
  }
  auto o = http_failure(response, message, e.status, {}, now);
  for (auto [status, meaning] : by_status)
    if (status == e.status) o = http_failure_as(meaning, response, message, e.status, now);
  // CA Service's quotas are per second and its 429s carry no Retry-After:
  // a retry sooner than a second would only meet the same quota again.
  if (o.error == error_class::throttled && o.retry_after == std::chrono::milliseconds{0})
    o.retry_after = std::chrono::seconds(1);
  return o;
}

// --- The job's words

mapped_reason_word revocation_reason(std::string_view rfc5280_name) {
  if (iequals(rfc5280_name, "removeFromCRL"))
    return {{},
            "CA Service cannot take a certificate off hold (removeFromCRL): a hold is "
            "permanent there; revoke with another reason instead"};
  auto m = map_revocation_reason(rfc5280_name, revocation_reasons, "CA Service");
  return {std::string(m.word), m.error};
}

profile_choice parse_profile(std::string_view profile) {
  profile_choice out;
  auto is_name = [](std::string_view s) {
    return !s.empty() && s.size() <= 512 && std::all_of(s.begin(), s.end(), [](char c) {
      return is_id_char(c) || c == '/' || c == '.';
    });
  };
  while (!profile.empty()) {
    auto comma = profile.find(',');
    auto part = profile.substr(0, comma);
    profile = comma == std::string_view::npos ? std::string_view{} : profile.substr(comma + 1);
    if (part.starts_with("pool:")) {
      out.pool = std::string(part.substr(5));
      if (!is_name(out.pool) || out.pool.find('/') != std::string::npos) {
        out.error = "the job's profile names a pool that is not a CA pool id ([a-zA-Z0-9_-])";
        return out;
      }
    } else {
      auto t = part.starts_with("template:") ? part.substr(9) : part;
      if (!is_name(t)) {
        out.error = "the job's profile is not template:NAME, pool:NAME or both joined by ','";
        return out;
      }
      out.template_name = std::string(t);
    }
  }
  return out;
}

}  // namespace cbcs::protocol::ca::gcpcas
