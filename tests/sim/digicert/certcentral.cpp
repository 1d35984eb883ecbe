#include "tests/sim/digicert/certcentral.hpp"

#include <openssl/pem.h>
#include <simdjson.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::sim::digicert {
namespace dom = simdjson::dom;
using namespace std::chrono_literals;
using protocol::json_writer;

struct certcentral::organization {
  std::int64_t id;
  std::string name;
  std::string status = "active";
  bool active = true;
  std::string ov = "validated";  // the OV validation's status
  std::string ev = "";           // "" = none
};

struct certcentral::certificate {
  std::int64_t id;
  std::string serial;  // upper-case hex, DigiCert's form
  std::string csr;
  std::string common_name;
  std::vector<std::string> dns_names;
  std::string pem;  // "" until issued
  bool revoked = false;
};

struct certcentral::order {
  std::int64_t id;
  std::string product;
  std::int64_t org;
  std::string status;
  std::string comments;
  std::string date_created;
  std::int64_t renewal_of = 0;
  std::int64_t validity_days = 365;  // order_validity: the coverage bought
  std::vector<std::unique_ptr<certificate>> certificates;  // the current one last
  std::string pending_csr;                                 // a reissue waiting
  std::string reason;
  certificate& current() { return *certificates.back(); }
  const certificate& current() const { return *certificates.back(); }
};

struct certcentral::request {
  std::int64_t id;
  std::string type;  // new_request, reissue, revoke
  std::string status = "pending";
  std::int64_t order;
  std::int64_t certificate = 0;  // revoke of one certificate; 0: the order
  std::string processor_comment;
  std::string date;
};

namespace {

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return buf;
}

answer error(int status, std::string_view code, std::string_view message) {
  json_writer w(false);
  w.begin_object().key("errors").begin_array();
  w.begin_object().member("code", code).member("message", message).end_object();
  w.end_array().end_object();
  return {.status = status, .body = w.str()};
}

answer no_content() { return {.status = 204, .content_type = "", .body = ""}; }

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    auto eq = part.find('=');
    try {
      out[url_decode(part.substr(0, eq))] =
          eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    } catch (const std::exception&) {
    }
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

bool parse_json(dom::parser& p, const std::string& body, dom::object& out) {
  dom::element e;
  if (p.parse(body).get(e)) return false;
  return !e.get_object().get(out);
}

std::string str_of(dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s)) return {};
  return std::string(s);
}

std::int64_t int_of(dom::object o, std::string_view key) {
  std::int64_t n = 0;
  if (!o[key].get_int64().get(n)) return n;
  std::string_view s;
  if (!o[key].get_string().get(s)) try {
      return std::stoll(std::string(s));
    } catch (const std::exception&) {
    }
  return 0;
}

bool bool_of(dom::object o, std::string_view key) {
  bool b = false;
  return !o[key].get_bool().get(b) && b;
}

