// cbcs enroll | renew | revoke | backend test | jobs run: certificate work
// through the same actor path that SCM's jobs take (journal, router, backend
// actor, driver).

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/job_wait.hpp"
#include "cli/outcome_notes.hpp"
#include "cli/progress.hpp"
#include "cli/runtime_session.hpp"
#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/journal.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/serial_number.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/ca/registry.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

namespace ca = protocol::ca;

constexpr std::size_t max_pem_file = 256 * 1024;

void add_json_option(po::options_description& desc) {
  desc.add_options()("json", po::bool_switch(),
                     "print the CA's report as JSON (default: a table for a person)");
}

void add_job_options(po::options_description& desc) {
  desc.add_options()  //
      ("id", po::value<std::string>()->value_name("ID"),
       "job id (default: a new one); the same id never issues twice")  //
      ("timeout", po::value<std::string>()->value_name("DURATION")->default_value("2m"),
       "stop waiting after this long (e.g. 90s, 5m); 2m suits a person at the console: a "
       "job still pending then stays in the journal, and -id collects it");
  add_progress_option(desc);
}

std::string required(const po::variables_map& vm, const char* name, std::string_view command) {
  auto v = optional_string(vm, name);
  if (!v) throw usage_error(fmt::format("{}: missing required option -{}", command, name));
  return *v;
}

std::string read_input_file(const std::string& path, const char* option) {
  try {
    return config::read_file(path, max_pem_file);
  } catch (const config::config_error& e) {
    throw operation_error(fmt::format("option -{}: {}", option, e.what()));
  }
}

ca::job base_job(const po::variables_map& vm, ca::operation op, std::string_view command) {
  ca::job j;
  j.op = op;
  j.id = optional_string(vm, "id").value_or(new_job_id(ca::to_string(op)));
  if (!ca::is_valid_job_id(j.id))
    throw usage_error(
        fmt::format("{}: option -id: must be 1 to 128 printable characters without "
                    "spaces",
                    command));
  return j;
}

std::chrono::milliseconds timeout_of(const po::variables_map& vm) {
  return std::chrono::seconds(parse_duration_seconds(vm["timeout"].as<std::string>(), "timeout"));
}

// Says what the CA did that the operator did not ask for (cli/outcome_notes).
void say_what_differs(const config::connector_config& cfg, const ca::job& j, const ca::outcome& o) {
  const auto* def = cfg.find_backend(j.backend);
  const auto* type = def ? ca::find_backend_type(def->type) : nullptr;
  bool renewal_option = false;
  if (type)
    for (const auto& opt : type->options) renewal_option = renewal_option || opt.name == "renewal";
  for (const auto& note : outcome_notes(j, o, renewal_option))
    fmt::print(stderr, "note: {}\n", note);
}

int run_job(const po::variables_map& vm, ca::job j) {
  workspace ws(vm);
  auto cfg = ws.load_config();
  if (!cfg.find_backend(j.backend))
    throw operation_error(fmt::format("no backend named '{}' (see cbcs backend list)", j.backend));
  auto timeout = timeout_of(vm);
  auto session = start_runtime(ws);
  auto result = wait_for_job(*session.runtime, j, timeout, vm["quiet"].as<bool>());
  session.runtime->stop();
  if (!result) {
    fmt::print(stderr,
               "stopped waiting for job {}; it stays in the journal: run the same command with "
               "-id {} to collect it\n",
               j.id, j.id);
    return exit_failed;
  }
  bool json = vm.count("json") && vm["json"].as<bool>();
  auto status = report_outcome(j, *result, optional_string(vm, "out"), json);
  if (result->what == ca::outcome::kind::issued) say_what_differs(cfg, j, *result);
  return status;
}

po::options_description enroll_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                                      //
      ("backend", po::value<std::string>()->value_name("NAME"), "backend to issue from")  //
      ("csr", po::value<std::string>()->value_name("FILE"), "PEM certificate request")    //
      ("out", po::value<std::string>()->value_name("FILE"),
       "write certificate and chain here (default: standard output)")  //
      ("validity", po::value<std::string>()->value_name("DURATION"),
       "requested lifetime, e.g. 30d (default: the backend's)")  //
      ("profile", po::value<std::string>()->value_name("NAME"), "template or profile");
  add_job_options(desc);
  add_common_options(desc);
  return desc;
}

