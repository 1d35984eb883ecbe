#include "protocol/scm/installation_token.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "crypto/base64.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::protocol::scm {
namespace {

namespace dom = simdjson::dom;

constexpr std::size_t check_bytes = 6;  // 8 base64url characters
constexpr std::size_t min_secret_chars = 16;
constexpr std::size_t max_secret_chars = 512;
// 9999-12-31T23:59:59Z: beyond it the date is a mistake, not a token.
constexpr std::int64_t max_exp = 253402300799;

bool is_base64url_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Straight from seconds: system_clock's nanoseconds end in 2262, and exp may
// be as late as 9999 (converting overflowed).
std::string utc(std::chrono::sys_seconds t) { return crypto::format_utc_time(t) + "Z"; }

std::string check_of(std::string_view prefixed_payload) {
  auto digest = crypto::sha256(crypto::as_bytes(prefixed_payload));
  return base64url_encode(crypto::byte_view(digest.data(), check_bytes));
}

[[noreturn]] void fail(std::string_view what) {
  throw token_error(fmt::format("installation token {}", what));
}

// The messages name the field and the rule, never the value.
std::string field_string(dom::object obj, std::string_view key, bool required) {
  auto f = obj[key];
  if (f.error() == simdjson::NO_SUCH_FIELD || f.is_null()) {
    if (required) fail(fmt::format("has no field \"{}\"", key));
    return {};
  }
  std::string_view v;
  if (f.get_string().get(v)) fail(fmt::format("field \"{}\" must be a string", key));
  return std::string(v);
}

void validate(const installation_token& t) {
  auto origin = parse_endpoint(t.scm);
  // Only an origin: the paths below it are the protocol's.
  if (!origin || origin->scheme != "https" || origin->target != "/" ||
      t.scm.find('/', 8) != std::string::npos)
    fail("field \"scm\" must be an origin of the form https://host[:port]");
  if (!t.ca_sha256.empty() && (t.ca_sha256.size() != 64 || !is_hex(t.ca_sha256)))
    fail("field \"ca_sha256\" must be 64 hex digits");
  if (t.secret.size() < min_secret_chars || t.secret.size() > max_secret_chars ||
      !std::all_of(t.secret.begin(), t.secret.end(), is_base64url_char))
    fail(fmt::format("field \"secret\" must be {} to {} base64url characters", min_secret_chars,
                     max_secret_chars));
  auto exp = t.expires_at.time_since_epoch().count();
  if (exp <= 0 || exp > max_exp)
    fail("field \"exp\" must be a positive integer of unix seconds before the year 10000");
}

}  // namespace

std::string certificate_fingerprint(crypto::byte_view der) {
  auto digest = crypto::sha256(der);
  return crypto::to_hex(digest);
}

std::string new_token_secret() { return base64url_encode(crypto::random_bytes(32)); }

std::optional<endpoint> parse_endpoint(std::string_view url) {
  endpoint out;
  auto colon = url.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  out.scheme = lower(url.substr(0, colon));
  if (out.scheme != "https" && out.scheme != "wss") return std::nullopt;
  auto rest = url.substr(colon + 3);
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  auto tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (tail.find('#') != std::string_view::npos) return std::nullopt;
  if (authority.find('@') != std::string_view::npos) return std::nullopt;

  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        }))
      return std::nullopt;
  } else {
    auto pos = authority.find(':');
    host = authority.substr(0, pos);
    if (pos != std::string_view::npos) port = authority.substr(pos + 1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
        }))
      return std::nullopt;
  }
  if (authority.size() > 255 || host.size() > 253) return std::nullopt;
  out.host = lower(host);
  if (port.data() != nullptr) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      return std::nullopt;
    auto n = std::stoul(std::string(port));
    if (n == 0 || n > 65535) return std::nullopt;
    out.port = static_cast<std::uint16_t>(n);
  }
  if (!tail.empty()) out.target = tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
  return out;
}

std::string installation_token::describe() const {
  auto pin = ca_sha256.empty() ? std::string("the system's roots")
                               : fmt::format("CA sha256 {}...", ca_sha256.substr(0, 16));
  return fmt::format("SCM {}, trusting {}, expires {}", scm, pin, utc(expires_at));
}

