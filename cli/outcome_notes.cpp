#include "cli/outcome_notes.hpp"

#include <chrono>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "config/identity.hpp"

namespace cbcs::cli {

std::vector<std::string> outcome_notes(const protocol::ca::job& job,
                                       const protocol::ca::outcome& issued, bool renewal_option) {
  using std::chrono::hours;
  std::vector<std::string> notes;
  std::optional<config::certificate_validity> got;
  try {
    got = config::validity_of(issued.certificate_pem);
  } catch (const std::exception&) {
    return notes;
  }
  auto days = [](auto d) { return std::chrono::duration_cast<hours>(d).count() / 24; };
  auto lifetime = got->not_after - got->not_before;
  // A day's slack: CAs back-date notBefore and round to whole days.
  if (job.validity_seconds > 0 && lifetime + hours(24) < std::chrono::seconds(job.validity_seconds))
    notes.push_back(fmt::format(
        "the CA issued it for {} days, not the {} asked with -validity (its maximum for this "
        "product or profile)",
        days(lifetime), job.validity_seconds / 86400));
  if (job.op != protocol::ca::operation::renew || job.cert_pem.empty()) return notes;
  try {
    auto before = config::validity_of(job.cert_pem);
    auto moved = got->not_after - before.not_after;
    if (moved > -hours(24) && moved < hours(24))
      notes.push_back(fmt::format(
          "the CA reissued the certificate: it keeps the old expiry ({:%Y-%m-%d}){}",
          fmt::gmtime(std::chrono::system_clock::to_time_t(got->not_after)),
          renewal_option ? fmt::format("; cbcs backend set -name {} -renewal renew makes "
                                       "renewals new certificates with a new validity",
                                       job.backend)
                         : std::string()));
  } catch (const std::exception&) {
    // The old certificate was checked when the job was made; nothing to compare.
  }
  return notes;
}

}  // namespace cbcs::cli