std::string with_crlf(const std::string& pem) {
  std::string out;
  for (char c : pem) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

crypto::x509_req_ptr read_csr(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  crypto::x509_req_ptr req(PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return req;
}

const char* policy_word(order_policy p) {
  switch (p) {
    case order_policy::issue:
      return "issue";
    case order_policy::approve:
      return "approve";
    case order_policy::validate:
      return "validate";
    case order_policy::reject:
      return "reject";
  }
  return "issue";
}

}  // namespace

certcentral::certcentral(std::string api_key) : api_key_(std::move(api_key)) {
  auto now = clock::now();
  auto root = crypto::create_root_ca("ecdsa-p256", "CertCentral Sim Root", now - 1h, 24h * 3650);
  root_pem_ = root.cert_pem;
  root_key_ = crypto::parse_private_key(root.key_pem);
  intermediate_key_ = crypto::generate_key("ecdsa-p256");
  auto root_cert = std::move(crypto::parse_certificates(root_pem_).front());
  auto csr = crypto::create_csr(intermediate_key_.get(), "CertCentral Sim TLS CA", {});
  intermediate_pem_ =
      crypto::issue_certificate(root_key_.get(), root_cert.get(), read_csr(csr).get(),
                                {.serial = {0x01}, .now = now, .validity = 24h * 3000});
  intermediate_ = std::move(crypto::parse_certificates(intermediate_pem_).front());
  auto org = std::make_unique<organization>();
  org->id = 112233;
  org->name = "Example Inc";
  organizations_[org->id] = std::move(org);
}

certcentral::~certcentral() = default;

bool certcentral::rate_limited(clock::time_point now, answer& out) {
  std::chrono::milliseconds longest{0};
  for (auto& w : windows_) longest = std::max(longest, w.length);
  while (!recent_.empty() && recent_.front() <= now - longest) recent_.pop_front();
  for (auto& w : windows_) {
    auto in_window =
        std::count_if(recent_.begin(), recent_.end(), [&](auto t) { return t > now - w.length; });
    if (in_window >= w.limit) {
      ++throttled_;
      out = error(
          429, "request_limit_exceeded",
          fmt::format("Rate limit of {} requests per {} ms exceeded", w.limit, w.length.count()));
      if (retry_after_) {
        // The oldest request in the window leaves it then.
        auto first = *std::find_if(recent_.begin(), recent_.end(),
                                   [&](auto t) { return t > now - w.length; });
        auto wait = std::chrono::duration_cast<std::chrono::seconds>(first + w.length - now) + 1s;
        out.headers.emplace_back("Retry-After", std::to_string(std::max<long>(1, wait.count())));
      }
      return true;
    }
  }
  recent_.push_back(now);
  return false;
}

answer certcentral::handle(const std::string& method, const std::string& target,
                           const std::string& api_key, const std::string& body,
                           clock::time_point now) {
  if (api_key.empty()) return error(401, "missing_api_key", "The X-DC-DEVKEY header is missing");
  if (api_key != api_key_) return error(401, "invalid_api_key", "The API key is not valid");
  answer limited;
  if (rate_limited(now, limited)) return limited;
  auto q = target.find('?');
  auto parts = split_path(std::string_view(target).substr(0, q));
  auto query = q == std::string::npos ? std::string() : target.substr(q + 1);
  if (parts.size() < 2 || parts[0] != "services" || parts[1] != "v2")
    return error(404, "not_found", "Unknown path");
  parts.erase(parts.begin(), parts.begin() + 2);
  auto n = parts.size();

  if (method == "GET" && n == 1 && parts[0] == "organization") {
    json_writer w(false);
    w.begin_object().key("organizations").begin_array();
    for (auto& [id, o] : organizations_) {
      w.begin_object()
          .member("id", id)
          .member("name", o->name)
          .member("status", o->status)
          .member("is_active", o->active)
          .key("validations")
          .begin_array();
      w.begin_object()
          .member("type", "ov")
          .member("status", o->ov)
          .member("validated_until", o->ov == "validated" ? iso_time(now + 24h * 300) : "")
          .end_object();
      if (!o->ev.empty())
        w.begin_object().member("type", "ev").member("status", o->ev).end_object();
      w.end_array().end_object();
    }
    w.end_array().end_object();
    return {.body = w.str()};
  }
  if (method == "GET" && n == 2 && parts[0] == "user" && parts[1] == "me") {
    json_writer w(false);
    w.begin_object().member("id", std::int64_t{7}).member("username", "api-user");
    w.key("access_roles").begin_array();
    std::int64_t i = 1;
    for (auto& r : roles_) w.begin_object().member("id", i++).member("name", r).end_object();
    w.end_array().end_object();
    return {.body = w.str()};
  }
  if (n >= 2 && parts[0] == "order" && parts[1] == "certificate") {
    if (method == "GET" && n == 2) return order_list(query);
    if (method == "POST" && n == 3) {
      if (auto* o = find_order(parts[2]);
          o && std::all_of(parts[2].begin(), parts[2].end(), ::isdigit))
        return error(400, "invalid_product", "Unknown product");
      return place(parts[2], body, now);
    }
    auto* o = n >= 3 ? find_order(parts[2]) : nullptr;
    if (!o) return error(404, "not_found", "Order not found");
    if (method == "GET" && n == 3) return order_info(*o);
    if (method == "POST" && n == 4 && parts[3] == "reissue") return reissue(*o, body, now);
    if (method == "PUT" && n == 4 && parts[3] == "revoke") return revoke(*o, nullptr, body, now);
    if (method == "PUT" && n == 4 && parts[3] == "status") return cancel(*o, body);
  }
  if (n >= 2 && parts[0] == "request") {
    auto it = requests_.end();
    try {
      it = requests_.find(std::stoll(parts[1]));
    } catch (const std::exception&) {
    }
    if (it == requests_.end()) return error(404, "not_found", "Request not found");
    auto& r = *it->second;
    if (method == "GET" && n == 2) {
      json_writer w(false);
      w.begin_object()
          .member("id", r.id)
          .member("date", r.date)
          .member("type", r.type)
          .member("status", r.status)
          .member("processor_comment", r.processor_comment)
          .key("order")
          .begin_object()
          .member("id", r.order)
          .end_object()
          .end_object();
      return {.body = w.str()};
    }
    if (method == "PUT" && n == 3 && parts[2] == "status") return set_request(r, body, true, now);
  }
  if (n >= 3 && parts[0] == "certificate") {
    std::int64_t certificate_id = 0;
    auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(),
                                     certificate_id);
    auto found = order_of_certificate_.end();
    if (ec == std::errc() && end == parts[1].data() + parts[1].size())
      found = order_of_certificate_.find(certificate_id);
    if (found != order_of_certificate_.end())
      for (auto& c : found->second->certificates)
        if (c->id == certificate_id) {
          auto* o = found->second;
          if (method == "GET" && n == 5 && parts[2] == "download" && parts[3] == "format") {
            if (c->pem.empty()) return error(400, "certificate_not_issued", "Not issued yet");
            bool root = parts[4] == "pem_all";
            if (!root && parts[4] != "pem_noroot")
              return error(400, "invalid_format", "Unknown format");
            return {.content_type = "text/plain",
                    .body = with_crlf(c->pem + intermediate_pem_ + (root ? root_pem_ : ""))};
          }
          if (method == "PUT" && n == 3 && parts[2] == "revoke")
            return revoke(*o, c.get(), body, now);
        }
    return error(404, "not_found", "Certificate not found");
  }
  return error(404, "not_found", "Unknown path");
}

