// cbcs-sim entrust: the simulated Entrust (entrust_sim.hpp), ECS under
// /enterprise/v2 and the CA Gateway under /cagw, on the shared simulator
// base with a TLS port that demands a client certificate from the
// simulator's own client CA. Registered as a sub-command of cbcs-sim here.

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <filesystem>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "tests/sim/common/sim_clients.hpp"
#include "tests/sim/common/sim_command.hpp"
#include "tests/sim/common/sim_server.hpp"
#include "tests/sim/entrust/entrust_sim.hpp"

namespace cbcs::sim::entrust {

namespace main_detail {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

}  // namespace main_detail

int run(int argc, char** argv) {
  using namespace main_detail;
  try {
    sim_args args(argc, argv, {"state-dir", "port", "admin-port", "username", "api-key"});
    if (args.help() || !args.has("state-dir")) {
      fmt::print(stderr,
                 "usage: cbcs-sim entrust --state-dir DIR [--port 0] [--admin-port 0] "
                 "[--username USER] [--api-key KEY]\n"
                 "  ECS at https://127.0.0.1:P/enterprise/v2 (HTTP Basic USER:KEY), CA Gateway\n"
                 "  at https://127.0.0.1:P/cagw; both need a client certificate from DIR/client-ca.pem\n"
                 "  (DIR/client.pem + client.key; DIR/other-client.pem is from another CA).\n"
                 "  Prints one JSON line: url, admin_url, ca_file, ecs_url, cagw_url, ca_id,\n"
                 "  username, api_key, client_ca_file, client_cert, client_key, other_client_cert,\n"
                 "  other_client_key, issuing_root_file. Admin API: tests/sim/README.md.\n");
      return args.help() ? 0 : 2;
    }
    auto dir = args.get("state-dir");
    auto username = args.get("username", "sim-entrust-user");
    auto api_key = args.get("api-key", "sim-entrust-api-key-0001");
    sim_pki pki(dir, "entrust", "cbcs-sim Entrust TLS CA");
    auto clients = make_client_files(dir, "cbcs-sim Entrust client CA", "cbcs-sim entrust client");
    entrust_sim state(username, api_key);
    auto root_file = std::filesystem::path(dir) / "issuing-root.pem";
    write_file(root_file, state.root_pem(), public_perms);

    sim_server server(pki, {.name = "entrust",
                            .port = std::uint16_t(args.number("port", 0, 0, 65535)),
                            .admin_port = std::uint16_t(args.number("admin-port", 0, 0, 65535)),
                            .client_ca_pem = clients.ca_pem});
    // 404s and injected faults without a body: ECS's shape. CA Gateway tests
    // give the fault a body, or use POST /admin/throttle {api:"cagw"}.
    server.set_error_body(
        [](int status, std::string_view message) { return entrust_sim::ecs_error(status, message).body; });
    server.on_reset([&] { state.reset(); });

    // {method, pattern, operation, false: ECS / true: CA Gateway}
    const std::string ecs = "/enterprise/v2", cagw = "/cagw/v1/certificate-authorities";
    const std::tuple<const char*, std::string, const char*, bool> api_routes[] = {
        {"GET", ecs + "/application/version", "version", false},
        {"GET", ecs + "/organizations", "organizations", false},
        {"GET", ecs + "/clients", "clients", false},
        {"GET", ecs + "/clients/{id}/domains", "domains", false},
        {"GET", ecs + "/inventories", "inventories", false},
        {"POST", ecs + "/certificates", "create", false},
        {"GET", ecs + "/certificates", "list", false},
        {"GET", ecs + "/certificates/{id}", "get", false},
        {"PATCH", ecs + "/certificates/{id}", "patch", false},
        {"POST", ecs + "/certificates/{id}/renewals", "renewals", false},
        {"POST", ecs + "/certificates/{id}/reissues", "reissues", false},
        {"POST", ecs + "/certificates/{id}/revocations", "revocations", false},
        {"GET", cagw, "cas", true},
        {"GET", cagw + "/{caId}", "ca", true},
        {"GET", cagw + "/{caId}/profiles", "profiles", true},
        {"GET", cagw + "/{caId}/profiles/{profileId}", "profile", true},
        {"POST", cagw + "/{caId}/enrollments", "enroll", true},
        {"GET", cagw + "/{caId}/certificates/{serial}", "certificate", true},
        {"POST", cagw + "/{caId}/certificates/{serial}/actions", "action", true},
    };
    for (auto& [method, pattern, op, gateway] : api_routes)
      server.routes().add(method, pattern,
                          [&state, op = std::string(op), gateway = gateway](sim_request& r) {
                            return state.finish(gateway,
                                                gateway ? state.cagw(r, op) : state.ecs(r, op));
                          });
    const std::tuple<const char*, const char*, const char*> admin_routes[] = {
        {"GET", "/admin/approval", "approval"},
        {"PUT", "/admin/approval", "approval"},
        {"POST", "/admin/approval", "approval"},
        {"POST", "/admin/orders/{id}/approve", "approve"},
        {"POST", "/admin/orders/{id}/decline", "decline"},
        {"GET", "/admin/orders", "orders"},
        {"GET", "/admin/stats", "stats"},
        {"GET", "/admin/clock", "clock"},
        {"POST", "/admin/clock", "clock"},
        {"POST", "/admin/throttle", "throttle"},
        {"POST", "/admin/truncate", "truncate"},
        {"GET", "/admin/gateway", "gateway"},
    };
    for (auto& [method, pattern, op] : admin_routes)
      server.admin_routes().add(
          method, pattern, [&state, op = std::string(op)](sim_request& r) { return state.admin(r, op); });

    server.run([&](std::uint16_t port, std::uint16_t admin_port) {
      auto url = fmt::format("https://127.0.0.1:{}", port);
      print_ready_line(ready_line(port, admin_port, pki)
                           .str("ecs_url", url + "/enterprise/v2")
                           .str("cagw_url", url + "/cagw")
                           .str("ca_id", "ca-sim-1")
                           .str("username", username)
                           .str("api_key", api_key)
                           .str("client_ca_file", clients.ca_file.string())
                           .str("client_cert", clients.cert_file.string())
                           .str("client_key", clients.key_file.string())
                           .str("other_client_cert", clients.other_cert_file.string())
                           .str("other_client_key", clients.other_key_file.string())
                           .str("issuing_root_file", root_file.string()));
    });
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "cbcs-sim entrust: {}\n", e.what());
    return 1;
  }
}

namespace {
const sim_command_registration registration{
    {"entrust", "Entrust ECS API v2 and CA Gateway (mutual TLS, approvals, renewals, revocations)",
     run}};
}  // namespace

}  // namespace cbcs::sim::entrust
