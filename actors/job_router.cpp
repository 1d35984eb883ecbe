#include "actors/job_router.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "actors/trace/operator_log.hpp"
#include "protocol/ca/job_checks.hpp"

namespace cbcs::actors {
namespace {

namespace ca = protocol::ca;

// What the router keeps of a running job: little, since 100,000 may be in
// flight. The job itself is in the journal, where a re-dispatch reads it.
// Who waits for a job's result, and the number of its request.
struct waiter {
  result_sink sink;
  std::uint64_t submission = 0;
  bool operator==(const waiter&) const = default;
};

struct flight {
  std::string backend;
  std::size_t request = 0;  // ca::request_digest: the same id must ask the same
  ca::operation op = ca::operation::enroll;
  steady::time_point deadline;
  steady::time_point since;  // accepted (or replayed): its duration in the metrics
  std::vector<waiter> waiters;
  int crashes = 0;
  // Its result waits for a commit that failed: done, never to run again.
  bool result_held = false;
  bool ack_with_result = false;       // a submitter consumes the result itself
  std::optional<std::string> cancel;  // SCM cancelled it (the reason): told to every run
};

// A resume token to journal; seq > 0: its backend actor hears `durable`
// once it is committed (a placement in doubt waits for that).
struct token_update {
  std::string id;
  std::string token;
  std::uint64_t seq = 0;
  backend_actor reply_to;
};

struct router_state {
  router_config config;
  // The actors of each backend, one per worker (null until it is up).
  std::unordered_map<std::string, std::vector<backend_actor>> backends;
  std::unordered_map<std::string, flight> in_flight;
  // The group commit being gathered: applied in one transaction on flush.
  std::vector<std::pair<job_ticket, result_sink>> accepts;
  std::vector<job_result> finishes;
  std::vector<token_update> tokens;
  std::vector<std::string> acks;
  bool flush_scheduled = false;
  // Until when the lazy flush timer is armed: at most one per window, so that
  // a commit between an ack and its timer does not leave a timer per job.
  steady::time_point lazy_flush_due{};
  // When the next replay of jobs left pending at their deadline is due.
  steady::time_point replay_at = steady::time_point::max();
  steady::time_point next_prune{};  // the first commit prunes
  // Commits failing in a row (disk full, I/O error): while > 0, the next
  // attempt waits for its back-off timer instead of every new message.
  int journal_failures = 0;
  // Jobs running whose accept a failed commit lost: every commit journals
  // them first, and only then do their submitters hear `accepted`.
  std::vector<job_ticket> unjournaled;
  std::size_t damaged_reported = 0;  // damaged journal entries already logged
  // For config.metrics: each backend's figures, and the jobs pending at a CA
  // with when this router first saw each pending (unix seconds), kept over
  // the runs of a job pending past its deadline until its final outcome.
  std::unordered_map<std::string, std::shared_ptr<metrics::backend_metrics>> backend_metrics;
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> pending;
  std::unordered_map<std::string, std::multiset<std::int64_t>> pending_by_backend;