std::string installation_token::registration_url() const {
  return scm + std::string(registration_path);
}

installation_token parse_installation_token(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) fail("is empty");
  if (text.size() > max_token_chars) fail(fmt::format("is over {} characters", max_token_chars));

  if (text.substr(0, token_prefix.size()) != token_prefix) {
    // "cbcs2." from a newer SCM deserves a better word than "garbage".
    auto dot = text.find('.');
    auto label = text.substr(0, dot);
    if (dot != std::string_view::npos && label.size() > 4 && label.size() <= 8 &&
        label.substr(0, 4) == "cbcs" && std::all_of(label.begin() + 4, label.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      fail(fmt::format("has version \"{}\", which this connector cannot read (it reads \"{}\")",
                       label, token_prefix.substr(0, token_prefix.size() - 1)));
    fail(fmt::format("does not start with \"{}\"", token_prefix));
  }

  auto body = text.substr(token_prefix.size());
  auto dot = body.find('.');
  if (dot == std::string_view::npos) fail("is incomplete (no check part): copy it again");
  auto payload = body.substr(0, dot);
  auto check = body.substr(dot + 1);
  if (check.find('.') != std::string_view::npos) fail("has more than three parts");
  if (payload.empty() || check.empty()) fail("is incomplete: copy it again");

  // Before anything else: a damaged token gets the one useful answer.
  auto expected = check_of(text.substr(0, token_prefix.size() + payload.size()));
  if (!crypto::equal_constant_time(crypto::as_bytes(expected), crypto::as_bytes(check)))
    fail("is damaged (its check does not match): copy it again");

  auto json = base64url_decode(payload);
  if (!json) fail("payload is not valid base64url");

  dom::parser parser;
  dom::element root;
  if (auto err = parser.parse(reinterpret_cast<const char*>(json->data()), json->size()).get(root))
    fail(fmt::format("payload is not valid JSON: {}", simdjson::error_message(err)));
  dom::object obj;
  if (root.get_object().get(obj)) fail("payload is not a JSON object");

  installation_token t;
  t.scm = field_string(obj, "scm", true);
  while (!t.scm.empty() && t.scm.back() == '/') t.scm.pop_back();
  t.ca_sha256 = lower(field_string(obj, "ca_sha256", false));
  t.secret = field_string(obj, "secret", true);
  auto exp = obj["exp"];
  if (exp.error() == simdjson::NO_SUCH_FIELD) fail("has no field \"exp\"");
  std::int64_t seconds = 0;
  if (exp.get_int64().get(seconds))
    fail("field \"exp\" must be a positive integer of unix seconds before the year 10000");
  t.expires_at = std::chrono::sys_seconds(std::chrono::seconds(seconds));
  validate(t);
  return t;
}

void check_not_expired(const installation_token& token, std::chrono::system_clock::time_point now) {
  // Compared in seconds, for the same reason as utc(); ceil keeps "later
  // than" exact.
  if (std::chrono::ceil<std::chrono::seconds>(now) > token.expires_at + token_clock_tolerance)
    throw token_error(fmt::format("installation token expired at {}: ask SCM for a new one",
                                  utc(token.expires_at)));
}

installation_token check_installation_token(std::string_view text,
                                            std::chrono::system_clock::time_point now) {
  auto token = parse_installation_token(text);
  check_not_expired(token, now);
  return token;
}

std::string format_installation_token(const installation_token& token) {
  validate(token);
  json_writer w(false);
  w.begin_object().member("scm", token.scm);
  if (!token.ca_sha256.empty()) w.member("ca_sha256", lower(token.ca_sha256));
  w.member("secret", token.secret)
      .member("exp", static_cast<std::int64_t>(token.expires_at.time_since_epoch().count()))
      .end_object();
  auto text = std::string(token_prefix) + base64url_encode(crypto::as_bytes(w.str()));
  return text + "." + check_of(text);
}

}  // namespace cbcs::protocol::scm
