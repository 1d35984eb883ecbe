#pragma once
// Tells the service manager "alive" only while every health probe answers:
// every half watchdog interval each probe gets a quarter interval to answer;
// one that does not withholds that round's alive(), so a wedged actor system
// misses the manager's deadline and is restarted.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/service/service_notifier.hpp"

namespace cbcs::cli::service {

struct health_probe {
  std::string what;  // "the job router": for the log line
  // True when it answered within the time given.
  std::function<bool(std::chrono::milliseconds)> answers;
};

class health_watchdog {
 public:
  // Starts probing at once; log hears a probe's failure and its recovery.
  health_watchdog(service_notifier& notifier, std::vector<health_probe> probes,
                  std::chrono::microseconds interval, std::function<void(const std::string&)> log);
  ~health_watchdog();
  health_watchdog(const health_watchdog&) = delete;
  health_watchdog& operator=(const health_watchdog&) = delete;

  void stop();

 private:
  void loop();

  service_notifier& notifier_;
  std::vector<health_probe> probes_;
  std::chrono::microseconds interval_;
  std::function<void(const std::string&)> log_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cbcs::cli::service
