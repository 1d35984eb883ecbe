#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"
#include "protocol/ca/msca/msca_backend.hpp"
#include "protocol/ca/registry.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

namespace {

std::set<std::string> required_of(std::string_view type) {
  std::set<std::string> out;
  for (const auto& opt : ca::find_backend_type(type)->options)
    if (opt.required) out.emplace(opt.name);
  return out;
}

ca::option_spec option(std::string_view type, std::string_view name) {
  for (const auto& opt : ca::all_options(*ca::find_backend_type(type)))
    if (opt.name == name) return opt;
  FAIL("no option " << name);
  throw 0;
}

std::string service_account_json(const std::string& key_pem, const std::string& type) {
  protocol::json_writer w;
  w.begin_object()
      .member("type", type)
      .member("project_id", "p")
      .member("private_key_id", "abc123")
      .member("private_key", key_pem)
      .member("client_email", "cbcs@p.iam.gserviceaccount.com")
      .member("token_uri", "https://oauth2.googleapis.com/token")
      .end_object();
  return w.str();
}

}  // namespace

TEST_SUITE("backend_types") {
  TEST_CASE("every folder of protocol/ca is a registered type, and every type has its folder") {
    // The folders are the list: a new type is its folder and one registry line.
    std::set<std::string> folders;
    auto ca_dir = std::filesystem::path(CBCS_TEST_DATA) / ".." / ".." / "protocol" / "ca";
    for (const auto& entry : std::filesystem::directory_iterator(ca_dir))
      if (entry.is_directory() && entry.path().filename() != "common")
        folders.emplace(entry.path().filename().string());
    std::set<std::string> names;
    for (auto* t : ca::backend_types()) names.emplace(t->name);
    CHECK(names == folders);
  }

  TEST_CASE("every type is declared soundly, whatever types there are") {
    // Properties, not a count: a new type passes by being declared right.
    std::set<std::string_view> names, titles;
    for (auto* t : ca::backend_types()) {
      CAPTURE(t->name);
      CHECK(names.emplace(t->name).second);
      CHECK(!t->name.empty());
      CHECK(t->name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") ==
            std::string_view::npos);
      CHECK(ca::find_backend_type(t->name) == t);
      CHECK(!t->title.empty());
      CHECK(titles.emplace(t->title).second);
      for (const auto& o : t->options) {
        CAPTURE(o.name);
        CHECK(!o.name.empty());
        CHECK(!o.help.empty());
        // Given on the command line: checked; a sealed file: a summary to show.
        CHECK((o.generated || o.check != nullptr));
        if (ca::is_file(o.kind) && ca::is_sealed(o.kind)) CHECK((o.summary != nullptr));
        CHECK_FALSE((o.generated && o.required));
      }
      // A TLS client identity names two of the type's own sealed options.
      if (const auto& id = t->policy.client_identity; !id.empty()) {
        for (auto name : {id.certificate, id.key}) {
          auto it = std::find_if(t->options.begin(), t->options.end(),
                                 [&](const ca::option_spec& o) { return o.name == name; });
          REQUIRE(it != t->options.end());
          CHECK(ca::is_sealed(it->kind));
        }
      }
      // Generated options need the step or the command that makes them.
      bool generates = std::any_of(t->options.begin(), t->options.end(),
                                   [](const ca::option_spec& o) { return o.generated; });
      CHECK(generates == (t->provision != nullptr || !t->generated_by.empty()));
    }
  }

  TEST_CASE("the registry declares the documented options") {
    // The keys are required unless -credentials instance: check_combination.
    CHECK(required_of("acmpca") == std::set<std::string>{"region"});
    CHECK(required_of("digicert") == std::set<std::string>{"apikey"});
    // Entrust's depend on -api (ecs: username, apikey; cagw: caid, cert, key): check_combination.
    CHECK(required_of("entrust").empty());
    CHECK(required_of("gcpcas") == std::set<std::string>{"project", "location", "key"});
    CHECK(required_of("msca") == std::set<std::string>{"server", "ca"});
    CHECK(required_of("local").empty());
    CHECK(ca::find_backend_type("nope") == nullptr);
    for (auto* t : ca::backend_types()) {
      auto all = ca::all_options(*t);
      std::set<std::string> opts;
      for (const auto& o : all) CHECK_MESSAGE(opts.emplace(o.name).second, "duplicate " << o.name);
      CHECK(opts.count("maxinflight"));
      // The options about reaching a CA only for a type that reaches one.
      CHECK(opts.count("endpoint") == (t->policy.remote ? 1u : 0u));
      CHECK(opts.count("cacert") == (t->policy.remote ? 1u : 0u));
      CHECK(opts.count("maxconnections") == (t->policy.remote ? 1u : 0u));
    }
    CHECK_FALSE(ca::find_backend_type("local")->policy.remote);
  }

  TEST_CASE("secrets are declared as secrets") {
    CHECK(option("acmpca", "secretaccesskey").kind == ca::option_kind::secret);
    CHECK(option("digicert", "apikey").kind == ca::option_kind::secret);
    CHECK(option("entrust", "apikey").kind == ca::option_kind::secret);
    CHECK(option("entrust", "cert").kind == ca::option_kind::secret_file);
    CHECK(option("entrust", "key").kind == ca::option_kind::secret_file);
    CHECK(option("gcpcas", "key").kind == ca::option_kind::secret_file);
    CHECK(option("msca", "server").kind == ca::option_kind::text);
  }

  TEST_CASE("value checks") {
    auto check = [](std::string_view type, std::string_view opt, std::string_view value) {
      return option(type, opt).check(value);
    };
    CHECK(check("acmpca", "accesskeyid", "AKIAIOSFODNN7EXAMPLE").empty());
    CHECK_FALSE(check("acmpca", "accesskeyid", "akia").empty());
    CHECK(check("acmpca", "region", "eu-west-1").empty());
    CHECK_FALSE(check("acmpca", "region", "eu west").empty());
    CHECK(check("acmpca", "endpoint", "https://acm-pca.eu-west-1.amazonaws.com").empty());
    CHECK(check("acmpca", "endpoint", "http://127.0.0.1:4566").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "http://example.com").empty());
    CHECK(check("acmpca", "endpoint", "http://localhost:4566/").empty());
    CHECK(check("acmpca", "endpoint", "http://[::1]:4566").empty());
    // Names that only begin like loopback could resolve anywhere.
    CHECK_FALSE(check("acmpca", "endpoint", "http://127.example.com").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "http://127.0.0.1.example.com/").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "http://localhost.example.com").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "http://[::1]evil").empty());
    CHECK(check("acmpca", "credentials", "instance").empty());
    CHECK(check("acmpca", "credentials", "static").empty());
    CHECK_FALSE(check("acmpca", "credentials", "role").empty());
    CHECK(check("acmpca", "imds_endpoint", "http://169.254.169.254").empty());
    CHECK(check("acmpca", "imds_endpoint", "http://[fd00:ec2::254]").empty());
    CHECK(check("acmpca", "imds_endpoint", "http://127.0.0.1:8111").empty());
    CHECK(check("acmpca", "imds_endpoint", "http://169.254.169.254/").empty());
    CHECK(check("acmpca", "imds_endpoint", "http://169.254.169.254:80").empty());
    CHECK_FALSE(check("acmpca", "imds_endpoint", "http://127.0.0.1:8111/x").empty());
    CHECK_FALSE(check("acmpca", "imds_endpoint", "http://127.0.0.1:8111?q").empty());
    CHECK_FALSE(check("acmpca", "imds_endpoint", "http://169.254.169.254.example.com").empty());
    CHECK_FALSE(check("acmpca", "imds_endpoint", "https://127.0.0.1:8111").empty());
    CHECK_FALSE(check("acmpca", "imds_endpoint", "http://example.com").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "https://user:pw@example.com").empty());
    CHECK_FALSE(check("acmpca", "endpoint", "example.com").empty());
    CHECK_FALSE(check("digicert", "apikey", "has space").empty());
    CHECK(check("msca", "ca", "Contoso Issuing CA 1").empty());
    CHECK_FALSE(check("msca", "ca", "bad\\name").empty());
    CHECK(check("msca", "server", "ca01.corp.example").empty());
    CHECK_FALSE(check("msca", "server", "ca01 corp").empty());
  }

  TEST_CASE("acmpca: static keys or the instance role, never both, never neither") {
    const auto& type = *ca::find_backend_type("acmpca");
    REQUIRE((type.check_combination != nullptr));
    auto problem = [&](ca::option_values v) {
      v.emplace("region", "eu-west-1");
      return type.check_combination(v);
    };
    CHECK(problem({{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"}, {"secretaccesskey", "k"}}).empty());
    CHECK(problem({{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"},
                   {"secretaccesskey", "k"},
                   {"credentials", "static"}})
              .empty());
    CHECK(problem({{"credentials", "instance"}}).empty());
    CHECK(problem({{"credentials", "instance"}, {"imds_endpoint", "http://127.0.0.1:1"}}).empty());
    auto missing = problem({{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"}});
    CHECK(missing.find("-secretaccesskey") != std::string::npos);
    CHECK(missing.find("-credentials instance") != std::string::npos);
    CHECK(problem({}).find("-accesskeyid") != std::string::npos);
    CHECK(problem({{"credentials", "instance"}, {"sessiontoken", "t"}}).find("-sessiontoken") !=
          std::string::npos);
    CHECK(problem({{"credentials", "instance"}, {"accesskeyid", "AKIAIOSFODNN7EXAMPLE"}})
              .find("does not go with") != std::string::npos);
    CHECK(problem({{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"},
                   {"secretaccesskey", "k"},
                   {"imds_endpoint", "http://127.0.0.1:1"}})
              .find("needs -credentials instance") != std::string::npos);
  }

  TEST_CASE("msca: each -auth has its own credentials; the seed's line needs none") {
    const auto& type = *ca::find_backend_type("msca");
    REQUIRE((type.check_combination != nullptr));
    auto problem = [&](ca::option_values v) {
      v.emplace("server", "ca01");
      v.emplace("ca", "Corp CA");
      v.emplace("transport", "ces");  // DCOM is Windows' default (below)
      return type.check_combination(v);
    };
    CHECK(problem({}).empty());  // kerberos: the machine's own account
    CHECK(problem({{"auth", "username"}, {"username", "CORP\\svc"}, {"password", "p w"}}).empty());
    CHECK(problem({{"auth", "username"}}).find("-username") != std::string::npos);
    CHECK(problem({{"auth", "certificate"}, {"cert", "c"}, {"key", "k"}}).empty());
    CHECK(problem({{"auth", "certificate"}}).find("-pkcs12") != std::string::npos);
    CHECK(problem({{"username", "CORP\\svc"}}).find("needs -auth username") != std::string::npos);
    CHECK(problem({{"cert", "c"}, {"key", "k"}}).find("needs -auth certificate") !=
          std::string::npos);
    auto value_problem = [](std::string_view opt, std::string_view value) {
      return option("msca", opt).check(value);
    };
    CHECK(value_problem("username", "CORP\\svc").empty());
    CHECK(value_problem("username", "svc@corp.example").empty());
    CHECK_FALSE(value_problem("username", "svc").empty());
    CHECK_FALSE(value_problem("template", "Web Server").empty());  // a display name
    CHECK(value_problem("template", "WebServer").empty());
#ifndef _WIN32
    CHECK(problem({{"transport", "dcom"}}).find("Windows only") != std::string::npos);
#else
    CHECK(problem({{"transport", "dcom"}}).empty());
    CHECK(problem({{"transport", "dcom"}, {"auth", "username"}}).find("does not go with") !=
          std::string::npos);
#endif
  }

  TEST_CASE("msca: -transport defaults to dcom on Windows, to ces elsewhere") {
    const auto& type = *ca::find_backend_type("msca");
    ca::option_values seed{{"server", "ca01"}, {"ca", "Corp CA"}};
    auto ces = seed;
    ces.insert({{"auth", "username"}, {"username", "CORP\\svc"}, {"password", "p w"}});
    ca::driver_config c{.name = "ad", .settings = {seed.begin(), seed.end()}};
    auto settings = ca::msca::msca_settings::from(c);
    CHECK(type.check_combination(seed).empty());
#ifdef _WIN32
    CHECK(settings.transport == "dcom");
    CHECK(settings.problem.empty());
    CHECK(type.check_combination(ces).find(
              "option -auth does not go with -transport dcom (the default on Windows; give "
              "-transport ces for CES)") != std::string::npos);
    // A backend of CES's options kept from before: it says what to set.
    c.settings = {ces.begin(), ces.end()};
    CHECK(ca::msca::msca_settings::from(c).problem.find(
              "-transport is dcom by default on Windows: cbcs backend set -name ad -transport "
              "ces") != std::string::npos);
#else
    CHECK(settings.transport == "ces");
    CHECK(type.check_combination(ces).empty());
    CHECK(settings.problem.find("-transport") == std::string::npos);
#endif
    ces.emplace("transport", "ces");
    CHECK(type.check_combination(ces).empty());
  }

  TEST_CASE("an error text never repeats the secret it checked") {
    std::string secret = "s3cr3t with spaces";
    for (auto* t : ca::backend_types())
      for (const auto& opt : ca::all_options(*t))
        if (opt.check) CHECK(opt.check(secret).find(secret) == std::string::npos);
  }

  TEST_CASE("entrust: the key must belong to the certificate") {
    auto a = test::make_self_signed("p256", "entrust api user");
    auto b = test::make_self_signed("p256", "someone else");
    CHECK(option("entrust", "cert").check(a.cert_pem).empty());
    CHECK(option("entrust", "key").check(a.key_pem).empty());
    CHECK_FALSE(option("entrust", "cert").check(a.key_pem).empty());
    CHECK_FALSE(option("entrust", "key").check(a.cert_pem).empty());
    auto* entrust = ca::find_backend_type("entrust");
    CHECK(entrust->check_all({{"cert", a.cert_pem}, {"key", a.key_pem}}).empty());
    CHECK(entrust->check_all({{"cert", a.cert_pem}, {"key", b.key_pem}}).find("does not belong") !=
          std::string::npos);
    CHECK(option("entrust", "cert").summary(a.cert_pem) == "1 certificate: CN=entrust api user");
    CHECK(option("entrust", "key").summary(a.key_pem) == "EC prime256v1 private key");
  }

  TEST_CASE("gcpcas: the service-account key is checked field by field") {
    auto rsa = test::make_key_pem("rsa2048");
    auto good = service_account_json(rsa, "service_account");
    auto key = option("gcpcas", "key");
    CHECK(key.check(good).empty());
    CHECK(key.summary(good) == "service account cbcs@p.iam.gserviceaccount.com");
    CHECK(key.check(service_account_json(rsa, "user")).find("\"type\"") != std::string::npos);
    CHECK(key.check(service_account_json(test::make_key_pem("p256"), "service_account"))
              .find("not an RSA key") != std::string::npos);
    CHECK(key.check(service_account_json("garbage", "service_account")).find("\"private_key\"") !=
          std::string::npos);
    CHECK(key.check("{\"type\": \"service_account\"}").find("\"client_email\"") !=
          std::string::npos);
    CHECK(key.check("not json").find("not valid JSON") != std::string::npos);
    auto parsed = ca::gcpcas::parse_service_account(good);
    CHECK(parsed.private_key_id == "abc123");
  }
}

TEST_SUITE("backend_types") {
  TEST_CASE("actors/ never names a backend type: per-type policy is in the declarations") {
    auto actors_dir = std::filesystem::path(CBCS_TEST_DATA) / ".." / ".." / "actors";
    for (const auto& entry : std::filesystem::recursive_directory_iterator(actors_dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      for (auto* t : ca::backend_types())
        CHECK_MESSAGE(text.find("\"" + std::string(t->name) + "\"") == std::string::npos,
                      entry.path().string() << " names " << t->name);
    }
  }
}
