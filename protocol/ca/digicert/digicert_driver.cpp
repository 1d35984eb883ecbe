#include "protocol/ca/digicert/digicert_driver.hpp"

#include <fmt/format.h>

#include <charconv>

#include "protocol/ca/digicert/account_report.hpp"
#include "protocol/ca/digicert/digicert_backend.hpp"
#include "protocol/ca/digicert/order_session.hpp"
#include "protocol/ca/digicert/revoke_session.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

class digicert_driver final : public driver, public cancels_orders {
 public:
  explicit digicert_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>()) {
    backend_->settings = backend_settings::from(config);
  }

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

backend_settings backend_settings::from(const driver_config& config) {
  backend_settings s;
  s.name = config.name;
  std::vector<std::string> problems;
  auto region = setting(config.settings, "region");
  if (!region.empty() && region != "us" && region != "eu")
    problems.emplace_back("region must be us or eu");
  s.base_url = digicert::base_url(setting(config.settings, "endpoint"), region);
  s.api_key = setting(config.secrets, "apikey");
  if (s.api_key.empty()) problems.emplace_back("the API key (apikey) is not in the vault");
  if (auto org = setting(config.settings, "orgid"); !org.empty()) {
    auto [end, ec] = std::from_chars(org.data(), org.data() + org.size(), s.org_id);
    if (ec != std::errc{} || end != org.data() + org.size() || s.org_id <= 0)
      problems.emplace_back("orgid must be a positive number");
  }
  if (auto product = setting(config.settings, "product"); !product.empty()) s.product = product;
  auto flag = [&](std::string_view key, bool& out) {
    auto v = setting(config.settings, key);
    if (v.empty()) return;
    if (v != "true" && v != "false")
      problems.push_back(fmt::format("{} must be true or false", key));
    out = v == "true";
  };
  flag("skipapproval", s.skip_approval);
  flag("autoapprove", s.auto_approve);
  auto renewal = setting(config.settings, "renewal");
  if (!renewal.empty() && renewal != "reissue" && renewal != "renew")
    problems.emplace_back("renewal must be reissue or renew");
  s.renew_by_reissue = renewal != "renew";
  auto revoke = setting(config.settings, "revoke");
  if (!revoke.empty() && revoke != "certificate" && revoke != "order")
    problems.emplace_back("revoke must be certificate or order");
  s.revoke_order = revoke == "order";
  if (auto poll = setting(config.settings, "poll"); !poll.empty()) {
    auto d = parse_duration(poll);
    if (!d)
      problems.emplace_back("poll must be a duration such as 1m or 30s");
    else
      s.poll = *d;
  }
  s.pending = pending_policy::from(config);
  if (!problems.empty()) {
    std::string text;
    for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
    s.problem = fmt::format("backend '{}': {}", config.name, text);
  }
  return s;
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<digicert_driver>(config);
}

}  // namespace cbcs::protocol::ca::digicert
