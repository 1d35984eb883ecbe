#include "protocol/ca/common/order_job_checks.hpp"

#include "crypto/pem.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {
namespace {

constexpr std::int64_t longest_validity_seconds = 100LL * 365 * 86400;

}  // namespace

std::optional<outcome> check_order_job(const job& j, crypto::requested_names& names) {
  if (j.csr_pem.empty()) return outcome::failed(error_class::invalid_request, "the job has no CSR");
  if (j.validity_seconds < 0 || j.validity_seconds > longest_validity_seconds)
    return outcome::failed(error_class::invalid_request,
                           "validity must be between 0 and 100 years");
  try {
    names = crypto::names_of_request(j.csr_pem);
  } catch (const std::exception& e) {
    return outcome::failed(error_class::invalid_request, one_line(e.what(), 256));
  }
  return std::nullopt;
}

std::optional<outcome> check_renewal_job(const job& j, std::string& serial_hex) {
  if (j.cert_pem.empty())
    return outcome::failed(error_class::invalid_request,
                           "a renewal needs the certificate being renewed");
  try {
    serial_hex = crypto::certificate_serial_hex(j.cert_pem);
  } catch (const std::exception&) {
    serial_hex.clear();
  }
  if (serial_hex.empty())
    return outcome::failed(error_class::invalid_request,
                           "the certificate being renewed cannot be read");
  return std::nullopt;
}

}  // namespace cbcs::protocol::ca
