#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>

#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "config/identity.hpp"
#include "config/vault.hpp"
#include "crypto/random.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

namespace {

config::connector_identity make_identity(const std::string& id_name) {
  auto kc = test::make_self_signed("p256", id_name);
  auto ca = test::make_self_signed("p256", "scm-ca");
  return {.connector_id = id_name,
          .scm_url = "https://scm.example.com",
          .session_url = "wss://scm.example.com/api/connector/v1/session",
          .scm_ca_pem = ca.cert_pem,
          .certificate_pem = kc.cert_pem,
          .chain_pem = "",
          .group = "",
          .registered_at = 1767225600,
          .key_pem = kc.key_pem};
}

struct identity_fixture {
  test::temp_dir tmp;
  config::data_dir dir{fs::path(tmp.path()) / "data"};
  crypto::bytes key = crypto::random_bytes(32);
  std::unique_ptr<config::vault> open() {
    return std::make_unique<config::vault>(dir.vault_file(), key);
  }
};

}  // namespace

TEST_SUITE("identity") {
  TEST_CASE("not registered is a clear state") {
    identity_fixture f;
    auto v = f.open();
    CHECK_FALSE(config::load_identity(f.dir, *v).has_value());
    CHECK_FALSE(config::read_identity_file(config::identity_file(f.dir)).has_value());
  }

  TEST_CASE("save then load gives the same identity; the key stays out of identity.json") {
    identity_fixture f;
    auto id = make_identity("c-1");
    {
      auto v = f.open();
      config::save_identity(f.dir, *v, id);
    }
    auto v = f.open();
    auto back = config::load_identity(f.dir, *v);
    REQUIRE(back);
    CHECK(back->connector_id == "c-1");
    CHECK(back->session_url == id.session_url);
    CHECK(back->certificate_pem == id.certificate_pem);
    CHECK(back->scm_ca_pem == id.scm_ca_pem);
    CHECK(back->key_pem == id.key_pem);
    CHECK(back->registered_at == 1767225600);
    auto names = v->names();
    CHECK(std::find(names.begin(), names.end(), "identity/key") != names.end());
    CHECK(std::find(names.begin(), names.end(), "identity/key.next") == names.end());
    std::ifstream in(config::identity_file(f.dir));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text.find("PRIVATE KEY") == std::string::npos);
#ifndef _WIN32  // Windows has no modes: the data directory's ACL (unit/windows/)
    CHECK((fs::status(config::identity_file(f.dir)).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
#endif
  }

  TEST_CASE("a crash after sealing the key leaves the old identity whole") {
    identity_fixture f;
    auto old_id = make_identity("c-old");
    {
      auto v = f.open();
      config::save_identity(f.dir, *v, old_id);
    }
    auto new_id = make_identity("c-new");
    {
      auto v = f.open();
      CHECK_THROWS(
          config::save_identity(f.dir, *v, new_id, [] { throw std::runtime_error("crash"); }));
    }
    auto v = f.open();
    auto back = config::load_identity(f.dir, *v);
    REQUIRE(back);
    CHECK(back->connector_id == "c-old");
    CHECK(back->key_pem == old_id.key_pem);
  }

  TEST_CASE("a crash on first registration leaves nothing registered") {
    identity_fixture f;
    {
      auto v = f.open();
      CHECK_THROWS(config::save_identity(f.dir, *v, make_identity("c-1"),
                                         [] { throw std::runtime_error("crash"); }));
    }
    auto v = f.open();
    CHECK_FALSE(config::load_identity(f.dir, *v).has_value());
  }

  TEST_CASE("a crash after the commit point gives the new identity with its key") {
    identity_fixture f;
    auto old_id = make_identity("c-old");
    {
      auto v = f.open();
      config::save_identity(f.dir, *v, old_id);
    }
    // Simulate the state right after identity.json was replaced: the new key
    // only under the .next record.
    auto new_id = make_identity("c-new");
    {
      auto v = f.open();
      config::save_identity(f.dir, *v, new_id);
      v->put("identity/key", old_id.key_pem);
      v->put("identity/key.next", new_id.key_pem);
      v->save();
    }
    auto v = f.open();
    auto back = config::load_identity(f.dir, *v);
    REQUIRE(back);
    CHECK(back->connector_id == "c-new");
    CHECK(back->key_pem == new_id.key_pem);
  }

  TEST_CASE("a certificate that is not for the key is refused, and a lost key is reported") {
    identity_fixture f;
    auto id = make_identity("c-1");
    id.key_pem = test::make_key_pem("p256");
    auto v = f.open();
    CHECK_THROWS_AS(config::save_identity(f.dir, *v, id), std::invalid_argument);
    CHECK_FALSE(fs::exists(config::identity_file(f.dir)));

    auto good = make_identity("c-2");
    config::save_identity(f.dir, *v, good);
    v->erase("identity/key");
    v->save();
    auto v2 = f.open();
    CHECK_THROWS_WITH_AS(config::load_identity(f.dir, *v2),
                         doctest::Contains("register -token T -force"), config::config_error);
  }

  TEST_CASE("a damaged identity file is reported by name") {
    identity_fixture f;
    {
      std::ofstream out(config::identity_file(f.dir));
      out << "{\"schema_version\": 1, \"connector_id\": 5}";
    }
    CHECK_THROWS_WITH_AS(config::read_identity_file(config::identity_file(f.dir)),
                         doctest::Contains("identity.json"), config::config_error);
  }
}
