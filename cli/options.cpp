#include "cli/options.hpp"

#include <sstream>

#include <fmt/format.h>
#include <boost/program_options/parsers.hpp>

#include "cli/errors.hpp"

namespace cbcs::cli {

void add_common_options(po::options_description& desc) {
  desc.add_options()  //
      ("data-dir", po::value<std::string>()->value_name("DIR"),
       "data directory (default $CBCS_DATA_DIR, else /var/lib/cbcs)")  //
      ("help,h", "show this help");
}

po::variables_map parse_options(const po::options_description& desc,
                                const std::vector<std::string>& args) {
  namespace style = po::command_line_style;
  int parse_style = (style::default_style | style::allow_long_disguise) & ~style::allow_guessing;
  po::variables_map vm;
  try {
    po::positional_options_description none;  // makes a stray word an error
    po::store(po::command_line_parser(args).options(desc).positional(none).style(parse_style).run(),
              vm);
    po::notify(vm);
  } catch (const po::too_many_positional_options_error&) {
    throw usage_error("unexpected argument (options are written -name value)");
  } catch (const po::error& e) {
    throw usage_error(e.what());
  }
  return vm;
}

std::optional<std::string> peek_option(const std::vector<std::string>& args,
                                       std::string_view name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a.starts_with("--")) {
      a.remove_prefix(2);
    } else if (a.starts_with("-")) {
      a.remove_prefix(1);
    } else {
      continue;
    }
    if (a == name) return i + 1 < args.size() ? std::optional(args[i + 1]) : std::nullopt;
    if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=')
      return std::string(a.substr(name.size() + 1));
  }
  return std::nullopt;
}

std::optional<std::string> optional_string(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<std::string>();
}

std::string describe_options(const po::options_description& desc) {
  std::string out;
  for (const auto& opt : desc.options()) {
    auto name = opt->long_name();
    auto arg = opt->semantic()->max_tokens() > 0 ? " " + opt->semantic()->name() : "";
    out += fmt::format("  -{:<28} {}\n", name + arg, opt->description());
  }
  return out;
}

}  // namespace cbcs::cli
