// cbcs register | run | status: the connector's side of the SCM link
// (protocol/scm/PROTOCOL.md): registration over HTTPS with an installation
// token, the long-running session, and what state it is in.

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <map>
#include <optional>
#include <vector>
#include <exception>
#include <filesystem>
#include <charconv>
#include <cstdlib>

#include <chrono>
#include <fstream>
#include <future>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "actors/health_events.hpp"
#include "actors/http/http_client.hpp"
#include "actors/metrics/metrics_file.hpp"
#include "actors/scm/scm_session.hpp"
#include "actors/scm/server_chain.hpp"
#include "actors/scm/session_policy.hpp"
#include "actors/trace/event_log.hpp"
#include "actors/trace/operator_log.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/proxy_store.hpp"
#include "cli/runtime_session.hpp"
#include "cli/service/health_watchdog.hpp"
#include "cli/service/memory_release.hpp"
#include "cli/service/service_host.hpp"
#include "cli/version.hpp"
#include "cli/config_watch.hpp"
#include "cli/workspace.hpp"
#include "config/atomic_file.hpp"
#include "config/journal.hpp"
#include "config/config_error.hpp"
#include "config/identity.hpp"
#include "config/os/this_process.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/scm/installation_token.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::cli {
namespace {

namespace scm = protocol::scm;
using namespace std::chrono_literals;

constexpr auto registration_timeout = 30s;

std::string read_token(const po::variables_map& vm) {
  auto t = optional_string(vm, "token");
  if (!t) throw usage_error("register: missing required option -token");
  if (*t != "-") return *t;
  // Read from standard input: the token stays out of the process list.
  std::string line;
  if (!std::getline(std::cin, line))
    throw usage_error("register: option -token: '-' given but standard input is empty");
  return line;
}

// Why registration failed, in one line, from SCM's error reply.
std::string registration_failure(const protocol::ca::http_response& res) {
  try {
    auto e = scm::decode_registration_error(res.body);
    if (e.code == scm::registration_code::token_used)
      return "SCM refused the token: it was already used (ask SCM for a new installation token)";
    if (e.code == scm::registration_code::token_expired)
      return "SCM refused the token: it has expired (ask SCM for a new installation token)";
    if (e.code == scm::registration_code::token_unknown)
      return "SCM refused the token: unknown token (copy it again, or ask SCM for a new one)";
    return fmt::format("SCM refused the registration ({}, HTTP {}): {}", e.code, res.status,
                       e.message);
  } catch (const std::exception&) {
    return fmt::format("SCM answered the registration with HTTP {} and no readable error",
                       res.status);
  }
}

// The trust for the registration call: -scm-cacert, else the certificate in
// the server's own chain whose fingerprint the token pins, else system roots.
actors::tls_settings registration_trust(const scm::installation_token& token,
                                        const scm::endpoint& ep,
                                        const std::optional<std::string>& cacert_file,
                                        const actors::proxy_settings& proxy) {
  actors::tls_settings tls;
  if (cacert_file) {
    std::string pem;
    try {
      pem = config::read_file(*cacert_file, 1 << 20);
      crypto::parse_certificates(pem);
    } catch (const std::exception& e) {
      throw operation_error(fmt::format("option -scm-cacert: {}", e.what()));
    }
    tls.extra_roots_pem = pem;
    tls.system_roots = false;
    return tls;
  }
  if (token.ca_sha256.empty()) return tls;  // the token pins nothing: system roots
  std::optional<std::string> pinned;
  try {
    pinned = actors::fetch_pinned_certificate(ep.host, ep.port, proxy, token.ca_sha256, 15s);
  } catch (const std::exception& e) {
    throw operation_error(fmt::format("cannot reach SCM at {}: {}", token.scm, e.what()));
  }
  if (pinned) {
    tls.extra_roots_pem = *pinned;
    tls.system_roots = false;
    return tls;
  }
  throw operation_error(fmt::format(
      "tls: SCM at {} did not present the CA certificate the token pins (sha256 {}...); "
      "refusing to register",
      token.scm, token.ca_sha256.substr(0, 16)));
}

po::options_description register_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()  //
      ("token", po::value<std::string>()->value_name("TOKEN"),
       "the installation (or restore) token from SCM; - reads it from standard input")  //
      ("force", po::bool_switch(), "replace an existing identity (restore)")            //
      ("scm", po::value<std::string>()->value_name("URL"),
       "SCM's https origin instead of the token's")  //
      ("scm-cacert", po::value<std::string>()->value_name("FILE"),
       "trust only the CA certificates in FILE for SCM instead of the token's pin")  //
      ("proxy-type", po::value<std::string>()->value_name("TYPE"),
       "set the proxy first, as cbcs proxy set does: direct or manual (PROXY_TYPE 0/1)")       //
      ("proxy-addr", po::value<std::string>()->value_name("HOST"), "proxy host (PROXY_ADDR)")  //
      ("proxy-port", po::value<std::string>()->value_name("PORT"), "proxy port (PROXY_PORT)")  //
      ("proxy-user", po::value<std::string>()->value_name("USER"), "proxy user (PROXY_USER)")  //
      ("proxy-password", po::value<std::string>()->value_name("PASSWORD"),
       "proxy password, sealed (PROXY_PASSWORD); '-' reads the next line of standard input");
  add_common_options(desc);
  return desc;
}

