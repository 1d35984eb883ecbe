#include "protocol/ca/gcpcas/gcpcas_driver.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>
#include <set>

#include <simdjson.h>

#include "crypto/digest.hpp"
#include "crypto/pem.hpp"
#include "crypto/per_thread.hpp"
#include "crypto/serial_number.hpp"
#include "crypto/sigv4.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/gcpcas/access_token.hpp"
#include "protocol/ca/gcpcas/revocation_reasons.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

using namespace std::chrono_literals;
namespace dom = simdjson::dom;

constexpr std::int64_t default_lifetime_seconds = 30 * 86400;
constexpr std::string_view token_what = "the service account's access token";

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

// The backend's settings, resolved once per driver.
struct backend {
  std::string name;
  std::string problem;  // non-empty: every job fails with this
  std::string base;     // endpoint without a trailing '/'
  std::string project;
  std::string location;
  std::string pool;
  std::string ca;
  std::string template_name;
  std::string tier;  // "ENTERPRISE", "DEVOPS" or "" (learnt from the pool)

  std::string location_path() const { return "projects/" + project + "/locations/" + location; }
  std::string pool_path(std::string_view pool_id) const {
    return location_path() + "/caPools/" + std::string(pool_id);
  }
};

// What a backend's sessions share: the token, and what they learnt.
struct shared_state {
  token_source tokens;
  std::string learnt_pool;
  std::map<std::string, std::string, std::less<>> tiers;  // pool id -> tier
};

std::shared_ptr<const backend> resolve(const driver_config& config, shared_state& shared) {
  auto b = std::make_shared<backend>();
  b->name = config.name;
  b->project = setting(config.settings, "project");
  b->location = setting(config.settings, "location");
  b->pool = setting(config.settings, "pool");
  b->ca = setting(config.settings, "ca");
  b->template_name = setting(config.settings, "template");
  auto tier = setting(config.settings, "tier");
  auto key = setting(config.secrets, "key");
  std::vector<std::string> missing;
  if (b->project.empty()) missing.emplace_back("project");
  if (b->location.empty()) missing.emplace_back("location");
  if (key.empty()) missing.emplace_back("key");
  if (!missing.empty()) {
    b->problem = "backend '" + config.name + "' is missing the setting";
    for (std::size_t i = 0; i < missing.size(); ++i)
      b->problem += (i == 0 ? " " : ", ") + missing[i];
    return b;
  }
  if (iequals(tier, "enterprise"))
    b->tier = "ENTERPRISE";
  else if (iequals(tier, "devops"))
    b->tier = "DEVOPS";
  else if (!tier.empty()) {
    b->problem = "backend '" + config.name + "': tier must be enterprise or devops";
    return b;
  }
  auto endpoint = setting(config.settings, "endpoint");
  b->base = endpoint.empty() ? std::string(default_endpoint) : endpoint;
  while (b->base.ends_with('/')) b->base.pop_back();
  try {
    shared.tokens.account = parse_service_account(key);
    shared.tokens.key = crypto::parse_private_key(shared.tokens.account.private_key_pem);
  } catch (const std::exception& e) {
    b->problem = "backend '" + config.name + "': the service-account key is not usable (" +
                 one_line(e.what(), 200) + ")";
  }
  return b;
}

struct pool_entry {
  std::string id;
  std::string name;
  std::string tier;
  struct ca_entry {
    std::string name;
    std::string state;
    std::string tier;
  };
  std::vector<ca_entry> cas;
  std::string error;
};

std::string last_segment(std::string_view name) {
  auto slash = name.rfind('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

// projects/P/locations/L/caPools/POOL/certificates/ID with the pool and id
// of Google's characters: a name from an answer or a job goes into a URL.
bool is_certificate_name(std::string_view location_path, std::string_view name) {
  auto prefix = std::string(location_path) + "/caPools/";
  if (!name.starts_with(prefix)) return false;
  auto rest = name.substr(prefix.size());
  auto cut = rest.find("/certificates/");
  if (cut == std::string_view::npos) return false;
  auto pool = rest.substr(0, cut), id = rest.substr(cut + 14);
  auto ok = [](std::string_view s) {
    return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), is_id_char);
  };
  return ok(pool) && ok(id);
}

class session final : public http_session {
 public:
  session(std::shared_ptr<const backend> b, std::shared_ptr<shared_state> shared, job j)
      : backend_(std::move(b)), shared_(std::move(shared)), job_(std::move(j)) {}

