// A report for a person: every type's verdict lines as one table with its
// verdict, any other report's plain fields one per line; JSON it cannot read
// is left to the caller to print as it is.

#include <doctest/doctest.h>

#include "cli/report_view.hpp"
#include "protocol/ca/common/report_checks.hpp"

namespace {

namespace ca = cbcs::protocol::ca;

ca::job test_job() {
  ca::job j;
  j.op = ca::operation::test;
  j.id = "test-1";
  j.backend = "dc";
  return j;
}

}  // namespace

TEST_SUITE("report view") {
  TEST_CASE("a check quoting a CA's control characters stays one line") {
    // Found by the fuzz smoke: a KeyAlgorithm holding DEL (0x7f) from AWS.
    ca::report_checks checks;
    checks.ok("CA 1\n2", "ACTIVE, SUBORDINATE EC_prime2\x7f" "56v1, CN=a\r\nb");
    CHECK(checks.words() == "CA 1 2: ok: ACTIVE, SUBORDINATE EC_prime2 56v1, CN=a  b");
  }

  TEST_CASE("verdict lines read as a table with the backend's verdict") {
    ca::report_checks checks;
    checks.ok("API key", "...0001 accepted");
    checks.warn("client certificate", "expires in 12 days");
    cbcs::protocol::json_writer w(false);
    w.begin_object().member("product", "ssl_plus");
    checks.write(w);
    w.end_object();
    auto done = ca::outcome::done(w.str());
    CHECK(cbcs::cli::human_report(test_job(), done) ==
          "  ok    API key             ...0001 accepted\n"
          "  warn  client certificate  expires in 12 days\n"
          "verdict: backend dc works, with 1 warning(s)\n");
    CHECK(cbcs::cli::checks_in_short(done) == "client certificate warn: expires in 12 days");
    CHECK(checks.words() ==
          "API key: ok: ...0001 accepted; client certificate: warn: expires in 12 days");
    CHECK_FALSE(checks.failed());
    checks.fail("permissions", "the roles lack view_orders");
    CHECK(checks.failed());
  }

  TEST_CASE("a failed test with no failing line still fails; other reports show their fields") {
    auto failed = ca::outcome::failed(ca::error_class::auth, "refused");
    failed.report_json = R"({"checks":[{"check":"API key","verdict":"ok","detail":"x"}]})";
    CHECK(cbcs::cli::human_report(test_job(), failed)
              .ends_with("verdict: backend dc fails 1 check(s)\n"));
    auto j = test_job();
    j.op = ca::operation::revoke;
    auto revoked = ca::outcome::done(R"({"serial":"0a1b","already_revoked":false,"list":[1]})");
    CHECK(cbcs::cli::human_report(j, revoked) ==
          "revoke done at backend dc (job test-1)\n"
          "  serial           0a1b\n"
          "  already revoked  no\n");
    CHECK(cbcs::cli::checks_in_short(failed) == "1 check(s) ok (API key)");
    CHECK(cbcs::cli::checks_in_short(revoked).empty());
    CHECK(cbcs::cli::human_report(j, ca::outcome::done("not json")).empty());
    CHECK(cbcs::cli::human_report(j, ca::outcome::done("")).empty());
  }
}
