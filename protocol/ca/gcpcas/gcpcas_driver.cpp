#include "protocol/ca/gcpcas/gcpcas_driver.hpp"

#include "crypto/pem.hpp"
#include "protocol/ca/common/settings_problems.hpp"
#include "protocol/ca/gcpcas/gcpcas_backend.hpp"
#include "protocol/ca/gcpcas/issue_session.hpp"
#include "protocol/ca/gcpcas/pool_report.hpp"
#include "protocol/ca/gcpcas/revoke_session.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

class gcpcas_driver final : public driver {
 public:
  explicit gcpcas_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>(ca_service_settings::from(config))) {}

  std::unique_ptr<job_session> start(const job& j, const std::string&) override {
    switch (j.op) {
      case operation::enroll:
      case operation::renew:
        return start_issue(backend_, j);
      case operation::revoke:
        return start_revoke(backend_, j);
      case operation::inventory:
      case operation::test:
        return start_pool_report(backend_, j);
    }
    return start_pool_report(backend_, j);
  }

 private:
  std::shared_ptr<backend_state> backend_;
};

}  // namespace

ca_service_settings ca_service_settings::from(const driver_config& config) {
  ca_service_settings s;
  s.name = config.name;
  settings_problems problems(config);
  s.project = problems.required("project");
  s.location = problems.required("location");
  s.pool = setting(config.settings, "pool");
  s.ca = setting(config.settings, "ca");
  s.template_name = setting(config.settings, "template");
  auto tier = setting(config.settings, "tier");
  if (iequals(tier, "enterprise"))
    s.tier = "ENTERPRISE";
  else if (iequals(tier, "devops"))
    s.tier = "DEVOPS";
  else if (!tier.empty())
    problems.add("tier must be enterprise or devops");
  auto endpoint = setting(config.settings, "endpoint");
  s.base = endpoint.empty() ? std::string(default_endpoint) : endpoint;
  while (s.base.ends_with('/')) s.base.pop_back();
  if (auto key = problems.required_secret("key", "the service-account key"); !key.empty()) {
    try {
      s.account = parse_service_account(key);
      s.key = crypto::parse_private_key(s.account.private_key_pem);
    } catch (const std::exception& e) {
      problems.add("the service-account key is not usable (" + one_line(e.what(), 200) + ")");
    }
  }
  s.problem = problems.message();
  return s;
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<gcpcas_driver>(config);
}

}  // namespace cbcs::protocol::ca::gcpcas
