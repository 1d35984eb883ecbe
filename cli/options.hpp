#pragma once
// Command-line parsing shared by every command: `-name value`, `--name value`
// and `--name=value` are all accepted; abbreviations are not.

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

namespace cbcs::cli {

namespace po = boost::program_options;

// Adds --data-dir and --help, which every command takes.
void add_common_options(po::options_description& desc);

// Parses args against desc; throws usage_error with a one-line reason.
po::variables_map parse_options(const po::options_description& desc,
                                const std::vector<std::string>& args);

// The value of option `name` in args without parsing the rest (for options
// that decide which other options exist, such as `backend add -type`).
std::optional<std::string> peek_option(const std::vector<std::string>& args, std::string_view name);

std::optional<std::string> optional_string(const po::variables_map& vm, const char* name);

// The help text of desc, with options written `-name VALUE` as documented.
std::string describe_options(const po::options_description& desc);

}  // namespace cbcs::cli
