#pragma once
// What an AWS Private CA backend's sessions share: its settings and, with
// -credentials instance, the instance role's keys (instance_role.hpp).

#include <optional>
#include <string>

#include "crypto/sigv4.hpp"
#include "protocol/ca/acmpca/acmpca_api.hpp"
#include "protocol/ca/acmpca/instance_role.hpp"
#include "protocol/ca/common/credential_source.hpp"

namespace cbcs::protocol::ca::acmpca {

// Named for the service: the actors have a backend_settings of their own.
struct private_ca_settings {
  std::string name;
  endpoint target;
  std::string default_ca_arn;
  crypto::sigv4::credentials static_keys;
  std::string imds_endpoint;  // non-empty: the instance role's keys instead
  // A setting that makes every job fail (invalid_request), naming it.
  std::string problem;

  static private_ca_settings from(const driver_config& config);

  // The CA a job names (params["ca_arn"]), else the backend's; "" for neither.
  std::string ca_arn_for(const job& j) const {
    auto it = j.params.find("ca_arn");
    if (it != j.params.end() && !it->second.empty()) return it->second;
    return default_ca_arn;
  }
};

inline outcome no_ca_arn() {
  return outcome::failed(error_class::invalid_request,
                         "no certificate authority: set the job parameter ca_arn or "
                         "the backend option ca_arn");
}

struct backend_state {
  explicit backend_state(private_ca_settings s) : settings(std::move(s)) {
    // The role's keys, fetched by whichever session needs them first and
    // used by all; a failed refresh keeps the keys held while they last.
    if (!settings.imds_endpoint.empty())
      role_keys.emplace(instance_role_keys(settings.imds_endpoint), instance_role_timing,
                        std::chrono::seconds(0), failed_refresh::held_always);
  }

  private_ca_settings settings;
  std::optional<fetched_value<crypto::sigv4::credentials>> role_keys;
};

}  // namespace cbcs::protocol::ca::acmpca
