#pragma once
// Everything the simulated SCM knows, in memory: connectors, tokens, jobs,
// results, its clock and the faults to inject. Single-threaded: only the
// io_context's thread touches it. No sockets here; live sessions are reached
// through session_link.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/driver.hpp"
#include "protocol/scm/messages.hpp"
#include "tests/sim/scm/scm_identity.hpp"

namespace cbcs::sim::scm {

namespace proto = protocol::scm;

// What the state may ask of a live session.
class session_link {
 public:
  virtual ~session_link() = default;
  virtual void offer_jobs() = 0;  // send queued jobs now
  virtual void say_bye(std::string_view reason, std::string_view message) = 0;  // then close
  virtual void drop() = 0;  // close the TCP connection, no bye: a dead link
  virtual void send_garbage(int frames) = 0;
  virtual void send_cancel(const std::string& job_id, const std::string& reason) = 0;
};

enum class connector_status { pending, connected, offline };
const char* to_string(connector_status s);

struct job_record {
  enum class state { queued, leased, accepted, refused, done };
  protocol::ca::job job;
  state st = state::queued;
  std::string lease_id;
  std::int64_t lease_expires_at_ms = 0;
  int deliveries = 0;              // job frames sent for it, duplicates included
  std::int64_t not_before_ms = 0;  // refused as busy: not offered again before this
  int acks = 0;                    // job_ack frames received for it
  std::string refusal_reason, refusal_message;
  int pending_reports = 0;
  std::string pending_message;
  std::string pending_reason;
  std::vector<std::string> connector_errors;  // codes of error frames naming it
  std::optional<std::string> result_json;     // the first result; SCM keeps the first
  int result_count = 0;                       // how many times a result arrived
  // Steady-clock microseconds of the first job frame and the first result:
  // the latency SCM sees, for benchmarks/e2e.
  std::int64_t first_sent_us = 0, first_result_us = 0;
};
const char* to_string(job_record::state s);
std::int64_t steady_us();

struct connector_record {
  std::string id, name, comments;
  connector_status status = connector_status::pending;
  std::string version, hostname, os, os_version;
  std::vector<proto::backend_info> backends;
  std::int64_t registered_at_ms = 0;  // 0: no token used yet
  std::int64_t last_seen_ms = 0, offline_since_ms = 0;
  std::int64_t cert_not_after_ms = 0;
  int sessions = 0;  // sessions that reached ready
  std::vector<std::string> job_order;
  // Jobs before this index are settled (accepted, refused or done): offering
  // starts here, so a batch of 100,000 is not scanned for every frame sent.
  std::size_t offer_from = 0;
  std::map<std::string, job_record, std::less<>> jobs;
  std::weak_ptr<session_link> session;
};

struct fault_settings {
  bool duplicate_frames = false;  // every frame the sim sends goes out twice
  int delay_ms = 0;               // before every frame the sim sends
  int garbage_pending = 0;        // garbage frames for the next session to become ready
  bool refuse_renewal = false;
};

struct http_answer {
  int status = 200;
  std::string body;
};

struct sim_options {
  std::string scm_url;      // https://127.0.0.1:P
  std::string session_url;  // wss://127.0.0.1:P/api/connector/v1/session
  std::int64_t heartbeat_ms = 15000;
  std::int64_t lease_ms = 30000;
};

class scm_state {
 public:
  scm_state(const scm_identity& identity, sim_options options);

  const sim_options& options() const { return options_; }
  void set_options(sim_options options) { options_ = std::move(options); }
  const scm_identity& identity() const { return identity_; }
  // The simulator's clock: real time plus what POST /clock added.
  std::chrono::system_clock::time_point now() const;
  std::int64_t now_ms() const;
  fault_settings& faults() { return faults_; }

  // POST /api/connector/v1/register, body to answer.
  http_answer register_connector(std::string_view body);
  // The admin API (tests/sim/scm/scm_admin.cpp).
  http_answer admin(std::string_view method, std::string_view target, std::string_view body);

  // --- For sessions. Checks a client certificate at the upgrade: the empty
  // string when it may open a session, else why not (one line).
  std::string check_client(X509* cert, long verify_result, std::string& connector_id) const;
  connector_record* find(std::string_view id);
  // hello accepted: the connector is Connected; an older session is superseded.
  void on_ready(const std::string& id, const proto::hello_msg& hello,
                const std::shared_ptr<session_link>& link);
  // The session of id ended; unacknowledged jobs go back to the queue.
  void on_closed(const std::string& id, const session_link* link);
  // Queued jobs (and leased ones whose lease ran out) leased anew, to send now.
  std::vector<proto::job_msg> take_jobs(const std::string& id);
  // Each returns the error frame to answer with, if any.
  std::optional<proto::error_msg> on_job_ack(const std::string& id, const proto::job_ack_msg& m);
  std::optional<proto::error_msg> on_result(const std::string& id, const proto::result_msg& m);
  std::optional<proto::error_msg> on_pending(const std::string& id, const proto::pending_msg& m);
  // An error frame from the connector that names a job: recorded on the job.
  void on_connector_error(const std::string& id, const proto::error_msg& m);
  void on_heartbeat(const std::string& id, const proto::heartbeat_msg& m);
  // A new client certificate for renew_identity; throws with a reason when refused.
  std::string renew(const std::string& id, std::string_view csr_pem);
  // Garbage frames owed to the next ready session (and forgets them).
  int take_garbage();
  void for_each_session(const std::function<void(session_link&)>& fn);

 private:
  struct token_record {
    std::string connector_id;
    std::int64_t exp = 0;  // unix seconds
    bool restore = false;
    std::int64_t used_at_ms = 0;  // 0: unused
    std::string key_der;          // the public key it was used with
    std::string response;         // the 200 body it was used for
  };

  std::string new_token(const std::string& connector_id, bool restore, std::chrono::seconds ttl);
  http_answer registration_error(std::string_view code, std::string_view message) const;
  std::string issue(std::string_view csr_pem, connector_record& c);

  std::string connector_json(const connector_record& c) const;
  std::string job_json(const job_record& j) const;
  http_answer admin_connectors(std::string_view method, std::string_view body);
  http_answer admin_connector(std::string_view method, connector_record& c, std::string_view rest,
                              std::string_view body);
  http_answer admin_submit_jobs(connector_record& c, std::string_view body);
  http_answer admin_clock(std::string_view method, std::string_view body);
  http_answer admin_faults(std::string_view method, std::string_view body);

  const scm_identity& identity_;
  sim_options options_;
  std::chrono::seconds clock_offset_{0};
  fault_settings faults_;
  std::map<std::string, token_record, std::less<>> tokens_;  // by secret
  std::map<std::string, connector_record, std::less<>> connectors_;
  std::uint64_t next_lease_ = 1;
};

}  // namespace cbcs::sim::scm
