#include "actors/backend_actor.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "actors/http/io_delivery.hpp"
#include "actors/policy/call_limiter.hpp"
#include "crypto/certificate_authority.hpp"
#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/retry_after.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::actors {
namespace {

namespace ca = protocol::ca;
namespace scm = protocol::scm;
using std::chrono::milliseconds;

using deadline_index = std::multimap<steady::time_point, const std::string*>;

struct active_job {
  job_ticket ticket;
  deadline_index::iterator deadline;
  std::unique_ptr<ca::job_session> session;
  std::uint64_t generation = 0;  // bumps with every scheduled step; stale messages are ignored
  int attempt = 0;               // failed attempts so far
  int polls = 0;
  steady::time_point sent_at{};
  std::string rate_class;
  bool side_call = false;       // the request out is not to the CA (http_request::side_call)
  milliseconds retry_after{0};  // from the last response's Retry-After
  bool parked = false;          // waits for the half-open breaker's probe
  bool awaiting = false;        // waits for another job's credential (await_fetch)
  bool await_traced = false;
  bool unsent = false;         // its last request was held back (rate limit, breaker)
  bool pending_at_ca = false;  // the CA holds it (approval, validation): cbcs status counts it
  // Resume tokens sent to the router, and the latest of them it has
  // committed: a placement (http_request::placement) leaves only when its
  // token is durable; until then it is held here.
  std::uint64_t token_seq = 0;
  std::uint64_t durable_seq = 0;
  steady::time_point token_sent_at{};
  std::optional<ca::http_request> held_placement;
  // SCM cancelled it (the reason): whatever its session ends with, the job
  // ends cancelled, saying what became of the order at the CA.
  std::optional<std::string> cancelled;
};

struct backend_state {
  backend_actor_config config;
  ca::keeps_records* records = nullptr;  // records_of()
  bool records_checked = false;
  std::unordered_map<std::string, active_job> active;
  std::deque<job_ticket> waiting;
  std::map<std::string, call_limiter, std::less<>> limiters;  // by call class
  std::unique_ptr<circuit_breaker> breaker;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t next_generation = 1;
  std::string actor_name;
  // Deadlines of active jobs, earliest first, and the one timer armed for the
  // earliest: a timer per job would cost a clock-thread wake-up per job.
  deadline_index deadlines;
  steady::time_point timer_at = steady::time_point::max();
  std::uint64_t timer_generation = 0;
  // What this worker last told config.health, and why it would say otherwise:
  // an open breaker (degraded), credentials the CA refused (unhealthy, until
  // a job succeeds again).
  std::optional<std::pair<backend_health::health, std::string>> reported;
  std::string auth_refused;
  // The client certificate near its end (degraded) or past it (unhealthy):
  // looked at when the actor starts and every few hours.
  std::optional<std::pair<backend_health::health, std::string>> certificate_notice;
  bool breaker_reported_open = false;  // what config.metrics last heard
  std::size_t pending_at_ca = 0;  // active jobs the CA holds
  // Jobs waiting for the half-open breaker's probe to come back: woken by the
  // next response. One slow fallback timer covers a probe whose answer never
  // comes; while the probe is out it only re-arms itself.
  std::vector<std::string> parked;
  bool park_timer_armed = false;
  // Jobs waiting for a credential another job fetches (single flight):
  // stepped again when a side call was answered or a job finished, and by
  // a one-second fallback timer while any wait.
  std::vector<std::string> awaiting;
  bool wake_timer_armed = false;
  bool wake_sent = false;
  // Outcomes waiting for the driver's make_durable() (group commit).
  std::vector<job_result> held;

  static inline const char* name = "backend";
};

using self_ptr = backend_actor::stateful_pointer<backend_state>;

// The limiter of a call class, else the default class's; null: unlimited.
call_limiter* limiter_of(backend_state& st, std::string_view rate_class) {
  auto it = st.limiters.find(rate_class);
  if (it == st.limiters.end()) it = st.limiters.find(std::string_view{});
  return it == st.limiters.end() ? nullptr : &it->second;
}

double unit_random(backend_state& st) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(st.rng);
}

