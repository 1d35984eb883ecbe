// cbcs demo: the main job end to end with nothing configured: a data
// directory of its own, a local CA backend, and a batch of concurrent enroll,
// renew and revoke jobs through journal, router and backend actor.

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "cli/backend_store.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/runtime_session.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/registry.hpp"

namespace cbcs::cli {
namespace {

namespace ca = protocol::ca;
using clock_type = std::chrono::steady_clock;

po::options_description demo_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                                         //
      ("jobs", po::value<int>()->value_name("N")->default_value(200), "enroll jobs to run")  //
      ("rows", po::value<int>()->value_name("N")->default_value(12), "table rows to print")  //
      ("data-dir", po::value<std::string>()->value_name("DIR"),
       "use this (new or empty) data directory instead of a fresh temp one")  //
      ("help,h", "show this help");
  return desc;
}

struct row {
  std::string id, op, outcome, serial, detail;
  double ms = 0;
};

// Runs jobs concurrently and waits for all of them.
std::vector<row> run_batch(actors::connector_runtime& runtime, std::vector<ca::job> jobs,
                           std::vector<ca::outcome>* outcomes = nullptr) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<row> rows(jobs.size());
  if (outcomes) outcomes->resize(jobs.size());
  std::size_t done = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto started = clock_type::now();
    rows[i].id = jobs[i].id;
    rows[i].op = ca::to_string(jobs[i].op);
    runtime.submit(jobs[i], [&, i, started](const std::string&, const ca::outcome& o) {
      std::lock_guard lock(mu);
      auto& r = rows[i];
      r.ms = std::chrono::duration<double, std::milli>(clock_type::now() - started).count();
      r.serial = o.serial_hex;
      r.outcome = o.what == ca::outcome::kind::issued ? "issued"
                  : o.what == ca::outcome::kind::done ? "done"
                  : o.what == ca::outcome::kind::pending
                      ? "pending"
                      : std::string("failed:") + ca::to_string(o.error);
      if (o.what == ca::outcome::kind::failed) r.detail = o.message;
      if (outcomes) (*outcomes)[i] = o;
      runtime.acknowledge(r.id);
      if (++done == rows.size()) cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done == rows.size(); });
  return rows;
}

int run_demo(const po::variables_map& vm, const args_t&) {
  namespace fs = std::filesystem;
  int n = std::clamp(vm["jobs"].as<int>(), 1, 100000);
  auto root = vm.count("data-dir") ? fs::path(vm["data-dir"].as<std::string>())
                                   : fs::temp_directory_path() /
                                         ("cbcs-demo-" + crypto::to_hex(crypto::random_bytes(4)));
  fmt::print("cbcs demo: data directory {}\n", root.string());
  workspace ws(root);

  // 1. A local CA backend, stored exactly as `cbcs backend add -type local` stores it.
  const auto& local = *ca::find_backend_type("local");
  store_backend(ws, "local", local, local.provision({}));
  fmt::print(
      "  backend 'local' added: CA key sealed in the vault, CA certificate in config.json\n");

  // 2. Keys and CSRs for the batch (not timed: the connector never sees keys).
  std::vector<std::string> keys_pem, csrs;
  for (int i = 0; i < n; ++i) {
    auto key = crypto::generate_key("ecdsa-p256");
    csrs.push_back(crypto::create_csr(key.get(), fmt::format("host{}.demo.example", i),
                                      {fmt::format("host{}.demo.example", i)}));
  }

  auto session = start_runtime(ws);
  auto& runtime = *session.runtime;
  auto t0 = clock_type::now();

  std::vector<ca::job> enrolls;
  for (int i = 0; i < n; ++i)
    enrolls.push_back({.id = fmt::format("demo-enroll-{:04}", i),
                       .op = ca::operation::enroll,
                       .backend = "local",
                       .csr_pem = csrs[i],
                       .validity_seconds = 30 * 86400});
  std::vector<ca::outcome> issued;
  auto rows = run_batch(runtime, enrolls, &issued);

  std::vector<ca::job> follow_up;
  for (int i = 0; i < n; i += 4)  // renew a quarter with fresh CSRs of the same names
    if (issued[i].what == ca::outcome::kind::issued)
      follow_up.push_back({.id = fmt::format("demo-renew-{:04}", i),
                           .op = ca::operation::renew,
                           .backend = "local",
                           .csr_pem = csrs[i],
                           .cert_pem = issued[i].certificate_pem});
  for (int i = 1; i < n; i += 10)  // revoke a tenth
    if (issued[i].what == ca::outcome::kind::issued)
      follow_up.push_back({.id = fmt::format("demo-revoke-{:04}", i),
                           .op = ca::operation::revoke,
                           .backend = "local",
                           .serial_hex = issued[i].serial_hex,
                           .reason = "superseded"});
  auto more = run_batch(runtime, follow_up);
  rows.insert(rows.end(), more.begin(), more.end());
  // Replay one job id: answered from the journal, not issued again.
  auto replay = run_batch(runtime, {enrolls.front()});
  double total_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  runtime.stop();

  int shown = vm["rows"].as<int>();
  fmt::print("\n{:<20} {:<9} {:<8} {:<16} {:<34} {:>10}\n", "JOB", "OPERATION", "BACKEND",
             "OUTCOME", "SERIAL", "LATENCY");
  std::map<std::string, std::vector<double>> by_op;
  int failed = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    by_op[r.op].push_back(r.ms);
    bool ok = r.outcome == "issued" || r.outcome == "done";
    if (!ok) ++failed;
    bool show = static_cast<int>(i) < shown / 2 ||
                i + static_cast<std::size_t>(shown / 2) >= rows.size() || !ok;
    if (show)
      fmt::print("{:<20} {:<9} {:<8} {:<16} {:<34} {:>8.1f}ms{}\n", r.id, r.op, "local", r.outcome,
                 r.serial, r.ms, r.detail.empty() ? "" : "  " + r.detail);
    else if (static_cast<int>(i) == shown / 2)
      fmt::print("{:<20}\n", "...");
  }
  fmt::print("\n");
  for (auto& [op, ms] : by_op) {
    std::sort(ms.begin(), ms.end());
    fmt::print("  {:<8} {:>5} jobs  p50 {:>7.1f} ms  p99 {:>7.1f} ms\n", op, ms.size(),
               ms[ms.size() / 2],
               ms[(ms.size() * 99) / 100 == ms.size() ? ms.size() - 1 : (ms.size() * 99) / 100]);
  }
  bool replay_ok = replay.front().serial == rows.front().serial;
  fmt::print("  replayed job {}: {} (same serial, not issued twice)\n", enrolls.front().id,
             replay_ok ? "answered from the journal" : "MISMATCH");
  fmt::print("  {} jobs in {:.2f} s, {} failed\n", rows.size(), total_s, failed);
  fmt::print(
      "\nsupport trace: {}/trace/  (cbcs trace show -data-dir {} -job {})\n"
      "Not built yet: the SCM link (registration and session); the jobs above came from the\n"
      "demo itself instead of from SCM.\n",
      root.string(), root.string(), enrolls.front().id);
  return failed == 0 && replay_ok ? exit_ok : exit_failed;
}

}  // namespace

std::vector<command> demo_commands() {
  return {{"demo", "run the connector's job path end to end with nothing configured",
           "[-jobs N] [-data-dir DIR]", "cbcs demo -jobs 200", demo_options, run_demo}};
}

}  // namespace cbcs::cli
