// cbcs-sim: simulators of the services cbcs talks to, one sub-command each,
// for the integration tests. Everything listens on 127.0.0.1 only. Each
// simulator's folder registers its sub-command (common/sim_command.hpp):
// nothing here names one.

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "tests/sim/common/sim_command.hpp"

namespace {

using cbcs::sim::sim_command;

// By name: the order of static initialisation is the linker's.
std::vector<sim_command> simulators() {
  auto all = cbcs::sim::sim_commands();
  std::sort(all.begin(), all.end(),
            [](const sim_command& a, const sim_command& b) { return a.name < b.name; });
  return all;
}

bool is_help(std::string_view arg) { return arg == "-h" || arg == "--help" || arg == "help"; }

void print_usage() {
  fmt::print(
      "usage: cbcs-sim SIMULATOR --state-dir DIR [options]\n"
      "       cbcs-sim SIMULATOR --help\n"
      "Simulators of the services cbcs talks to, for tests; all listen on 127.0.0.1 only.\n"
      "Each prints one JSON line with its URLs when ready and stops on SIGINT/SIGTERM.\n"
      "\n"
      "simulators:\n");
  for (const auto& s : simulators()) fmt::print("  {:<10}{}\n", s.name, s.summary);
  fmt::print("\nSee tests/sim/README.md for each one's API and admin API.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view command = argc > 1 ? argv[1] : "";
  if (command.empty() || is_help(command)) {
    print_usage();
    return 0;
  }
  auto all = simulators();
  for (const auto& s : all)
    if (command == s.name) return s.run(argc - 2, argv + 2);
  std::string known;
  for (const auto& s : all) known += (known.empty() ? "" : ", ") + std::string(s.name);
  fmt::print(stderr, "cbcs-sim: unknown simulator '{}' (simulators: {}; see cbcs-sim --help)\n",
             command, known);
  return 2;
}
