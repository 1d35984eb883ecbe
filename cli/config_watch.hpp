#pragma once
// Watches the data directory's configuration while `cbcs run` runs, so that
// `cbcs backend add|remove` and `cbcs proxy set` beside it take effect within
// seconds, without a restart. A thread of its own that reads the file every
// interval (no inotify: the same on Linux and Windows, and cheap for a file
// of a few KB).

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cbcs::cli {

class config_watch {
 public:
  // apply runs on the watch's thread each time the file's content differs
  // from what was last applied; it throws to say "not now": the same content
  // is then offered again at the next look (a vault record written after
  // the config). `said` hears each distinct failure once.
  config_watch(std::filesystem::path file, std::chrono::milliseconds interval,
               std::function<void(const std::string& content)> apply,
               std::function<void(const std::string& line)> said);
  ~config_watch();
  config_watch(const config_watch&) = delete;
  config_watch& operator=(const config_watch&) = delete;

 private:
  void look();

  std::filesystem::path file_;
  std::chrono::milliseconds interval_;
  std::function<void(const std::string&)> apply_;
  std::function<void(const std::string&)> said_;
  std::string applied_;     // the content in force
  std::string last_error_;  // said once until it changes
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cbcs::cli
