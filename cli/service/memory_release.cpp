#include "cli/service/memory_release.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cbcs::cli::service {

memory_release::memory_release(std::chrono::seconds every) : every_(every) {
#if defined(__GLIBC__)
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!cv_.wait_for(lock, every_, [this] { return stop_; })) release_now();
  });
#endif
}

memory_release::~memory_release() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void memory_release::release_now() {
#if defined(__GLIBC__)
  malloc_trim(0);  // every arena, and free pages in the middle of one too (madvise)
#endif
}

}  // namespace cbcs::cli::service
