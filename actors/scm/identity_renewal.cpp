#include "actors/scm/identity_renewal.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "actors/scm/session_policy.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"

namespace cbcs::actors {

namespace pol = scm_policy;
namespace scm = protocol::scm;

namespace {

std::chrono::steady_clock::duration about(std::chrono::hours d, double jitter) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d * (0.9 + 0.2 * jitter));
}

}  // namespace

std::optional<scm::renew_identity_msg> identity_renewal::poll(
    const config::connector_identity& current, steady_time now, system_time wall, double jitter,
    std::string& line) {
  if (key_pem_) {
    if (now - sent_at_ < pol::identity_timeout) return std::nullopt;
    key_pem_.reset();
    next_attempt_ = now + about(pol::renewal_retry, jitter);
    line = "no answer to the certificate renewal; trying again in about an hour";
    return std::nullopt;
  }
  if (now < next_attempt_) return std::nullopt;
  try {
    if (!validity_) validity_ = config::validity_of(current.certificate_pem);
    if (wall < pol::renewal_time(validity_->not_before, validity_->not_after)) return std::nullopt;
    auto key = crypto::generate_key("ecdsa-p256");
    scm::renew_identity_msg m;
    m.csr_pem = crypto::create_csr(key.get(), current.connector_id, {});
    key_pem_ = crypto::private_key_to_pem(key.get());
    sent_at_ = now;
    line = "renewing the connector certificate";
    return m;
  } catch (const std::exception& e) {
    next_attempt_ = now + pol::renewal_retry;
    line = fmt::format("cannot prepare the certificate renewal: {}", e.what());
    return std::nullopt;
  }
}

std::variant<config::connector_identity, std::string> identity_renewal::accept(
    const scm::identity_msg& m, const config::connector_identity& current, steady_time now,
    std::int64_t now_s) {
  if (!key_pem_) return std::string("SCM sent an identity that was not asked for; ignored");
  auto key_pem = *std::exchange(key_pem_, std::nullopt);
  try {
    auto certs = crypto::parse_certificates(m.certificate_pem);
    auto key = crypto::parse_private_key(key_pem);
    if (!crypto::key_matches_certificate(key.get(), certs.front().get()))
      throw std::runtime_error("the certificate is not for the new key");
    if (config::common_name_of(m.certificate_pem) != current.connector_id)
      throw std::runtime_error("the certificate does not name this connector");
    auto next = current;
    next.certificate_pem = m.certificate_pem;
    next.chain_pem = m.chain_pem;
    next.key_pem = key_pem;
    next.registered_at = now_s;
    return next;
  } catch (const std::exception& e) {
    next_attempt_ = now + pol::renewal_retry;
    return fmt::format("renewed certificate refused: {}", e.what());
  }
}

void identity_renewal::refused(steady_time now, double jitter) {
  key_pem_.reset();
  next_attempt_ = now + about(pol::renewal_retry, jitter);
}

identity_renewal::steady_time identity_renewal::next_wake(steady_time now, system_time wall) const {
  if (key_pem_) return sent_at_ + pol::identity_timeout;
  if (!validity_) return next_attempt_;
  // A system-clock time: converted now; the next heartbeat looks again anyway.
  auto wait = pol::renewal_time(validity_->not_before, validity_->not_after) - wall;
  return std::max(next_attempt_,
                  now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
}

}  // namespace cbcs::actors
