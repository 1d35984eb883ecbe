#pragma once
// How `cbcs run` is hosted by the platform. The connector itself is a body
// that tells the service manager how it is (the notifier) and blocks in
// wait_for_stop until asked to stop, then drains and returns its exit code.
//   POSIX (service_host_posix.cpp): SIGINT/SIGTERM, systemd's notifier.
//   Windows (service_host_windows.cpp): started by the Service Control Manager,
//   a service (ServiceMain; stop, shutdown and preshutdown ask to stop);
//   otherwise a console program that Ctrl+C and Ctrl+Break stop.

#include <functional>
#include <string>

#include "cli/service/service_notifier.hpp"

namespace cbcs::cli::service {

// Blocks until a stop is asked; returns what asked, for the log ("SIGTERM",
// "SERVICE_CONTROL_STOP").
using wait_for_stop = std::function<std::string()>;
using connector_body = std::function<int(service_notifier&, const wait_for_stop&)>;

// Call before any thread starts (POSIX blocks the stop signals for all of
// them). What body throws, host_connector throws.
int host_connector(const connector_body& body);

}  // namespace cbcs::cli::service
