#pragma once
// Lines for the operator on stderr ("2026-11-27T10:00:00Z cbcs: ..."), as
// `cbcs run` logs under systemd or the Windows service manager.

#include <string>

namespace cbcs::actors {

// Never throws: with stderr on a full disk the trace still has the event.
void log_line(const std::string& line) noexcept;

}  // namespace cbcs::actors
