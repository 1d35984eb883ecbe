// The whole job path (router, journal, supervisor, backend actors) with a
// scripted driver and transport; real CAF, short back-off so no test waits long.

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "actors/metrics/registry.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "failing_disk.hpp"
#include "protocol/ca/transport.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using std::chrono::milliseconds;

namespace {

// Issues after one HTTP call; maps status codes as a real driver would.
class scripted_driver final : public ca::driver {
 public:
  std::atomic<int> starts{0};
  bool throw_non_std_on = false;  // crashes the actor (not a std::exception)

  std::unique_ptr<ca::job_session> start(const ca::job& j, const std::string&) override {
    ++starts;
    struct session final : ca::job_session {
      scripted_driver* owner;
      ca::job job;
      bool side_done = false;
      bool placing = false;
      std::string resume_token() const override {
        // Large: its commit needs new pages (a capped journal refuses it).
        return placing ? "placing:1000:2000:" + std::string(3000, 'p') : std::string();
      }
      ca::step next(const ca::http_response* r, const ca::step_context&) override {
        if (job.profile == "poison" && owner->throw_non_std_on) throw 42;
        if (job.profile == "driver-bug") throw std::runtime_error("bug in driver");
        // "side-call": first a call that is not to the CA, whatever it answers.
        if (job.profile == "side-call" && !side_done) {
          if (!r)
            return ca::http_request{
                .method = "GET", .url = "http://metadata.test/" + job.id, .side_call = true};
          side_done = true;
          r = nullptr;
        }
        // "placement": a search, then a placement at a CA without
        // idempotency keys, in doubt (its token) from the moment it is returned.
        if (job.params.count("placement") && !placing) {
          if (!r) return ca::http_request{.method = "GET", .url = "https://ca.test/search/" + job.id};
          placing = true;
          return ca::http_request{
              .method = "POST", .url = "https://ca.test/" + job.id, .placement = true};
        }
        if (!r) return ca::http_request{.method = "POST", .url = "https://ca.test/" + job.id};
        if (r->status == 200) return ca::outcome::issued("CERT-" + job.id, "", "01");
        if (r->status == 429) return ca::outcome::failed(ca::error_class::throttled, "slow down");
        if (r->status >= 500) return ca::outcome::failed(ca::error_class::unavailable, "down");
        return ca::outcome::failed(ca::error_class::invalid_request, "bad request");
      }
    };
    auto s = std::make_unique<session>();
    s->owner = this;
    s->job = j;
    return s;
  }
};

// Answers from a script per job id (default 200); can hold requests back.
class scripted_transport final : public ca::transport {
 public:
  std::mutex mu;
  // url -> statuses; a negative one is a transport failure of that kind
  std::map<std::string, std::deque<int>> script;
  std::map<std::string, int> calls;
  bool hold = false;
  std::vector<std::pair<std::string, completion>> held;
  int concurrent = 0, max_concurrent = 0;

  void send(const ca::http_request& request, completion done) override {
    int status = 200;
    {
      std::lock_guard lock(mu);
      ++calls[request.url];
      if (hold) {
        held.emplace_back(request.url, std::move(done));
        max_concurrent = std::max(max_concurrent, static_cast<int>(held.size()));
        return;
      }
      auto& s = script[request.url];
      if (!s.empty()) {
        status = s.front();
        s.pop_front();
      }
    }
    if (status < 0)
      return done({}, {static_cast<ca::transport_failure>(-status), "scripted failure"});
    ca::http_response r;
    r.status = status;
    if (status == 429) r.headers.push_back({"Retry-After", "0"});
    done(std::move(r), {});
  }

  void release_all() {
    std::vector<std::pair<std::string, completion>> out;
    {
      std::lock_guard lock(mu);
      hold = false;
      out.swap(held);
    }
    for (auto& [url, done] : out) {
      ca::http_response r;
      r.status = 200;
      done(std::move(r), {});
    }
  }

  int calls_for(const std::string& id) {
    std::lock_guard lock(mu);
    return calls["https://ca.test/" + id];
  }
};

// A runtime whose journal the test holds (to cap it or read it meanwhile).
struct own_journal_fixture {
  test::temp_dir dir;
  std::shared_ptr<config::journal> journal =
      std::make_shared<config::journal>(std::filesystem::path(dir.path()) / "journal.db", false);
  std::shared_ptr<scripted_transport> transport = std::make_shared<scripted_transport>();
  std::unique_ptr<actors::connector_runtime> runtime = make_runtime();

