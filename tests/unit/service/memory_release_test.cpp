// The service gives a burst's freed heap back to the system (RSS drops),
// which glibc would otherwise keep.

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <memory>
#include <vector>

#include "cli/service/memory_release.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CBCS_OTHER_ALLOCATOR 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CBCS_OTHER_ALLOCATOR 1
#endif

// glibc's allocator only (ASan brings its own).
#if defined(__GLIBC__) && !defined(CBCS_OTHER_ALLOCATOR)
namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_SUITE("memory release") {
  TEST_CASE("a burst's freed small blocks leave the process's memory") {
    constexpr std::size_t burst = 64u << 20;
    std::vector<std::unique_ptr<char[]>> blocks;
    blocks.reserve(burst / 1024);  // no freed growth for the pin below to land in
    for (std::size_t i = 0; i < burst / 1024; ++i) {
      blocks.emplace_back(new char[1000]);
      blocks.back()[0] = char(i);  // touched: resident
    }
    auto pin = std::make_unique<char[]>(1000);  // above the burst: the heap's top stays
    pin[0] = 1;
    blocks.clear();
    auto before = resident_bytes();
    cbcs::cli::service::memory_release::release_now();
    auto after = resident_bytes();
    CHECK(before >= after + burst / 2);
  }
}
#endif

TEST_SUITE("memory release") {
  TEST_CASE("the service's stop does not wait out the timer's minute") {
    // Were the thread to sleep its full interval, this case would hang the suite.
    cbcs::cli::service::memory_release release(std::chrono::seconds(3600));
  }
}
