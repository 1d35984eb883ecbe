#pragma once
// A backend's health as events for the operator: unhealthy (degraded, its
// breaker open, or given up) and healthy again. Watches the health board
// that SCM's heartbeats read, so the Event Log says what SCM hears.

#include <memory>
#include <mutex>
#include <vector>

#include "actors/backend_health.hpp"
#include "actors/trace/event_log.hpp"

namespace cbcs::actors {

// The events between two snapshots of the board. A backend absent from
// `before` was healthy; a change of message alone is no event; unknown
// (a state no actor sets) is none either.
std::vector<event> health_changes(const std::vector<protocol::scm::backend_info>& before,
                                  const std::vector<protocol::scm::backend_info>& after);

class health_event_reporter {
 public:
  // Reports at once what is not healthy already (a backend without a
  // driver), then every change; `report` runs on the writer's thread.
  health_event_reporter(std::shared_ptr<backend_health> board, event_reporter report);
  ~health_event_reporter();
  health_event_reporter(const health_event_reporter&) = delete;
  health_event_reporter& operator=(const health_event_reporter&) = delete;

 private:
  void check();

  std::shared_ptr<backend_health> board_;
  event_reporter report_;
  std::mutex mutex_;
  std::vector<protocol::scm::backend_info> last_;
  std::uint64_t subscription_ = 0;
};

}  // namespace cbcs::actors
