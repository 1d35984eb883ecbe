// The operator log: levels, journald's priority prefixes, and rotating files
// that stay within their size and count.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "actors/trace/operator_log.hpp"
#include "config/atomic_file.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

TEST_SUITE("operator_log") {
  TEST_CASE("levels by name; anything else is refused") {
    CHECK(actors::parse_log_level("debug") == actors::log_level::debug);
    CHECK(actors::parse_log_level("warning") == actors::log_level::warning);
    CHECK_FALSE(actors::parse_log_level("WARN").has_value());
    CHECK_FALSE(actors::parse_log_level("").has_value());
  }

  TEST_CASE("journald lines carry the syslog priority and stay one line") {
    CHECK(actors::journald_line(actors::log_level::error, "disk full") == "<3>disk full");
    CHECK(actors::journald_line(actors::log_level::warning, "slow") == "<4>slow");
    CHECK(actors::journald_line(actors::log_level::info, "a\nb\r") == "<6>a b ");
    CHECK(actors::journald_line(actors::log_level::debug, "x") == "<7>x");
  }

  TEST_CASE("JOURNAL_STREAM names the file on the descriptor, or journald does not read it") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "stream";
    int fd = ::open(file.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    auto right = fmt::format("{}:{}", st.st_dev, st.st_ino);
    auto wrong = fmt::format("{}:{}", st.st_dev, st.st_ino + 1);
    CHECK(actors::journald_reads(right.c_str(), fd));
    CHECK_FALSE(actors::journald_reads(wrong.c_str(), fd));
    CHECK_FALSE(actors::journald_reads(nullptr, fd));
    for (const char* bad : {"", ":", "1:", ":2", "1:2x", "x:2", "12"})
      CHECK_FALSE(actors::journald_reads(bad, fd));
    ::close(fd);
  }

  TEST_CASE("rotating files: bounded in size and count, below the level nothing") {
    test::temp_dir dir;
    auto logs = fs::path(dir.path()) / "logs";
    actors::configure_log({.level = actors::log_level::info,
                           .dir = logs,
                           .max_file_bytes = 4096,
                           .max_files = 2,
                           .echo_stderr = false});
    actors::log_at(actors::log_level::debug, "not at info");
    for (int i = 0; i < 400; ++i)
      actors::log_line(fmt::format("line {:04d} {}", i, std::string(60, 'x')));
    actors::log_at(actors::log_level::warning, "the last one");
    actors::configure_log({});  // back to stderr for the other tests
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(logs)) {
      names.insert(e.path().filename().string());
      CHECK(e.file_size() <= 4096 + 200);
    }
    CHECK(names == std::set<std::string>{"cbcs.log", "cbcs.1.log", "cbcs.2.log"});
    auto current = config::read_file(logs / "cbcs.log");
    CHECK(current.find("warning the last one\n") != std::string::npos);
    CHECK(current.find("Z info line 0399 ") != std::string::npos);
    std::string all =
        current + config::read_file(logs / "cbcs.1.log") + config::read_file(logs / "cbcs.2.log");
    CHECK(all.find("not at info") == std::string::npos);
    CHECK(all.find("line 0000") == std::string::npos);  // rotated away: bounded
  }

  TEST_CASE("a log directory that cannot be made is a one-line error") {
    test::temp_dir dir;
    auto blocker = fs::path(dir.path()) / "file";
    config::write_file_atomic(blocker, "x");
    CHECK_THROWS_WITH_AS(actors::configure_log({.dir = blocker / "logs"}),
                         doctest::Contains("cannot make the log directory"), std::runtime_error);
  }
}
