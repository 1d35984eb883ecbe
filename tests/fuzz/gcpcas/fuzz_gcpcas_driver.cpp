// The Google Cloud CA Service driver reading the token service's and CA
// Service's answers, on the shared stepping loop (driver_stepping.hpp: the
// answers, the status byte, held-back calls, the properties of every
// outcome). A fresh driver per input (its token cache must not carry over)
// runs one session for up to 24 steps.
//
// Scenario byte: bits 0-2 the job. No message may hold the service account's
// private key or an access token a token answer handed out (an answer
// echoing it must be redacted).

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include <simdjson.h>

#include "crypto/certificate_authority.hpp"
#include "driver_stepping.hpp"
#include "protocol/ca/gcpcas/gcpcas_driver.hpp"
#include "protocol/common/json_writer.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

constexpr std::string_view token_uri = "https://oauth.fuzz/token";
constexpr std::array<int, 16> statuses = {200, 200, 200, 200, 201, 204, 400, 400,
                                          401, 403, 404, 409, 429, 503, 302, -1};

const std::string& key_pem() {
  static const std::string pem = [] {
    auto key = crypto::generate_key("rsa-2048");
    return crypto::private_key_to_pem(key.get());
  }();
  return pem;
}

// The base64 body of the key: a message must never hold any of it.
std::string key_body_line() {
  auto start = key_pem().find('\n') + 1;
  return key_pem().substr(start, 40);
}

std::unique_ptr<ca::driver> make_driver(std::uint8_t selector) {
  protocol::json_writer w(false);
  w.begin_object()
      .member("type", "service_account")
      .member("private_key_id", "fuzzkey0123456789")
      .member("private_key", key_pem())
      .member("client_email", "fuzz@p.iam.gserviceaccount.com")
      .member("token_uri", token_uri)
      .end_object();
  ca::driver_config c;
  c.name = "gcp";
  c.settings = {{"project", "p"}, {"location", "l"}, {"endpoint", "https://cas.fuzz"}};
  auto kind = selector % 8;
  if (kind != 0 && kind != 5 && kind != 6) c.settings["pool"] = "pool-a";
  if (kind == 7) c.settings["tier"] = "devops";
  if (kind == 1) c.settings["ca"] = "ca-1";
  c.secrets = {{"key", w.str()}};
  return ca::gcpcas::make_driver(c);
}

ca::job make_job(std::uint8_t selector) {
  ca::job j;
  j.id = "fuzz-job/1";
  j.backend = "gcp";
  j.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBFUZZ\n-----END CERTIFICATE REQUEST-----\n";
  switch (selector % 8) {
    case 0:  // enroll, the pool from the listing
    case 1:  // enroll into a pool and CA
    default:
      break;
    case 2:
      j.op = ca::operation::renew;
      j.profile = "template:tls,pool:pool-b";
      break;
    case 3:  // revoke by serial: the pool's tier, the lookup, the revoke
      j.op = ca::operation::revoke;
      j.serial_hex = "0a:1b";
      j.reason = "aACompromise";
      break;
    case 4:
      j.op = ca::operation::revoke;
      j.params["certificate_id"] = "job-1";
      break;
    case 5:
      j.op = ca::operation::inventory;
      break;
    case 6:
      j.op = ca::operation::test;
      break;
    case 7:  // revoke on a DevOps pool: refused before any call
      j.op = ca::operation::revoke;
      j.serial_hex = "0a";
      break;
  }
  return j;
}

// The access token a token answer hands out ("" when none): long enough
// to be told from ordinary text.
std::string handed_out(int status, std::string_view body) {
  if (status < 200 || status > 299 || body.empty()) return {};
  simdjson::dom::parser parser;
  std::string_view token;
  if (parser.parse(body.data(), body.size())["access_token"].get_string().get(token) ||
      token.size() < 8)
    return {};
  return std::string(token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fuzz::stepping_rules rules{
      .statuses = statuses,
      .now = std::chrono::sys_days{std::chrono::year{2026} / 5 / 17} + 8h,
      .secrets = {key_body_line(), "PRIVATE KEY"},
      .check_request =
          [](const ca::http_request& request) {
            bool token = request.url == token_uri;
            fuzz::check(
                token ? request.method == "POST" && request.side_call
                      : (request.method == "GET" || request.method == "POST") &&
                            request.url.starts_with("https://cas.fuzz/v1/projects/p/locations/l"),
                "a malformed request", request.method + " " + request.url);
          },
  };
  rules.on_answer = [&rules](const ca::http_request& request, const ca::http_response& answer) {
    if (request.url != token_uri) return;
    if (auto t = handed_out(answer.status, answer.body); !t.empty())
      rules.secrets.push_back(std::move(t));
  };
  fuzz::expect_no_throw("gcpcas", [&] {
    auto driver = make_driver(data[0]);
    auto session = driver->start(make_job(data[0]), {});
    fuzz::step_session(*session, fuzz::as_text(data + 1, size - 1), rules);
  });
  return 0;
}