 private:
  enum class state {
    pick_pool,
    create,
    get_existing,
    pool_tier,
    find_serial,
    revoke,
    list_pools,
    list_cas,
    iam
  };

  struct call {
    std::string method;
    std::string url;
    std::string body;
    std::string rate_class;
  };

  // --- http_session

  step begin() override {
    if (!backend_->problem.empty())
      return outcome::failed(error_class::invalid_request, backend_->problem);
    auto choice = parse_profile(job_.profile);
    if (!choice.error.empty()) return outcome::failed(error_class::invalid_request, choice.error);
    pool_ = !choice.pool.empty() ? choice.pool : backend_->pool;
    template_ = !choice.template_name.empty() ? choice.template_name : backend_->template_name;
    if (!template_.empty() && template_.find('/') == std::string::npos)
      template_ = backend_->location_path() + "/certificateTemplates/" + template_;
    switch (job_.op) {
      case operation::enroll:
      case operation::renew:
        if (job_.csr_pem.empty())
          return outcome::failed(error_class::invalid_request, "the job has no CSR");
        if (job_.validity_seconds < 0)
          return outcome::failed(error_class::invalid_request, "validity must not be negative");
        return with_pool([this] { return create(); });
      case operation::revoke: {
        auto mapped = revocation_reason(job_.reason);
        if (!mapped.error.empty())
          return outcome::failed(error_class::invalid_request, mapped.error);
        reason_ = mapped.word;
        return with_pool([this] { return revoke_start(); });
      }
      case operation::inventory:
      case operation::test:
        return list_pools(state::list_pools);
    }
    return internal("unknown operation");
  }

  step again() override {
    if (fetching_) return token_request(shared_->tokens.account, shared_->tokens.key.get(), now());
    return send(last_);
  }

  step on_answer(const http_response& r) override {
    if (fetching_) return on_token(r);
    return on_response(r);
  }

  // --- Token and calls

  step send(call c) {
    last_ = std::move(c);
    auto& tokens = shared_->tokens;
    const std::string* token = tokens.cache.get(now());
    if (!token) {
      // Another session fetches it already: one token request serves every job.
      if (tokens.cache.fetching()) return await_fetch{std::string(token_what)};
      if (!tokens.refusal.empty() && now() - tokens.refused_at < refusal_memory)
        return outcome::failed(error_class::auth, tokens.refusal, "invalid_grant");
      guard_.emplace(tokens.cache);
      fetching_ = true;
      return token_request(tokens.account, tokens.key.get(), now());
    }
    used_token_ = *token;
    http_request r;
    r.method = last_.method;
    r.url = last_.url;
    r.headers.push_back({"Authorization", "Bearer " + *token});
    if (!last_.body.empty()) r.headers.push_back({"Content-Type", "application/json"});
    r.body = last_.body;
    r.rate_class = last_.rate_class;
    return r;
  }

  step on_token(const http_response& r) {
    auto& tokens = shared_->tokens;
    auto got = read_token_answer(r, tokens.account, now());
    fetching_ = false;
    guard_.reset();
    if (auto* t = std::get_if<access_token>(&got)) {
      tokens.cache.store(t->token, {t->token}, now() + t->expires_in, now());
      tokens.refusal.clear();
      return send(last_);
    }
    auto& o = std::get<outcome>(got);
    // The token service is busy: the token held is still good for a while.
    if (o.retryable && tokens.cache.usable(now())) {
      tokens.cache.postpone_refresh(now());
      return send(last_);
    }
    if (!o.retryable) {
      tokens.refusal = o.message;
      tokens.refused_at = now();
    }
    o.message = scrub(o.message);
    return o;
  }

  std::string scrub(std::string message) const {
    shared_->tokens.cache.redact(message);
    return one_line(message);
  }

  outcome internal(std::string message) const {
    return outcome::failed(error_class::internal, scrub(std::move(message)));
  }

  std::string api(std::string_view path) const {
    return backend_->base + "/v1/" + std::string(path);
  }

  // --- Pool

  // Runs `then` once the pool is known: the job's or the backend's, else the
  // location's only one.
  template <class F>
  step with_pool(F then) {
    if (pool_.empty()) pool_ = shared_->learnt_pool;
    if (!pool_.empty()) return then();
    after_pool_ = then;
    return list_pools(state::pick_pool);
  }

  step list_pools(state s) {
    state_ = s;
    std::string url = api(backend_->location_path() + "/caPools");
    if (!page_token_.empty()) url += "?pageToken=" + crypto::sigv4::uri_encode(page_token_, true);
    return send({"GET", url, "", "list"});
  }

