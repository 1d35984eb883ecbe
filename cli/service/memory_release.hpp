#pragma once
// Gives the heap's free pages back to the system once a minute while the
// service runs. glibc keeps what a burst of jobs freed (a CA that was slow
// for a minute, a backlog after a restart) as the process's memory for
// good; returned, most of the burst leaves the service's RSS (what
// fragmentation pins stays). Elsewhere (Windows) a no-op.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cbcs::cli::service {

class memory_release {
 public:
  explicit memory_release(std::chrono::seconds every = std::chrono::seconds(60));
  ~memory_release();
  memory_release(const memory_release&) = delete;
  memory_release& operator=(const memory_release&) = delete;

  // Returns the heap's free pages now.
  static void release_now();

 private:
  std::chrono::seconds every_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cbcs::cli::service
