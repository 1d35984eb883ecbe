// cbcs proxy set | show | test: how every outbound connection leaves the
// machine (direct, or a manual HTTP proxy with optional Basic credentials).

#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <simdjson.h>

#include "actors/http/connection_probe.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/proxy_store.hpp"
#include "cli/runtime_session.hpp"
#include "config/atomic_file.hpp"
#include "config/identity.hpp"
#include "protocol/scm/installation_token.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

constexpr std::string_view mask = "********";

po::options_description set_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()  //
      ("type", po::value<std::string>()->value_name("TYPE"),
       "direct (installer PROXY_TYPE=0) or manual (PROXY_TYPE=1)")  //
      ("addr", po::value<std::string>()->value_name("HOST"),
       "proxy host name or IP (PROXY_ADDR)")                                             //
      ("port", po::value<std::string>()->value_name("PORT"), "proxy port (PROXY_PORT)")  //
      ("user", po::value<std::string>()->value_name("USER"),
       "user for Basic authentication (PROXY_USER)")  //
      ("password", po::value<std::string>()->value_name("PASSWORD"),
       "its password, sealed in the vault (PROXY_PASSWORD); '-' reads it from standard input");
  add_common_options(desc);
  return desc;
}

bool valid_host(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (unsigned char c : h)
    if (!(std::isalnum(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']'))
      return false;
  return true;
}

int run_set(const po::variables_map& vm, const args_t&) {
  proxy_request req{optional_string(vm, "type"), optional_string(vm, "addr"),
                    optional_string(vm, "port"), optional_string(vm, "user"),
                    optional_string(vm, "password")};
  workspace ws(vm);
  apply_proxy_settings(ws, req, "proxy set: option -", "");
  return exit_ok;
}

}  // namespace

void apply_proxy_settings(const workspace& ws, proxy_request req, std::string_view prefix,
                          std::string_view name_prefix) {
  auto opt = [&](std::string_view name) {
    return fmt::format("{}{}{}", prefix, name_prefix, name);
  };
  if (!req.type) throw usage_error(opt("type") + ": missing (direct or manual)");
  bool manual = *req.type == "manual" || *req.type == "1";
  if (!manual && *req.type != "direct" && *req.type != "0")
    throw usage_error(fmt::format("{}: '{}' is not direct or manual", opt("type"), *req.type));
  config::proxy_config proxy{.manual = manual};
  if (!manual) {
    if (req.addr || req.port || req.user || req.password)
      throw usage_error(
          fmt::format("{}: addr, port, user and password go with type manual", opt("type")));
  } else {
    if (!req.addr) throw usage_error(opt("addr") + ": missing for type manual");
    if (!req.port) throw usage_error(opt("port") + ": missing for type manual");
    if (!valid_host(*req.addr))
      throw usage_error(opt("addr") + ": must be a host name or IP address");
    if (!protocol::ca::check_positive_count(*req.port).empty() || std::stol(*req.port) > 65535)
      throw usage_error(opt("port") + ": must be a number from 1 to 65535");
    if (req.password && !req.user) throw usage_error(opt("password") + ": needs a user");
    if (req.user && !protocol::ca::check_token_text(*req.user).empty())
      throw usage_error(opt("user") + ": must be printable ASCII without spaces");
    proxy.address = *req.addr;
    proxy.port = static_cast<int>(std::stol(*req.port));
    proxy.user = req.user.value_or("");
  }
  if (req.password && *req.password == "-") {
    std::string line;
    if (!std::getline(std::cin, line))
      throw usage_error(opt("password") + ": '-' given but standard input is empty");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    req.password = line;
  }

  config::data_dir_lock lock(ws.dir());
  auto cfg = ws.load_config();
  auto vault = ws.open_vault();
  std::string record(config::proxy_password_record);
  if (req.password && !req.password->empty()) {
    vault->put(record, *req.password);
    proxy.password_record = record;
  } else {
    vault->erase(record);
  }
  vault->save();
  cfg.proxy = proxy;
  ws.save_config(cfg);
  if (manual)
    fmt::print("proxy: manual {}:{}{}\n", proxy.address, proxy.port,
               proxy.user.empty() ? "" : fmt::format(" as {} (password sealed)", proxy.user));
  else
    fmt::print("proxy: direct connections\n");
}

