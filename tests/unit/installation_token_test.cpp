#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "protocol/scm/installation_token.hpp"
#include "test_pki.hpp"

namespace scm = cbcs::protocol::scm;
namespace crypto = cbcs::crypto;
using std::chrono::seconds;
using std::chrono::sys_seconds;

namespace {

const std::string token_secret =
    "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3t";  // 42 base64url chars
const std::string pin = "3f2a9c0b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3";

scm::installation_token sample() {
  return {.scm = "https://scm.example.com:8443",
          .ca_sha256 = pin,
          .secret = token_secret,
          .expires_at = sys_seconds(seconds(1893456000))};  // 2030-01-01T00:00:00Z
}

// A token around any payload text, built from the format's definition
// (not from format_installation_token), so the check is tested as specified.
std::string wrap(std::string_view payload_json) {
  auto text = "cbcs1." + scm::base64url_encode(crypto::as_bytes(payload_json));
  auto digest = crypto::sha256(crypto::as_bytes(text));
  return text + "." + scm::base64url_encode(crypto::byte_view(digest.data(), 6));
}

// Parsing must fail; the message must not leak the secret or the token.
std::string refusal(const std::string& token) {
  try {
    (void)scm::parse_installation_token(token);
  } catch (const scm::token_error& e) {
    std::string what = e.what();
    CHECK(what.rfind("installation token ", 0) == 0);
    CHECK(what.find('\n') == std::string::npos);
    CHECK(what.find(token_secret) == std::string::npos);
    CHECK(what.find(token_secret.substr(0, 8)) == std::string::npos);
    if (token.size() > 12) CHECK(what.find(token.substr(6, 12)) == std::string::npos);
    return what;
  }
  FAIL("accepted: " << token.size() << " characters");
  return {};
}

}  // namespace

