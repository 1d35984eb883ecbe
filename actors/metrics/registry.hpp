#pragma once
// What the running connector counts for monitoring (README "Metrics"): one
// registry per runtime, written to a text file by metrics_file_writer. The
// job path records with relaxed atomics, no lock; the rare changes (the SCM
// link, a certificate read) take a mutex. Labels come from backend and
// operation names, never from a backend type.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "actors/metrics/text_format.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::actors::metrics {

// A histogram with fixed bounds (seconds), recorded without a lock.
class histogram {
 public:
  explicit histogram(std::span<const double> bounds);
  void observe(std::chrono::nanoseconds took);
  histogram_value value() const;

 private:
  std::span<const double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;
  std::atomic<std::uint64_t> sum_ns_{0};
};

// One backend's figures, shared by its actors (workers) and the router.
class backend_metrics {
 public:
  explicit backend_metrics(std::string name);
  const std::string& name() const { return name_; }

  // A job's final outcome (not pending) and how long it took from its
  // acceptance (the router).
  void job_finished(protocol::ca::operation op, const protocol::ca::outcome& o,
                    std::chrono::nanoseconds took);
  // One request answered by the CA, or failed on the way (the backend actor).
  void ca_request(std::chrono::nanoseconds took);
  void retry(protocol::ca::error_class why);
  // A request held back by the backend's rate limit for `wait`.
  void rate_limited(std::chrono::milliseconds wait);
  // A worker's circuit breaker: open (or half-open, probing) or closed.
  void breaker(std::uint32_t worker, bool open);
  // Jobs pending at the CA and since when the oldest is (unix seconds).
  void pending(std::size_t jobs, std::int64_t oldest_since_s);
  // The certificate the backend presents or depends on: its kind ("client",
  // "agent") and when it expires; nullopt: none, or unreadable.
  void certificate(std::string kind, std::optional<std::chrono::system_clock::time_point> expires);

 private:
  friend class registry;
  static constexpr std::size_t operations = 5;                // protocol::ca::operation
  static constexpr std::size_t error_classes = 9;             // protocol::ca::error_class
  static constexpr std::size_t outcomes = 2 + error_classes;  // issued, done, failed:<class>

  std::string name_;
  std::array<std::atomic<std::uint64_t>, operations * outcomes> jobs_{};
  histogram job_duration_;
  histogram request_duration_;
  std::array<std::atomic<std::uint64_t>, error_classes> retries_{};
  std::atomic<std::uint64_t> rate_limit_waits_{0};
  std::atomic<std::uint64_t> rate_limit_wait_ms_{0};
  std::atomic<std::uint64_t> breaker_open_workers_{0};  // a bit per worker
  std::atomic<std::uint64_t> breaker_opened_{0};
  std::atomic<std::uint64_t> pending_jobs_{0};
  std::atomic<std::int64_t> pending_oldest_since_s_{0};
  mutable std::mutex mutex_;
  std::string certificate_kind_;
  std::optional<std::chrono::system_clock::time_point> certificate_expires_;
};

class registry {
 public:
  registry();
  // The backend's figures, made on first use; the same object for every caller.
  std::shared_ptr<backend_metrics> backend(const std::string& name);

  // One group commit of the journal (the router).
  void journal_commit(std::chrono::nanoseconds took);
  void journal_commit_failed();

  // The SCM session: its state (scm_policy::to_string), whether the link is
  // up, and each time it became ready (the second and later are reconnects).
  void scm_link(std::string state, bool up);
  void scm_connected();
  void identity_expires(std::chrono::system_clock::time_point not_after);

  // Every figure as of `now` (ages are computed from it).
  std::vector<family> snapshot(std::chrono::system_clock::time_point now) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<backend_metrics>> backends_;
  std::string link_state_;
  bool link_up_ = false;
  std::uint64_t connects_ = 0;
  std::optional<std::chrono::system_clock::time_point> identity_expires_;
  histogram journal_commit_;
  std::atomic<std::uint64_t> journal_failures_{0};
};

}  // namespace cbcs::actors::metrics