  step on_pools(dom::element doc) {
    dom::array list;
    auto field = doc["caPools"];
    if (field.error() == simdjson::SUCCESS && !field.value_unsafe().is_null()) {
      if (field.get_array().get(list)) return internal("the caPools answer has no caPools list");
      for (auto item : list) {
        json_fields f(item, "caPool");
        auto name = f.maybe_str("name").value_or("");
        auto id = last_segment(name);
        // The name goes into URLs: a pool of this location, by Google's characters.
        if (name != backend_->pool_path(id) || id.size() > 63 ||
            !std::all_of(id.begin(), id.end(), is_id_char))
          return internal("the caPools answer names a pool that is not one of " +
                          backend_->location_path());
        auto tier = f.maybe_str("tier").value_or("");
        pools_.push_back({id, name, tier, {}, {}});
        if (!tier.empty()) shared_->tiers[id] = tier;
      }
    }
    auto next = json_fields(doc, {}).maybe_str("nextPageToken").value_or("");
    if (!next.empty()) {
      if (++pages_ > 100 || next == page_token_) return internal("caPools keeps returning pages");
      page_token_ = next;
      return list_pools(state_);
    }
    page_token_.clear();
    if (state_ == state::list_pools) {
      pool_index_ = 0;
      return next_pool_cas();
    }
    // Choose the pool: the only one.
    if (pools_.size() == 1) {
      pool_ = pools_.front().id;
      shared_->learnt_pool = pool_;
      return after_pool_();
    }
    if (pools_.empty())
      return outcome::failed(error_class::invalid_request,
                             scrub("there is no CA pool in " + backend_->location_path() +
                                   ": create one, or name one with -pool"));
    std::string names;
    for (const auto& p : pools_) names += (names.empty() ? "" : ", ") + p.id;
    return outcome::failed(
        error_class::invalid_request,
        scrub(backend_->location_path() + " has " + std::to_string(pools_.size()) + " CA pools (" +
              names + "): name one with -pool, or in the job's profile as pool:NAME"));
  }

  // --- Create

  step create() {
    state_ = state::create;
    std::string url = api(backend_->pool_path(pool_) + "/certificates") +
                      "?certificateId=" + certificate_id(job_.id) +
                      "&requestId=" + request_id(job_.id);
    if (!backend_->ca.empty())
      url += "&issuingCertificateAuthorityId=" + crypto::sigv4::uri_encode(backend_->ca, true);
    auto lifetime = job_.validity_seconds > 0 ? job_.validity_seconds : default_lifetime_seconds;
    json_writer w(false);
    w.begin_object()
        .member("pemCsr", job_.csr_pem)
        .member("lifetime", std::to_string(lifetime) + "s");
    if (!template_.empty()) w.member("certificateTemplate", template_);
    w.key("labels").begin_object().member("cbcs-job", label_value(job_.id)).end_object();
    w.end_object();
    return send({"POST", url, w.str(), "create"});
  }

  step get_existing() {
    state_ = state::get_existing;
    return send({"GET",
                 api(backend_->pool_path(pool_) + "/certificates/" + certificate_id(job_.id)), "",
                 "get"});
  }

  step on_certificate(dom::element doc) {
    json_fields f(doc, "Certificate");
    auto cert = f.maybe_str("pemCertificate").value_or("");
    if (cert.empty()) return internal("the certificate answer has no pemCertificate");
    if (state_ == state::get_existing && !crypto::certificate_matches_csr(cert, job_.csr_pem))
      return outcome::failed(
          error_class::rejected,
          scrub("certificate " + certificate_id(job_.id) + " exists in pool " + pool_ +
                " for another key than the job's CSR; it was not made for this job"));
    if (state_ == state::get_existing) {
      // Found by the id derived from the job (ALREADY_EXISTS): never handed
      // out as issued when it is revoked (revocationDetails, CA Service v1
      // Certificate) or expired since (order_lookup.hpp).
      dom::element revoked;
      bool is_revoked = !doc["revocationDetails"].get(revoked) && !revoked.is_null();
      auto why = unusable_certificate(cert, job_.csr_pem,
                                      is_revoked ? found_state::revoked : found_state::live, now());
      if (!why.empty())
        return outcome::failed(error_class::rejected,
                               scrub("certificate " + certificate_id(job_.id) + " in pool " +
                                     pool_ + " was made for this job earlier, but " + why +
                                     "; it is not handed out as issued"));
    }
    std::string chain;
    dom::array list;
    if (!doc["pemCertificateChain"].get_array().get(list)) {
      for (auto item : list) {
        std::string_view pem;
        if (item.get_string().get(pem))
          return internal("pemCertificateChain holds something that is not a string");
        chain += ensure_newline(std::string(pem));
      }
    }
    std::string serial;
    try {
      serial = crypto::certificate_serial_hex(cert);
    } catch (const std::exception& e) {
      return internal(std::string("the certificate from CA Service cannot be read (") + e.what() +
                      ")");
    }
    return outcome::issued(ensure_newline(cert), chain, serial);
  }

