#include "cli/app.hpp"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <openssl/opensslv.h>

#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/version.hpp"
#include "config/config_error.hpp"
#include "config/os/this_process.hpp"
#include "crypto/pem.hpp"

namespace cbcs::cli {
namespace {

po::options_description no_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("help,h", "show this help");
  return desc;
}

int print_version(const po::variables_map&, const args_t&) {
  fmt::print("cbcs {} (OpenSSL {}.{}.{})\n", cbcs::version(), OPENSSL_VERSION_MAJOR,
             OPENSSL_VERSION_MINOR, OPENSSL_VERSION_PATCH);
  return exit_ok;
}

int print_help(const po::variables_map&, const args_t& args);

}  // namespace

std::vector<command> all_commands() {
  std::vector<command> out{
      {"help", "show the commands, or one command's options", "[COMMAND]", "cbcs help backend add",
       no_options, print_help},
      {"version", "print the version", "", "cbcs version", no_options, print_version},
  };
  for (auto& c : backend_commands()) out.push_back(c);
  for (auto& c : agent_commands()) out.push_back(c);
  for (auto& c : job_commands()) out.push_back(c);
  for (auto& c : journal_commands()) out.push_back(c);
  for (auto& c : trace_commands()) out.push_back(c);
  for (auto& c : proxy_commands()) out.push_back(c);
  for (auto& c : scm_commands()) out.push_back(c);
  for (auto& c : service_commands()) out.push_back(c);
  for (auto& c : doctor_commands()) out.push_back(c);
  for (auto& c : demo_commands()) out.push_back(c);
  return out;
}

namespace {

// The command whose path matches the most leading words of args.
const command* match(const std::vector<command>& commands, const args_t& words, std::size_t& used) {
  const command* best = nullptr;
  used = 0;
  for (const auto& c : commands) {
    std::size_t n = 0;
    std::string_view rest = c.path;
    bool ok = true;
    while (!rest.empty()) {
      auto sp = rest.find(' ');
      auto word = rest.substr(0, sp);
      if (n >= words.size() || words[n] != word) {
        ok = false;
        break;
      }
      ++n;
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
    if (ok && n > used) {
      best = &c;
      used = n;
    }
  }
  return best;
}

// The commands under a group word (`backend`, `proxy`, `service`, ...).
std::vector<const command*> group_of(const std::vector<command>& commands, std::string_view word) {
  std::vector<const command*> out;
  for (const auto& c : commands)
    if (c.path.size() > word.size() && c.path.starts_with(word) && c.path[word.size()] == ' ')
      out.push_back(&c);
  return out;
}

std::string group_help(std::string_view word, const std::vector<const command*>& group) {
  std::string out = fmt::format("usage: cbcs {} SUBCOMMAND [options]\n\nsubcommands:\n", word);
  for (const auto* c : group) out += fmt::format("  {:<18} {}\n", c->path, c->summary);
  out += fmt::format("\n`cbcs help {} SUBCOMMAND` shows its options.\n", word);
  return out;
}

// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown command 'stat' (did you mean 'status'? ...)": the nearest first word
// of a command, when it is near (a typo, or a prefix).
std::string unknown_command(const std::vector<command>& commands, std::string_view word) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& c : commands) {
    auto first = c.path.substr(0, c.path.find(' '));
    auto d = first.starts_with(word) && word.size() >= 3 ? 1 : distance(word, first);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(first);
    }
  }
  return fmt::format("unknown command '{}' ({}see cbcs help)", word,
                     best.empty() ? std::string() : "did you mean '" + best + "'? ");
}

std::string command_help(const command& c, const args_t& args) {
  std::string out = fmt::format("usage: cbcs {} {}\n\n{}\n\n", c.path, c.synopsis, c.summary);
  auto desc = c.options(args);
  out += describe_options(desc);
  if (c.extra_help) out += "\n" + c.extra_help(args);
  out += fmt::format("\nexample:\n  {}\n", c.example);
  return out;
}

std::string overview(const std::vector<command>& commands) {
  std::string out =
      "cbcs - CA Backend Connector Service\n\n"
      "usage: cbcs COMMAND [options]    (options as -name value, --name value or "
      "--name=value)\n\ncommands:\n";
  for (const auto& c : commands) out += fmt::format("  {:<18} {}\n", c.path, c.summary);
  out +=
      "\n`cbcs help COMMAND` or `cbcs COMMAND -h` shows a command's options.\n"
      "exit status: 0 success, 1 the operation failed, 2 the command line is wrong.\n";
  return out;
}

int print_help(const po::variables_map&, const args_t& args) {
  auto commands = all_commands();
  if (args.empty()) {
    fmt::print("{}", overview(commands));
    return exit_ok;
  }
  std::size_t used = 0;
  auto* c = match(commands, args, used);
  if ((!c || used != args.size()) && args.size() == 1)
    if (auto group = group_of(commands, args[0]); !group.empty()) {
      fmt::print("{}", group_help(args[0], group));
      return exit_ok;
    }
  if (!c || used != args.size())
    throw usage_error(fmt::format("no command '{}' (see cbcs help)", fmt::join(args, " ")));
  fmt::print("{}", command_help(*c, {}));
  return exit_ok;
}

int dispatch(const args_t& words) {
  auto commands = all_commands();
  if (words.empty()) {
    fmt::print(stderr, "{}", overview(commands));
    return exit_usage;
  }
  if (words[0] == "-h" || words[0] == "--help" || words[0] == "-help") {
    fmt::print("{}", overview(commands));
    return exit_ok;
  }
  if (words[0] == "--version" || words[0] == "-version") return print_version({}, {});
  std::size_t used = 0;
  auto* c = match(commands, words, used);
  if (!c) {
    // A group word alone, or with a subcommand it does not have: its subcommands.
    if (auto group = group_of(commands, words[0]); !group.empty()) {
      if (words.size() > 1 && !words[1].starts_with("-"))
        fmt::print(stderr, "cbcs: {} has no subcommand '{}'\n\n", words[0], words[1]);
      fmt::print(stderr, "{}", group_help(words[0], group));
      return exit_usage;
    }
    throw usage_error(unknown_command(commands, words[0]));
  }
  args_t rest(words.begin() + static_cast<std::ptrdiff_t>(used), words.end());
  if (c->path == "help") return print_help({}, rest);
  po::variables_map vm;
  try {
    vm = parse_options(c->options(rest), rest);
  } catch (const usage_error& e) {
    throw usage_error(fmt::format("{}: {}", c->path, e.what()));
  }
  if (vm.count("help")) {
    fmt::print("{}", command_help(*c, rest));
    return exit_ok;
  }
  return c->run(vm, rest);
}

}  // namespace

// The one line a failed command prints. It may echo what was typed, which
// may be a private key given in the wrong place: never that.
void say_failure(std::string_view prefix, std::string_view what) {
  fmt::print(stderr, "cbcs: {}{}\n", prefix, crypto::without_private_keys(what));
}

int run_app(int argc, char** argv) {
  // Everything the connector creates is private to its user.
  config::keep_new_files_private();
  args_t words(argv + 1, argv + argc);
  try {
    return dispatch(words);
  } catch (const usage_error& e) {
    say_failure({}, e.what());
    return exit_usage;
  } catch (const operation_error& e) {
    say_failure({}, e.what());
    return exit_failed;
  } catch (const config::config_error& e) {
    say_failure({}, e.what());
    return exit_failed;
  } catch (const std::exception& e) {
    say_failure("unexpected error: ", e.what());
    return exit_failed;
  }
}

}  // namespace cbcs::cli
