// cbcs-docgen DATE MAN_FILE COMPLETION_FILE: writes cbcs(1) and the bash
// completion from the command declarations (run by the build).
// cbcs-docgen --readme README.md: rewrites the README's generated sections
// (the backend types) from the declarations (run by hand; a unit test says
// when it is due).

#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/command.hpp"
#include "cli/docs/command_docs.hpp"
#include "cli/docs/readme_docs.hpp"
#include "cli/version.hpp"

namespace {

int write_readme(const char* path) {
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) {
      std::cerr << "cbcs-docgen: cannot read " << path << "\n";
      return 1;
    }
  }
  try {
    auto generated = cbcs::cli::docs::generated_readme(text);
    if (generated == text) return 0;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << generated;
    if (!out) {
      std::cerr << "cbcs-docgen: cannot write " << path << "\n";
      return 1;
    }
    std::cout << "cbcs-docgen: " << path << " brought up to date\n";
    return 0;
  } catch (const std::runtime_error& e) {
    std::cerr << "cbcs-docgen: " << path << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--readme") return write_readme(argv[2]);
  if (argc != 4) {
    std::cerr << "usage: cbcs-docgen DATE MAN_FILE COMPLETION_FILE\n"
                 "       cbcs-docgen --readme README.md\n";
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