  // --- Revoke

  step revoke_start() {
    auto tier = backend_->tier;
    if (tier.empty())
      if (auto it = shared_->tiers.find(pool_); it != shared_->tiers.end()) tier = it->second;
    if (tier.empty()) {
      state_ = state::pool_tier;
      return send({"GET", api(backend_->pool_path(pool_)), "", "get"});
    }
    if (tier == "DEVOPS")
      return outcome::failed(
          error_class::not_implemented,
          scrub("pool " + pool_ +
                " is a DevOps pool: CA Service keeps no certificates there, so it cannot revoke "
                "them (use an Enterprise pool for certificates that may need revoking)"));
    auto given = setting(job_.params, "certificate_name");
    if (auto id = setting(job_.params, "certificate_id"); given.empty() && !id.empty())
      given = backend_->pool_path(pool_) + "/certificates/" + id;
    if (!given.empty()) {
      if (!is_certificate_name(backend_->location_path(), given))
        return outcome::failed(error_class::invalid_request,
                               "the job's certificate_id or certificate_name is not a certificate "
                               "of a CA pool in " +
                                   backend_->location_path());
      certificate_name_ = given;
      return revoke();
    }
    std::string why;
    auto serial = crypto::serial_number::parse(job_.serial_hex, &why);
    if (!serial)
      return outcome::failed(
          error_class::invalid_request,
          one_line("the job's serial '" + one_line(job_.serial_hex, 80) + "': " + why));
    serial_ = serial->hex();
    state_ = state::find_serial;
    // CA Service documents hexSerialNumber as "The serial number encoded in
    // lowercase hexadecimal" without saying whether a leading zero digit is
    // kept (it writes Go's %x: none). Ask for both forms when they differ.
    constexpr std::string_view field =
        "certificate_description.subject_description.hex_serial_number";
    auto filter = std::string(field) + "=\"" + serial->hex_minimal() + "\"";
    if (serial->hex_minimal() != serial->hex())
      filter += " OR " + std::string(field) + "=\"" + serial->hex() + "\"";
    return send({"GET",
                 api(backend_->pool_path(pool_) + "/certificates") +
                     "?filter=" + crypto::sigv4::uri_encode(filter, true),
                 "", "get"});
  }

  step on_pool_tier(dom::element doc) {
    auto tier = json_fields(doc, "CaPool").maybe_str("tier").value_or("");
    if (tier.empty()) return internal("the CA pool answer has no tier");
    shared_->tiers[pool_] = tier;
    return revoke_start();
  }

  step on_found(dom::element doc) {
    std::vector<std::string> names;
    dom::array list;
    if (!doc["certificates"].get_array().get(list))
      for (auto item : list)
        if (auto n = json_fields(item, "Certificate").maybe_str("name"); n && !n->empty())
          names.push_back(*n);
    if (names.empty())
      return outcome::failed(error_class::invalid_request,
                             scrub("pool " + pool_ + " has no certificate with serial " + serial_));
    if (names.size() > 1)
      return internal("pool " + pool_ + " lists several certificates with serial " + serial_);
    if (!is_certificate_name(backend_->location_path(), names.front()) ||
        !names.front().starts_with(backend_->pool_path(pool_) + "/"))
      return internal("the lookup by serial answered a name that is not a certificate of pool " +
                      pool_);
    certificate_name_ = names.front();
    return revoke();
  }

  step revoke() {
    state_ = state::revoke;
    json_writer w(false);
    w.begin_object()
        .member("reason", reason_)
        .member("requestId", request_id(job_.id))
        .end_object();
    return send({"POST", api(certificate_name_) + ":revoke", w.str(), "revoke"});
  }

  step revoke_report(bool already) {
    json_writer w(false);
    w.begin_object()
        .member("certificate", certificate_name_)
        .member("reason", reason_)
        .member("already_revoked", already)
        .end_object();
    return outcome::done(w.str());
  }

