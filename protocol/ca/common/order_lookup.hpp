#pragma once
// Lookup before resubmit, for every driver that finds an earlier placement
// of a job at its CA: by a tag (DigiCert; Entrust and AD CS next) or by an
// id derived from the job (GCP certificateId, AWS IdempotencyToken). One
// rule (design.md §5):
//
// - a placement is the job's only when it carries the job's own tag; two
//   jobs may share a CSR (a renew reusing it, an enroll after a revoke), so
//   the CSR may confirm a match, never make one;
// - a certificate found that way is handed to the job as issued only when it
//   is for the job's key, not revoked, not expired and not superseded.

#include <chrono>
#include <string>
#include <string_view>

namespace cbcs::protocol::ca {

// The tag a placement carries where the CA keeps free text: "cbcs job <id>".
std::string job_tag(std::string_view job_id);
// True when `text` holds the job's tag as a whole (job-6 is not job-66):
// at the start or after ' ' or ';', ending the text or before ' ', ';', ','.
bool has_job_tag(std::string_view text, std::string_view job_id);
// Two CSRs are the same when their base64 is (line ends and armour aside);
// false when either is empty.
bool same_csr(std::string_view a, std::string_view b);

// A placement a lookup found: where the CA keeps the tag, and the CSR it
// holds ("" when its answer does not say).
struct lookup_candidate {
  std::string_view tag_text;
  std::string_view csr_pem;
};
enum class lookup_match : std::uint8_t {
  ours,      // the job's tag, and the job's CSR when the CA names one
  not_ours,  // no tag of the job, whatever its CSR: another job's, or a person's
  conflict,  // the job's tag on another CSR: never adopted, and never placed again blind
};
lookup_match match_lookup(const lookup_candidate& found, std::string_view job_id,
                          std::string_view job_csr_pem);

// The states a lookup may find a placement's certificate in.
enum class found_state : std::uint8_t { live, revoked, expired, superseded };

// "" when the certificate found for a job may be handed to it as issued;
// else why not, one line ("it is revoked", "it expired on ...", "it is for
// another key than the job's CSR", ...). An expiry read from the
// certificate itself counts too. `csr_pem` "" skips the key check (a revoke
// has no CSR).
std::string unusable_certificate(std::string_view certificate_pem, std::string_view csr_pem,
                                 found_state state, std::chrono::system_clock::time_point now);

}  // namespace cbcs::protocol::ca