// A failed register writes nothing: the files it created (the machine key,
// a vault, the config with the installer's proxy settings, the lock) go
// again, the ones it changed get their old content back, and a data
// directory it created is removed when empty.
class undo_new_files {
 public:
  explicit undo_new_files(const std::filesystem::path& root) : root_(root) {
    std::error_code ec;
    root_existed_ = std::filesystem::exists(root, ec);
    // data_dir's names (a data_dir cannot be made here: it creates the directory).
    for (const char* name : {"config.json", "vault.bin", "vault.key", ".lock"}) {
      auto file = root / name;
      std::optional<std::string> before;
      if (std::filesystem::exists(file, ec)) {
        try {
          before = config::read_file(file);
        } catch (const std::exception&) {
          before = std::nullopt;
        }
        if (!before) continue;  // unreadable: never touched
      }
      files_.push_back({file, std::move(before)});
    }
  }
  // The command succeeded: what it wrote stays, whatever follows.
  void keep() { files_.clear(), root_existed_ = true; }
  ~undo_new_files() {
    if (std::uncaught_exceptions() == 0) return;
    std::error_code ec;
    for (const auto& [file, before] : files_) {
      try {
        if (!before)
          std::filesystem::remove(file, ec);
        else if (config::read_file(file) != *before)
          config::write_file_atomic(file, *before);
      } catch (const std::exception&) {
      }
    }
    if (!root_existed_) std::filesystem::remove(root_, ec);  // only when empty
  }

 private:
  std::filesystem::path root_;
  bool root_existed_ = false;
  std::vector<std::pair<std::filesystem::path, std::optional<std::string>>> files_;
};

