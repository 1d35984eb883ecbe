#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "crypto/base64.hpp"
#include "crypto/sigv4.hpp"

using namespace cbcs;
namespace sigv4 = crypto::sigv4;
namespace fs = std::filesystem;

namespace {

const fs::path suite_dir =
    fs::path(CBCS_TEST_DATA) / "aws-sig-v4-test-suite" / "aws-sig-v4-test-suite";

const sigv4::credentials suite_creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                     std::nullopt};

// The example STS token of post-sts-token/readme.txt.
const std::string suite_token =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
    "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7W"
    "Z0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FD"
    "rypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::chrono::system_clock::time_point parse_amz_date(const std::string& s) {
  using namespace std::chrono;
  REQUIRE(s.size() == 16);
  auto num = [&](std::size_t pos, std::size_t len) { return std::stoi(s.substr(pos, len)); };
  auto day = sys_days{year{num(0, 4)} / month{static_cast<unsigned>(num(4, 2))} /
                      static_cast<unsigned>(num(6, 2))};
  return day + hours{num(9, 2)} + minutes{num(11, 2)} + seconds{num(13, 2)};
}

struct suite_case {
  sigv4::request req;
  std::string amz_date;
  std::string token;  // X-Amz-Security-Token of the .req, taken out of the headers
};

// A .req file: request line, headers, blank line, body. A header line that
// starts with whitespace continues the previous header; the suite's .creq
// (get-header-value-multiline) treats each continuation as one more value of
// that header, so it becomes a repeated header here.
suite_case parse_req(const std::string& text) {
  suite_case c;
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (true) {
    auto end = text.find('\n', pos);
    lines.push_back(text.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  const auto& request_line = lines.at(0);
  auto sp = request_line.find(' ');
  auto http = request_line.rfind(" HTTP/");
  c.req.method = request_line.substr(0, sp);
  auto target = request_line.substr(sp + 1, http - sp - 1);
  auto q = target.find('?');
  c.req.path = target.substr(0, q);
  if (q != std::string::npos) c.req.query = target.substr(q + 1);
  std::size_t i = 1;
  std::string last_name;
  for (; i < lines.size() && !lines[i].empty(); ++i) {
    const auto& line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      c.req.headers.emplace_back(last_name, line);
      continue;
    }
    auto colon = line.find(':');
    last_name = line.substr(0, colon);
    c.req.headers.emplace_back(last_name, line.substr(colon + 1));
  }
  for (std::size_t b = i + 1; b < lines.size(); ++b) {
    if (b > i + 1) c.req.body += '\n';
    c.req.body += lines[b];
  }
  // The signer makes these two itself, from the time and the credentials.
  std::erase_if(c.req.headers, [&](const auto& h) {
    if (iequals(h.first, "X-Amz-Date")) {
      c.amz_date = h.second;
      return true;
    }
    if (iequals(h.first, "X-Amz-Security-Token")) {
      c.token = h.second;
      return true;
    }
    return false;
  });
  return c;
}

// Two cases whose .sts/.authz were not made from their own .req/.creq: the
// .sts hash is SHA-256 of a canonical request without content-length (and,
// for the second, with "charset=utf8" instead of the .req's "charset=utf-8").
// Their .creq is checked as is; .sts/.authz are checked against a signing of
// the request those files were evidently made from.
struct known_defect {
  std::string_view reason;
  void (*adjust)(sigv4::request&);
  // The .authz lists content-length in SignedHeaders although its signature
  // was made without it: only the signature part can be compared.
  bool authz_header_list_wrong = false;
};

void drop_content_length(sigv4::request& r) {
  std::erase_if(r.headers, [](const auto& h) { return iequals(h.first, "Content-Length"); });
}

void drop_content_length_utf8(sigv4::request& r) {
  drop_content_length(r);
  for (auto& h : r.headers)
    if (iequals(h.first, "Content-Type"))
      h.second = "application/x-www-form-urlencoded; charset=utf8";
}

const std::map<std::string, known_defect, std::less<>> defects{
    {"post-x-www-form-urlencoded",
     {"suite defect: .sts/.authz sign without Content-Length although .req and .creq have it; "
      ".creq checked as is, .sts/.authz checked with Content-Length left out",
      drop_content_length}},
    {"post-x-www-form-urlencoded-parameters",
     {"suite defect: .sts/.authz sign without Content-Length and with charset=utf8 although .req "
      "and .creq have Content-Length and charset=utf-8; .creq checked as is, .sts/.authz checked "
      "with that request; its .authz names content-length in SignedHeaders but its Signature "
      "is made without it, so only the Signature is compared",
      drop_content_length_utf8, true}},
};

}  // namespace

