#include "protocol/ca/entrust/entrust_driver.hpp"

#include <charconv>

#include "protocol/ca/common/settings_problems.hpp"
#include "protocol/ca/entrust/account_report.hpp"
#include "protocol/ca/entrust/cancel_session.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/ca/entrust/entrust_backend.hpp"
#include "protocol/ca/entrust/gateway_sessions.hpp"
#include "protocol/ca/entrust/order_session.hpp"
#include "protocol/ca/entrust/revoke_session.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class entrust_driver final : public driver, public cancels_orders {
 public:
  explicit entrust_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>(entrust_settings::from(config))) {}

  std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) override {
    bool gateway = backend_->settings.gateway;
    switch (j.op) {
      case operation::enroll:
      case operation::renew:
        return gateway ? start_gateway_order(backend_, j, resume_token)
                       : start_order(backend_, j, resume_token);
      case operation::revoke:
        return gateway ? start_gateway_revoke(backend_, j) : start_revoke(backend_, j);
      case operation::inventory:
      case operation::test:
        break;
    }
    return gateway ? start_gateway_report(backend_) : start_account_report(backend_);
  }

  // ECS: the waiting order declined (cancel_session.hpp).
  std::unique_ptr<job_session> cancel(const job&, const std::string& resume_token,
                                      const std::string& reason) override {
    return start_cancel(backend_, resume_token, reason);
  }

 private:
  std::shared_ptr<backend_state> backend_;
};

}  // namespace

entrust_settings entrust_settings::from(const driver_config& config) {
  entrust_settings s;
  s.name = config.name;
  settings_problems problems(config);
  s.gateway = problems.choice("api", {"ecs", "cagw"}) == "cagw";
  s.base_url = entrust::base_url(setting(config.settings, "endpoint"),
                                 s.gateway ? gateway_base_url : ecs_base_url);
  if (s.gateway) {
    s.ca_id = problems.required("caid");
    s.profile_id = setting(config.settings, "profile");
  } else {
    s.username = problems.required("username");
    s.api_key = problems.required_secret("apikey", "the API key");
    if (auto type = setting(config.settings, "certtype"); !type.empty()) s.cert_type = type;
    if (auto id = setting(config.settings, "clientid"); !id.empty()) {
      auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), s.client_id);
      if (ec != std::errc{} || end != id.data() + id.size() || s.client_id <= 0)
        problems.add("clientid must be a positive number");
    }
    s.renew_by_reissue = problems.choice("renewal", {"renew", "reissue"}) == "reissue";
    s.map_reasons = problems.choice("revokereason", {"strict", "map"}) == "map";
    s.requester_name = setting(config.settings, "requestername");
    if (s.requester_name.empty()) s.requester_name = s.username;
    s.requester_email = setting(config.settings, "requesteremail");
    s.requester_phone = setting(config.settings, "requesterphone");
  }
  s.pending = pending_policy::from(config);
  s.client_cert_pem = setting(config.secrets, "cert");
  s.problem = problems.message();
  return s;
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<entrust_driver>(config);
}

}  // namespace cbcs::protocol::ca::entrust
