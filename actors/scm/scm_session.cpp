#include "actors/scm/scm_session.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <unordered_map>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "actors/messages.hpp"
#include "actors/scm/identity_renewal.hpp"
#include "actors/scm/result_outbox.hpp"
#include "actors/scm/session_policy.hpp"
#include "actors/scm/ws_client.hpp"
#include "config/atomic_file.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/job_checks.hpp"
#include "config/os/this_process.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"

// Travels only inside the process (a proxy change to the session actor).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::proxy_settings)

namespace cbcs::actors {
namespace {

namespace scm = protocol::scm;
namespace ca = protocol::ca;
namespace pol = scm_policy;
using pol::link_state;
using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

using ws_open_atom = caf::atom_constant<caf::atom("wsopen")>;
using ws_frame_atom = caf::atom_constant<caf::atom("wsframe")>;
using ws_closed_atom = caf::atom_constant<caf::atom("wsclosed")>;
using tick_atom = caf::atom_constant<caf::atom("scmtick")>;
using health_atom = caf::atom_constant<caf::atom("scmhealth")>;
using proxy_atom = caf::atom_constant<caf::atom("scmproxy")>;

// result_atom and accepted_atom first: the session is also a result_sink for the router.
using session_actor =
    caf::typed_actor<caf::reacts_to<result_atom, job_result>,
                     caf::reacts_to<accepted_atom, std::string>,
                     caf::reacts_to<progress_atom, std::string, ca::outcome>,
                     caf::reacts_to<ws_open_atom, std::uint64_t>,
                     caf::reacts_to<ws_frame_atom, std::uint64_t, std::string, int>,
                     caf::reacts_to<ws_closed_atom, std::uint64_t, std::string>,
                     caf::reacts_to<tick_atom, std::uint64_t>, caf::reacts_to<health_atom>,
                     caf::reacts_to<drain_atom>, caf::reacts_to<probe_atom, probe_reply>,
                     caf::reacts_to<proxy_atom, proxy_settings>>;

// After abort(), the closed event is due at once; the abort is repeated this
// often until it comes (not at every wake, which would spin on a past deadline).
constexpr auto abort_retry = 1s;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys_clock::now().time_since_epoch())
      .count();
}

// What the service thread waits on in stop().
struct stop_signal {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  void set() {
    std::lock_guard lock(mutex);
    done = true;
    cv.notify_all();
  }
};

struct job_entry {
  std::string lease_id;
  bool journaled = false;              // the router said so: job_ack may go
  bool acked = false;                  // job_ack accepted sent on this session
  std::optional<ca::outcome> pending;  // waiting at its CA: said again after a reconnect
};

struct session_state {
  scm_session_options options;
  router_actor router;
  std::shared_ptr<io_runner> io;
  std::shared_ptr<config::journal> journal;  // a read connection of our own
  std::shared_ptr<stop_signal> stopped;
  std::mt19937_64 rng{std::random_device{}()};

