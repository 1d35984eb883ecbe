#pragma once
// What the connector knows of each backend's health, for SCM's hello and
// heartbeats. Backend actors and the supervisor write it (from any thread);
// the SCM session reads it and sends it again when its version moved.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/scm/messages.hpp"

namespace cbcs::actors {

class backend_health {
 public:
  using health = protocol::scm::health;

  void add(std::string name, std::string type, health state, std::string message = {}) {
    std::lock_guard lock(mutex_);
    entries_.push_back({std::move(name), std::move(type), state, std::move(message)});
    ++version_;
  }

  // Changes one backend's state; unknown names and no-op changes are ignored.
  void set(const std::string& name, health state, std::string message = {}) {
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) {
      if (e.name != name || (e.state == state && e.message == message)) continue;
      // Given up is final: a late breaker event must not make it look healthy.
      if (e.state == health::unhealthy && state != health::unhealthy) continue;
      e.state = state;
      e.message = std::move(message);
      ++version_;
    }
  }

  std::vector<protocol::scm::backend_info> snapshot() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

  std::uint64_t version() const {
    std::lock_guard lock(mutex_);
    return version_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<protocol::scm::backend_info> entries_;
  std::uint64_t version_ = 0;
};

}  // namespace cbcs::actors