void trace(self_ptr self, std::string_view event, const std::string& job_id,
           std::string_view outcome = {}, int attempt = 0, std::int64_t latency_us = -1,
           std::string_view detail = {}) {
  auto& st = self->state;
  if (!st.config.trace) return;
  st.config.trace->record({.actor = st.actor_name,
                           .event = event,
                           .job_id = job_id,
                           .backend = st.config.name,
                           .outcome = outcome,
                           .attempt = attempt,
                           .latency_us = latency_us,
                           .detail = detail});
}

// The backend as its real outcomes show it, for SCM (hello and heartbeats)
// and cbcs status: credentials refused, or the breaker open, or fine.
void report_health(self_ptr self, steady::time_point now) {
  auto& st = self->state;
  // The metrics hear of a change only: workers share one figure.
  if (bool open = st.breaker->current(now) != circuit_breaker::state::closed;
      st.config.metrics && open != st.breaker_reported_open) {
    st.breaker_reported_open = open;
    st.config.metrics->breaker(st.config.worker, open);
  }
  if (!st.config.health) return;
  using health = backend_health::health;
  std::pair<health, std::string> now_is{health::healthy, ""};
  auto notice = st.certificate_notice;
  if (!st.auth_refused.empty())
    now_is = {health::unhealthy, "the CA refuses the credentials: " + st.auth_refused};
  else if (notice && notice->first == health::unhealthy)
    now_is = *notice;
  else if (st.breaker->current(now) == circuit_breaker::state::open)
    now_is = {health::degraded, "circuit breaker open: the backend keeps failing"};
  else if (notice)
    now_is = *notice;
  if (st.reported == now_is) return;
  st.reported = now_is;
  st.config.health->set(st.config.name, now_is.first, now_is.second, st.config.worker);
}

// How often a running backend looks at its client certificate's expiry:
// the 30-day warning needs no precision finer than this.
constexpr std::chrono::hours certificate_check_interval{6};

void check_client_certificate(self_ptr self) {
  auto& st = self->state;
  const auto& presented = st.config.client_certificate;
  if (!presented || st.config.worker != 0) return;  // one worker speaks for it
  auto now = std::chrono::system_clock::now();
  auto c =
      protocol::ca::read_watched_certificate(presented->pem, presented->what, presented->fix, now);
  st.certificate_notice.reset();
  if (st.config.metrics)
    st.config.metrics->certificate(presented->kind,
                                   c ? std::optional(c->expires_at) : std::nullopt);
  if (c && !c->warning.empty())
    st.certificate_notice = {
        c->expired ? backend_health::health::unhealthy : backend_health::health::degraded,
        c->warning};
  report_health(self, steady::now());
  self->delayed_send(self, certificate_check_interval, cert_check_atom::value);
}

// TLS, client-certificate and proxy-authentication failures, and a proxy's
// lasting refusal, are configuration problems: retrying cannot help, and a
// loop of 407s may lock the proxy account.
ca::outcome transport_outcome(std::uint8_t failure, std::string message) {
  switch (static_cast<ca::transport_failure>(failure)) {
    case ca::transport_failure::tls:
      return ca::outcome::failed(ca::error_class::tls, std::move(message));
    case ca::transport_failure::client_certificate_refused:
    case ca::transport_failure::proxy_auth:
    case ca::transport_failure::authentication:
      return ca::outcome::failed(ca::error_class::auth, std::move(message));
    case ca::transport_failure::proxy_refused: {
      auto o = ca::outcome::failed(ca::error_class::network, std::move(message));
      o.retryable = false;
      return o;
    }
    case ca::transport_failure::none:
    case ca::transport_failure::network:
    case ca::transport_failure::not_sent:
      break;
  }
  return ca::outcome::failed(ca::error_class::network, std::move(message));
}

// The driver's keeps_records ability (the local CA's ledger), or nullptr:
// found once per actor, not per job.
ca::keeps_records* records_of(backend_state& st) {
  if (!st.records_checked) {
    st.records = dynamic_cast<ca::keeps_records*>(st.config.driver.get());
    st.records_checked = true;
  }
  return st.records;
}

