#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/options.hpp"

namespace cbcs::cli {

using args_t = std::vector<std::string>;

struct command {
  std::string_view path;      // the words that name it: "backend add"
  std::string_view summary;   // one line for `cbcs help`
  std::string_view synopsis;  // what follows the path in the usage line
  std::string_view example;   // one full example command
  // The options it takes; args are passed so that one option may decide the
  // others (backend add -type T).
  po::options_description (*options)(const args_t& args);
  int (*run)(const po::variables_map& vm, const args_t& args);
  // More help after the options; args as given (backend add -type T -h
  // tells of T alone).
  std::string (*extra_help)(const args_t& args) = nullptr;
};

// Each file of commands contributes its table.
std::vector<command> backend_commands();
std::vector<command> agent_commands();
std::vector<command> demo_commands();
std::vector<command> doctor_commands();
std::vector<command> job_commands();
std::vector<command> journal_commands();
std::vector<command> trace_commands();
std::vector<command> proxy_commands();
std::vector<command> scm_commands();
std::vector<command> service_commands();

// Every command, in help order: `cbcs help`, the man page and the completion.
std::vector<command> all_commands();

class workspace;
// `cbcs status`'s report (also the second half of `cbcs service status`).
int show_connector_status(const workspace& ws, bool json);

}  // namespace cbcs::cli
