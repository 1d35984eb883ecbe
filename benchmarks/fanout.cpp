// benchmarks/fanout: N jobs through router, journal and backend actors to a
// null driver, to a driver whose HTTP calls are held (jobs in flight at
// once), or to the local CA. Prints jobs/s, latency percentiles, peak RSS and
// bytes per job in flight.
//
//   build/bench_fanout --mode null --jobs 100000
//   build/bench_fanout --mode held --jobs 100000
//   build/bench_fanout --mode local --jobs 2000

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/local/local_driver.hpp"
#include "protocol/ca/transport.hpp"

namespace ca = cbcs::protocol::ca;
using clock_type = std::chrono::steady_clock;

namespace {

// Answers at once, or makes one HTTP call first (mode "held").
class bench_driver final : public ca::driver {
 public:
  explicit bench_driver(bool http) : http_(http) {}
  std::unique_ptr<ca::job_session> start(const ca::job&, const std::string&) override {
    struct session final : ca::job_session {
      bool http;
      ca::step next(const ca::http_response* r, const ca::step_context&) override {
        if (http && !r) return ca::http_request{.method = "POST", .url = "https://ca.test/"};
        return ca::outcome::issued("CERT", "", "01");
      }
    };
    auto s = std::make_unique<session>();
    s->http = http_;
    return s;
  }

 private:
  bool http_;
};

// Holds every request until release(): all jobs are then in flight together.
class held_transport final : public ca::transport {
 public:
  void send(const ca::http_request&, completion done) override {
    std::lock_guard lock(mu_);
    held_.push_back(std::move(done));
  }
  std::size_t held() {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  void release() {
    std::vector<completion> out;
    {
      std::lock_guard lock(mu_);
      out.swap(held_);
    }
    for (auto& done : out) {
      ca::http_response r;
      r.status = 200;
      done(std::move(r), {});
    }
  }

 private:
  std::mutex mu_;
  std::vector<completion> held_;
};

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return 0;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

std::string arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  auto mode = arg(argc, argv, "--mode", "null");
  auto jobs = std::stoul(arg(argc, argv, "--jobs", mode == "local" ? "2000" : "100000"));
  bool durable = arg(argc, argv, "--durable", "yes") == "yes";
  bool trace = arg(argc, argv, "--trace", "no") == "yes";
  auto dir = std::filesystem::temp_directory_path() /
             ("cbcs-bench-" + cbcs::crypto::to_hex(cbcs::crypto::random_bytes(4)));
  std::filesystem::create_directories(dir);

  cbcs::actors::runtime_options o{.data_dir = dir, .durable_journal = durable, .trace = trace};
  o.backend_defaults.max_in_flight = mode == "held" ? jobs : 1024;
  auto transport = std::make_shared<held_transport>();
  std::string csr;
  if (mode == "local") {
    auto generated = ca::local::provision({});
    ca::driver_config dc{.name = "local", .data_dir = dir.string()};
    dc.settings["ca_cert"] = generated["ca_cert"];
    dc.secrets["ca_key"] = generated["ca_key"];
    o.extra_backends["b"] = std::shared_ptr<ca::driver>(ca::local::make_driver(dc));
    // One CSR for every job: issuance, not CSR generation, is measured.
    auto key = std::string("/tmp/") + "cbcs-bench.csr";
    std::system(("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
                 "/dev/null -subj /CN=bench.example -out " +
                 key + " 2>/dev/null")
                    .c_str());
    std::ifstream in(key);
    csr.assign(std::istreambuf_iterator<char>(in), {});
  } else {
    o.extra_backends["b"] = std::make_shared<bench_driver>(mode == "held");
    o.transport = transport;
  }
  auto runtime = std::make_unique<cbcs::actors::connector_runtime>(std::move(o));

  std::vector<clock_type::time_point> submitted(jobs);
  std::vector<double> latency_ms(jobs);
  std::atomic<std::size_t> done{0};
  std::mutex mu;
  std::condition_variable cv;
  long rss_before = rss_kib();

  auto start = clock_type::now();
  for (std::size_t i = 0; i < jobs; ++i) {
    // The null and held modes skip the CSR check (it is measured by mode local).
    ca::job j{.id = fmt::format("j{}", i),
              .op = mode == "local" ? ca::operation::enroll : ca::operation::revoke,
              .backend = "b",
              .csr_pem = csr};
    submitted[i] = clock_type::now();
    runtime->submit(
        std::move(j),
        [&, i](const std::string&, const ca::outcome& outcome) {
          if (outcome.what != ca::outcome::kind::issued) {
            fmt::print(stderr, "job {} failed: {}\n", i, outcome.message);
            std::abort();
          }
          latency_ms[i] =
              std::chrono::duration<double, std::milli>(clock_type::now() - submitted[i]).count();
          if (++done == jobs) {
            std::lock_guard lock(mu);
            cv.notify_all();
          }
        },
        std::chrono::minutes(10));
  }
  double per_job_bytes = 0;
  if (mode == "held") {
    while (transport->held() < jobs) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    long rss_all_in_flight = rss_kib();
    per_job_bytes = (rss_all_in_flight - rss_before) * 1024.0 / static_cast<double>(jobs);
    fmt::print("in flight at once: {} jobs, RSS {} -> {} KiB, {:.0f} bytes per job in flight\n",
               jobs, rss_before, rss_all_in_flight, per_job_bytes);
    transport->release();
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done.load() == jobs; });
  }
  double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) { return latency_ms[static_cast<std::size_t>(p * (jobs - 1))]; };
  fmt::print("mode={} jobs={} durable_journal={} trace={}\n", mode, jobs, durable, trace);
  fmt::print("throughput: {:.0f} jobs/s ({:.2f} s)\n", jobs / seconds, seconds);
  fmt::print("latency submit->result: p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", pct(0.5),
             pct(0.99), latency_ms.back());
  fmt::print("peak RSS: {} KiB\n", peak_rss_kib());
  runtime->stop();
  std::filesystem::remove_all(dir);
  return 0;
}
