#include <fmt/format.h>

#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/entrust/ca_gateway_api.hpp"
#include "protocol/ca/entrust/gateway_sessions.hpp"
#include "protocol/ca/entrust/lookup_revoke_session.hpp"
#include "protocol/ca/entrust/revocation_reasons.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class gateway_revoke_session final : public lookup_revoke_session {
 public:
  gateway_revoke_session(std::shared_ptr<backend_state> backend, const job& j)
      : backend_(std::move(backend)), settings_(backend_->settings), job_(j) {}

 private:
  std::optional<outcome> prepare() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    auto reason = map_revocation_reason(job_.reason, gateway_revocation_reasons, "the CA Gateway");
    if (!reason.error.empty()) return outcome::failed(error_class::invalid_request, reason.error);
    reason_ = reason.word;
    auto serial = gateway_serial(job_.serial_hex);
    if (!serial)
      return outcome::failed(error_class::invalid_request,
                             one_line(fmt::format("the job's serial '{}' is not hexadecimal",
                                                  one_line(job_.serial_hex, 80))));
    serial_ = *serial;
    return std::nullopt;
  }

  http_request lookup_request() override { return gateway_request("GET", certificate_path()); }

  step read_lookup(const http_response& a) override {
    if (a.status == 404)
      return outcome::failed(
          error_class::invalid_request,
          fmt::format("CA {} at the CA Gateway has no certificate with serial {}", settings_.ca_id,
                      serial_));
    if (!is_success(a.status)) return failure(a, "finding the certificate");
    gateway_certificate c;
    try {
      c = parse_gateway_certificate(a.body);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    if (c.status == "revoked") return revoked(true);
    return gateway_request(
        "POST", certificate_path() + "/actions",
        revoke_action_body(reason_, fmt::format("{}; reason {}", job_tag(job_.id), reason_)));
  }

  outcome failure(const http_response& a, std::string_view what) override {
    return gateway_error_outcome(a, what, now());
  }

  // {action{status: REJECTED}} with a 2xx: refused (Keyfactor's Revoke()
  // throws on it; ACCEPTED and COMPLETED are revoked).
  std::optional<outcome> refused_in(const http_response& a) override {
    std::string status;
    try {
      status = parse_action_status(a.body);
    } catch (const std::exception&) {
      return std::nullopt;  // no JSON: the 2xx speaks
    }
    if (status != "REJECTED") return std::nullopt;
    return outcome::failed(
        error_class::rejected,
        fmt::format("the CA Gateway rejected the RevokeAction for serial {}", serial_), "REJECTED");
  }

  outcome revoked(bool already) override {
    json_writer w;
    w.begin_object()
        .member("serial", serial_)
        .member("ca", settings_.ca_id)
        .member("status", "revoked")
        .member("reason", reason_);
    if (already) w.member("already", true);
    w.end_object();
    return outcome::done(w.str());
  }

  std::string certificate_path() const {
    return fmt::format("{}/v1/certificate-authorities/{}/certificates/{}", settings_.base_url,
                       url_encode(settings_.ca_id), serial_);
  }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  job job_;
  std::string reason_;
  std::string serial_;
};

}  // namespace

std::unique_ptr<job_session> start_gateway_revoke(std::shared_ptr<backend_state> backend,
                                                  const job& j) {
  return std::make_unique<gateway_revoke_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::entrust
