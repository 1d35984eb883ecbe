// The trace goes on once a full disk has room again: a failed write used to
// leave the tracer's ofstream failed for good, and the service traced nothing
// more until it ended (found by tests/integration/test_fault_matrix.py). The
// full disk is RLIMIT_FSIZE in a child process (writes past it fail with
// EFBIG, SIGXFSZ ignored); raising it again is the disk freed. POSIX only.

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "actors/trace/tracer.hpp"
#include "test_pki.hpp"

namespace tracer_full_disk_test {

std::string trace_text(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : cbcs::actors::tracer::files(dir)) {
    std::ifstream in(f);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// In the child: exit 0 when the event recorded after the disk had room again
// is in the file, 1 when not, 2 when the limit could not be set.
[[noreturn]] void child(const std::filesystem::path& dir) {
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit was{};
  if (::getrlimit(RLIMIT_FSIZE, &was) != 0) ::_exit(2);
  cbcs::actors::tracer t({.dir = dir});
  rlimit full = was;
  full.rlim_cur = 4096;
  if (::setrlimit(RLIMIT_FSIZE, &full) != 0) ::_exit(2);
  for (int i = 0; i < 200; ++i)
    t.record({.actor = "test", .event = "while-full", .job_id = "job-" + std::to_string(i)});
  t.flush();  // fails past 4 KiB
  if (::setrlimit(RLIMIT_FSIZE, &was) != 0) ::_exit(2);
  t.record({.actor = "test", .event = "after", .job_id = "job-after"});
  t.flush();
  ::_exit(cbcs::test::contains(trace_text(dir), "\"job\":\"job-after\"") ? 0 : 1);
}

}  // namespace tracer_full_disk_test

TEST_SUITE("tracer") {
  TEST_CASE("a full disk stops the trace only while it is full") {
    cbcs::test::temp_dir dir;
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) tracer_full_disk_test::child(dir.path());
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) != 2);
    CHECK(WEXITSTATUS(status) == 0);
    // The cut line is the only one a reader skips: what fitted is there.
    auto text = tracer_full_disk_test::trace_text(dir.path());
    CHECK(cbcs::test::contains(text, "\"job\":\"job-0\""));
    CHECK(text.size() <= 4096 + 1024);
  }
}
