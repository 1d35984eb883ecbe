// The DigiCert driver reading CertCentral's answers. A session runs for up
// to max_steps steps and every answer comes from the input; whatever
// CertCentral (or something in between) answers, next() returns a request
// or an outcome and never throws.
//
// Input: one scenario byte (bits 0-2: the job; bit 3: -autoapprove; bit 4:
// -revoke order and -renewal renew), then answers separated by 0xff. An
// answer is a status byte and the body; the last answer is repeated while
// the session asks for more. Status byte: bits 0-3 pick the status from
// `statuses` (15: no answer, next(nullptr)); the call held back
// by the rate limit (step_context::unsent, bit 7); bit 6: the body is also sent as
// Retry-After.
//
// Every outcome must survive the journal, and its message must be one line
// of UTF-8 without the API key; a backend code is an identifier.

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <simdjson.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "driver_answers.hpp"
#include "protocol/ca/digicert/digicert_driver.hpp"
#include "protocol/ca/job_codec.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

constexpr int max_steps = 32;
constexpr std::string_view api_key = "FUZZKEY0123456789ABCDEFGHIJKLMNOPQRS";
constexpr std::string_view base = "https://dc.fuzz/services/v2";
constexpr std::array<int, 16> statuses = {200, 200, 200, 201, 201, 204, 400, 404,
                                          401, 403, 409, 429, 500, 503, 302, -1};

// A CSR and a certificate made once (the renewal needs one to name).
struct material {
  std::string csr_pem;
  std::string cert_pem;
};
const material& fixed_material() {
  static const material m = [] {
    auto now = std::chrono::system_clock::now();
    auto root = crypto::create_root_ca("ecdsa-p256", "web.example", now, 24h * 30);
    auto key = crypto::generate_key("ecdsa-p256");
    return material{crypto::create_csr(key.get(), "web.example", {"web.example"}), root.cert_pem};
  }();
  return m;
}

std::unique_ptr<ca::driver> make_driver(std::uint8_t selector) {
  ca::driver_config c;
  c.name = "dc";
  c.settings = {{"endpoint", "https://dc.fuzz"}};
  if (selector & 8) c.settings["autoapprove"] = "true";
  if (selector & 16) {
    c.settings["revoke"] = "order";
    c.settings["renewal"] = "renew";
  }
  c.secrets = {{"apikey", std::string(api_key)}};
  return ca::digicert::make_driver(c);
}

struct scenario {
  ca::job job;
  std::string resume_token;
  bool cancel = false;
};

scenario make_scenario(std::uint8_t selector) {
  scenario s;
  s.job.id = "fuzz-job-1";
  s.job.backend = "dc";
  s.job.csr_pem = fixed_material().csr_pem;
  switch (selector % 8) {
    case 0:
    default:
      break;
    case 1:  // resumed: polls its order
      s.resume_token = "order:1715930000:4001";
      break;
    case 2:
      s.job.op = ca::operation::renew;
      s.job.cert_pem = fixed_material().cert_pem;
      break;
    case 3:
      s.job.op = ca::operation::revoke;
      s.job.serial_hex = "0a1b2c3d";
      s.job.reason = "keyCompromise";
      break;
    case 4:  // a revocation resumed while its request awaits approval
      s.job.op = ca::operation::revoke;
      s.job.serial_hex = "0a1b2c3d";
      s.resume_token = "order:1715930000:request-555";
      break;
    case 5:
      s.job.op = ca::operation::test;
      break;
    case 6:
      s.cancel = true;
      s.resume_token = "order:1715930000:4001";
      break;
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto s = make_scenario(data[0]);
  auto answers = fuzz::split_answers(fuzz::as_text(data + 1, size - 1));
  const auto now = std::chrono::sys_days{std::chrono::year{2024} / 5 / 17} + 8h;
  try {
    auto driver = make_driver(data[0]);
    std::unique_ptr<ca::job_session> session;
    if (s.cancel)
      session = dynamic_cast<ca::cancels_orders&>(*driver).cancel(s.job, s.resume_token, "fuzz");
    else
      session = driver->start(s.job, s.resume_token);
    const ca::http_response* previous = nullptr;
    ca::http_response response;
    bool unsent = false;
    std::size_t answered = 0;
    for (int i = 0; i < max_steps; ++i) {
      auto step = session->next(previous, {now, unsent});
      unsent = false;
      if (auto* o = std::get_if<ca::outcome>(&step)) {
        fuzz::check_driver_outcome(*o, {api_key});
        bool open = o->what == ca::outcome::kind::pending ||
                    (o->what == ca::outcome::kind::failed && o->retryable);
        if (!open) break;
        previous = nullptr;
        continue;
      }
      fuzz::check(!std::holds_alternative<ca::await_fetch>(step),
                  "a lone session awaits another session's credential");
      const auto& request = std::get<ca::http_request>(step);
      fuzz::check(request.url.starts_with(base), "a request to somewhere else", request.url);
      fuzz::check(request.method == "GET" || request.method == "POST" || request.method == "PUT",
                  "a malformed request", request.method);
      bool keyed = false;
      for (const auto& h : request.headers) keyed = keyed || h.name == "X-DC-DEVKEY";
      fuzz::check(keyed, "a request without the key header", request.url);
      const auto& a = answers[std::min(answered++, answers.size() - 1)];
      int status = statuses[a.status_byte & 15];
      if (status < 0 || (a.status_byte & 0x80)) {
        unsent = status >= 0;
        previous = nullptr;
        continue;
      }
      response = ca::http_response{status, {}, std::string(a.body)};
      if (a.status_byte & 0x40) response.headers.push_back({"Retry-After", std::string(a.body)});
      previous = &response;
    }
  } catch (const std::exception& e) {
    fuzz::fail("the digicert driver threw", e.what());
  } catch (...) {
    fuzz::fail("the digicert driver threw something that is not a std::exception");
  }
  return 0;
}
