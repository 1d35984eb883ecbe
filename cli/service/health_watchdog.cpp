#include "cli/service/health_watchdog.hpp"

#include <fmt/format.h>

namespace cbcs::cli::service {

health_watchdog::health_watchdog(service_notifier& notifier, std::vector<health_probe> probes,
                                 std::chrono::microseconds interval,
                                 std::function<void(const std::string&)> log)
    : notifier_(notifier), probes_(std::move(probes)), interval_(interval), log_(std::move(log)) {
  thread_ = std::thread([this] { loop(); });
}

health_watchdog::~health_watchdog() { stop(); }

void health_watchdog::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void health_watchdog::loop() {
  using namespace std::chrono;
  auto period = std::max<microseconds>(interval_ / 2, milliseconds(1));
  auto budget = std::max<milliseconds>(duration_cast<milliseconds>(interval_ / 4), milliseconds(1));
  std::vector<bool> failing(probes_.size(), false);
  auto next = steady_clock::now();
  while (true) {
    bool all = true;
    for (std::size_t i = 0; i < probes_.size(); ++i) {
      bool ok = probes_[i].answers(budget);
      all = all && ok;
      if (ok != !failing[i] && log_)
        log_(ok ? fmt::format("{} answers its health probe again", probes_[i].what)
                : fmt::format("{} did not answer its health probe within {} ms; not telling the "
                              "service manager it is alive",
                              probes_[i].what, budget.count()));
      failing[i] = !ok;
    }
    if (all) notifier_.alive();
    next += period;
    std::unique_lock lock(mutex_);
    if (cv_.wait_until(lock, std::max(next, steady_clock::now()), [this] { return stop_; })) return;
    // A probe that took long shifts the rhythm instead of bunching rounds.
    if (next < steady_clock::now()) next = steady_clock::now();
  }
}

}  // namespace cbcs::cli::service