int run_register(const po::variables_map& vm, const args_t&) {
  undo_new_files undo(config::data_dir::resolve(optional_string(vm, "data-dir")));
  auto token_text = read_token(vm);
  if (vm.count("proxy-type") || vm.count("proxy-addr") || vm.count("proxy-port") ||
      vm.count("proxy-user") || vm.count("proxy-password")) {
    // The installer's proxy properties are stored before registering, so that
    // registration itself already goes through the proxy.
    apply_proxy_settings(workspace(vm),
                         {optional_string(vm, "proxy-type"), optional_string(vm, "proxy-addr"),
                          optional_string(vm, "proxy-port"), optional_string(vm, "proxy-user"),
                          optional_string(vm, "proxy-password")},
                         "register: option -", "proxy-");
  }
  bool force = vm["force"].as<bool>();
  scm::installation_token token;
  try {
    token = scm::check_installation_token(token_text, std::chrono::system_clock::now());
  } catch (const scm::token_error& e) {
    // A value failing its check: the command line is wrong (exit 2).
    throw usage_error(fmt::format("register: option -token: {}", e.what()));
  }
  if (auto url = optional_string(vm, "scm")) {
    auto ep = scm::parse_endpoint(*url);
    if (!ep || ep->scheme != "https" || ep->target != "/")
      throw usage_error("register: option -scm: must be an origin such as https://scm.example.com");
    token.scm = *url;
    while (token.scm.ends_with('/')) token.scm.pop_back();
  }
  auto ep = scm::parse_endpoint(token.scm);
  if (!ep) throw operation_error("option -token: its SCM address is not an https origin");

  workspace ws(vm);
  auto cfg = ws.load_config();
  {
    auto existing = config::read_identity_file(config::identity_file(ws.dir()));
    if (existing && !force)
      throw operation_error(fmt::format(
          "already registered as connector {} with {}; use -force to replace the identity",
          existing->connector_id, existing->scm_url));
  }
  actors::proxy_settings proxy;
  {
    auto vault = ws.open_vault();
    proxy = load_proxy(cfg, *vault);
  }

  auto tls = registration_trust(token, *ep, optional_string(vm, "scm-cacert"), proxy);

  // The key never leaves the connector; SCM sets the subject itself.
  auto key = crypto::generate_key("ecdsa-p256");
  auto key_pem = crypto::private_key_to_pem(key.get());
  auto hostname = config::host_name();
  scm::registration_request req{.token = std::string(token_text),
                                .csr_pem = crypto::create_csr(key.get(), "cbcs-connector", {}),
                                .hostname = hostname,
                                .os = config::os_family(),
                                .os_version = config::os_description(),
                                .version = std::string(cbcs::version())};
  // Trim like the parser did: the token text goes to SCM as issued.
  while (!req.token.empty() && std::isspace(static_cast<unsigned char>(req.token.back())))
    req.token.pop_back();
  while (!req.token.empty() && std::isspace(static_cast<unsigned char>(req.token.front())))
    req.token.erase(req.token.begin());

  actors::http_client_settings hs;
  hs.tls = tls;
  hs.proxy = proxy;
  hs.request_timeout = registration_timeout;
  protocol::ca::http_response res;
  std::string transport_error;
  {
    auto io = actors::make_io_runner();
    actors::http_client client(io, hs);
    std::promise<std::pair<protocol::ca::http_response, std::string>> done;
    auto fut = done.get_future();
    protocol::ca::http_request http_req;
    http_req.method = "POST";
    http_req.url = token.registration_url();
    http_req.headers.push_back({"Content-Type", "application/json"});
    http_req.headers.push_back({"Accept", "application/json"});
    http_req.body = scm::encode(req);
    client.send(http_req,
                [&done](protocol::ca::http_response r, protocol::ca::transport_error err) {
                  done.set_value({std::move(r), std::move(err.message)});
                });
    if (fut.wait_for(registration_timeout + 15s) != std::future_status::ready)
      throw operation_error(fmt::format("no answer from SCM at {}", token.scm));
    std::tie(res, transport_error) = fut.get();
  }
  if (!transport_error.empty())
    throw operation_error(
        fmt::format("cannot register with SCM at {}: {}", token.scm, transport_error));
  if (res.status != 200) throw operation_error(registration_failure(res));

  scm::registration_response reply;
  try {
    reply = scm::decode_registration_response(res.body);
  } catch (const std::exception& e) {
    throw operation_error(fmt::format("SCM's registration reply is unreadable: {}", e.what()));
  }
  config::connector_identity id{
      .connector_id = reply.connector_id,
      .scm_url = token.scm,
      .session_url = reply.session_url,
      .scm_ca_pem = reply.scm_ca_pem,
      .certificate_pem = reply.certificate_pem,
      .chain_pem = reply.chain_pem,
      .group = reply.group,
      .registered_at = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count(),
      .key_pem = key_pem};
  // Check everything before writing anything.
  try {
    auto certs = crypto::parse_certificates(reply.certificate_pem);
    if (!crypto::key_matches_certificate(key.get(), certs.front().get()))
      throw std::runtime_error("the certificate is not for the key this connector sent");
    crypto::parse_certificates(reply.scm_ca_pem);
    auto session = scm::parse_endpoint(reply.session_url);
    if (!session || session->scheme != "wss")
      throw std::runtime_error("the session URL is not a wss:// URL");
  } catch (const std::exception& e) {
    throw operation_error(fmt::format("SCM's registration reply is unusable: {}", e.what()));
  }

  {
    config::data_dir_lock lock(ws.dir());
    auto existing = config::read_identity_file(config::identity_file(ws.dir()));
    if (existing && !force)
      throw operation_error(fmt::format(
          "already registered as connector {} with {}; use -force to replace the identity",
          existing->connector_id, existing->scm_url));
    auto vault = ws.open_vault();
    config::save_identity(ws.dir(), *vault, id);
    undo.keep();
  }
  auto validity = config::validity_of(id.certificate_pem);
  // The line below is the operator's; the system's event log hears it too.
  actors::report_system_event(
      actors::make_event<actors::event_id::registered>(id.connector_id, id.scm_url));
  fmt::print("registered as connector {} with {} (certificate valid until {:%Y-%m-%d %H:%M} UTC)\n",
             id.connector_id, id.scm_url,
             std::chrono::floor<std::chrono::seconds>(validity.not_after));
  fmt::print("start the session with: cbcs run\n");
  return exit_ok;
}