void start_job(self_ptr self, job_ticket ticket);
void step(self_ptr self, const std::string& id, const ca::http_response* previous);
void transmit(self_ptr self, const std::string& id, const ca::http_request& request,
              steady::time_point now);

constexpr auto park_fallback = milliseconds(1000);

void arm_park_timer(self_ptr self) {
  auto& st = self->state;
  if (st.park_timer_armed) return;
  st.park_timer_armed = true;
  self->delayed_send(self, park_fallback, unpark_atom::value, true);
}

// Steps the jobs that waited for the breaker's probe again, unless the probe
// is still out (the fallback timer): then they wait on, untouched.
void wake_parked(self_ptr self) {
  auto& st = self->state;
  if (st.parked.empty()) return;
  if (st.breaker->awaiting_probe(steady::now())) return arm_park_timer(self);
  auto parked = std::exchange(st.parked, {});
  for (const auto& id : parked) {
    auto it = st.active.find(id);
    // Finished meanwhile (its deadline), perhaps run again since: not parked.
    if (it == st.active.end() || !it->second.parked) continue;
    it->second.parked = false;
    step(self, id, nullptr);
  }
}

// Arms the deadline timer for `at` unless one is armed for earlier.
void arm_deadline_timer(self_ptr self, steady::time_point at) {
  auto& st = self->state;
  if (at >= st.timer_at) return;
  st.timer_at = at;
  auto delay = std::chrono::duration_cast<milliseconds>(at - steady::now()) + milliseconds(1);
  self->delayed_send(self, std::max(delay, milliseconds(1)), deadline_atom::value,
                     ++st.timer_generation);
}

constexpr auto await_fallback = milliseconds(1000);

// Steps every job that awaits another job's credential; those that still
// must wait say so again.
void wake_awaiting(self_ptr self) {
  auto& st = self->state;
  auto awaiting = std::exchange(st.awaiting, {});
  for (const auto& id : awaiting) {
    auto it = st.active.find(id);
    if (it == st.active.end() || !it->second.awaiting) continue;
    it->second.awaiting = false;
    step(self, id, nullptr);
  }
}

// Once per mailbox pass, however many answers or results come in it.
void schedule_wake(self_ptr self) {
  auto& st = self->state;
  if (st.awaiting.empty() || st.wake_sent) return;
  st.wake_sent = true;
  self->send(self, wake_atom::value, false);
}

void park_for_credential(self_ptr self, const std::string& id, const ca::await_fetch& what) {
  auto& st = self->state;
  auto& job = st.active.at(id);
  job.generation = st.next_generation++;  // no retry of its own meanwhile
  if (!job.awaiting) {
    job.awaiting = true;
    st.awaiting.push_back(id);
    // Traced once: a wake that finds the fetch still under way awaits again.
    if (!job.await_traced) trace(self, "await", id, "credential", job.attempt, -1, what.what);
    job.await_traced = true;
  }
  if (!st.wake_timer_armed) {
    st.wake_timer_armed = true;
    self->delayed_send(self, await_fallback, wake_atom::value, true);
  }
}

// Makes held outcomes durable with one make_durable() and sends them on.
void flush_held(self_ptr self) {
  auto& st = self->state;
  if (st.held.empty()) return;
  auto held = std::move(st.held);
  st.held.clear();
  std::string failure;
  try {
    records_of(st)->make_durable();
  } catch (const std::exception& e) {
    failure = fmt::format("could not record the result: {}", e.what());
  }
  for (auto& r : held) {
    if (!failure.empty() && r.outcome.what != ca::outcome::kind::failed)
      r.outcome = ca::outcome::failed(ca::error_class::internal, failure);
    trace(self, "result", r.job_id, outcome_label(r.outcome), 0, -1, r.outcome.message);
    self->send(st.config.router, result_atom::value, std::move(r));
  }
}

// A burst of thousands of jobs would otherwise wait for one commit at its end.
constexpr std::size_t max_held = 128;

// The result of a job SCM cancelled, from the outcome of its order's cancel
// at the CA (or of the job itself, when its driver cannot cancel orders).
enum class order_cancel : std::uint8_t { asked, no_ability, no_order };

