#include "protocol/ca/digicert/digicert_driver.hpp"

#include <charconv>

#include "protocol/ca/common/settings_problems.hpp"
#include "protocol/ca/digicert/account_report.hpp"
#include "protocol/ca/digicert/digicert_backend.hpp"
#include "protocol/ca/digicert/order_session.hpp"
#include "protocol/ca/digicert/revoke_session.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

class digicert_driver final : public driver, public cancels_orders {
 public:
  explicit digicert_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>(certcentral_settings::from(config))) {}

  std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) override {
    switch (j.op) {
      case operation::enroll:
      case operation::renew:
        return start_order(backend_, j, resume_token);
      case operation::revoke:
        return start_revoke(backend_, j, resume_token);
      case operation::inventory:
      case operation::test:
        return start_account_report(backend_, j);
    }
    return start_account_report(backend_, j);
  }

  std::unique_ptr<job_session> cancel(const job& j, const std::string& resume_token,
                                      const std::string& reason) override {
    return start_cancel(backend_, j, resume_token, reason);
  }

 private:
  std::shared_ptr<backend_state> backend_;
};

}  // namespace

certcentral_settings certcentral_settings::from(const driver_config& config) {
  certcentral_settings s;
  s.name = config.name;
  settings_problems problems(config);
  auto region = problems.choice("region", {"us", "eu"});
  s.base_url = digicert::base_url(setting(config.settings, "endpoint"), region);
  s.api_key = problems.required_secret("apikey", "the API key");
  if (auto org = setting(config.settings, "orgid"); !org.empty()) {
    auto [end, ec] = std::from_chars(org.data(), org.data() + org.size(), s.org_id);
    if (ec != std::errc{} || end != org.data() + org.size() || s.org_id <= 0)
      problems.add("orgid must be a positive number");
  }
  if (auto product = setting(config.settings, "product"); !product.empty()) s.product = product;
  problems.flag("skipapproval", s.skip_approval);
  problems.flag("autoapprove", s.auto_approve);
  s.renew_by_reissue = problems.choice("renewal", {"reissue", "renew"}) == "reissue";
  s.revoke_order = problems.choice("revoke", {"certificate", "order"}) == "order";
  problems.duration("poll", s.poll);
  s.pending = pending_policy::from(config);
  s.problem = problems.message();
  return s;
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<digicert_driver>(config);
}

}  // namespace cbcs::protocol::ca::digicert
