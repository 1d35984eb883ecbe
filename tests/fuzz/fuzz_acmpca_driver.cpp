// The AWS Private CA driver reading AWS's answers. A session with fixed
// settings runs for up to max_steps steps and every answer comes from the
// input; whatever AWS (or something in between) answers, next() returns a
// request or an outcome and never throws.
//
// Input: one scenario byte (bits 0-2: the job; bit 3: keys from instance
// metadata, so the first answers go to the metadata fetch), then answers separated by 0xff (a byte
// JSON text never holds). An answer is a status byte and the body; the last answer is repeated
// while the session asks for more, so a plain body is the answer to every step. Status byte: bits
// 0-3 pick the status from `statuses` (15 means "no answer": next(nullptr)); bit 6 also sends the
// body as the x-amzn-ErrorType and Retry-After headers.
//
// Every outcome must survive the journal (to_json, then outcome_from_json),
// and its message must be one line without the secret key or session token
// (driver.hpp: "one line, no secrets") and valid UTF-8; a backend code is an
// identifier of at most 128 characters. Codes and reports are the service's
// own data and are not checked for echoes.

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <simdjson.h>

#include "driver_answers.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/job_codec.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

constexpr int max_steps = 24;
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

struct scenario {
  ca::job job;
  std::string resume_token;
};

scenario make_scenario(std::uint8_t selector) {
  scenario s;
  s.job.id = "fuzz-job-1";
  s.job.backend = "aws";
  s.job.csr_pem =
      "-----BEGIN CERTIFICATE REQUEST-----\nMIIBFUZZ\n-----END CERTIFICATE REQUEST-----\n";
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
      s.job.op = ca::operation::revoke;
      s.job.serial_hex = "0a1b2c3d";
      s.job.reason = "keyCompromise";
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
  auto answers = fuzz::split_answers(fuzz::as_text(data + 1, size - 1));
  const ca::step_context ctx{std::chrono::sys_days{std::chrono::year{2024} / 5 / 17} + 8h};

  std::unique_ptr<ca::job_session> session;
  std::unique_ptr<ca::driver> role_driver;
  try {
    if (data[0] & 8) role_driver = instance_role_driver();
    session = (role_driver ? *role_driver : acmpca()).start(s.job, s.resume_token);
    const ca::http_response* previous = nullptr;
    ca::http_response response;
    std::size_t answered = 0;
    for (int i = 0; i < max_steps; ++i) {
      auto step = session->next(previous, ctx);
      if (auto* o = std::get_if<ca::outcome>(&step)) {
        fuzz::check_driver_outcome(*o, {secret_key, session_token});
        bool open = o->what == ca::outcome::kind::pending ||
                    (o->what == ca::outcome::kind::failed && o->retryable);
        if (!open) break;
        previous = nullptr;  // the actor calls again after the pause
        continue;
      }
      // One session alone never waits for another's credential.
      fuzz::check(!std::holds_alternative<ca::await_fetch>(step),
                  "a lone session awaits another session's credential");
      const auto& request = std::get<ca::http_request>(step);
      bool metadata = request.url.starts_with("http://127.0.0.1:8111/latest/");
      fuzz::check(role_driver || !metadata, "a metadata request with static keys");
      fuzz::check(metadata ? request.method == "PUT" || request.method == "GET"
                           : request.method == "POST" && !request.url.empty(),
                  "a malformed request");
      const auto& a = answers[std::min(answered++, answers.size() - 1)];
      int status = statuses[a.status_byte & 15];
      if (status < 0) {
        previous = nullptr;
        continue;
      }
      response = ca::http_response{status, {}, std::string(a.body)};
      if (a.status_byte & 0x40) {
        response.headers.push_back({"x-amzn-ErrorType", std::string(a.body)});
        response.headers.push_back({"Retry-After", std::string(a.body)});
      }
      previous = &response;
    }
  } catch (const std::exception& e) {
    fuzz::fail("the acmpca driver threw", e.what());
  } catch (...) {
    fuzz::fail("the acmpca driver threw something that is not a std::exception");
  }
  return 0;
}