certcentral::order* certcentral::find_order(const std::string& id_or_serial) {
  try {
    if (std::all_of(id_or_serial.begin(), id_or_serial.end(), ::isdigit) &&
        id_or_serial.size() < 12)
      if (auto it = orders_.find(std::stoll(id_or_serial)); it != orders_.end())
        return it->second.get();
  } catch (const std::exception&) {
  }
  // Also readable by the serial of any certificate of the order.
  std::string serial;
  for (char c : id_or_serial) serial += char(std::toupper(static_cast<unsigned char>(c)));
  auto it = order_of_serial_.find(serial);
  return it == order_of_serial_.end() ? nullptr : it->second;
}

void certcentral::index_certificate(order& o, const certificate& c) {
  order_of_certificate_[c.id] = &o;
  if (!c.common_name.empty()) orders_of_common_name_[c.common_name].insert(o.id);
}

order_policy certcentral::policy_for(std::int64_t org, const std::string& product) const {
  for (auto key : {fmt::format("{}/{}", org, product), fmt::format("*/{}", product),
                   fmt::format("{}/*", org), std::string("*/*")})
    if (auto it = policies_.find(key); it != policies_.end()) return it->second;
  return order_policy::issue;
}

bool certcentral::approver() const {
  for (auto& r : roles_)
    if (r == "Administrator" || r == "Manager") return true;
  return false;
}

