#include <doctest/doctest.h>

#include <random>
#include <string>

#include "packaging/windows/msi_register/action_data.hpp"
#include "packaging/windows/msi_register/register_plan.hpp"

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