  link_state state = link_state::waiting;
  std::int64_t state_since_ms = now_ms();
  std::int64_t offline_since_ms = now_ms();  // the link was lost (or the session began)
  std::string last_link_line;                // what on_link_change heard last
  std::string message;                       // the last problem, one line
  std::optional<config::connector_identity> identity;
  std::shared_ptr<ws_connection> conn;
  std::uint64_t gen = 0;
  std::uint64_t seq_out = 0;
  steady::time_point next_dial = steady::now();
  steady::time_point deadline{};  // dial, hello or drain deadline for the current state
  steady::time_point last_rx{};
  steady::time_point last_hb_sent{};
  steady::time_point ready_since{};
  std::chrono::milliseconds hb_interval{20'000};
  std::int64_t clock_offset_ms = 0;
  std::optional<std::chrono::milliseconds> next_delay_override;
  unsigned attempt = 0;
  bool stopping = false;
  bool deregistered = false;
  std::string deregistered_cert;  // the certificate SCM deleted; a new one lifts it
  bool expired_logged = false;
  steady::time_point last_not_registered_log{};

  // Jobs this process runs for SCM, until their result leaves.
  std::unordered_map<std::string, job_entry> jobs;
  // Results not yet acknowledged, and those of them not sent yet, in order.
  result_outbox outbox{pol::max_unacked_results, pol::result_ack_timeout, pol::remembered_acks};
  steady::time_point last_rescan{};
  // Whether a rescan could find anything: this session's jobs are running, or
  // the journal held unfinished jobs (replayed ones, whose results reach no one).
  bool rescan_wanted = true;

  identity_renewal renewal;

  pol::malformed_limit malformed;
  std::int64_t last_heartbeat_ms = 0;
  std::int64_t connected_since_ms = 0;
  std::uint64_t jobs_received = 0, results_sent = 0, results_acked = 0;
  std::uint64_t counters_written = 0;  // jobs_received + results_sent + results_acked then
  steady::time_point last_status_write{};
  std::uint64_t health_version_sent = 0;
  steady::time_point aborted_at{};

  // The one timer: armed for the earliest deadline only. CAF 0.17 cannot
  // cancel a delayed message, so a tick of an older generation is ignored.
  std::uint64_t timer_gen = 0;
  steady::time_point timer_at = steady::time_point::max();

  static inline const char* name = "scm_session";
};

using self_ptr = session_actor::stateful_pointer<session_state>;

double uniform(session_state& st) { return std::uniform_real_distribution<double>(0, 1)(st.rng); }

void log(self_ptr self, const std::string& line) {
  if (self->state.options.log) self->state.options.log(line);
}

void report(self_ptr self, const event& e) {
  if (self->state.options.report)
    self->state.options.report(e);
  else
    log(self, format_event(e));
}

void trace(self_ptr self, std::string_view event, std::string_view job_id = {},
           std::string_view outcome = {}, std::string_view detail = {}) {
  if (auto& t = self->state.options.trace)
    t->record({.actor = "scm_session",
               .event = event,
               .job_id = job_id,
               .outcome = outcome,
               .detail = detail});
}

std::vector<scm::backend_info> current_backends(self_ptr self) {
  auto& st = self->state;
  if (!st.options.health) return st.options.backends;
  st.health_version_sent = st.options.health->version();
  return st.options.health->snapshot();
}

void send_pending(self_ptr self, const std::string& id, const ca::outcome& o);

void write_status(self_ptr self) {
  auto& st = self->state;
  st.last_status_write = steady::now();
  st.counters_written = st.jobs_received + st.results_sent + st.results_acked;
  pol::status_record r{
      .state = pol::to_string(st.state),
      .connector_id = st.identity ? st.identity->connector_id : std::string{},
      .session_url = st.identity ? st.identity->session_url : std::string{},
      .pid = config::process_id(),
      .updated_at_ms = now_ms(),
      .since_ms = st.state_since_ms,
      .last_heartbeat_ms = st.last_heartbeat_ms,
      .connected_since_ms = st.connected_since_ms,
      .jobs_received = st.jobs_received,
      .results_sent = st.results_sent,
      .results_acked = st.results_acked,
      .message = st.message,
      .journal = st.options.health ? st.options.health->journal_problem() : std::string{},
      .backends = st.options.health ? st.options.health->snapshot() : st.options.backends};
  if (st.options.health)
    for (const auto& [name, jobs] : st.options.health->pending()) r.pending_at_ca[name] = jobs;
  try {
    config::write_file_atomic(config::scm_status_file(st.options.data_dir), pol::encode_status(r));
  } catch (const std::exception& e) {
    log(self, fmt::format("cannot write the status file: {}", e.what()));
  }
}

void set_state(self_ptr self, link_state s, std::string message = {}) {
  auto& st = self->state;
  if (st.state != s) {
    bool was_up = st.state == link_state::ready || st.state == link_state::draining;
    st.state = s;
    st.state_since_ms = now_ms();
    if (was_up && s != link_state::ready && s != link_state::draining)
      st.offline_since_ms = st.state_since_ms;
    trace(self, "link", {}, pol::to_string(s), message);
  }
  if (!message.empty()) st.message = std::move(message);
  if (st.options.metrics)
    st.options.metrics->scm_link(pol::to_string(st.state),
                                 st.state == link_state::ready || st.state == link_state::draining);
  if (st.options.on_link_change) {
    auto line = pol::link_status_line(st.state, st.offline_since_ms,
                                      st.state == link_state::ready ? "" : st.message);
    if (line != st.last_link_line) {
      st.last_link_line = line;
      st.options.on_link_change(line);
    }
  }
  write_status(self);
}

template <class Msg>
void send_frame(self_ptr self, Msg m) {
  auto& st = self->state;
  if (!st.conn) return;
  m.seq = ++st.seq_out;
  st.conn->send(scm::encode(m));
}

// job_ack accepted for one job (of its current lease).
void send_job_ack(self_ptr self, const std::string& job_id, const std::string& lease_id) {
  scm::job_ack_msg a;
  a.job_id = job_id;
  a.lease_id = lease_id;
  send_frame(self, std::move(a));
}

void send_error(self_ptr self, std::string_view code, std::string message,
                std::optional<std::uint64_t> ref_seq = std::nullopt, std::string job_id = {}) {
  scm::error_msg e;
  e.code = std::string(code);
  e.message = std::move(message);
  e.ref_seq = ref_seq;
  e.job_id = std::move(job_id);
  send_frame(self, std::move(e));
}

bool link_up(self_ptr self) {
  auto s = self->state.state;
  return s == link_state::ready || s == link_state::draining;
}

// --- results

void send_result(self_ptr self, const result_outbox::to_send& r) {
  scm::result_msg m;
  m.job_id = r.job_id;
  m.outcome = *r.outcome;
  m.seq = self->state.seq_out + 1;
  auto text = scm::encode(m);
  if (text.size() > scm::max_frame_bytes) {
    // Never send more than a frame holds: SCM gets a failure it can read.
    m.outcome = ca::outcome::failed(ca::error_class::internal, "the result is larger than 1 MiB");
  }
  trace(self, "result_sent", r.job_id, outcome_label(m.outcome), r.again ? "again" : "");
  send_frame(self, std::move(m));
  ++self->state.results_sent;
}

// Sends what the outbox has due: waiting results while its window has room,
// and those whose acknowledgement is overdue.
void pump_results(self_ptr self) {
  if (!link_up(self)) return;
  for (const auto& r : self->state.outbox.take_due(steady::now())) send_result(self, r);
}

void add_result(self_ptr self, const std::string& id, ca::outcome o) {
  self->state.outbox.add(id, std::move(o));
}

// Picks up results journaled but not acknowledged: from before a restart,
// from jobs the router replayed, or held while the link was down.
void rescan_journal(self_ptr self) {
  auto& st = self->state;
  st.last_rescan = steady::now();
  try {
    // Unfinished first: a job finishing in between is then among the results read next.
    st.rescan_wanted = !st.jobs.empty() || !st.journal->unfinished().empty();
    for (auto& e : st.journal->unacknowledged_results()) {
      if (!e.result || e.result->what == ca::outcome::kind::pending) continue;
      if (st.jobs.count(e.job.id) && !st.outbox.find(e.job.id)) {
        // Finished while the router's answer is still on its way; take it now.
        st.jobs.erase(e.job.id);
      }
      add_result(self, e.job.id, *e.result);
    }
  } catch (const std::exception& ex) {
    st.rescan_wanted = true;
    log(self, fmt::format("cannot read the journal: {}", ex.what()));
  }
}

void send_pending(self_ptr self, const std::string& id, const ca::outcome& o) {
  if (!link_up(self)) {
    trace(self, "pending_held", id, "pending", "link down: said again on reconnect");
    return;
  }
  scm::pending_msg p;
  p.job_id = id;
  p.next_poll_at_ms = now_ms() + o.poll_after.count();
  p.message = o.message;
  p.reason = o.pending_reason;
  trace(self, "pending_sent", id, "pending", o.message);
  send_frame(self, std::move(p));
}

// The job waits at its CA: SCM hears it now, and again after a reconnect.
void on_progress(self_ptr self, const std::string& id, const ca::outcome& o) {
  auto& st = self->state;
  auto j = st.jobs.find(id);
  if (j == st.jobs.end()) return;
  j->second.pending = o;
  send_pending(self, id, o);
}

void on_result(self_ptr self, const job_result& r) {
  auto& st = self->state;
  if (r.outcome.what == ca::outcome::kind::pending) {
    if (auto j = st.jobs.find(r.job_id); j != st.jobs.end()) j->second.pending = r.outcome;
    return send_pending(self, r.job_id, r.outcome);
  }
  // A result means the job is journaled: its job_ack may go first.
  auto j = st.jobs.find(r.job_id);
  if (j != st.jobs.end()) {
    if (!j->second.acked && link_up(self)) send_job_ack(self, r.job_id, j->second.lease_id);
    st.jobs.erase(j);
  }
  add_result(self, r.job_id, r.outcome);
  pump_results(self);
}

void on_result_ack(self_ptr self, const std::string& id) {
  auto& st = self->state;
  trace(self, "result_acked", id);
  if (st.outbox.acknowledge(id, steady::now())) ++st.results_acked;
  // The router marks it acknowledged in the journal (idempotent).
  self->send(st.router, ack_atom::value, id);
  pump_results(self);
}

// --- jobs

void refuse(self_ptr self, const scm::job_msg& j, std::string_view reason, std::string message) {
  trace(self, "job_refused", j.job.id, reason, message);
  scm::job_ack_msg a;
  a.job_id = j.job.id;
  a.lease_id = j.lease_id;
  a.accepted = false;
  a.reason = std::string(reason);
  a.message = std::move(message);
  send_frame(self, std::move(a));
}

void on_job(self_ptr self, scm::job_msg& j) {
  auto& st = self->state;
  ++st.jobs_received;
  const auto& id = j.job.id;
  // Checked before anything of it is traced or journaled (design §5): a job
  // holding a private key, or a CSR that does not parse, is refused here,
  // and the trace names neither its id nor its backend (either may be the
  // bad field).
  if (auto why = ca::refuse_job_inputs(j.job)) {
    trace(self, "job_refused", {}, scm::refusal::invalid_job, *why);
    scm::job_ack_msg a;
    a.job_id = j.job.id;
    a.lease_id = j.lease_id;
    a.accepted = false;
    a.reason = std::string(scm::refusal::invalid_job);
    a.message = std::move(*why);
    return send_frame(self, std::move(a));
  }
  trace(self, "job_received", id, {}, fmt::format("{} {}", ca::to_string(j.job.op), j.job.backend));
  if (st.state == link_state::draining) return refuse(self, j, scm::refusal::draining, {});
  // A job we already have: acknowledge again, never run twice.
  if (auto it = st.jobs.find(id); it != st.jobs.end()) {
    it->second.lease_id = j.lease_id;
    if (it->second.journaled) {
      send_job_ack(self, id, j.lease_id);
      it->second.acked = true;
    }
    return;
  }
  if (st.outbox.find(id) || st.outbox.acknowledged_lately(id)) {
    send_job_ack(self, id, j.lease_id);
    // The result again, as §6 asks.
    if (auto r = st.outbox.take_again(id, steady::now())) send_result(self, *r);
    return;
  }
  // The health board follows the configuration (backends added or removed
  // while running); the list given at start is for sessions without one.
  bool known_backend = false;
  if (st.options.health)
    known_backend = st.options.health->has(j.job.backend);
  else
    for (const auto& b : st.options.backends) known_backend |= b.name == j.job.backend;
  if (!known_backend)
    return refuse(self, j, scm::refusal::unknown_backend,
                  fmt::format("no backend named '{}' on this connector", j.job.backend));
  if (j.lease_expires_at_ms > 0 && j.lease_expires_at_ms < now_ms() + st.clock_offset_ms)
    return refuse(self, j, scm::refusal::lease_expired, {});
  if (st.jobs.size() >= st.options.max_jobs_in_flight)
    return refuse(self, j, scm::refusal::busy,
                  fmt::format("{} jobs in flight on this connector", st.jobs.size()));
  st.jobs.emplace(id, job_entry{j.lease_id});
  st.rescan_wanted = true;  // its result may come by the journal (pending past its deadline)
  // One-way, with ourselves as the sink: no request().then() per job (design §3).
  self->send(st.router, submit_atom::value,
             job_ticket{std::move(j.job), steady::now() + std::chrono::minutes(10), {}},
             caf::actor_cast<result_sink>(self));
}

// SCM gives up a job pending at its CA (PROTOCOL.md, cancel): the router
// ends it, and its result comes back here like any other.
void on_cancel(self_ptr self, scm::cancel_msg& m) {
  auto& st = self->state;
  // The reason is SCM's free text and becomes the job's result message.
  m.reason = crypto::without_private_keys(m.reason);
  auto refuse = [&](std::string why) {
    trace(self, "cancel_refused", m.job_id, {}, why);
    send_error(self, scm::error_code::not_cancellable, std::move(why), m.seq, m.job_id);
  };
  auto cancel = [&] {
    trace(self, "cancel", m.job_id, {}, m.reason);
    self->send(st.router, cancel_atom::value, m.job_id, m.reason,
               caf::actor_cast<result_sink>(self), std::uint64_t{0});
  };
  if (auto j = st.jobs.find(m.job_id); j != st.jobs.end())
    return j->second.pending ? cancel() : refuse("job is not pending at its CA");
  if (st.outbox.find(m.job_id) || st.outbox.acknowledged_lately(m.job_id))
    return refuse("job already finished");
  std::optional<config::journal_entry> entry;
  try {
    entry = st.journal->find(m.job_id);
  } catch (const std::exception& e) {
    return refuse(fmt::format("the journal cannot be read: {}", e.what()));
  }
  if (!entry) return send_error(self, scm::error_code::unknown_job, "no such job", m.seq, m.job_id);
  if (entry->state == config::job_state::finished) return refuse("job already finished");
  // Left pending at its deadline, waiting for its next run (a restart, say).
  if (entry->result && entry->result->what == ca::outcome::kind::pending) return cancel();
  refuse("job is not pending at its CA");
}

// job_ack accepted goes out only once the router has journaled the job.
void on_accepted(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto j = st.jobs.find(id);
  if (j == st.jobs.end()) return;
  j->second.journaled = true;
  if (j->second.acked || !link_up(self)) return;
  j->second.acked = true;
  trace(self, "job_acked", id);
  send_job_ack(self, id, j->second.lease_id);
}

// --- identity renewal

void maybe_renew(self_ptr self) {
  auto& st = self->state;
  if (st.state != link_state::ready || st.stopping || !st.identity) return;
  std::string line;
  auto request = st.renewal.poll(*st.identity, steady::now(), sys_clock::now(), uniform(st), line);
  if (!line.empty()) log(self, line);
  if (request) send_frame(self, std::move(*request));
}

void on_identity(self_ptr self, const scm::identity_msg& m) {
  auto& st = self->state;
  if (!st.identity) return log(self, "SCM sent an identity that was not asked for; ignored");
  auto answer = st.renewal.accept(m, *st.identity, steady::now(), now_ms() / 1000);
  if (auto* problem = std::get_if<std::string>(&answer)) return log(self, *problem);
  auto& next = std::get<config::connector_identity>(answer);
  try {
    st.options.store_identity(next);
    // What is on disk is what the session uses from now on.
    st.identity = std::move(next);
    auto v = config::validity_of(st.identity->certificate_pem);
    st.renewal.use(v);
    if (st.options.metrics) st.options.metrics->identity_expires(v.not_after);
    log(self, fmt::format("certificate renewed; valid until {:%Y-%m-%d %H:%M} UTC",
                          std::chrono::floor<std::chrono::seconds>(v.not_after)));
  } catch (const std::exception& e) {
    st.renewal.refused(steady::now(), uniform(st));
    log(self, fmt::format("renewed certificate refused: {}", e.what()));
  }
}

// --- the link

void enter_ready(self_ptr self, const scm::hello_ack_msg& m) {
  auto& st = self->state;
  st.hb_interval = pol::heartbeat_interval(m.heartbeat_interval_ms);
  st.clock_offset_ms = m.server_time_ms - now_ms();
  st.ready_since = steady::now();
  st.last_hb_sent = steady::now();
  st.connected_since_ms = now_ms();
  st.message.clear();
  if (st.options.metrics) st.options.metrics->scm_connected();
  set_state(self, link_state::ready);
  report(self, make_event<event_id::session_up>(st.identity->connector_id, st.hb_interval.count()));
  // Store-and-forward: everything unacknowledged, in journal order, again.
  st.outbox.restart();
  rescan_journal(self);
  // rescan_journal queued what it found new, in journal order; then the rest.
  st.outbox.requeue();
  pump_results(self);
  // Then one pending per job still waiting at its CA (PROTOCOL.md section 6).
  for (auto& [id, j] : st.jobs)
    if (j.pending && !st.outbox.find(id)) send_pending(self, id, *j.pending);
}

void close_link(self_ptr self) {
  if (self->state.conn) self->state.conn->close();
}

void start_drain(self_ptr self, bool send_bye) {
  auto& st = self->state;
  if (send_bye) {
    scm::bye_msg b;
    b.reason = std::string(scm::bye_reason::shutdown);
    b.message = "the connector service is stopping";
    send_frame(self, std::move(b));
  }
  st.deadline = steady::now() + pol::drain_timeout;
  set_state(self, link_state::draining);
}

void on_frame(self_ptr self, const std::string& text, ws_frame_kind kind) {
  auto& st = self->state;
  st.last_rx = steady::now();
  if (kind == ws_frame_kind::too_large)
    return send_error(self, scm::error_code::too_large, "frame larger than 1 MiB");
  auto malformed = [&](std::string message, std::optional<std::uint64_t> ref) {
    send_error(self, scm::error_code::malformed, std::move(message), ref);
    if (st.malformed.record(steady::now())) {
      log(self, "more than 10 malformed frames within 60 s; closing the session");
      scm::bye_msg b;
      b.reason = std::string(scm::bye_reason::protocol_error);
      b.message = "too many malformed frames";
      send_frame(self, std::move(b));
      close_link(self);
    }
  };
  if (kind == ws_frame_kind::binary) return malformed("binary frames are not used", std::nullopt);
  scm::message msg;
  try {
    msg = scm::decode(text);
  } catch (const scm::scm_protocol_error& e) {
    if (e.type() == "error") return;  // never answer an error with an error
    if (e.kind() == scm::error_kind::unsupported_type)
      return send_error(self, scm::error_code::unsupported_type, e.what(), e.seq());
    if (e.kind() == scm::error_kind::too_large)
      return send_error(self, scm::error_code::too_large, e.what(), e.seq());
    return malformed(e.what(), e.seq());
  }
  auto seq = scm::seq_of(msg);
  auto out_of_state = [&] {
    send_error(self, scm::error_code::out_of_state,
               fmt::format("{} is not expected now", scm::type_of(msg)), seq);
  };
  if (st.state == link_state::hello_sent) {
    if (auto* ack = std::get_if<scm::hello_ack_msg>(&msg)) {
      if (ack->protocol < 1 || ack->protocol > scm::protocol_version) {
        log(self, "SCM chose a protocol version this connector does not speak");
        st.next_delay_override = pol::backoff_cap;
        return close_link(self);
      }
      return enter_ready(self, *ack);
    }
    if (auto* e = std::get_if<scm::error_msg>(&msg)) {
      log(self, fmt::format("SCM refused the hello: {} {}", e->code, e->message));
      if (e->code == scm::error_code::unsupported_protocol)
        st.next_delay_override = pol::backoff_cap;
      return;
    }
    if (auto* b = std::get_if<scm::bye_msg>(&msg)) {
      log(self,
          fmt::format("SCM said bye before the session was ready: {} {}", b->reason, b->message));
      if (b->reconnect_after_ms > 0)
        st.next_delay_override = pol::bye_delay(b->reconnect_after_ms, uniform(st));
      if (b->reason == scm::bye_reason::deregistered) {
        st.deregistered = true;
        st.deregistered_cert = st.identity ? st.identity->certificate_pem : std::string{};
      }
      return close_link(self);
    }
    return out_of_state();
  }
  if (!link_up(self)) return;
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, scm::heartbeat_msg>) {
          scm::heartbeat_ack_msg a;
          a.ack = m.seq;
          a.time_ms = now_ms();
          send_frame(self, std::move(a));
          st.last_heartbeat_ms = now_ms();
        } else if constexpr (std::is_same_v<T, scm::heartbeat_ack_msg>) {
          st.last_heartbeat_ms = now_ms();
          if (steady::now() - st.last_status_write > 5s) write_status(self);
        } else if constexpr (std::is_same_v<T, scm::job_msg>) {
          on_job(self, m);
        } else if constexpr (std::is_same_v<T, scm::result_ack_msg>) {
          on_result_ack(self, m.job_id);
        } else if constexpr (std::is_same_v<T, scm::identity_msg>) {
          on_identity(self, m);
        } else if constexpr (std::is_same_v<T, scm::error_msg>) {
          log(self, fmt::format("SCM reported {}: {}{}", m.code, m.message,
                                m.job_id.empty() ? "" : " (job " + m.job_id + ")"));
          if (m.code == scm::error_code::unknown_job && !m.job_id.empty()) {
            // SCM will never acknowledge it: stop resending, here and after restarts.
            on_result_ack(self, m.job_id);
          } else if (m.code == scm::error_code::renewal_refused) {
            st.renewal.refused(steady::now(), uniform(st));
          }
        } else if constexpr (std::is_same_v<T, scm::cancel_msg>) {
          on_cancel(self, m);
        } else if constexpr (std::is_same_v<T, scm::bye_msg>) {
          log(self, fmt::format("SCM said bye ({}{}{})", m.reason, m.message.empty() ? "" : ": ",
                                m.message));
          if (m.reconnect_after_ms > 0)
            st.next_delay_override = pol::bye_delay(m.reconnect_after_ms, uniform(st));
          if (m.reason == scm::bye_reason::deregistered) {
            st.deregistered = true;
            st.deregistered_cert = st.identity ? st.identity->certificate_pem : std::string{};
          }
          if (st.state != link_state::draining) start_drain(self, false);
        } else {
          out_of_state();  // hello_ack again, or a connector-to-SCM type
        }
      },
      msg);
}

