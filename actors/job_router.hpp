#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <caf/fwd.hpp>

#include "actors/backend_health.hpp"
#include "actors/messages.hpp"
#include "actors/metrics/registry.hpp"
#include "actors/trace/event_log.hpp"
#include "actors/trace/tracer.hpp"
#include "config/journal.hpp"

namespace cbcs::actors {

struct router_config {
  std::shared_ptr<config::journal> journal;
  std::shared_ptr<tracer> trace;
  // Every configured backend: a job for one of these waits for its actor to
  // come up; a job for any other name fails at once.
  std::set<std::string> backend_names;
  // A job whose backend actor died this often while running it is failed
  // instead of being sent again (a poison job must not crash-loop a backend).
  int max_crashes_per_job = 2;
  // Jobs whose results SCM acknowledged longer ago than this leave the
  // journal (a few at a time, with the commits): the journal stays bounded.
  std::chrono::seconds journal_retention{config::min_journal_retention};
  // Operator-facing lines (the journal failing and recovering); unset: stderr
  // with a UTC timestamp, as `cbcs run` logs.
  std::function<void(const std::string&)> log;
  // The journal failing and recovering as events (the Event Log); unset:
  // report_event, or `log` when that is set.
  event_reporter report;
  // Where `cbcs status` learns that the journal cannot commit (optional).
  std::shared_ptr<backend_health> health;
  // Jobs by outcome and their duration, pending jobs, journal commits (optional).
  std::shared_ptr<metrics::registry> metrics;
};

// Spawns the router on a thread of its own (it blocks on the journal's
// commits). Every submitted job is journaled before it runs, answered from
// the journal when its id was seen before, and its result journaled before
// it is delivered.
router_actor spawn_router(caf::actor_system& system, router_config config);

}  // namespace cbcs::actors
