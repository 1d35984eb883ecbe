#include "protocol/ca/digicert/digicert_api.hpp"

#include <simdjson.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <stdexcept>

#include "crypto/serial_number.hpp"
#include "protocol/ca/common/api_key_errors.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/json_answer.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::digicert {
namespace dom = simdjson::dom;
namespace {

bool is_identifier(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string base_url(std::string_view endpoint, std::string_view region) {
  if (!endpoint.empty()) {
    std::string url(endpoint);
    while (!url.empty() && url.back() == '/') url.pop_back();
    auto scheme = url.find("://");
    bool has_path = scheme != std::string::npos && url.find('/', scheme + 3) != std::string::npos;
    return has_path ? url : url + "/services/v2";
  }
  return std::string(region == "eu" ? eu_base_url : us_base_url);
}

http_request api_request(std::string method, std::string url, std::string_view api_key,
                         std::string body) {
  http_request r{.method = std::move(method), .url = std::move(url)};
  r.headers.push_back({"X-DC-DEVKEY", std::string(api_key)});
  r.headers.push_back({"Accept", "application/json"});
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

api_error parse_error(std::string_view body) {
  // dev.digicert.com "Errors": {"errors":[{"code":"...","message":"..."}]};
  // some endpoints answer one object under "errors" or "error", or a string.
  static const vendor_error_shape shape{
      .at = {"errors", "error"}, .code = {"code"}, .message = {"message"}};
  auto e = read_vendor_error(body, shape);
  api_error out;
  if (is_identifier(e.code)) out.code = std::move(e.code);
  out.message = one_line(e.message, 256);
  return out;
}

outcome error_outcome(const http_response& answer, std::string_view what, std::string_view api_key,
                      std::chrono::system_clock::time_point now) {
  auto e = parse_error(answer.body);
  return api_key_error_outcome(answer, what, e.code, e.message,
                               {.name = "CertCentral",
                                .who = fmt::format("API key {}", masked(api_key)),
                                .api_key = api_key,
                                .rate_code = "request_limit_exceeded"},
                               now);
}

std::vector<organization> parse_organizations(std::string_view body) {
  dom::parser parser;
  auto root = list_answer(parser, body, "organization list", "organizations");
  std::vector<organization> out;
  for_each_object(root, "organizations", "organization", [&](const json_fields& o) {
    auto id = o.id("id");
    if (id.empty() || id.size() > 18) return;
    organization org;
    org.id = std::stoll(id);
    org.name = o.line("name", 128);
    org.status = o.line("status", 32);
    org.active = o.maybe_bool("is_active").value_or(org.status == "active");
    for_each_object(o, "validations", "validation", [&](const json_fields& v) {
      org.validations.push_back(
          {lower(v.line("type", 32)), lower(v.line("status", 32)), v.line("validated_until", 40)});
    });
    out.push_back(std::move(org));
  });
  return out;
}

std::string required_validation(std::string_view product) {
  auto p = lower(product);
  if (p.starts_with("private_")) return "";
  if (p.find("_ev") != std::string::npos || p.starts_with("ev_")) return "ev";
  return "ov";
}

std::string organization_problem(const organization& org, std::string_view product) {
  auto who = fmt::format("organization {} ({})", org.id, org.name);
  if (!org.active)
    return fmt::format("{} is not active (status {})", who,
                       org.status.empty() ? "unknown" : org.status);
  auto needed = required_validation(product);
  if (needed.empty()) return {};
  for (const auto& v : org.validations)
    if (v.type == needed) {
      if (v.status == "validated" || v.status == "active" || v.status == "completed") return {};
      return fmt::format("{} has no completed {} validation (it is {}), which {} needs", who,
                         needed, v.status.empty() ? "in an unknown state" : v.status, product);
    }
  return fmt::format("{} has no {} validation, which {} needs", who, needed, product);
}

organization_choice choose_organization(const std::vector<organization>& orgs, std::int64_t wanted,
                                        std::string_view product) {
  if (wanted != 0) {
    for (const auto& org : orgs)
      if (org.id == wanted) {
        auto problem = organization_problem(org, product);
        if (!problem.empty()) return {.error = problem, .rejected = true};
        return {.chosen = org};
      }
    return {.error = fmt::format("organization {} is not in the account (or the API key may not "
                                 "see it)",
                                 wanted),
            .rejected = true};
  }
  std::vector<const organization*> usable;
  for (const auto& org : orgs)
    if (organization_problem(org, product).empty()) usable.push_back(&org);
  if (usable.size() == 1) return {.chosen = *usable.front()};
  auto list = [](const auto& items) {
    std::string text;
    for (const auto& item : items) {
      const organization& org = *item;
      if (!text.empty()) text += ", ";
      text += fmt::format("{} ({})", org.id, org.name);
    }
    return text;
  };
  if (usable.empty()) {
    if (orgs.empty())
      return {.error = "the account has no organization the API key may see", .rejected = true};
    std::vector<const organization*> all;
    for (const auto& org : orgs) all.push_back(&org);
    return {.error = one_line(fmt::format("no organization is active and validated for {}: {}; "
                                          "the first says: {}",
                                          product, list(all),
                                          organization_problem(orgs.front(), product))),
            .rejected = true};
  }
  return {.error = one_line(fmt::format("the account has {} organizations that may order ({}): "
                                        "choose one with -orgid",
                                        usable.size(), list(usable))),
          .rejected = true};
}

status_meaning read_status(std::string_view status) {
  using k = status_meaning::kind;
  auto s = lower(status);
  if (s == "issued") return {k::issued, pending_reason::unknown, "issued"};
  if (s == "needs_approval")
    return {k::pending, pending_reason::needs_approval, "waiting for an approver in CertCentral"};
  if (s == "pending")
    return {k::pending, pending_reason::validation,
            "waiting for validation (domain or organization) in CertCentral"};
  if (s == "reissue_pending")
    return {k::pending, pending_reason::processing, "the reissue is pending at CertCentral"};
  if (s == "processing" || s == "approved")
    return {k::pending, pending_reason::processing, "being issued by CertCentral"};
  if (s == "waiting_pickup")
    return {k::pending, pending_reason::processing, "waiting for pickup in CertCentral"};
  if (s == "rejected") return {k::failed, pending_reason::unknown, "the order was rejected"};
  if (s == "denied") return {k::failed, pending_reason::unknown, "the order was denied"};
  if (s == "canceled" || s == "cancelled")
    return {k::failed, pending_reason::unknown, "the order was canceled"};
  if (s == "revoked") return {k::failed, pending_reason::unknown, "the order is revoked"};
  if (s == "expired") return {k::failed, pending_reason::unknown, "the order has expired"};
  return {k::pending, pending_reason::unknown,
          fmt::format("CertCentral reports the status '{}', unknown to cbcs",
                      one_line(status.empty() ? "(none)" : status, 64))};
}

namespace {

order_info read_order_object(const json_fields& o) {
  order_info out;
  out.id = o.id("id");
  out.status = lower(o.line("status", 64));
  out.comments = o.line("comments", 1024);
  out.date_created = o.line("date_created", 40);
  out.certificate_id = o.id("certificate_id");
  if (auto c = o.maybe_object("certificate")) {
    json_fields cert(*c, "certificate");
    if (auto id = cert.id("id"); !id.empty()) out.certificate_id = id;
    out.serial_number = cert.line("serial_number", 128);
    out.certificate_status = lower(cert.line("status", 64));
    out.csr = cert.maybe_str("csr").value_or("");
  }
  if (auto org = o.maybe_object("organization"))
    out.organization_id = json_fields(*org, "organization").id("id");
  for_each_object(o, "requests", "request", [&](const json_fields& r) {
    request_ref ref{r.id("id"), lower(r.line("status", 64))};
    if (!ref.id.empty()) out.requests.push_back(std::move(ref));
  });
  for_each_object(o, "certificate_chain", "chain certificate", [&](const json_fields& c) {
    certificate_pem p{c.line("subject_common_name", 256), c.maybe_str("pem").value_or("")};
    if (!p.pem.empty()) out.chain.push_back(std::move(p));
  });
  for (auto key : {"reason", "note", "processor_comment", "status_reason"})
    if (out.reason.empty()) out.reason = o.line(key, 256);
  return out;
}

}  // namespace

order_info parse_order(std::string_view body) {
  dom::parser parser;
  auto out = read_order_object(answer_fields(parser, body, "order answer"));
  if (out.id.empty()) unreadable("order answer", "it names no order id");
  return out;
}

order_list parse_order_list(std::string_view body) {
  dom::parser parser;
  auto root = list_answer(parser, body, "order list", "orders");
  order_list out;
  for_each_object(root, "orders", "order", [&](const json_fields& o) {
    auto info = read_order_object(o);
    if (!info.id.empty()) out.orders.push_back(std::move(info));
  });
  if (auto p = root.maybe_object("page")) {
    json_fields page(*p, "page");
    auto count = [&](std::string_view key) {
      return std::max<std::int64_t>(page.maybe_integer(key).value_or(0), 0);
    };
    out.total = count("total");
    out.offset = count("offset");
    out.limit = count("limit");
  }
  return out;
}

std::optional<std::string> digicert_serial(std::string_view serial_hex) {
  // CertCentral writes certificate.serial_number in upper-case hex, two
  // digits per byte (dev.digicert.com "Order info": "serial_number":
  // "0C4A6F..."), and reads an order by it in place of the order id.
  auto serial = crypto::serial_number::parse(serial_hex);
  if (!serial) return std::nullopt;
  return serial->hex_upper();
}

request_info parse_request(std::string_view body) {
  dom::parser parser;
  auto o = answer_fields(parser, body, "request answer");
  request_info out{o.id("id"), lower(o.line("status", 64)), o.line("processor_comment", 256)};
  if (out.status.empty()) unreadable("request answer", "it has no status");
  return out;
}

user_info parse_user(std::string_view body) {
  dom::parser parser;
  auto o = answer_fields(parser, body, "user answer");
  user_info out;
  out.username = o.line("username", 128);
  for_each_object(o, "access_roles", "access role", [&](const json_fields& r) {
    auto name = r.line("name", 64);
    if (!name.empty()) out.roles.push_back(std::move(name));
  });
  return out;
}

bool role_grants(std::string_view role, std::string_view permission) {
  auto r = lower(role);
  if (r == "administrator") return true;
  if (r == "manager") return permission != "create_longer_validity_order";
  if (r == "user" || r == "standard user")
    return permission == "view_organizations" || permission == "place_orders" ||
           permission == "view_orders";
  if (r == "finance manager") return permission == "view_orders";
  return false;
}

}  // namespace cbcs::protocol::ca::digicert
