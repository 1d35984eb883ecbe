#pragma once
// What a DigiCert backend's sessions share: its settings and the account's
// organizations, fetched by one session for all (single flight) and read
// again every few minutes.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/ca/common/credential_cache.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/digicert/digicert_api.hpp"

namespace cbcs::protocol::ca::digicert {

struct backend_settings {
  std::string name;
  std::string base_url;
  std::string api_key;
  std::int64_t org_id = 0;  // 0: the account's only usable one
  std::string product = "ssl_plus";
  bool skip_approval = false;
  bool auto_approve = false;
  bool renew_by_reissue = true;  // -renewal reissue (default) | renew
  bool revoke_order = false;     // -revoke order | certificate (default)
  std::chrono::seconds poll{60};
  pending_policy pending;
  // A setting that makes every job fail (invalid_request), naming it.
  std::string problem;

  static backend_settings from(const driver_config& config);
};

struct backend_state {
  backend_settings settings;
  // Organizations change rarely: read again after five minutes, used for ten.
  credential_cache<std::vector<organization>> organizations{
      credential_timing{.refresh_before_expiry = std::chrono::minutes(5),
                        .stop_before_expiry = std::chrono::seconds(0),
                        .retry_failed_refresh = std::chrono::seconds(30)}};
};

// How long the organization list is kept.
inline constexpr std::chrono::minutes organization_list_life{10};

}  // namespace cbcs::protocol::ca::digicert
