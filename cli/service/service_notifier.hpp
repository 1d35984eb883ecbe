#pragma once
// What the running connector tells the service manager: ready, how it is
// (one status line), still alive (the watchdog), stopping. systemd hears it
// over NOTIFY_SOCKET (systemd_notify.cpp); elsewhere, or when no manager
// listens, nothing is sent and nothing changes. Thread-safe.

#include <chrono>
#include <memory>
#include <string_view>

namespace cbcs::cli::service {

class service_notifier {
 public:
  virtual ~service_notifier() = default;

  virtual void ready() = 0;
  virtual void status(std::string_view line) = 0;
  // The watchdog's "still healthy": only sent when every health probe answered.
  virtual void alive() = 0;
  virtual void stopping() = 0;
  // How often the manager expects alive(); zero when it does not watch.
  virtual std::chrono::microseconds watchdog_interval() const = 0;
};

// This process's notifier: the platform's when its manager listens, else one
// that does nothing.
std::unique_ptr<service_notifier> make_service_notifier();

}  // namespace cbcs::cli::service