  ca::outcome run(const std::string& id) {
    return runtime->run(ca::job{.id = id, .op = ca::operation::revoke, .backend = "b1"},
                        milliseconds(5000));
  }

  std::unique_ptr<actors::connector_runtime> make_runtime() {
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = true};
    o.journal = journal;
    o.transport = transport;
    o.extra_backends["b1"] = std::make_shared<scripted_driver>();
    return std::make_unique<actors::connector_runtime>(std::move(o));
  }
};

// The runtime's metrics as the file has them, and whether a line is there.
bool metrics_line(actors::connector_runtime& runtime, const std::string& line) {
  auto text = actors::metrics::to_text(runtime.metrics()->snapshot(std::chrono::system_clock::now()));
  return text.find("\n" + line + "\n") != std::string::npos;
}

// Polls until done() holds or about 6 s have passed; says which.
template <class Done>
bool eventually(Done done) {
  for (int i = 0; i < 300; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return done();
}

// One scripted backend "b1" whose breaker opens after `failures` in a row
// and stays open a minute; back-off in milliseconds.
actors::runtime_options tripping_options(const test::temp_dir& dir,
                                         std::shared_ptr<scripted_transport> transport,
                                         int failures) {
  actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false};
  o.backend_defaults.retry.base = milliseconds(1);
  o.backend_defaults.retry.cap = milliseconds(5);
  o.backend_defaults.breaker.failure_threshold = failures;
  o.backend_defaults.breaker.open_for = milliseconds(60'000);
  o.transport = std::move(transport);
  o.extra_backends["b1"] = std::make_shared<scripted_driver>();
  return o;
}

struct job_path_fixture {
  test::temp_dir dir;
  std::shared_ptr<scripted_driver> driver = std::make_shared<scripted_driver>();
  std::shared_ptr<scripted_transport> transport = std::make_shared<scripted_transport>();
  std::unique_ptr<actors::connector_runtime> runtime;

  explicit job_path_fixture(std::size_t max_in_flight = 64) {
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = true};
    o.backend_defaults.max_in_flight = max_in_flight;
    o.backend_defaults.retry.base = milliseconds(1);
    o.backend_defaults.retry.cap = milliseconds(5);
    o.backend_defaults.retry.max_attempts = 4;
    o.transport = transport;
    o.extra_backends["b1"] = driver;
    o.extra_backends["b2"] = std::make_shared<scripted_driver>();
    runtime = std::make_unique<actors::connector_runtime>(std::move(o));
  }

  ca::job job(const std::string& id, const std::string& backend = "b1",
              const std::string& profile = {}) {
    return ca::job{.id = id, .op = ca::operation::revoke, .backend = backend, .profile = profile};
  }

  ca::outcome run(const ca::job& j, milliseconds deadline = milliseconds(5000)) {
    return runtime->run(j, deadline);
  }
};

}  // namespace

