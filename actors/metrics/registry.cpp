#include "actors/metrics/registry.hpp"

#include <algorithm>

namespace cbcs::actors::metrics {
namespace {

namespace ca = protocol::ca;
using std::chrono::system_clock;

// Jobs take milliseconds (the local CA) to days (an approval); requests to a
// CA up to their timeout; commits a few milliseconds unless the disk stalls.
constexpr double job_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                 2.5,   5,    10,    30,   60,  300,  1800};
constexpr double request_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
constexpr double commit_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,   0.25,   0.5,   1,    5};

constexpr auto relaxed = std::memory_order_relaxed;

double seconds_since_epoch(system_clock::time_point t) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

std::size_t outcome_slot(const ca::outcome& o) {
  switch (o.what) {
    case ca::outcome::kind::issued:
      return 0;
    case ca::outcome::kind::done:
      return 1;
    case ca::outcome::kind::failed:
    case ca::outcome::kind::pending:
      break;
  }
  return 2 + static_cast<std::size_t>(o.error);
}

family counter(std::string name, std::string help) {
  return {std::move(name), std::move(help), kind::counter, {}};
}
family gauge(std::string name, std::string help) {
  return {std::move(name), std::move(help), kind::gauge, {}};
}
family histogram_family(std::string name, std::string help) {
  return {std::move(name), std::move(help), kind::histogram, {}};
}

}  // namespace

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(bounds.size() + 1) {}

void histogram::observe(std::chrono::nanoseconds took) {
  auto seconds = std::chrono::duration<double>(took).count();
  auto bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) -
                                         bounds_.begin());
  counts_[bucket].fetch_add(1, relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(took.count(), 0)), relaxed);
}

histogram_value histogram::value() const {
  histogram_value v{.bounds = {bounds_.begin(), bounds_.end()}};
  for (const auto& c : counts_) v.counts.push_back(c.load(relaxed));
  v.sum = static_cast<double>(sum_ns_.load(relaxed)) / 1e9;
  return v;
}

backend_metrics::backend_metrics(std::string name)
    : name_(std::move(name)), job_duration_(job_bounds), request_duration_(request_bounds) {}

void backend_metrics::job_finished(ca::operation op, const ca::outcome& o,
                                   std::chrono::nanoseconds took) {
  if (o.what == ca::outcome::kind::pending) return;  // not its end
  auto op_index = std::min<std::size_t>(static_cast<std::size_t>(op), operations - 1);
  auto slot = std::min(outcome_slot(o), outcomes - 1);
  jobs_[op_index * outcomes + slot].fetch_add(1, relaxed);
  job_duration_.observe(took);
}

void backend_metrics::ca_request(std::chrono::nanoseconds took) { request_duration_.observe(took); }

void backend_metrics::retry(ca::error_class why) {
  retries_[std::min<std::size_t>(static_cast<std::size_t>(why), error_classes - 1)].fetch_add(
      1, relaxed);
}

void backend_metrics::rate_limited(std::chrono::milliseconds wait) {
  rate_limit_waits_.fetch_add(1, relaxed);
  rate_limit_wait_ms_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(wait.count(), 0)),
                                relaxed);
}

void backend_metrics::breaker(std::uint32_t worker, bool open) {
  auto bit = std::uint64_t{1} << (worker % 64);
  auto before = open ? breaker_open_workers_.fetch_or(bit, relaxed)
                     : breaker_open_workers_.fetch_and(~bit, relaxed);
  if (open && (before & bit) == 0) breaker_opened_.fetch_add(1, relaxed);
}

void backend_metrics::pending(std::size_t jobs, std::int64_t oldest_since_s) {
  pending_jobs_.store(jobs, relaxed);
  pending_oldest_since_s_.store(oldest_since_s, relaxed);
}

void backend_metrics::certificate(std::string kind,
                                  std::optional<system_clock::time_point> expires) {
  std::lock_guard lock(mutex_);
  certificate_kind_ = std::move(kind);
  certificate_expires_ = expires;
}

registry::registry() : journal_commit_(commit_bounds) {}

std::shared_ptr<backend_metrics> registry::backend(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = backends_[name];
  if (!slot) slot = std::make_shared<backend_metrics>(name);
  return slot;
}

void registry::journal_commit(std::chrono::nanoseconds took) { journal_commit_.observe(took); }

void registry::journal_commit_failed() { journal_failures_.fetch_add(1, relaxed); }

void registry::scm_link(std::string state, bool up) {
  std::lock_guard lock(mutex_);
  link_state_ = std::move(state);
  link_up_ = up;
}

void registry::scm_connected() {
  std::lock_guard lock(mutex_);
  ++connects_;
}

void registry::identity_expires(system_clock::time_point not_after) {
  std::lock_guard lock(mutex_);
  identity_expires_ = not_after;
}