void dial(self_ptr self) {
  auto& st = self->state;
  std::optional<config::connector_identity> id;
  try {
    id = st.options.load_identity();
  } catch (const std::exception& e) {
    st.next_dial = steady::now() + pol::identity_check_interval;
    log(self, e.what());
    return set_state(self, link_state::not_registered, e.what());
  }
  if (!id) {
    st.next_dial = steady::now() + 5s;
    if (steady::now() - st.last_not_registered_log > pol::identity_check_interval) {
      st.last_not_registered_log = steady::now();
      log(self, "not registered with SCM yet: run cbcs register -token T");
    }
    if (st.state != link_state::not_registered)
      set_state(self, link_state::not_registered, "not registered: run cbcs register -token T");
    return;
  }
  if (st.deregistered) {
    if (id->certificate_pem == st.deregistered_cert) {
      st.next_dial = steady::now() + pol::identity_check_interval;
      return set_state(self, link_state::deregistered,
                       "SCM deleted this connector; register again: cbcs register -token T -force");
    }
    st.deregistered = false;
  }
  config::certificate_validity validity;
  try {
    validity = config::validity_of(id->certificate_pem);
  } catch (const std::exception&) {
    st.next_dial = steady::now() + pol::identity_check_interval;
    return set_state(self, link_state::not_registered,
                     "the stored certificate is unreadable; register again: cbcs register -token "
                     "T -force");
  }
  if (st.options.metrics) st.options.metrics->identity_expires(validity.not_after);
  if (sys_clock::now() >= validity.not_after) {
    st.next_dial = steady::now() + pol::identity_check_interval;
    std::string text =
        "the connector certificate has expired; get a restore token from SCM and run "
        "cbcs register -token T -force";
    if (!st.expired_logged) log(self, text);
    st.expired_logged = true;
    st.identity = std::move(id);
    return set_state(self, link_state::certificate_expired, text);
  }
  st.expired_logged = false;
  st.identity = std::move(id);
  st.renewal.use(validity);
  ws_settings ws{.url = st.identity->session_url,
                 .trust_pem = st.identity->scm_ca_pem,
                 .cert_chain_pem = st.identity->certificate_pem + st.identity->chain_pem,
                 .key_pem = st.identity->key_pem,
                 .proxy = st.options.proxy};
  auto gen = ++st.gen;
  auto handle = caf::actor_cast<session_actor>(self);
  ws_events events{.opened = [handle, gen] { caf::anon_send(handle, ws_open_atom::value, gen); },
                   .frame =
                       [handle, gen](std::string text, ws_frame_kind kind) {
                         caf::anon_send(handle, ws_frame_atom::value, gen, std::move(text),
                                        static_cast<int>(kind));
                       },
                   .closed =
                       [handle, gen](std::string reason) {
                         caf::anon_send(handle, ws_closed_atom::value, gen, std::move(reason));
                       }};
  try {
    st.conn = ws_connection::dial(st.io, std::move(ws), std::move(events));
  } catch (const std::exception& e) {
    st.next_dial = steady::now() + pol::identity_check_interval;
    log(self, fmt::format("cannot dial SCM: {}", e.what()));
    return set_state(self, link_state::waiting, e.what());
  }
  st.seq_out = 0;
  st.deadline = steady::now() + pol::dial_timeout;
  set_state(self, link_state::connecting);
}

