#pragma once
// What a CA Service backend's sessions share: its settings, the service
// account's access token (service_account_token.hpp), and what they learnt
// (the location's only pool, the pools' tiers).

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "crypto/openssl_types.hpp"
#include "protocol/ca/common/credential_source.hpp"
#include "protocol/ca/gcpcas/gcpcas_api.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"
#include "protocol/ca/gcpcas/service_account_token.hpp"

namespace cbcs::protocol::ca::gcpcas {

// Named for the service: the actors have a backend_settings of their own.
struct ca_service_settings {
  std::string name;
  std::string base;  // endpoint without a trailing '/'
  std::string project;
  std::string location;
  std::string pool;
  std::string ca;
  std::string template_name;
  std::string tier;  // "ENTERPRISE", "DEVOPS" or "" (learnt from the pool)
  service_account account;
  crypto::pkey_ptr key;  // the account's, until the token source takes it
  // A setting that makes every job fail (invalid_request), naming it.
  std::string problem;

  std::string location_path() const { return gcpcas::location_path(project, location); }
  std::string pool_path(std::string_view pool_id) const {
    return gcpcas::pool_path(location_path(), pool_id);
  }

  static ca_service_settings from(const driver_config& config);
};

struct backend_state {
  explicit backend_state(ca_service_settings s)
      : settings(std::move(s)),
        token(service_account_token(settings.account, std::move(settings.key)), fetch_timing{},
              refusal_memory) {}

  ca_service_settings settings;
  fetched_value<std::string> token;
  std::string learnt_pool;                                // the location's only one
  std::map<std::string, std::string, std::less<>> tiers;  // pool id -> tier
};

}  // namespace cbcs::protocol::ca::gcpcas
