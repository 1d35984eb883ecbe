#include "tests/sim/scm/scm_state.hpp"

#include <openssl/x509.h>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <stdexcept>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/scm/installation_token.hpp"

namespace cbcs::sim::scm {
namespace {

namespace code = proto::registration_code;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr std::chrono::seconds identity_life = std::chrono::hours(24 * 30);
constexpr std::int64_t retry_window_ms = 10 * 60 * 1000;  // same token + same key: same answer

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

proto::error_msg error_frame(std::string_view c, std::string message, std::uint64_t ref_seq,
                             std::string job_id = {}) {
  proto::error_msg e;
  e.code = std::string(c);
  e.message = std::move(message);
  e.ref_seq = ref_seq;
  e.job_id = std::move(job_id);
  return e;
}

}  // namespace

const char* to_string(connector_status s) {
  switch (s) {
    case connector_status::pending:
      return "Pending";
    case connector_status::connected:
      return "Connected";
    case connector_status::offline:
      return "Offline";
  }
  return "Offline";
}

const char* to_string(job_record::state s) {
  switch (s) {
    case job_record::state::queued:
      return "queued";
    case job_record::state::leased:
      return "leased";
    case job_record::state::accepted:
      return "accepted";
    case job_record::state::refused:
      return "refused";
    case job_record::state::done:
      return "done";
  }
  return "queued";
}

scm_state::scm_state(const scm_identity& identity, sim_options options)
    : identity_(identity), options_(std::move(options)) {}

std::chrono::system_clock::time_point scm_state::now() const {
  return std::chrono::system_clock::now() + clock_offset_;
}

std::int64_t scm_state::now_ms() const { return to_ms(now()); }

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string scm_state::new_token(const std::string& connector_id, bool restore,
                                 std::chrono::seconds ttl) {
  proto::installation_token t;
  t.scm = options_.scm_url;
  t.ca_sha256 = identity_.ca_fingerprint();
  t.secret = proto::new_token_secret();
  t.expires_at = std::chrono::time_point_cast<std::chrono::seconds>(now() + ttl);
  token_record r;
  r.connector_id = connector_id;
  r.exp = t.expires_at.time_since_epoch().count();
  r.restore = restore;
  tokens_[t.secret] = r;
  return proto::format_installation_token(t);
}

http_answer scm_state::registration_error(std::string_view c, std::string_view message) const {
  return {proto::http_status_of(c),
          proto::encode(proto::registration_error{std::string(c), std::string(message)})};
}

std::string scm_state::issue(std::string_view csr_pem, connector_record& c) {
  auto pem = identity_.issue_client(csr_pem, c.id, now(), identity_life);
  auto certs = crypto::parse_certificates(pem);
  c.cert_not_after_ms = to_ms(crypto::not_after(certs.front().get()));
  return pem;
}

http_answer scm_state::register_connector(std::string_view body) {
  proto::registration_request req;
  try {
    req = proto::decode_registration_request(body);
  } catch (const std::exception& e) {
    return registration_error(code::malformed_request, e.what());
  }
  proto::installation_token token;
  try {
    token = proto::parse_installation_token(req.token);
  } catch (const proto::token_error&) {
    return registration_error(code::token_unknown, "the installation token is not valid");
  }
  auto it = tokens_.find(token.secret);
  if (it == tokens_.end()) return registration_error(code::token_unknown, "no such token");
  token_record& t = it->second;

  crypto::x509_req_ptr csr;
  std::string csr_problem;
  try {
    csr = crypto::parse_and_check_csr(req.csr_pem);
  } catch (const crypto::csr_error& e) {
    csr_problem = e.what();
  }
  if (t.used_at_ms) {
    // A connector whose reply was lost retries with the key it still holds.
    bool same_key = csr && public_key_der(X509_REQ_get0_pubkey(csr.get())) == t.key_der;
    if (same_key && now_ms() - t.used_at_ms <= retry_window_ms) return {200, t.response};
    return registration_error(code::token_used, "the token was already used");
  }
  if (t.exp * 1000 < now_ms()) return registration_error(code::token_expired, "the token expired");
  if (!csr) return registration_error(code::csr_rejected, csr_problem);
  auto* c = find(t.connector_id);
  if (!c) return registration_error(code::token_unknown, "the token's connector was deleted");

  proto::registration_response resp;
  try {
    resp.certificate_pem = issue(req.csr_pem, *c);
  } catch (const crypto::csr_error& e) {
    return registration_error(code::csr_rejected, e.what());
  } catch (const std::exception& e) {
    return registration_error(code::internal, "cannot issue the certificate");
  }
  resp.connector_id = c->id;
  resp.scm_ca_pem = identity_.ca_pem();
  resp.session_url = options_.session_url;
  c->hostname = req.hostname;
  c->os = req.os;
  c->os_version = req.os_version;
  c->version = req.version;
  c->registered_at_ms = now_ms();
  t.used_at_ms = now_ms();
  t.key_der = public_key_der(X509_REQ_get0_pubkey(csr.get()));
  t.response = proto::encode(resp);
  return {200, t.response};
}

std::string scm_state::check_client(X509* cert, long verify_result,
                                    std::string& connector_id) const {
  if (!cert) return "a client certificate is required for the session";
  if (verify_result != X509_V_OK)
    return fmt::format("the client certificate is not issued by the SCM CA ({})",
                       X509_verify_cert_error_string(verify_result));
  connector_id = common_name_of(cert);
  if (connector_id.empty()) return "the client certificate names no connector (no CN)";
  // Time is checked here, on the simulator's clock, not by OpenSSL.
  auto end = crypto::not_after(cert);
  if (end < now())
    return fmt::format(
        "the client certificate of {} expired at {:%Y-%m-%dT%H:%M:%SZ}; register again with a "
        "restore token",
        connector_id, std::chrono::time_point_cast<std::chrono::seconds>(end));
  return {};
}

connector_record* scm_state::find(std::string_view id) {
  auto it = connectors_.find(id);
  return it == connectors_.end() ? nullptr : &it->second;
}

void scm_state::on_ready(const std::string& id, const proto::hello_msg& hello,
                         const std::shared_ptr<session_link>& link) {
  auto* c = find(id);
  if (!c) return;
  if (auto old = c->session.lock(); old && old != link)
    old->say_bye(proto::bye_reason::superseded, "a newer session of this connector exists");
  c->session = link;
  c->status = connector_status::connected;
  c->version = hello.version;
  c->backends = hello.backends;
  c->last_seen_ms = now_ms();
  ++c->sessions;
}

void scm_state::on_closed(const std::string& id, const session_link* link) {
  auto* c = find(id);
  if (!c) return;
  auto current = c->session.lock();
  if (current && current.get() != link) return;  // superseded: the newer session counts
  c->session.reset();
  c->status = connector_status::offline;
  c->offline_since_ms = now_ms();
  // At-least-once: what was sent but not acknowledged goes out again next time.
  for (auto& [job_id, j] : c->jobs)
    if (j.st == job_record::state::leased) j.st = job_record::state::queued;
}

std::vector<proto::job_msg> scm_state::take_jobs(const std::string& id) {
  std::vector<proto::job_msg> out;
  auto* c = find(id);
  if (!c) return out;
  auto t = now_ms();
  auto settled = [](const job_record& j) {
    return j.st == job_record::state::accepted || j.st == job_record::state::refused ||
           j.st == job_record::state::done;
  };
  while (c->offer_from < c->job_order.size() && settled(c->jobs.at(c->job_order[c->offer_from])))
    ++c->offer_from;
  for (std::size_t i = c->offer_from; i < c->job_order.size(); ++i) {
    auto& j = c->jobs.at(c->job_order[i]);
    bool lease_ran_out = j.st == job_record::state::leased && j.lease_expires_at_ms < t;
    if (j.st != job_record::state::queued && !lease_ran_out) continue;
    if (j.not_before_ms > t) continue;  // refused as busy a moment ago
    j.st = job_record::state::leased;
    j.lease_id = fmt::format("l-{}", next_lease_++);
    j.lease_expires_at_ms = t + options_.lease_ms;
    if (++j.deliveries == 1) j.first_sent_us = steady_us();
    proto::job_msg m;
    m.lease_id = j.lease_id;
    m.lease_expires_at_ms = j.lease_expires_at_ms;
    m.job = j.job;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<proto::error_msg> scm_state::on_job_ack(const std::string& id,
                                                      const proto::job_ack_msg& m) {
  auto* c = find(id);
  auto it = c ? c->jobs.find(m.job_id) : decltype(c->jobs.end()){};
  if (!c || it == c->jobs.end())
    return error_frame(proto::error_code::unknown_job, "no such job", m.seq, m.job_id);
  auto& j = it->second;
  ++j.acks;
  // Late or repeated acks of a job already settled change nothing.
  if (j.st != job_record::state::leased && j.st != job_record::state::queued) return std::nullopt;
  if (m.accepted) {
    j.st = job_record::state::accepted;
  } else {
    j.refusal_reason = m.reason;
    j.refusal_message = m.message;
    j.st = job_record::state::refused;
    // PROTOCOL.md: busy means "lease later"; the sim offers it again in 500 ms.
    if (m.reason == proto::refusal::busy) {
      j.st = job_record::state::queued;
      j.not_before_ms = now_ms() + 500;
    }
  }
  return std::nullopt;
}

std::optional<proto::error_msg> scm_state::on_result(const std::string& id,
                                                     const proto::result_msg& m) {
  auto* c = find(id);
  auto it = c ? c->jobs.find(m.job_id) : decltype(c->jobs.end()){};
  if (!c || it == c->jobs.end())
    return error_frame(proto::error_code::unknown_job, "no such job", m.seq, m.job_id);
  auto& j = it->second;
  if (!j.result_json) {  // keep the first
    j.result_json = protocol::ca::to_json(m.outcome);
    j.first_result_us = steady_us();
  }
  ++j.result_count;
  j.st = job_record::state::done;
  return std::nullopt;
}

std::optional<proto::error_msg> scm_state::on_pending(const std::string& id,
                                                      const proto::pending_msg& m) {
  auto* c = find(id);
  auto it = c ? c->jobs.find(m.job_id) : decltype(c->jobs.end()){};
  if (!c || it == c->jobs.end())
    return error_frame(proto::error_code::unknown_job, "no such job", m.seq, m.job_id);
  ++it->second.pending_reports;
  it->second.pending_message = m.message;
  it->second.pending_reason = m.reason;
  return std::nullopt;
}

void scm_state::on_connector_error(const std::string& id, const proto::error_msg& m) {
  auto* c = find(id);
  if (!c || m.job_id.empty()) return;
  if (auto it = c->jobs.find(m.job_id); it != c->jobs.end())
    it->second.connector_errors.push_back(m.code);
}

void scm_state::on_heartbeat(const std::string& id, const proto::heartbeat_msg& m) {
  auto* c = find(id);
  if (!c) return;
  c->last_seen_ms = now_ms();
  if (m.backends) c->backends = *m.backends;
}

std::string scm_state::renew(const std::string& id, std::string_view csr_pem) {
  auto* c = find(id);
  if (!c) throw std::runtime_error("the connector was deleted");
  if (faults_.refuse_renewal) throw std::runtime_error("renewal refused (injected fault)");
  return issue(csr_pem, *c);
}

int scm_state::take_garbage() { return std::exchange(faults_.garbage_pending, 0); }

void scm_state::for_each_session(const std::function<void(session_link&)>& fn) {
  for (auto& [id, c] : connectors_)
    if (auto s = c.session.lock()) fn(*s);
}

}  // namespace cbcs::sim::scm