po::options_description run_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()  //
      ("journal-retention", po::value<std::string>()->default_value("7d"),
       "keep jobs in the journal this long after SCM acknowledged their results (at least 7d)")  //
      ("log-level", po::value<std::string>()->default_value("info")->value_name("LEVEL"),
       "debug, info, warning or error")  //
      ("log-dir", po::value<std::string>()->value_name("DIR"),
       "rotating log files here (default <data dir>/logs; not used under journald)")  //
      ("log-max-size", po::value<std::string>()->default_value("10M")->value_name("SIZE"),
       "rotate a log file at this size (64K to 1G)")  //
      ("log-max-files", po::value<std::string>()->default_value("5")->value_name("N"),
       "rotated log files kept besides the current one (1 to 100)")  //
      ("metrics-file", po::value<std::string>()->value_name("FILE"),
       "write the metrics here, readable by all, e.g. into node_exporter's textfile directory "
       "(default <data dir>/metrics.prom, owner only; a name ending in .prom)");
  add_common_options(desc);
  return desc;
}

// -log-*: journald when it reads our stderr, else rotating files (and stderr).
actors::log_settings log_settings_of(const po::variables_map& vm, const workspace& ws) {
  actors::log_settings ls;
  auto level = vm["log-level"].as<std::string>();
  auto parsed = actors::parse_log_level(level);
  if (!parsed)
    throw usage_error(
        fmt::format("option -log-level: '{}' is not one of debug, info, warning, error", level));
  ls.level = *parsed;
  ls.journald = actors::journald_reads(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  auto dir = optional_string(vm, "log-dir");
  ls.dir = dir ? std::filesystem::path(*dir) : ws.dir().root() / "logs";
  auto size_text = vm["log-max-size"].as<std::string>();
  std::uint64_t size = 0;
  auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  std::string_view unit(p, static_cast<std::size_t>(size_text.data() + size_text.size() - p));
  std::uint64_t scale = unit.empty()  ? 1
                        : unit == "K" ? 1024
                        : unit == "M" ? 1 << 20
                        : unit == "G" ? 1 << 30
                                      : 0;
  if (ec != std::errc{} || p == size_text.data() || scale == 0 || size > (1u << 30) ||
      size * scale < (64u << 10) || size * scale > (1u << 30))
    throw usage_error(
        fmt::format("option -log-max-size: '{}' is not a size from 64K to 1G (such as 512K or 10M)",
                    size_text));
  ls.max_file_bytes = static_cast<std::size_t>(size * scale);
  auto files_text = vm["log-max-files"].as<std::string>();
  std::size_t files = 0;
  auto [q, ec2] = std::from_chars(files_text.data(), files_text.data() + files_text.size(), files);
  if (ec2 != std::errc{} || q != files_text.data() + files_text.size() || files < 1 || files > 100)
    throw usage_error(
        fmt::format("option -log-max-files: '{}' is not a number from 1 to 100", files_text));
  ls.max_files = files;
  return ls;
}

// Where `cbcs run` writes its metrics, every 15 s (README "Metrics").
// CBCS_TEST_METRICS_INTERVAL_MS shortens that, for the tests only.
actors::metrics::file_settings metrics_settings_of(const po::variables_map& vm,
                                                   const workspace& ws) {
  actors::metrics::file_settings ms{.file = ws.dir().metrics_file()};
  if (vm.count("metrics-file")) {
    std::filesystem::path file = vm["metrics-file"].as<std::string>();
    if (file.extension() != ".prom")
      throw usage_error(fmt::format(
          "option -metrics-file: '{}' does not end in .prom (textfile collectors read only those)",
          file.string()));
    auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    if (!std::filesystem::is_directory(dir))
      throw usage_error(fmt::format("option -metrics-file: {} is not a directory", dir.string()));
    ms.file = file;
    ms.readable_by_all = true;
  }
  if (const char* ms_text = std::getenv("CBCS_TEST_METRICS_INTERVAL_MS"))
    if (auto v = std::atoi(ms_text); v > 0) ms.interval = std::chrono::milliseconds(v);
  ms.log = [](const std::string& line) { actors::log_at(actors::log_level::warning, line); };
  return ms;
}

int run_connector(const po::variables_map& vm, service::service_notifier& notifier,
                  const service::wait_for_stop& wait_for_stop) {
  auto retention = std::chrono::seconds(
      parse_duration_seconds(vm["journal-retention"].as<std::string>(), "journal-retention"));
  // PROTOCOL.md section 6 promises SCM a week of duplicate detection.
  if (retention < config::min_journal_retention)
    throw usage_error(
        "option -journal-retention: at least 7d (SCM relies on a week of "
        "duplicate detection)");
  workspace ws(vm);
  auto log_settings = log_settings_of(vm, ws);
  auto metrics_settings = metrics_settings_of(vm, ws);
  auto cfg = ws.load_config();
  actors::proxy_settings proxy;
  {
    auto vault = ws.open_vault();
    proxy = load_proxy(cfg, *vault);
    if (!config::load_identity(ws.dir(), *vault))
      throw operation_error("not registered with SCM: run cbcs register -token T first");
  }
  // Held until the service ends; taken once the command line and the
  // registration are known good, so that a mistyped run writes nothing.
  config::service_lock one_service(ws.dir());
  try {
    actors::configure_log(log_settings);
  } catch (const std::runtime_error& e) {
    throw operation_error(e.what());
  }
  auto session = start_runtime(ws, runtime_user::service, retention);
  // Jobs accepted before a crash run again; their results reach SCM as
  // unacknowledged results.
  session.runtime->replay();
  // The router answers the probe after the replay it was sent before it.
  if (!session.runtime->probe(std::chrono::seconds(60)))
    throw operation_error("the job router did not start (no answer within 60 s)");

  actors::scm_session_options options;
  options.data_dir = ws.dir().root();
  options.version = std::string(cbcs::version());
  options.proxy = proxy;
  for (const auto& b : cfg.backends)
    options.backends.push_back({.name = b.name, .type = b.type, .state = scm::health::healthy});
  auto root = ws.dir().root();
  options.load_identity = [root]() {
    workspace w(root);
    auto v = w.open_vault();
    return config::load_identity(w.dir(), *v);
  };
  options.store_identity = [root](const config::connector_identity& id) {
    workspace w(root);
    config::data_dir_lock lock(w.dir());
    auto v = w.open_vault();  // fresh: another command may have changed it
    config::save_identity(w.dir(), *v, id);
  };
  options.log = actors::log_line;
  options.report = actors::report_event;
  // The service manager hears ready, the link's state, alive and stopping.
  options.on_link_change = [n = &notifier](const std::string& line) { n->status(line); };
  actors::report_event(
      actors::make_event<actors::event_id::service_started>(cbcs::version(), root.string()));
  actors::health_event_reporter health_events(session.runtime->health(), actors::report_event);
  actors::scm_service scm_link(*session.runtime, std::move(options));
  actors::metrics::file_writer metrics(session.runtime->metrics(), std::move(metrics_settings));
  service::memory_release memory_release;  // RSS back to its level after a burst
  notifier.ready();
  std::optional<service::health_watchdog> watchdog;
  if (auto interval = notifier.watchdog_interval(); interval.count() > 0) {
    auto* runtime = session.runtime.get();
    watchdog.emplace(
        notifier,
        std::vector<service::health_probe>{
            {"the job router", [runtime](auto timeout) { return runtime->probe(timeout); }},
            {"the SCM session", [&scm_link](auto timeout) { return scm_link.probe(timeout); }}},
        interval,
        [](const std::string& line) { actors::log_at(actors::log_level::warning, line); });
  }

  // Changes made beside the running service (backend add|remove, proxy set)
  // are in force within a few seconds, without a restart.
  std::optional<config_watch> watch;
  watch.emplace(
      ws.dir().config_file(), std::chrono::seconds(2),
      [&, proxy_in_force = proxy](const std::string& content) mutable {
        auto changed = config::parse_config(content, ws.dir().config_file());
        workspace w(root);
        auto vault = w.open_vault();  // fresh: backend add sealed new secrets
        auto new_proxy = load_proxy(changed, *vault);
        for (const auto& line : session.runtime->reconfigure(changed, *vault, new_proxy))
          actors::log_line("configuration: " + line);
        if (!(new_proxy == proxy_in_force)) {
          scm_link.use_proxy(new_proxy);
          actors::log_line("configuration: the next connection to SCM uses the new proxy settings");
          proxy_in_force = new_proxy;
        }
      },
      [](const std::string& line) { actors::log_at(actors::log_level::warning, line); });

  auto asked_by = wait_for_stop();
  watch.reset();
  actors::log_line(fmt::format("{} received; draining the session", asked_by));
  notifier.stopping();
  notifier.status("draining the session with SCM");
  if (watchdog) watchdog->stop();
  scm_link.stop();
  session.runtime->stop();
  metrics.stop();  // the last figures, the link down
  actors::report_event(actors::make_event<actors::event_id::service_stopped>(cbcs::version()));
  return exit_ok;
}

int run_service(const po::variables_map& vm, const args_t&) {
  return service::host_connector(
      [&vm](service::service_notifier& notifier, const service::wait_for_stop& wait_for_stop) {
        return run_connector(vm, notifier, wait_for_stop);
      });
}

po::options_description status_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(), "print JSON");
  add_common_options(desc);
  return desc;
}

