#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/http/negotiate_transport.hpp"
#include "crypto/keytab.hpp"
#include "protocol/ca/msca/msca_driver.hpp"
#include "protocol/ca/registry.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

namespace keytab_test {

void put(std::string& out, std::uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void counted(std::string& out, const std::string& s) {
  put(out, static_cast<std::uint32_t>(s.size()), 2);
  out += s;
}

// One record of MIT's keytab format 0x0502, as ktutil writes it.
std::string record(const std::vector<std::string>& components, const std::string& realm,
                   std::uint32_t kvno, std::uint16_t enctype, const std::string& key) {
  std::string e;
  put(e, static_cast<std::uint32_t>(components.size()), 2);
  counted(e, realm);
  for (const auto& c : components) counted(e, c);
  put(e, 1, 4);           // KRB5_NT_PRINCIPAL
  put(e, 1733572800, 4);  // timestamp
  put(e, kvno & 0xff, 1);
  put(e, enctype, 2);
  counted(e, key);
  put(e, kvno, 4);
  std::string out;
  put(out, static_cast<std::uint32_t>(e.size()), 4);
  return out + e;
}

const std::string key256(32, '\x5a');
const std::string key128(16, '\xa5');

std::string keytab() {
  return std::string("\x05\x02", 2) + record({"svc-cbcs"}, "CORP.EXAMPLE", 300, 18, key256) +
         record({"svc-cbcs"}, "CORP.EXAMPLE", 300, 17, key128);
}

TEST_CASE("keytab: entries, the 32-bit key version, summary without key bytes") {
  auto entries = crypto::parse_keytab(keytab());
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].principal() == "svc-cbcs@CORP.EXAMPLE");
  CHECK(entries[0].kvno == 300);  // beyond the 8-bit field
  CHECK(entries[0].enctype == 18);
  CHECK(entries[0].key == key256);
  CHECK(crypto::same_principal(entries[0], "svc-cbcs@CORP.EXAMPLE"));
  CHECK(crypto::same_principal(entries[0], "svc-cbcs"));
  CHECK_FALSE(crypto::same_principal(entries[0], "svc-cbcs@OTHER.EXAMPLE"));
  auto summary = crypto::summarize_keytab(keytab());
  CHECK(summary == "2 keys for svc-cbcs@CORP.EXAMPLE (key version 300; aes256-cts, aes128-cts)");
  CHECK(summary.find(key256) == std::string::npos);
  auto service = record({"HTTP", "ca01.corp.example"}, "CORP.EXAMPLE", 2, 18, key256);
  CHECK(crypto::parse_keytab(std::string("\x05\x02", 2) + service)[0].principal() ==
        "HTTP/ca01.corp.example@CORP.EXAMPLE");
}

TEST_CASE("keytab: what is wrong with a file is said without its bytes") {
  auto error_of = [](std::string content) {
    try {
      crypto::parse_keytab(content);
    } catch (const crypto::keytab_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("-----BEGIN CERTIFICATE-----") == "not a Kerberos keytab file");
  CHECK(error_of(std::string("\x05\x01", 2)).find("format version 1") != std::string::npos);
  CHECK(error_of(std::string("\x05\x02", 2)) == "the keytab holds no keys");
  auto cut = keytab();
  cut.resize(cut.size() - 10);
  CHECK(error_of(cut) == "the keytab is cut short");
  // A deleted entry's hole (a negative size) is skipped.
  std::string hole("\x05\x02\xff\xff\xff\xfc\0\0\0\0", 10);
  CHECK(crypto::parse_keytab(hole + keytab().substr(2)).size() == 2);
}

TEST_CASE(
    "msca -auth kerberos: -keytab and -principal together, the keytab holding the principal") {
  const auto& type = *ca::find_backend_type("msca");
  auto problem = [&](ca::option_values v) {
    v.emplace("server", "ca01");
    v.emplace("ca", "Corp CA");
    v.emplace("transport", "ces");  // DCOM is Windows' default
    auto p = type.check_combination(v);
    return p.empty() ? type.check_all(v) : p;
  };
  CHECK(problem({}).empty());  // the seed's line: said by the backend once it runs
  CHECK(problem({{"keytab", keytab()}, {"principal", "svc-cbcs@CORP.EXAMPLE"}}).empty());
  CHECK(problem({{"keytab", keytab()}}).find("-principal") != std::string::npos);
  CHECK(problem({{"principal", "svc-cbcs"}}).find("-keytab") != std::string::npos);
  CHECK(problem({{"auth", "username"},
                 {"username", "CORP\\svc"},
                 {"password", "p"},
                 {"keytab", keytab()}})
            .find("-keytab needs -auth kerberos") != std::string::npos);
  auto other = problem({{"keytab", keytab()}, {"principal", "other@CORP.EXAMPLE"}});
  CHECK(other.find("holds no key for principal other@CORP.EXAMPLE") != std::string::npos);
  CHECK(other.find(key256) == std::string::npos);
}

TEST_CASE(
    "msca -auth kerberos: the driver hands the transport its identity, or says what it lacks") {
  ca::driver_config c{.name = "ad"};
  c.settings = {{"server", "ca01.corp.example"}, {"ca", "Corp CA"}, {"transport", "ces"}};
  auto bare = ca::msca::make_driver(c);
  auto* lacking = dynamic_cast<ca::presents_kerberos_identity*>(bare.get());
  REQUIRE(lacking);
  CHECK_FALSE(lacking->kerberos());
  auto problem = dynamic_cast<ca::checks_settings*>(bare.get())->settings_problem();
  CHECK(problem.find("-auth kerberos") != std::string::npos);
#ifdef CBCS_KERBEROS
  CHECK(problem.find("-keytab FILE -principal NAME@REALM") != std::string::npos);
  c.settings.emplace("principal", "svc-cbcs@CORP.EXAMPLE");
  c.secrets.emplace("keytab", keytab());
  auto d = ca::msca::make_driver(c);
  CHECK(dynamic_cast<ca::checks_settings*>(d.get())->settings_problem().empty());
  auto id = dynamic_cast<ca::presents_kerberos_identity*>(d.get())->kerberos();
  REQUIRE(id);
  CHECK(id->principal == "svc-cbcs@CORP.EXAMPLE");
  CHECK(id->keytab == keytab());
  c.settings["principal"] = "other@CORP.EXAMPLE";
  auto wrong = ca::msca::make_driver(c);
  CHECK(dynamic_cast<ca::checks_settings*>(wrong.get())
            ->settings_problem()
            .find("holds no key for other@CORP.EXAMPLE") != std::string::npos);
  CHECK_FALSE(dynamic_cast<ca::presents_kerberos_identity*>(wrong.get())->kerberos());
#else
  CHECK(problem.find("not built") != std::string::npos);
#endif
}

TEST_CASE(
    "negotiating transport: the service's host from the URL; a keytab without the principal") {
  CHECK(actors::url_host("https://ca01.corp.example/CES") == "ca01.corp.example");
  CHECK(actors::url_host("https://ca01.corp.example:8443/CES?x") == "ca01.corp.example");
  CHECK(actors::url_host("https://[::1]:8443/CES") == "::1");
  CHECK(actors::url_host("no url") == "");
  if (!actors::negotiate_built()) return;
  CHECK_THROWS_WITH_AS(
      actors::make_negotiating_transport(nullptr, {"other@CORP.EXAMPLE", keytab()}),
      "the keytab holds no key for other@CORP.EXAMPLE", std::invalid_argument);
}

}  // namespace keytab_test
