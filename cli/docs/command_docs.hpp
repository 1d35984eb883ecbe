#pragma once
// The man page cbcs(1) and the bash completion, generated from the command
// declarations (cli/command.hpp) at build time by cbcs-docgen.

#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"

namespace cbcs::cli::docs {

// roff for man(7); date as "2026-12-02", version as cbcs::version().
std::string man_page(const std::vector<command>& commands, std::string_view version,
                     std::string_view date);

// A bash completion script: command words, then each command's options.
std::string bash_completion(const std::vector<command>& commands);

// Text made safe for roff: backslashes, leading dots and quotes, hyphens.
std::string roff_escape(std::string_view text);

}  // namespace cbcs::cli::docs
