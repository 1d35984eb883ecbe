#include "protocol/ca/digicert/account_report.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

class account_report final : public http_session {
 public:
  account_report(std::shared_ptr<backend_state> backend, const job& j)
      : backend_(std::move(backend)),
        settings_(backend_->settings),
        product_(j.profile.empty() ? settings_.product : j.profile) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return request("/organization");
  }

  step on_answer(const http_response& a) override {
    if (!user_stage_) {
      if (!is_success(a.status))
        return error_outcome(a, "reading the organizations", settings_.api_key, now());
      try {
        orgs_ = parse_organizations(a.body);
      } catch (const std::exception& e) {
        return outcome::failed(error_class::internal, one_line(e.what(), 256));
      }
      user_stage_ = true;
      return request("/user/me");
    }
    if (!is_success(a.status))
      return error_outcome(a, "reading the API key's user", settings_.api_key, now());
    try {
      return report(parse_user(a.body));
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
  }

  step report(const user_info& user) {
    auto choice = choose_organization(orgs_, settings_.org_id, product_);
    std::vector<std::string> missing;
    for (auto permission : required_permissions) {
      bool granted = false;
      for (const auto& role : user.roles) granted = granted || role_grants(role, permission);
      if (!granted) missing.emplace_back(permission);
    }
    json_writer w;
    w.begin_object().member("product", product_).key("organizations").begin_array();
    for (const auto& org : orgs_) {
      w.begin_object()
          .member("id", org.id)
          .member("name", org.name)
          .member("status", org.status)
          .member("active", org.active)
          .key("validations")
          .begin_array();
      for (const auto& v : org.validations)
        w.begin_object()
            .member("type", v.type)
            .member("status", v.status)
            .member("validated_until", v.validated_until)
            .end_object();
      w.end_array();
      auto problem = organization_problem(org, product_);
      w.member("usable", problem.empty());
      if (!problem.empty()) w.member("problem", problem);
      w.end_object();
    }
    w.end_array();
    if (choice.chosen)
      w.member("organization", choice.chosen->id);
    else
      w.member("organization_problem", choice.error);
    w.key("user").begin_object().member("username", user.username).key("roles").begin_array();
    for (const auto& r : user.roles) w.value(r);
    w.end_array().end_object();
    w.key("missing_permissions").begin_array();
    for (const auto& m : missing) w.value(m);
    w.end_array();
    w.member("permissions_from", "the user's roles (CertCentral's role table)");
    report_checks checks;
    std::string roles;
    for (const auto& r : user.roles) roles += (roles.empty() ? "" : ", ") + r;
    checks.ok("API key", fmt::format("{} accepted: user {} ({})", masked(settings_.api_key),
                                     user.username, roles.empty() ? "no roles" : roles));
    if (choice.chosen)
      checks.ok("organization", fmt::format("{} ({}) may order {}", choice.chosen->id,
                                            choice.chosen->name, product_));
    else
      checks.fail("organization", choice.error);
    if (missing.empty())
      checks.ok("permissions", "the roles allow every call cbcs makes");
    else
      checks.fail("permissions", fmt::format("the roles lack {}", fmt::join(missing, ", ")));
    checks.write(w);
    w.end_object();
    if (!choice.chosen || !missing.empty()) {
      std::string message;
      if (!choice.chosen) message = choice.error;
      if (!missing.empty()) {
        if (!message.empty()) message += "; ";
        std::string names;
        for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
        message += fmt::format("the API key {} lacks {}", masked(settings_.api_key), names);
      }
      auto failed = outcome::failed(
          choice.chosen ? error_class::auth
                        : (choice.rejected ? error_class::rejected : error_class::invalid_request),
          one_line(message));
      failed.report_json = w.str();
      return failed;
    }
    auto done = outcome::done(w.str());
    done.message = checks.words();
    return done;
  }

  http_request request(std::string_view path) {
    return api_request("GET", settings_.base_url + std::string(path), settings_.api_key);
  }

  std::shared_ptr<backend_state> backend_;
  const certcentral_settings& settings_;
  std::string product_;
  std::vector<organization> orgs_;
  bool user_stage_ = false;
};

}  // namespace

std::unique_ptr<job_session> start_account_report(std::shared_ptr<backend_state> backend,
                                                  const job& j) {
  return std::make_unique<account_report>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::digicert
