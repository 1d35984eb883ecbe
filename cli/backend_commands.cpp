// cbcs backend add | list | show | remove: every option, check, help line and
// mask comes from the backend type's declaration in protocol/ca/<type>/.

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/backend_store.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/workspace.hpp"
#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/connector_config.hpp"
#include "config/data_dir.hpp"
#include "protocol/ca/option_files.hpp"
#include "protocol/ca/registry.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

namespace ca = protocol::ca;

constexpr std::size_t max_option_file_size = 1 << 20;

std::string known_types() {
  std::string out;
  for (auto* t : ca::backend_types()) out += (out.empty() ? "" : ", ") + std::string(t->name);
  return out;
}

const ca::backend_type& type_from_args(const args_t& args) {
  auto name = peek_option(args, "type");
  if (!name)
    throw usage_error("backend add: missing required option -type (one of " + known_types() + ")");
  auto* type = ca::find_backend_type(*name);
  if (!type)
    throw usage_error(
        fmt::format("unknown backend type '{}' (types: {})", *name, known_types()));
  return *type;
}

// The type's declared options (not the generated ones); `add` marks the
// required ones, `set` changes any of them.
void add_type_options(po::options_description& desc, const ca::backend_type& type,
                      bool mark_required) {
  for (const auto& opt : ca::all_options(type)) {
    if (opt.generated) continue;
    auto help = std::string(opt.help) + (opt.required && mark_required ? " (required)" : "");
    if (opt.name == "ratelimit" || opt.name == "maxinflight")
      help += fmt::format(" ({}: {})", type.name, ca::policy_summary(type));
    desc.add_options()(std::string(opt.name).c_str(),
                       po::value<std::string>()->value_name(std::string(opt.value_name)),
                       help.c_str());
  }
}

po::options_description add_options(const args_t& args) {
  po::options_description desc("Options");
  desc.add_options()                                                                     //
      ("name", po::value<std::string>()->value_name("NAME"), "name of the new backend")  //
      ("type", po::value<std::string>()->value_name("TYPE"), ("one of " + known_types()).c_str());
  // With a known -type, its own options; help without one lists every type.
  auto type_name = peek_option(args, "type");
  // An unknown type is said first, not as its options being unrecognised.
  if (type_name) add_type_options(desc, type_from_args(args), true);
  add_common_options(desc);
  return desc;
}

// Whether a type can run jobs in this cbcs (a type may be declared, its
// options checked and sealed, before its driver is written: msca today).
bool has_driver(const ca::backend_type& type) { return type.make_driver != nullptr; }

std::string add_extra_help(const args_t& args) {
  // With -type T, T alone (its options are listed above already).
  auto* only = peek_option(args, "type") ? &type_from_args(args) : nullptr;
  std::string out = only ? "" : "backend types and their options:\n";
  for (auto* t : ca::backend_types()) {
    if (only && t != only) continue;
    if (only) {
      out += fmt::format("{}: {}\n", t->name, t->title);
      if (!has_driver(*t)) out += "  its driver is not built yet: its jobs fail, saying so\n";
      out += fmt::format("  defaults: {}\n", ca::policy_summary(*t));
      continue;
    }
    out += fmt::format("\n  {} - {}{}\n", t->name, t->title,
                       has_driver(*t) ? "" : " (driver not built yet: its jobs fail)");
    for (const auto& opt : ca::all_options(*t))
      if (!opt.generated)
        out += fmt::format("    -{:<26} {}{}\n",
                           std::string(opt.name) + " " + std::string(opt.value_name), opt.help,
                           opt.required ? " (required)" : "");
    out += fmt::format("    {:<27} {}\n", "defaults:", ca::policy_summary(*t));
  }
  out +=
      "\nA secret given as '-' is read from standard input (one line per such option, in\n"
      "the order listed above), so it stays out of the shell history and the process list.\n";
  return out;
}