std::vector<family> registry::snapshot(system_clock::time_point now) const {
  std::vector<std::shared_ptr<backend_metrics>> backends;
  std::string link_state;
  bool link_up = false;
  std::uint64_t connects = 0;
  std::optional<system_clock::time_point> identity;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [_, b] : backends_) backends.push_back(b);
    link_state = link_state_;
    link_up = link_up_;
    connects = connects_;
    identity = identity_expires_;
  }
  auto jobs = counter("cbcs_jobs_total",
                      "Jobs finished, by backend, operation and outcome (issued, done, failed with "
                      "its error class); a job pending at its CA counts when it ends.");
  auto duration =
      histogram_family("cbcs_job_duration_seconds",
                       "Time from a job's acceptance to its final outcome, by backend.");
  auto requests =
      histogram_family("cbcs_ca_request_duration_seconds",
                       "Time a request to the backend's CA took to be answered or fail.");
  auto retries =
      counter("cbcs_retries_total", "Attempts retried after a failure, by backend and reason.");
  auto waits = counter("cbcs_ratelimit_waits_total",
                       "Requests held back by the backend's rate limit (-ratelimit).");
  auto wait_seconds = counter("cbcs_ratelimit_wait_seconds_total",
                              "Time requests were held back by the backend's rate limit.");
  auto breaker_open = gauge("cbcs_breaker_open",
                            "1 while the backend's circuit breaker is open (requests held back).");
  auto breaker_opened = counter("cbcs_breaker_opened_total", "Times the circuit breaker opened.");
  auto pending = gauge("cbcs_pending_orders",
                       "Jobs waiting at the backend's CA (approval, validation, queue).");
  auto oldest = gauge("cbcs_oldest_pending_age_seconds",
                      "Age of the oldest job waiting at the backend's CA, since this service "
                      "first saw it pending; 0 when none waits.");
  auto certificates =
      gauge("cbcs_certificate_expiry_timestamp_seconds",
            "When a certificate the connector depends on expires (unix time): its SCM identity, a "
            "backend's client or agent certificate.");
  for (const auto& b : backends) {
    const auto& name = b->name_;
    for (std::size_t op = 0; op < backend_metrics::operations; ++op)
      for (std::size_t slot = 0; slot < backend_metrics::outcomes; ++slot) {
        auto n = b->jobs_[op * backend_metrics::outcomes + slot].load(relaxed);
        if (n == 0) continue;
        labels ls{{"backend", name},
                  {"operation", ca::to_string(static_cast<ca::operation>(op))},
                  {"outcome", slot == 0   ? "issued"
                              : slot == 1 ? "done"
                                          : "failed"}};
        if (slot >= 2)
          ls.emplace_back("error", ca::to_string(static_cast<ca::error_class>(slot - 2)));
        jobs.samples.push_back({std::move(ls), static_cast<double>(n)});
      }
    duration.samples.push_back({{{"backend", name}}, b->job_duration_.value()});
    requests.samples.push_back({{{"backend", name}}, b->request_duration_.value()});
    for (std::size_t c = 0; c < backend_metrics::error_classes; ++c)
      if (auto n = b->retries_[c].load(relaxed); n > 0)
        retries.samples.push_back(
            {{{"backend", name}, {"reason", ca::to_string(static_cast<ca::error_class>(c))}},
             static_cast<double>(n)});
    waits.samples.push_back(
        {{{"backend", name}}, static_cast<double>(b->rate_limit_waits_.load(relaxed))});
    wait_seconds.samples.push_back(
        {{{"backend", name}}, static_cast<double>(b->rate_limit_wait_ms_.load(relaxed)) / 1000.0});
    breaker_open.samples.push_back(
        {{{"backend", name}}, b->breaker_open_workers_.load(relaxed) != 0 ? 1.0 : 0.0});
    breaker_opened.samples.push_back(
        {{{"backend", name}}, static_cast<double>(b->breaker_opened_.load(relaxed))});
    auto waiting = b->pending_jobs_.load(relaxed);
    pending.samples.push_back({{{"backend", name}}, static_cast<double>(waiting)});
    auto since = b->pending_oldest_since_s_.load(relaxed);
    auto age =
        waiting == 0 ? 0.0 : std::max(0.0, seconds_since_epoch(now) - static_cast<double>(since));
    oldest.samples.push_back({{{"backend", name}}, age});
    std::lock_guard lock(b->mutex_);
    if (b->certificate_expires_)
      certificates.samples.push_back({{{"kind", b->certificate_kind_}, {"backend", name}},
                                      seconds_since_epoch(*b->certificate_expires_)});
  }
  if (identity)
    certificates.samples.insert(certificates.samples.begin(),
                                {{{"kind", "identity"}}, seconds_since_epoch(*identity)});

  auto commit = histogram_family("cbcs_journal_commit_seconds",
                                 "Time a group commit of the job journal took.");
  commit.samples.push_back({{}, journal_commit_.value()});
  auto commit_failures = counter("cbcs_journal_commit_failures_total",
                                 "Group commits of the job journal that failed (retried).");
  commit_failures.samples.push_back({{}, static_cast<double>(journal_failures_.load(relaxed))});
  auto up = gauge("cbcs_scm_link_up", "1 while the session with SCM is up (ready or draining).");
  up.samples.push_back({{}, link_up ? 1.0 : 0.0});
  auto state = gauge("cbcs_scm_link_state",
                     "The session with SCM's state, as cbcs status names it (the sample is 1).");
  if (!link_state.empty()) state.samples.push_back({{{"state", link_state}}, 1.0});
  auto reconnects =
      counter("cbcs_scm_reconnects_total", "Sessions with SCM established again after the first.");
  reconnects.samples.push_back({{}, static_cast<double>(connects > 0 ? connects - 1 : 0)});
  auto written =
      gauge("cbcs_metrics_written_timestamp_seconds",
            "When this file was written (unix time): a stale file means cbcs run stopped.");
  written.samples.push_back({{}, seconds_since_epoch(now)});

  std::vector<family> out;
  for (auto* f : {&jobs, &duration, &requests, &retries, &waits, &wait_seconds, &breaker_open,
                  &breaker_opened, &pending, &oldest, &commit, &commit_failures, &up, &state,
                  &reconnects, &certificates, &written})
    out.push_back(std::move(*f));
  return out;
}

}  // namespace cbcs::actors::metrics
