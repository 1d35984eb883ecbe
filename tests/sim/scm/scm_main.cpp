// `cbcs-sim scm`: options, the ready line, then serve until a signal.

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tests/sim/common/json_out.hpp"
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

}  // namespace

int run(int argc, char** argv) {
  std::string state_dir;
  serve_options serve_opts;
  sim_options sim;
  try {
    for (int i = 0; i < argc; ++i) {
      std::string_view arg = argv[i], value;
      if (arg == "-h" || arg == "--help") {
        fmt::print("{}", usage);
        return 0;
      }
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

}  // namespace cbcs::sim::scm
