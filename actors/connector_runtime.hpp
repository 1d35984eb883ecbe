#pragma once
// The connector's actor system behind a CAF-free interface: the CLI, the
// tests and the benchmarks submit jobs here and get outcomes back.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "actors/backend_health.hpp"
#include "actors/backend_settings.hpp"
#include "actors/http/http_client.hpp"
#include "config/connector_config.hpp"
#include "config/journal.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::config {
class vault;
}  // namespace cbcs::config

namespace caf {
class actor_system;
class actor;
}  // namespace caf

namespace cbcs::actors {

class tracer;
namespace metrics {
class registry;
}  // namespace metrics

struct runtime_options {
  std::filesystem::path data_dir;
  config::connector_config config;
  const config::vault* vault = nullptr;  // unseals backend secrets at start
  bool durable_journal = true;           // synchronous=FULL
  // Set: used instead of opening config::journal_file(data_dir) (tests).
  std::shared_ptr<config::journal> journal;
  // How long the journal keeps a job after SCM acknowledged its result.
  std::chrono::seconds journal_retention{config::min_journal_retention};
  bool trace = true;
  // The trace files' name (tracer_settings::name): the service's are
  // "trace", a CLI command's "trace-cli".
  std::string_view trace_name = "trace";  // a literal: it outlives the runtime
  std::chrono::milliseconds default_deadline{std::chrono::minutes(5)};
  backend_settings backend_defaults;
  // Set: every backend whose type brings no transport of its own uses it
  // (tests). Unset: each such backend gets an HTTP client of its own (its
  // -cacert roots) on one shared I/O thread.
  std::shared_ptr<protocol::ca::transport> transport;
  proxy_settings proxy;
  // Backends whose driver is given directly (tests, benchmarks).
  std::map<std::string, std::shared_ptr<protocol::ca::driver>> extra_backends;
  // Scheduler threads; 0: CAF's default (one per core).
  std::size_t threads = 0;
};

class connector_runtime {
 public:
  using result_callback =
      std::function<void(const std::string& job_id, const protocol::ca::outcome& outcome)>;

  explicit connector_runtime(runtime_options options);
  ~connector_runtime();
  connector_runtime(const connector_runtime&) = delete;
  connector_runtime& operator=(const connector_runtime&) = delete;

  // Who tells the journal that the result reached its consumer.
  enum class receipt : std::uint8_t {
    later,        // acknowledge() once it has (SCM's result_ack, tests)
    with_result,  // the caller consumes it at once (the CLI): journaled acknowledged
  };
  // Journals and runs the job; the callback runs once, on an actor thread.
  void submit(protocol::ca::job job, result_callback done,
              std::chrono::milliseconds deadline = std::chrono::milliseconds(0),
              receipt ack = receipt::later);
  // Submits and waits for the outcome (for the CLI).
  protocol::ca::outcome run(protocol::ca::job job, std::chrono::milliseconds deadline,
                            receipt ack = receipt::later);
  void acknowledge(const std::string& job_id);
  // Gives up a job pending at its CA (SCM's cancel): its result, failed
  // "cancelled by SCM: <reason>", goes to `done` and whoever waits for it.
  void cancel(const std::string& job_id, const std::string& reason, result_callback done);
  // Runs again every job the journal holds as accepted but unfinished.
  void replay();
  // The configuration changed while running (cbcs backend add/remove, proxy
  // set): backends added start, removed ones stop (their running jobs fail
  // with that reason), changed ones (also all of them when the proxy
  // changed) restart with their running jobs. Returns a line per change.
  // Throws std::exception, changing nothing, when a backend cannot be built
  // (a secret not yet in the vault: try again).
  std::vector<std::string> reconfigure(const config::connector_config& changed,
                                       const config::vault& vault, const proxy_settings& proxy);
  // Non-empty when a backend crashed too often and was given up.
  std::string escalation() const;
  // Flushes the trace and journal, stops every actor.
  void stop();
  // True when the router answered a health probe within timeout (the
  // service watchdog). Messages queued before it are handled first.
  bool probe(std::chrono::milliseconds timeout);

  // For actors that join the job path from outside (the SCM session in
  // actors/scm): the actor system, the router as an untyped handle (cast it
  // to router_actor), and the shared I/O thread, started on first use.
  // Stop such actors before stop().
  caf::actor_system& actor_system();
  caf::actor router_handle() const;
  std::shared_ptr<io_runner> io();
  // Each configured backend's health (what SCM hears) and the support trace.
  std::shared_ptr<backend_health> health() const;
  std::shared_ptr<tracer> trace() const;
  // What the job path counts for monitoring (cbcs run writes it to a file).
  std::shared_ptr<metrics::registry> metrics() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbcs::actors
