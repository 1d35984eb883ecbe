#pragma once
// The client certificate a backend presents (Entrust's mutual TLS, AD CS's
// enrollment agent) as `backend test` reports it: whose it is, when it
// expires, and, 30 days before, a warning with the command that replaces it.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ca/common/report_checks.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca {

inline constexpr std::chrono::hours client_certificate_warning{24 * 30};

struct client_certificate_state {
  std::string subject;
  std::string not_after;                             // UTC, "2027-01-31T12:00:00Z"
  std::chrono::system_clock::time_point expires_at;  // the same, for the metrics
  std::int64_t days_left = 0;
  bool expired = false;
  std::string warning;  // "" until 30 days before it expires
};

// nullopt when `pem` holds no readable certificate (the first is the client's).
std::optional<client_certificate_state> read_client_certificate(
    std::string_view pem, std::string_view backend, std::string_view cert_option,
    std::string_view key_option, std::chrono::system_clock::time_point now);

// The same for any certificate a backend depends on (AD CS's enrollment
// agent): `what` names it ("the enrollment agent certificate"), `fix` is
// the command that replaces it.
std::optional<client_certificate_state> read_watched_certificate(
    std::string_view pem, std::string_view what, std::string_view fix,
    std::chrono::system_clock::time_point now);

// Adds "client_certificate": {subject, not_after, days_left[, warning]}.
void write_client_certificate(json_writer& w, const client_certificate_state& c);

// Its line in a `backend test` table: ok with its subject and end, warn from
// 30 days before with the fix, fail once expired.
void check_certificate(report_checks& checks, std::string check, const client_certificate_state& c);

}  // namespace cbcs::protocol::ca
