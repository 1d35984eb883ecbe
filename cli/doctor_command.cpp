// cbcs doctor: everything the connector depends on, one line per check with
// a verdict and, when it is not ok, the fix. The network checks (SCM's path,
// each backend's test) run at once, each within its own deadline.

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "actors/http/connection_probe.hpp"
#include "actors/scm/session_policy.hpp"
#include "actors/trace/tracer.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/report_view.hpp"
#include "cli/runtime_session.hpp"
#include "cli/workspace.hpp"
#include "config/atomic_file.hpp"
#include "config/identity.hpp"
#include "config/journal.hpp"
#include "config/journal_repair.hpp"
#include "config/os/this_process.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/common/retry_after.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using std::chrono::system_clock;

enum class verdict { ok, warn, fail, skipped };

const char* to_string(verdict v) {
  switch (v) {
    case verdict::ok:
      return "ok";
    case verdict::warn:
      return "warn";
    case verdict::fail:
      return "fail";
    case verdict::skipped:
      return "skip";
  }
  return "fail";
}

struct check {
  std::string name;
  verdict result = verdict::ok;
  std::string detail;
  std::string fix;  // when not ok
};

// How far a clock may be from ours: Kerberos refuses tickets beyond 5
// minutes; certificates valid "from now" fail long before that is noticed.
constexpr seconds skew_warn{30};
constexpr seconds skew_fail{300};

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

std::string days_text(system_clock::duration d) {
  auto days = std::chrono::duration_cast<std::chrono::hours>(d).count() / 24;
  return days == 1 ? "1 day" : fmt::format("{} days", days);
}

std::string date_text(system_clock::time_point t) {
  auto s = system_clock::to_time_t(t);
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &s);
#else
  gmtime_r(&s, &tm);
#endif
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

check data_directory(const config::data_dir& dir) {
  check c{.name = "data directory"};
  auto root = dir.root().string();
  std::vector<std::string> found;
#ifndef _WIN32
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return {c.name, verdict::fail, root + " cannot be read", ""};
  if (st.st_uid != ::geteuid()) {
    c.result = verdict::fail;
    c.detail = fmt::format("{} belongs to uid {}, this command runs as uid {}", root, st.st_uid,
                           ::geteuid());
    c.fix = "run cbcs as the service's user (sudo -u cbcs cbcs doctor), or chown -R it";
    return c;
  }
  if ((st.st_mode & 077) != 0) {
    c.result = verdict::warn;
    c.fix = fmt::format("chmod 700 {}", root);
    found.push_back(fmt::format("mode {:o}: others may read it", st.st_mode & 0777));
  } else {
    found.push_back("owner only");
  }
#endif
  // Writable: the journal, the trace and the vault are written here.
  auto probe = dir.root() / fmt::format(".doctor-{}", crypto::to_hex(crypto::random_bytes(4)));
  try {
    config::write_file_atomic(probe, "doctor");
    std::error_code ec;
    fs::remove(probe, ec);
    found.push_back("writable");
  } catch (const std::exception& e) {
    c.result = verdict::fail;
    c.fix = "free space or fix the permissions of the data directory";
    found.push_back(fmt::format("not writable: {}", e.what()));
  }
  c.detail = fmt::format("{}: {}", root, fmt::join(found, ", "));
  return c;
}

check vault_check(const workspace& ws, const config::connector_config& cfg,
                  std::unique_ptr<config::vault>& vault) {
  check c{.name = "vault"};
  try {
    vault = ws.open_vault();
  } catch (const std::exception& e) {
    c.result = verdict::fail;
    c.detail = first_line(e.what());
    c.fix =
        "restore the vault key that sealed this vault (from backup), or add the backends "
        "and the proxy password again";
    return c;
  }
  std::vector<std::string> missing;
  for (const auto& b : cfg.backends)
    for (const auto& [option, record] : b.sealed)
      if (!vault->get(record)) missing.push_back(fmt::format("backend {} -{}", b.name, option));
  if (!cfg.proxy.password_record.empty() && !vault->get(cfg.proxy.password_record))
    missing.push_back("the proxy password");
  if (!missing.empty()) {
    c.result = verdict::fail;
    c.detail = fmt::format("the key opens it, but it lacks {}", fmt::join(missing, ", "));
    c.fix = "give them again with cbcs backend set / cbcs proxy set";
    return c;
  }
  c.detail = fmt::format("the key opens it; {} sealed secret(s) readable", vault->names().size());
  return c;
}

