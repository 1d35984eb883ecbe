#pragma once
// Writes the registry to a file for a textfile collector (node_exporter,
// windows_exporter): at once, every interval, and once more at stop(); each
// write whole (temp file and rename), so a collector never reads half a file.
// Nothing listens on a port.

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "actors/metrics/registry.hpp"

namespace cbcs::actors::metrics {

struct file_settings {
  std::filesystem::path file;
  std::chrono::milliseconds interval{std::chrono::seconds(15)};
  // Others may read it (a collector under its own user); else owner only,
  // like every file of the data directory.
  bool readable_by_all = false;
  // A line when writing fails, and when it works again (not every interval).
  std::function<void(const std::string&)> log;
};

class file_writer {
 public:
  file_writer(std::shared_ptr<registry> source, file_settings settings);
  ~file_writer();
  file_writer(const file_writer&) = delete;
  file_writer& operator=(const file_writer&) = delete;

  // Writes the last figures and stops the timer. Idempotent.
  void stop();

 private:
  void write();

  std::shared_ptr<registry> source_;
  file_settings settings_;
  bool failing_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cbcs::actors::metrics
