#include "protocol/ca/acmpca/revoke_session.hpp"

#include "protocol/ca/acmpca/signed_session.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

class revoke_session final : public signed_session {
 public:
  revoke_session(std::shared_ptr<backend_state> backend, job j)
      : signed_session(std::move(backend)), job_(std::move(j)) {}

 private:
  step start() override {
    ca_arn_ = settings().ca_arn_for(job_);
    if (ca_arn_.empty()) return no_ca_arn();
    auto serial = aws_serial(job_.serial_hex);
    if (!serial)
      return outcome::failed(error_class::invalid_request,
                             "the job's serial is missing or not hexadecimal");
    serial_ = *serial;
    auto reason = revocation_reason(job_.reason);
    if (!reason) {
      if (iequals(job_.reason, "certificateHold") || iequals(job_.reason, "removeFromCRL"))
        return outcome::failed(
            error_class::invalid_request,
            "AWS Private CA cannot put a certificate on hold or take it off hold (reason " +
                one_line(job_.reason) + "); revoke with a final reason instead");
      return outcome::failed(
          error_class::invalid_request,
          map_revocation_reason(job_.reason, revocation_reasons, "AWS Private CA").error);
    }
    reason_ = *reason;
    return send(revoke_call(ca_arn_, serial_, reason_));
  }

  step on_result(const http_response& answer) override {
    check_revoke_answer(answer.body);
    return report(false);
  }

  std::optional<step> on_error_code(const aws_error& e) override {
    if (e.code == "RequestInProgressException")
      return outcome::pending(poll_interval, "AWS Private CA is still revoking the certificate");
    if (e.code == "RequestAlreadyProcessedException") return report(true);
    return std::nullopt;
  }

  outcome report(bool already) const {
    json_writer w(false);
    w.begin_object()
        .member("certificate_authority_arn", ca_arn_)
        .member("serial", serial_)
        .member("reason", reason_)
        .member("already_revoked", already)
        .end_object();
    return outcome::done(w.str());
  }

  job job_;
  std::string ca_arn_;
  std::string serial_;
  std::string reason_;
};

}  // namespace

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j) {
  return std::make_unique<revoke_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::acmpca
