// The trace flusher sleeps until something is recorded (an idle connector must
// not wake for it), then writes what was recorded; stop_flushing() ends it.
// No timed assertions: a wait only bounds whether the line appears at all.

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "actors/trace/tracer.hpp"
#include "test_pki.hpp"

namespace {

std::string flushed_trace(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : cbcs::actors::tracer::files(dir)) {
    std::ifstream in(f);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// The runtime's flusher loop, counting its rounds.
struct flusher_loop {
  cbcs::actors::tracer& t;
  int rounds = 0;
  std::thread thread{[this] {
    while (t.flush_when_recorded(std::chrono::milliseconds(10))) ++rounds;
  }};
  void stop() {
    t.stop_flushing();
    thread.join();
  }
};

}  // namespace

TEST_SUITE("tracer") {
  TEST_CASE("the flusher writes what was recorded and stops when told") {
    cbcs::test::temp_dir dir;
    cbcs::actors::tracer t({.dir = dir.path()});
    flusher_loop flusher{t};
    t.record({.actor = "test", .event = "first", .job_id = "job-1"});
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      seen = cbcs::test::contains(flushed_trace(dir.path()), "\"job\":\"job-1\"");
    }
    CHECK(seen);
    flusher.stop();
    CHECK(flusher.rounds >= 1);
    // After the flusher: flush() still writes.
    t.record({.actor = "test", .event = "late", .job_id = "job-2"});
    t.flush();
    CHECK(cbcs::test::contains(flushed_trace(dir.path()), "\"job\":\"job-2\""));
  }

  TEST_CASE("an idle flusher wakes for nothing but stop_flushing()") {
    cbcs::test::temp_dir dir;
    cbcs::actors::tracer t({.dir = dir.path()});
    flusher_loop flusher{t};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    flusher.stop();
    CHECK(flusher.rounds == 0);  // returned false at once: no round without a record
  }
}
