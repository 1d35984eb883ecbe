#include "protocol/ca/entrust/entrust_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "crypto/base64.hpp"
#include "crypto/serial_number.hpp"
#include "protocol/ca/common/api_key_errors.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/json_answer.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace dom = simdjson::dom;
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(std::string_view text, std::string_view word) {
  return lower(text).find(word) != std::string::npos;
}

// A list answer's summary.total [KF Certificate.cs Summary]; 0 when absent.
std::int64_t summary_total(const json_fields& root) {
  auto s = root.maybe_object("summary");
  if (!s) return 0;
  return std::max<std::int64_t>(json_fields(*s, "summary").maybe_integer("total").value_or(0), 0);
}

certificate_info read_certificate(const json_fields& o) {
  certificate_info out;
  out.tracking_id = std::max<std::int64_t>(o.maybe_integer("trackingId").value_or(0), 0);
  out.status = upper(o.line("status", 64));
  out.serial_number = o.line("serialNumber", 128);
  out.end_entity_cert = o.maybe_str("endEntityCert").value_or("");
  if (auto chain = o.maybe_array("chainCerts"))
    for (auto e : *chain)
      if (auto pem = e.get_string(); !pem.error()) out.chain_certs.emplace_back(pem.value());
  out.csr = o.maybe_str("csr").value_or("");
  if (auto t = o.maybe_object("tracking"))
    out.tracking_info = json_fields(*t, "tracking").line("trackingInfo", 1024);
  out.issue_date_time = o.line("issueDateTime", 40);
  out.expires_after = o.line("expiresAfter", 40);
  out.dn = o.line("dn", 1024);
  out.decline_reason = o.line("declineReason", 256);
  return out;
}

}  // namespace

