#pragma once
// The connector's session with SCM (protocol/scm/PROTOCOL.md §3-§8) behind a
// CAF-free interface: dials, says hello, keeps heartbeats, turns job frames
// into submissions to the router, sends results until SCM acknowledges them,
// renews the client certificate, and reconnects with full-jitter back-off.
// The actor itself lives in scm_session.cpp; its socket in ws_client.cpp.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/backend_health.hpp"
#include "actors/http/http_client.hpp"
#include "actors/metrics/registry.hpp"
#include "actors/trace/event_log.hpp"
#include "actors/trace/tracer.hpp"
#include "config/identity.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::actors {

class connector_runtime;

struct scm_session_options {
  std::filesystem::path data_dir;  // its journal (read), its status file (written)
  std::string version;             // hello.version
  std::vector<protocol::scm::backend_info> backends;  // used when health is null
  // Unset: the runtime's. Health goes to SCM in hello and, when it changes,
  // in the next heartbeat; every frame on a job's path goes to the trace.
  std::shared_ptr<backend_health> health;
  std::shared_ptr<tracer> trace;
  // Unset: the runtime's. The link's state, reconnects and the identity's expiry.
  std::shared_ptr<metrics::registry> metrics;
  proxy_settings proxy;
  // Read afresh before every dial: `cbcs register -force` replaces it while
  // the service runs. nullopt: not registered.
  std::function<std::optional<config::connector_identity>()> load_identity;
  // Seals a renewed identity (key and certificate in one step).
  std::function<void(const config::connector_identity&)> store_identity;
  // One line for the service log; never given a secret.
  std::function<void(const std::string&)> log;
  // The session up and down as events (the Event Log); unset: their lines
  // go to `log`.
  event_reporter report;
  // The link's state in one line when it changes (the service manager's
  // status); called on the session's thread.
  std::function<void(const std::string&)> on_link_change;
  std::size_t max_jobs_in_flight = 10'000;  // more: job_ack busy
};

class scm_service {
 public:
  // Spawns the session actor on the runtime's actor system; it starts dialing.
  scm_service(connector_runtime& runtime, scm_session_options options);
  ~scm_service();
  scm_service(const scm_service&) = delete;
  scm_service& operator=(const scm_service&) = delete;

  // Stops taking jobs, says bye, sends the results it has and waits for
  // their acks (at most a few seconds), closes the WebSocket, stops the
  // actor. Blocks until done. Idempotent.
  void stop();
  // True when the session actor answered a health probe within timeout.
  bool probe(std::chrono::milliseconds timeout);
  // The proxy changed (cbcs proxy set while running): the next connection
  // to SCM uses it; a session that is up is kept.
  void use_proxy(proxy_settings proxy);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbcs::actors