std::string format_ms(std::int64_t ms) {
  if (ms <= 0) return "-";
  auto tp = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", std::chrono::floor<std::chrono::seconds>(tp));
}

int run_status(const po::variables_map& vm, const args_t&) {
  return show_connector_status(workspace(vm, config::data_dir::existing_only), vm["json"].as<bool>());
}

}  // namespace

int show_connector_status(const workspace& ws, bool json) {
  auto cfg = ws.load_config();
  auto id = config::read_identity_file(config::identity_file(ws.dir()));
  std::optional<config::certificate_validity> validity;
  if (id) {
    try {
      validity = config::validity_of(id->certificate_pem);
    } catch (const std::exception&) {
    }
  }
  auto now = std::chrono::system_clock::now();
  bool expired = validity && now >= validity->not_after;

  std::optional<actors::scm_policy::status_record> st;
  bool running = false;
  try {
    auto file = ws.dir().scm_status_file();
    std::error_code ec;
    if (std::filesystem::exists(file, ec))
      st = actors::scm_policy::decode_status(config::read_file(file));
  } catch (const std::exception&) {
  }
  if (st && st->pid > 0 && st->state != "stopped") running = config::process_running(st->pid);
  std::string connection = !running ? "not running" : st->state;

  auto to_ms = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  // Each backend's health as the running service sees it, and the jobs
  // waiting at its CA (approval, validation) as the journal holds them.
  auto health_of = [&](const std::string& name) -> std::pair<std::string, std::string> {
    if (!running) return {"unknown", "the service is not running"};
    for (const auto& b : st->backends)
      if (b.name == name) return {protocol::scm::to_string(b.state), b.message};
    return {"unknown", "not yet in force in the service"};
  };
  std::map<std::string, std::size_t, std::less<>> pending_at_ca;
  std::string journal_unread;
  // Held by the service now, or left pending at a deadline in the journal;
  // a job may be both (a replayed one): the larger count is at least right.
  auto count_pending = [&](const std::string& backend, std::size_t jobs) {
    auto& n = pending_at_ca[backend];
    n = std::max(n, jobs);
  };
  if (running)
    for (const auto& [name, jobs] : st->pending_at_ca)
      count_pending(name, static_cast<std::size_t>(jobs));
  std::map<std::string, std::size_t, std::less<>> in_journal;
  if (std::error_code ec; std::filesystem::exists(ws.dir().journal_file(), ec)) {
    try {
      config::journal journal(ws.dir().journal_file(), false);
      for (const auto& e : journal.unfinished())
        if (e.result && e.result->what == protocol::ca::outcome::kind::pending)
          ++in_journal[e.job.backend];
    } catch (const std::exception& e) {
      journal_unread = e.what();
    }
  }
  for (const auto& [name, jobs] : in_journal) count_pending(name, jobs);
  if (json) {
    protocol::json_writer w;
    w.begin_object()
        .member("version", std::string(cbcs::version()))
        .member("registered", id.has_value());
    if (id) {
      w.member("connector_id", id->connector_id)
          .member("scm_url", id->scm_url)
          .member("session_url", id->session_url);
      if (!id->group.empty()) w.member("group", id->group);
    }
    if (validity)
      w.member("certificate_not_after_ms", static_cast<std::int64_t>(to_ms(validity->not_after)))
          .member("certificate_expired", expired);
    w.member("service_running", running).member("connection", connection);
    if (running) {
      w.member("since_ms", st->since_ms)
          .member("last_heartbeat_ms", st->last_heartbeat_ms)
          .member("jobs_received", st->jobs_received)
          .member("results_sent", st->results_sent)
          .member("results_acked", st->results_acked);
      if (!st->message.empty()) w.member("message", st->message);
      w.member("journal", st->journal.empty() ? std::string("ok") : st->journal);
    }
    w.key("backends").begin_array();
    for (const auto& b : cfg.backends) {
      auto [health, why] = health_of(b.name);
      w.begin_object().member("name", b.name).member("type", b.type).member("health", health);
      if (!why.empty()) w.member("message", why);
      auto p = pending_at_ca.find(b.name);
      w.member("jobs_pending_at_ca",
               static_cast<std::uint64_t>(p == pending_at_ca.end() ? 0 : p->second));
      w.end_object();
    }
    w.end_array().end_object();
    fmt::print("{}\n", w.str());
    return exit_ok;
  }
  fmt::print("version:          {}\n", cbcs::version());
  if (!id) {
    fmt::print("registration:     not registered (run cbcs register -token T)\n");
  } else {
    fmt::print("registration:     registered\n");
    fmt::print("connector id:     {}\n", id->connector_id);
    fmt::print("SCM:              {}\n", id->scm_url);
    fmt::print("session URL:      {}\n", id->session_url);
    if (!id->group.empty()) fmt::print("group:            {}\n", id->group);
    if (validity)
      fmt::print("certificate:      valid until {}{}\n", format_ms(to_ms(validity->not_after)),
                 expired
                     ? " - EXPIRED: get a restore token from SCM and run cbcs register -token T "
                       "-force"
                     : "");
  }
  fmt::print("connection:       {}\n", connection);
  if (running) {
    fmt::print("  since:          {}\n", format_ms(st->since_ms));
    fmt::print("  last heartbeat: {}\n", format_ms(st->last_heartbeat_ms));
    fmt::print("  jobs received:  {}, results sent {}, acknowledged {}\n", st->jobs_received,
               st->results_sent, st->results_acked);
    if (!st->message.empty()) fmt::print("  note:           {}\n", st->message);
    fmt::print("  journal:        {}\n", st->journal.empty() ? "ok" : st->journal);
  }
  fmt::print("backends:         {}\n", cfg.backends.empty() ? "none" : "");
  for (const auto& b : cfg.backends) {
    auto [health, why] = health_of(b.name);
    auto p = pending_at_ca.find(b.name);
    fmt::print("  {} ({}): {}{}{}\n", b.name, b.type, health, why.empty() ? "" : " - " + why,
               p == pending_at_ca.end() || p->second == 0
                   ? std::string()
                   : fmt::format("; {} job(s) pending at the CA", p->second));
  }
  if (!journal_unread.empty()) fmt::print("jobs pending:     cannot tell ({})\n", journal_unread);
  return exit_ok;
}

std::vector<command> scm_commands() {
  return {
      {"register", "register this connector with SCM using an installation token",
       "-token TOKEN [-force] [-scm URL] [-scm-cacert FILE]", "cbcs register -token cbcs1.eyJ...",
       register_options, run_register},
      {"run", "run the connector: keep the session with SCM until SIGINT or SIGTERM",
       "[-journal-retention 7d] [-metrics-file FILE]", "cbcs run", run_options, run_service},
      {"status", "show registration, the session with SCM and the backends", "[--json]",
       "cbcs status --json", status_options, run_status},
  };
}

}  // namespace cbcs::cli
