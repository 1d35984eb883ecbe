#include <fmt/format.h>

#include "crypto/subject_names.hpp"
#include "protocol/ca/common/certificate_chain.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_job_checks.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/entrust/ca_gateway_api.hpp"
#include "protocol/ca/entrust/gateway_sessions.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::seconds enrollment_poll{5};

class gateway_order_session final : public ordering_session {
 public:
  gateway_order_session(std::shared_ptr<backend_state> backend, const job& j,
                        const std::string& resume_token)
      : ordering_session(resume_token, backend->settings.pending, lost_placement::ask_operator),
        backend_(std::move(backend)),
        settings_(backend_->settings),
        job_(j),
        profile_(j.profile.empty() ? settings_.profile_id : j.profile) {}

 private:
  std::optional<outcome> check() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    if (profile_.empty())
      return outcome::failed(error_class::invalid_request,
                             "no CA Gateway profile: give the backend -profile or the job a "
                             "profile");
    return check_order_job(job_, names_);
  }

  std::string where_to_look() const override {
    return fmt::format(
        "the certificates of CA {} at the CA Gateway (an enrollment with the "
        "property cbcs-job \"{}\")",
        settings_.ca_id, job_tag(job_.id));
  }

  http_request place() override {
    polling_ = false;
    auto dns = names_.dns_names;
    if (dns.empty() && !names_.common_name.empty()) dns.push_back(names_.common_name);
    return gateway_request("POST", ca_path("/enrollments"),
                           enrollment_body({.profile_id = profile_,
                                            .csr_pem = job_.csr_pem,
                                            .dns_names = std::move(dns),
                                            .validity_seconds = job_.validity_seconds,
                                            .tag = job_tag(job_.id)}));
  }

  http_request poll(const std::string& serial) override {
    polling_ = true;
    return gateway_request("GET", ca_path("/certificates/" + url_encode(serial)));
  }

  order_state read_order(const http_response& answer) override {
    if (!is_success(answer.status))
      return {.result = gateway_error_outcome(
                  answer, polling_ ? "reading the certificate" : "enrolling", now())};
    std::string serial, pem, status;
    try {
      if (polling_) {
        auto c = parse_gateway_certificate(answer.body);
        serial = order() ? order()->order_id : c.serial_number;
        pem = c.certificate_pem;
        status = c.status;
      } else {
        auto e = parse_enrollment(answer.body);
        serial = e.serial_number;
        pem = e.certificate_pem;
        status = e.status;
      }
    } catch (const std::exception& ex) {
      return {.result = outcome::failed(error_class::internal, one_line(ex.what(), 256))};
    }
    if (gateway_status_unusable(status))
      return {.order_id = serial,
              .result = outcome::failed(
                  error_class::rejected,
                  fmt::format("certificate {} at the CA Gateway is {}", serial, status), status)};
    if (pem.empty()) {
      if (serial.empty())
        return {.result = outcome::failed(error_class::internal,
                                          "the CA Gateway's answer holds no certificate and no "
                                          "serial")};
      return {.what = order_state::kind::pending,
              .order_id = serial,
              .reason = pending_reason::processing,
              .message = one_line(fmt::format("enrollment {} is {} at the CA Gateway", serial,
                                              status.empty() ? "accepted" : status)),
              .poll_hint = enrollment_poll};
    }
    auto picked = pick_leaf(pem, job_.csr_pem);
    if (!picked.certificate)
      return {.order_id = serial, .result = outcome::failed(error_class::internal, picked.error)};
    auto& c = *picked.certificate;
    return {.what = order_state::kind::issued,
            .order_id = serial.empty() ? c.serial_hex : serial,
            .result = outcome::issued(std::move(c.leaf_pem), std::move(c.chain_pem),
                                      std::move(c.serial_hex))};
  }

  std::string ca_path(const std::string& tail) const {
    return fmt::format("{}/v1/certificate-authorities/{}{}", settings_.base_url,
                       url_encode(settings_.ca_id), tail);
  }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  job job_;
  std::string profile_;
  crypto::requested_names names_;
  bool polling_ = false;
};

}  // namespace

std::unique_ptr<job_session> start_gateway_order(std::shared_ptr<backend_state> backend,
                                                 const job& j, const std::string& resume_token) {
  return std::make_unique<gateway_order_session>(std::move(backend), j, resume_token);
}

}  // namespace cbcs::protocol::ca::entrust