std::string base_url(std::string_view endpoint, std::string_view fallback) {
  std::string url(endpoint.empty() ? fallback : endpoint);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

http_request ecs_request(std::string method, std::string url, std::string_view username,
                         std::string_view api_key, std::string body) {
  http_request r{.method = std::move(method), .url = std::move(url)};
  auto credentials = fmt::format("{}:{}", username, api_key);
  r.headers.push_back(
      {"Authorization", "Basic " + crypto::base64_encode(crypto::as_bytes(credentials))});
  r.headers.push_back({"Accept", "application/json"});
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

api_error parse_error(std::string_view body) {
  // {"status": 400, "errors": [{"message": "..."}]} (Keyfactor's
  // API/Error.cs: ErrorResponse{Status, Errors[{Message}]}).
  static const vendor_error_shape shape{
      .at = {"errors", "error"}, .code = {"code"}, .message = {"message"}};
  auto e = read_vendor_error(body, shape);
  // A code that is no identifier is dropped: it becomes the outcome's
  // backend code, which the trace and SCM read as one.
  if (!check_identifier(e.code).empty()) e.code.clear();
  return {std::move(e.code), one_line(e.message, 256)};
}

outcome error_outcome(const http_response& answer, std::string_view what, std::string_view username,
                      std::string_view api_key, std::chrono::system_clock::time_point now) {
  auto e = parse_error(answer.body);
  auto failed = api_key_error_outcome(
      answer, what, e.code, e.message,
      {.name = "Entrust",
       .who = fmt::format("user {} with the API key {}", one_line(username, 64), masked(api_key)),
       .api_key = api_key,
       .rate_code = "rate_limited"},
      now);
  // A client or domain that is not approved: the CA says no, not our request.
  auto detail = said_detail(e.message, api_key);
  if (failed.error == error_class::invalid_request &&
      (contains(detail, "client") || contains(detail, "domain")) &&
      (contains(detail, "approv") || contains(detail, "verif")))
    return http_failure_as(error_class::rejected, answer,
                           fmt::format("{} refused by Entrust{}", what, detail), e.code, now);
  return failed;
}

status_meaning read_status(std::string_view status) {
  using k = status_meaning::kind;
  auto s = upper(status);
  if (s == "ACTIVE") return {k::issued, pending_reason::unknown, "issued"};
  if (s == "PENDING")
    return {k::pending, pending_reason::needs_approval, "waiting for an approver at Entrust"};
  if (s == "PENDING_QUORUM")
    return {k::pending, pending_reason::needs_approval,
            "waiting for more approvers at Entrust (quorum)"};
  if (s == "APPROVED" || s == "READY")
    return {k::pending, pending_reason::processing, "approved; being issued by Entrust"};
  if (s == "RENEWING" || s == "REISSUING")
    return {k::pending, pending_reason::processing,
            fmt::format("Entrust is {}", s == "RENEWING" ? "renewing it" : "reissuing it")};
  if (s == "RENEWED" || s == "REISSUED")
    return {k::superseded, pending_reason::unknown,
            fmt::format("it was {} since (superseded)", lower(s))};
  if (s == "DECLINED") return {k::failed, pending_reason::unknown, "the request was declined"};
  if (s == "REVOKED") return {k::failed, pending_reason::unknown, "it is revoked"};
  if (s == "EXPIRED") return {k::failed, pending_reason::unknown, "it has expired"};
  if (s == "SUSPENDED") return {k::failed, pending_reason::unknown, "it is suspended"};
  if (s == "DEACTIVATED") return {k::failed, pending_reason::unknown, "it is deactivated"};
  // NA (not applicable) and anything new: waiting, with Entrust's word.
  return {k::pending, pending_reason::unknown,
          fmt::format("Entrust reports the status '{}', unknown to cbcs",
                      one_line(status.empty() ? "(none)" : status, 64))};
}

certificate_info parse_certificate(std::string_view body) {
  dom::parser parser;
  auto out = read_certificate(answer_fields(parser, body, "certificate answer"));
  if (out.tracking_id == 0) unreadable("certificate answer", "it names no trackingId");
  return out;
}

certificate_list parse_certificate_list(std::string_view body) {
  dom::parser parser;
  auto root = list_answer(parser, body, "certificate list", "certificates");
  certificate_list out;
  for_each_object(root, "certificates", "certificate",
                  [&](const json_fields& c) { out.certificates.push_back(read_certificate(c)); });
  out.total = summary_total(root);
  return out;
}

std::vector<client_info> parse_clients(std::string_view body) {
  return read_object_list<client_info>(
      body, "client list", "clients", [](const json_fields& c) -> std::optional<client_info> {
        client_info info{std::max<std::int64_t>(c.maybe_integer("clientId").value_or(0), 0),
                         c.line("clientName", 128), upper(c.line("verificationStatus", 64))};
        if (info.id <= 0) return std::nullopt;
        return info;
      });
}

client_choice choose_client(const std::vector<client_info>& clients, std::int64_t wanted) {
  auto list = [](const auto& items) {
    std::string text;
    for (const client_info* c : items)
      text += fmt::format("{}{} ({}, {})", text.empty() ? "" : ", ", c->id, c->name,
                          c->verification_status);
    return one_line(text, 300);
  };
  std::vector<const client_info*> all, approved;
  for (const auto& c : clients) {
    all.push_back(&c);
    if (c.verification_status == "APPROVED") approved.push_back(&c);
  }
  if (wanted > 0) {
    for (const auto& c : clients)
      if (c.id == wanted) {
        if (c.verification_status == "APPROVED") return {.chosen = c};
        return {.error = one_line(fmt::format("client {} ({}) is not approved at Entrust: {}", c.id,
                                              c.name, c.verification_status)),
                .rejected = true};
      }
    return {.error = fmt::format("Entrust has no client {} for this API user; it has: {}", wanted,
                                 all.empty() ? std::string("none") : list(all))};
  }
  if (approved.size() == 1) return {.chosen = *approved.front()};
  if (approved.empty())
    return {.error = fmt::format("no client of the account is approved at Entrust ({})",
                                 all.empty() ? std::string("it has none") : list(all)),
            .rejected = true};
  return {.error =
              fmt::format("the account has {} approved clients ({}): choose one with -clientid",
                          approved.size(), list(approved))};
}

namespace {

std::optional<domain_info> read_domain(const json_fields& d) {
  domain_info info{.name = lower(d.line("domainName", 256)),
                   .verification_status = upper(d.line("verificationStatus", 64)),
                   .ov_eligible = d.maybe_bool("ovEligible"),
                   .ev_eligible = d.maybe_bool("evEligible"),
                   .verification_method = upper(d.line("verificationMethod", 32)),
                   .ov_expiry = d.line("ovExpiry", 40),
                   .ev_expiry = d.line("evExpiry", 40)};
  if (info.name.empty()) return std::nullopt;
  return info;
}

}  // namespace

domain_list parse_domain_list(std::string_view body) {
  dom::parser parser;
  auto root = list_answer(parser, body, "domain list", "domains");
  domain_list out;
  for_each_object(root, "domains", "domain", [&](const json_fields& d) {
    if (auto info = read_domain(d)) out.domains.push_back(std::move(*info));
  });
  out.total = std::max<std::int64_t>(summary_total(root), std::int64_t(out.domains.size()));
  return out;
}

std::vector<domain_info> parse_domains(std::string_view body) {
  return parse_domain_list(body).domains;
}

bool is_ev_type(std::string_view cert_type) { return cert_type.starts_with("EV_"); }

namespace {

bool verification_in_force(std::string_view status) {
  return status == "APPROVED" || status == "RE_VERIFICATION" || status == "EXPIRING";
}

}  // namespace

bool domain_orderable(const domain_info& d, bool ev) {
  // ecs_domain returns ov_days_remaining "when domain_status is APPROVED,
  // RE_VERIFICATION or EXPIRING" (the verification still in force); EXPIRED,
  // DECLINED, CANCELLED and INITIAL_VERIFICATION have none [A ecs_domain RETURN].
  if (!verification_in_force(d.verification_status)) return false;
  auto eligible = ev ? d.ev_eligible : d.ov_eligible;
  return eligible.value_or(true);
}

std::string domain_problem(const std::vector<domain_info>& domains,
                           const std::vector<std::string>& names, bool ev) {
  for (const auto& wanted : names) {
    auto name = lower(wanted);
    if (name.starts_with("*.")) name.erase(0, 2);
    const domain_info* best = nullptr;
    for (const auto& d : domains) {
      bool covers = name == d.name || (name.size() > d.name.size() && name.ends_with(d.name) &&
                                       name[name.size() - d.name.size() - 1] == '.');
      if (!covers) continue;
      if (domain_orderable(d, ev)) {
        best = &d;
        break;
      }
      if (!best) best = &d;
    }
    if (!best)
      return one_line(
          fmt::format("the domain of {} is not registered for the client at Entrust", wanted));
    if (!domain_orderable(*best, ev))
      return one_line(fmt::format("the domain {} (for {}) cannot be ordered at Entrust: {}{}",
                                  best->name, wanted, best->verification_status,
                                  verification_in_force(best->verification_status)
                                      ? (ev ? ", not EV eligible" : ", not OV eligible")
                                      : ""));
  }
  return {};
}

std::vector<inventory_info> parse_inventories(std::string_view body) {
  return read_object_list<inventory_info>(
      body, "inventory list", "inventories", [](const json_fields& i) {
        auto count = [&](std::string_view key) {
          return std::max<std::int64_t>(i.maybe_integer(key).value_or(0), 0);
        };
        return std::optional<inventory_info>({i.line("productType", 64), count("totalCount"),
                                              count("remainingCount"), count("usedCount")});
      });
}

std::string expiry_date(std::chrono::system_clock::time_point now, std::int64_t validity_seconds) {
  auto day = std::chrono::floor<std::chrono::days>(now + std::chrono::seconds(validity_seconds));
  std::chrono::year_month_day ymd{day};
  return fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()),
                     unsigned(ymd.day()));
}

