#pragma once

#include <memory>
#include <optional>

#include <caf/fwd.hpp>
#include <string>

#include "actors/backend_health.hpp"
#include "actors/backend_settings.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/registry.hpp"
#include "actors/trace/tracer.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::actors {

struct backend_actor_config {
  std::string name;
  std::string type;
  std::shared_ptr<protocol::ca::driver> driver;
  std::shared_ptr<protocol::ca::transport> transport;  // may be null for drivers without requests
  backend_settings settings;
  std::shared_ptr<tracer> trace;
  router_actor router;
  // Which of the backend's actors this is (drivers that compute run several).
  std::uint32_t worker = 0, worker_count = 1;
  std::shared_ptr<backend_health> health;  // may be null (tests)
  // A certificate it depends on (the client certificate it presents, AD
  // CS's enrollment agent), what it is and the command that replaces it:
  // its health warns from 30 days before the certificate expires and is
  // unhealthy once it has.
  struct watched_certificate {
    std::string pem;
    std::string what;
    std::string fix;
    std::string kind;  // its metrics label: "client", or the type's (watched_certificate::kind)
  };
  std::optional<watched_certificate> client_certificate;
  std::shared_ptr<metrics::backend_metrics> metrics;  // may be null (tests)
};

// Spawns the actor of one backend. It owns the driver's I/O, time and policy:
// jobs in flight bounded, rate limits, a circuit breaker, retries with
// full-jitter back-off, per-job deadlines and polling of pending orders.
backend_actor spawn_backend(caf::actor_system& system, backend_actor_config config);

}  // namespace cbcs::actors
