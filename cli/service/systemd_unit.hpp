#pragma once
// The pure parts of driving systemd: the unit `cbcs service install` writes
// (from the packaged unit's text) and what `systemctl show` says about it.

#include <filesystem>
#include <string>
#include <string_view>

#include "cli/service/service_manager.hpp"

namespace cbcs::cli::service {

// The packaged unit (packaging/systemd/cbcs.service, embedded at build time).
std::string_view packaged_unit();

// The packaged unit with ExecStart running `executable run --data-dir dir`;
// a data directory other than /var/lib/cbcs is made writable for the service.
// Throws service_error when a path cannot be written into a unit (not
// absolute, or characters systemd would read specially).
std::string render_unit(std::string_view unit, const install_options& options);

// `systemctl show -p LoadState,ActiveState,SubState,UnitFileState,MainPID,
// FragmentPath,ActiveEnterTimestamp,Result` output (KEY=value lines).
service_status parse_systemctl_show(std::string_view text);

}  // namespace cbcs::cli::service
