#include "actors/metrics/metrics_file.hpp"

#include <fmt/format.h>

#include "config/atomic_file.hpp"

namespace cbcs::actors::metrics {

file_writer::file_writer(std::shared_ptr<registry> source, file_settings settings)
    : source_(std::move(source)), settings_(std::move(settings)) {
  config::remove_stale_temp_files(settings_.file);
  write();
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, settings_.interval, [this] { return stopping_; })) {
      lock.unlock();
      write();
      lock.lock();
    }
  });
}

file_writer::~file_writer() { stop(); }

void file_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  write();
}

void file_writer::write() {
  std::string problem;
  try {
    auto text = to_text(source_->snapshot(std::chrono::system_clock::now()));
    if (settings_.readable_by_all)
      config::write_readable_file_atomic(settings_.file, text);
    else
      config::write_file_atomic(settings_.file, text);
  } catch (const std::exception& e) {
    problem = e.what();
  }
  // The message names a fresh temp file each time: only a change is said.
  if (problem.empty() == !failing_) return;
  failing_ = !problem.empty();
  if (settings_.log)
    settings_.log(
        problem.empty()
            ? fmt::format("metrics: writing {} again", settings_.file.string())
            : fmt::format("metrics: cannot write {}: {}", settings_.file.string(), problem));
}

}  // namespace cbcs::actors::metrics
