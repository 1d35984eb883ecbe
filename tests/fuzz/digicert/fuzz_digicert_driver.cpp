// The DigiCert driver reading CertCentral's answers, on the shared stepping
// loop (driver_stepping.hpp: the answers, the status byte, held-back calls,
// the properties of every outcome). A session runs for up to max_steps steps.
//
// Scenario byte: bits 0-2 the job; bit 3 -autoapprove; bit 4 -revoke order
// and -renewal renew. No message may hold the API key; every request goes to
// the endpoint with the key header.

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "driver_stepping.hpp"
#include "protocol/ca/digicert/digicert_driver.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

constexpr int max_steps = 32;
constexpr std::string_view api_key = "FUZZKEY0123456789ABCDEFGHIJKLMNOPQRS";
constexpr std::string_view base = "https://dc.fuzz/services/v2";
constexpr std::array<int, 16> statuses = {200, 200, 200, 201, 201, 204, 400, 404,
                                          401, 403, 409, 429, 500, 503, 302, -1};

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

fuzz::scenario make_scenario(std::uint8_t selector) {
  std::uint8_t pick = selector % 8;
  auto s = fuzz::ordering_scenario("dc", pick);
  if (pick == 4) {  // a revocation resumed while its request awaits approval
    fuzz::make_revoke(s, "");
    s.resume_token = "order:1715930000:request-555";
  } else if (pick == 6) {  // SCM cancels the job: its order canceled
    fuzz::make_cancel(s);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto s = make_scenario(data[0]);
  fuzz::stepping_rules rules{
      .statuses = statuses,
      .max_steps = max_steps,
      .secrets = {std::string(api_key)},
      .check_request =
          [](const ca::http_request& request) {
            fuzz::check(request.url.starts_with(base), "a request to somewhere else", request.url);
            fuzz::check(
                request.method == "GET" || request.method == "POST" || request.method == "PUT",
                "a malformed request", request.method);
            bool keyed = false;
            for (const auto& h : request.headers) keyed = keyed || h.name == "X-DC-DEVKEY";
            fuzz::check(keyed, "a request without the key header", request.url);
          },
  };
  fuzz::expect_no_throw("digicert", [&] {
    auto driver = make_driver(data[0]);
    auto session = fuzz::start_scenario(*driver, s);
    fuzz::step_session(*session, fuzz::as_text(data + 1, size - 1), rules);
  });
  return 0;
}