std::string read_secret_from_stdin(std::string_view command, std::string_view option) {
  std::string line;
  if (!std::getline(std::cin, line))
    throw usage_error(
        fmt::format("{}: option -{}: '-' given but standard input is empty", command, option));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads and checks each option value given on the command line (a file's
// content, a secret from standard input); nothing is written until all pass.
ca::option_values given_values(const ca::backend_type& type, const po::variables_map& vm,
                               std::string_view command, bool require) {
  ca::option_values values;
  std::map<std::string, std::string, std::less<>> paths;  // file options: the path given
  for (const auto& opt : ca::all_options(type)) {
    if (opt.generated) continue;
    auto given = optional_string(vm, std::string(opt.name).c_str());
    if (!given) {
      if (opt.required && require)
        throw usage_error(fmt::format("{}: missing required option -{} for type {}", command,
                                      opt.name, type.name));
      continue;
    }
    std::string value = *given;
    if (ca::is_file(opt.kind)) {
      try {
        value = config::read_file(value, max_option_file_size);
      } catch (const config::config_error& e) {
        throw operation_error(fmt::format("{}: option -{}: {}", command, opt.name, e.what()));
      }
      paths.emplace(std::string(opt.name), *given);
    } else if (opt.kind == ca::option_kind::input_secret) {
      // A password on the command line shows in the process list and the history.
      if (value != "-")
        throw usage_error(fmt::format(
            "{}: option -{}: give '-' and type the password on standard input", command,
            opt.name));
      value = read_secret_from_stdin(command, opt.name);
    } else {
      if (opt.kind == ca::option_kind::secret && value == "-")
        value = read_secret_from_stdin(command, opt.name);
      if (opt.check)
        if (auto problem = opt.check(value); !problem.empty())
          throw usage_error(fmt::format("{}: option -{}: {}", command, opt.name, problem));
    }
    values.emplace(std::string(opt.name), std::move(value));
  }
  // Files in the forms administrators have them, read into the kept form
  // and checked (a PKCS#12 fills -cert and -key).
  if (auto problem = ca::read_option_files(type, values)) {
    auto path = paths.find(problem->option);
    // -cert and -key filled from -pkcs12 have no path of their own.
    if (path == paths.end() && paths.count("pkcs12")) path = paths.find("pkcs12");
    throw operation_error(
        path == paths.end()
            ? fmt::format("{}: option -{}: {}", command, problem->option, problem->text)
            : fmt::format("{}: option -{}: file {} {}", command, problem->option, path->second,
                          problem->text));
  }
  return values;
}

// The checks of the whole set (options that go together, a certificate and
// its key), as `add` and `set` both make them.
void check_together(const ca::backend_type& type, const ca::option_values& values,
                    std::string_view command) {
  if (type.check_combination)
    if (auto problem = type.check_combination(values); !problem.empty())
      throw usage_error(fmt::format("{}: {} (type {})", command, problem, type.name));
  if (type.check_all)
    if (auto problem = type.check_all(values); !problem.empty())
      throw operation_error(fmt::format("{}: {}", command, problem));
}

ca::option_values collect_values(const ca::backend_type& type, const po::variables_map& vm) {
  auto values = given_values(type, vm, "backend add", true);
  check_together(type, values, "backend add");
  return values;
}

}  // namespace

void store_backend(const workspace& ws, const std::string& name, const ca::backend_type& type,
                   const ca::option_values& values) {
  config::data_dir_lock lock(ws.dir());
  auto cfg = ws.load_config();
  if (cfg.find_backend(name))
    throw operation_error(fmt::format("backend add: a backend named '{}' exists already", name));

  config::backend_definition def{.name = name, .type = std::string(type.name)};
  auto vault = ws.open_vault();
  std::vector<std::string> added_records;
  for (const auto& opt : ca::all_options(type)) {
    auto it = values.find(opt.name);
    if (it == values.end() || !ca::is_kept(opt.kind)) continue;
    std::string key(opt.name);
    if (ca::is_sealed(opt.kind)) {
      auto record = fmt::format("backend/{}/{}", name, opt.name);
      vault->put(record, it->second);
      added_records.push_back(record);
      def.sealed.emplace(key, record);
    } else {
      def.settings.emplace(key, it->second);
    }
    if (opt.summary) def.summaries.emplace(key, opt.summary(it->second));
  }
  cfg.backends.push_back(def);
  // Vault first: a config entry must never point at a record that is not there.
  if (!added_records.empty()) vault->save();
  try {
    ws.save_config(cfg);
  } catch (...) {
    for (const auto& r : added_records) vault->erase(r);
    if (!added_records.empty()) vault->save();
    throw;
  }
}

namespace {

int run_add(const po::variables_map& vm, const args_t& args) {
  const auto& type = type_from_args(args);
  auto name = optional_string(vm, "name");
  if (!name) throw usage_error("backend add: missing required option -name");
  if (!config::is_valid_backend_name(*name))
    throw usage_error(
        fmt::format("backend add: option -name: '{}' is not a valid name (1 to 64 of letters, "
                    "digits, '-', '_', '.')",
                    *name));
  auto values = collect_values(type, vm);
  if (type.provision) values.merge(type.provision(values));

  workspace ws(vm);
  store_backend(ws, *name, type, values);
  fmt::print("added backend {} ({})\n", *name, type.name);
  if (!has_driver(type))
    fmt::print(stderr,
               "cbcs: note: the {} driver is not built yet in this cbcs: jobs for {} fail, "
               "saying so, until a cbcs with it is installed\n",
               type.name, *name);
  return exit_ok;
}

po::options_description list_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(), "print JSON");
  add_common_options(desc);
  return desc;
}