void on_closed(self_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.conn.reset();
  bool was_ready = st.state == link_state::ready || st.state == link_state::draining;
  if (was_ready && steady::now() - st.ready_since >= pol::backoff_reset_after) st.attempt = 0;
  // Unacknowledged results stay; they go again on the next session.
  st.outbox.restart();
  st.aborted_at = {};
  st.renewal.link_lost();
  // Jobs not yet acknowledged: SCM leases them again; the router still runs them.
  for (auto& [id, j] : st.jobs) j.acked = false;
  st.connected_since_ms = 0;
  if (st.stopping) {
    set_state(self, link_state::stopped, "");
    st.stopped->set();
    return;
  }
  auto delay = st.next_delay_override.value_or(pol::backoff_delay(st.attempt++, uniform(st)));
  st.next_delay_override.reset();
  st.next_dial = steady::now() + delay;
  // A session that was up went down: an event; a dial that failed again: a line.
  if (was_ready)
    report(self, make_event<event_id::session_down>(reason, delay.count()));
  else
    log(self, fmt::format("session closed: {}; next attempt in {} ms", reason, delay.count()));
  set_state(self, link_state::waiting, reason);
}

// No session: waiting for the next dial (or for a fix before it).
bool offline(link_state s) {
  return s == link_state::not_registered || s == link_state::waiting ||
         s == link_state::certificate_expired || s == link_state::deregistered ||
         s == link_state::closed;
}