namespace {

po::options_description proxy_show_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(), "print JSON");
  add_common_options(desc);
  return desc;
}

int run_proxy_show(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  auto p = ws.load_config().proxy;
  if (vm["json"].as<bool>()) {
    protocol::json_writer w;
    w.begin_object().member("type", p.manual ? "manual" : "direct");
    if (p.manual) {
      w.member("address", p.address).member("port", p.port).member("user", p.user);
      w.member("password", p.password_record.empty() ? "" : std::string(mask));
    }
    w.end_object();
    fmt::print("{}\n", w.str());
    return exit_ok;
  }
  if (!p.manual) {
    fmt::print("type:     direct\n");
    return exit_ok;
  }
  fmt::print("type:     manual\naddress:  {}\nport:     {}\nuser:     {}\npassword: {}\n",
             p.address, p.port, p.user.empty() ? "(none)" : p.user,
             p.password_record.empty() ? "(none)" : std::string(mask) + " (sealed)");
  return exit_ok;
}

po::options_description test_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("target", po::value<std::string>()->value_name("URL"),
                     "URL to reach (default: the registered SCM)");
  desc.add_options()("cacert", po::value<std::string>()->value_name("FILE"),
                     "extra trusted roots for the target (PEM)");
  add_common_options(desc);
  return desc;
}

int run_test(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  auto target = optional_string(vm, "target");
  auto identity = config::read_identity_file(config::identity_file(ws.dir()));
  if (!target && identity) target = identity->scm_url;
  if (!target)
    throw usage_error("proxy test: no -target given and the connector is not registered");
  bool url_text = std::all_of(target->begin(), target->end(),
                              [](unsigned char c) { return c > ' ' && c <= '~'; });
  if (!url_text || !(target->starts_with("https://") || target->starts_with("http://")))
    throw usage_error("proxy test: option -target: must be an https:// or http:// URL");
  auto cfg = ws.load_config();
  auto vault = ws.open_vault();
  auto proxy = load_proxy(cfg, *vault);
  actors::tls_settings tls;
  if (auto cacert = optional_string(vm, "cacert")) tls.extra_roots_pem = config::read_file(*cacert);
  // SCM is verified with the CA pinned at registration, as the session does.
  if (identity) {
    auto scm = protocol::scm::parse_endpoint(identity->scm_url);
    auto endpoint = protocol::scm::parse_endpoint(*target);
    if (scm && endpoint && scm->host == endpoint->host && scm->port == endpoint->port)
      tls.extra_roots_pem += identity->scm_ca_pem;
  }
  fmt::print("testing {} {}\n", *target,
             proxy.enabled ? fmt::format("through proxy {}:{}{}", proxy.host, proxy.port,
                                         proxy.user.empty() ? "" : " as " + proxy.user)
                           : std::string("directly"));
  auto result = actors::probe_connection(*target, proxy, tls);
  for (const auto& s : result.steps)
    fmt::print("  {:<4} {:<16} {:>9.1f} ms  {}\n", s.ok ? "ok" : "FAIL", s.name, s.ms, s.detail);
  if (result.ok) {
    fmt::print("verdict: {} is reachable{}\n", *target, proxy.enabled ? " through the proxy" : "");
    return exit_ok;
  }
  const auto& failed = result.steps.back();
  fmt::print("verdict: failed at {}: {}\n", failed.name, failed.detail);
  return exit_failed;
}

}  // namespace

std::vector<command> proxy_commands() {
  return {
      {"proxy set", "connect directly, or through a manual HTTP proxy with credentials",
       "-type direct | -type manual -addr HOST -port PORT [-user U -password P]",
       "cbcs proxy set -type manual -addr proxy.corp.example -port 3128 -user cbcs -password -",
       set_options, run_set},
      {"proxy show", "show the proxy settings, password masked", "[--json]", "cbcs proxy show",
       proxy_show_options, run_proxy_show},
      {"proxy test", "test each step of the path to a URL (DNS, TCP, CONNECT, TLS, HTTP)",
       "[-target URL]", "cbcs proxy test -target https://acm-pca.eu-west-1.amazonaws.com/",
       test_options, run_test},
  };
}

}  // namespace cbcs::cli