int run_list(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  auto cfg = ws.load_config();
  if (vm["json"].as<bool>()) {
    protocol::json_writer w;
    w.begin_array();
    for (const auto& b : cfg.backends)
      w.begin_object().member("name", b.name).member("type", b.type).end_object();
    w.end_array();
    fmt::print("{}\n", w.str());
    return exit_ok;
  }
  if (cfg.backends.empty()) {
    fmt::print("no backends (add one with: cbcs backend add -name N -type T ...)\n");
    return exit_ok;
  }
  fmt::print("{:<24} {}\n", "NAME", "TYPE");
  for (const auto& b : cfg.backends) fmt::print("{:<24} {}\n", b.name, b.type);
  return exit_ok;
}

po::options_description name_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("name", po::value<std::string>()->value_name("NAME"), "the backend");
  add_common_options(desc);
  return desc;
}

po::options_description show_options(const args_t& args) {
  auto desc = name_options(args);
  desc.add_options()("json", po::bool_switch(), "print JSON");
  return desc;
}

std::string required_name(const po::variables_map& vm, std::string_view command) {
  auto name = optional_string(vm, "name");
  if (!name) throw usage_error(fmt::format("{}: missing required option -name", command));
  return *name;
}

constexpr std::string_view mask = "********";

int run_show(const po::variables_map& vm, const args_t&) {
  auto name = required_name(vm, "backend show");
  workspace ws(vm, config::data_dir::existing_only);
  auto cfg = ws.load_config();
  auto* b = cfg.find_backend(name);
  if (!b) throw operation_error(fmt::format("no backend named '{}'", name));
  auto* type = ca::find_backend_type(b->type);
  // What each option shows: a setting as is, a file or secret by its summary only.
  std::vector<std::pair<std::string, std::string>> shown;
  auto summary_of = [&](const std::string& opt) {
    auto s = b->summaries.find(opt);
    return s == b->summaries.end() ? std::string{} : s->second;
  };
  std::set<std::string> seen;
  auto show_option = [&](const std::string& opt, bool file) {
    if (!seen.insert(opt).second) return;
    if (b->sealed.count(opt)) {
      auto s = summary_of(opt);
      shown.emplace_back(opt, std::string(mask) + " (sealed)" + (s.empty() ? "" : ", " + s));
    } else if (auto it = b->settings.find(opt); it != b->settings.end()) {
      shown.emplace_back(opt, file ? summary_of(opt) : it->second);
    }
  };
  if (type)
    for (const auto& opt : ca::all_options(*type))
      show_option(std::string(opt.name), ca::is_file(opt.kind));
  // Options a newer or older cbcs wrote: shown masked unless known plain.
  for (const auto& [opt, _] : b->sealed) show_option(opt, false);
  for (const auto& [opt, _] : b->settings) show_option(opt, false);

  if (vm["json"].as<bool>()) {
    protocol::json_writer w;
    w.begin_object().member("name", b->name).member("type", b->type);
    w.key("options").begin_object();
    for (const auto& [k, v] : shown) w.member(k, v);
    w.end_object().end_object();
    fmt::print("{}\n", w.str());
    return exit_ok;
  }
  fmt::print("{:<18} {}\n", "name:", b->name);
  fmt::print("{:<18} {}{}\n", "type:", b->type,
             type ? fmt::format(" ({})", type->title) : std::string(" (unknown to this cbcs)"));
  for (const auto& [k, v] : shown) fmt::print("{:<18} {}\n", k + ":", v);
  return exit_ok;
}