void abort_link(self_ptr self, steady::time_point now) {
  self->state.aborted_at = now;
  self->state.conn->abort();
}

// Does whatever is due now. Runs on every tick and after every event, so
// work an event makes (a drain that may close, a status write) is not left
// for a timer.
void run_due(self_ptr self) {
  auto& st = self->state;
  auto now = steady::now();
  bool abort_allowed = now - st.aborted_at >= abort_retry;
  if (offline(st.state)) {
    if (st.stopping) {
      set_state(self, link_state::stopped);
      st.stopped->set();
    } else if (now >= st.next_dial) {
      dial(self);
    }
    return;
  }
  switch (st.state) {
    case link_state::connecting:
      if (now >= st.deadline && st.conn && abort_allowed) abort_link(self, now);
      break;
    case link_state::hello_sent:
      if (now >= st.deadline && st.conn && abort_allowed) {
        log(self, "no hello_ack within 15 s");
        abort_link(self, now);
      }
      break;
    case link_state::ready:
    case link_state::draining:
      if (now - st.last_rx >= 3 * st.hb_interval && st.conn) {
        if (abort_allowed) {
          log(self, "dead link: nothing received for three heartbeat intervals");
          abort_link(self, now);
        }
        break;
      }
      // A health change goes out at once, in a heartbeat of its own.
      if (bool health_moved =
              st.options.health && st.options.health->version() != st.health_version_sent;
          health_moved || now - st.last_hb_sent >= st.hb_interval) {
        st.last_hb_sent = now;
        scm::heartbeat_msg h;
        h.time_ms = now_ms();
        if (health_moved) {
          h.backends = current_backends(self);
          trace(self, "health_sent");
        }
        send_frame(self, std::move(h));
      }
      // cbcs status reads the counters from the status file: at most 1 s behind.
      if (st.jobs_received + st.results_sent + st.results_acked != st.counters_written &&
          now - st.last_status_write >= 1s)
        write_status(self);
      if (st.rescan_wanted && now - st.last_rescan >= 5s) rescan_journal(self);
      pump_results(self);
      maybe_renew(self);
      if (st.state == link_state::draining) {
        bool done = st.outbox.empty() && (!st.stopping || st.jobs.empty());
        if ((done || now >= st.deadline) && st.conn) {
          st.deadline = now + 1h;  // close once
          close_link(self);
        }
      }
      break;
    default:
      break;  // stopped; offline above
  }
}