ca::outcome cancelled_result(const std::string& reason, const ca::outcome& at_ca,
                             order_cancel how) {
  auto o = scm::cancelled_outcome(reason);
  if (how == order_cancel::no_ability)
    o.message += "; the order stays at the CA (this backend type cannot cancel it there)";
  else if (how == order_cancel::no_order)
    o.message += "; the CA had named no order to cancel";
  else if (at_ca.what == ca::outcome::kind::done)
    o.message += "; the order was cancelled at the CA";
  else
    o.message += "; the CA did not cancel the order: " + at_ca.message;
  return o;
}

void finish(self_ptr self, const std::string& id, ca::outcome result) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  // Health follows what jobs meet: refused credentials until one succeeds.
  if (result.what == ca::outcome::kind::failed && result.error == ca::error_class::auth)
    st.auth_refused = result.message;
  else if (result.what != ca::outcome::kind::failed)
    st.auth_refused.clear();
  report_health(self, steady::now());
  if (it->second.pending_at_ca && st.config.health)
    st.config.health->set_pending(st.config.name, st.config.worker, --st.pending_at_ca);
  if (it->second.cancelled)
    result = cancelled_result(*it->second.cancelled, result,
                              !dynamic_cast<ca::cancels_orders*>(st.config.driver.get())
                                  ? order_cancel::no_ability
                              : it->second.ticket.resume_token.empty() ? order_cancel::no_order
                                                                       : order_cancel::asked);
  if (result.what == ca::outcome::kind::issued && !result.message.empty())
    trace(self, "second_order", id, "issued", it->second.attempt, -1, result.message);
  if (records_of(st)) {
    // Sent after make_durable(), which the flush message at the end of the
    // mailbox does once for everything that finished before it.
    if (st.held.empty()) self->send(self, flush_atom::value);
    st.held.push_back(job_result{id, st.config.name, std::move(result)});
    if (st.held.size() >= max_held) flush_held(self);
  } else {
    trace(self, "result", id, outcome_label(result), it->second.attempt, -1, result.message);
    self->send(st.config.router, result_atom::value,
               job_result{id, st.config.name, std::move(result)});
  }
  if (it->second.deadline != st.deadlines.end()) st.deadlines.erase(it->second.deadline);
  st.active.erase(it);
  // It may have been the one fetching for the others.
  schedule_wake(self);
  // A slot is free: take the next waiting job.
  while (!st.waiting.empty() && st.active.size() < st.config.settings.max_in_flight) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    start_job(self, std::move(next));
  }
}

// Runs step(id) again at `at` (or fails the job when that passes its deadline).
void schedule(self_ptr self, active_job& job, milliseconds delay) {
  job.generation = self->state.next_generation++;
  self->delayed_send(self, delay, retry_atom::value, job.ticket.job.id, job.generation);
}

void retry_or_fail(self_ptr self, const std::string& id, ca::outcome failure) {
  auto& st = self->state;
  auto& job = st.active.at(id);
  ++job.attempt;
  if (!failure.retryable) return finish(self, id, std::move(failure));
  auto now = steady::now();
  auto at = next_attempt_time(st.config.settings.retry, job.attempt,
                              std::max(failure.retry_after, job.retry_after), now,
                              job.ticket.deadline, unit_random(st));
  if (!at) {
    failure.retryable = false;
    failure.message = fmt::format("gave up after {} attempt(s): {}", job.attempt, failure.message);
    return finish(self, id, std::move(failure));
  }
  auto delay = std::chrono::duration_cast<milliseconds>(*at - now);
  if (st.config.metrics) st.config.metrics->retry(failure.error);
  trace(self, "retry", id, ca::to_string(failure.error), job.attempt, -1,
        fmt::format("in {} ms: {}", delay.count(), failure.message));
  schedule(self, job, delay);
}

