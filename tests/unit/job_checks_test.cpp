#include <doctest/doctest.h>

#include <string>

#include "protocol/ca/job_checks.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

namespace {

ca::job enroll(const std::string& csr) {
  return ca::job{.id = "job-1", .op = ca::operation::enroll, .backend = "dc", .csr_pem = csr};
}

}  // namespace

TEST_SUITE("job_checks") {
  TEST_CASE("a private key in any field is refused, and the refusal quotes none of it") {
    // Seen: `cbcs enroll -csr web1.key` kept the whole key in the journal.
    auto key = test::make_key_pem("p256");
    auto rsa = test::make_key_pem("rsa2048");
    auto csr = test::make_csr("p256", "web1.example");
    auto expect_refused = [&](ca::job j, const std::string& field) {
      auto refusal = ca::refuse_job_inputs(j);
      REQUIRE(refusal);
      CHECK(test::contains(*refusal, field));
      CHECK_FALSE(test::contains(*refusal, "MII"));
      CHECK(refusal->find('\n') == std::string::npos);
    };
    expect_refused(enroll(key), "CSR");
    expect_refused(enroll(rsa), "CSR");
    expect_refused(enroll(csr + key), "CSR");
    auto j = enroll(csr);
    j.cert_pem = key;
    expect_refused(j, "certificate");
    j = enroll(csr);
    j.profile = key;
    expect_refused(j, "profile");
    j = enroll(csr);
    j.params["ca_arn"] = key;
    expect_refused(j, "parameter");
    j = ca::job{.id = "r1", .op = ca::operation::revoke, .backend = "dc", .serial_hex = key};
    expect_refused(j, "serial");
    j.serial_hex = "01";
    j.reason = key;
    expect_refused(j, "reason");
    j = enroll(csr);
    j.id = key;
    expect_refused(j, "id");
  }

  TEST_CASE("a CSR or certificate that does not parse is refused before it is stored") {
    auto csr = test::make_csr("p256", "web1.example");
    CHECK_FALSE(ca::refuse_job_inputs(enroll(csr)));
    CHECK(ca::refuse_job_inputs(enroll("not a csr")));
    auto renew = enroll(csr);
    renew.op = ca::operation::renew;
    renew.cert_pem = test::make_self_signed("p256", "web1.example").cert_pem;
    CHECK_FALSE(ca::refuse_job_inputs(renew));
    renew.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    CHECK(ca::refuse_job_inputs(renew));
    auto j = enroll(csr);
    j.id = "with space";
    CHECK(ca::refuse_job_inputs(j));
    j.id = std::string(129, 'a');
    CHECK(ca::refuse_job_inputs(j));
  }

  TEST_CASE("one id, one request: what a second submission must match") {
    auto csr = test::make_csr("p256", "web1.example");
    auto a = enroll(csr);
    auto b = a;
    CHECK(ca::same_request(a, b));
    CHECK(ca::request_digest(a) == ca::request_digest(b));
    b.csr_pem = test::make_csr("p256", "web2.example");
    CHECK_FALSE(ca::same_request(a, b));
    CHECK(ca::request_digest(a) != ca::request_digest(b));
    b = a;
    b.backend = "gcp";
    CHECK_FALSE(ca::same_request(a, b));
    b = a;
    b.op = ca::operation::renew;
    CHECK_FALSE(ca::same_request(a, b));
    b = a;
    b.validity_seconds = 86400;  // run again without -validity: still the same request
    CHECK(ca::same_request(a, b));
    CHECK(ca::request_digest(a) == ca::request_digest(b));
  }
}
