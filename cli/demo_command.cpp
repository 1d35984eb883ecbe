// cbcs demo: the main job end to end on loopback with nothing configured. It
// starts the SCM simulator, creates a connector and its installation token,
// runs the real commands (register, backend add, run) in a data directory of
// its own, sends a batch of concurrent enroll, renew and revoke jobs from
// SCM, and prints what SCM got back.

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "actors/http/http_client.hpp"
#include "cli/child_process.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

namespace ca = protocol::ca;
namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

po::options_description demo_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                                         //
      ("jobs", po::value<int>()->value_name("N")->default_value(200), "enroll jobs to run")  //
      ("rows", po::value<int>()->value_name("N")->default_value(12), "table rows to print")  //
      ("help,h", "show this help");
  return desc;
}

// The simulator's admin API, over the connector's own HTTP client.
class admin_api {
 public:
  explicit admin_api(std::string base)
      : base_(std::move(base)), client_(actors::make_io_runner(), actors::http_client_settings{}) {}

  std::string call(const std::string& method, const std::string& path, std::string body = {}) {
    std::promise<std::pair<ca::http_response, std::string>> done;
    auto future = done.get_future();
    ca::http_request req{.method = method, .url = base_ + path, .body = std::move(body)};
    req.headers.push_back({"Content-Type", "application/json"});
    client_.send(req, [&done](ca::http_response r, ca::transport_error error) {
      done.set_value({std::move(r), std::move(error.message)});
    });
    auto [response, error] = future.get();
    if (!error.empty()) throw operation_error("demo: SCM simulator: " + error);
    if (response.status >= 300)
      throw operation_error(fmt::format("demo: SCM simulator answered {} to {} {}: {}",
                                        response.status, method, path, response.body));
    return response.body;
  }

 private:
  std::string base_;
  actors::http_client client_;
};

std::string field(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get_string().get(v) ? std::string{} : std::string(v);
}

struct row {
  std::string id, op, outcome, serial, detail, certificate;
  clock_type::time_point sent;
  double ms = -1;
};