// The earliest moment run_due() has something to do without an event; max: none.
steady::time_point next_due(self_ptr self) {
  auto& st = self->state;
  auto next = steady::time_point::max();
  auto at = [&next](steady::time_point t) { next = std::min(next, t); };
  auto after_abort = st.aborted_at + abort_retry;
  if (offline(st.state)) return st.next_dial;
  switch (st.state) {
    case link_state::connecting:
    case link_state::hello_sent:
      if (st.conn) at(std::max(st.deadline, after_abort));
      break;
    case link_state::ready:
    case link_state::draining:
      if (!st.conn) break;
      if (auto dead_at = st.last_rx + 3 * st.hb_interval; steady::now() < dead_at) {
        at(dead_at);
      } else {
        at(after_abort);  // aborted (or soon again): nothing else runs until closed
        break;
      }
      at(st.last_hb_sent + st.hb_interval);
      if (st.jobs_received + st.results_sent + st.results_acked != st.counters_written)
        at(st.last_status_write + 1s);
      if (st.rescan_wanted) at(st.last_rescan + 5s);
      if (auto resend = st.outbox.next_resend_at(); resend != steady::time_point::max()) at(resend);
      if (st.state == link_state::draining) at(st.deadline);
      if (st.state == link_state::ready && !st.stopping && st.identity)
        at(st.renewal.next_wake(steady::now(), sys_clock::now()));
      break;
    default:
      break;  // stopped
  }
  return next;
}