  static inline const char* name = "job_router";
};

using self_ptr = router_actor::stateful_pointer<router_state>;

metrics::backend_metrics* metrics_of(self_ptr self, const std::string& backend) {
  auto& st = self->state;
  if (!st.config.metrics) return nullptr;
  if (auto it = st.backend_metrics.find(backend); it != st.backend_metrics.end())
    return it->second.get();
  // A name no backend has (a job's typo) makes no series.
  if (!st.config.backend_names.count(backend)) return nullptr;
  return st.backend_metrics.emplace(backend, st.config.metrics->backend(backend))
      .first->second.get();
}

void publish_pending(self_ptr self, const std::string& backend) {
  auto* m = metrics_of(self, backend);
  if (!m) return;
  auto& since = self->state.pending_by_backend[backend];
  m->pending(since.size(), since.empty() ? 0 : *since.begin());
}

// The job waits at its CA (again): counted from the first time.
void note_pending(self_ptr self, const std::string& id, const std::string& backend) {
  auto& st = self->state;
  if (!st.config.metrics || st.pending.count(id)) return;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  st.pending.emplace(id, std::pair{backend, now});
  st.pending_by_backend[backend].insert(now);
  publish_pending(self, backend);
}

void note_not_pending(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.pending.find(id);
  if (it == st.pending.end()) return;
  auto [backend, since] = std::move(it->second);
  st.pending.erase(it);
  auto& set = st.pending_by_backend[backend];
  if (auto at = set.find(since); at != set.end()) set.erase(at);
  publish_pending(self, backend);
}

void trace(self_ptr self, std::string_view event, std::string_view job_id,
           std::string_view backend = {}, std::string_view outcome = {},
           std::string_view detail = {}) {
  if (auto& t = self->state.config.trace)
    t->record({.actor = "router",
               .event = event,
               .job_id = job_id,
               .backend = backend,
               .outcome = outcome,
               .detail = detail});
}

void schedule_flush(self_ptr self) {
  if (self->state.flush_scheduled || self->state.journal_failures > 0) return;
  self->state.flush_scheduled = true;
  // Queued behind everything already in the mailbox: one commit for all of it.
  self->send(self, flush_atom::value);
}

// A job id always goes to the same worker: its retries and duplicates meet
// the run already there.
std::size_t worker_of(const std::string& job_id, std::size_t workers) {
  return workers <= 1 ? 0 : std::hash<std::string>{}(job_id) % workers;
}

// Acks are not urgent: they ride with the next commit, or with one of their
// own at most lazy_flush_after later. Against a slow CA (moto answers ~10
// certificates/s) that saves a commit per job. A crash in between costs
// nothing: a lost ack means the result is offered to SCM once more.
constexpr auto lazy_flush_after = std::chrono::milliseconds(200);

void schedule_lazy_flush(self_ptr self) {
  auto& st = self->state;
  auto now = steady::now();
  if (st.flush_scheduled || now < st.lazy_flush_due || st.journal_failures > 0) return;
  st.lazy_flush_due = now + lazy_flush_after;
  self->delayed_send(self, lazy_flush_after, flush_atom::value);
}

void dispatch(self_ptr self, job_ticket ticket) {
  auto& st = self->state;
  auto it = st.backends.find(ticket.job.backend);
  if (it == st.backends.end()) return;  // sent when the backend comes up
  auto& worker = it->second[worker_of(ticket.job.id, it->second.size())];
  if (!worker) return;  // likewise
  trace(self, "routed", ticket.job.id, ticket.job.backend);
  auto id = ticket.job.id;
  self->send(worker, run_atom::value, std::move(ticket));
  // A run after a cancel (its backend came up, or was restarted) is cancelled too.
  if (auto f = st.in_flight.find(id); f != st.in_flight.end() && f->second.cancel)
    self->send(worker, cancel_atom::value, id, *f->second.cancel);
}

// Sends a running job again (its backend actor was restarted), from the journal.
void redispatch(self_ptr self, const std::string& id, const flight& f) {
  auto& st = self->state;
  // A resume token still waiting for its commit is newer than any on record.
  const std::string* waiting_token = nullptr;
  for (const auto& t : st.tokens)
    if (t.id == id) waiting_token = &t.token;
  // Not journaled yet (its accept waits for a commit): the ticket is here.
  for (const auto& ticket : st.unjournaled)
    if (ticket.job.id == id) {
      auto copy = ticket;
      if (waiting_token) copy.resume_token = *waiting_token;
      return dispatch(self, std::move(copy));
    }
  std::optional<config::journal_entry> entry;
  try {
    entry = st.config.journal->find(id);
  } catch (const std::exception& e) {
    trace(self, "journal_failed", id, f.backend, {}, e.what());
  }
  if (entry && waiting_token) entry->resume_token = *waiting_token;
  if (!entry) {
    // Nothing to run it from: fail it rather than leave it waiting forever.
    st.finishes.push_back({id, f.backend,
                           ca::outcome::failed(ca::error_class::internal,
                                               "the job could not be read back from the journal")});
    return schedule_flush(self);
  }
  dispatch(self, job_ticket{std::move(entry->job), f.deadline, std::move(entry->resume_token)});
}

void deliver(self_ptr self, const std::vector<waiter>& to, job_result r) {
  for (const auto& w : to) {
    r.submission = w.submission;
    self->send(w.sink, result_atom::value, r);
  }
}

void fail_unknown_backends(self_ptr self, const std::vector<job_ticket>& tickets) {
  for (const auto& ticket : tickets) {
    self->state.finishes.push_back(
        {ticket.job.id, ticket.job.backend,
         ca::outcome::failed(
             ca::error_class::invalid_request,
             fmt::format("no backend named '{}' is configured", ticket.job.backend))});
    schedule_flush(self);
  }
}

// One group commit: what it takes from the state, and what it decided.
struct batch {
  std::vector<std::pair<job_ticket, result_sink>> accepts;
  std::vector<job_result> finishes;
  std::vector<token_update> tokens;
  std::vector<std::string> acks;