check journal_check(const config::data_dir& dir,
                    const std::optional<actors::scm_policy::status_record>& service) {
  check c{.name = "journal"};
  auto file = dir.journal_file();
  if (std::error_code ec; !fs::exists(file, ec)) {
    c.detail = "no journal yet (made by the first job)";
    return c;
  }
  auto r = config::check_journal(file);
  if (!r.integrity_ok || !r.counted || r.damaged_records > 0) {
    c.result = verdict::fail;
    c.detail = !r.integrity_ok ? fmt::format("damaged: {}", r.problems.empty() ? std::string("?")
                                                                               : r.problems.front())
               : !r.counted ? fmt::format("jobs unreadable: {}", r.count_error)
                               : fmt::format("{} damaged record(s)", r.damaged_records);
    c.fix = "stop the service, then cbcs journal repair (the damaged file is kept beside it)";
    return c;
  }
  c.detail = fmt::format("integrity ok; jobs: {} running, {} pending at a CA, {} finished",
                         r.accepted, r.pending, r.finished_unacked + r.acknowledged);
  if (service && !service->journal.empty()) {
    c.result = verdict::fail;
    c.detail = fmt::format("the service cannot commit: {}", service->journal);
    c.fix = "free disk space in the data directory; results are held until it commits";
  }
  return c;
}

check identity_check(const std::optional<config::connector_identity>& id) {
  check c{.name = "identity"};
  if (!id) {
    c.result = verdict::fail;
    c.detail = "not registered";
    c.fix = "cbcs register -token TOKEN (the installation token from SCM)";
    return c;
  }
  config::certificate_validity v;
  try {
    v = config::validity_of(id->certificate_pem);
  } catch (const std::exception& e) {
    return {c.name, verdict::fail, fmt::format("certificate unreadable: {}", e.what()),
            "cbcs register -token TOKEN -force"};
  }
  auto now = system_clock::now();
  if (now >= v.not_after) {
    c.result = verdict::fail;
    c.detail = fmt::format("connector {}: certificate expired on {}", id->connector_id,
                           date_text(v.not_after));
    c.fix = "register again with a new installation token: cbcs register -token TOKEN -force";
    return c;
  }
  c.detail = fmt::format("connector {}: certificate valid until {} ({} left)", id->connector_id,
                         date_text(v.not_after), days_text(v.not_after - now));
  if (now > actors::scm_policy::renewal_time(v.not_before, v.not_after) + std::chrono::hours(24)) {
    c.result = verdict::warn;
    c.detail += "; past its renewal time";
    c.fix = "keep the service connected: it renews the certificate with SCM";
  }
  return c;
}

check session_check(const std::optional<actors::scm_policy::status_record>& st) {
  check c{.name = "SCM session"};
  bool running = st && st->pid > 0 && st->state != "stopped" && config::process_running(st->pid);
  if (!running) {
    c.result = verdict::warn;
    c.detail = "the service is not running: nothing keeps the session with SCM";
    c.fix = "cbcs service start (or cbcs run)";
    return c;
  }
  if (st->state != "ready") {
    c.result = verdict::fail;
    c.detail = fmt::format("the service (pid {}) is {}{}", st->pid, st->state,
                           st->message.empty() ? "" : ": " + st->message);
    c.fix = "see the SCM path check below, and cbcs status";
    return c;
  }
  c.detail = fmt::format(
      "the service (pid {}) holds the session: WebSocket open, heartbeats "
      "answered",
      st->pid);
  return c;
}

