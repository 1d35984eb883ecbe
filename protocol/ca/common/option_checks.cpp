#include "protocol/ca/common/option_checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "crypto/pem.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/common/rate_limits.hpp"

namespace cbcs::protocol::ca {

namespace {

// localhost, [::1] or an IPv4 address in 127.0.0.0/8: not a name such as
// 127.example.com, which could resolve anywhere.
bool loopback_host(std::string_view authority) {
  if (authority.starts_with("[::1]")) return authority.size() == 5 || authority[5] == ':';
  auto host = authority.substr(0, authority.find(':'));
  if (host == "localhost") return true;
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  std::size_t run = 0;
  for (char c : host) {
    if (c == '.') {
      if (run == 0 || run > 3) return false;
      ++dots;
      run = 0;
    } else if (c >= '0' && c <= '9') {
      ++run;
    } else {
      return false;
    }
  }
  return dots == 3 && run > 0 && run <= 3;
}

}  // namespace

std::string check_https_url(std::string_view value) {
  auto scheme_end = value.find("://");
  if (scheme_end == std::string_view::npos) return "must be a URL such as https://host[:port]/path";
  auto scheme = value.substr(0, scheme_end);
  auto rest = value.substr(scheme_end + 3);
  auto host_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, host_end);
  // Plain http is allowed only for loopback simulators; TLS is the rule.
  if (scheme != "https" && !(scheme == "http" && loopback_host(authority)))
    return "must use https (http is accepted only for loopback addresses)";
  if (authority.empty() || authority.starts_with(':')) return "has no host name";
  if (authority.find('@') != std::string_view::npos) return "must not carry credentials in the URL";
  auto bad = std::find_if(value.begin(), value.end(),
                          [](unsigned char c) { return c <= 0x20 || c >= 0x7f; });
  if (bad != value.end()) return "contains spaces or control characters";
  return {};
}

std::string check_pem_certificates(std::string_view content) {
  try {
    crypto::parse_certificates(content);
    return {};
  } catch (const std::exception& e) {
    return std::string("is not a PEM certificate file (") + e.what() + ")";
  }
}

std::string check_private_key(std::string_view content) {
  try {
    crypto::parse_private_key(content);
    return {};
  } catch (const std::exception&) {
    // OpenSSL's reason could quote nothing secret, but keep key errors plain.
    return "is not an unencrypted PEM private key";
  }
}

std::string check_key_pair(const option_values& values, std::string_view cert_option,
                           std::string_view key_option) {
  auto cert = values.find(cert_option);
  auto key = values.find(key_option);
  if (cert == values.end() || key == values.end()) return {};
  try {
    auto certs = crypto::parse_certificates(cert->second);
    auto pkey = crypto::parse_private_key(key->second);
    if (!certs.empty() && crypto::key_matches_certificate(pkey.get(), certs.front().get()))
      return {};
  } catch (const std::exception&) {
    return {};  // each option's own check has said what is wrong with it
  }
  return fmt::format("option -{}: the private key does not belong to the certificate given with -{}",
                     key_option, cert_option);
}

std::string check_identifier(std::string_view value) {
  if (value.empty() || value.size() > 128) return "must be 1 to 128 characters";
  bool ok = std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
  return ok ? std::string{} : "may hold only letters, digits, '-', '_' and '.'";
}

std::string check_token_text(std::string_view value) {
  if (value.empty() || value.size() > 4096) return "must be 1 to 4096 characters";
  bool ok =
      std::all_of(value.begin(), value.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  return ok ? std::string{} : "must be printable ASCII without spaces";
}

std::string check_rate_limits(std::string_view value) {
  std::string error;
  return parse_rate_limits(value, &error) ? std::string{} : error;
}

std::string check_duration(std::string_view value) {
  return parse_duration(value)
             ? std::string{}
             : "must be a duration such as 30d, 12h, 90m or 45s (at most 10 years)";
}

std::string check_flag(std::string_view value) {
  return value == "true" || value == "false" ? "" : "must be true or false";
}

std::string check_positive_count(std::string_view value) {
  if (value.empty() || value.size() > 7 ||
      value.find_first_not_of("0123456789") != std::string_view::npos)
    return "must be a whole number from 1 to 1000000";
  auto n = std::stol(std::string(value));
  return n >= 1 && n <= 1000000 ? std::string{} : "must be a whole number from 1 to 1000000";
}

std::string summarize_certificates(std::string_view content) {
  auto certs = crypto::parse_certificates(content);
  std::string out = std::to_string(certs.size()) +
                    (certs.size() == 1 ? " certificate: " : " certificates, first: ");
  return out + crypto::subject_line(certs.front().get());
}

std::string summarize_private_key(std::string_view content) {
  auto key = crypto::parse_private_key(content);
  return crypto::key_description(key.get()) + " private key";
}

}  // namespace cbcs::protocol::ca
