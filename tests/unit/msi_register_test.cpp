#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>

#include "packaging/windows/msi_register/action_data.hpp"
#include "packaging/windows/msi_register/register_plan.hpp"
#include "packaging/windows/msi_register/wizard_checks.hpp"
#include "protocol/scm/installation_token.hpp"

using namespace cbcs::msi;

namespace {

action_fields msi_first_install() {
  return {{"install_dir", "C:\\Program Files\\CBCS\\"},
          {"data_dir", "C:\\ProgramData\\CBCS"},
          {"token", "tok.en.sig"},
          {"proxy_type", ""},
          {"proxy_addr", ""},
          {"proxy_port", ""},
          {"proxy_user", ""},
          {"proxy_password", ""}};
}

bool msi_has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("msi_action_data") {
  TEST_CASE("every value comes back as packed, whatever its characters") {
    action_fields in{{"a", ""},
                     {"password", "p;w=1:2[3]\\\"4\"; 5:x"},
                     {"path", "C:\\Program Files\\CBCS\\"},
                     {"digits", "12:34"},
                     {"unicode", "mot de passe \xc3\xa9t\xc3\xa9"},
                     {"spaces", "  a b  "},
                     {"ten", std::string(10, ':')}};
    auto text = pack_action_data(in);
    auto out = unpack_action_data(text);
    REQUIRE(out);
    CHECK(*out == in);
    CHECK(unpack_action_data("") == action_fields{});
    CHECK(pack_action_data({{"k", "v;w"}}) == "1:k3:v;w");
  }

  TEST_CASE("random fields of the format's own characters round-trip") {
    std::mt19937 rng(16);
    const std::string alphabet = "0123456789:;=[]\\\" \tabc\xc3\xa9";
    auto text = [&](std::size_t max) {
      std::string s(rng() % (max + 1), ' ');
      for (auto& c : s) c = alphabet[rng() % alphabet.size()];
      return s;
    };
    for (int i = 0; i < 500; ++i) {
      action_fields in;
      for (int n = rng() % 6; n > 0; --n) {
        auto name = text(12);
        if (!name.empty()) in[name] = text(40);
      }
      auto out = unpack_action_data(pack_action_data(in));
      REQUIRE(out);
      CHECK(*out == in);
    }
  }

  TEST_CASE("malformed data is refused, not guessed") {
    auto text = pack_action_data({{"token", "abc"}, {"user", "u"}});
    // Every truncation but the field boundaries is malformed.
    for (std::size_t n = 1; n < text.size(); ++n) {
      auto cut = text.substr(0, n);
      bool boundary = cut == "5:token3:abc";
      CHECK_MESSAGE(unpack_action_data(cut).has_value() == boundary, cut);
    }
    CHECK_FALSE(unpack_action_data("x"));
    CHECK_FALSE(unpack_action_data("1:k"));              // no value
    CHECK_FALSE(unpack_action_data("1:k9:abc"));         // value past the end
    CHECK_FALSE(unpack_action_data("0:1:v"));            // empty name
    CHECK_FALSE(unpack_action_data("1:k1:v1:k1:w"));     // a name twice
    CHECK_FALSE(unpack_action_data("01:k1:v"));          // a length with a leading zero
    CHECK_FALSE(unpack_action_data("-1:k1:v"));          // a negative length
    CHECK_FALSE(unpack_action_data("1:k1:v "));          // trailing bytes
    CHECK_FALSE(unpack_action_data("9999999999:k1:v"));  // a length that does not fit
  }
}

TEST_SUITE("msi_register_plan") {
  TEST_CASE("first install: register with the token on standard input only") {
    auto plan = plan_register(msi_first_install(), false);
    REQUIRE(plan.what == register_plan::kind::run);
    CHECK(plan.argv == std::vector<std::string>{"C:\\Program Files\\CBCS\\cbcs.exe", "register",
                                                "--data-dir=C:\\ProgramData\\CBCS", "-token=-"});
    CHECK(plan.stdin_text == "tok.en.sig\n");
    CHECK(windows_command_line(plan.argv) ==
          "\"C:\\Program Files\\CBCS\\cbcs.exe\" register --data-dir=C:\\ProgramData\\CBCS "
          "-token=-");
  }

  TEST_CASE("a manual proxy: options on the command line, the password on standard input") {
    auto f = msi_first_install();
    f["proxy_type"] = "1";
    f["proxy_addr"] = "127.0.0.1";
    f["proxy_port"] = "3128";
    f["proxy_user"] = "proxy-user";
    f["proxy_password"] = "s3cret; -token x";
    f["install_dir"] = "D:\\Apps\\CBCS";  // no trailing backslash
    auto plan = plan_register(f, false);
    REQUIRE(plan.what == register_plan::kind::run);
    CHECK(plan.argv == std::vector<std::string>{"D:\\Apps\\CBCS\\cbcs.exe", "register",
                                                "--data-dir=C:\\ProgramData\\CBCS", "-token=-",
                                                "-proxy-type=manual", "-proxy-addr=127.0.0.1",
                                                "-proxy-port=3128", "-proxy-user=proxy-user",
                                                "-proxy-password=-"});
    CHECK(plan.stdin_text == "tok.en.sig\ns3cret; -token x\n");
    auto line = windows_command_line(plan.argv);
    CHECK_FALSE(msi_has(line, "s3cret"));
    CHECK_FALSE(msi_has(line, "tok.en.sig"));
  }

  TEST_CASE("PROXY_TYPE 0 is a direct connection; no password line without a password") {
    auto f = msi_first_install();
    f["proxy_type"] = "0";
    auto plan = plan_register(f, false);
    REQUIRE(plan.what == register_plan::kind::run);
    CHECK(plan.argv.back() == "-proxy-type=direct");
    CHECK(plan.stdin_text == "tok.en.sig\n");
    f["proxy_type"] = "manual";
    f["proxy_user"] = "-token";  // a value, not an option
    plan = plan_register(f, false);
    REQUIRE(plan.what == register_plan::kind::run);
    CHECK(plan.argv.back() == "-proxy-user=-token");
    CHECK(plan.stdin_text == "tok.en.sig\n");
  }

  TEST_CASE("no TOKEN: nothing to do when registered, a clear failure when not") {
    auto f = msi_first_install();
    f["token"] = "  ";
    auto upgrade = plan_register(f, true);
    CHECK(upgrade.what == register_plan::kind::skip);
    CHECK(upgrade.argv.empty());
    auto first = plan_register(f, false);
    CHECK(first.what == register_plan::kind::fail);
    CHECK(msi_has(first.message, "TOKEN is required"));
    CHECK_FALSE(msi_has(upgrade.message, "PROXY_"));
    f["proxy_type"] = "1";
    f["proxy_password"] = "pw-not-in-message";
    auto with_proxy = plan_register(f, true);
    CHECK(with_proxy.what == register_plan::kind::skip);
    CHECK(msi_has(with_proxy.message, "PROXY_* not applied"));
    CHECK_FALSE(msi_has(with_proxy.message, "pw-not-in-message"));
    f.erase("token");
    CHECK(plan_register(f, true).what == register_plan::kind::skip);
  }

  TEST_CASE("a TOKEN with an identity is not used unless FORCE=1 registers again") {
    auto again = plan_register(msi_first_install(), true);
    CHECK(again.what == register_plan::kind::skip);
    CHECK(msi_has(again.message, "identity kept, TOKEN not used"));
    CHECK_FALSE(msi_has(again.message, "tok.en.sig"));
    CHECK(again.stdin_text.empty());
    auto f = msi_first_install();
    f["force"] = "0";
    CHECK(plan_register(f, true).what == register_plan::kind::skip);
    f["force"] = "1";
    auto forced = plan_register(f, true);
    REQUIRE(forced.what == register_plan::kind::run);
    CHECK(forced.argv.back() == "-force");
    CHECK(forced.stdin_text == "tok.en.sig\n");
    // A first install with FORCE=1 is a first install.
    CHECK(plan_register(f, false).what == register_plan::kind::run);
    f["force"] = "yes";
    auto bad = plan_register(f, true);
    CHECK(bad.what == register_plan::kind::fail);
    CHECK(msi_has(bad.message, "FORCE must be 0 or 1"));
    // FORCE is checked without a TOKEN too, and FORCE=1 asks for one.
    f.erase("token");
    CHECK(msi_has(plan_register(f, true).message, "FORCE must be 0 or 1"));
    f["force"] = "1";
    auto no_token = plan_register(f, true);
    CHECK(no_token.what == register_plan::kind::fail);
    CHECK(msi_has(no_token.message, "FORCE=1 needs a new TOKEN"));
    // A TOKEN not used: the PROXY_* with it are not used either, and it says so.
    f = msi_first_install();
    f["proxy_type"] = "1";
    f["proxy_addr"] = "proxy.example";
    CHECK(msi_has(plan_register(f, true).message, "PROXY_* not applied"));
  }

  TEST_CASE("an INSTALLDIR with a quote cannot add arguments to cbcs register") {
    auto f = msi_first_install();
    f["install_dir"] = "C:\\x\" -force \"y";
    auto plan = plan_register(f, true);
    CHECK(plan.what == register_plan::kind::fail);
    CHECK(msi_has(plan.message, "must be Windows paths"));
    f = msi_first_install();
    f["data_dir"] = "C:\\ProgramData\\CBCS\n";
    CHECK(plan_register(f, false).what == register_plan::kind::fail);
  }

  TEST_CASE("wrong properties fail with the property's name and no secret") {
    auto f = msi_first_install();
    f["proxy_type"] = "2";
    f["proxy_password"] = "hunter2";
    auto plan = plan_register(f, false);
    CHECK(plan.what == register_plan::kind::fail);
    CHECK(msi_has(plan.message, "PROXY_TYPE"));
    CHECK_FALSE(msi_has(plan.message, "hunter2"));
    f["proxy_type"] = "";
    plan = plan_register(f, false);
    CHECK(plan.what == register_plan::kind::fail);
    CHECK(msi_has(plan.message, "PROXY_TYPE=1"));
    f["proxy_type"] = "1";
    f["proxy_password"] = "two\nlines";
    plan = plan_register(f, false);
    CHECK(plan.what == register_plan::kind::fail);
    CHECK(msi_has(plan.message, "PROXY_PASSWORD must be one line"));
    CHECK_FALSE(msi_has(plan.message, "two"));
    f = msi_first_install();
    f["token"] = "a\nb";
    CHECK(plan_register(f, false).what == register_plan::kind::fail);
    f = msi_first_install();
    f.erase("install_dir");
    CHECK(plan_register(f, false).what == register_plan::kind::fail);
  }

  TEST_CASE("arguments are quoted as CommandLineToArgvW reads them") {
    CHECK(quote_windows_argument("plain") == "plain");
    CHECK(quote_windows_argument("") == "\"\"");
    CHECK(quote_windows_argument("a b") == "\"a b\"");
    CHECK(quote_windows_argument("C:\\Program Files\\") == "\"C:\\Program Files\\\\\"");
    CHECK(quote_windows_argument("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(quote_windows_argument("a\\\"b") == "\"a\\\\\\\"b\"");
    CHECK(quote_windows_argument("C:\\no\\space") == "C:\\no\\space");
  }

  TEST_CASE("paths and redaction") {
    CHECK(identity_path("C:\\ProgramData\\CBCS") == "C:\\ProgramData\\CBCS\\identity.json");
    CHECK(identity_path("C:\\ProgramData\\CBCS\\") == "C:\\ProgramData\\CBCS\\identity.json");
    CHECK(redact("tok and pw, tok again", {"tok", "", "pw"}) ==
          "******** and ********, ******** again");
    CHECK(redact("nothing here", {"secret"}) == "nothing here");
  }
}

TEST_SUITE("msi_register_plan") {
  TEST_CASE("log text is escaped so MSI formatting keeps it literal") {
    CHECK(escape_msi_format("arg[0]={x}") == "arg[\\[]0[\\]]=[\\{]x[\\}]");
    CHECK(escape_msi_format("plain text: 1;2") == "plain text: 1;2");
  }
}

TEST_SUITE("msi_wizard_checks") {
  using cbcs::actors::probe_result;
  using std::chrono::seconds;
  using std::chrono::sys_seconds;

  cbcs::protocol::scm::installation_token wizard_token() {
    return {.scm = "https://scm.example.com:8443",
            .ca_sha256 = std::string(64, 'a'),
            .secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
            .expires_at = sys_seconds(seconds(1893456000))};  // 2030-01-01T00:00:00Z
  }

  TEST_CASE("the token page accepts what cbcs register accepts, and says why not") {
    auto token = wizard_token();
    auto text = cbcs::protocol::scm::format_installation_token(token);
    auto before = std::chrono::system_clock::time_point(seconds(1893456000 - 3600));
    auto ok = check_token("  " + text + "\r\n", before);
    CHECK(ok.ok);
    CHECK(msi_has(ok.line, "https://scm.example.com:8443"));
    CHECK_FALSE(msi_has(ok.line, token.secret));

    auto empty = check_token(" \r\n", before);
    CHECK_FALSE(empty.ok);
    CHECK(empty.line == "Paste the installation token to go on.");

    auto damaged = text;
    damaged.back() = damaged.back() == 'A' ? 'B' : 'A';
    auto bad = check_token(damaged, before);
    CHECK_FALSE(bad.ok);
    CHECK(bad.line.starts_with("Token not accepted: "));
    CHECK_FALSE(msi_has(bad.line, token.secret));

    auto after = std::chrono::system_clock::time_point(seconds(1893456000 + 3600));
    auto expired = check_token(text, after);
    CHECK_FALSE(expired.ok);
    CHECK(msi_has(expired.line, "expired"));
  }

  TEST_CASE("Test Connection's line names the step that failed") {
    auto steps = [](std::vector<cbcs::actors::probe_step> s, bool ok) {
      return probe_result{.steps = std::move(s), .ok = ok};
    };
    CHECK(summarize_probe(
              steps({{"name resolution", true, 0, "a -> 1"},
                     {"TCP to target", true, 0, "connected"},
                     {"TLS handshake", true, 0, "certificate CN=scm, host name verified"},
                     {"HTTP reply", true, 0, "HTTP 405"}},
                    true),
              false) == "Connected to SCM (TLS peer certificate CN=scm, host name verified).");
    CHECK(summarize_probe(steps({{"TCP to proxy", true, 0, ""},
                                 {"proxy CONNECT", false, 0,
                                  "proxy authentication failed (407): check -user and -password"}},
                                false),
                          true) ==
          "The proxy refused the credentials (HTTP 407): check the username and password.");
    CHECK(summarize_probe(
              steps({{"TCP to proxy", false, 0, "cannot connect to proxy p:1: refused"}}, false),
              true) == "Proxy unreachable: cannot connect to proxy p:1: refused");
    CHECK(summarize_probe(
              steps({{"TCP to target", false, 0, "cannot connect to s:1: refused"}}, false),
              false) == "SCM unreachable: cannot connect to s:1: refused");
    CHECK(summarize_probe(
              steps({{"proxy CONNECT", false, 0, "the proxy refused s:1 with status 403"}}, false),
              true) ==
          "The proxy refused the connection to SCM: the proxy refused s:1 with "
          "status 403");
    CHECK(summarize_probe(steps({{"TLS handshake", false, 0, "certificate verify failed"}}, false),
                          true) == "TLS failure: certificate verify failed");
  }

  TEST_CASE(
      "Test Connection checks the proxy's fields as the silent path does, before connecting") {
    auto now = std::chrono::system_clock::time_point(seconds(1893456000 - 3600));
    auto text = cbcs::protocol::scm::format_installation_token(wizard_token());
    CHECK(test_connection(text, {.type = "1", .addr = "", .port = "3128"}, now) ==
          "A manual proxy needs its address and port.");
    CHECK(test_connection(text, {.type = "1", .addr = "proxy", .port = "70000"}, now) ==
          "The proxy port must be a number from 1 to 65535.");
    CHECK(test_connection(text, {.type = "1", .addr = "proxy", .port = "x"}, now) ==
          "The proxy port must be a number from 1 to 65535.");
    CHECK(test_connection(text,
                          {.type = "1", .addr = "proxy", .port = "3128", .password = "pw-secret"},
                          now) == "A password needs a username.");
    CHECK(test_connection("", {}, now).starts_with("Test Connection needs the installation token"));
  }
}