void handle_outcome(self_ptr self, const std::string& id, ca::outcome result) {
  auto& st = self->state;
  auto& job = st.active.at(id);
  switch (result.what) {
    case ca::outcome::kind::issued:
    case ca::outcome::kind::done:
      return finish(self, id, std::move(result));
    case ca::outcome::kind::pending: {
      // Cancelling: a CA that holds the cancel too is not polled for it.
      if (job.cancelled) return finish(self, id, std::move(result));
      ++job.polls;
      auto delay =
          poll_delay(st.config.settings.retry, job.polls, result.poll_after, unit_random(st));
      if (steady::now() + delay >= job.ticket.deadline) {
        // Still pending at the deadline: SCM hears "pending", the order stays
        // with the CA, and a later job (same id) picks it up by its resume token.
        return finish(self, id, std::move(result));
      }
      // The reason word and the CA's words: what an operator waiting at the
      // console sees (cli/progress).
      trace(self, "pending", id, result.pending_reason.empty() ? "pending" : result.pending_reason,
            job.polls, -1,
            result.message.empty()
                ? fmt::format("poll in {} ms", delay.count())
                : fmt::format("poll in {} ms: {}", delay.count(), result.message));
      if (!job.pending_at_ca) {
        job.pending_at_ca = true;
        if (st.config.health)
          st.config.health->set_pending(st.config.name, st.config.worker, ++st.pending_at_ca);
      }
      self->send(st.config.router, progress_atom::value, id, result);
      return schedule(self, job, delay);
    }
    case ca::outcome::kind::failed:
      return retry_or_fail(self, id, std::move(result));
  }
}

void send_request(self_ptr self, const std::string& id, ca::http_request request) {
  auto& st = self->state;
  auto& job = st.active.at(id);
  if (!st.config.transport)
    return finish(self, id,
                  ca::outcome::failed(ca::error_class::internal,
                                      "this backend has no transport for its requests"));
  auto now = steady::now();
  job.side_call = request.side_call;
  if (request.side_call) return transmit(self, id, request, now);
  if (!st.breaker->allow(now)) {
    auto wait = std::chrono::duration_cast<milliseconds>(st.breaker->reopens_at() - now);
    if (now + wait >= job.ticket.deadline)
      return finish(self, id,
                    ca::outcome::failed(ca::error_class::unavailable,
                                        "circuit breaker open: the backend keeps failing"));
    if (wait <= milliseconds(0)) {
      // Half-open, its probe still out: wait for its answer, not in a loop.
      job.generation = st.next_generation++;
      if (!job.parked) {
        job.parked = true;
        job.unsent = true;
        st.parked.push_back(id);
        trace(self, "breaker", id, "half_open", job.attempt, -1, "waiting for the probe");
      }
      return arm_park_timer(self);
    }
    trace(self, "breaker", id, "open", job.attempt, -1, fmt::format("wait {} ms", wait.count()));
    job.unsent = true;
    return schedule(self, job, wait);
  }
  if (auto* limiter = limiter_of(st, request.rate_class); limiter && !limiter->try_take(now)) {
    if (st.breaker->current(now) == circuit_breaker::state::half_open) st.breaker->on_success();
    job.unsent = true;
    auto wait = std::max(limiter->wait_time(now), milliseconds(1));
    if (st.config.metrics) st.config.metrics->rate_limited(wait);
    return schedule(self, job, wait);
  }
  if (request.placement && job.durable_seq < job.token_seq) {
    // Its "placement in doubt" token is not committed yet: a crash now must
    // find it in the journal, so the placement waits for the router's
    // `durable` (one fsync shared by every token of that group commit).
    job.generation = st.next_generation++;  // no retry of its own meanwhile
    job.held_placement = std::move(request);
    trace(self, "hold", id, "placement", job.attempt + 1, -1, "until its token is durable");
    return;
  }
  transmit(self, id, request, now);
}

// The router committed a resume token of the job: a placement held for it goes.
// Held so long that its deadline in doubt, counted from before the commit,
// could pass before its answer: the session dates it anew (another token).
constexpr auto held_placement_stale = milliseconds(1000);

