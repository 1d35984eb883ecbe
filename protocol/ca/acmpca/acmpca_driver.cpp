#include "protocol/ca/acmpca/acmpca_driver.hpp"

#include "protocol/ca/acmpca/acmpca_backend.hpp"
#include "protocol/ca/acmpca/inventory_report.hpp"
#include "protocol/ca/acmpca/issue_session.hpp"
#include "protocol/ca/acmpca/revoke_session.hpp"
#include "protocol/ca/common/settings_problems.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

class acmpca_driver final : public driver {
 public:
  explicit acmpca_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>(private_ca_settings::from(config))) {}

  std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) override {
    switch (j.op) {
      case operation::enroll:
      case operation::renew:
        return start_issue(backend_, j, resume_token);
      case operation::revoke:
        return start_revoke(backend_, j);
      case operation::inventory:
      case operation::test:
        return start_inventory_report(backend_);
    }
    return start_inventory_report(backend_);
  }

 private:
  std::shared_ptr<backend_state> backend_;
};

}  // namespace

private_ca_settings private_ca_settings::from(const driver_config& config) {
  private_ca_settings s;
  s.name = config.name;
  s.default_ca_arn = setting(config.settings, "ca_arn");
  settings_problems problems(config);
  auto source = setting(config.settings, "credentials");
  if (source == "instance") {
    s.imds_endpoint = setting(config.settings, "imds_endpoint");
    if (s.imds_endpoint.empty()) s.imds_endpoint = default_imds_endpoint;
  } else if (source.empty() || source == "static") {
    s.static_keys.access_key_id = problems.required("accesskeyid");
    s.static_keys.secret_access_key =
        problems.required_secret("secretaccesskey", "the secret access key");
    if (auto token = setting(config.secrets, "sessiontoken"); !token.empty())
      s.static_keys.session_token = token;
  } else {
    problems.add("credentials must be static or instance");
  }
  s.target.region = problems.required("region");
  bool fips = false;
  problems.flag("fips", fips);
  if (auto problem = split_endpoint(endpoint_url(config), s.target); !problem.empty())
    problems.add(problem);
  s.problem = problems.message();
  return s;
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<acmpca_driver>(config);
}

}  // namespace cbcs::protocol::ca::acmpca
