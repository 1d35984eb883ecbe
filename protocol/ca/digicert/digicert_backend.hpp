#pragma once
// What a DigiCert backend's sessions share: its settings and the account's
// organizations (organization_list.hpp).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/digicert/digicert_api.hpp"
#include "protocol/ca/digicert/organization_list.hpp"

namespace cbcs::protocol::ca::digicert {

// Named for the service: the actors have a backend_settings of their own.
struct certcentral_settings {
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

  static certcentral_settings from(const driver_config& config);
};

struct backend_state {
  explicit backend_state(certcentral_settings s)
      : settings(std::move(s)),
        organizations(organization_source(settings.base_url, settings.api_key),
                      organization_list_timing) {}

  certcentral_settings settings;
  fetched_value<organization_list> organizations;
};

}  // namespace cbcs::protocol::ca::digicert