ca::job certificate_job(const po::variables_map& vm, ca::operation op, std::string_view command) {
  auto j = base_job(vm, op, command);
  j.backend = required(vm, "backend", command);
  auto csr_file = required(vm, "csr", command);
  j.csr_pem = read_input_file(csr_file, "csr");
  if (auto v = optional_string(vm, "validity"))
    j.validity_seconds = parse_duration_seconds(*v, "validity");
  j.profile = optional_string(vm, "profile").value_or("");
  // Last: a mistyped option is a usage error whatever the file holds.
  try {
    crypto::check_certificate_request(j.csr_pem);
  } catch (const crypto::csr_error& e) {
    // The file's name, never its content (it may be a key given by mistake).
    throw operation_error(fmt::format("option -csr: {}: {}", csr_file, e.what()));
  }
  return j;
}

int run_enroll(const po::variables_map& vm, const args_t&) {
  return run_job(vm, certificate_job(vm, ca::operation::enroll, "enroll"));
}

po::options_description renew_options(const args_t& args) {
  auto desc = enroll_options(args);
  desc.add_options()("cert", po::value<std::string>()->value_name("FILE"),
                     "the certificate being renewed (PEM)");
  return desc;
}

int run_renew(const po::variables_map& vm, const args_t&) {
  auto j = certificate_job(vm, ca::operation::renew, "renew");
  j.cert_pem = read_input_file(required(vm, "cert", "renew"), "cert");
  return run_job(vm, std::move(j));
}

po::options_description revoke_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                                       //
      ("backend", po::value<std::string>()->value_name("NAME"), "backend that issued it")  //
      ("serial", po::value<std::string>()->value_name("HEX"), "serial number in hex")      //
      ("reason", po::value<std::string>()->value_name("REASON")->default_value("unspecified"),
       "RFC 5280 reason: unspecified, keyCompromise, superseded, cessationOfOperation, ...");
  add_json_option(desc);
  add_job_options(desc);
  add_common_options(desc);
  return desc;
}

// A `cbcs revoke` of the same certificate (backend, serial, reason) that
// the journal holds unfinished (pending at the CA when the command stopped
// waiting): running the same command again collects it rather than placing
// a second revocation request. Only the CLI's own ids: a job of SCM's is the
// service's to finish.
std::optional<std::string> earlier_revoke(const workspace& ws, const ca::job& j) {
  auto file = ws.dir().journal_file();
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  try {
    config::journal journal(file);
    for (const auto& e : journal.unfinished())
      if (e.job.op == ca::operation::revoke && e.job.id.starts_with("revoke-") &&
          e.job.backend == j.backend && e.job.serial_hex == j.serial_hex &&
          e.job.reason == j.reason)
        return e.job.id;
  } catch (const std::exception&) {
    // An unreadable journal: the runtime says so when it opens it.
  }
  return std::nullopt;
}

int run_revoke(const po::variables_map& vm, const args_t&) {
  auto j = base_job(vm, ca::operation::revoke, "revoke");
  j.backend = required(vm, "backend", "revoke");
  j.serial_hex = required(vm, "serial", "revoke");
  j.reason = vm["reason"].as<std::string>();
  // Any form (case, leading zeros, colons) is one serial; the job carries
  // cbcs's own form and each driver writes its CA's.
  std::string why;
  auto serial = crypto::serial_number::parse(j.serial_hex, &why);
  if (!serial) throw usage_error(fmt::format("revoke: option -serial: {}", why));
  j.serial_hex = serial->hex();
  if (!ca::revocation_reason_code(j.reason))
    throw usage_error(fmt::format("revoke: option -reason: '{}' is not one of {}", j.reason,
                                  ca::revocation_reason_names()));
  if (!vm.count("id"))
    if (auto earlier = earlier_revoke(workspace(vm), j)) {
      fmt::print(stderr,
                 "collecting the earlier revoke of serial {} at backend {} (job {}, not finished) "
                 "instead of asking the CA again\n",
                 j.serial_hex, j.backend, *earlier);
      j.id = *earlier;
    }
  return run_job(vm, std::move(j));
}

po::options_description test_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("name", po::value<std::string>()->value_name("NAME"), "the backend");
  add_json_option(desc);
  add_job_options(desc);
  add_common_options(desc);
  return desc;
}

int run_test(const po::variables_map& vm, const args_t&) {
  auto j = base_job(vm, ca::operation::test, "backend test");
  j.backend = required(vm, "name", "backend test");
  return run_job(vm, std::move(j));
}

po::options_description jobs_run_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()  //
      ("file", po::value<std::string>()->value_name("FILE"),
       "jobs as JSON lines: {\"id\", \"operation\", \"backend\", \"csr\", ...}")  //
      ("timeout", po::value<std::string>()->value_name("DURATION")->default_value("10m"),
       "deadline of each job");
  desc.add_options()("json", po::bool_switch(),
                     "one JSON line per result, for scripts (default: a line for a person)");
  add_progress_option(desc);
  add_common_options(desc);
  return desc;
}