void on_durable(self_ptr self, const std::string& id, std::uint64_t seq) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  auto& job = it->second;
  job.durable_seq = std::max(job.durable_seq, seq);
  if (!job.held_placement || job.durable_seq < job.token_seq) return;
  auto request = std::move(*job.held_placement);
  job.held_placement.reset();
  auto now = steady::now();
  if (now - job.token_sent_at > held_placement_stale) {
    job.unsent = true;
    return step(self, id, nullptr);
  }
  transmit(self, id, request, now);
}

void transmit(self_ptr self, const std::string& id, const ca::http_request& request,
              steady::time_point now) {
  auto& st = self->state;
  auto& job = st.active.at(id);
  job.generation = st.next_generation++;
  job.sent_at = now;
  job.rate_class = request.rate_class;
  trace(self, "http", id, request.method, job.attempt + 1, -1, request.url);
  auto handle = caf::actor_cast<caf::strong_actor_ptr>(self);
  auto generation = job.generation;
  // Runs on the transport's thread: only hand the answer back.
  st.config.transport->send(
      request, [handle, id, generation](ca::http_response response, ca::transport_error error) {
        send_from_io(handle, caf::make_message(
                                 http_done_atom::value, id, generation, std::move(response),
                                 static_cast<std::uint8_t>(error.kind), std::move(error.message)));
      });
}

void step(self_ptr self, const std::string& id, const ca::http_response* previous) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  ca::step next;
  try {
    bool unsent = std::exchange(it->second.unsent, false);
    next = it->second.session->next(
        previous,
        {.now = std::chrono::system_clock::now(),
         .unsent = unsent,
         .attempt_limit = st.config.settings.connect_timeout + st.config.settings.request_timeout});
  } catch (const std::exception& e) {
    // A driver bug fails this job, never the backend or its other jobs.
    return finish(
        self, id,
        ca::outcome::failed(ca::error_class::internal, fmt::format("driver error: {}", e.what())));
  }
  // Whatever the CA assigned (a certificate ARN, an order id) goes to the
  // journal as soon as the driver knows it, so a restart resumes the job
  // instead of ordering again.
  auto token = it->second.session->resume_token();
  // (A cancel's session has its own; the job's stays as journaled.)
  if (!it->second.cancelled && token != it->second.ticket.resume_token) {
    auto& job = it->second;
    job.ticket.resume_token = token;
    // A placement goes out only once this token is durable: the router says
    // when (durable_atom). Other tokens need no answer.
    auto* request = std::get_if<ca::http_request>(&next);
    std::uint64_t seq = request && request->placement ? ++job.token_seq : 0;
    job.token_sent_at = steady::now();
    self->send(st.config.router, resume_atom::value, id, token, seq,
               caf::actor_cast<backend_actor>(self));
  }
  if (auto* request = std::get_if<ca::http_request>(&next))
    return send_request(self, id, std::move(*request));
  if (auto* wait = std::get_if<ca::await_fetch>(&next)) return park_for_credential(self, id, *wait);
  handle_outcome(self, id, std::move(std::get<ca::outcome>(next)));
}

void start_job(self_ptr self, job_ticket ticket) {
  auto& st = self->state;
  auto id = ticket.job.id;
  if (st.active.count(id)) return;  // already running: the router re-sent it
  active_job job;
  job.deadline = st.deadlines.end();
  try {
    // A bad CSR fails at once, for every backend type, and is never retried.
    if ((ticket.job.op == ca::operation::enroll || ticket.job.op == ca::operation::renew) &&
        !records_of(st))
      crypto::check_certificate_request(ticket.job.csr_pem);
    job.session = st.config.driver->start(ticket.job, ticket.resume_token);
  } catch (const crypto::csr_error& e) {
    job.ticket = std::move(ticket);
    st.active.emplace(id, std::move(job));
    return finish(self, id, ca::outcome::failed(ca::error_class::invalid_request, e.what()));
  } catch (const std::exception& e) {
    job.ticket = std::move(ticket);
    st.active.emplace(id, std::move(job));
    return finish(
        self, id,
        ca::outcome::failed(ca::error_class::internal, fmt::format("driver error: {}", e.what())));
  }
  job.ticket = std::move(ticket);
  auto deadline = job.ticket.deadline;
  auto slot = st.active.emplace(id, std::move(job)).first;
  auto& stored = slot->second;
  stored.generation = st.next_generation++;
  stored.deadline = st.deadlines.emplace(deadline, &slot->first);
  trace(self, "started", id, {}, 0, -1, ca::to_string(stored.ticket.job.op));
  step(self, id, nullptr);
  // Jobs that finished within step() (the local CA) never needed a timer.
  if (st.active.count(id)) arm_deadline_timer(self, deadline);
}

