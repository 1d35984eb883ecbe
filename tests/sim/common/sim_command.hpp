#pragma once
// The sub-commands of cbcs-sim. Each simulator's folder registers its own
// with a namespace-scope sim_command_registration beside its run(), so
// main.cpp lists and dispatches simulators it does not name.

#include <string_view>
#include <vector>

namespace cbcs::sim {

struct sim_command {
  std::string_view name;     // cbcs-sim NAME ...
  std::string_view summary;  // one line for cbcs-sim --help
  // Sees only its own arguments (after NAME); --help is its own to answer.
  int (*run)(int argc, char** argv);
};

// Every registered simulator, in the order their objects were initialised.
inline std::vector<sim_command>& sim_commands() {
  static std::vector<sim_command> all;
  return all;
}

struct sim_command_registration {
  explicit sim_command_registration(sim_command command) { sim_commands().push_back(command); }
};

}  // namespace cbcs::sim