// The fix for the step of SCM's path that failed.
std::string path_fix(const std::string& step, bool proxied) {
  if (step == "name resolution")
    return proxied ? "the proxy's host name does not resolve: check cbcs proxy show"
                   : "check the host name and this machine's DNS";
  if (step == "TCP to proxy")
    return "the proxy does not answer: start it, or correct it (cbcs proxy show, cbcs proxy set)";
  if (step == "TCP to target") return "a firewall or SCM is down: allow outbound HTTPS to SCM";
  if (step == "proxy CONNECT")
    return "the proxy refuses: check its rules for SCM's host and -user/-password (cbcs proxy set)";
  if (step == "TLS handshake")
    return "a TLS-inspecting proxy or a changed SCM certificate: exempt SCM from inspection, or "
           "register again";
  return "see cbcs proxy test";
}

struct path_result {
  check path;
  std::optional<check> clock;
};

check clock_check(std::string name, const std::string& date, system_clock::time_point received) {
  check c{.name = std::move(name)};
  auto theirs = protocol::ca::parse_http_date(date);
  if (!theirs) return {c.name, verdict::skipped, "no readable Date header", ""};
  auto skew = std::chrono::duration_cast<seconds>(*theirs - received);
  auto off = skew.count() < 0 ? -skew : skew;
  c.detail = off <= seconds(1) ? std::string("within a second of ours")
                               : fmt::format("{} s {} ours", off.count(),
                                             skew.count() > 0 ? "ahead of" : "behind");
  if (off > skew_warn) {
    c.result = off > skew_fail ? verdict::fail : verdict::warn;
    c.fix = "synchronise this machine's clock (timedatectl set-ntp true; w32tm /resync)";
  }
  return c;
}

path_result scm_path(const std::optional<config::connector_identity>& id,
                     const actors::proxy_settings& proxy) {
  path_result out{{.name = "SCM path"}, {}};
  if (!id) return {{"SCM path", verdict::skipped, "not registered", ""}, {}};
  actors::tls_settings tls;
  tls.extra_roots_pem = id->scm_ca_pem;  // the CA pinned at registration
  auto r = actors::probe_connection(id->scm_url, proxy, tls, seconds(5));
  auto received = system_clock::now();
  std::vector<std::string> steps;
  for (const auto& s : r.steps) steps.push_back(fmt::format("{} {:.0f} ms", s.name, s.ms));
  auto how = proxy.enabled ? fmt::format(" through proxy {}:{}", proxy.host, proxy.port)
                           : std::string(" directly");
  if (!r.ok) {
    const auto& failed = r.steps.back();
    out.path.result = verdict::fail;
    out.path.detail =
        fmt::format("{}{}: failed at {}: {}", id->scm_url, how, failed.name, failed.detail);
    out.path.fix = path_fix(failed.name, proxy.enabled);
    return out;
  }
  out.path.detail = fmt::format("{}{}: {} (TLS verified with the pinned SCM CA)", id->scm_url, how,
                                fmt::join(steps, ", "));
  out.clock = clock_check("clock vs SCM", r.server_date, received);
  return out;
}