answer certcentral::place(const std::string& product, const std::string& body,
                          clock::time_point now) {
  static const std::vector<std::string> products{
      "ssl_basic",    "ssl_plus",    "ssl_multi_domain", "ssl_wildcard",
      "ssl_ev_basic", "ssl_ev_plus", "private_ssl_plus", "ssl_securesite_pro"};
  if (std::find(products.begin(), products.end(), product) == products.end())
    return error(400, "invalid_product", fmt::format("Unknown product '{}'", product));
  dom::parser p;
  dom::object o;
  if (!parse_json(p, body, o)) return error(400, "invalid_json", "The body is not a JSON object");
  dom::object cert;
  if (o["certificate"].get_object().get(cert))
    return error(400, "missing_param", "certificate is required");
  auto csr = str_of(cert, "csr");
  auto cn = str_of(cert, "common_name");
  if (cn.empty()) return error(400, "missing_param", "certificate.common_name is required");
  try {
    crypto::check_certificate_request(csr);
  } catch (const std::exception& e) {
    return error(400, "invalid_csr", fmt::format("The CSR is invalid: {}", e.what()));
  }
  dom::object org_obj;
  std::int64_t org_id = 0;
  if (!o["organization"].get_object().get(org_obj)) org_id = int_of(org_obj, "id");
  auto org = organizations_.find(org_id);
  if (org == organizations_.end())
    return error(400, "invalid_organization", "organization.id is missing or unknown");
  auto ord = std::make_unique<order>();
  ord->id = next_order_++;
  ord->product = product;
  ord->org = org_id;
  ord->comments = str_of(o, "comments");
  ord->date_created = iso_time(now);
  ord->renewal_of = int_of(o, "renewal_of_order_id");
  dom::object validity;
  if (!o["order_validity"].get_object().get(validity)) {
    if (auto days = int_of(validity, "days"); days > 0) ord->validity_days = days;
    if (auto years = int_of(validity, "years"); years > 0) ord->validity_days = 365 * years;
  }
  if (ord->renewal_of && !orders_.count(ord->renewal_of))
    return error(400, "invalid_renewal", "renewal_of_order_id names no order");
  auto c = std::make_unique<certificate>();
  c->id = next_certificate_++;
  c->csr = csr;
  c->common_name = cn;
  dom::array dns;
  if (!cert["dns_names"].get_array().get(dns))
    for (auto d : dns) {
      std::string_view s;
      if (!d.get_string().get(s)) c->dns_names.emplace_back(s);
    }
  ord->certificates.push_back(std::move(c));
  auto policy = policy_for(org_id, product);
  bool skip = bool_of(o, "skip_approval");
  auto& placed = *ord;
  orders_[placed.id] = std::move(ord);
  index_certificate(placed, placed.current());
  bool org_ok = org->second->active && org->second->ov == "validated";
  json_writer w(false);
  w.begin_object().member("id", placed.id);
  if (policy == order_policy::reject) {
    placed.status = "rejected";
    placed.reason = "rejected by the simulator's policy";
  } else if (policy == order_policy::approve && !skip) {
    placed.status = "needs_approval";
    auto r = std::make_unique<request>();
    r->id = next_request_++;
    r->type = "new_request";
    r->order = placed.id;
    r->date = iso_time(now);
    w.key("requests").begin_array().begin_object().member("id", r->id).member("status", "pending");
    w.end_object().end_array();
    requests_[r->id] = std::move(r);
  } else if (policy == order_policy::validate || !org_ok) {
    placed.status = "pending";
    w.member("certificate_id", placed.current().id);
  } else {
    issue(placed, csr, now);
    w.member("certificate_id", placed.current().id);
    w.key("certificate_chain").begin_array();
    for (auto* pem : {&placed.current().pem, &intermediate_pem_, &root_pem_})
      w.begin_object()
          .member("subject_common_name", "")
          .member("pem", with_crlf(*pem))
          .end_object();
    w.end_array();
  }
  w.end_object();
  return {.status = 201, .body = w.str()};
}

