#pragma once
// Keys of the EC2 instance's IAM role, from the instance metadata service
// (IMDSv2, as AWS documents it for "Retrieve security credentials from
// instance metadata"):
//
//   PUT /latest/api/token                               X-aws-ec2-metadata-token-ttl-seconds: 21600
//   GET /latest/meta-data/iam/security-credentials/     X-aws-ec2-metadata-token: T  -> role name
//   GET /latest/meta-data/iam/security-credentials/ROLE                            -> keys (JSON)
//
// With them no long-lived key is configured or sealed anywhere: the keys are
// temporary, live in memory only and are fetched again before they expire.
// Pure, like the driver: it builds requests and reads answers; the acmpca
// session sends them before the call that needs the keys.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "crypto/sigv4.hpp"
#include "protocol/ca/common/shared_value.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::acmpca {

using time_point = std::chrono::system_clock::time_point;

inline constexpr std::string_view default_imds_endpoint = "http://169.254.169.254";

// The role's keys, shared by the sessions of one driver (a shared_value:
// single flight, refresh ahead of expiry, redaction). acmpca drivers run on
// one worker, so no two threads touch it.
class instance_role {
 public:
  explicit instance_role(std::string endpoint);

  // The keys to sign with at `now`, or nullptr when they must be fetched first
  // (none yet, or their refresh time has come and no fetch is under way:
  // while one is, the keys held serve the other sessions until they expire).
  const crypto::sigv4::credentials* keys(time_point now) const;

  // True when the keys held are still good to sign with at `now`, refresh
  // due or not: a failed refresh falls back to them.
  bool usable(time_point now) const;
  // After a failed refresh: sign with the keys held, try again in a minute.
  void postpone_refresh(time_point now);

  // True while a session's role_fetch is under way: the other sessions wait
  // for it (single flight) instead of fetching too.
  bool fetching() const { return keys_.fetching(); }

  // AWS refused keys with this id: drop them if they are still the ones held
  // (another session may have replaced them already).
  void invalidate(std::string_view access_key_id);

  // Replaces every secret this holds or held lately (keys, session tokens,
  // metadata token) in a message with "[redacted]": a call signed with keys
  // since replaced may still be answered.
  void redact(std::string& message) const;

 private:
  friend class role_fetch;
  void store(crypto::sigv4::credentials keys, time_point expires, time_point now);

  std::string endpoint_;  // without a trailing '/'
  std::string token_;     // the metadata session token
  time_point token_refresh_at_{};
  std::string role_name_;
  shared_value<crypto::sigv4::credentials> keys_;
};

// One fetch of the keys. A session starts one when instance_role::keys()
// gives nothing, sends what it returns, and goes on with its own call once
// on_answer() says the keys are stored.
class role_fetch {
 public:
  explicit role_fetch(instance_role& role) : role_(role), guard_(role.keys_) {}

  http_request start(time_point now);

  // The next request, a failed outcome (retryable when the metadata service
  // was busy), or std::monostate: the keys are stored in the role.
  std::variant<http_request, outcome, std::monostate> on_answer(const http_response& r,
                                                                time_point now);

  // The last request again (after a network error or a retryable failure).
  const http_request& again() const { return last_; }

 private:
  enum class stage { token, role_name, keys };
  http_request token_request();
  http_request credentials_request(stage s);
  std::variant<http_request, outcome, std::monostate> on_keys(const http_response& r,
                                                              time_point now);

  instance_role& role_;
  shared_value<crypto::sigv4::credentials>::fetch_guard guard_;  // single flight
  stage stage_ = stage::token;
  http_request last_;
  bool token_renewed_ = false;  // a 401 gets one fresh token, not a loop
  bool role_relisted_ = false;  // a 404 for the keys gets one new listing
};

// Time of an ISO 8601 UTC timestamp as the metadata service writes it
// ("2026-11-27T20:15:00Z", fractions of a second allowed), years 1970 to
// 2200; nullopt otherwise.
std::optional<time_point> parse_utc_timestamp(std::string_view text);

}  // namespace cbcs::protocol::ca::acmpca
