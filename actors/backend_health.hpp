#pragma once
// What the connector knows of each backend's health, for SCM's hello and
// heartbeats, and of its journal's, for `cbcs status`. Backend actors and the supervisor write it
// (from any thread); the SCM session reads it and, told by subscribe(), sends it
// again when its version moved (it does not poll: an idle connector sleeps).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/scm/messages.hpp"

namespace cbcs::actors {

class backend_health {
 public:
  using health = protocol::scm::health;

  // settled: the state is final (a driver not built): its actors' reports
  // do not change it.
  void add(std::string name, std::string type, health state, std::string message = {},
           bool settled = false) {
    {
      std::lock_guard lock(mutex_);
      entries_.push_back({std::move(name), std::move(type), state, message});
      workers_.push_back({report{state, std::move(message)}});
      settled_.push_back(settled);
      ++version_;
    }
    notify();
  }

  // The supervisor gave the backend up (it crashed too often): unhealthy
  // for good, whatever a late report of its actors says.
  void give_up(const std::string& name, std::string message) {
    bool moved = false;
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].name != name || settled_[i]) continue;
        entries_[i].state = health::unhealthy;
        entries_[i].message = message;
        settled_[i] = true;
        moved = true;
      }
      if (moved) ++version_;
    }
    if (moved) notify();
  }

  // A backend left the configuration (cbcs backend remove while running).
  void remove(const std::string& name) {
    bool moved = false;
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = entries_.size(); i-- > 0;) {
        if (entries_[i].name != name) continue;
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
        workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(i));
        settled_.erase(settled_.begin() + static_cast<std::ptrdiff_t>(i));
        moved = true;
      }
      if (moved) ++version_;
    }
    if (moved) notify();
  }

  bool has(const std::string& name) const {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_)
      if (e.name == name) return true;
    return false;
  }

  // Changes what one worker (backend actor) of a backend reports; the
  // backend shows the worst of its workers. Unknown names and no-op changes
  // are ignored.
  void set(const std::string& name, health state, std::string message = {},
           std::uint32_t worker = 0) {
    bool moved = false;
    std::unique_lock lock(mutex_);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      auto& e = entries_[i];
      if (e.name != name) continue;
      // Given up is final: a late breaker event must not make it look healthy.
      if (settled_[i]) continue;
      auto& reports = workers_[i];
      if (reports.size() <= worker) reports.resize(worker + 1);
      reports[worker] = {state, std::move(message)};
      const report* worst = &reports.front();
      for (const auto& r : reports)
        if (rank(r.state) > rank(worst->state)) worst = &r;
      if (e.state == worst->state && e.message == worst->message) continue;
      e.state = worst->state;
      e.message = worst->message;
      ++version_;
      moved = true;
    }
    lock.unlock();
    if (moved) notify();
  }

  std::vector<protocol::scm::backend_info> snapshot() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

  std::uint64_t version() const {
    std::lock_guard lock(mutex_);
    return version_;
  }

  // `changed` runs after every change of version(), on the writer's thread,
  // outside the board's lock; it must be quick (the SCM session sends itself
  // a message). Returns the id for unsubscribe().
  std::uint64_t subscribe(std::function<void()> changed) {
    std::lock_guard lock(mutex_);
    listeners_.emplace_back(++last_listener_, std::move(changed));
    return last_listener_;
  }
  void unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
  }

  // Jobs of one worker of a backend waiting at its CA (approval,
  // validation), for `cbcs status`; not part of what SCM hears.
  // Listeners hear of it (the status file is rewritten), SCM does not (the
  // version stays).
  void set_pending(const std::string& name, std::uint32_t worker, std::size_t jobs) {
    {
      std::lock_guard lock(mutex_);
      auto& by_worker = pending_[name];
      if (by_worker.size() <= worker) by_worker.resize(worker + 1);
      if (by_worker[worker] == jobs) return;
      by_worker[worker] = jobs;
    }
    notify();
  }
  std::map<std::string, std::size_t> pending() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::size_t> out;
    for (const auto& [name, by_worker] : pending_)
      for (auto n : by_worker) out[name] += n;
    return out;
  }

  // The connector's own trouble, for `cbcs status` (SCM hears of it as
  // jobs not acknowledged): the journal cannot commit. Empty: fine.
  void set_journal_problem(std::string problem) {
    std::lock_guard lock(mutex_);
    journal_problem_ = std::move(problem);
  }
  std::string journal_problem() const {
    std::lock_guard lock(mutex_);
    return journal_problem_;
  }

 private:
  struct report {
    health state = health::healthy;
    std::string message;
  };
  void notify() {
    std::vector<std::function<void()>> to_call;
    {
      std::lock_guard lock(mutex_);
      for (const auto& l : listeners_) to_call.push_back(l.second);
    }
    for (const auto& f : to_call) f();
  }
  static int rank(health h) {
    return h == health::unhealthy ? 3 : h == health::degraded ? 2 : h == health::unknown ? 1 : 0;
  }

  mutable std::mutex mutex_;
  std::vector<bool> settled_;  // by entry: see add() and give_up()
  std::map<std::string, std::vector<std::size_t>> pending_;  // by backend, by worker
  std::vector<protocol::scm::backend_info> entries_;
  std::vector<std::vector<report>> workers_;  // per entry, per worker
  std::uint64_t version_ = 0;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> listeners_;
  std::uint64_t last_listener_ = 0;
  std::string journal_problem_;
};

}  // namespace cbcs::actors
