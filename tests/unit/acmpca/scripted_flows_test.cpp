// acmpca flows on the driver harness: every request in order, each answered
// as AWS and the instance metadata service answer.

#include <doctest/doctest.h>

#include "driver_harness.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace scripted_flows_test {

const std::string ca_arn =
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "11111111-2222-3333-4444-555555555555";
const std::string cert_arn = ca_arn + "/certificate/0123456789abcdef0123456789abcdef";
const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 12h;
const std::string aws_url = "https://acm-pca.eu-west-1.amazonaws.com/";

ca::job enroll(std::string id) {
  return ca::job{.id = std::move(id),
                 .op = ca::operation::enroll,
                 .backend = "aws",
                 .csr_pem = test::make_csr("p256", "web.example"),
                 .params = {{"signing_algorithm", "SHA256WITHECDSA"}}};
}

std::string certificate_answer() {
  auto cert = test::make_self_signed("p256", "web.example").cert_pem;
  std::string out = R"({"Certificate":)";
  protocol::append_json_string(out, cert);
  return out + R"(,"CertificateChain":""})";
}

test::exchange aws(std::string target, ca::http_response answer) {
  return {.method = "POST",
          .url = aws_url,
          .headers = {{"X-Amz-Target", "ACMPrivateCA." + target}},
          .answer = std::move(answer)};
}

}  // namespace scripted_flows_test

namespace sf = scripted_flows_test;

TEST_SUITE("acmpca scripted flows") {
  TEST_CASE("static keys: issue, a lost answer, get") {
    ca::driver_config c{
        .name = "aws",
        .settings = {{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"},
                     {"region", "eu-west-1"},
                     {"ca_arn", sf::ca_arn}},
        .secrets = {{"secretaccesskey", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}}};
    auto d = ca::acmpca::make_driver(c);
    auto s = d->start(sf::enroll("job-1"), "");
    const test::exchange script[] = {
        sf::aws("IssueCertificate", {200, {}, R"({"CertificateArn":")" + sf::cert_arn + "\"}"}),
        {.method = "POST", .url = sf::aws_url, .no_answer = true},  // GetCertificate, lost
        sf::aws("GetCertificate", {400, {}, R"({"__type":"RequestInProgressException"})"}),
        sf::aws("GetCertificate", {200, {}, sf::certificate_answer()}),
    };
    auto r = test::drive(*s, script, {sf::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].what == ca::outcome::kind::pending);
    CHECK(s->resume_token() == sf::cert_arn);
  }

  TEST_CASE(
      "instance role: token, role, keys, then the signed call; a second job awaits the fetch") {
    ca::driver_config c{.name = "aws",
                        .settings = {{"credentials", "instance"},
                                     {"imds_endpoint", "http://127.0.0.1:8111"},
                                     {"region", "eu-west-1"},
                                     {"ca_arn", sf::ca_arn}}};
    auto d = ca::acmpca::make_driver(c);
    auto first = d->start(sf::enroll("job-1"), "");
    auto second = d->start(sf::enroll("job-2"), "");
    // The first session starts the fetch.
    auto token = first->next(nullptr, {sf::t0});
    REQUIRE(std::holds_alternative<ca::http_request>(token));
    // The second waits for it instead of fetching too.
    CHECK(std::holds_alternative<ca::await_fetch>(second->next(nullptr, {sf::t0})));

    const std::string keys =
        R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIOSFODNN7EXAMPLE",)"
        R"("SecretAccessKey":"pRoLeSeCrEtKeYEXAMPLE/bPxRfiCYEXAMPLEKEY","Token":"ROLETOKEN",)"
        R"("Expiration":"2026-11-27T18:00:00Z"})";
    ca::http_response token_answer{200, {}, "METADATA-TOKEN"};
    const test::exchange rest[] = {
        {.method = "GET",
         .url = "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/",
         .headers = {{"X-aws-ec2-metadata-token", "METADATA-TOKEN"}},
         .answer = {200, {}, "cbcs-role"}},
        {.method = "GET",
         .url = "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/cbcs-role",
         .answer = {200, {}, keys}},
        sf::aws("IssueCertificate", {200, {}, R"({"CertificateArn":")" + sf::cert_arn + "\"}"}),
        sf::aws("GetCertificate", {200, {}, sf::certificate_answer()}),
    };
    // The token's answer; the session then asks for the role. The harness
    // starts with nullptr, so that request comes once more, as after a
    // network error, and the script goes on from there.
    REQUIRE(std::holds_alternative<ca::http_request>(first->next(&token_answer, {sf::t0})));
    auto r = test::drive(*first, rest, {sf::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.awaits == 0);
    // Woken, the second job signs with the keys the first fetched: no fetch of its own.
    const test::exchange second_script[] = {
        {.method = "POST",
         .url = sf::aws_url,
         .headers = {{"X-Amz-Target", "ACMPrivateCA.IssueCertificate"},
                     {"X-Amz-Security-Token", "ROLETOKEN"}},
         .answer = {200, {}, R"({"CertificateArn":")" + sf::cert_arn + "\"}"}},
        sf::aws("GetCertificate", {200, {}, sf::certificate_answer()}),
    };
    auto r2 = test::drive(*second, second_script, {sf::t0});
    CHECK(r2.outcome.what == ca::outcome::kind::issued);
  }
}