const char* outcome_word(const ca::outcome& o) {
  switch (o.what) {
    case ca::outcome::kind::issued:
      return "issued";
    case ca::outcome::kind::done:
      return "done";
    case ca::outcome::kind::pending:
      return "pending";
    case ca::outcome::kind::failed:
      return "failed";
  }
  return "failed";
}

// One result of jobs run as a script reads it.
std::string result_json(const std::string& id, const ca::outcome& o) {
  protocol::json_writer w(false);
  w.begin_object().member("id", id).key("result").begin_object();
  w.member("outcome", outcome_word(o));
  if (!o.serial_hex.empty()) w.member("serial", o.serial_hex);
  if (o.what == ca::outcome::kind::failed)
    w.member("error", ca::to_string(o.error)).member("message", o.message);
  w.end_object().end_object();
  return w.str();
}

// ... and as a person does: "issued   job-7  serial 0a1b...".
std::string result_line(const std::string& id, const ca::outcome& o) {
  std::string what;
  if (!o.serial_hex.empty()) what = "serial " + o.serial_hex;
  if (o.what == ca::outcome::kind::failed)
    what = fmt::format("{}: {}", ca::to_string(o.error), o.message);
  else if (o.what == ca::outcome::kind::pending)
    what = o.message.empty() ? "waiting at the CA; run again to collect it" : o.message;
  return fmt::format("{:<8} {}  {}", outcome_word(o), id, what);
}

// Runs a file of jobs concurrently and prints one line per result (JSON with --json). Run
// it again after a crash: finished ids are answered from the journal, the
// others resume; none is issued twice.
int run_jobs(const po::variables_map& vm, const args_t&) {
  auto file = required(vm, "file", "jobs run");
  std::string text;
  try {
    text = config::read_file(file, 512 << 20);
  } catch (const config::config_error& e) {
    throw operation_error(fmt::format("option -file: {}", e.what()));
  }
  std::vector<ca::job> jobs;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      jobs.push_back(ca::job_from_json(line));
    } catch (const std::invalid_argument& e) {
      throw operation_error(fmt::format("{} line {}: {}", file, line_no, e.what()));
    }
  }
  auto timeout = timeout_of(vm);
  bool json = vm["json"].as<bool>();
  workspace ws(vm);
  auto session = start_runtime(ws);
  std::set<std::string> ids;
  for (const auto& j : jobs) ids.insert(j.id);
  auto progress =
      std::make_unique<progress_display>(*session.runtime->trace(), std::move(ids),
                                         progress_display::for_stderr(vm["quiet"].as<bool>()));
  std::mutex mu;
  std::condition_variable cv;
  std::size_t done = 0, failed = 0;
  for (auto& j : jobs) {
    session.runtime->submit(
        j,
        [&](const std::string& id, const ca::outcome& o) {
          auto line = json ? result_json(id, o) : result_line(id, o);
          progress->print_above(stdout, line);
          std::lock_guard lock(mu);
          ++done;
          if (o.what == ca::outcome::kind::failed) ++failed;
          if (done == jobs.size()) cv.notify_all();  // one wake-up, not one per job
        },
        timeout, actors::connector_runtime::receipt::with_result);
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == jobs.size(); });
  }
  progress.reset();
  session.runtime->stop();
  fmt::print(stderr, "{} job(s): {} succeeded, {} failed\n", jobs.size(), jobs.size() - failed,
             failed);
  return failed ? exit_failed : exit_ok;
}

}  // namespace

std::vector<command> job_commands() {
  return {
      {"enroll", "issue a certificate for a CSR through a backend",
       "-backend NAME -csr FILE [-out FILE] [-validity 30d] [-profile P] [-id ID]",
       "cbcs enroll -backend local -csr web.csr -out web.pem -validity 30d", enroll_options,
       run_enroll},
      {"renew", "issue a successor for a certificate",
       "-backend NAME -cert FILE -csr FILE [-out FILE]",
       "cbcs renew -backend local -cert web.pem -csr web.csr -out web-new.pem", renew_options,
       run_renew},
      {"revoke", "revoke a certificate by serial number", "-backend NAME -serial HEX [-reason R]",
       "cbcs revoke -backend local -serial 3A9F... -reason keyCompromise", revoke_options,
       run_revoke},
      {"backend test", "check a backend end to end (credentials, reachability, CA state)",
       "-name NAME", "cbcs backend test -name local", test_options, run_test},
      {"jobs run", "run a file of jobs (JSON lines) concurrently; safe to re-run after a crash",
       "-file FILE", "cbcs jobs run -file jobs.jsonl", jobs_run_options, run_jobs},
  };
}

}  // namespace cbcs::cli