void certcentral::issue(order& o, const std::string& csr, clock::time_point now) {
  auto& c = o.current();
  auto req = read_csr(csr);
  std::uint32_t s = next_serial_++;
  std::vector<std::uint8_t> serial{0x0d, std::uint8_t(s >> 24), std::uint8_t(s >> 16),
                                   std::uint8_t(s >> 8), std::uint8_t(s)};
  // "Starting February 24, 2026, the maximum validity period for a Public
  // TLS/SSL certificate will be 199 days ... although a 1-year duration can be
  // specified, the effective validity is limited to a maximum of 199 days"
  // (dev.digicert.com, Reissue certificate).
  constexpr std::int64_t max_certificate_days = 199;
  auto days = std::min(o.validity_days, max_certificate_days);
  c.pem = crypto::issue_certificate(intermediate_key_.get(), intermediate_.get(), req.get(),
                                    {.serial = serial, .now = now, .validity = 24h * days});
  auto cert = std::move(crypto::parse_certificates(c.pem).front());
  c.serial.clear();
  for (char ch : crypto::serial_hex(cert.get()))
    c.serial += char(std::toupper(static_cast<unsigned char>(ch)));
  order_of_serial_[c.serial] = &o;
  c.csr = csr;
  o.status = "issued";
}

answer certcentral::reissue(order& o, const std::string& body, clock::time_point now) {
  if (o.status != "issued") return error(400, "invalid_order_status", "Only issued orders reissue");
  dom::parser p;
  dom::object obj, cert;
  if (!parse_json(p, body, obj) || obj["certificate"].get_object().get(cert))
    return error(400, "missing_param", "certificate is required");
  auto csr = str_of(cert, "csr");
  try {
    crypto::check_certificate_request(csr);
  } catch (const std::exception& e) {
    return error(400, "invalid_csr", fmt::format("The CSR is invalid: {}", e.what()));
  }
  auto policy = policy_for(o.org, o.product);
  json_writer w(false);
  w.begin_object().member("id", o.id);
  auto r = std::make_unique<request>();
  r->id = next_request_++;
  r->type = "reissue";
  r->order = o.id;
  r->date = iso_time(now);
  if (policy == order_policy::approve && !bool_of(obj, "skip_approval")) {
    o.status = "reissue_pending";
    o.pending_csr = csr;
  } else {
    r->status = "approved";
    auto c = std::make_unique<certificate>();
    c->id = next_certificate_++;
    c->common_name = str_of(cert, "common_name");
    // A reissue naming none keeps the order's name (the simulator's choice:
    // the driver always sends one), so a lookup by name still finds the order.
    if (c->common_name.empty()) c->common_name = o.current().common_name;
    o.certificates.push_back(std::move(c));
    index_certificate(o, o.current());
    issue(o, csr, now);
  }
  w.key("requests").begin_array().begin_object().member("id", r->id).member("status", r->status);
  w.end_object().end_array().end_object();
  requests_[r->id] = std::move(r);
  return {.status = 201, .body = w.str()};
}

answer certcentral::revoke(order& o, certificate* c, const std::string& body,
                           clock::time_point now) {
  // CertCentral's documented words, exactly (dev.digicert.com "Revoke order
  // certificates": unspecified, keyCompromise, affiliationChanged,
  // superseded, cessationOfOperation); anything else, snake_case included,
  // is a 400 as CertCentral answers it.
  static const std::vector<std::string> reasons{
      "unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"};
  dom::parser p;
  dom::object obj;
  if (!body.empty() && !parse_json(p, body, obj))
    return error(400, "invalid_json", "The body is not a JSON object");
  auto reason = body.empty() ? std::string() : str_of(obj, "revocation_reason");
  if (!reason.empty() && std::find(reasons.begin(), reasons.end(), reason) == reasons.end())
    return error(400, "invalid_revocation_reason", fmt::format("Unknown reason '{}'", reason));
  if (o.status == "revoked" || (c && c->revoked))
    return error(400, "invalid_certificate_status", "The certificate is revoked already");
  if (o.status != "issued") return error(400, "invalid_order_status", "The order is not issued");
  auto r = std::make_unique<request>();
  r->id = next_request_++;
  r->type = "revoke";
  r->order = o.id;
  r->certificate = c ? c->id : 0;
  r->date = iso_time(now);
  if (!body.empty() && bool_of(obj, "skip_approval") && approver()) {
    approve(*r, now);
    return no_content();
  }
  json_writer w(false);
  w.begin_object()
      .member("id", r->id)
      .member("date", r->date)
      .member("type", "revoke")
      .member("status", "pending")
      .member("comments", body.empty() ? "" : str_of(obj, "comments"))
      .end_object();
  requests_[r->id] = std::move(r);
  return {.status = 201, .body = w.str()};
}