// A set changes the options of the type the backend has: read it from the
// configuration the command line names (nothing is created to find out).
const ca::backend_type* configured_type(const args_t& args) {
  auto name = peek_option(args, "name");
  if (!name) return nullptr;
  try {
    config::data_dir dir(config::data_dir::resolve(peek_option(args, "data-dir")),
                         config::data_dir::existing_only);
    auto cfg = config::load_config(dir.config_file());
    auto* def = cfg.find_backend(*name);
    return def ? ca::find_backend_type(def->type) : nullptr;
  } catch (const std::exception&) {
    return nullptr;  // run_set says why, in one line
  }
}

po::options_description set_options(const args_t& args) {
  po::options_description desc("Options");
  desc.add_options()("name", po::value<std::string>()->value_name("NAME"),
                     "the backend to change (its type's options follow)");
  if (auto* type = configured_type(args)) {
    add_type_options(desc, *type, false);
  } else {
    // No such backend (or no -name): every type's options parse, so that
    // run_set can say what is wrong in one line instead of "unrecognised".
    std::set<std::string, std::less<>> seen;
    for (auto* t : ca::backend_types())
      for (const auto& opt : ca::all_options(*t))
        if (!opt.generated && seen.emplace(opt.name).second)
          desc.add_options()(std::string(opt.name).c_str(),
                             po::value<std::string>()->value_name(std::string(opt.value_name)),
                             std::string(opt.help).c_str());
  }
  add_common_options(desc);
  return desc;
}

