// The lookup before resubmit every driver shares (order_lookup.hpp): the
// job's own tag decides, the CSR only confirms; a certificate found is
// handed out only when it is live, unexpired and for the job's key.

#include <doctest/doctest.h>

#include "digicert/digicert_fixture.hpp"
#include "protocol/ca/common/order_lookup.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace fx = test::digicert;
using namespace std::chrono_literals;

TEST_SUITE("order lookup") {
  TEST_CASE("the job's tag is matched whole") {
    CHECK(ca::job_tag("job-6") == "cbcs job job-6");
    CHECK(ca::has_job_tag("cbcs job job-6", "job-6"));
    CHECK(ca::has_job_tag("renewal; cbcs job job-6; reason x", "job-6"));
    CHECK(ca::has_job_tag("cbcs job job-6, by SCM", "job-6"));
    CHECK_FALSE(ca::has_job_tag("cbcs job job-66", "job-6"));
    CHECK_FALSE(ca::has_job_tag("xcbcs job job-6", "job-6"));
    CHECK_FALSE(ca::has_job_tag("", "job-6"));
    CHECK_FALSE(ca::has_job_tag("cbcs job ", ""));
  }

  TEST_CASE("CSRs compare by their base64, armour and line ends aside") {
    auto csr = fx::make_csr("web.example").csr_pem;
    CHECK(ca::same_csr(csr, fx::with_crlf(csr)));
    CHECK_FALSE(ca::same_csr(csr, fx::make_csr("web.example").csr_pem));
    CHECK_FALSE(ca::same_csr("", ""));
  }

  TEST_CASE("the tag decides; the CSR confirms, never decides") {
    auto csr = fx::make_csr("web.example").csr_pem;
    auto other = fx::make_csr("web.example").csr_pem;
    using m = ca::lookup_match;
    // Another job's order with the same CSR (a renew reusing it, an enroll
    // after a revoke) is not ours.
    CHECK(ca::match_lookup({"cbcs job job-1", csr}, "job-2", csr) == m::not_ours);
    CHECK(ca::match_lookup({"", csr}, "job-2", csr) == m::not_ours);
    CHECK(ca::match_lookup({"cbcs job job-2", csr}, "job-2", fx::with_crlf(csr)) == m::ours);
    CHECK(ca::match_lookup({"cbcs job job-2", ""}, "job-2", csr) == m::ours);
    CHECK(ca::match_lookup({"cbcs job job-2", other}, "job-2", csr) == m::conflict);
  }

  TEST_CASE("a certificate found is handed out only live, unexpired and for the job's key") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example").csr_pem;
    auto leaf = pki.leaf_for(csr, 1);  // 90 days from now
    auto now = std::chrono::system_clock::now();
    CHECK(ca::unusable_certificate(leaf, csr, ca::found_state::live, now).empty());
    CHECK(ca::unusable_certificate(leaf, "", ca::found_state::live, now).empty());
    CHECK(ca::unusable_certificate(leaf, csr, ca::found_state::revoked, now) == "it is revoked");
    CHECK(ca::unusable_certificate(leaf, csr, ca::found_state::expired, now) == "it has expired");
    CHECK_FALSE(ca::unusable_certificate(leaf, csr, ca::found_state::superseded, now).empty());
    CHECK(ca::unusable_certificate(leaf, csr, ca::found_state::live, now + 24h * 91)
              .starts_with("it expired on "));
    CHECK(ca::unusable_certificate(leaf, fx::make_csr("web.example").csr_pem, ca::found_state::live,
                                   now) == "it is for another key than the job's CSR");
    CHECK(ca::unusable_certificate("garbage", csr, ca::found_state::live, now) ==
          "it cannot be read");
  }
}
