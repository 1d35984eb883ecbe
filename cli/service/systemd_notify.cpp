#include "cli/service/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace cbcs::cli::service {
namespace {

std::optional<std::uint64_t> parse_number(const char* text) {
  if (!text || !*text) return std::nullopt;
  std::string_view s(text);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::unique_ptr<service_notifier> make_service_notifier() {
  return std::make_unique<systemd_notifier>(
      std::getenv("NOTIFY_SOCKET"), std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"));
}

systemd_notifier::systemd_notifier(const char* notify_socket, const char* watchdog_usec,
                                   const char* watchdog_pid) {
  if (!notify_socket || !*notify_socket) return;
  std::string_view name(notify_socket);
  if (name.front() != '/' && name.front() != '@') {
    problem_ = "NOTIFY_SOCKET is neither a path nor an abstract name (@...)";
    return;
  }
  if (name.size() >= sizeof(sockaddr_un::sun_path)) {
    problem_ = "NOTIFY_SOCKET is longer than a socket address";
    return;
  }
  address_ = std::string(name);
  if (address_.front() == '@') address_.front() = '\0';
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    problem_ = fmt::format("cannot make a socket for NOTIFY_SOCKET: {}", std::strerror(errno));
    return;
  }
  // The watchdog is for this process only when WATCHDOG_PID says so (or is unset).
  auto pid = parse_number(watchdog_pid);
  bool for_us = !watchdog_pid || (pid && *pid == static_cast<std::uint64_t>(::getpid()));
  // At most a day (found by fuzzing: 2^64-1 us became a negative interval);
  // telling a slower watchdog more often than needed does no harm.
  constexpr std::uint64_t max_usec = 86'400'000'000;
  if (auto usec = parse_number(watchdog_usec); usec && *usec > 0 && for_us)
    interval_ = std::chrono::microseconds(std::min(*usec, max_usec));
}

systemd_notifier::~systemd_notifier() {
  if (fd_ >= 0) ::close(fd_);
}

void systemd_notifier::status(std::string_view line) {
  // One line: a newline would start another assignment.
  std::string text(line.substr(0, 400));
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  send("STATUS=" + text);
}

void systemd_notifier::send(std::string_view message) {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
  // Lost notifications are systemd's to notice (a missed watchdog restarts
  // us); nothing here may block or fail the connector.
  while (::sendto(fd_, message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                  reinterpret_cast<const sockaddr*>(&addr), len) < 0 &&
         errno == EINTR) {
  }
}

}  // namespace cbcs::cli::service
