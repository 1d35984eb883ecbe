#pragma once
// CAF 0.17 has no supervisor: this one monitors every backend actor and
// restarts a crashed one with exponential back-off, telling the router the
// new handle; after too many crashes in a window it gives up and escalates.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "actors/trace/tracer.hpp"

namespace cbcs::actors {

struct supervised_backend {
  std::string name;     // unique per child: "ca1", or "local#2" for a worker
  std::string backend;  // the backend it serves
  std::uint32_t worker = 0, workers = 1;
  std::function<backend_actor()> spawn;
};

// The configuration changed: the children of `stopped` backends end (no
// restart), then `started` children begin (a changed backend is in both).
struct children_change {
  std::vector<std::string> stopped;
  std::vector<supervised_backend> started;
};

using supervisor_actor = caf::typed_actor<caf::reacts_to<restart_atom, std::string>,
                                          caf::reacts_to<reconfig_atom, children_change>>;

struct supervisor_config {
  router_actor router;
  std::vector<supervised_backend> children;
  int max_restarts = 5;
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  std::shared_ptr<tracer> trace;
  // Called (on an actor thread) when a child crashed too often.
  std::function<void(const supervised_backend& child, const std::string& reason)> escalate;
};

supervisor_actor spawn_supervisor(caf::actor_system& system, supervisor_config config);

}  // namespace cbcs::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::children_change)