void certcentral::approve(request& r, clock::time_point now) {
  r.status = "approved";
  auto& o = *orders_.at(r.order);
  if (r.type == "new_request") {
    if (policy_for(o.org, o.product) == order_policy::validate)
      o.status = "pending";
    else
      issue(o, o.current().csr, now);
  } else if (r.type == "reissue" && !o.pending_csr.empty()) {
    auto c = std::make_unique<certificate>();
    c->id = next_certificate_++;
    c->common_name = o.current().common_name;  // the approved reissue keeps the order's name
    o.certificates.push_back(std::move(c));
    index_certificate(o, o.current());
    issue(o, o.pending_csr, now);
    o.pending_csr.clear();
  } else if (r.type == "revoke") {
    for (auto& c : o.certificates)
      if (r.certificate == 0 || c->id == r.certificate) c->revoked = true;
    if (r.certificate == 0 || r.certificate == o.current().id) o.status = "revoked";
  }
}

answer certcentral::set_request(request& r, const std::string& body, bool by_api,
                                clock::time_point now) {
  dom::parser p;
  dom::object obj;
  if (!parse_json(p, body, obj)) return error(400, "invalid_json", "The body is not a JSON object");
  auto status = str_of(obj, "status");
  if (by_api && !approver())
    return error(403, "access_denied", "The user may not approve or reject requests");
  // A request no longer pending is refused with a 400 that says what it
  // became: "The request has already been approved" (an approver quicker
  // than the caller, or the caller's own approval whose answer it lost).
  if (r.status != "pending")
    return error(400, "invalid_status", fmt::format("The request has already been {}", r.status));
  r.processor_comment = str_of(obj, "processor_comment");
  if (status == "approved") {
    approve(r, now);
  } else if (status == "rejected") {
    r.status = "rejected";
    auto& o = *orders_.at(r.order);
    if (r.type == "new_request") {
      o.status = "rejected";
      o.reason = r.processor_comment;
    } else if (r.type == "reissue") {
      o.status = "issued";
      o.pending_csr.clear();
    }
  } else {
    return error(400, "invalid_status", "status must be approved or rejected");
  }
  return no_content();
}

answer certcentral::cancel(order& o, const std::string& body) {
  dom::parser p;
  dom::object obj;
  if (!parse_json(p, body, obj) || str_of(obj, "status") != "canceled")
    return error(400, "invalid_status", "status must be canceled");
  if (o.status == "canceled")
    return error(400, "invalid_order_status", "The order has already been canceled");
  if (o.status != "needs_approval" && o.status != "pending" && o.status != "reissue_pending")
    return error(400, "invalid_order_status", "Only waiting orders can be canceled");
  o.status = "canceled";
  o.reason = str_of(obj, "note");
  for (auto& [id, r] : requests_)
    if (r->order == o.id && r->status == "pending") r->status = "canceled";
  return no_content();
}

