#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "config/os/this_process.hpp"
#include "test_pki.hpp"

using namespace cbcs;

TEST_SUITE("service_lock") {
  TEST_CASE("a second service on one data directory is refused, naming the first's pid") {
    test::temp_dir tmp;
    config::data_dir dir(std::filesystem::path(tmp.path()) / "data");
    CHECK_FALSE(config::service_lock::holder(dir));
    std::string refusal;
    {
      config::service_lock first(dir);
      CHECK(config::service_lock::holder(dir) == config::process_id());
      try {
        config::service_lock second(dir);
      } catch (const config::config_error& e) {
        refusal = e.what();
      }
      // The other commands' lock is another file: they work beside the service.
      config::data_dir_lock cli(dir);
    }
    CHECK(refusal.find("pid " + std::to_string(config::process_id())) != std::string::npos);
    CHECK(refusal.find(dir.root().string()) != std::string::npos);
    CHECK(refusal.find('\n') == std::string::npos);
    // Released with its holder: the next service starts.
    config::service_lock next(dir);
    CHECK(config::service_lock::holder(dir) == config::process_id());
  }
}
