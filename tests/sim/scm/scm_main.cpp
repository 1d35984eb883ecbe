// `cbcs-sim scm`: options, the ready line, then serve until a signal.
// Registered as a sub-command of cbcs-sim here (common/sim_command.hpp).

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/sim_command.hpp"
#include "tests/sim/scm/scm_identity.hpp"
#include "tests/sim/scm/scm_server.hpp"
#include "tests/sim/scm/scm_state.hpp"

namespace cbcs::sim::scm {
namespace {

constexpr std::string_view usage =
    "usage: cbcs-sim scm --state-dir DIR [--port 0] [--admin-port 0] [--heartbeat-ms 15000]\n";

std::int64_t parse_number(std::string_view option, std::string_view text, std::int64_t max) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0 || v > max)
    throw std::invalid_argument(fmt::format("{} must be a number from 0 to {}", option, max));
  return v;
}

// `cbcs-sim scm --help`: the options, and how to get a connector and its
// installation token from the admin API (tests/sim/scm/scm_admin.cpp).
void print_help() {
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

int run(int argc, char** argv) {
  for (int i = 0; i < argc; ++i)
    if (std::string_view a = argv[i]; a == "-h" || a == "--help") {
      print_help();
      return 0;
    }
  std::string state_dir;
  serve_options serve_opts;
  sim_options sim;
  try {
    for (int i = 0; i < argc; ++i) {
      std::string_view arg = argv[i], value;
      if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw std::invalid_argument(fmt::format("{} needs a value", arg));
      }
      if (arg == "--state-dir")
        state_dir = value;
      else if (arg == "--port")
        serve_opts.port = static_cast<std::uint16_t>(parse_number(arg, value, 65535));
      else if (arg == "--admin-port")
        serve_opts.admin_port = static_cast<std::uint16_t>(parse_number(arg, value, 65535));
      else if (arg == "--heartbeat-ms")
        sim.heartbeat_ms = std::max<std::int64_t>(1, parse_number(arg, value, 3'600'000));
      else if (arg == "--lease-ms")
        sim.lease_ms = std::max<std::int64_t>(1, parse_number(arg, value, 86'400'000));
      else
        throw std::invalid_argument(fmt::format("unknown option {}", arg));
    }
    if (state_dir.empty()) throw std::invalid_argument("--state-dir is required");
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "cbcs-sim scm: {}\n{}", e.what(), usage);
    return 2;
  }

  try {
    scm_identity identity(state_dir);
    scm_state state(identity, sim);
    serve(state, serve_opts, [&](std::uint16_t port, std::uint16_t admin_port) {
      sim.scm_url = fmt::format("https://127.0.0.1:{}", port);
      sim.session_url = fmt::format("wss://127.0.0.1:{}{}", port, session_path);
      state.set_options(sim);
      // The one line tests wait for.
      fmt::print("{}\n", json_object{}
                             .str("scm_url", sim.scm_url)
                             .str("admin_url", fmt::format("http://127.0.0.1:{}", admin_port))
                             .str("ca_file", identity.ca_file())
                             .done());
      std::fflush(stdout);
    });
  } catch (const std::exception& e) {
    fmt::print(stderr, "cbcs-sim scm: {}\n", e.what());
    return 1;
  }
  return 0;
}

namespace {
const sim_command_registration registration{
    {"scm", "the SCM side of the connector link: registration, sessions, jobs (admin API)", run}};
}  // namespace

}  // namespace cbcs::sim::scm
