#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/key_provider.hpp"
#include "config/vault.hpp"
#include "crypto/random.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

TEST_SUITE("vault") {
  TEST_CASE("a missing file is an empty vault; secrets survive a round trip") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "vault.bin";
    auto key = crypto::random_bytes(32);
    {
      config::vault v(file, key);
      CHECK(v.names().empty());
      v.put("backend/a/apikey", "first secret");
      v.put("backend/b/key", std::string("binary\0bytes\xff", 13));
      v.save();
    }
    config::vault v(file, key);
    CHECK(v.get("backend/a/apikey") == "first secret");
    CHECK(v.get("backend/b/key") == std::string("binary\0bytes\xff", 13));
    CHECK_FALSE(v.get("backend/c/key"));
    CHECK(v.erase("backend/a/apikey"));
    CHECK_FALSE(v.erase("backend/a/apikey"));
    CHECK(v.names() == std::vector<std::string>{"backend/b/key"});
  }

  TEST_CASE("the file holds no plaintext and every save uses fresh nonces") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "vault.bin";
    config::vault v(file, crypto::random_bytes(32));
    v.put("r", "a-very-recognizable-secret");
    auto first = v.serialize();
    auto second = v.serialize();
    CHECK(first.find("a-very-recognizable-secret") == std::string::npos);
    CHECK(first != second);
  }

  TEST_CASE("a wrong key is reported as such, never as garbage") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "vault.bin";
    {
      config::vault v(file, crypto::random_bytes(32));
      v.put("r", "secret");
      v.save();
    }
    CHECK_THROWS_WITH_AS(config::vault(file, crypto::random_bytes(32)),
                         doctest::Contains("sealed with another key"), config::config_error);
  }

  TEST_CASE("any altered byte is detected") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "vault.bin";
    auto key = crypto::random_bytes(32);
    std::string original;
    {
      config::vault v(file, key);
      v.put("backend/x/apikey", "secret-one");
      v.put("backend/y/apikey", "secret-two");
      original = v.serialize();
    }
    for (std::size_t i = 0; i < original.size(); ++i) {
      auto altered = original;
      altered[i] = static_cast<char>(altered[i] ^ 0x20);
      config::write_file_atomic(file, altered);
      CHECK_THROWS_AS(config::vault(file, key), config::config_error);
    }
    // Truncation and appended bytes too.
    config::write_file_atomic(file, original.substr(0, original.size() - 1));
    CHECK_THROWS_AS(config::vault(file, key), config::config_error);
    config::write_file_atomic(file, original + "x");
    CHECK_THROWS_AS(config::vault(file, key), config::config_error);
    config::write_file_atomic(file, original);
    CHECK_NOTHROW(config::vault(file, key));
  }

#ifndef _WIN32  // POSIX modes; the Windows key file is DPAPI-sealed (unit/windows/)
  TEST_CASE("the key file is created 0600 once and refused when others can read it") {
    test::temp_dir dir;
    auto path = fs::path(dir.path()) / "vault.key";
    auto first = config::load_or_create_key_file(path);
    CHECK(first.size() == 32);
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(config::load_or_create_key_file(path) == first);
    fs::permissions(path, fs::perms::group_read, fs::perm_options::add);
    CHECK_THROWS_WITH_AS(config::load_or_create_key_file(path),
                         doctest::Contains("readable by other users"), config::config_error);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    config::write_file_atomic(path, "short");
    CHECK_THROWS_WITH_AS(config::load_or_create_key_file(path),
                         doctest::Contains("is not a 32-byte key"), config::config_error);
  }
#endif
}
