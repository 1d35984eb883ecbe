#include <fmt/format.h>

#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/entrust/ca_gateway_api.hpp"
#include "protocol/ca/entrust/gateway_sessions.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class gateway_report final : public http_session {
 public:
  explicit gateway_report(std::shared_ptr<backend_state> backend)
      : backend_(std::move(backend)), settings_(backend_->settings) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return gateway_request("GET", settings_.base_url + "/v1/certificate-authorities");
  }

  step on_answer(const http_response& a) override {
    bool profiles = !authorities_.empty() || ca_found_;
    if (!is_success(a.status))
      return gateway_error_outcome(
          a, profiles ? "reading the CA's profiles" : "reading the certificate authorities", now());
    try {
      if (!profiles) {
        authorities_ = parse_authorities(a.body);
        for (const auto& ca : authorities_) ca_found_ = ca_found_ || ca.id == settings_.ca_id;
        if (!ca_found_) return report({});
        return gateway_request("GET", fmt::format("{}/v1/certificate-authorities/{}/profiles",
                                                  settings_.base_url, url_encode(settings_.ca_id)));
      }
      return report(parse_profiles(a.body));
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
  }

  step report(const std::vector<named_item>& profiles) {
    bool profile_found = settings_.profile_id.empty();
    for (const auto& p : profiles) profile_found = profile_found || p.id == settings_.profile_id;
    json_writer w;
    w.begin_object().member("api", "cagw").member("ca", settings_.ca_id);
    auto list = [&](std::string_view key, const std::vector<named_item>& items) {
      w.key(key).begin_array();
      for (const auto& i : items)
        w.begin_object().member("id", i.id).member("name", i.name).end_object();
      w.end_array();
    };
    list("certificate_authorities", authorities_);
    list("profiles", profiles);
    report_checks checks;
    if (ca_found_)
      checks.ok("CA", fmt::format("{} answers this client certificate", settings_.ca_id));
    else
      checks.fail("CA", fmt::format("the CA Gateway has no certificate authority {} for this "
                                    "client certificate",
                                    settings_.ca_id));
    if (!settings_.profile_id.empty() && ca_found_) {
      if (profile_found)
        checks.ok("profile",
                  fmt::format("{} offered by CA {}", settings_.profile_id, settings_.ca_id));
      else
        checks.fail("profile",
                    fmt::format("CA {} has no profile {}", settings_.ca_id, settings_.profile_id));
    }
    if (auto c = read_client_certificate(settings_.client_cert_pem, settings_.name, "cert", "key",
                                         now())) {
      write_client_certificate(w, *c);
      check_certificate(checks, "client certificate", *c);
    }
    if (!settings_.profile_id.empty()) w.member("profile", settings_.profile_id);
    checks.write(w);
    w.end_object();
    std::string problem;
    if (!ca_found_)
      problem = fmt::format(
          "the CA Gateway has no certificate authority {} for this client "
          "certificate",
          settings_.ca_id);
    else if (!profile_found)
      problem = fmt::format("CA {} has no profile {} at the CA Gateway", settings_.ca_id,
                            settings_.profile_id);
    if (problem.empty()) {
      auto done = outcome::done(w.str());
      done.message = checks.words();
      return done;
    }
    auto failed = outcome::failed(error_class::invalid_request, one_line(problem));
    failed.report_json = w.str();
    return failed;
  }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  std::vector<named_item> authorities_;
  bool ca_found_ = false;
};

}  // namespace

std::unique_ptr<job_session> start_gateway_report(std::shared_ptr<backend_state> backend) {
  return std::make_unique<gateway_report>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::entrust