// Submits jobs through SCM and waits until SCM has every result.
void run_batch(admin_api& scm, const std::string& cid, std::vector<ca::job> jobs,
               std::map<std::string, row>& rows) {
  std::string body = "[";
  for (std::size_t i = 0; i < jobs.size(); ++i) body += (i ? "," : "") + ca::to_json(jobs[i]);
  body += "]";
  auto sent = clock_type::now();
  for (const auto& j : jobs) rows[j.id] = row{.id = j.id, .op = ca::to_string(j.op), .sent = sent};
  scm.call("POST", fmt::format("/connectors/{}/jobs", cid), body);
  auto deadline = clock_type::now() + std::chrono::minutes(5);
  std::size_t done = 0;
  simdjson::dom::parser parser;
  while (done < jobs.size()) {
    if (clock_type::now() > deadline)
      throw operation_error("demo: results did not arrive in 5 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto text = scm.call("GET", fmt::format("/connectors/{}/results", cid));
    simdjson::dom::array results;
    if (parser.parse(text).get_array().get(results)) continue;
    done = 0;
    for (auto r : results) {
      auto it = rows.find(field(r, "job_id"));
      if (it == rows.end()) continue;
      auto& row = it->second;
      if (row.ms < 0) {
        row.ms = std::chrono::duration<double, std::milli>(clock_type::now() - row.sent).count();
        simdjson::dom::element o;
        if (r["outcome"].get(o)) continue;
        row.outcome = field(o, "outcome");
        row.serial = field(o, "serial");
        row.certificate = field(o, "certificate");
        if (row.outcome == "failed") {
          row.outcome += ":" + field(o, "error");
          row.detail = field(o, "message");
        }
      }
      if (std::any_of(jobs.begin(), jobs.end(), [&](const ca::job& j) { return j.id == row.id; }))
        ++done;
    }
  }
}

int run_demo(const po::variables_map& vm, const args_t&) {
  int n = std::clamp(vm["jobs"].as<int>(), 1, 20000);
  auto dir = own_directory();
  auto self = dir + "/cbcs";
  auto sim = dir + "/cbcs-sim";
  if (!fs::exists(sim))
    throw operation_error(fmt::format("demo: {} is missing (it is built with cbcs)", sim));
  auto root = fs::temp_directory_path() / ("cbcs-demo-" + crypto::to_hex(crypto::random_bytes(4)));
  auto data = (root / "data").string();
  fs::create_directories(root);
  fmt::print("cbcs demo: everything lives in {}\n", root.string());

  child_process scm_process({sim, "scm", "--state-dir", (root / "scm").string()}, true,
                            (root / "scm.log").string());
  simdjson::dom::parser parser;
  auto ready_line = scm_process.read_line();
  simdjson::dom::element ready;
  if (parser.parse(ready_line).get(ready))
    throw operation_error("demo: the SCM simulator did not start: " + ready_line);
  admin_api scm(field(ready, "admin_url"));
  fmt::print("  1. SCM simulator up at {}\n", field(ready, "scm_url"));

  auto created = scm.call("POST", "/connectors", R"({"name":"demo","comments":"cbcs demo"})");
  simdjson::dom::element c;
  if (parser.parse(created).get(c)) throw operation_error("demo: bad answer from the simulator");
  auto cid = field(c, "id");
  auto token = field(c, "token");
  fmt::print("  2. connector {} created in SCM (status {}), installation token issued\n", cid,
             field(c, "status"));

  if (run_child({self, "register", "-token", token, "--data-dir", data}) != 0)
    throw operation_error("demo: cbcs register failed");
  fmt::print("  3. cbcs register -token ...: identity key sealed, client certificate stored\n");
  if (run_child({self, "backend", "add", "-name", "local", "-type", "local", "--data-dir", data}) !=
      0)
    throw operation_error("demo: cbcs backend add failed");
  fmt::print("  4. cbcs backend add -name local -type local: built-in CA, key sealed\n");

  child_process connector({self, "run", "--data-dir", data}, false,
                          (root / "connector.log").string());
  auto connected_by = clock_type::now() + std::chrono::seconds(20);
  while (true) {
    if (parser.parse(scm.call("GET", "/connectors/" + cid)).get(c) == simdjson::SUCCESS &&
        field(c, "status") == "Connected")
      break;
    if (clock_type::now() > connected_by)
      throw operation_error("demo: the connector did not connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fmt::print("  5. cbcs run: session up, SCM shows the connector Connected (version {})\n",
             field(c, "version"));

  std::vector<std::string> csrs;
  for (int i = 0; i < n; ++i) {
    auto key = crypto::generate_key("ecdsa-p256");
    auto host = fmt::format("host{}.demo.example", i);
    csrs.push_back(crypto::create_csr(key.get(), host, {host}));
  }
  std::map<std::string, row> rows;
  auto t0 = clock_type::now();
  std::vector<ca::job> enrolls;
  for (int i = 0; i < n; ++i)
    enrolls.push_back({.id = fmt::format("demo-enroll-{:04}", i),
                       .op = ca::operation::enroll,
                       .backend = "local",
                       .csr_pem = csrs[i],
                       .validity_seconds = 30 * 86400});
  run_batch(scm, cid, enrolls, rows);
  std::vector<ca::job> follow_up;
  for (int i = 0; i < n; i += 4) {
    auto& issued = rows[enrolls[i].id];
    if (issued.outcome == "issued")
      follow_up.push_back({.id = fmt::format("demo-renew-{:04}", i),
                           .op = ca::operation::renew,
                           .backend = "local",
                           .csr_pem = csrs[i],
                           .cert_pem = issued.certificate});
  }
  for (int i = 1; i < n; i += 10) {
    auto& issued = rows[enrolls[i].id];
    if (issued.outcome == "issued")
      follow_up.push_back({.id = fmt::format("demo-revoke-{:04}", i),
                           .op = ca::operation::revoke,
                           .backend = "local",
                           .serial_hex = issued.serial,
                           .reason = "superseded"});
  }
  run_batch(scm, cid, follow_up, rows);
  double total_s = std::chrono::duration<double>(clock_type::now() - t0).count();

  connector.signal(SIGTERM);
  connector.wait();
  scm_process.signal(SIGTERM);
  scm_process.wait();

  std::vector<const row*> ordered;
  for (const auto& [_, r] : rows) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const row* a, const row* b) { return a->sent < b->sent; });
  int shown = vm["rows"].as<int>();
  fmt::print("\n{:<18} {:<9} {:<8} {:<16} {:<34} {:>10}\n", "JOB", "OPERATION", "BACKEND",
             "OUTCOME", "SERIAL", "LATENCY");
  std::map<std::string, std::vector<double>> by_op;
  int failed = 0;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    const auto& r = *ordered[i];
    by_op[r.op].push_back(r.ms);
    bool ok = r.outcome == "issued" || r.outcome == "done";
    if (!ok) ++failed;
    bool edge = static_cast<int>(i) < shown / 2 ||
                i + static_cast<std::size_t>(shown / 2) >= ordered.size();
    if (edge || !ok)
      fmt::print("{:<18} {:<9} {:<8} {:<16} {:<34} {:>8.1f}ms{}\n", r.id, r.op, "local", r.outcome,
                 r.serial, r.ms, r.detail.empty() ? "" : "  " + r.detail);
    else if (static_cast<int>(i) == shown / 2)
      fmt::print("...\n");
  }
  fmt::print("\nlatency = from SCM sending the job to SCM holding the result:\n");
  for (auto& [op, ms] : by_op) {
    std::sort(ms.begin(), ms.end());
    fmt::print("  {:<8} {:>5} jobs  p50 {:>7.1f} ms  p99 {:>7.1f} ms\n", op, ms.size(),
               ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]);
  }
  fmt::print("  {} jobs in {:.2f} s, {} failed\n", ordered.size(), total_s, failed);
  fmt::print("\nsupport trace: {}/trace/  (cbcs trace show -data-dir {} -job {})\n", data, data,
             enrolls.front().id);
  fmt::print("logs: {0}/connector.log, {0}/scm.log\n", root.string());
  return failed == 0 ? exit_ok : exit_failed;
}

}  // namespace

std::vector<command> demo_commands() {
  return {{"demo",
           "run the connector end to end on loopback: SCM simulator, register, jobs from SCM",
           "[-jobs N]", "cbcs demo -jobs 200", demo_options, run_demo}};
}

}  // namespace cbcs::cli