std::string certcentral::order_json(const order& o) const {
  json_writer w(false);
  auto& c = o.current();
  w.begin_object()
      .member("id", o.id)
      .member("status", o.status)
      .member("date_created", o.date_created)
      .member("product", o.product)
      .member("comments", o.comments);
  if (!o.reason.empty()) w.member("reason", o.reason);
  if (o.renewal_of) w.member("renewal_of_order_id", o.renewal_of);
  w.key("organization").begin_object().member("id", o.org).end_object();
  w.key("certificate")
      .begin_object()
      .member("id", c.id)
      .member("common_name", c.common_name)
      .member("serial_number", c.serial)
      .member("csr", c.csr)
      .key("dns_names")
      .begin_array();
  for (auto& d : c.dns_names) w.value(d);
  w.end_array().end_object();
  w.key("requests").begin_array();
  for (auto& [id, r] : requests_)
    if (r->order == o.id)
      w.begin_object()
          .member("id", id)
          .member("type", r->type)
          .member("status", r->status)
          .end_object();
  w.end_array().end_object();
  return w.str();
}

answer certcentral::order_info(const order& o) { return {.body = order_json(o)}; }

answer certcentral::order_list(const std::string& query) {
  auto q = parse_query(query);
  std::int64_t limit = 1000, offset = 0;
  try {
    if (q.count("limit")) limit = std::clamp<std::int64_t>(std::stoll(q["limit"]), 1, 1000);
    if (q.count("offset")) offset = std::max<std::int64_t>(0, std::stoll(q["offset"]));
  } catch (const std::exception&) {
    return error(400, "invalid_param", "limit and offset must be numbers");
  }
  std::vector<const order*> matching;
  auto keep = [&](const order& o) {
    if (q.count("filters[common_name]") && o.current().common_name != q["filters[common_name]"])
      return;
    if (q.count("filters[status]") && o.status != q["filters[status]"]) return;
    matching.push_back(&o);
  };
  if (q.count("filters[common_name]")) {
    // Orders ever holding the name, by id (as orders_ iterates); keep() checks the current one.
    if (auto it = orders_of_common_name_.find(q["filters[common_name]"]);
        it != orders_of_common_name_.end())
      for (auto id : it->second) keep(*orders_.at(id));
  } else {
    for (auto& [id, o] : orders_) keep(*o);
  }
  if (q["sort"] == "-date_created") std::reverse(matching.begin(), matching.end());
  json_writer w(false);
  w.begin_object().key("orders").begin_array();
  for (std::int64_t i = offset; i < std::int64_t(matching.size()) && i < offset + limit; ++i) {
    auto& o = *matching[std::size_t(i)];
    w.begin_object()
        .member("id", o.id)
        .member("status", o.status)
        .member("date_created", o.date_created)
        .key("certificate")
        .begin_object()
        .member("id", o.current().id)
        .member("common_name", o.current().common_name)
        .end_object()
        .key("product")
        .begin_object()
        .member("name_id", o.product)
        .end_object()
        .end_object();
  }
  w.end_array();
  w.key("page")
      .begin_object()
      .member("total", std::int64_t(matching.size()))
      .member("limit", limit)
      .member("offset", offset)
      .end_object()
      .end_object();
  return {.body = w.str()};
}