  std::vector<job_ticket> to_dispatch;
  std::vector<std::pair<result_sink, job_result>> replies;
  std::vector<std::pair<result_sink, std::string>> accepted;
  std::vector<job_ticket> unknown_backend;
  std::vector<std::string> acked_with_reply;  // duplicates answered and acknowledged
  std::size_t taken = 0;                      // accepts gone through
  std::optional<std::size_t> pruned;
  bool dispatched = false;
};

constexpr std::size_t prune_batch = 2'000;

// New jobs go to their backends while the batch commits (see flush()).
// Copies: a failed commit still needs the jobs, to journal them later.
void dispatch_batch(self_ptr self, batch& b) {
  for (auto& ticket : b.to_dispatch) {
    if (self->state.config.backend_names.count(ticket.job.backend))
      dispatch(self, ticket);
    else
      b.unknown_backend.push_back(ticket);
  }
  b.dispatched = true;
}

// Each new job: joins its running twin, is answered from the journal, resumes
// where a crash left it, or starts.
void journal_accepts(self_ptr self, config::journal& journal, batch& b) {
  auto& st = self->state;
  for (; b.taken < b.accepts.size(); ++b.taken) {
    auto& [ticket, sink] = b.accepts[b.taken];
    auto id = ticket.job.id;
    auto conflict = [&](ca::operation first_op, const std::string& first_backend) {
      auto why = fmt::format(
          "job {} was given before as another request ({} on backend {}); a different request "
          "needs a new id",
          id, ca::to_string(first_op), first_backend);
      trace(self, "conflict", id, ticket.job.backend, "failed:invalid_request", why);
      b.replies.emplace_back(
          sink, job_result{id, ticket.job.backend,
                           ca::outcome::failed(ca::error_class::invalid_request, why),
                           ticket.submission});
    };
    if (auto f = st.in_flight.find(id); f != st.in_flight.end()) {
      if (f->second.request != ca::request_digest(ticket.job)) {
        conflict(f->second.op, f->second.backend);
        continue;
      }
      // The same id again while it runs: wait for the one run.
      f->second.waiters.push_back({sink, ticket.submission});
      f->second.ack_with_result |= ticket.ack_with_result;
      b.accepted.emplace_back(sink, id);
      trace(self, "duplicate", id, ticket.job.backend, "in_flight");
      continue;
    }
    std::optional<config::journal_entry> existing;
    try {
      existing = journal.accept(ticket.job);
    } catch (const config::journal_error&) {
      throw;  // SQLite refused: the whole batch waits and is tried again
    } catch (const config::config_error& e) {
      // A damaged record of this id: this job fails, the batch goes on.
      b.replies.emplace_back(sink,
                             job_result{id, ticket.job.backend,
                                        ca::outcome::failed(ca::error_class::internal, e.what()),
                                        ticket.submission});
      continue;
    }
    if (existing && !ca::same_request(existing->job, ticket.job)) {
      conflict(existing->job.op, existing->job.backend);
      continue;
    }
    if (existing && existing->state == config::job_state::finished && existing->result) {
      trace(self, "duplicate", id, existing->job.backend, "answered_from_journal");
      if (ticket.ack_with_result && !existing->acked) {
        journal.acknowledge(id);
        b.acked_with_reply.push_back(id);
      }
      b.replies.emplace_back(
          sink, job_result{id, existing->job.backend, *existing->result, ticket.submission});
      continue;
    }
    if (existing) {
      // Accepted before but never finished (a crash): resume it where it was.
      ticket.job = existing->job;
      ticket.resume_token = existing->resume_token;
      trace(self, "resumed", id, ticket.job.backend);
    } else {
      trace(self, "accepted", id, ticket.job.backend, {}, ca::to_string(ticket.job.op));
    }
    auto& f = st.in_flight[id];
    f.backend = ticket.job.backend;
    f.request = ca::request_digest(ticket.job);
    f.op = ticket.job.op;
    f.deadline = ticket.deadline;
    f.since = steady::now();
    f.waiters.push_back({sink, ticket.submission});
    f.ack_with_result = ticket.ack_with_result;
    b.accepted.emplace_back(sink, id);
    b.to_dispatch.push_back(std::move(ticket));
  }
}

// Resume tokens, results, acknowledgements, and a batch of pruning.
void journal_outcomes(self_ptr self, config::journal& journal, batch& b) {
  auto& st = self->state;
  for (auto& t : b.tokens) journal.set_resume_token(t.id, t.token);
  for (auto& r : b.finishes) {
    auto f = st.in_flight.find(r.job_id);
    // One commit for the result and its acknowledgement. A pending job
    // acknowledged so keeps its resume token: prune takes finished jobs only.
    if (f != st.in_flight.end() && f->second.ack_with_result) journal.acknowledge(r.job_id);
    // A pending outcome at the deadline is journaled as the job's state, not
    // its end: the job stays unfinished so that it resumes.
    if (r.outcome.what == ca::outcome::kind::pending) continue;
    journal.finish(r.job_id, r.outcome);
  }
  for (auto& id : b.acks) journal.acknowledge(id);
  if (steady::now() >= st.next_prune)
    b.pruned =
        journal.prune(std::chrono::system_clock::now() - st.config.journal_retention, prune_batch);
}

// Nothing of the batch is journaled. Jobs already given an in_flight entry
// run anyway but stay unacknowledged (SCM keeps them and may lease them
// again: backend idempotency covers it); the rest waits with every token,
// result and ack for the next attempt, after a back-off.
void on_commit_failed(self_ptr self, batch& b, const std::exception& e) {
  auto& st = self->state;
  if (!b.dispatched) dispatch_batch(self, b);
  std::move(b.to_dispatch.begin(), b.to_dispatch.end(), std::back_inserter(st.unjournaled));
  std::move(b.accepts.begin() + static_cast<std::ptrdiff_t>(b.taken), b.accepts.end(),
            std::back_inserter(st.accepts));
  st.tokens.insert(st.tokens.begin(), b.tokens.begin(), b.tokens.end());
  st.finishes.insert(st.finishes.begin(), b.finishes.begin(), b.finishes.end());
  for (const auto& r : b.finishes)
    if (auto f = st.in_flight.find(r.job_id); f != st.in_flight.end()) f->second.result_held = true;
  st.acks.insert(st.acks.begin(), b.acks.begin(), b.acks.end());
  st.acks.insert(st.acks.end(), b.acked_with_reply.begin(), b.acked_with_reply.end());
  ++st.journal_failures;  // first: what follows must not flush at once
  fail_unknown_backends(self, b.unknown_backend);
  for (auto& [sink, r] : b.replies) self->send(sink, result_atom::value, r);
  auto backoff = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(250 << std::min(st.journal_failures - 1, 7)),
      std::chrono::seconds(30));
  self->delayed_send(self, backoff, flush_atom::value);  // first: logging may throw
  trace(self, "journal_failed", {}, {}, {}, e.what());
  if (st.journal_failures == 1 && st.config.health) {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    st.config.health->set_journal_problem(
        fmt::format("cannot commit since {:%Y-%m-%dT%H:%M:%S}Z: {}", now, e.what()));
  }
  // The first failure is an event; every 8th attempt after it a line.
  auto failed =
      make_event<event_id::journal_failed>(e.what(), backoff.count(), st.journal_failures);
  if (st.journal_failures == 1)
    st.config.report(failed);
  else if (st.journal_failures % 8 == 0)
    st.config.log(format_event(failed));
}

// The batch is durable: its submitters and SCM may hear of it now.
void on_committed(self_ptr self, batch& b) {
  auto& st = self->state;
  if (b.pruned) {
    if (*b.pruned > 0) trace(self, "journal_pruned", {}, {}, {}, fmt::format("{} jobs", *b.pruned));
    // A full batch means more are due: the next commit takes the next batch.
    st.next_prune = steady::now() +
                    (*b.pruned == prune_batch ? std::chrono::minutes(0) : std::chrono::minutes(10));
  }
  if (st.journal_failures > 0) {
    st.config.report(make_event<event_id::journal_recovered>(st.journal_failures));
    trace(self, "journal_recovered", {});
    if (st.config.health) st.config.health->set_journal_problem({});
    st.journal_failures = 0;
  }
  for (auto& ticket : std::exchange(st.unjournaled, {})) {
    auto f = st.in_flight.find(ticket.job.id);
    if (f == st.in_flight.end()) continue;
    trace(self, "accepted", ticket.job.id, ticket.job.backend, {}, "journaled late");
    for (const auto& w : f->second.waiters) self->send(w.sink, accepted_atom::value, ticket.job.id);
  }

  for (auto& t : b.tokens) {
    trace(self, "resume_saved", t.id);
    if (t.seq > 0 && t.reply_to) self->send(t.reply_to, durable_atom::value, t.id, t.seq);
  }
  for (auto& id : b.acked_with_reply) trace(self, "acked", id, {}, {}, "with the result");
  for (auto& [sink, id] : b.accepted) self->send(sink, accepted_atom::value, id);
  for (auto& [sink, r] : b.replies) self->send(sink, result_atom::value, r);
  auto now = steady::now();
  for (auto& r : b.finishes) {
    auto f = st.in_flight.find(r.job_id);
    if (f == st.in_flight.end()) continue;
    trace(self, "result", r.job_id, r.backend, outcome_label(r.outcome));
    // Issued, with something the operator must hear (a second order at the CA).
    if (r.outcome.what == ca::outcome::kind::issued && !r.outcome.message.empty())
      st.config.log(fmt::format("job {} at backend {}: {}", r.job_id, r.backend, r.outcome.message));
    if (f->second.ack_with_result) trace(self, "acked", r.job_id, r.backend, {}, "with the result");
    if (r.outcome.what == ca::outcome::kind::pending) {
      note_pending(self, r.job_id, r.backend);
    } else {
      if (auto* m = metrics_of(self, r.backend))
        m->job_finished(f->second.op, r.outcome, now - f->second.since);
      note_not_pending(self, r.job_id);
    }
    deliver(self, f->second.waiters, r);
    st.in_flight.erase(f);
    if (r.outcome.what == ca::outcome::kind::pending) {
      // Still pending at its CA when its deadline came: it stays unfinished
      // in the journal and runs again (with its resume token) after the
      // poll interval; its result reaches SCM as an unacknowledged result.
      auto delay = std::clamp<std::chrono::milliseconds>(
          r.outcome.poll_after, std::chrono::milliseconds(100), std::chrono::minutes(10));
      auto at = steady::now() + delay;
      if (at < st.replay_at) {
        st.replay_at = at;
        self->delayed_send(self, delay, replay_atom::value);
      }
    }
  }
  fail_unknown_backends(self, b.unknown_backend);
}

// Decides everything gathered in one transaction. New jobs go to their
// backends while it commits: SCM hears job_ack only after the commit, so a
// crash in between leaves the job with SCM, which leases it again, and
// backend idempotency (derived from the job id) returns what the first run
// made. Results leave only after the commit: a result SCM holds is always in
// the journal.
void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.accepts.empty() && st.finishes.empty() && st.tokens.empty() && st.acks.empty() &&
      st.unjournaled.empty()) {
    st.journal_failures = 0;  // nothing waits: the next work tries at once
    return;
  }
  batch b{.accepts = std::exchange(st.accepts, {}),
          .finishes = std::exchange(st.finishes, {}),
          .tokens = std::exchange(st.tokens, {}),
          .acks = std::exchange(st.acks, {})};
  auto& journal = *st.config.journal;
  auto started = steady::now();
  try {
    // fsync when SCM will hear job_ack for these accepts, or when a resume
    // token is the only guard against a second order after a power cut.
    journal.begin(!b.accepts.empty() || !b.tokens.empty() || !st.unjournaled.empty());
    for (auto& ticket : st.unjournaled) journal.accept(ticket.job);
    journal_accepts(self, journal, b);
    journal_outcomes(self, journal, b);
    dispatch_batch(self, b);
    journal.commit();
  } catch (const std::exception& e) {
    journal.rollback();
    if (st.config.metrics) st.config.metrics->journal_commit_failed();
    return on_commit_failed(self, b, e);
  }
  if (st.config.metrics) st.config.metrics->journal_commit(steady::now() - started);
  on_committed(self, b);
}