  // --- Inventory and test

  step next_pool_cas() {
    if (pool_index_ >= pools_.size()) return job_.op == operation::test ? iam() : report();
    state_ = state::list_cas;
    return send({"GET", api(pools_[pool_index_].name + "/certificateAuthorities"), "", "list"});
  }

  step on_cas(dom::element doc) {
    auto& pool = pools_[pool_index_];
    dom::array list;
    if (!doc["certificateAuthorities"].get_array().get(list))
      for (auto item : list) {
        json_fields f(item, "CertificateAuthority");
        pool.cas.push_back({f.maybe_str("name").value_or(""), f.maybe_str("state").value_or(""),
                            f.maybe_str("tier").value_or("")});
      }
    ++pool_index_;
    return next_pool_cas();
  }

  // testIamPermissions on the configured pool, else on each listed one.
  step iam() {
    if (iam_pools_.empty()) {
      if (!pool_.empty())
        iam_pools_.push_back(pool_);
      else
        for (const auto& p : pools_) iam_pools_.push_back(p.id);
      if (iam_pools_.empty()) return report();
    }
    if (iam_index_ >= iam_pools_.size()) return report();
    state_ = state::iam;
    json_writer w(false);
    w.begin_object().key("permissions").begin_array();
    for (const auto& p : required_permissions()) w.value(p);
    w.end_array().end_object();
    return send({"POST", api(backend_->pool_path(iam_pools_[iam_index_])) + ":testIamPermissions",
                 w.str(), "list"});
  }

  step on_iam(dom::element doc) {
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
    missing_[iam_pools_[iam_index_]] = std::move(missing);
    ++iam_index_;
    return iam();
  }

  step report() {
    json_writer w(false);
    w.begin_object()
        .member("project", backend_->project)
        .member("location", backend_->location)
        .key("pools")
        .begin_array();
    for (const auto& p : pools_) {
      w.begin_object().member("name", p.id).member("tier", p.tier);
      if (!p.error.empty()) w.member("error", p.error);
      w.key("cas").begin_array();
      for (const auto& ca : p.cas)
        w.begin_object()
            .member("name", last_segment(ca.name))
            .member("state", ca.state)
            .member("tier", ca.tier.empty() ? p.tier : ca.tier)
            .end_object();
      w.end_array().end_object();
    }
    w.end_array();
    std::string problems;
    if (job_.op == operation::test) {
      w.key("permissions").begin_array();
      for (const auto& [pool, missing] : missing_) {
        w.begin_object().member("pool", pool).key("missing").begin_array();
        for (const auto& m : missing) w.value(m);
        w.end_array().end_object();
        if (!missing.empty()) {
          problems += (problems.empty() ? "" : "; ") + std::string("on pool ") + pool + ": ";
          for (std::size_t i = 0; i < missing.size(); ++i) problems += (i ? ", " : "") + missing[i];
        }
      }
      w.end_array();
    }
    w.end_object();
    if (!problems.empty())
      return outcome::failed(error_class::auth,
                             scrub("service account " + shared_->tokens.account.client_email +
                                   " lacks permissions " + problems),
                             "PERMISSION_DENIED");
    return outcome::done(w.str());
  }

  // --- Answers

  step on_response(const http_response& r) {
    if (!is_success(r.status)) return on_error(r);
    std::string_view body = r.body;
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
    CBCS_PER_THREAD(dom::parser, parser);
    dom::element doc;
    if (auto err = reused(parser).parse(body.data(), body.size()).get(doc))
      return internal(std::string("CA Service's answer is not JSON (") +
                      simdjson::error_message(err) + ")");
    if (!doc.is_object()) return internal("CA Service's answer is not a JSON object");
    try {
      switch (state_) {
        case state::pick_pool:
        case state::list_pools:
          return on_pools(doc);
        case state::create:
        case state::get_existing:
          return on_certificate(doc);
        case state::pool_tier:
          return on_pool_tier(doc);
        case state::find_serial:
          return on_found(doc);
        case state::revoke:
          return revoke_report(false);
        case state::list_cas:
          return on_cas(doc);
        case state::iam:
          return on_iam(doc);
      }
    } catch (const std::exception& e) {
      return internal(std::string("CA Service's answer cannot be read: ") + e.what());
    }
    return internal("an answer in an unexpected state");
  }

