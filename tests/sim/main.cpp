// cbcs-sim: simulators of the services cbcs talks to, one sub-command each,
// for the integration tests. Everything listens on 127.0.0.1 only.

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace cbcs::sim::scm {
int run(int argc, char** argv);
}
namespace cbcs::sim::digicert {
int run(int argc, char** argv);
}
namespace cbcs::sim::gcpcas {
int run(int argc, char** argv);
}

namespace {

struct simulator {
  std::string_view name, summary;
  int (*run)(int argc, char** argv);
};

constexpr simulator simulators[] = {
    {"scm", "the SCM side of the connector link: registration, sessions, jobs (admin API)",
     cbcs::sim::scm::run},
    {"digicert", "DigiCert CertCentral services API (orders, approvals, revocations)",
     cbcs::sim::digicert::run},
    {"gcpcas", "Google Cloud CA Service (privateca v1, REST) and its OAuth token service",
     cbcs::sim::gcpcas::run},
};

bool is_help(std::string_view arg) { return arg == "-h" || arg == "--help" || arg == "help"; }

void print_usage() {
  fmt::print(
      "usage: cbcs-sim SIMULATOR --state-dir DIR [options]\n"
      "       cbcs-sim SIMULATOR --help\n"
      "Simulators of the services cbcs talks to, for tests; all listen on 127.0.0.1 only.\n"
      "Each prints one JSON line with its URLs when ready and stops on SIGINT/SIGTERM.\n"
      "\n"
      "simulators:\n");
  for (const auto& s : simulators) fmt::print("  {:<10}{}\n", s.name, s.summary);
  fmt::print("\nSee tests/sim/README.md for each one's API and admin API.\n");
}

// `cbcs-sim scm --help`: the options, and how to get a connector and its
// installation token from the admin API (tests/sim/scm/scm_admin.cpp).
void print_scm_help() {
  fmt::print(
      "usage: cbcs-sim scm --state-dir DIR [--port 0] [--admin-port 0] [--heartbeat-ms 15000]\n"
      "                    [--lease-ms 30000]\n"
      "The SCM side of the connector link (protocol/scm/PROTOCOL.md). Port 0 picks a free\n"
      "port. When ready it prints one line:\n"
      "  {{\"scm_url\":\"https://127.0.0.1:P\",\"admin_url\":\"http://127.0.0.1:A\","
      "\"ca_file\":\"DIR/scm-ca.pem\"}}\n"
      "State lives in memory except the CA (DIR/scm-ca.pem, .key) and server certificate.\n"
      "\n"
      "Create a connector and its installation token (admin API, plain HTTP, JSON):\n"
      "  POST ADMIN_URL/connectors  body {{\"name\": N, \"comments\": C, \"token_ttl_seconds\": S}}\n"
      "    (all optional; the token is valid 24 h unless token_ttl_seconds is given)\n"
      "  answers 201 {{\"id\": \"c-...\", \"token\": \"cbcs1....\", \"status\": \"Pending\"}}\n"
      "  The token names this simulator's URL and CA, so register needs nothing else:\n"
      "\n"
      "  curl -s -X POST http://127.0.0.1:A/connectors \\\n"
      "       -H 'Content-Type: application/json' -d '{{\"name\":\"lab-1\",\"comments\":\"test\"}}'\n"
      "  cbcs register -token cbcs1....     (or -token - to read it from standard input)\n"
      "\n"
      "A new token for an existing connector (restore, 24 h):\n"
      "  POST ADMIN_URL/connectors/ID/restore  -> 200 {{\"token\": \"cbcs1....\"}}\n"
      "  cbcs register -token cbcs1.... -force\n"
      "\n"
      "More admin routes: GET /connectors, GET|DELETE /connectors/ID, POST|GET\n"
      "/connectors/ID/jobs, GET /connectors/ID/results, GET|POST /clock, GET|POST /faults,\n"
      "GET /health. See tests/sim/README.md.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view command = argc > 1 ? argv[1] : "";
  if (command.empty() || is_help(command)) {
    print_usage();
    return 0;
  }
  for (const auto& s : simulators) {
    if (command != s.name) continue;
    if (s.name == "scm") {
      for (int i = 2; i < argc; ++i)
        if (std::string_view a = argv[i]; a == "-h" || a == "--help") {
          print_scm_help();
          return 0;
        }
    }
    // The sub-command sees only its own arguments.
    return s.run(argc - 2, argv + 2);
  }
  std::string known;
  for (const auto& s : simulators) known += (known.empty() ? "" : ", ") + std::string(s.name);
  fmt::print(stderr, "cbcs-sim: unknown simulator '{}' (simulators: {}; see cbcs-sim --help)\n",
             command, known);
  return 2;
}
