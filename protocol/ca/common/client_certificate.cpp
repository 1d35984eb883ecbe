#include "protocol/ca/common/client_certificate.hpp"

#include <fmt/format.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"

namespace cbcs::protocol::ca {

std::optional<client_certificate_state> read_watched_certificate(
    std::string_view pem, std::string_view what, std::string_view fix,
    std::chrono::system_clock::time_point now) {
  try {
    auto certs = crypto::parse_certificates(pem);
    if (certs.empty()) return std::nullopt;
    auto end = crypto::not_after(certs.front().get());
    client_certificate_state s;
    s.subject = crypto::subject_line(certs.front().get());
    s.not_after = crypto::format_utc_time(std::chrono::floor<std::chrono::seconds>(end));
    s.expires_at = end;
    s.days_left = std::chrono::floor<std::chrono::hours>(end - now).count() / 24;
    s.expired = end <= now;
    if (end - now <= client_certificate_warning)
      s.warning = fmt::format("{} ({}) {} {}: {}", what, s.subject,
                              end <= now ? "expired on" : "expires on", s.not_after, fix);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<client_certificate_state> read_client_certificate(
    std::string_view pem, std::string_view backend, std::string_view cert_option,
    std::string_view key_option, std::chrono::system_clock::time_point now) {
  return read_watched_certificate(
      pem, "the client certificate",
      fmt::format("replace it with cbcs backend set -name {} -{} FILE -{} FILE", backend,
                  cert_option, key_option),
      now);
}

void write_client_certificate(json_writer& w, const client_certificate_state& c) {
  w.key("client_certificate")
      .begin_object()
      .member("subject", c.subject)
      .member("not_after", c.not_after)
      .member("days_left", c.days_left);
  if (!c.warning.empty()) w.member("warning", c.warning);
  w.end_object();
}

void check_certificate(report_checks& checks, std::string check,
                       const client_certificate_state& c) {
  checks.add(std::move(check),
             c.expired           ? "fail"
             : c.warning.empty() ? "ok"
                                 : "warn",
             c.warning.empty()
                 ? fmt::format("{} until {} ({} days)", c.subject, c.not_after, c.days_left)
                 : c.warning);
}

}  // namespace cbcs::protocol::ca