TEST_SUITE("sigv4") {
  TEST_CASE("every case of the AWS SigV4 test suite") {
    REQUIRE_MESSAGE(fs::is_directory(suite_dir), "missing " << suite_dir);
    int cases = 0;
    int full = 0;
    for (const auto& entry : fs::recursive_directory_iterator(suite_dir)) {
      if (entry.path().extension() != ".req") continue;
      auto dir = entry.path().parent_path();
      auto name = entry.path().stem().string();
      INFO("case " << name);
      ++cases;
      auto c = parse_req(read_file(entry.path()));
      REQUIRE(!c.amz_date.empty());
      sigv4::options opts{
          .region = "us-east-1", .service = "service", .timestamp = parse_amz_date(c.amz_date)};
      auto creds = suite_creds;
      if (!c.token.empty()) creds.session_token = c.token;  // post-sts-header-before
      if (name == "post-sts-header-after") {
        // The token goes on the request after signing (see post-sts-token/readme.txt).
        creds.session_token = suite_token;
        opts.sign_security_token = false;
      }
      auto sig = sigv4::sign(c.req, creds, opts);
      auto base = dir / name;
      CHECK(sig.canonical_request == read_file(base.string() + ".creq"));
      CHECK(sig.headers_to_add.front() ==
            std::pair<std::string, std::string>("X-Amz-Date", c.amz_date));
      if (creds.session_token) {
        REQUIRE(sig.headers_to_add.size() == 2);
        CHECK(sig.headers_to_add[1].first == "X-Amz-Security-Token");
        CHECK(sig.headers_to_add[1].second == suite_token);
      }
      auto authz = read_file(base.string() + ".authz");
      if (auto d = defects.find(name); d != defects.end()) {
        MESSAGE(name << ": " << d->second.reason);
        auto adjusted = c.req;
        d->second.adjust(adjusted);
        sig = sigv4::sign(adjusted, creds, opts);
        if (d->second.authz_header_list_wrong) {
          CHECK(sig.string_to_sign == read_file(base.string() + ".sts"));
          CHECK(authz.ends_with(", Signature=" + sig.signature));
          continue;
        }
      } else {
        ++full;
      }
      CHECK(sig.string_to_sign == read_file(base.string() + ".sts"));
      CHECK(sig.authorization == authz);
    }
    // 31 cases in the 2015-08-30 suite: catch a partial copy.
    CHECK(cases == 31);
    CHECK(full == 29);
  }

  TEST_CASE("amz date and encoding helpers") {
    using namespace std::chrono;
    auto t = sys_days{2015y / August / 30} + 12h + 36min + 0s + 999ms;
    CHECK(sigv4::amz_date(t) == "20150830T123600Z");
    CHECK(sigv4::amz_date(sys_days{2024y / February / 29} + 23h + 59min + 59s) ==
          "20240229T235959Z");
    CHECK(sigv4::uri_encode("a b/c~é", false) == "a%20b/c~%C3%A9");
    CHECK(sigv4::uri_encode("a/b", true) == "a%2Fb");
    CHECK(sigv4::normalize_path("") == "/");
    CHECK(sigv4::normalize_path("/a/./b/../c/") == "/a/c/");
    CHECK(sigv4::normalize_path("/a/b/..") == "/a/");
    CHECK(sigv4::normalize_path("/../..") == "/");
    CHECK(sigv4::normalize_path("/a//b") == "/a/b");
    // The wire path is encoded once more: AWS's double encoding outside S3.
    CHECK(sigv4::canonical_uri("/a%20b", true) == "/a%2520b");
    CHECK(sigv4::canonical_uri("/a//b", false) == "/a//b");
    // Raw and percent-encoded query strings canonicalize alike.
    CHECK(sigv4::canonical_query("b=2&a=x y&a=1") == "a=1&a=x%20y&b=2");
    CHECK(sigv4::canonical_query("a=x%20y&b=%2F") == "a=x%20y&b=%2F");
    CHECK(sigv4::canonical_query("flag&&z=") == "flag=&z=");
    CHECK(sigv4::canonical_query("p=a+b") == "p=a%2Bb");
    auto [block, names] = sigv4::canonical_headers(
        {{"Host", "h"}, {"X-B", "  two   words \t here "}, {"x-a", "1"}, {"X-A", "2"}});
    CHECK(block == "host:h\nx-a:1,2\nx-b:two words here\n");
    CHECK(names == "host;x-a;x-b");
  }

  TEST_CASE("the session token is signed by default and the signer refuses its own headers") {
    sigv4::request req;
    req.method = "POST";
    req.headers = {{"Host", "acm-pca.eu-west-1.amazonaws.com"}};
    auto creds = suite_creds;
    creds.session_token = "TOKEN123";
    sigv4::options opts{.region = "eu-west-1", .service = "acm-pca", .timestamp = {}};
    auto sig = sigv4::sign(req, creds, opts);
    CHECK(sig.signed_headers == "host;x-amz-date;x-amz-security-token");
    CHECK(sig.canonical_request.find("x-amz-security-token:TOKEN123\n") != std::string::npos);
    CHECK(sig.credential_scope == "19700101/eu-west-1/acm-pca/aws4_request");
    CHECK(sig.authorization.find(suite_creds.secret_access_key) == std::string::npos);

    auto with = [&](std::string name) {
      auto r = req;
      r.headers.emplace_back(name, "x");
      return r;
    };
    CHECK_THROWS_AS(sigv4::sign(with("x-amz-date"), creds, opts), std::invalid_argument);
    CHECK_THROWS_AS(sigv4::sign(with("Authorization"), creds, opts), std::invalid_argument);
    CHECK_THROWS_AS(sigv4::sign(with("X-Amz-Security-Token"), creds, opts), std::invalid_argument);
    sigv4::request no_host;
    CHECK_THROWS_AS(sigv4::sign(no_host, creds, opts), std::invalid_argument);
  }

  TEST_CASE("base64") {
    auto enc = [](std::string_view s) { return crypto::base64_encode(crypto::as_bytes(s)); };
    auto dec = [](std::string_view s) -> std::optional<std::string> {
      auto b = crypto::base64_decode(s);
      if (!b) return std::nullopt;
      return std::string(crypto::as_chars(*b));
    };
    // RFC 4648 §10 vectors.
    CHECK(enc("") == "");
    CHECK(enc("f") == "Zg==");
    CHECK(enc("fo") == "Zm8=");
    CHECK(enc("foo") == "Zm9v");
    CHECK(enc("foob") == "Zm9vYg==");
    CHECK(enc("fooba") == "Zm9vYmE=");
    CHECK(enc("foobar") == "Zm9vYmFy");
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) CHECK(dec(enc(s)) == s);
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(dec(enc(all)) == all);
    CHECK(enc("\xfb\xff") == "+/8=");
    // Bad input.
    CHECK_FALSE(dec("Zg="));   // length not a multiple of 4
    CHECK_FALSE(dec("Zg=a"));  // padding in the middle
    CHECK_FALSE(dec("Z==="));  // too much padding
    CHECK_FALSE(dec("=Zg="));
    CHECK_FALSE(dec("Zm9v\nYg=="));  // whitespace
    CHECK_FALSE(dec("Zm-v"));        // URL-safe alphabet
    CHECK_FALSE(dec("Zh=="));        // non-zero bits under the padding
    CHECK_FALSE(dec("Zm9="));
    CHECK(dec("Zm8=") == "fo");
  }
}
