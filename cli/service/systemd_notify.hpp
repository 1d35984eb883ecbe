#pragma once
// systemd's notification protocol (sd_notify(3)): one datagram per message
// to the AF_UNIX socket in $NOTIFY_SOCKET (a path, or an abstract name
// written with a leading '@'); the watchdog interval from $WATCHDOG_USEC
// when $WATCHDOG_PID is unset or this process.

#include <mutex>
#include <optional>
#include <string>

#include "cli/service/service_notifier.hpp"

namespace cbcs::cli::service {

class systemd_notifier final : public service_notifier {
 public:
  // From the environment values (nullptr: unset). No socket: every call is a no-op.
  systemd_notifier(const char* notify_socket, const char* watchdog_usec, const char* watchdog_pid);
  ~systemd_notifier() override;
  systemd_notifier(const systemd_notifier&) = delete;
  systemd_notifier& operator=(const systemd_notifier&) = delete;

  void ready() override { send("READY=1"); }
  void status(std::string_view line) override;
  void alive() override { send("WATCHDOG=1"); }
  void stopping() override { send("STOPPING=1"); }
  std::chrono::microseconds watchdog_interval() const override { return interval_; }

  bool active() const { return fd_ >= 0; }
  // Why the socket could not be used (empty when it can, or none was given).
  const std::string& problem() const { return problem_; }

 private:
  void send(std::string_view message);

  std::mutex mutex_;
  int fd_ = -1;
  std::string address_;  // sockaddr_un's sun_path bytes (abstract: leading NUL)
  std::chrono::microseconds interval_{0};
  std::string problem_;
};

}  // namespace cbcs::cli::service