TEST_SUITE("installation token") {
  TEST_CASE("format and parse round trip") {
    auto text = scm::format_installation_token(sample());
    CHECK(text.rfind("cbcs1.", 0) == 0);
    CHECK(std::count(text.begin(), text.end(), '.') == 2);
    CHECK(text.substr(text.rfind('.') + 1).size() == 8);
    auto t = scm::parse_installation_token(text);
    CHECK(t.scm == "https://scm.example.com:8443");
    CHECK(t.ca_sha256 == pin);
    CHECK(t.secret == token_secret);
    CHECK(t.expires_at == sys_seconds(seconds(1893456000)));
    CHECK(t.registration_url() == "https://scm.example.com:8443/api/connector/v1/register");
    // Pasted with a newline or blanks around it.
    CHECK(scm::parse_installation_token("  " + text + "\r\n").secret == token_secret);
    // The same token, byte for byte, from the definition of the format.
    CHECK(text == wrap(R"({"scm":"https://scm.example.com:8443","ca_sha256":")" + pin +
                       R"(","secret":")" + token_secret + R"(","exp":1893456000})"));
  }

  TEST_CASE("describe says where and until when, never the secret") {
    auto d = sample().describe();
    CHECK(d ==
          "SCM https://scm.example.com:8443, trusting CA sha256 3f2a9c0b8e7d6c5b..., "
          "expires 2030-01-01T00:00:00Z");
    auto unpinned = sample();
    unpinned.ca_sha256.clear();
    CHECK(cbcs::test::contains(unpinned.describe(), "trusting the system's roots"));
    CHECK_FALSE(cbcs::test::contains(unpinned.describe(), token_secret));
  }

  TEST_CASE("the pin is optional, case-insensitive, and the scm origin is normalised") {
    auto t = scm::parse_installation_token(
        wrap(R"({"scm":"https://scm.example.com/","secret":")" + token_secret + R"(","exp":1})"));
    CHECK(t.ca_sha256.empty());
    CHECK(t.scm == "https://scm.example.com");
    std::string upper = pin;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    t = scm::parse_installation_token(wrap(R"({"scm":"https://[::1]:8443","ca_sha256":")" + upper +
                                           R"(","secret":")" + token_secret +
                                           R"(","exp":1,"kind":"restore","future":[1]})"));
    CHECK(t.ca_sha256 == pin);
    CHECK(t.scm == "https://[::1]:8443");
  }

  TEST_CASE("any single changed character is refused without leaking") {
    auto text = scm::format_installation_token(sample());
    const std::string alphabet = "AZaz09-_.=+/ ";
    int refused = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      for (char c : alphabet) {
        if (text[i] == c) continue;
        auto tampered = text;
        tampered[i] = c;
        // A blank at either end is trimmed; that is the same token.
        if (c == ' ' && (i == 0 || i + 1 == text.size())) continue;
        CAPTURE(i);
        refusal(tampered);
        ++refused;
      }
    }
    CHECK(refused > 1000);
    // Changing the secret inside a well-formed payload is caught by the check.
    auto other = text;
    auto pos = other.size() - 20;
    other[pos] = other[pos] == 'A' ? 'B' : 'A';
    CHECK(cbcs::test::contains(refusal(other), "damaged"));
  }

  TEST_CASE("every truncation is refused without leaking") {
    auto text = scm::format_installation_token(sample());
    for (std::size_t n = 0; n < text.size(); ++n) {
      CAPTURE(n);
      refusal(text.substr(0, n));
    }
    CHECK(refusal(text.substr(0, text.rfind('.'))) ==
          "installation token is incomplete (no check part): copy it again");
  }

  TEST_CASE("garbage and other versions") {
    CHECK(refusal("") == "installation token is empty");
    CHECK(refusal(" \n\t") == "installation token is empty");
    CHECK(refusal("hello") == "installation token does not start with \"cbcs1.\"");
    CHECK(refusal("CBCS1.abc.def") == "installation token does not start with \"cbcs1.\"");
    CHECK(refusal("eyJhbGciOiJIUzI1NiJ9.e30.sig") ==
          "installation token does not start with \"cbcs1.\"");
    CHECK(refusal("cbcs2.abc.def") ==
          "installation token has version \"cbcs2\", which this connector cannot read "
          "(it reads \"cbcs1\")");
    CHECK(refusal("cbcs1.") == "installation token is incomplete (no check part): copy it again");
    CHECK(refusal("cbcs1..") == "installation token is incomplete: copy it again");
    CHECK(refusal("cbcs1.a.b.c") == "installation token has more than three parts");
    CHECK(refusal("cbcs1.!!!!.AAAAAAAA") ==
          "installation token is damaged (its check does not match): copy it again");
    CHECK(refusal(std::string(5000, 'A')) == "installation token is over 4096 characters");
    std::string binary = "cbcs1.";
    for (int i = 0; i < 256; ++i) binary += static_cast<char>(i);
    refusal(binary + ".AAAAAAAA");
  }

  TEST_CASE("a correct check around a bad payload: each field's rule") {
    auto s = [](std::string body) { return wrap(body); };
    const std::string good_secret = R"("secret":")" + token_secret + R"(")";
    // The check matches, but the payload is not base64url JSON.
    {
      std::string text = "cbcs1.@@@@";
      auto digest = crypto::sha256(crypto::as_bytes(text));
      text += "." + scm::base64url_encode(crypto::byte_view(digest.data(), 6));
      CHECK(refusal(text) == "installation token payload is not valid base64url");
    }
    CHECK(cbcs::test::contains(refusal(s("{not json")), "payload is not valid JSON"));
    CHECK(refusal(s("[1,2]")) == "installation token payload is not a JSON object");
    CHECK(refusal(s("{" + good_secret + R"(,"exp":1})")) ==
          "installation token has no field \"scm\"");
    CHECK(refusal(s(R"({"scm":"https://h",)" + good_secret + "}")) ==
          "installation token has no field \"exp\"");
    CHECK(refusal(s(R"({"scm":"https://h","exp":1})")) ==
          "installation token has no field \"secret\"");

    const std::string origin_rule =
        "installation token field \"scm\" must be an origin of the form https://host[:port]";
    for (std::string scm_url :
         {"http://h", "wss://h", "https://", "https://h/path", "https://h?x=1", "https://h#f",
          "https://user:pw@h", "https://h:0", "https://h:65536", "https://h:", "https://h:8a",
          "https://h_x", "h", "https://[::1", "https://[zz]"}) {
      CAPTURE(scm_url);
      CHECK(refusal(s(R"({"scm":")" + scm_url + R"(",)" + good_secret + R"(,"exp":1})")) ==
            origin_rule);
    }
    CHECK(refusal(s(R"({"scm":42,)" + good_secret + R"(,"exp":1})")) ==
          "installation token field \"scm\" must be a string");

    for (std::string bad_pin : {std::string("abc"), pin + "00", pin.substr(0, 63) + "g"}) {
      CHECK(refusal(s(R"({"scm":"https://h","ca_sha256":")" + bad_pin + R"(",)" + good_secret +
                      R"(,"exp":1})")) ==
            "installation token field \"ca_sha256\" must be 64 hex digits");
    }

    const std::string secret_rule =
        "installation token field \"secret\" must be 16 to 512 base64url characters";
    for (std::string bad_secret : {std::string("short"), token_secret + "+", token_secret + "=",
                                   token_secret + " ", std::string(513, 'a'), std::string("")}) {
      CHECK(refusal(s(R"({"scm":"https://h","secret":")" + bad_secret + R"(","exp":1})")) ==
            secret_rule);
    }
    CHECK(refusal(s(R"({"scm":"https://h","secret":["x"],"exp":1})")) ==
          "installation token field \"secret\" must be a string");

    const std::string exp_rule =
        "installation token field \"exp\" must be a positive integer of unix seconds before the "
        "year 10000";
    for (std::string exp :
         {"0", "-1", "1.5", "\"1893456000\"", "null", "253402300800", "18446744073709551615"}) {
      CAPTURE(exp);
      CHECK(refusal(s(R"({"scm":"https://h",)" + good_secret + R"(,"exp":)" + exp + "}")) ==
            exp_rule);
    }
  }

  TEST_CASE("expiry is checked against the clock, with five minutes of tolerance") {
    auto t = sample();
    CHECK_NOTHROW(scm::check_not_expired(t, t.expires_at - seconds(3600)));
    CHECK_NOTHROW(scm::check_not_expired(t, t.expires_at));
    CHECK_NOTHROW(scm::check_not_expired(t, t.expires_at + scm::token_clock_tolerance));
    try {
      scm::check_not_expired(t, t.expires_at + scm::token_clock_tolerance + seconds(1));
      FAIL("not expired");
    } catch (const scm::token_error& e) {
      CHECK(std::string(e.what()) ==
            "installation token expired at 2030-01-01T00:00:00Z: ask SCM for a new one");
    }
  }

  TEST_CASE("an expiry after 2262 is described and checked without overflow") {
    // Found by fuzz_installation_token (corpus/installation_token/exp_after_2262.json):
    // utc() and check_not_expired went through system_clock's nanoseconds,
    // which end in 2262, while exp may be as late as 9999 (UBSan: overflow).
    auto t = scm::parse_installation_token(
        wrap(R"({"scm":"https://h","secret":")" + token_secret + R"(","exp":253402300799})"));
    CHECK(cbcs::test::contains(t.describe(), "expires 9999-12-31T23:59:59Z"));
    CHECK_NOTHROW(scm::check_not_expired(t, std::chrono::system_clock::now()));
    CHECK_NOTHROW(scm::check_not_expired(t, std::chrono::system_clock::time_point::max()));
    t.expires_at = sys_seconds(seconds(253401150400));
    CHECK(cbcs::test::contains(t.describe(), "expires 9999-"));
    // Sub-second precision of the clock still counts.
    auto s = sample();
    CHECK_THROWS_AS(scm::check_not_expired(s, s.expires_at + scm::token_clock_tolerance +
                                                  std::chrono::milliseconds(1)),
                    scm::token_error);
  }

  TEST_CASE("format refuses what parse would refuse") {
    auto t = sample();
    t.secret = "short";
    CHECK_THROWS_AS(scm::format_installation_token(t), scm::token_error);
    t = sample();
    t.scm = "https://h/x";
    CHECK_THROWS_AS(scm::format_installation_token(t), scm::token_error);
    t = sample();
    t.expires_at = sys_seconds(seconds(0));
    CHECK_THROWS_AS(scm::format_installation_token(t), scm::token_error);
  }

  TEST_CASE("fresh secrets are long, base64url and distinct") {
    std::set<std::string> seen;
    for (int i = 0; i < 16; ++i) {
      auto s = scm::new_token_secret();
      CHECK(s.size() == 43);
      CHECK(scm::base64url_decode(s).has_value());
      seen.insert(s);
      auto t = sample();
      t.secret = s;
      CHECK(scm::parse_installation_token(scm::format_installation_token(t)).secret == s);
    }
    CHECK(seen.size() == 16);
  }

  TEST_CASE("base64url (RFC 4648 section 10 vectors, no padding, strict)") {
    auto enc = [](std::string_view s) { return scm::base64url_encode(crypto::as_bytes(s)); };
    CHECK(enc("") == "");
    CHECK(enc("f") == "Zg");
    CHECK(enc("fo") == "Zm8");
    CHECK(enc("foo") == "Zm9v");
    CHECK(enc("foob") == "Zm9vYg");
    CHECK(enc("fooba") == "Zm9vYmE");
    CHECK(enc("foobar") == "Zm9vYmFy");
    const std::uint8_t raw[] = {0xfb, 0xff, 0xbf};
    CHECK(scm::base64url_encode(raw) == "-_-_");
    auto back = scm::base64url_decode("-_-_");
    REQUIRE(back);
    CHECK(*back == crypto::bytes(raw, raw + 3));
    CHECK(crypto::as_chars(*scm::base64url_decode("Zm9vYmE")) == "fooba");
    CHECK(crypto::as_chars(*scm::base64url_decode("Zm8")) == "fo");
    // "Zh" and "Zm9" carry stray bits under the missing padding.
    for (std::string_view bad : {"Zg==", "+/+/", "Z", "Zm9vY", "Zh", "Zm9", "Zm!v"}) {
      CAPTURE(bad);
      CHECK_FALSE(scm::base64url_decode(bad).has_value());
    }
  }

  TEST_CASE("certificate fingerprints are lower-case hex SHA-256") {
    CHECK(scm::certificate_fingerprint(crypto::as_bytes("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  TEST_CASE("endpoints split for dialing") {
    auto e = scm::parse_endpoint("wss://SCM.example.com:8443/api/connector/v1/session?x=1");
    REQUIRE(e);
    CHECK(e->scheme == "wss");
    CHECK(e->host == "scm.example.com");
    CHECK(e->port == 8443);
    CHECK(e->target == "/api/connector/v1/session?x=1");
    e = scm::parse_endpoint("https://scm");
    REQUIRE(e);
    CHECK(e->port == 443);
    CHECK(e->target == "/");
    e = scm::parse_endpoint("https://[::1]:9443?q");
    REQUIRE(e);
    CHECK(e->host == "::1");
    CHECK(e->port == 9443);
    CHECK(e->target == "/?q");
    e = scm::parse_endpoint("wss://127.0.0.1:1/");
    REQUIRE(e);
    CHECK(e->host == "127.0.0.1");
    for (std::string_view bad :
         {"", "scm", "http://scm", "ws://scm", "ftp://scm", "https://", "https://:443",
          "https://u@scm", "https://scm:", "https://scm:99999", "https://scm:-1", "https://scm/#x",
          "https://sc m", "https://[::1", "https://[::1]x"}) {
      CAPTURE(bad);
      CHECK_FALSE(scm::parse_endpoint(bad).has_value());
    }
  }
}