// Each backend's own test (what `cbcs backend test` runs) and its health at
// start (client and agent certificate expiry, settings no job can succeed
// with), with the clock of its CA from the answers' Date headers.
std::vector<check> backend_checks(const workspace& ws, const config::connector_config& cfg,
                                  seconds deadline) {
  std::vector<check> out;
  if (cfg.backends.empty())
    return {{"backends", verdict::warn, "none configured",
             "cbcs backend add -name NAME -type TYPE ..."}};
  // Its test jobs in a journal of their own, in memory: a check changes nothing.
  auto session = start_runtime(ws, runtime_user::command, config::min_journal_retention,
                               std::make_shared<config::journal>(":memory:", false));
  std::mutex mu;
  std::map<std::string, std::pair<std::string, system_clock::time_point>> dates;
  session.runtime->trace()->observe([&](const actors::trace_event& e) {
    if (e.event != "http_done" || !e.detail.starts_with("date: ")) return;
    std::lock_guard lock(mu);
    dates[std::string(e.backend)] = {std::string(e.detail.substr(6)), system_clock::now()};
  });
  std::vector<std::pair<std::string, std::future<protocol::ca::outcome>>> tests;
  for (const auto& b : cfg.backends) {
    protocol::ca::job j;
    j.op = protocol::ca::operation::test;
    j.id = new_job_id("doctor");
    j.backend = b.name;
    auto done = std::make_shared<std::promise<protocol::ca::outcome>>();
    tests.emplace_back(b.name, done->get_future());
    session.runtime->submit(
        j, [done](const std::string&, const protocol::ca::outcome& o) { done->set_value(o); },
        deadline, actors::connector_runtime::receipt::with_result);
  }
  for (auto& [name, result] : tests) {
    check c{.name = "backend " + name};
    if (result.wait_for(deadline + seconds(10)) != std::future_status::ready) {
      out.push_back({c.name, verdict::fail, "no answer from the job path", ""});
      continue;
    }
    auto o = result.get();
    if (o.what == protocol::ca::outcome::kind::failed) {
      c.result = verdict::fail;
      c.detail = fmt::format("{}: {}", protocol::ca::to_string(o.error), first_line(o.message));
      c.fix = o.error == protocol::ca::error_class::auth
                  ? fmt::format("give the right credentials: cbcs backend set -name {} ...", name)
              : o.error == protocol::ca::error_class::network
                  ? "check the path to the CA: cbcs proxy show; cbcs proxy test -target URL"
              : o.error == protocol::ca::error_class::tls
                  ? fmt::format("trust the CA's TLS roots: cbcs backend set -name {} -cacert FILE",
                                name)
                  : fmt::format("cbcs backend test -name {} shows the whole report", name);
    } else {
      auto in_short = checks_in_short(o);
      c.detail = !in_short.empty()   ? in_short
                 : o.message.empty() ? std::string("test passed")
                                     : first_line(o.message);
      // A test that passed with warnings (a client certificate near its end).
      if (in_short.find(" warn: ") != std::string::npos) c.result = verdict::warn;
    }
    // A certificate about to expire or a setting no job can succeed with
    // shows in the health the backend reports at start.
    for (const auto& h : session.runtime->health()->snapshot())
      if (h.name == name && h.state != protocol::scm::health::healthy && !h.message.empty() &&
          c.result == verdict::ok) {
        c.result = h.state == protocol::scm::health::unhealthy ? verdict::fail : verdict::warn;
        c.detail += "; " + h.message;
      }
    out.push_back(std::move(c));
    std::lock_guard lock(mu);
    if (auto d = dates.find(name); d != dates.end())
      out.push_back(clock_check("clock vs " + name, d->second.first, d->second.second));
  }
  session.runtime->trace()->observe({});
  session.runtime->stop();
  return out;
}

po::options_description doctor_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                           //
      ("json", po::bool_switch(), "print the checks as JSON")  //
      ("timeout", po::value<std::string>()->value_name("DURATION")->default_value("30s"),
       "deadline of each network check (SCM's path, each backend's test)");
  add_common_options(desc);
  return desc;
}