// Changes the options given, keeps the others; checked as `add` checks them,
// the whole set together. A changed secret goes to a new vault record, so
// that a running service sees the definition change and restarts the
// backend's actors with it (their running jobs go on there).
int run_set(const po::variables_map& vm, const args_t&) {
  auto name = required_name(vm, "backend set");
  workspace ws(vm, config::data_dir::existing_only);
  const config::backend_definition* before = nullptr;
  auto cfg = ws.load_config();
  before = cfg.find_backend(name);
  if (!before) throw operation_error(fmt::format("backend set: no backend named '{}'", name));
  auto* type = ca::find_backend_type(before->type);
  if (!type)
    throw operation_error(
        fmt::format("backend set: backend {} has type '{}', unknown to this cbcs", name, before->type));
  auto given = given_values(*type, vm, "backend set", false);
  if (given.empty())
    throw usage_error(fmt::format(
        "backend set: no option to change (cbcs backend set -name {} -h lists them)", name));

  config::data_dir_lock lock(ws.dir());
  cfg = ws.load_config();  // again, under the lock: another command may have changed it
  auto it = std::find_if(cfg.backends.begin(), cfg.backends.end(),
                         [&](const auto& b) { return b.name == name; });
  if (it == cfg.backends.end())
    throw operation_error(fmt::format("backend set: no backend named '{}'", name));
  auto vault = ws.open_vault();
  ca::option_values merged;
  for (const auto& [k, v] : it->settings) merged.emplace(k, v);
  for (const auto& [k, record] : it->sealed)
    if (auto secret = vault->get(record)) merged.emplace(k, *secret);
  for (const auto& [k, v] : given) merged.insert_or_assign(k, v);
  check_together(*type, merged, "backend set");

  auto changed = *it;
  std::vector<std::string> new_records, old_records, names;
  auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  for (const auto& opt : ca::all_options(*type)) {
    auto v = given.find(opt.name);
    if (v == given.end() || !ca::is_kept(opt.kind)) continue;
    std::string key(opt.name);
    names.push_back("-" + key);
    if (ca::is_sealed(opt.kind)) {
      auto record = fmt::format("backend/{}/{}/{}", name, opt.name, stamp);
      vault->put(record, v->second);
      new_records.push_back(record);
      if (auto old = changed.sealed.find(key); old != changed.sealed.end())
        old_records.push_back(old->second);
      changed.sealed.insert_or_assign(key, record);
    } else {
      changed.settings.insert_or_assign(key, v->second);
    }
    if (opt.summary) changed.summaries.insert_or_assign(key, opt.summary(v->second));
  }
  *it = changed;
  // As add: the vault first, so the config never points at a missing record;
  // the old records go once the config no longer names them.
  if (!new_records.empty()) vault->save();
  try {
    ws.save_config(cfg);
  } catch (...) {
    for (const auto& r : new_records) vault->erase(r);
    if (!new_records.empty()) vault->save();
    throw;
  }
  if (!old_records.empty()) {
    for (const auto& r : old_records) vault->erase(r);
    vault->save();
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  fmt::print("changed backend {} ({}): {}; a running service applies it within a few seconds\n",
             name, type->name, list);
  return exit_ok;
}

int run_remove(const po::variables_map& vm, const args_t&) {
  auto name = required_name(vm, "backend remove");
  workspace ws(vm);
  config::data_dir_lock lock(ws.dir());
  auto cfg = ws.load_config();
  auto it = std::find_if(cfg.backends.begin(), cfg.backends.end(),
                         [&](const auto& b) { return b.name == name; });
  if (it == cfg.backends.end()) throw operation_error(fmt::format("no backend named '{}'", name));
  auto records = it->sealed;
  cfg.backends.erase(it);
  // Config first: a leftover sealed record is harmless, a dangling reference is not.
  ws.save_config(cfg);
  if (!records.empty()) {
    auto vault = ws.open_vault();
    for (const auto& [_, record] : records) vault->erase(record);
    vault->save();
  }
  fmt::print("removed backend {}\n", name);
  return exit_ok;
}

}  // namespace

std::vector<command> backend_commands() {
  return {
      {"backend add", "add a CA backend; its secrets are sealed in the vault",
       "-name NAME -type TYPE [type options]",
       "cbcs backend add -name aws-prod -type acmpca -accesskeyid AKIA... -secretaccesskey - "
       "-region eu-west-1",
       add_options, run_add, add_extra_help},
      {"backend list", "list the configured backends", "[--json]", "cbcs backend list --json",
       list_options, run_list},
      {"backend show", "show one backend, secrets masked", "-name NAME [--json]",
       "cbcs backend show -name aws-prod", show_options, run_show},
      {"backend set", "change some options of a backend, keeping the others",
       "-name NAME [type options]", "cbcs backend set -name gcp-prod -pool pool-2", set_options,
       run_set},
      {"backend remove", "remove a backend and its sealed secrets", "-name NAME",
       "cbcs backend remove -name aws-prod", name_options, run_remove},
  };
}

}  // namespace cbcs::cli
