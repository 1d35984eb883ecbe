// cbcs journal check | repair: SQLite's integrity check and the jobs by
// state; a damaged journal copied, as far as it reads, into a new one.

#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/workspace.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "config/journal_repair.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

po::options_description check_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("json", po::bool_switch(), "print JSON");
  add_common_options(desc);
  return desc;
}

po::options_description repair_options(const args_t&) {
  po::options_description desc("Options");
  add_common_options(desc);
  return desc;
}

bool journal_exists(const std::filesystem::path& file) {
  std::error_code ec;
  return std::filesystem::exists(file, ec);
}

int run_check(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  auto file = ws.dir().journal_file();
  bool json = vm["json"].as<bool>();
  if (!journal_exists(file)) {
    if (json) {
      protocol::json_writer w;
      w.begin_object()
          .member("journal", file.string())
          .member("exists", false)
          .member("verdict", "ok");
      w.end_object();
      fmt::print("{}\n", w.str());
    } else {
      fmt::print("no journal yet ({})\n", file.string());
    }
    return exit_ok;
  }
  auto r = config::check_journal(file);
  bool ok = r.integrity_ok && r.counted && r.damaged_records == 0;
  if (json) {
    protocol::json_writer w;
    w.begin_object().member("journal", file.string()).member("exists", true);
    w.member("integrity", r.integrity_ok ? "ok" : "damaged");
    w.key("problems").begin_array();
    for (const auto& p : r.problems) w.value(p);
    w.end_array();
    if (r.counted) {
      w.key("jobs")
          .begin_object()
          .member("accepted", static_cast<std::uint64_t>(r.accepted))
          .member("pending", static_cast<std::uint64_t>(r.pending))
          .member("finished_unacknowledged", static_cast<std::uint64_t>(r.finished_unacked))
          .member("acknowledged", static_cast<std::uint64_t>(r.acknowledged))
          .end_object();
    } else {
      w.member("jobs_unreadable", r.count_error);
    }
    w.member("damaged_records", static_cast<std::uint64_t>(r.damaged_records));
    w.member("verdict", ok ? "ok" : "damaged");
    w.end_object();
    fmt::print("{}\n", w.str());
    return ok ? exit_ok : exit_failed;
  }
  fmt::print("journal: {}\n", file.string());
  fmt::print("integrity: {}\n", r.integrity_ok ? "ok" : "damaged");
  for (const auto& p : r.problems) fmt::print("damage: {}\n", p);
  if (r.counted) {
    fmt::print("jobs accepted, not finished: {}\n", r.accepted);
    fmt::print("jobs pending at a CA: {}\n", r.pending);
    fmt::print("jobs finished, not acknowledged: {}\n", r.finished_unacked);
    fmt::print("jobs acknowledged: {}\n", r.acknowledged);
  } else {
    fmt::print("jobs: cannot be counted: {}\n", r.count_error);
  }
  fmt::print("damaged records: {}\n", r.damaged_records);
  if (ok)
    fmt::print("verdict: ok\n");
  else
    fmt::print("verdict: damaged (stop the service, then run `cbcs journal repair`)\n");
  return ok ? exit_ok : exit_failed;
}

int run_repair(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  if (auto pid = config::service_lock::holder(ws.dir())) {
    fmt::print(stderr, "journal repair: the service (pid {}) is using {}; stop it first\n", *pid,
               ws.dir().journal_file().string());
    return exit_failed;
  }
  auto file = ws.dir().journal_file();
  if (!journal_exists(file)) {
    fmt::print("no journal yet ({}): nothing to repair\n", file.string());
    return exit_ok;
  }
  auto r = config::repair_journal(file);
  if (!r.repaired) {
    fmt::print("journal {} passes the integrity check: nothing changed\n", file.string());
    return exit_ok;
  }
  fmt::print("jobs saved: {}\n", r.jobs_saved);
  fmt::print("jobs that could not be read: {}\n", r.jobs_lost);
  fmt::print("results saved: {}\n", r.results_saved);
  if (r.results_lost) fmt::print("results lost, their jobs run again: {}\n", r.results_lost);
  fmt::print("damaged journal kept as {}\n", r.damaged_kept.string());
  fmt::print("journal repaired: {}\n", file.string());
  return exit_ok;
}

}  // namespace

std::vector<command> journal_commands() {
  return {
      {"journal check", "check the job journal's integrity and count its jobs by state", "[-json]",
       "cbcs journal check", check_options, run_check},
      {"journal repair",
       "copy what can be read from a damaged journal into a new one, keeping the damaged file", "",
       "cbcs journal repair", repair_options, run_repair},
  };
}

}  // namespace cbcs::cli