void print_checks(const std::vector<check>& checks, bool json) {
  std::size_t failed = 0, warned = 0;
  for (const auto& c : checks) {
    failed += c.result == verdict::fail;
    warned += c.result == verdict::warn;
  }
  if (json) {
    protocol::json_writer w;
    w.begin_object().key("checks").begin_array();
    for (const auto& c : checks) {
      w.begin_object().member("name", c.name).member("verdict", to_string(c.result));
      w.member("detail", c.detail);
      if (!c.fix.empty()) w.member("fix", c.fix);
      w.end_object();
    }
    w.end_array();
    w.member("failed", static_cast<std::uint64_t>(failed))
        .member("warnings", static_cast<std::uint64_t>(warned));
    w.end_object();
    fmt::print("{}\n", w.str());
    return;
  }
  for (const auto& c : checks) {
    fmt::print("{:<5} {:<20} {}\n", to_string(c.result), c.name, c.detail);
    if (!c.fix.empty() && c.result != verdict::ok) fmt::print("{:<26} fix: {}\n", "", c.fix);
  }
  fmt::print("{}\n", failed   ? fmt::format("{} check(s) failed, {} warning(s)", failed, warned)
                     : warned ? fmt::format("no check failed; {} warning(s)", warned)
                              : std::string("every check passed"));
}

int run_doctor(const po::variables_map& vm, const args_t&) {
  bool json = vm["json"].as<bool>();
  auto deadline = seconds(parse_duration_seconds(vm["timeout"].as<std::string>(), "timeout"));
  std::vector<check> checks;
  std::optional<workspace> ws;
  try {
    ws.emplace(vm, config::data_dir::existing_only);
  } catch (const std::exception& e) {
    checks.push_back({"data directory", verdict::fail, e.what(),
                      "give -data-dir, or register first (cbcs register -token TOKEN)"});
    print_checks(checks, json);
    return exit_failed;
  }
  checks.push_back(data_directory(ws->dir()));
  config::connector_config cfg;
  try {
    cfg = ws->load_config();
  } catch (const std::exception& e) {
    checks.push_back({"configuration", verdict::fail, first_line(e.what()),
                      "restore config.json from backup, or fix what the message names"});
    print_checks(checks, json);
    return exit_failed;
  }
  std::optional<actors::scm_policy::status_record> service;
  try {
    if (std::error_code ec; fs::exists(ws->dir().scm_status_file(), ec))
      service = actors::scm_policy::decode_status(config::read_file(ws->dir().scm_status_file()));
  } catch (const std::exception&) {
  }
  std::unique_ptr<config::vault> vault;
  checks.push_back(vault_check(*ws, cfg, vault));
  checks.push_back(journal_check(ws->dir(), service));
  std::optional<config::connector_identity> id;
  try {
    id = config::read_identity_file(config::identity_file(ws->dir()));
    checks.push_back(identity_check(id));
  } catch (const std::exception& e) {
    checks.push_back(
        {"identity", verdict::fail, first_line(e.what()), "cbcs register -token TOKEN -force"});
  }
  checks.push_back(session_check(service));
  if (!vault) {
    for (const auto& name : {"SCM path", "backends"})
      checks.push_back({name, verdict::skipped, "needs the vault (proxy password, secrets)", ""});
    print_checks(checks, json);
    return exit_failed;
  }
  // The network checks at once: SCM's path beside every backend's test.
  auto proxy = load_proxy(cfg, *vault);
  auto path = std::async(std::launch::async, [&] { return scm_path(id, proxy); });
  std::vector<check> backends;
  try {
    backends = backend_checks(*ws, cfg, deadline);
  } catch (const std::exception& e) {
    backends.push_back({"backends", verdict::fail, first_line(e.what()), ""});
  }
  auto p = path.get();
  checks.push_back(std::move(p.path));
  if (p.clock) checks.push_back(std::move(*p.clock));
  for (auto& b : backends) checks.push_back(std::move(b));
  print_checks(checks, json);
  for (const auto& c : checks)
    if (c.result == verdict::fail) return exit_failed;
  return exit_ok;
}

}  // namespace

std::vector<command> doctor_commands() {
  return {
      {"doctor",
       "check everything the connector needs, each with a verdict and the fix (exit 0 when "
       "nothing fails)",
       "[--json] [-timeout 30s]", "cbcs doctor", doctor_options, run_doctor},
  };
}

}  // namespace cbcs::cli
