// What the CA did that was not asked for is said after the result: a shorter
// validity than -validity, a renewal that kept the old expiry.

#include <doctest/doctest.h>

#include <chrono>

#include "cli/outcome_notes.hpp"
#include "crypto/certificate_authority.hpp"

namespace {

namespace ca = cbcs::protocol::ca;
using std::chrono::hours;

std::string certificate(std::chrono::system_clock::time_point from, hours lifetime) {
  return cbcs::crypto::create_root_ca("ecdsa-p256", "notes.example", from, lifetime).cert_pem;
}

}  // namespace

TEST_SUITE("outcome notes") {
  TEST_CASE("a validity cut by the CA is said, one within a day of the request is not") {
    auto now = std::chrono::system_clock::now();
    ca::job j;
    j.op = ca::operation::enroll;
    j.backend = "dc";
    j.validity_seconds = 500 * 86400;
    auto issued = ca::outcome::issued(certificate(now, hours(24 * 199)), "", "0A");
    auto notes = cbcs::cli::outcome_notes(j, issued, true);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0] ==
          "the CA issued it for 199 days, not the 500 asked with -validity (its "
          "maximum for this product or profile)");
    j.validity_seconds = 200 * 86400;
    CHECK(cbcs::cli::outcome_notes(j, issued, true).empty());
    j.validity_seconds = 0;  // none asked: nothing to compare
    CHECK(cbcs::cli::outcome_notes(j, issued, true).empty());
  }

  TEST_CASE("a renewal keeping the old expiry names the option that renews instead") {
    auto now = std::chrono::system_clock::now();
    ca::job j;
    j.op = ca::operation::renew;
    j.backend = "dc";
    j.cert_pem = certificate(now - hours(24 * 100), hours(24 * 199));
    // Reissued today, ending when the old one ends.
    auto reissued = ca::outcome::issued(certificate(now, hours(24 * 99)), "", "0B");
    auto notes = cbcs::cli::outcome_notes(j, reissued, true);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].starts_with("the CA reissued the certificate: it keeps the old expiry (20"));
    CHECK(
        notes[0].ends_with("; cbcs backend set -name dc -renewal renew makes renewals new "
                           "certificates with a new validity"));
    // A type without -renewal: the fact alone.
    CHECK(cbcs::cli::outcome_notes(j, reissued, false)[0].ends_with(")"));
    // A true renewal (a later expiry) says nothing.
    auto renewed = ca::outcome::issued(certificate(now, hours(24 * 199)), "", "0C");
    CHECK(cbcs::cli::outcome_notes(j, renewed, true).empty());
  }
}
