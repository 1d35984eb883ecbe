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

namespace {

// The first word that is neither an option nor the value of the option
// before it: what a too_many_positional_options_error was about.
std::string stray_word(const po::options_description& desc, const std::vector<std::string>& args) {
  bool value_next = false;
  for (const auto& a : args) {
    if (value_next) {
      value_next = false;
      continue;
    }
    if (!a.starts_with("-") || a == "-") return a;
    auto name = std::string_view(a).substr(a.starts_with("--") ? 2 : 1);
    if (name.find('=') != std::string_view::npos) continue;
    const auto* opt = desc.find_nothrow(std::string(name), false);
    value_next = opt && opt->semantic()->max_tokens() > 0;
  }
  return {};
}

}  // namespace

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
    auto word = stray_word(desc, args);
    throw usage_error(fmt::format("unexpected argument{} (options are written -name value)",
                                  word.empty() ? std::string() : " '" + word + "'"));
  } catch (const po::error& e) {
    // Boost names options --name; cbcs writes them -name (both are taken).
    std::string text = e.what();
    for (auto at = text.find("'--"); at != std::string::npos; at = text.find("'--", at + 2))
      text.erase(at + 1, 1);
    throw usage_error(text);
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
    auto text = opt->description();
    std::string arg;
    if (opt->semantic()->max_tokens() > 0) {
      // Boost writes "VALUE (=7d)", or "arg (=7d)" without a value name:
      // "-journal-retention VALUE ... (default 7d)" reads better.
      auto semantic = opt->semantic()->name();
      if (auto at = semantic.find(" (="); at != std::string::npos && semantic.ends_with(")")) {
        auto value = semantic.substr(at + 3, semantic.size() - at - 4);
        semantic.resize(at);
        if (text.find("default") == std::string::npos) text += " (default " + value + ")";
      }
      arg = " " + (semantic == "arg" ? std::string("VALUE") : semantic);
    }
    out += fmt::format("  -{:<28} {}\n", name + arg, text);
  }
  return out;
}

}  // namespace cbcs::cli
