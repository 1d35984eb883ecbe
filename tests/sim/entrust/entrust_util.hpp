#pragma once
// Small helpers of the Entrust simulator's files (named namespace: cbcs-sim
// builds as unity batches).

#include <openssl/pem.h>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/openssl_types.hpp"
#include "crypto/base64.hpp"

namespace cbcs::sim::entrust::util {

namespace dom = simdjson::dom;

inline bool parse_object(dom::parser& p, const std::string& body, dom::object& out) {
  dom::element e;
  if (p.parse(body).get(e)) return false;
  return !e.get_object().get(out);
}

inline std::string str_of(dom::object o, std::string_view key) {
  std::string_view s;
  if (o[key].get_string().get(s)) return {};
  return std::string(s);
}

// true, or the string "true": Entrust's ansible module sends
// validateOnly and ctLog as the strings 'true' / 'false' [A].
inline bool bool_of(dom::object o, std::string_view key) {
  bool b = false;
  std::string_view s;
  if (!o[key].get_string().get(s)) return s == "true";
  return !o[key].get_bool().get(b) && b;
}

inline bool has(dom::object o, std::string_view key) {
  dom::element e;
  return !o[key].get(e) && !e.is_null();
}

// RFC 3339 in UTC, as ECS writes its date-times [KF Certificate.cs].
inline std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "YYYY-MM-DD" as midnight UTC. With a time ("...THH:MM:SS[.f](Z|+hh:mm)")
// and eastern: the date that time falls on in US Eastern (UTC-5), as ECS
// reads certExpiryDate: "If you choose to specify an expiry time with the
// expiry date, the time will be adjusted to Eastern Standard Time (EST).
// This could have the unintended effect of moving your expiry date to the
// previous day." [A, cert_expiry].
inline std::optional<std::chrono::system_clock::time_point> parse_date(std::string_view s,
                                                                       bool eastern = false) {
  using namespace std::chrono;
  unsigned y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0;
  if (s.size() < 10 || std::sscanf(std::string(s.substr(0, 10)).c_str(), "%4u-%2u-%2u", &y, &m, &d) != 3)
    return std::nullopt;
  year_month_day ymd{year(int(y)), month(m), day(d)};
  if (!ymd.ok()) return std::nullopt;
  sys_seconds t = sys_days(ymd);
  if (!eastern || s.size() < 19 || (s[10] != 'T' && s[10] != 't')) return t;
  if (std::sscanf(std::string(s.substr(11, 8)).c_str(), "%2u:%2u:%2u", &hh, &mm, &ss) != 3)
    return std::nullopt;
  t += hours(hh) + minutes(mm) + seconds(ss);
  auto zone = s.find_first_of("+-Zz", 19);
  if (zone != std::string_view::npos && s[zone] != 'Z' && s[zone] != 'z' && s.size() >= zone + 6) {
    unsigned oh = 0, om = 0;
    if (std::sscanf(std::string(s.substr(zone + 1, 5)).c_str(), "%2u:%2u", &oh, &om) == 2)
      t += (s[zone] == '+' ? -1 : 1) * (hours(oh) + minutes(om));
  }
  return floor<days>(t - hours(5));
}

// An ISO 8601 duration (P1Y, P90D, P1Y6M, PT60M, P2W); years of 365 days,
// months of 30. nullopt when not one.
inline std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return std::nullopt;
  std::int64_t total = 0, n = 0;
  bool time = false, digits = false;
  for (char c : s.substr(1)) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      digits = true;
      if (n > 100000000) return std::nullopt;
      continue;
    }
    if (c == 'T') {
      time = true;
      continue;
    }
    if (!digits) return std::nullopt;
    std::int64_t unit = 0;
    switch (c) {
      case 'Y': unit = 365 * 86400; break;
      case 'M': unit = time ? 60 : 30 * 86400; break;
      case 'W': unit = 7 * 86400; break;
      case 'D': unit = 86400; break;
      case 'H': unit = 3600; break;
      case 'S': unit = 1; break;
      default: return std::nullopt;
    }
    total += n * unit;
    n = 0;
    digits = false;
  }
  if (digits || total <= 0) return std::nullopt;
  return std::chrono::seconds(total);
}

// A CSR in PEM, or its DER in base64 without the armour (the CA Gateway's
// form: cagw-vault-plugin op_sign.go sends base64.StdEncoding of the DER).
inline crypto::x509_req_ptr read_csr(const std::string& text) {
  std::string pem = text;
  if (pem.find("-----BEGIN") == std::string::npos) {
    std::string wrapped = "-----BEGIN CERTIFICATE REQUEST-----\n";
    for (std::size_t i = 0; i < text.size(); i += 64) wrapped += text.substr(i, 64) + "\n";
    pem = wrapped + "-----END CERTIFICATE REQUEST-----\n";
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  crypto::x509_req_ptr req(PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (req && X509_REQ_verify(req.get(), X509_REQ_get0_pubkey(req.get())) != 1) req.reset();
  return req;
}

inline std::string common_name(X509_NAME* name) {
  char buf[256] = {};
  if (X509_NAME_get_text_by_NID(name, NID_commonName, buf, sizeof buf) < 0) return {};
  return buf;
}

}  // namespace cbcs::sim::entrust::util