// SCM cancels the job: its polling stops, and where the driver can, its
// order is cancelled at the CA by a session of the driver's in its place.
void cancel_job(self_ptr self, const std::string& id, const std::string& reason) {
  auto& st = self->state;
  auto waiting = std::find_if(st.waiting.begin(), st.waiting.end(),
                              [&](const job_ticket& t) { return t.job.id == id; });
  if (waiting != st.waiting.end()) {
    auto ticket = std::move(*waiting);
    st.waiting.erase(waiting);
    if (ticket.resume_token.empty()) {
      // Never started: nothing was ordered.
      trace(self, "cancelled", id, "cancelled", 0, -1, "before it started");
      return self->send(st.config.router, result_atom::value,
                        job_result{id, st.config.name, scm::cancelled_outcome(reason)});
    }
    // An earlier run ordered already: start it, to cancel that order.
    start_job(self, std::move(ticket));
  }
  auto it = st.active.find(id);
  if (it == st.active.end() || it->second.cancelled) return;  // finished meanwhile
  auto& job = it->second;
  job.cancelled = reason;
  job.awaiting = job.parked = false;
  job.held_placement.reset();
  job.generation = st.next_generation++;  // a poll or an answer under way is dropped
  trace(self, "cancelled", id, "cancelled", job.attempt, -1, reason);
  auto* canceller = dynamic_cast<ca::cancels_orders*>(st.config.driver.get());
  if (!canceller || job.ticket.resume_token.empty())
    return finish(self, id, ca::outcome::failed(ca::error_class::not_implemented, ""));
  try {
    job.session = canceller->cancel(job.ticket.job, job.ticket.resume_token, reason);
  } catch (const std::exception& e) {
    return finish(self, id, ca::outcome::failed(ca::error_class::internal, e.what()));
  }
  // The replaced session may have held a credential fetch for the others.
  schedule_wake(self);
  job.attempt = 0;
  step(self, id, nullptr);
}