answer certcentral::admin(const std::string& method, const std::string& target,
                          const std::string& body, clock::time_point now) {
  auto parts = split_path(target.substr(0, target.find('?')));
  dom::parser p;
  dom::object obj;
  bool has_body = parse_json(p, body.empty() ? std::string("{}") : body, obj);
  if (parts.empty() || parts[0] != "admin") return error(404, "not_found", "Unknown admin path");
  auto n = parts.size();
  // A long run's count (its full list is quadratic in orders): orders, and
  // comments (a job's tag) that two or more orders carry.
  if (method == "GET" && n == 2 && parts[1] == "orders_summary") {
    std::unordered_map<std::string, int> by_comments;
    for (auto& [id, o] : orders_) ++by_comments[o->comments];
    std::int64_t doubled = 0;
    for (auto& [comments, count] : by_comments) doubled += count > 1 ? 1 : 0;
    json_writer w(false);
    w.begin_object()
        .member("orders", std::int64_t(orders_.size()))
        .member("comments_on_two_or_more", doubled)
        .end_object();
    return {.body = w.str()};
  }
  if (method == "GET" && n == 2 && parts[1] == "orders") {
    json_writer w(false);
    w.begin_object().member("throttled", std::int64_t(throttled_)).key("orders").begin_array();
    for (auto& [id, o] : orders_) {
      w.begin_object()
          .member("id", id)
          .member("status", o->status)
          .member("product", o->product)
          .member("comments", o->comments)
          .member("certificates", std::int64_t(o->certificates.size()))
          .member("serial", o->current().serial)
          .member("renewal_of_order_id", o->renewal_of)
          .key("requests")
          .begin_array();
      for (auto& [rid, r] : requests_)
        if (r->order == id)
          w.begin_object()
              .member("id", rid)
              .member("type", r->type)
              .member("status", r->status)
              .end_object();
      w.end_array().end_object();
    }
    w.end_array().end_object();
    return {.body = w.str()};
  }
  if (!has_body) return error(400, "invalid_json", "The body is not a JSON object");
  if (method == "POST" && n == 2 && parts[1] == "policy") {
    auto mode = str_of(obj, "mode");
    order_policy policy;
    if (mode == "issue")
      policy = order_policy::issue;
    else if (mode == "approve")
      policy = order_policy::approve;
    else if (mode == "validate")
      policy = order_policy::validate;
    else if (mode == "reject")
      policy = order_policy::reject;
    else
      return error(400, "invalid_param", "mode: issue, approve, validate or reject");
    auto org = str_of(obj, "organization");
    auto product = str_of(obj, "product");
    policies_[fmt::format("{}/{}", org.empty() ? "*" : org, product.empty() ? "*" : product)] =
        policy;
    return {.body = fmt::format(R"({{"mode":"{}"}})", policy_word(policy))};
  }
  if (method == "POST" && n == 3 && parts[1] == "requests") {
    // An approver acting in CertCentral's web interface.
    for (auto& [id, r] : requests_)
      if (std::to_string(id) == parts[2]) return set_request(*r, body, false, now);
    return error(404, "not_found", "Request not found");
  }
  if (method == "POST" && n == 3 && parts[1] == "organizations") {
    std::int64_t id = 0;
    try {
      id = std::stoll(parts[2]);
    } catch (const std::exception&) {
      return error(400, "invalid_param", "organization id");
    }
    auto& org = organizations_[id];
    if (!org) {
      org = std::make_unique<organization>();
      org->id = id;
      org->name = fmt::format("Organization {}", id);
    }
    if (auto v = str_of(obj, "name"); !v.empty()) org->name = v;
    if (auto v = str_of(obj, "ov"); !v.empty()) org->ov = v;
    if (auto v = str_of(obj, "ev"); !v.empty()) org->ev = v;
    if (auto v = str_of(obj, "status"); !v.empty()) {
      org->status = v;
      org->active = v == "active";
    }
    return {.body = "{}"};
  }
  if (method == "POST" && n == 2 && parts[1] == "user") {
    roles_.clear();
    dom::array roles;
    if (!obj["roles"].get_array().get(roles))
      for (auto r : roles) {
        std::string_view s;
        if (!r.get_string().get(s)) roles_.emplace_back(s);
      }
    return {.body = "{}"};
  }
  if (method == "POST" && n == 2 && parts[1] == "limits") {
    dom::array list;
    if (!obj["windows"].get_array().get(list)) {
      windows_.clear();
      for (auto e : list) {
        dom::object wo;
        if (e.get_object().get(wo)) continue;
        windows_.push_back({int(int_of(wo, "limit")), std::chrono::milliseconds(int_of(wo, "ms"))});
      }
    }
    bool b = true;
    if (!obj["retry_after"].get_bool().get(b)) retry_after_ = b;
    recent_.clear();
    return {.body = "{}"};
  }
  return error(404, "not_found", "Unknown admin path");
}

}  // namespace cbcs::sim::digicert
