#include "protocol/ca/gcpcas/revoke_session.hpp"

#include "crypto/serial_number.hpp"
#include "protocol/ca/gcpcas/ca_service_session.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

class revoke_session final : public ca_service_session {
 public:
  revoke_session(std::shared_ptr<backend_state> backend, const job& j)
      : ca_service_session(std::move(backend), j) {}

 private:
  enum class call : std::uint8_t { pool_tier, find_serial, revoke };

  step start() override {
    auto mapped = revocation_reason(job_.reason);
    if (!mapped.error.empty()) return outcome::failed(error_class::invalid_request, mapped.error);
    reason_ = mapped.word;
    return with_pool([this] { return find_certificate(); });
  }

  // The pool's tier, then the certificate's name: given, or looked up by serial.
  step find_certificate() {
    auto tier = settings_.tier;
    if (tier.empty())
      if (auto it = backend_->tiers.find(pool_); it != backend_->tiers.end()) tier = it->second;
    if (tier.empty()) {
      call_ = call::pool_tier;
      return send(get_pool(settings_.base, settings_.pool_path(pool_)));
    }
    if (tier == "DEVOPS")
      return outcome::failed(
          error_class::not_implemented,
          scrub("pool " + pool_ +
                " is a DevOps pool: CA Service keeps no certificates there, so it cannot revoke "
                "them (use an Enterprise pool for certificates that may need revoking)"));
    auto given = setting(job_.params, "certificate_name");
    if (auto id = setting(job_.params, "certificate_id"); given.empty() && !id.empty())
      given = settings_.pool_path(pool_) + "/certificates/" + id;
    if (!given.empty()) {
      if (!is_certificate_name(settings_.location_path(), given))
        return outcome::failed(error_class::invalid_request,
                               "the job's certificate_id or certificate_name is not a certificate "
                               "of a CA pool in " +
                                   settings_.location_path());
      certificate_name_ = given;
      return revoke();
    }
    std::string why;
    auto serial = crypto::serial_number::parse(job_.serial_hex, &why);
    if (!serial)
      return outcome::failed(
          error_class::invalid_request,
          one_line("the job's serial '" + one_line(job_.serial_hex, 80) + "': " + why));
    serial_ = serial->hex();
    call_ = call::find_serial;
    return send(find_by_serial(settings_.base, settings_.pool_path(pool_), *serial));
  }

  step on_found(std::vector<std::string> names) {
    if (names.empty())
      return outcome::failed(error_class::invalid_request,
                             scrub("pool " + pool_ + " has no certificate with serial " + serial_));
    if (names.size() > 1)
      return internal("pool " + pool_ + " lists several certificates with serial " + serial_);
    if (!is_certificate_name(settings_.location_path(), names.front()) ||
        !names.front().starts_with(settings_.pool_path(pool_) + "/"))
      return internal("the lookup by serial answered a name that is not a certificate of pool " +
                      pool_);
    certificate_name_ = names.front();
    return revoke();
  }

  step revoke() {
    call_ = call::revoke;
    return send(revoke_certificate(settings_.base, certificate_name_, reason_, job_.id));
  }

  step on_reply(std::string_view body) override {
    switch (call_) {
      case call::pool_tier:
        backend_->tiers[pool_] = read_pool_tier(body);
        return find_certificate();
      case call::find_serial:
        return on_found(read_certificate_names(body));
      case call::revoke:
        read_revoked(body);
        return report(false);
    }
    return internal("an answer in an unexpected state");
  }

  std::optional<step> on_refusal(const http_response&, const google_error& e) override {
    if (call_ == call::revoke && e.status == "FAILED_PRECONDITION" &&
        e.message.find("already revoked") != std::string::npos)
      return report(true);
    return std::nullopt;
  }

  step report(bool already) {
    json_writer w(false);
    w.begin_object()
        .member("certificate", certificate_name_)
        .member("reason", reason_)
        .member("already_revoked", already)
        .end_object();
    return outcome::done(w.str());
  }

  std::string what() const override {
    switch (call_) {
      case call::pool_tier:
        return "get CA pool " + pool_;
      case call::find_serial:
        return "find the certificate with serial " + serial_ + " in pool " + pool_;
      case call::revoke:
        return "revoke " + certificate_name_;
    }
    return "call CA Service";
  }

  call call_ = call::pool_tier;
  std::string reason_;
  std::string serial_;
  std::string certificate_name_;
};

}  // namespace

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j) {
  return std::make_unique<revoke_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::gcpcas
