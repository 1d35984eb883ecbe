// A backend type that brings its own transport (runtime_policy::make_transport),
// as AD CS's DCOM one would: the runtime gives it the backend's requests, no
// HTTP client sees them, and the actors know nothing of it but the interface.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/connector_runtime.hpp"
#include "protocol/ca/registry.hpp"
#include "protocol/ca/transport.hpp"
#include "test_pki.hpp"

using namespace cbcs;
using namespace std::chrono_literals;
namespace ca = protocol::ca;

namespace {

// What the in-process CA was made with and what it was asked.
struct in_process_log {
  std::mutex mu;
  std::vector<std::string> requests;  // "METHOD url"
  std::string made_for;               // the backend's name and its "desk" setting
  ca::transport_timeouts timeouts;
  int made = 0;
};

in_process_log& log() {
  static in_process_log l;
  return l;
}

// A CA in this process: answers on a thread of its own, as a transport that
// is not HTTP would, with a certificate and its serial in a header.
class in_process_ca final : public ca::transport {
 public:
  ~in_process_ca() override {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void send(const ca::http_request& request, completion done) override {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(request, std::move(done));
    }
    wake_.notify_one();
  }

 private:
  void serve() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto [request, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      {
        std::lock_guard l(log().mu);
        log().requests.push_back(request.method + " " + request.url);
      }
      done({.status = 200, .headers = {{"Serial", "0a"}}, .body = certificate_.cert_pem}, {});
      lock.lock();
    }
  }

  test::key_and_cert certificate_ = test::make_self_signed("p256", "in-process issued");
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<ca::http_request, completion>> queue_;
  bool done_ = false;
  std::thread worker_{[this] { serve(); }};  // last: the members above exist
};

// Asks the CA for a certificate and takes what it answers.
class in_process_driver final : public ca::driver {
 public:
  std::unique_ptr<ca::job_session> start(const ca::job& j, const std::string&) override {
    struct session final : ca::job_session {
      ca::job job;
      ca::step next(const ca::http_response* previous, const ca::step_context&) override {
        if (!previous)
          return ca::http_request{
              .method = "SUBMIT", .url = "pipe://ca/" + job.id, .body = job.csr_pem};
        if (previous->status != 200)
          return ca::outcome::failed(ca::error_class::unavailable, "the CA said no");
        return ca::outcome::issued(previous->body, "", previous->header("Serial"));
      }
    };
    auto s = std::make_unique<session>();
    s->job = j;
    return s;
  }
};

const ca::backend_type& in_process_type() {
  static const ca::backend_type t{
      .name = "inprocess",
      .title = "a CA in this process",
      .options = {{.name = "desk", .help = "which desk of the CA"}},
      .make_driver = [](const ca::driver_config&) -> std::unique_ptr<ca::driver> {
        return std::make_unique<in_process_driver>();
      },
      .policy = {.make_transport =
                     [](const ca::driver_config& backend,
                        const ca::transport_timeouts& timeouts) -> std::unique_ptr<ca::transport> {
        std::lock_guard lock(log().mu);
        log().made_for = backend.name + " desk " + ca::setting(backend.settings, "desk");
        log().timeouts = timeouts;
        ++log().made;
        return std::make_unique<in_process_ca>();
      }}};
  return t;
}

// Registered for one test: the other tests see the product's types only.
struct registered_in_process_type {
  registered_in_process_type() { ca::add_backend_type(in_process_type()); }
  ~registered_in_process_type() { ca::remove_backend_type(in_process_type()); }
};

// The test's transport for every backend whose type brings none.
class counting_transport final : public ca::transport {
 public:
  void send(const ca::http_request&, completion done) override {
    ++calls;
    done({}, {ca::transport_failure::network, "not this one"});
  }
  std::atomic<int> calls{0};
};

}  // namespace

TEST_SUITE("type_transport") {
  TEST_CASE("a type's own transport carries its backend's jobs, end to end through the runtime") {
    registered_in_process_type registered;
    test::temp_dir dir;
    auto others = std::make_shared<counting_transport>();
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
    o.config.backends.push_back({.name = "desk-7",
                                 .type = "inprocess",
                                 .settings = {{"desk", "7"}, {"requesttimeout", "5s"}}});
    o.transport = others;
    actors::connector_runtime runtime(std::move(o));
    for (const auto* id : {"own-1", "own-2"}) {
      auto outcome = runtime.run({.id = id,
                                  .op = ca::operation::enroll,
                                  .backend = "desk-7",
                                  .csr_pem = test::make_csr("p256", "own.example")},
                                 10s);
      CHECK_MESSAGE(outcome.what == ca::outcome::kind::issued, outcome.message);
      CHECK(outcome.serial_hex == "0a");
      CHECK(test::contains(outcome.certificate_pem, "BEGIN CERTIFICATE"));
    }
    runtime.stop();
    std::lock_guard lock(log().mu);
    CHECK(log().requests ==
          std::vector<std::string>{"SUBMIT pipe://ca/own-1", "SUBMIT pipe://ca/own-2"});
    // Made once for the backend, from its settings and its -requesttimeout.
    CHECK(log().made == 1);
    CHECK(log().made_for == "desk-7 desk 7");
    CHECK(log().timeouts.request == 5s);
    CHECK(log().timeouts.connect == 5s);
    CHECK(others->calls == 0);
  }
}