namespace {

void lifetime(json_writer& w, const order_request& r, std::chrono::system_clock::time_point now) {
  if (r.validity_seconds > 0)
    w.member("certExpiryDate", expiry_date(now, r.validity_seconds));
  else
    w.member("certLifetime", "P1Y");
}

void tracking(json_writer& w, const order_request& r) {
  w.key("tracking").begin_object().member("trackingInfo", r.tracking_info);
  for (auto [key, value] :
       {std::pair<std::string_view, const std::string*>{"requesterName", &r.requester_name},
        {"requesterEmail", &r.requester_email},
        {"requesterPhone", &r.requester_phone}})
    if (!value->empty()) w.member(key, *value);
  w.end_object();
}

}  // namespace

std::string new_certificate_body(const order_request& r,
                                 std::chrono::system_clock::time_point now) {
  json_writer w(false);
  w.begin_object().member("csr", r.csr_pem).member("certType", r.cert_type);
  lifetime(w, r, now);
  w.member("signingAlg", "SHA-2").member("clientId", r.client_id);
  // subjectAltName replaces the CSR's names (KF NewCertificateRequest): send them.
  w.key("subjectAltName").begin_array();
  for (const auto& n : r.dns_names) w.value(n);
  w.end_array();
  tracking(w, r);
  w.end_object();
  return w.str();
}

std::string renewal_body(const order_request& r, bool reissue,
                         std::chrono::system_clock::time_point now) {
  json_writer w(false);
  w.begin_object().member("csr", r.csr_pem);
  if (!reissue) lifetime(w, r, now);
  tracking(w, r);
  w.end_object();
  return w.str();
}

std::string revocation_body(std::string_view crl_reason, std::string_view comment) {
  json_writer w(false);
  w.begin_object()
      .member("crlReason", crl_reason)
      .member("revocationComment", comment)
      .end_object();
  return w.str();
}

std::optional<std::string> entrust_serial(std::string_view serial_hex) {
  auto serial = crypto::serial_number::parse(serial_hex);
  if (!serial) return std::nullopt;
  auto hex = serial->hex_upper();
  auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? hex : hex.substr(first);
}

bool is_early_renewal_refusal(std::string_view message) {
  return contains(message, "renew") &&
         (contains(message, "30 days") || contains(message, "30-day"));
}

}  // namespace cbcs::protocol::ca::entrust
