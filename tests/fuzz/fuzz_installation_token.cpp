// protocol::scm::parse_installation_token, the text `cbcs register -token T`
// reads, and what it is built on: base64url_decode and parse_endpoint. The
// token either throws token_error, one printable line made only of the
// parser's own words (so no part of the token shows), or gives fields that
// format_installation_token writes and that parse back equal.
//
// First byte odd: the rest is the JSON payload, and the harness makes the
// token around it (prefix, base64url, the right check), so the fuzzer gets
// past the check to the fields. Even: the rest is the token text as is.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"
#include "crypto/digest.hpp"
#include "fuzz_check.hpp"
#include "fuzz_words.hpp"
#include "protocol/scm/installation_token.hpp"

namespace {

using namespace cbcs;
namespace scm = protocol::scm;

std::string wrap(std::string_view payload_json) {
  auto text =
      std::string(scm::token_prefix) + scm::base64url_encode(crypto::as_bytes(payload_json));
  auto digest = crypto::sha256(crypto::as_bytes(text));
  return text + "." + scm::base64url_encode(crypto::byte_view(digest.data(), 6));
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

// A "cbcsN" version label is the one piece of a token an error quotes.
bool version_label(std::string_view s) {
  return s.size() > 4 && s.substr(0, 4) == "cbcs" &&
         std::all_of(s.begin() + 4, s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The words of the parser's messages; a message holds only these, numbers,
// a "cbcsN" version label and the words of simdjson's messages.
constexpr std::string_view vocabulary =
    "installation token is empty is over characters has version which this connector cannot read "
    "it reads cbcs1 does not start with incomplete no check part copy again more than three parts "
    "damaged its match payload not valid base64url JSON a object field must be string scm an "
    "origin of the form https host port ca_sha256 hex digits secret to characters exp positive "
    "integer unix seconds before year";

const fuzz::word_set& known_words() {
  static const auto words = fuzz::words_with_simdjson(vocabulary);
  return words;
}

bool same(const scm::installation_token& a, const scm::installation_token& b) {
  return a.scm == b.scm && a.ca_sha256 == b.ca_sha256 && a.secret == b.secret &&
         a.expires_at == b.expires_at;
}

void token(std::string_view text) {
  scm::installation_token t;
  try {
    t = scm::parse_installation_token(text);
  } catch (const scm::token_error& e) {
    std::string_view what = e.what();
    fuzz::check(what.starts_with("installation token "), "message does not say what it is about",
                what);
    fuzz::check(printable(what), "message is not one printable line", what);
    fuzz::check(what.size() <= 200, "message too long (does it carry a value?)", what);
    // Whatever the token held, none of it shows (a "cbcsN" label aside).
    auto rest = std::string(what);
    for (auto at = rest.find("\"cbcs"); at != std::string::npos; at = rest.find("\"cbcs", at + 1))
      if (auto end = rest.find('"', at + 1);
          end != std::string::npos && version_label(rest.substr(at + 1, end - at - 1)))
        rest.erase(at, end - at + 1);
    fuzz::check(fuzz::stranger_word(rest, known_words()).empty(),
                "message holds a word that is not the parser's own", what);
    return;
  } catch (const std::exception& e) {
    fuzz::fail("parse_installation_token threw something other than token_error", e.what());
  }
  auto origin = scm::parse_endpoint(t.scm);
  fuzz::check(origin && origin->scheme == "https" && origin->target == "/",
              "scm is not an https origin", t.scm);
  fuzz::check(t.ca_sha256.empty() ||
                  (t.ca_sha256.size() == 64 &&
                   std::all_of(t.ca_sha256.begin(), t.ca_sha256.end(),
                               [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); })),
              "ca_sha256 is not 64 lower-case hex digits", t.ca_sha256);
  fuzz::check(t.secret.size() >= 16 && t.secret.size() <= 512, "secret of a wrong length");
  fuzz::check(t.expires_at.time_since_epoch().count() > 0, "exp not positive");
  // (Unless the token's author put it into scm or the pin as well.)
  fuzz::check(t.describe().find(t.secret) == std::string::npos ||
                  t.scm.find(t.secret) != std::string::npos ||
                  t.ca_sha256.find(t.secret) != std::string::npos,
              "describe() shows the secret");
  fuzz::check(t.registration_url().starts_with(t.scm), "registration URL not under scm");
  try {
    scm::check_not_expired(t, std::chrono::system_clock::now());
  } catch (const scm::token_error& e) {
    fuzz::check(std::string_view(e.what()).starts_with("installation token expired at "),
                "expiry message", e.what());
  }
  std::string formatted;
  try {
    formatted = scm::format_installation_token(t);
  } catch (const std::exception& e) {
    fuzz::fail("a parsed token does not format", e.what());
  }
  scm::installation_token back;
  try {
    back = scm::parse_installation_token(formatted);
  } catch (const std::exception& e) {
    fuzz::fail("a formatted token does not parse", e.what());
  }
  fuzz::check(same(t, back), "token round trip changed a field", formatted);
  fuzz::check(scm::format_installation_token(back) == formatted, "token text is not stable");
}

void base64url(std::string_view text) {
  if (auto bytes = scm::base64url_decode(text))
    fuzz::check(scm::base64url_encode(*bytes) == text, "base64url accepted a non-canonical text");
  auto encoded = scm::base64url_encode(crypto::as_bytes(text));
  auto decoded = scm::base64url_decode(encoded);
  fuzz::check(decoded && std::string_view(reinterpret_cast<const char*>(decoded->data()),
                                          decoded->size()) == text,
              "base64url round trip failed");
}

void endpoint(std::string_view url) {
  auto ep = scm::parse_endpoint(url);
  if (!ep) return;
  fuzz::check(ep->scheme == "https" || ep->scheme == "wss", "endpoint of another scheme");
  fuzz::check(!ep->host.empty() && ep->port > 0, "endpoint without host or port");
  fuzz::check(ep->target.starts_with("/") && ep->target.find('#') == std::string::npos,
              "target is not a path and query", ep->target);
  fuzz::check(std::none_of(ep->host.begin(), ep->host.end(),
                           [](unsigned char c) { return std::isupper(c) || c == '[' || c == ']'; }),
              "host not lower case or with brackets", ep->host);
  // Written back as a URL, it reads the same.
  auto host = ep->host.find(':') == std::string::npos ? ep->host : "[" + ep->host + "]";
  auto port = ep->port == 443 ? std::string() : ":" + std::to_string(ep->port);
  auto again = scm::parse_endpoint(ep->scheme + "://" + host + port + ep->target);
  fuzz::check(again && again->scheme == ep->scheme && again->host == ep->host &&
                  again->port == ep->port && again->target == ep->target,
              "endpoint does not read back", url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto rest = fuzz::as_text(data + 1, size - 1);
  if (data[0] & 1) {
    token(wrap(rest));
  } else {
    token(rest);
    base64url(rest);
    endpoint(rest);
  }
  return 0;
}
