// cbcs-sim digicert: the simulated CertCentral (certcentral.hpp) on the
// shared simulator base: the Services API v2 routes on the TLS port, its
// admin routes beside the generic ones on the admin port. Registered as a
// sub-command of cbcs-sim here (common/sim_command.hpp).

#include <fmt/format.h>

#include <chrono>
#include <exception>

#include "tests/sim/common/sim_command.hpp"
#include "tests/sim/common/sim_server.hpp"
#include "tests/sim/digicert/certcentral.hpp"

namespace cbcs::sim::digicert {

int run(int argc, char** argv) {
  try {
    sim_args args(argc, argv, {"state-dir", "port", "admin-port", "api-key"});
    if (args.help() || !args.has("state-dir")) {
      fmt::print(stderr,
                 "usage: cbcs-sim digicert --state-dir DIR [--port 0] [--admin-port 0] "
                 "[--api-key KEY]\n");
      return args.help() ? 0 : 2;
    }
    auto api_key = args.get("api-key", "sim-digicert-api-key-0001");
    sim_pki pki(args.get("state-dir"), "digicert", "cbcs-sim DigiCert TLS CA");
    sim_server server(pki, {.name = "digicert",
                            .port = std::uint16_t(args.number("port", 0, 0, 65535)),
                            .admin_port = std::uint16_t(args.number("admin-port", 0, 0, 65535))});
    certcentral state(api_key);
    server.set_error_body([](int, std::string_view message) {
      json_array errors;
      errors.raw(json_object{}.str("code", "simulated_error").str("message", message).done());
      return json_object{}.raw("errors", errors.done()).done();
    });
    auto api = [&](sim_request& r) {
      auto a = state.handle(r.method, r.target, r.header("X-DC-DEVKEY"), r.body,
                            std::chrono::system_clock::now());
      sim_response out{a.status, std::move(a.body), a.content_type, std::move(a.headers)};
      return out;
    };
    const std::pair<const char*, const char*> routes[] = {
        {"GET", "/services/v2/organization"},
        {"GET", "/services/v2/user/me"},
        {"GET", "/services/v2/order/certificate"},
        {"POST", "/services/v2/order/certificate/{product}"},
        {"GET", "/services/v2/order/certificate/{id}"},
        {"POST", "/services/v2/order/certificate/{id}/reissue"},
        {"PUT", "/services/v2/order/certificate/{id}/revoke"},
        {"PUT", "/services/v2/order/certificate/{id}/status"},
        {"GET", "/services/v2/request/{id}"},
        {"PUT", "/services/v2/request/{id}/status"},
        {"GET", "/services/v2/certificate/{id}/download/format/{format}"},
        {"PUT", "/services/v2/certificate/{id}/revoke"},
    };
    for (auto [method, pattern] : routes) server.routes().add(method, pattern, api);
    auto admin = [&](sim_request& r) {
      auto a = state.admin(r.method, r.target, r.body, std::chrono::system_clock::now());
      return sim_response{a.status, std::move(a.body), a.content_type, std::move(a.headers)};
    };
    const std::pair<const char*, const char*> admin_routes[] = {
        {"GET", "/admin/orders"},         {"GET", "/admin/orders_summary"},
        {"POST", "/admin/policy"},
        {"POST", "/admin/requests/{id}"}, {"POST", "/admin/organizations/{id}"},
        {"POST", "/admin/user"},          {"POST", "/admin/limits"},
    };
    for (auto [method, pattern] : admin_routes) server.admin_routes().add(method, pattern, admin);
    server.run([&](std::uint16_t port, std::uint16_t admin_port) {
      print_ready_line(ready_line(port, admin_port, pki)
                           .str("api_key", api_key)
                           .str("base_url", fmt::format("https://127.0.0.1:{}/services/v2", port)));
    });
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "cbcs-sim digicert: {}\n", e.what());
    return 1;
  }
}

namespace {
const sim_command_registration registration{
    {"digicert", "DigiCert CertCentral services API (orders, approvals, revocations)", run}};
}  // namespace

}  // namespace cbcs::sim::digicert