TEST_SUITE("job_path") {
  TEST_CASE("a throttled call is retried and then succeeds") {
    job_path_fixture f;
    f.transport->script["https://ca.test/t1"] = {429, 503, 200};
    auto o = f.run(f.job("t1"));
    CHECK(o.what == ca::outcome::kind::issued);
    CHECK(f.transport->calls_for("t1") == 3);
  }

  TEST_CASE("transport failures: network retried; TLS, client certificate and proxy auth not") {
    job_path_fixture f;
    auto code = [](ca::transport_failure k) { return -static_cast<int>(k); };
    f.transport->script["https://ca.test/n1"] = {code(ca::transport_failure::network), 200};
    CHECK(f.run(f.job("n1")).what == ca::outcome::kind::issued);
    CHECK(f.transport->calls_for("n1") == 2);
    for (auto [id, kind, meaning] :
         {std::tuple{"c1", ca::transport_failure::client_certificate_refused,
                     ca::error_class::auth},
          std::tuple{"p1", ca::transport_failure::proxy_auth, ca::error_class::auth},
          std::tuple{"t1", ca::transport_failure::tls, ca::error_class::tls}}) {
      f.transport->script[std::string("https://ca.test/") + id] = {code(kind), 200};
      auto o = f.run(f.job(id));
      CHECK(o.what == ca::outcome::kind::failed);
      CHECK(o.error == meaning);
      CHECK(f.transport->calls_for(id) == 1);
    }
  }

  TEST_CASE("a rejected request is not retried") {
    job_path_fixture f;
    f.transport->script["https://ca.test/r1"] = {400, 200};
    auto o = f.run(f.job("r1"));
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::invalid_request);
    CHECK(f.transport->calls_for("r1") == 1);
  }

  TEST_CASE("retries stop at the attempt limit") {
    job_path_fixture f;
    f.transport->script["https://ca.test/x1"] = {503, 503, 503, 503, 503, 503};
    auto o = f.run(f.job("x1"));
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.message.find("gave up after 4 attempt(s)") != std::string::npos);
    CHECK(f.transport->calls_for("x1") == 4);
  }

  TEST_CASE("a job whose backend never answers fails at its deadline") {
    job_path_fixture f;
    f.transport->hold = true;
    auto start = std::chrono::steady_clock::now();
    auto o = f.run(f.job("slow"), milliseconds(200));
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.message.find("deadline") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    f.transport->release_all();  // the late answer is ignored
  }

  TEST_CASE("jobs in flight per backend are bounded") {
    job_path_fixture f(3);
    f.transport->hold = true;
    std::mutex mu;
    std::condition_variable cv;
    int done = 0;
    for (int i = 0; i < 10; ++i)
      f.runtime->submit(f.job("bound-" + std::to_string(i)),
                        [&](const std::string&, const ca::outcome&) {
                          std::lock_guard lock(mu);
                          ++done;
                          cv.notify_all();
                        });
    // Let the router and backend take them all in.
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(milliseconds(10));
      std::lock_guard lock(f.transport->mu);
      if (f.transport->held.size() == 3) break;
    }
    {
      std::lock_guard lock(f.transport->mu);
      CHECK(f.transport->held.size() == 3);
    }
    // Release in rounds until all are through; never more than 3 at once.
    for (int round = 0; round < 50; ++round) {
      f.transport->release_all();
      f.transport->hold = true;
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, milliseconds(50), [&] { return done == 10; })) break;
    }
    f.transport->release_all();
    std::unique_lock lock(mu);
    CHECK(cv.wait_for(lock, std::chrono::seconds(5), [&] { return done == 10; }));
    CHECK(f.transport->max_concurrent <= 3);
  }

  TEST_CASE("the same job id runs once; later it is answered from the journal") {
    job_path_fixture f;
    f.transport->hold = true;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> certs;
    for (int i = 0; i < 3; ++i)
      f.runtime->submit(f.job("dup"), [&](const std::string&, const ca::outcome& o) {
        std::lock_guard lock(mu);
        certs.push_back(o.certificate_pem);
        cv.notify_all();
      });
    std::this_thread::sleep_for(milliseconds(100));
    f.transport->release_all();
    {
      std::unique_lock lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return certs.size() == 3; }));
    }
    CHECK(certs == std::vector<std::string>(3, "CERT-dup"));
    auto again = f.run(f.job("dup"));
    CHECK(again.certificate_pem == "CERT-dup");
    CHECK(f.driver->starts == 1);
    CHECK(f.transport->calls_for("dup") == 1);
  }

  TEST_CASE("the same id for another request is a conflict, running or finished") {
    // Seen: the same -id with another CSR returned the first job's certificate, exit 0.
    job_path_fixture f;
    f.transport->hold = true;
    std::atomic<bool> first_done{false};
    f.runtime->submit(f.job("same-id"), [&](const std::string&, const ca::outcome&) {
      first_done = true;
    });
    auto other = f.job("same-id", "b2");
    auto running = f.run(other, milliseconds(2000));
    CHECK(running.what == ca::outcome::kind::failed);
    CHECK(running.error == ca::error_class::invalid_request);
    CHECK(running.message.find("job same-id was given before") != std::string::npos);
    f.transport->release_all();
    REQUIRE(eventually([&] { return first_done.load(); }));
    auto finished = f.run(other);
    CHECK(finished.what == ca::outcome::kind::failed);
    CHECK(finished.message.find("revoke on backend b1") != std::string::npos);
    CHECK(f.run(f.job("same-id")).certificate_pem == "CERT-same-id");
  }

  TEST_CASE("a job holding a private key is refused and nothing of it is journaled") {
    own_journal_fixture f;
    auto key = test::make_key_pem("p256");
    auto j = ca::job{.id = "leak", .op = ca::operation::enroll, .backend = "b1", .csr_pem = key};
    auto o = f.runtime->run(j, milliseconds(5000));
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::invalid_request);
    CHECK(o.message.find("private key") != std::string::npos);
    CHECK_FALSE(f.journal->find("leak"));
    CHECK(f.journal->count() == 0);
  }

  TEST_CASE("a driver error fails its job only") {
    job_path_fixture f;
    auto bad = f.run(f.job("bug", "b1", "driver-bug"));
    CHECK(bad.error == ca::error_class::internal);
    CHECK(bad.message.find("bug in driver") != std::string::npos);
    CHECK(f.run(f.job("fine")).what == ca::outcome::kind::issued);
  }

  TEST_CASE("a crashing backend actor is restarted; a poison job is failed, others go on") {
    job_path_fixture f;
    f.driver->throw_non_std_on = true;
    auto poison = f.run(f.job("poison-1", "b1", "poison"), milliseconds(10'000));
    CHECK(poison.what == ca::outcome::kind::failed);
    CHECK(poison.message.find("crashed") != std::string::npos);
    CHECK(f.run(f.job("after-crash")).what == ca::outcome::kind::issued);
    CHECK(f.run(f.job("other-backend", "b2")).what == ca::outcome::kind::issued);
    CHECK(f.runtime->escalation().empty());
  }

  TEST_CASE("a job still pending at its deadline runs again later and finishes") {
    // Pending at the CA on its first run (an approval, say); issued on the next.
    struct approval_driver final : ca::driver {
      std::atomic<int> starts{0};
      std::unique_ptr<ca::job_session> start(const ca::job&, const std::string&) override {
        struct session final : ca::job_session {
          bool first = false;
          ca::step next(const ca::http_response*, const ca::step_context&) override {
            if (first) return ca::outcome::pending(milliseconds(20), "awaiting approval");
            return ca::outcome::issued("CERT", "", "0a");
          }
        };
        auto s = std::make_unique<session>();
        s->first = ++starts == 1;
        return s;
      }
    };
    test::temp_dir dir;
    auto driver = std::make_shared<approval_driver>();
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
    o.backend_defaults.retry.base = milliseconds(1);
    o.backend_defaults.retry.cap = milliseconds(5);
    o.extra_backends["slow-ca"] = driver;
    auto runtime = std::make_unique<actors::connector_runtime>(std::move(o));
    ca::job j{.id = "approve-me", .op = ca::operation::revoke, .backend = "slow-ca"};
    auto first = runtime->run(j, milliseconds(200));
    CHECK(first.what == ca::outcome::kind::pending);
    // The router runs it again after the poll interval; the journal then holds the result.
    config::journal journal(config::journal_file(dir.path()), false);
    bool finished = false;
    for (int i = 0; i < 100 && !finished; ++i) {
      std::this_thread::sleep_for(milliseconds(20));
      auto e = journal.find("approve-me");
      finished = e && e->state == config::job_state::finished;
    }
    CHECK(finished);
    CHECK(driver->starts >= 2);
    runtime->stop();
  }

  TEST_CASE("a run of 429s slows the backend but never opens its breaker") {
    // Seen at GCP's quota: five 429s in a row opened the breaker and stopped
    // every job for seconds; 100 jobs took 80 s instead of 15.
    test::temp_dir dir;
    auto transport = std::make_shared<scripted_transport>();
    auto o = tripping_options(dir, transport, 2);
    o.backend_defaults.retry.max_attempts = 12;
    actors::connector_runtime runtime(std::move(o));
    transport->script["https://ca.test/q1"] = {429, 429, 429, 429, 429, 200};
    auto r = runtime.run(ca::job{.id = "q1", .op = ca::operation::revoke, .backend = "b1"},
                         milliseconds(5000));
    CHECK(r.what == ca::outcome::kind::issued);
    CHECK(transport->calls_for("q1") == 6);
    // Were the breaker open, this job would wait a minute and fail its deadline.
    r = runtime.run(ca::job{.id = "q2", .op = ca::operation::revoke, .backend = "b1"},
                    milliseconds(2000));
    CHECK(r.what == ca::outcome::kind::issued);
    auto health = runtime.health()->snapshot();
    for (const auto& b : health) CHECK(b.message.find("breaker") == std::string::npos);
  }

  TEST_CASE("the metrics count jobs by outcome, retries by reason and the CA's requests") {
    job_path_fixture f;
    f.transport->script["https://ca.test/t1"] = {429, 503, 200};
    f.transport->script["https://ca.test/r1"] = {400};
    CHECK(f.run(f.job("t1")).what == ca::outcome::kind::issued);
    CHECK(f.run(f.job("r1")).what == ca::outcome::kind::failed);
    // Counted before the result is delivered.
    auto& rt = *f.runtime;
    CHECK(metrics_line(rt, "cbcs_jobs_total{backend=\"b1\",operation=\"revoke\",outcome=\"issued\"} 1"));
    CHECK(metrics_line(rt, "cbcs_jobs_total{backend=\"b1\",operation=\"revoke\",outcome=\"failed\","
                           "error=\"invalid_request\"} 1"));
    CHECK(metrics_line(rt, "cbcs_job_duration_seconds_count{backend=\"b1\"} 2"));
    CHECK(metrics_line(rt, "cbcs_retries_total{backend=\"b1\",reason=\"throttled\"} 1"));
    CHECK(metrics_line(rt, "cbcs_retries_total{backend=\"b1\",reason=\"unavailable\"} 1"));
    CHECK(metrics_line(rt, "cbcs_ca_request_duration_seconds_count{backend=\"b1\"} 4"));
    CHECK(metrics_line(rt, "cbcs_job_duration_seconds_count{backend=\"b2\"} 0"));
    CHECK(metrics_line(rt, "cbcs_breaker_open{backend=\"b1\"} 0"));
    CHECK(metrics_line(rt, "cbcs_journal_commit_failures_total 0"));
  }

  TEST_CASE("the metrics show the breaker open and the rate limit's waits") {
    test::temp_dir dir;
    auto transport = std::make_shared<scripted_transport>();
    auto o = tripping_options(dir, transport, 2);
    o.backend_defaults.rate_limits = ca::parse_rate_limits("default=20");
    actors::connector_runtime runtime(std::move(o));
    // 30 jobs at once through 20 calls a second: some wait.
    std::atomic<int> done{0};
    for (int i = 0; i < 30; ++i)
      runtime.submit(ca::job{.id = fmt::format("l{}", i), .op = ca::operation::revoke, .backend = "b1"},
                     [&](const std::string&, const ca::outcome&) { ++done; },
                     milliseconds(10'000));
    CHECK(eventually([&] { return done == 30; }));
    CHECK_FALSE(metrics_line(runtime, "cbcs_ratelimit_waits_total{backend=\"b1\"} 0"));
    CHECK_FALSE(metrics_line(runtime, "cbcs_ratelimit_wait_seconds_total{backend=\"b1\"} 0"));
    CHECK(metrics_line(runtime, "cbcs_breaker_open{backend=\"b1\"} 0"));
    transport->script["https://ca.test/trip"] = {503, 503, 503, 503, 503};
    auto r = runtime.run(ca::job{.id = "trip", .op = ca::operation::revoke, .backend = "b1"},
                         milliseconds(3000));
    CHECK(r.what == ca::outcome::kind::failed);
    CHECK(metrics_line(runtime, "cbcs_breaker_open{backend=\"b1\"} 1"));
    CHECK(metrics_line(runtime, "cbcs_breaker_opened_total{backend=\"b1\"} 1"));
    CHECK(metrics_line(runtime, "cbcs_retries_total{backend=\"b1\",reason=\"unavailable\"} 2"));
  }

  TEST_CASE("side calls neither wait for the breaker nor move it") {
    test::temp_dir dir;
    auto transport = std::make_shared<scripted_transport>();
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false};
    o.backend_defaults.breaker.failure_threshold = 1;
    o.backend_defaults.breaker.open_for = milliseconds(60'000);
    o.transport = transport;
    o.extra_backends["b1"] = std::make_shared<scripted_driver>();
    actors::connector_runtime runtime(std::move(o));
    // A failing side call: were it the CA's, the breaker would open for a minute.
    transport->script["http://metadata.test/s1"] = {503};
    auto r = runtime.run(
        ca::job{.id = "s1", .op = ca::operation::revoke, .backend = "b1", .profile = "side-call"},
        milliseconds(5000));
    CHECK(r.what == ca::outcome::kind::issued);
    CHECK(transport->calls["http://metadata.test/s1"] == 1);
    // The CA failing opens it; a side call still goes, its CA call waits.
    transport->script["https://ca.test/s2"] = {503};
    r = runtime.run(ca::job{.id = "s2", .op = ca::operation::revoke, .backend = "b1"},
                    milliseconds(5000));
    CHECK(r.what == ca::outcome::kind::failed);
    r = runtime.run(
        ca::job{.id = "s3", .op = ca::operation::revoke, .backend = "b1", .profile = "side-call"},
        milliseconds(300));
    CHECK(r.what == ca::outcome::kind::failed);
    CHECK(transport->calls["http://metadata.test/s3"] == 1);
    CHECK(transport->calls_for("s3") == 0);
  }

  TEST_CASE("jobs wait for the half-open breaker's probe without spinning") {
    test::temp_dir dir;
    auto transport = std::make_shared<scripted_transport>();
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = true};
    o.backend_defaults.retry.base = milliseconds(1);
    o.backend_defaults.retry.cap = milliseconds(5);
    o.backend_defaults.retry.max_attempts = 1;
    o.backend_defaults.breaker.failure_threshold = 1;
    o.backend_defaults.breaker.open_for = milliseconds(50);
    o.transport = transport;
    o.extra_backends["b1"] = std::make_shared<scripted_driver>();
    auto runtime = std::make_unique<actors::connector_runtime>(std::move(o));
    auto job = [](const std::string& id) {
      return ca::job{.id = id, .op = ca::operation::revoke, .backend = "b1"};
    };
    transport->script["https://ca.test/opener"] = {500};
    CHECK(runtime->run(job("opener"), milliseconds(2000)).what == ca::outcome::kind::failed);
    std::this_thread::sleep_for(milliseconds(80));  // open -> half-open
    {
      std::lock_guard lock(transport->mu);
      transport->hold = true;  // the probe stays out
    }
    std::mutex mu;
    std::condition_variable cv;
    int done = 0, issued = 0;
    auto count = [&](const std::string&, const ca::outcome& o) {
      std::lock_guard lock(mu);
      ++done;
      issued += o.what == ca::outcome::kind::issued;
      cv.notify_all();
    };
    runtime->submit(job("probe"), count, milliseconds(5000));
    std::this_thread::sleep_for(milliseconds(50));
    for (int i = 0; i < 10; ++i)
      runtime->submit(job("waiter-" + std::to_string(i)), count, milliseconds(5000));
    // Longer than the fallback timer (1 s): it must not wake them while the probe is out.
    std::this_thread::sleep_for(milliseconds(1300));
    transport->release_all();  // the probe succeeds: the breaker closes, the waiters go
    {
      std::unique_lock lock(mu);
      CHECK(cv.wait_for(lock, std::chrono::seconds(5), [&] { return done == 11; }));
    }
    CHECK(issued == 11);
    runtime->stop();
    // Waiting jobs park once each: one trace line each, however long they wait.
    int breaker_lines = 0;
    std::string first_lines;  // shown when the count is off
    for (const auto& f :
         std::filesystem::directory_iterator(std::filesystem::path(dir.path()) / "trace")) {
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);)
        if (line.find("\"event\":\"breaker\"") != std::string::npos && ++breaker_lines <= 12)
          first_lines += line + "\n";
    }
    INFO(first_lines);
    CHECK(breaker_lines == 10);
  }

  TEST_CASE("a journal that cannot commit (a full disk) holds results until it can; none lost") {
    own_journal_fixture f;
    auto& [dir, journal, transport, runtime] = f;
    auto big_job = [](const std::string& id) {
      ca::job j{.id = id, .op = ca::operation::revoke, .backend = "b1"};
      j.params["note"] = std::string(3000, 'x');  // needs new pages: SQLITE_FULL
      return j;
    };
    REQUIRE(runtime->run(big_job("before"), milliseconds(5000)).what == ca::outcome::kind::issued);

    journal->set_max_pages(1);  // SQLite keeps the size it has: nothing may grow
    std::mutex mu;
    std::map<std::string, std::vector<ca::outcome::kind>> got;
    for (int i = 0; i < 20; ++i)
      runtime->submit(big_job(fmt::format("held-{}", i)),
                      [&](const std::string& id, const ca::outcome& out) {
                        std::lock_guard lock(mu);
                        got[id].push_back(out.what);
                      });
    std::this_thread::sleep_for(milliseconds(400));
    {
      std::lock_guard lock(mu);
      CHECK(got.empty());  // a result leaves only once it is journaled
    }
    // cbcs status shows it (through the session's status file).
    CHECK(runtime->health()->journal_problem().find("database or disk is full") !=
          std::string::npos);

    journal->set_max_pages(1'000'000);  // space again
    eventually([&] {
      std::lock_guard lock(mu);
      return got.size() == 20;
    });
    {
      std::lock_guard lock(mu);
      REQUIRE(got.size() == 20);
      for (auto& [id, outcomes] : got) {
        CHECK(outcomes.size() == 1);
        CHECK(outcomes.front() == ca::outcome::kind::issued);
      }
    }
    for (int i = 0; i < 20; ++i) {
      auto e = journal->find(fmt::format("held-{}", i));
      REQUIRE(e);
      CHECK(e->state == config::job_state::finished);
      CHECK(transport->calls_for(fmt::format("held-{}", i)) == 1);
    }
    runtime->stop();
    // The trace says what happened and that it recovered.
    std::string trace_text;
    for (auto& f :
         std::filesystem::directory_iterator(std::filesystem::path(dir.path()) / "trace")) {
      std::ifstream in(f.path());
      trace_text.append(std::istreambuf_iterator<char>(in), {});
    }
    CHECK(trace_text.find("journal_failed") != std::string::npos);
    CHECK(trace_text.find("journal_recovered") != std::string::npos);
    CHECK(runtime->health()->journal_problem().empty());
  }

  TEST_CASE("a placement leaves only once its token is durable: a failing journal holds it") {
    own_journal_fixture f;
    auto& [dir, journal, transport, runtime] = f;
    auto placing_job = [](const std::string& id) {
      ca::job j{.id = id, .op = ca::operation::revoke, .backend = "b1"};
      j.params["placement"] = "1";
      return j;
    };
    REQUIRE(runtime->run(placing_job("first"), milliseconds(5000)).what ==
            ca::outcome::kind::issued);
    CHECK(transport->calls_for("first") == 1);

    // The jobs are journaled and search (held at the transport) ...
    transport->hold = true;
    std::mutex mu;
    std::map<std::string, std::vector<ca::outcome::kind>> got;
    for (int i = 0; i < 5; ++i)
      runtime->submit(placing_job(fmt::format("held-{}", i)),
                      [&](const std::string& id, const ca::outcome& out) {
                        std::lock_guard lock(mu);
                        got[id].push_back(out.what);
                      });
    REQUIRE(eventually([&] {
      std::lock_guard lock(transport->mu);
      return transport->held.size() == 5;
    }));
    std::this_thread::sleep_for(milliseconds(100));  // their accepts commit
    // ... then no commit can succeed: their placement tokens are not durable.
    journal->set_max_pages(1);
    transport->release_all();
    std::this_thread::sleep_for(milliseconds(600));
    // The jobs run (their accepts wait for the journal), but no placement left.
    for (int i = 0; i < 5; ++i) CHECK(transport->calls_for(fmt::format("held-{}", i)) == 0);

    journal->set_max_pages(1'000'000);  // the tokens commit: the placements go, once each
    CHECK(eventually([&] {
      std::lock_guard lock(mu);
      return got.size() == 5;
    }));
    for (int i = 0; i < 5; ++i) CHECK(transport->calls_for(fmt::format("held-{}", i)) == 1);
    runtime->stop();
    std::string trace_text;
    for (auto& t :
         std::filesystem::directory_iterator(std::filesystem::path(dir.path()) / "trace")) {
      std::ifstream in(t.path());
      trace_text.append(std::istreambuf_iterator<char>(in), {});
    }
    CHECK(trace_text.find("\"hold\"") != std::string::npos);
  }

  TEST_CASE("jobs whose commit failed run once, and their results follow the next good commit") {
    test::failing_disk disk;
    {
      own_journal_fixture f;
      auto& [dir, journal, transport, runtime] = f;
      REQUIRE(f.run("before").what == ca::outcome::kind::issued);

      // Steps succeed, COMMIT fails: the jobs were dispatched while it ran.
      disk.fail(true);
      std::mutex mu;
      std::map<std::string, int> got;
      for (int i = 0; i < 10; ++i)
        runtime->submit(ca::job{.id = fmt::format("lost-commit-{}", i),
                                .op = ca::operation::revoke,
                                .backend = "b1"},
                        [&](const std::string& id, const ca::outcome& out) {
                          std::lock_guard lock(mu);
                          if (out.what == ca::outcome::kind::issued) ++got[id];
                        });
      for (int i = 0; i < 100 && transport->calls_for("lost-commit-9") == 0; ++i)
        std::this_thread::sleep_for(milliseconds(10));
      std::this_thread::sleep_for(milliseconds(300));
      CHECK(transport->calls_for("lost-commit-0") == 1);  // they ran...
      {
        std::lock_guard lock(mu);
        CHECK(got.empty());  // ...but nothing leaves before it is journaled
      }
      disk.fail(false);
      eventually([&] {
        std::lock_guard lock(mu);
        return got.size() == 10;
      });
      std::lock_guard lock(mu);
      REQUIRE(got.size() == 10);
      for (int i = 0; i < 10; ++i) {
        auto id = fmt::format("lost-commit-{}", i);
        CHECK(got[id] == 1);
        CHECK(transport->calls_for(id) == 1);  // never run again
        auto e = journal->find(id);
        REQUIRE(e);
        CHECK(e->state == config::job_state::finished);
      }
      runtime->stop();
    }
  }

  TEST_CASE("an acknowledgement made just before stop is committed") {
    own_journal_fixture f;
    auto& [dir, journal, transport, runtime] = f;
    REQUIRE(f.run("acked-at-exit").what == ca::outcome::kind::issued);
    runtime->acknowledge("acked-at-exit");
    runtime->stop();  // well within the 200 ms an ack may wait for its commit
    auto e = journal->find("acked-at-exit");
    REQUIRE(e);
    CHECK(e->acked);
  }

  TEST_CASE("a result its submitter consumes at once is journaled acknowledged, with no ack") {
    own_journal_fixture f;
    auto& [dir, journal, transport, runtime] = f;
    auto receipt = actors::connector_runtime::receipt::with_result;
    auto job = [](const std::string& id) {
      return ca::job{.id = id, .op = ca::operation::revoke, .backend = "b1"};
    };
    REQUIRE(runtime->run(job("consumed"), milliseconds(5000), receipt).what ==
            ca::outcome::kind::issued);
    // Read while the runtime runs: the commit that recorded the result has it.
    auto e = journal->find("consumed");
    REQUIRE(e);
    CHECK(e->state == config::job_state::finished);
    CHECK(e->acked);
    // The same id again is answered from the journal, still acknowledged.
    REQUIRE(runtime->run(job("consumed"), milliseconds(5000), receipt).what ==
            ca::outcome::kind::issued);
    CHECK(transport->calls_for("consumed") == 1);
    // Without it, the result waits for acknowledge() (SCM's result_ack).
    REQUIRE(runtime->run(job("for-scm"), milliseconds(5000)).what == ca::outcome::kind::issued);
    auto later = journal->find("for-scm");
    REQUIRE(later);
    CHECK_FALSE(later->acked);
    CHECK(journal->unacknowledged_results().size() == 1);
    // Asked again by a consumer that takes it at once: answered from the
    // journal, and acknowledged by that answer's commit.
    REQUIRE(runtime->run(job("for-scm"), milliseconds(5000), receipt).what ==
            ca::outcome::kind::issued);
    CHECK(transport->calls_for("for-scm") == 1);
    auto answered = journal->find("for-scm");
    REQUIRE(answered);
    CHECK(answered->acked);
    CHECK(journal->unacknowledged_results().empty());
    runtime->stop();
  }

  TEST_CASE("an unknown backend fails at once") {
    job_path_fixture f;
    auto o = f.run(f.job("nowhere", "nope"));
    CHECK(o.error == ca::error_class::invalid_request);
    CHECK(o.message.find("no backend named 'nope'") != std::string::npos);
  }
}
