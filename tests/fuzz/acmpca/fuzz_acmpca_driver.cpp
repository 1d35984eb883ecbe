// The AWS Private CA driver reading AWS's answers, on the shared stepping
// loop (driver_stepping.hpp: the answers, the status byte, the properties of
// every outcome). A session with fixed settings runs for up to 24 steps.
//
// Scenario byte: bits 0-2 the job; bit 3 keys from instance metadata, so the
// first answers go to the metadata fetch. Bit 6 of a status byte also sends
// the body as the x-amzn-ErrorType and Retry-After headers. No message may
// hold the secret key or session token; codes and reports are the service's
// own data and are not checked for echoes.

#include <array>
#include <memory>
#include <string>

#include "driver_stepping.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;

constexpr std::string_view secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view session_token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENfuzz0123456789";
constexpr std::string_view ca_arn =
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "11111111-2222-3333-4444-555555555555";
constexpr std::array<int, 16> statuses = {200, 200, 200, 200, 201, 204, 400, 400,
                                          401, 403, 404, 429, 500, 503, 302, -1};

ca::driver& acmpca() {
  static const std::unique_ptr<ca::driver> d = [] {
    ca::driver_config c;
    c.name = "aws";
    c.settings = {{"accesskeyid", "AKIAIOSFODNN7EXAMPLE"},
                  {"region", "eu-west-1"},
                  {"ca_arn", std::string(ca_arn)}};
    c.secrets = {{"secretaccesskey", std::string(secret_key)},
                 {"sessiontoken", std::string(session_token)}};
    return ca::acmpca::make_driver(c);
  }();
  return *d;
}

// A fresh one per input: the role's keys it caches must not carry over.
std::unique_ptr<ca::driver> instance_role_driver() {
  ca::driver_config c;
  c.name = "aws";
  c.settings = {{"credentials", "instance"},
                {"imds_endpoint", "http://127.0.0.1:8111"},
                {"region", "eu-west-1"},
                {"ca_arn", std::string(ca_arn)}};
  return ca::acmpca::make_driver(c);
}

fuzz::scenario make_scenario(std::uint8_t selector) {
  auto s = fuzz::enroll_scenario(
      "aws", "-----BEGIN CERTIFICATE REQUEST-----\nMIIBFUZZ\n-----END CERTIFICATE REQUEST-----\n");
  s.job.validity_seconds = 90000;
  switch (selector % 8) {
    case 0:  // enroll: DescribeCertificateAuthority, IssueCertificate, GetCertificate
    default:
      break;
    case 1:  // enroll with the signing algorithm given: no Describe
      s.job.params["signing_algorithm"] = "SHA256WITHECDSA";
      break;
    case 2:  // enroll resumed after IssueCertificate: straight to GetCertificate
      s.resume_token = std::string(ca_arn) + "/certificate/0123456789abcdef0123456789abcdef";
      break;
    case 3:
      s.job.op = ca::operation::renew;
      s.job.profile = "arn:aws:acm-pca:::template/EndEntityCertificate/V1";
      break;
    case 4:
      fuzz::make_revoke(s, "keyCompromise");
      break;
    case 5:
      s.job.op = ca::operation::inventory;
      break;
    case 6:
      s.job.op = ca::operation::test;
      break;
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto s = make_scenario(data[0]);
  const bool role = data[0] & 8;
  fuzz::stepping_rules rules{
      .statuses = statuses,
      .body_headers = {"x-amzn-ErrorType", "Retry-After"},
      .secrets = {std::string(secret_key), std::string(session_token)},
      .check_request =
          [role](const ca::http_request& request) {
            bool metadata = request.url.starts_with("http://127.0.0.1:8111/latest/");
            fuzz::check(role || !metadata, "a metadata request with static keys");
            fuzz::check(metadata ? request.method == "PUT" || request.method == "GET"
                                 : request.method == "POST" && !request.url.empty(),
                        "a malformed request");
          },
  };
  fuzz::expect_no_throw("acmpca", [&] {
    auto role_driver = role ? instance_role_driver() : nullptr;
    auto session = (role_driver ? *role_driver : acmpca()).start(s.job, s.resume_token);
    fuzz::step_session(*session, fuzz::as_text(data + 1, size - 1), rules);
  });
  return 0;
}