backend_actor::behavior_type behavior(self_ptr self, backend_actor_config config) {
  auto& st = self->state;
  st.actor_name = config.worker_count > 1
                      ? fmt::format("backend:{}#{}", config.name, config.worker + 1)
                      : "backend:" + config.name;
  st.breaker = std::make_unique<circuit_breaker>(config.settings.breaker);
  auto now = steady::now();
  for (const auto& limit : config.settings.rate_limits.value_or(protocol::ca::rate_limits{}))
    st.limiters.emplace(limit.call_class, call_limiter(limit.windows, now));
  st.config = std::move(config);
  // A restarted actor starts with a closed breaker: say so for its worker,
  // or the old actor's "degraded" would stay on the board.
  if (st.config.health) {
    st.config.health->set(st.config.name, backend_health::health::healthy, "", st.config.worker);
    st.reported = {{backend_health::health::healthy, ""}};
  }
  check_client_certificate(self);
  return {
      [self](run_atom, job_ticket& ticket) {
        auto& st = self->state;
        trace(self, "received", ticket.job.id, {}, 0, -1, ca::to_string(ticket.job.op));
        if (st.active.size() >= st.config.settings.max_in_flight) {
          st.waiting.push_back(std::move(ticket));
          return;
        }
        start_job(self, std::move(ticket));
      },
      [self](cert_check_atom) { check_client_certificate(self); },
      [self](unpark_atom, bool from_timer) {
        if (from_timer) self->state.park_timer_armed = false;
        wake_parked(self);
      },
      [self](retry_atom, const std::string& id, std::uint64_t generation) {
        auto it = self->state.active.find(id);
        if (it == self->state.active.end() || it->second.generation != generation) return;
        step(self, id, nullptr);
      },
      [self](deadline_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.timer_generation) return;  // re-armed for earlier since
        st.timer_at = steady::time_point::max();
        auto now = steady::now();
        // The timer may fire a little early: what is not due yet re-arms it.
        while (!st.deadlines.empty() && st.deadlines.begin()->first <= now) {
          auto id = *st.deadlines.begin()->second;
          finish(self, id,
                 ca::outcome::failed(ca::error_class::unavailable,
                                     "deadline passed before the backend answered"));
        }
        if (!st.deadlines.empty()) arm_deadline_timer(self, st.deadlines.begin()->first);
      },
      [self](flush_atom) { flush_held(self); },
      [self](durable_atom, const std::string& id, std::uint64_t seq) { on_durable(self, id, seq); },
      [self](cancel_atom, const std::string& id, const std::string& reason) {
        cancel_job(self, id, reason);
      },
      [self](wake_atom, bool from_timer) {
        auto& st = self->state;
        // One timer at a time: it re-arms when someone still waits after it.
        if (from_timer)
          st.wake_timer_armed = false;
        else
          st.wake_sent = false;
        wake_awaiting(self);
      },
      [self](http_done_atom, const std::string& id, std::uint64_t generation,
             ca::http_response& response, std::uint8_t failure, std::string& error) {
        auto& st = self->state;
        auto now = steady::now();
        auto it = st.active.find(id);
        bool current = it != st.active.end() && it->second.generation == generation;
        // Every answer from the CA tells about the backend, also one for a job
        // that has finished meanwhile: it may have been the half-open
        // breaker's probe. Side calls (instance metadata) do not, nor a
        // request the transport's own authentication kept from the CA.
        auto kind = static_cast<ca::transport_failure>(failure);
        bool reached_ca = kind != ca::transport_failure::not_sent &&
                          kind != ca::transport_failure::authentication;
        if ((!current || !it->second.side_call) && reached_ca) {
          if (failure != 0 || response.status >= 500)
            st.breaker->on_failure(now);
          else if (response.status == 429)
            st.breaker->on_throttled();
          else
            st.breaker->on_success();
          report_health(self, now);
          if (!st.parked.empty()) self->send(self, unpark_atom::value, false);
        }
        if (!current) return;
        auto& job = it->second;
        // A side call answered (a credential fetched, or a step of it): the
        // jobs that wait for it go on, after this one has stored it.
        if (job.side_call) schedule_wake(self);
        auto latency =
            std::chrono::duration_cast<std::chrono::microseconds>(now - job.sent_at).count();
        if (st.config.metrics && !job.side_call) st.config.metrics->ca_request(now - job.sent_at);
        if (failure != 0) {
          trace(self, "http_done", id, "error", job.attempt + 1, latency, error);
          // Nothing reached the CA: the same request is due, not a lookup.
          if (kind == ca::transport_failure::not_sent) job.unsent = true;
          return retry_or_fail(self, id, transport_outcome(failure, std::move(error)));
        }
        // The CA's clock as its Date header says (cbcs doctor's skew check).
        auto date = response.header("Date");
        trace(self, "http_done", id, std::to_string(response.status), job.attempt + 1, latency,
              date.empty() ? std::string() : "date: " + std::string(date));
        job.retry_after =
            ca::parse_retry_after(response.header("Retry-After"), std::chrono::system_clock::now())
                .value_or(milliseconds(0));
        if (auto* limiter = limiter_of(st, job.rate_class)) {
          if (response.status == 429)
            limiter->drain(now, job.retry_after);
          else
            limiter->answered();
        }
        step(self, id, &response);
      },
  };
}

}  // namespace

backend_actor spawn_backend(caf::actor_system& system, backend_actor_config config) {
  // A driver that commits records of its own blocks on the disk (fsync) and
  // computes: its actors get threads of their own, so that they never hold
  // the scheduler's few threads from the SCM session and the HTTP backends.
  if (dynamic_cast<ca::keeps_records*>(config.driver.get()))
    return system.spawn<caf::detached>(behavior, std::move(config));
  return system.spawn(behavior, std::move(config));
}

}  // namespace cbcs::actors