  step on_error(const http_response& r) {
    auto e = parse_error(r.body);
    // A token Google no longer takes (expired early, revoked): one new token, once.
    if (r.status == 401 && !reauthenticated_) {
      reauthenticated_ = true;
      auto& cache = shared_->tokens.cache;
      if (cache.held() && *cache.held() == used_token_) cache.retire();
      return send(last_);
    }
    if (state_ == state::create && (r.status == 409 || e.status == "ALREADY_EXISTS"))
      return get_existing();  // made by an earlier run of this job
    if (state_ == state::revoke && e.status == "FAILED_PRECONDITION" &&
        e.message.find("already revoked") != std::string::npos)
      return revoke_report(true);
    if (state_ == state::list_cas &&
        (r.status == 403 || r.status == 404 || e.status == "FAILED_PRECONDITION")) {
      // One pool we may not read must not hide the others.
      pools_[pool_index_].error =
          scrub(e.message.empty() ? "HTTP " + std::to_string(r.status) : e.message);
      ++pool_index_;
      return next_pool_cas();
    }
    auto o = classify_error(r, what(), now());
    o.message = scrub(o.message);
    return o;
  }

  std::string what() const {
    switch (state_) {
      case state::pick_pool:
      case state::list_pools:
        return "list the CA pools of " + backend_->location_path();
      case state::create:
        return "create a certificate in pool " + pool_;
      case state::get_existing:
        return "get certificate " + certificate_id(job_.id) + " in pool " + pool_;
      case state::pool_tier:
        return "get CA pool " + pool_;
      case state::find_serial:
        return "find the certificate with serial " + serial_ + " in pool " + pool_;
      case state::revoke:
        return "revoke " + certificate_name_;
      case state::list_cas:
        return "list the CAs of pool " + pools_[pool_index_].id;
      case state::iam:
        return "test permissions on pool " + iam_pools_[iam_index_];
    }
    return "call CA Service";
  }

  std::shared_ptr<const backend> backend_;
  std::shared_ptr<shared_state> shared_;
  job job_;
  state state_ = state::pick_pool;
  call last_;
  bool fetching_ = false;
  std::optional<shared_value<std::string>::fetch_guard> guard_;
  std::string used_token_;
  bool reauthenticated_ = false;

  std::string pool_;
  std::string template_;
  std::function<step()> after_pool_;
  std::string reason_;
  std::string serial_;
  std::string certificate_name_;
  std::vector<pool_entry> pools_;
  std::string page_token_;
  int pages_ = 0;
  std::size_t pool_index_ = 0;
  std::vector<std::string> iam_pools_;
  std::size_t iam_index_ = 0;
  std::map<std::string, std::vector<std::string>> missing_;
};

class gcpcas_driver final : public driver {
 public:
  explicit gcpcas_driver(const driver_config& config)
      : shared_(std::make_shared<shared_state>()), backend_(resolve(config, *shared_)) {}

  std::unique_ptr<job_session> start(const job& j, const std::string&) override {
    return std::make_unique<session>(backend_, shared_, j);
  }

 private:
  std::shared_ptr<shared_state> shared_;
  std::shared_ptr<const backend> backend_;
};

}  // namespace

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<gcpcas_driver>(config);
}

std::string certificate_id(std::string_view job_id) {
  if (!job_id.empty() && job_id.size() <= 63 &&
      std::all_of(job_id.begin(), job_id.end(), is_id_char))
    return std::string(job_id);
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

mapped_reason_word revocation_reason(std::string_view rfc5280_name) {
  if (iequals(rfc5280_name, "removeFromCRL"))
    return {{},
            "CA Service cannot take a certificate off hold (removeFromCRL): a hold is "
            "permanent there; revoke with another reason instead"};
  auto m = map_revocation_reason(rfc5280_name, revocation_reasons, "CA Service");
  return {std::string(m.word), m.error};
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

google_error parse_error(std::string_view body) {
  google_error out;
  if (body.empty()) return out;
  CBCS_PER_THREAD(dom::parser, parser);
  dom::element doc, error;
  if (reused(parser).parse(body.data(), body.size()).get(doc) || doc["error"].get(error) ||
      !error.is_object())
    return out;
  std::int64_t code = 0;
  if (!error["code"].get_int64().get(code) && code > 0 && code < 1000)
    out.code = static_cast<int>(code);
  std::string_view s;
  if (!error["status"].get_string().get(s) && s.size() <= 64 &&
      std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
      }))
    out.status = std::string(s);
  if (!error["message"].get_string().get(s)) out.message = one_line(s, 400);
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