// Arms the timer for the next deadline unless one at least as early is armed.
void arm(self_ptr self) {
  auto& st = self->state;
  auto next = next_due(self);
  if (next == steady::time_point::max() || next >= st.timer_at) return;
  st.timer_at = next;
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(next - steady::now());
  self->delayed_send(self, std::max<std::chrono::milliseconds>(delay, 1ms), tick_atom::value,
                     ++st.timer_gen);
}

void service(self_ptr self) {
  run_due(self);
  arm(self);
}

session_actor::behavior_type session(self_ptr self, scm_session_options options,
                                     router_actor router, std::shared_ptr<io_runner> io,
                                     std::shared_ptr<stop_signal> stopped) {
  auto& st = self->state;
  st.options = std::move(options);
  st.router = std::move(router);
  st.io = std::move(io);
  st.stopped = std::move(stopped);
  st.journal = std::make_shared<config::journal>(config::journal_file(st.options.data_dir), false);
  if (auto health = st.options.health) {
    // Told, not polled: a change wakes the session (weakly held: the board outlives it).
    caf::weak_actor_ptr weak{self->ctrl()};
    auto id = health->subscribe([weak] {
      if (auto strong = weak.lock())
        caf::anon_send(caf::actor_cast<session_actor>(strong), health_atom::value);
    });
    self->attach_functor([health, id] { health->unsubscribe(id); });
  }
  self->send(self, tick_atom::value, st.timer_gen);
  // Every handler ends in service(): what its event made due runs at once.
  return {
      [self](result_atom, const job_result& r) {
        on_result(self, r);
        service(self);
      },
      [self](accepted_atom, const std::string& id) {
        on_accepted(self, id);
        service(self);
      },
      [self](progress_atom, const std::string& id, const ca::outcome& o) {
        on_progress(self, id, o);
        service(self);
      },
      [self](ws_open_atom, std::uint64_t gen) {
        auto& st = self->state;
        if (gen != st.gen || st.state != link_state::connecting) return;
        scm::hello_msg h;
        h.connector_id = st.identity->connector_id;
        h.version = st.options.version;
        h.backends = current_backends(self);
        st.last_rx = steady::now();
        st.deadline = steady::now() + pol::hello_timeout;
        send_frame(self, std::move(h));
        set_state(self, link_state::hello_sent);
        service(self);
      },
      [self](ws_frame_atom, std::uint64_t gen, const std::string& text, int kind) {
        if (gen != self->state.gen || !self->state.conn) return;
        on_frame(self, text, static_cast<ws_frame_kind>(kind));
        service(self);
      },
      [self](ws_closed_atom, std::uint64_t gen, const std::string& reason) {
        if (gen != self->state.gen) return;
        on_closed(self, reason);
        service(self);
      },
      [self](tick_atom, std::uint64_t gen) {
        auto& st = self->state;
        if (gen != st.timer_gen) return;  // an earlier one replaced it
        st.timer_at = steady::time_point::max();
        service(self);
      },
      [self](health_atom) {
        write_status(self);  // cbcs status shows the backends' health as it changes
        service(self);
      },
      [](probe_atom, const probe_reply& reply) { reply->set_value(); },
      [self](proxy_atom, proxy_settings& proxy) {
        // The next connection goes this way; a link that is up stays up.
        self->state.options.proxy = std::move(proxy);
        trace(self, "proxy_changed");
      },
      [self](drain_atom) {
        auto& st = self->state;
        if (st.stopping) return;
        st.stopping = true;
        if (link_up(self)) {
          if (st.state == link_state::ready) start_drain(self, true);
        } else if (st.conn) {
          abort_link(self, steady::now());  // not ready yet: nothing to drain
        }
        service(self);
      },
  };
}

}  // namespace

