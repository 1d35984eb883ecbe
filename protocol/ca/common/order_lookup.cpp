#include "protocol/ca/common/order_lookup.hpp"

#include <fmt/format.h>

#include <cctype>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"

namespace cbcs::protocol::ca {

std::string job_tag(std::string_view job_id) { return fmt::format("cbcs job {}", job_id); }

bool has_job_tag(std::string_view text, std::string_view job_id) {
  if (job_id.empty()) return false;
  auto tag = job_tag(job_id);
  for (auto at = text.find(tag); at != std::string_view::npos; at = text.find(tag, at + 1)) {
    auto end = at + tag.size();
    bool ends = end == text.size() || text[end] == ';' || text[end] == ' ' || text[end] == ',';
    bool starts = at == 0 || text[at - 1] == ' ' || text[at - 1] == ';';
    if (starts && ends) return true;
  }
  return false;
}

bool same_csr(std::string_view a, std::string_view b) {
  // The base64 between the armour lines, without line ends or spaces.
  auto body = [](std::string_view pem) {
    std::string out;
    while (!pem.empty()) {
      auto end = pem.find('\n');
      auto line = pem.substr(0, end);
      pem = end == std::string_view::npos ? std::string_view() : pem.substr(end + 1);
      if (line.starts_with("-----")) continue;
      for (char c : line)
        if (!std::isspace(static_cast<unsigned char>(c))) out += c;
    }
    return out;
  };
  auto x = body(a), y = body(b);
  return !x.empty() && x == y;
}

lookup_match match_lookup(const lookup_candidate& found, std::string_view job_id,
                          std::string_view job_csr_pem) {
  // The tag decides; the CSR only confirms.
  if (!has_job_tag(found.tag_text, job_id)) return lookup_match::not_ours;
  if (!found.csr_pem.empty() && !job_csr_pem.empty() && !same_csr(found.csr_pem, job_csr_pem))
    return lookup_match::conflict;
  return lookup_match::ours;
}

std::string unusable_certificate(std::string_view certificate_pem, std::string_view csr_pem,
                                 found_state state, std::chrono::system_clock::time_point now) {
  switch (state) {
    case found_state::revoked:
      return "it is revoked";
    case found_state::expired:
      return "it has expired";
    case found_state::superseded:
      return "another certificate has replaced it";
    case found_state::live:
      break;
  }
  try {
    auto certs = crypto::parse_certificates(certificate_pem);
    auto until = crypto::not_after(certs.front().get());
    if (until <= now) return fmt::format("it expired on {}", crypto::format_utc_time(until));
  } catch (const std::exception&) {
    return "it cannot be read";
  }
  if (!csr_pem.empty() && !crypto::certificate_matches_csr(certificate_pem, csr_pem))
    return "it is for another key than the job's CSR";
  return {};
}

}  // namespace cbcs::protocol::ca
