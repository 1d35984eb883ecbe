#include <doctest/doctest.h>

#include <filesystem>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/connector_config.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

TEST_SUITE("connector_config") {
  TEST_CASE("a missing file is the empty configuration; a saved one reads back") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    auto empty = config::load_config(file);
    CHECK(empty.backends.empty());
    CHECK_FALSE(fs::exists(file));

    config::connector_config c;
    c.backends.push_back({.name = "aws-1",
                          .type = "acmpca",
                          .settings = {{"region", "eu-west-1"}, {"accesskeyid", "AKIAEXAMPLE"}},
                          .sealed = {{"secretaccesskey", "backend/aws-1/secretaccesskey"}}});
    c.backends.push_back({.name = "local", .type = "local"});
    config::save_config(file, c);
    auto back = config::load_config(file);
    REQUIRE(back.backends.size() == 2);
    CHECK(back.backends[0].settings.at("region") == "eu-west-1");
    CHECK(back.backends[0].sealed.at("secretaccesskey") == "backend/aws-1/secretaccesskey");
    CHECK(back.find_backend("local") != nullptr);
    CHECK(back.find_backend("nope") == nullptr);
    CHECK(config::serialize_config(back) == config::serialize_config(c));
  }

  TEST_CASE("corrupt JSON names the file and the line, and the file is kept") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    std::string bad = "{\n  \"schema_version\": 1,\n  \"backends\": [ oops ]\n}\n";
    config::write_file_atomic(file, bad);
    CHECK_THROWS_WITH_AS(config::load_config(file),
                         doctest::Contains((file.string() + " is not valid JSON (line 3)").c_str()),
                         config::config_error);
    CHECK(config::read_file(file) == bad);
  }

  TEST_CASE("unknown schema version and wrong shapes are refused clearly") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "config.json";
    auto expect = [&](const std::string& text, const std::string& fragment) {
      CAPTURE(text);
      CHECK_THROWS_WITH_AS(config::parse_config(text, file), doctest::Contains(fragment.c_str()),
                           config::config_error);
    };
    expect(R"({"schema_version": 2, "backends": []})", "schema version 2");
    expect(R"({"backends": []})", "\"schema_version\" is missing");
    expect(R"([1])", "top level must be an object");
    expect(R"({"schema_version": 1, "backends": {}})", "\"backends\" must be an array");
    expect(R"({"schema_version": 1, "backends": [{"name": "a"}]})", "\"type\" must be a string");
    expect(R"({"schema_version": 1, "backends": [{"name": "../x", "type": "local"}]})",
           "invalid backend name");
    expect(R"({"schema_version": 1, "backends": [{"name": "a", "type": "local"},
              {"name": "a", "type": "local"}]})",
           "duplicate backend name");
    expect(R"({"schema_version": 1, "backends": [{"name": "a", "type": "local",
              "settings": {"x": 1}}]})",
           "must be a string");
  }

  TEST_CASE("backend names") {
    CHECK(config::is_valid_backend_name("aws-prod_1.eu"));
    CHECK_FALSE(config::is_valid_backend_name(""));
    CHECK_FALSE(config::is_valid_backend_name("-x"));
    CHECK_FALSE(config::is_valid_backend_name("a/b"));
    CHECK_FALSE(config::is_valid_backend_name(std::string(65, 'a')));
  }
}