struct scm_service::impl {
  session_actor actor;
  std::shared_ptr<stop_signal> stopped = std::make_shared<stop_signal>();
  bool stop_called = false;
};

scm_service::scm_service(connector_runtime& runtime, scm_session_options options)
    : impl_(std::make_unique<impl>()) {
  auto router = caf::actor_cast<router_actor>(runtime.router_handle());
  if (!options.health) options.health = runtime.health();
  if (!options.trace) options.trace = runtime.trace();
  if (!options.metrics) options.metrics = runtime.metrics();
  // Detached: it reads the journal, which may wait on the router's commits.
  impl_->actor = runtime.actor_system().spawn<caf::detached>(session, std::move(options), router,
                                                             runtime.io(), impl_->stopped);
}

scm_service::~scm_service() { stop(); }

void scm_service::use_proxy(proxy_settings proxy) {
  if (impl_->actor) caf::anon_send(impl_->actor, proxy_atom::value, std::move(proxy));
}

bool scm_service::probe(std::chrono::milliseconds timeout) {
  if (!impl_->actor) return false;
  return probe_answered(timeout, [&](probe_reply reply) {
    caf::anon_send(impl_->actor, probe_atom::value, std::move(reply));
  });
}

void scm_service::stop() {
  auto& m = *impl_;
  if (m.stop_called) return;
  m.stop_called = true;
  caf::anon_send(m.actor, drain_atom::value);
  {
    std::unique_lock lock(m.stopped->mutex);
    // Drain is 5 s; the close handshake has its own 5 s.
    m.stopped->cv.wait_for(lock, 15s, [&] { return m.stopped->done; });
  }
  caf::anon_send_exit(m.actor, caf::exit_reason::user_shutdown);
  m.actor = nullptr;
}

}  // namespace cbcs::actors