router_actor::behavior_type behavior(self_ptr self, router_config config) {
  if (!config.report)
    config.report =
        config.log ? event_reporter([log = config.log](const event& e) { log(format_event(e)); })
                   : event_reporter(report_event);
  if (!config.log) config.log = log_line;
  self->state.config = std::move(config);
  return {
      [self](submit_atom, job_ticket& ticket, result_sink& sink) {
        // Checked before anything of it is traced or journaled: the journal
        // holds only validated inputs and no secret. Traced without its id
        // and backend (either may be the bad field); not journaled, so the
        // same job sent again gets the same answer.
        if (auto refusal = ca::refuse_job_inputs(ticket.job)) {
          trace(self, "refused", {}, {}, "failed:invalid_request", *refusal);
          self->send(sink, result_atom::value,
                     job_result{ticket.job.id, ticket.job.backend,
                                ca::outcome::failed(ca::error_class::invalid_request, *refusal),
                                ticket.submission});
          return;
        }
        trace(self, "received", ticket.job.id, ticket.job.backend, {},
              ca::to_string(ticket.job.op));
        self->state.accepts.emplace_back(std::move(ticket), std::move(sink));
        schedule_flush(self);
      },
      [self](result_atom, job_result& r) {
        auto& st = self->state;
        // Done at its CA: a backend restart before the commit must not run it again.
        if (auto f = st.in_flight.find(r.job_id); f != st.in_flight.end())
          f->second.result_held = true;
        st.finishes.push_back(std::move(r));
        schedule_flush(self);
      },
      [self](progress_atom, const std::string& id, const ca::outcome& o) {
        trace(self, "progress", id, {}, outcome_label(o), o.message);
        // Whoever waits hears that the job is pending at its CA.
        if (auto f = self->state.in_flight.find(id); f != self->state.in_flight.end()) {
          note_pending(self, id, f->second.backend);
          for (const auto& w : f->second.waiters) self->send(w.sink, progress_atom::value, id, o);
        }
      },
      [self](resume_atom, std::string& id, std::string& token, std::uint64_t seq,
             backend_actor& reply_to) {
        // At once: after the idempotency window, this is what keeps a
        // replayed job from ordering a second certificate. The commit is
        // synchronous=FULL whenever it holds a token (flush()).
        self->state.tokens.push_back({std::move(id), std::move(token), seq, std::move(reply_to)});
        schedule_flush(self);
      },
      [self](cancel_atom, const std::string& id, const std::string& reason, result_sink& sink,
             std::uint64_t submission) {
        auto& st = self->state;
        auto f = st.in_flight.find(id);
        if (f != st.in_flight.end()) {
          // Whoever cancels hears the result too.
          auto& w = f->second.waiters;
          if (std::find(w.begin(), w.end(), waiter{sink, submission}) == w.end())
            w.push_back({sink, submission});
          if (f->second.cancel) return;  // asked already
          f->second.cancel = reason;
          trace(self, "cancel", id, f->second.backend, {}, reason);
          auto backend = st.backends.find(f->second.backend);
          if (backend == st.backends.end()) return;  // told when it comes up (dispatch)
          auto& worker = backend->second[worker_of(id, backend->second.size())];
          if (worker) self->send(worker, cancel_atom::value, id, reason);
          return;
        }
        // Pending at its CA past its deadline, waiting for its replay: run it
        // now, to be cancelled at once (the backend cancels the order too).
        std::optional<config::journal_entry> entry;
        try {
          entry = st.config.journal->find(id);
        } catch (const std::exception& e) {
          trace(self, "journal_failed", id, {}, {}, e.what());
        }
        if (!entry || entry->state == config::job_state::finished) {
          trace(self, "cancel_ignored", id, {}, {}, "not running and not pending");
          return;
        }
        f = st.in_flight
                .emplace(id, flight{.backend = entry->job.backend,
                                    .op = entry->job.op,
                                    .deadline = steady::now() + std::chrono::minutes(10),
                                    .since = steady::now(),
                                    .waiters = {{sink, submission}},
                                    .cancel = reason})
                .first;
        trace(self, "cancel", id, f->second.backend, {}, reason);
        dispatch(self, job_ticket{std::move(entry->job), f->second.deadline,
                                  std::move(entry->resume_token)});
      },
      [self](ack_atom, const std::string& id) {
        trace(self, "acked", id);
        self->state.acks.push_back(id);
        schedule_lazy_flush(self);
      },
      [self](flush_atom) { flush(self); },
      [](probe_atom, const probe_reply& reply) { reply->set_value(); },
      [self](backend_up_atom, const std::string& name, std::uint32_t worker, std::uint32_t workers,
             backend_actor& handle) {
        auto& st = self->state;
        auto& slots = st.backends[name];
        if (slots.size() != workers) slots.resize(std::max<std::uint32_t>(workers, 1));
        if (worker >= slots.size()) return;
        bool restarted = static_cast<bool>(slots[worker]);
        slots[worker] = handle;
        trace(self, restarted ? "backend_restarted" : "backend_up", {}, name, {},
              workers > 1 ? fmt::format("worker {} of {}", worker + 1, workers) : std::string{});
        // Jobs that were with the old actor (or waited for this one) go again.
        for (auto& [id, f] : st.in_flight) {
          if (f.backend != name || worker_of(id, slots.size()) != worker) continue;
          if (f.result_held) continue;  // done: its result waits for the journal
          if (restarted && ++f.crashes > st.config.max_crashes_per_job) {
            st.finishes.push_back(
                {id, name,
                 ca::outcome::failed(
                     ca::error_class::internal,
                     fmt::format("backend actor crashed {} times on this job", f.crashes))});
            schedule_flush(self);
            continue;
          }
          redispatch(self, id, f);
        }
      },
      [self](reconfig_atom, const backend_names_change& change) {
        auto& st = self->state;
        for (const auto& name : change.added) {
          st.config.backend_names.insert(name);
          trace(self, "backend_added", {}, name);
        }
        for (const auto& name : change.replaced) {
          // The new actors' backend_up is then a start, not a restart: their
          // running jobs go to them again with no crash counted.
          st.backends.erase(name);
          trace(self, "backend_changed", {}, name);
        }
        for (const auto& name : change.removed) {
          st.config.backend_names.erase(name);
          st.backends.erase(name);
          trace(self, "backend_removed", {}, name);
          for (auto& [id, f] : st.in_flight) {
            if (f.backend != name || f.result_held) continue;
            f.result_held = true;  // nothing runs it any more
            st.finishes.push_back(
                {id, name,
                 ca::outcome::failed(
                     ca::error_class::rejected,
                     fmt::format("backend {} was removed from the configuration while this job "
                                 "ran; if its request reached the CA, look there for it",
                                 name))});
          }
          schedule_flush(self);
        }
      },
      [self](replay_atom) {
        // After a restart: every job accepted but not finished runs again
        // with its resume token. Results are delivered to no one yet; an SCM
        // session collects them as unacknowledged results.
        auto& st = self->state;
        st.replay_at = steady::time_point::max();
        std::vector<config::journal_entry> open;
        try {
          open = st.config.journal->unfinished();
        } catch (const std::exception& e) {
          // Tried again at the next replay (a pending job's, or a restart).
          trace(self, "journal_failed", {}, {}, {}, e.what());
          st.config.log(
              fmt::format("cannot read the unfinished jobs ({}); trying again in 5 s", e.what()));
          self->delayed_send(self, std::chrono::seconds(5), replay_atom::value);
          return;
        }
        if (auto damaged = st.config.journal->damaged_entries(); damaged > st.damaged_reported) {
          st.config.log(fmt::format("{} damaged journal entries skipped", damaged));
          st.damaged_reported = damaged;
        }
        std::vector<job_ticket> unknown;
        for (auto& e : open) {
          if (st.in_flight.count(e.job.id)) continue;
          if (!st.config.backend_names.count(e.job.backend)) {
            unknown.push_back(job_ticket{e.job, {}, {}});  // removed since: fail, never hang
            continue;
          }
          auto& f = st.in_flight[e.job.id];
          f.backend = e.job.backend;
          f.request = ca::request_digest(e.job);
          f.op = e.job.op;
          f.since = steady::now();
          f.deadline = f.since + std::chrono::minutes(10);
          trace(self, "replayed", e.job.id, e.job.backend);
          dispatch(self, job_ticket{e.job, f.deadline, e.resume_token});
        }
        fail_unknown_backends(self, unknown);
      },
  };
}

}  // namespace

router_actor spawn_router(caf::actor_system& system, router_config config) {
  return system.spawn<caf::detached>(behavior, std::move(config));
}

}  // namespace cbcs::actors
