// The Entrust driver reading ECS's and the CA Gateway's answers, on the
// shared stepping loop (driver_stepping.hpp: the answers, the status byte,
// held-back calls, the properties of every outcome).
//
// Scenario byte: bits 0-2 the job (7: SCM cancels it); bit 3 -api cagw;
// bit 4 -renewal reissue and -revokereason map. No message may hold the API
// key or the Basic credential; every ECS request carries Basic auth, no CA
// Gateway request carries credentials, and every request goes to the
// endpoint.

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "crypto/base64.hpp"
#include "driver_stepping.hpp"
#include "protocol/ca/entrust/entrust_driver.hpp"

namespace {

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

constexpr int max_steps = 32;
constexpr std::string_view api_key = "FUZZ-ENTRUST-KEY-0123456789ABCDEF";
constexpr std::string_view ecs_base = "https://ecs.fuzz/enterprise/v2";
constexpr std::string_view gateway_base = "https://cagw.fuzz/cagw";
constexpr std::array<int, 16> statuses = {200, 200, 201, 202, 201, 204, 400, 404,
                                          401, 403, 409, 429, 500, 503, 302, -1};

std::string basic_credential() {
  return crypto::base64_encode(crypto::as_bytes("fuzzuser:" + std::string(api_key)));
}

std::unique_ptr<ca::driver> make_driver(std::uint8_t selector) {
  ca::driver_config c;
  c.name = "en";
  if (selector & 8) {
    c.settings = {{"api", "cagw"},
                  {"endpoint", std::string(gateway_base)},
                  {"caid", "CA1"},
                  {"profile", "prof"}};
  } else {
    c.settings = {{"endpoint", std::string(ecs_base)}, {"username", "fuzzuser"}};
    c.secrets = {{"apikey", std::string(api_key)}};
  }
  if (selector & 16) {
    c.settings["renewal"] = "reissue";
    c.settings["revokereason"] = "map";
  }
  return ca::entrust::make_driver(c);
}

fuzz::scenario make_scenario(std::uint8_t selector) {
  std::uint8_t pick = selector % 8;
  auto s = fuzz::ordering_scenario("en", pick);
  if (pick == 4) {
    fuzz::make_revoke(s, "superseded");
  } else if (pick == 6) {  // resumed in doubt, its deadline passed
    s.resume_token = "placing:1715900000000:1715900042000";
  } else if (pick == 7) {  // SCM cancels the job waiting for approval: its order declined
    fuzz::make_cancel(s);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto s = make_scenario(data[0]);
  bool gateway = data[0] & 8;
  fuzz::stepping_rules rules{
      .statuses = statuses,
      .max_steps = max_steps,
      .secrets = {std::string(api_key), basic_credential()},
      .check_request =
          [gateway](const ca::http_request& request) {
            fuzz::check(request.url.starts_with(gateway ? gateway_base : ecs_base),
                        "a request to somewhere else", request.url);
            fuzz::check(request.method == "GET" || request.method == "POST" ||
                            (request.method == "PATCH" && !gateway),
                        "a malformed request", request.method);
            bool authorized = false;
            for (const auto& h : request.headers)
              authorized = authorized || h.name == "Authorization";
            fuzz::check(authorized != gateway,
                        gateway ? "credentials sent to the CA Gateway"
                                : "an ECS request without Basic auth",
                        request.url);
          },
  };
  fuzz::expect_no_throw("entrust", [&] {
    auto driver = make_driver(data[0]);
    auto session = fuzz::start_scenario(*driver, s);
    fuzz::step_session(*session, fuzz::as_text(data + 1, size - 1), rules);
  });
  return 0;
}
