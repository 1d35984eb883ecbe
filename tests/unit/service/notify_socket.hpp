#pragma once
// A datagram socket the test listens on, as systemd does on NOTIFY_SOCKET.

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "crypto/digest.hpp"
#include "crypto/random.hpp"

namespace cbcs::test {

class notify_listener {
 public:
  // An abstract name ("@cbcs-test-...") or, with a directory, a path socket in it.
  explicit notify_listener(const std::string& dir = {}) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    auto tag = crypto::to_hex(crypto::random_bytes(6));
    name_ = dir.empty() ? "@cbcs-test-notify-" + tag : dir + "/notify-" + tag;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string raw = name_;
    if (raw.front() == '@') raw.front() = '\0';
    std::memcpy(addr.sun_path, raw.data(), raw.size());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + raw.size());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) throw std::runtime_error("bind");
  }
  ~notify_listener() { ::close(fd_); }
  notify_listener(const notify_listener&) = delete;
  notify_listener& operator=(const notify_listener&) = delete;

  const std::string& name() const { return name_; }

  // The next datagram within timeout.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
               .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  std::string name_;
};

}  // namespace cbcs::test
