#include "protocol/ca/gcpcas/issue_session.hpp"

#include "crypto/pem.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/gcpcas/ca_service_session.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

class issue_session final : public ca_service_session {
 public:
  issue_session(std::shared_ptr<backend_state> backend, const job& j)
      : ca_service_session(std::move(backend), j) {}

 private:
  enum class call : std::uint8_t { create, get_existing };

  step start() override {
    if (job_.csr_pem.empty())
      return outcome::failed(error_class::invalid_request, "the job has no CSR");
    if (job_.validity_seconds < 0)
      return outcome::failed(error_class::invalid_request, "validity must not be negative");
    template_ = !profile_.template_name.empty() ? profile_.template_name : settings_.template_name;
    if (!template_.empty() && template_.find('/') == std::string::npos)
      template_ = settings_.location_path() + "/certificateTemplates/" + template_;
    return with_pool([this] { return create(); });
  }

  step create() {
    call_ = call::create;
    return send(create_certificate(settings_.base, settings_.pool_path(pool_), job_, template_,
                                   settings_.ca));
  }

  step get_existing() {
    call_ = call::get_existing;
    return send(get_certificate(settings_.base, settings_.pool_path(pool_), job_.id));
  }

  std::optional<step> on_refusal(const http_response& answer, const google_error& e) override {
    if (call_ == call::create && (answer.status == 409 || e.status == "ALREADY_EXISTS"))
      return get_existing();  // made by an earlier run of this job
    return std::nullopt;
  }

  step on_reply(std::string_view body) override {
    auto cert = read_certificate(body);
    if (call_ == call::get_existing) {
      if (!crypto::certificate_matches_csr(cert.pem, job_.csr_pem))
        return outcome::failed(
            error_class::rejected,
            scrub("certificate " + certificate_id(job_.id) + " exists in pool " + pool_ +
                  " for another key than the job's CSR; it was not made for this job"));
      // Found by the id derived from the job (ALREADY_EXISTS): never handed
      // out as issued when it is revoked or expired since (order_lookup.hpp).
      auto why = unusable_certificate(
          cert.pem, job_.csr_pem, cert.revoked ? found_state::revoked : found_state::live, now());
      if (!why.empty())
        return outcome::failed(error_class::rejected,
                               scrub("certificate " + certificate_id(job_.id) + " in pool " +
                                     pool_ + " was made for this job earlier, but " + why +
                                     "; it is not handed out as issued"));
    }
    if (!cert.chain_error.empty()) return internal(cert.chain_error);
    std::string serial;
    try {
      serial = crypto::certificate_serial_hex(cert.pem);
    } catch (const std::exception& e) {
      return internal(std::string("the certificate from CA Service cannot be read (") + e.what() +
                      ")");
    }
    return outcome::issued(std::move(cert.pem), std::move(cert.chain), std::move(serial));
  }

  std::string what() const override {
    if (call_ == call::get_existing)
      return "get certificate " + certificate_id(job_.id) + " in pool " + pool_;
    return "create a certificate in pool " + pool_;
  }

  std::string template_;
  call call_ = call::create;
};

}  // namespace

std::unique_ptr<job_session> start_issue(std::shared_ptr<backend_state> backend, const job& j) {
  return std::make_unique<issue_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::gcpcas
