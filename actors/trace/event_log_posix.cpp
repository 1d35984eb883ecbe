// Linux has no event log beside the operator log: under systemd journald
// reads that line (with its priority), which is where operators look.

#include "actors/trace/event_log.hpp"

namespace cbcs::actors {

void report_system_event(const event&) noexcept {}

}  // namespace cbcs::actors
