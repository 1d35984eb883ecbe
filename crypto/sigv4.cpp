#include "crypto/sigv4.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "crypto/digest.hpp"

namespace cbcs::crypto::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes valid %XX escapes and leaves anything else as it is, so raw and
// already-encoded query strings canonicalize alike.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Trims and collapses every run of whitespace to one space.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string hex_sha256(std::string_view data) { return to_hex(sha256(as_bytes(data))); }

sha256_digest hmac(byte_view key, std::string_view data) {
  return hmac_sha256(key, as_bytes(data));
}

}  // namespace

std::string amz_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto day = floor<days>(secs);
  year_month_day ymd{day};
  hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0x0f];
    }
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    auto end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    auto seg = path.substr(pos, end - pos);
    bool last = end == path.size();
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = true;
    } else if (seg.empty() || seg == ".") {
      trailing_slash = true;  // "/a/" and "/a/." both end in a directory
    } else {
      segments.push_back(seg);
      trailing_slash = false;
    }
    if (last) break;
    pos = end + 1;
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  return uri_encode(normalize ? normalize_path(path) : std::string(path), false);
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    auto end = query.find('&', pos);
    if (end == std::string_view::npos) end = query.size();
    auto pair = query.substr(pos, end - pos);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto key = pair.substr(0, eq);
      auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      params.emplace_back(uri_encode(percent_decode(key), true),
                          uri_encode(percent_decode(value), true));
    }
    if (end == query.size()) break;
    pos = end + 1;
  }
  // By encoded name, then by encoded value for repeated names.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

std::pair<std::string, std::string> canonical_headers(const header_list& headers) {
  std::map<std::string, std::string> merged;  // std::string orders bytewise, as AWS sorts
  for (const auto& [name, value] : headers) {
    auto key = lower(canonical_value(name));
    auto [it, fresh] = merged.try_emplace(key, canonical_value(value));
    if (!fresh) it->second += ',' + canonical_value(value);
  }
  std::string block;
  std::string names;
  for (const auto& [name, value] : merged) {
    block += name;
    block += ':';
    block += value;
    block += '\n';
    if (!names.empty()) names += ';';
    names += name;
  }
  return {block, names};
}

signature sign(const request& req, const credentials& creds, const options& opts) {
  bool has_host = false;
  for (const auto& [name, value] : req.headers) {
    auto n = lower(name);
    if (n == "host") has_host = true;
    if (n == "x-amz-date" || n == "authorization" || n == "x-amz-security-token")
      throw std::invalid_argument("SigV4: the request must not carry " + name +
                                  " (the signer adds it)");
  }
  if (!has_host) throw std::invalid_argument("SigV4: the request has no Host header");

  signature out;
  auto date_time = amz_date(opts.timestamp);
  auto date = date_time.substr(0, 8);
  out.headers_to_add.emplace_back("X-Amz-Date", date_time);
  bool token = creds.session_token && !creds.session_token->empty();
  if (token) out.headers_to_add.emplace_back("X-Amz-Security-Token", *creds.session_token);

  header_list to_sign = req.headers;
  to_sign.emplace_back("X-Amz-Date", date_time);
  if (token && opts.sign_security_token)
    to_sign.emplace_back("X-Amz-Security-Token", *creds.session_token);
  auto [header_block, signed_headers] = canonical_headers(to_sign);
  out.signed_headers = signed_headers;

  out.canonical_request = req.method + '\n' + canonical_uri(req.path, opts.normalize_path) + '\n' +
                          canonical_query(req.query) + '\n' + header_block + '\n' + signed_headers +
                          '\n' + hex_sha256(req.body);

  out.credential_scope = date + '/' + opts.region + '/' + opts.service + "/aws4_request";
  out.string_to_sign = std::string(algorithm) + '\n' + date_time + '\n' + out.credential_scope +
                       '\n' + hex_sha256(out.canonical_request);

  std::string secret = "AWS4" + creds.secret_access_key;
  auto k_date = hmac(as_bytes(secret), date);
  OPENSSL_cleanse(secret.data(), secret.size());
  auto k_region = hmac(k_date, opts.region);
  auto k_service = hmac(k_region, opts.service);
  auto k_signing = hmac(k_service, "aws4_request");
  out.signature = to_hex(hmac(k_signing, out.string_to_sign));
  OPENSSL_cleanse(k_signing.data(), k_signing.size());

  out.authorization = std::string(algorithm) + " Credential=" + creds.access_key_id + '/' +
                      out.credential_scope + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

}  // namespace cbcs::crypto::sigv4
