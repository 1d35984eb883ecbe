// cbcs-docgen MAN_FILE COMPLETION_FILE: writes cbcs(1) and the bash
// completion from the command declarations (run by the build).

#include <fstream>
#include <iostream>

#include "cli/command.hpp"
#include "cli/docs/command_docs.hpp"
#include "cli/version.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cbcs-docgen DATE MAN_FILE COMPLETION_FILE\n";
    return 2;
  }
  auto commands = cbcs::cli::all_commands();
  std::ofstream man(argv[2], std::ios::binary);
  man << cbcs::cli::docs::man_page(commands, cbcs::version(), argv[1]);
  std::ofstream completion(argv[3], std::ios::binary);
  completion << cbcs::cli::docs::bash_completion(commands);
  if (!man || !completion) {
    std::cerr << "cbcs-docgen: cannot write the output files\n";
    return 1;
  }
  return 0;
}
