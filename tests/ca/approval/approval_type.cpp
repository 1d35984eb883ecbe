#include "tests/ca/approval/approval_type.hpp"

#include <filesystem>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"

namespace cbcs::test_types::approval {
namespace {

namespace ca = protocol::ca;

class approval_ca final : public ca::driver {
 public:
  explicit approval_ca(const ca::driver_config& config)
      : approvals_(config.settings.at("approvals")),
        identity_(crypto::create_root_ca("ecdsa-p256", "approval test CA",
                                         std::chrono::system_clock::now(), std::chrono::hours(48))),
        key_(crypto::parse_private_key(identity_.key_pem)),
        cert_(std::move(crypto::parse_certificates(identity_.cert_pem).front())),
        issuer_(key_.get(), cert_.get()) {}

  std::unique_ptr<ca::job_session> start(const ca::job& j, const std::string&) override {
    return std::make_unique<session>(*this, j);
  }

 private:
  struct session final : ca::job_session {
    session(approval_ca& owner, ca::job job) : owner_(owner), job_(std::move(job)) {}

    ca::step next(const ca::http_response*, const ca::step_context& ctx) override {
      if (job_.op != ca::operation::enroll && job_.op != ca::operation::renew)
        return ca::outcome::failed(ca::error_class::not_implemented,
                                   "the approval CA only issues certificates");
      std::error_code ec;
      if (!std::filesystem::exists(owner_.approvals_ / job_.id, ec)) {
        auto o = ca::outcome::pending(std::chrono::milliseconds(200), "awaiting approval");
        o.pending_reason = "needs_approval";
        return o;
      }
      auto csr = crypto::check_certificate_request(job_.csr_pem);
      crypto::issue_params params{
          .serial = crypto::random_bytes(16), .now = ctx.now, .validity = std::chrono::hours(24)};
      params.serial[0] &= 0x7f;
      std::lock_guard lock(owner_.mutex_);
      auto issued = owner_.issuer_.issue(csr, params);
      return ca::outcome::issued(issued.pem, owner_.identity_.cert_pem, issued.serial_hex);
    }

    approval_ca& owner_;
    ca::job job_;
  };

  std::filesystem::path approvals_;
  crypto::ca_identity identity_;
  crypto::pkey_ptr key_;
  crypto::x509_ptr cert_;
  std::mutex mutex_;
  crypto::certificate_issuer issuer_;
};

std::string check_directory(std::string_view v) {
  return v.empty() ? "must name a directory" : std::string{};
}

}  // namespace

const ca::backend_type& type() {
  static const ca::backend_type t{
      .name = "approval",
      .title = "test CA that holds each request until it is approved (integration tests)",
      .options = {{.name = "approvals",
                   .required = true,
                   .value_name = "DIR",
                   .help = "a job is approved when DIR holds a file named after its id",
                   .check = check_directory}},
      .make_driver = [](const ca::driver_config& c) -> std::unique_ptr<ca::driver> {
        return std::make_unique<approval_ca>(c);
      }};
  return t;
}

}  // namespace cbcs::test_types::approval
