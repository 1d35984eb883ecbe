#include "cli/service/service_host.hpp"

#include <pthread.h>
#include <signal.h>

namespace cbcs::cli::service {

int host_connector(const connector_body& body) {
  // Blocked before any thread starts, so that every thread inherits the mask
  // and only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // systemd hears it over NOTIFY_SOCKET; nothing when no manager listens.
  auto notifier = make_service_notifier();
  return body(*notifier, [&stop_signals] {
    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0) {
    }
    return std::string(sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
}

}  // namespace cbcs::cli::service
