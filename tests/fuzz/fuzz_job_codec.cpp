// protocol::ca::job_from_json and outcome_from_json: SCM, the CLI's job files
// and the journal feed them. Each either throws std::invalid_argument or
// returns a value whose to_json parses back to an equal value.

#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "protocol/ca/job_codec.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;

bool same_job(const ca::job& a, const ca::job& b) {
  return a.id == b.id && a.op == b.op && a.backend == b.backend && a.csr_pem == b.csr_pem &&
         a.cert_pem == b.cert_pem && a.serial_hex == b.serial_hex && a.reason == b.reason &&
         a.validity_seconds == b.validity_seconds && a.profile == b.profile && a.params == b.params;
}

// The fields to_json writes for each kind; the rest is not carried.
bool same_outcome(const ca::outcome& a, const ca::outcome& b) {
  if (a.what != b.what || a.message != b.message) return false;
  switch (a.what) {
    case ca::outcome::kind::issued:
      return a.certificate_pem == b.certificate_pem && a.chain_pem == b.chain_pem &&
             a.serial_hex == b.serial_hex;
    case ca::outcome::kind::pending:
      return a.poll_after == b.poll_after && a.pending_reason == b.pending_reason;
    case ca::outcome::kind::failed:
      return a.error == b.error && a.retryable == b.retryable && a.backend_code == b.backend_code;
    case ca::outcome::kind::done:
      return a.report_json == b.report_json;
  }
  return false;
}

void job_round_trip(std::string_view input) {
  ca::job j;
  try {
    j = ca::job_from_json(input);
  } catch (const std::invalid_argument&) {
    return;
  } catch (const std::exception& e) {
    fuzz::fail("job_from_json threw something other than std::invalid_argument", e.what());
  }
  fuzz::check(ca::is_valid_job_id(j.id), "job_from_json accepted an invalid job id", j.id);
  auto json = ca::to_json(j);
  ca::job back;
  try {
    back = ca::job_from_json(json);
  } catch (const std::exception& e) {
    fuzz::fail("to_json(job) does not parse back", std::string(e.what()) + " in " + json);
  }
  fuzz::check(same_job(j, back), "job round trip changed the job", json);
}

void outcome_round_trip(std::string_view input) {
  ca::outcome o;
  try {
    o = ca::outcome_from_json(input);
  } catch (const std::invalid_argument&) {
    return;
  } catch (const std::exception& e) {
    fuzz::fail("outcome_from_json threw something other than std::invalid_argument", e.what());
  }
  auto json = ca::to_json(o);
  ca::outcome back;
  try {
    back = ca::outcome_from_json(json);
  } catch (const std::exception& e) {
    fuzz::fail("to_json(outcome) does not parse back", std::string(e.what()) + " in " + json);
  }
  fuzz::check(same_outcome(o, back), "outcome round trip changed the outcome", json);
  fuzz::check(ca::to_json(back) == json, "outcome JSON is not stable", json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = fuzz::as_text(data, size);
  job_round_trip(input);
  outcome_round_trip(input);
  return 0;
}
