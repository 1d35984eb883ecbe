#include "cli/config_watch.hpp"

#include <exception>

#include "config/atomic_file.hpp"

namespace cbcs::cli {

config_watch::config_watch(std::filesystem::path file, std::chrono::milliseconds interval,
                           std::function<void(const std::string&)> apply,
                           std::function<void(const std::string&)> said)
    : file_(std::move(file)), interval_(interval), apply_(std::move(apply)), said_(std::move(said)) {
  // What the service started with is in force already.
  try {
    applied_ = config::read_file(file_);
  } catch (const std::exception&) {
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      look();
      lock.lock();
    }
  });
}

config_watch::~config_watch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void config_watch::look() {
  std::string content;
  try {
    content = config::read_file(file_);
  } catch (const std::exception&) {
    return;  // being replaced, or gone: the service keeps what it has
  }
  if (content == applied_) return;
  try {
    apply_(content);
    applied_ = std::move(content);
    last_error_.clear();
  } catch (const std::exception& e) {
    std::string line = std::string("the changed configuration is not in force yet: ") + e.what();
    if (line != last_error_) said_(line);
    last_error_ = std::move(line);
  }
}

}  // namespace cbcs::cli
