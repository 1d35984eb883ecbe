#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

namespace {

std::size_t count_files(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("atomic_file") {
  TEST_CASE("writes whole files, owner-only") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    config::write_file_atomic(file, "one");
    CHECK(config::read_file(file) == "one");
    config::write_file_atomic(file, "two");
    CHECK(config::read_file(file) == "two");
    CHECK((fs::status(file).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(count_files(dir.path()) == 1);
  }

  TEST_CASE("a write that fails before the rename leaves the old file intact") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    config::write_file_atomic(file, "old content");
    CHECK_THROWS(config::write_file_atomic(file, "new content",
                                           [] { throw std::runtime_error("interrupted"); }));
    CHECK(config::read_file(file) == "old content");
    CHECK(count_files(dir.path()) == 1);
  }

  TEST_CASE("a process killed before the rename leaves the old file intact") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    config::write_file_atomic(file, "old content");
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      config::write_file_atomic(file, "new content", [] { ::_exit(9); });
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 9);
    CHECK(config::read_file(file) == "old content");
    CHECK(count_files(dir.path()) == 2);  // the dead writer's temp file
    config::remove_stale_temp_files(file);
    CHECK(count_files(dir.path()) == 1);
    CHECK(config::read_file(file) == "old content");
  }

  TEST_CASE("read_file names the file and refuses what it cannot read") {
    test::temp_dir dir;
    auto missing = fs::path(dir.path()) / "missing.pem";
    CHECK_THROWS_WITH_AS(config::read_file(missing), doctest::Contains("missing.pem"),
                         config::config_error);
    CHECK_THROWS_WITH_AS(config::read_file(dir.path()), doctest::Contains("not a regular file"),
                         config::config_error);
    auto big = fs::path(dir.path()) / "big";
    config::write_file_atomic(big, std::string(100, 'x'));
    CHECK_THROWS_WITH_AS(config::read_file(big, 10), doctest::Contains("larger than"),
                         config::config_error);
  }
}
