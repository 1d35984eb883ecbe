// cbcs-sim msca: the simulated AD CS (msca_sim.hpp), CES and CEP for one CA
// and one authentication on the shared simulator base: a TLS port that
// demands a client certificate from the simulator's client CA (--auth
// certificate) or takes a WS-Security user name and password (--auth
// username). Registered as a sub-command of cbcs-sim here.

#include <fmt/format.h>

#include <exception>
#include <filesystem>

#include "tests/sim/common/sim_clients.hpp"
#include "tests/sim/common/sim_command.hpp"
#include "tests/sim/common/sim_server.hpp"
#include "tests/sim/msca/msca_sim.hpp"

namespace cbcs::sim::msca {

int run(int argc, char** argv) {
  try {
    sim_args args(argc, argv,
                  {"state-dir", "port", "admin-port", "auth", "username", "password", "ca-name",
                   "machine-name", "keytab"});
    if (args.help() || !args.has("state-dir")) {
      fmt::print(stderr,
                 "usage: cbcs-sim msca --state-dir DIR [--auth certificate|username|kerberos]\n"
                 "       [--port 0] [--admin-port 0] [--ca-name NAME] [--username DOMAIN\\\\USER]\n"
                 "       [--password PW] [--machine-name HOST] [--keytab FILE]\n"
                 "  CES at https://127.0.0.1:P/<CA>_CES_<Auth>/service.svc/CES and CEP at\n"
                 "  https://127.0.0.1:P/ADPolicyProvider_CEP_<Auth>/service.svc/CEP; with\n"
                 "  --auth certificate (the default) both need a client certificate from\n"
                 "  DIR/client-ca.pem (DIR/client.pem + client.key; DIR/other-client.pem is\n"
                 "  from another CA), with username a WS-Security UsernameToken, with kerberos\n"
                 "  HTTP Negotiate checked with the service keytab --keytab FILE (KRB5_CONFIG).\n"
                 "  Templates: MachineEnrollmentAgent (the agent's; EnrollmentAgentClientAuth\n"
                 "  adds Client Authentication), WebServer (one agent\n"
                 "  signature), WebServerApproval (held for a manager), WebServerDenied,\n"
                 "  PlainWebServer (no signature needed).\n"
                 "  Prints one JSON line: url, admin_url, ca_file, ces_url, cep_url, ca_name,\n"
                 "  issuing_ca_file, auth, username, password, client_cert, client_key,\n"
                 "  other_client_cert, other_client_key. Admin API: tests/sim/README.md.\n");
      return args.help() ? 0 : 2;
    }
    auto dir = args.get("state-dir");
    auto auth = args.get("auth", "certificate");
    if (auth != "certificate" && auth != "username" && auth != "kerberos")
      throw std::invalid_argument("--auth must be certificate, username or kerberos");
    if ((auth == "kerberos") != args.has("keytab"))
      throw std::invalid_argument("--keytab FILE (the service's keys) goes with --auth kerberos");
    auto ca_name = args.get("ca-name", "cbcs-sim Issuing CA");
    auto username = args.get("username", "CORP\\svc-cbcs");
    auto password = args.get("password", "sim-msca-Passw0rd");
    sim_pki pki(dir, "msca", "cbcs-sim AD CS TLS CA");
    auto clients = make_client_files(dir, "cbcs-sim AD CS client CA", "cbcs-sim msca client");
    msca_sim state(ca_name, auth, username, password,
                   args.get("machine-name", "cbcs-host.corp.example"), args.get("keytab", ""));
    auto issuing_file = std::filesystem::path(dir) / "issuing-ca.pem";
    write_file(issuing_file, state.ca_pem(), public_perms);

    sim_server server(pki, {.name = "msca",
                            .port = std::uint16_t(args.number("port", 0, 0, 65535)),
                            .admin_port = std::uint16_t(args.number("admin-port", 0, 0, 65535)),
                            // Its own CA too: an agent certificate with Client
                            // Authentication opens the port (-auth agent).
                            .client_ca_pem =
                                auth == "certificate" ? clients.ca_pem + state.ca_pem() : ""});
    server.on_reset([&] { state.reset(); });
    server.routes().add("POST", state.ces_path(), [&state](sim_request& r) { return state.ces(r); });
    server.routes().add("POST", state.cep_path(), [&state](sim_request& r) { return state.cep(r); });
    const std::tuple<const char*, const char*, const char*> admin_routes[] = {
        {"GET", "/admin/requests", "requests"},
        {"GET", "/admin/stats", "stats"},
        {"POST", "/admin/requests/{id}/approve", "approve"},
        {"POST", "/admin/requests/{id}/deny", "deny"},
        {"PUT", "/admin/templates/{name}", "template"},
    };
    for (auto& [method, pattern, op] : admin_routes)
      server.admin_routes().add(
          method, pattern, [&state, op = std::string(op)](sim_request& r) { return state.admin(r, op); });

    server.run([&](std::uint16_t port, std::uint16_t admin_port) {
      auto url = fmt::format("https://127.0.0.1:{}", port);
      state.set_base_url(url);
      print_ready_line(ready_line(port, admin_port, pki)
                           .str("ces_url", url + state.ces_path())
                           .str("cep_url", url + state.cep_path())
                           .str("ca_name", ca_name)
                           .str("issuing_ca_file", issuing_file.string())
                           .str("auth", auth)
                           .str("username", username)
                           .str("password", password)
                           .str("client_cert", clients.cert_file.string())
                           .str("client_key", clients.key_file.string())
                           .str("other_client_cert", clients.other_cert_file.string())
                           .str("other_client_key", clients.other_key_file.string()));
    });
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "cbcs-sim msca: {}\n", e.what());
    return 1;
  }
}

namespace {
const sim_command_registration registration{
    {"msca", "Microsoft AD CS enrollment web services, CES and CEP (agent-signed requests, "
             "pending, denials)",
     run}};
}  // namespace

}  // namespace cbcs::sim::msca
