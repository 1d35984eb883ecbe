// SCM's cancel of a job pending at its CA, through the runtime, the router
// and the backend actor, with a driver that can cancel orders and one that
// cannot.

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/connector_runtime.hpp"
#include "protocol/ca/transport.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace cancel_test {

// Every order waits for approval (polls answer 202); a cancel is a DELETE.
class waiting_ca : public ca::driver {
 public:
  std::unique_ptr<ca::job_session> start(const ca::job& j, const std::string&) override {
    struct session final : ca::job_session {
      std::string id;
      ca::step next(const ca::http_response* r, const ca::step_context&) override {
        if (!r) return ca::http_request{.method = "GET", .url = "https://ca.test/orders/" + id};
        auto o = ca::outcome::pending(20ms, "awaiting approval");
        o.pending_reason = "needs_approval";
        return o;
      }
      std::string resume_token() const override { return "order-" + id; }
    };
    auto s = std::make_unique<session>();
    s->id = j.id;
    return s;
  }
};

class cancelling_ca final : public waiting_ca, public ca::cancels_orders {
 public:
  std::unique_ptr<ca::job_session> cancel(const ca::job&, const std::string& token,
                                          const std::string&) override {
    struct session final : ca::job_session {
      std::string token;
      ca::step next(const ca::http_response* r, const ca::step_context&) override {
        if (!r) return ca::http_request{.method = "DELETE", .url = "https://ca.test/" + token};
        if (r->status == 200) return ca::outcome::done();
        return ca::outcome::failed(ca::error_class::rejected, "the order is issued already");
      }
    };
    auto s = std::make_unique<session>();
    s->token = token;
    return s;
  }
};

class counting_transport final : public ca::transport {
 public:
  std::mutex mu;
  std::vector<std::string> calls;
  std::atomic<int> delete_status{200};
  void send(const ca::http_request& r, completion done) override {
    int status = 202;
    {
      std::lock_guard lock(mu);
      calls.push_back(r.method + " " + r.url);
      if (r.method == "DELETE") status = delete_status;
    }
    done(ca::http_response{status, {}, ""}, {});
  }
  int count(const std::string& call) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }
};

struct fixture {
  test::temp_dir dir;
  std::shared_ptr<counting_transport> transport = std::make_shared<counting_transport>();
  // Before the runtime: its callbacks use them until it has stopped.
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, ca::outcome> results;
  std::unique_ptr<actors::connector_runtime> runtime;

  explicit fixture(std::shared_ptr<ca::driver> driver) {
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false};
    o.transport = transport;
    o.extra_backends["ca"] = std::move(driver);
    runtime = std::make_unique<actors::connector_runtime>(std::move(o));
  }

  actors::connector_runtime::result_callback record() {
    return [this](const std::string& job, const ca::outcome& o) {
      std::lock_guard lock(mu);
      results[job] = o;
      cv.notify_all();
    };
  }

  void submit(const std::string& id, std::chrono::milliseconds deadline = 30s) {
    runtime->submit(
        ca::job{.id = id, .op = ca::operation::revoke, .backend = "ca", .serial_hex = "01"},
        record(), deadline);
  }

  void cancel(const std::string& id, const std::string& reason) {
    runtime->cancel(id, reason, record());
  }

  // Once its order has been polled a few times: it is pending at the CA.
  void wait_polled(const std::string& id) {
    for (int i = 0; i < 500 && transport->count("GET https://ca.test/orders/" + id) < 3; ++i)
      std::this_thread::sleep_for(10ms);
    REQUIRE(transport->count("GET https://ca.test/orders/" + id) >= 3);
  }

  ca::outcome result(const std::string& id) {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 20s, [&] { return results.count(id) > 0; }));
    return results[id];
  }
};

}  // namespace cancel_test

TEST_SUITE("cancel") {
  TEST_CASE("a pending job is cancelled, and its order at the CA where the driver can") {
    cancel_test::fixture f(std::make_shared<cancel_test::cancelling_ca>());
    f.submit("c1");
    f.submit("c2");
    f.wait_polled("c1");
    f.cancel("c1", "requester withdrew");
    auto o = f.result("c1");
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::rejected);
    CHECK_FALSE(o.retryable);
    CHECK(o.message == "cancelled by SCM: requester withdrew; the order was cancelled at the CA");
    CHECK(f.transport->count("DELETE https://ca.test/order-c1") == 1);
    // Polling stopped; the other job still waits.
    auto polls = f.transport->count("GET https://ca.test/orders/c1");
    std::this_thread::sleep_for(100ms);
    CHECK(f.transport->count("GET https://ca.test/orders/c1") == polls);
    CHECK(f.transport->count("GET https://ca.test/orders/c2") >= 1);
    {
      std::lock_guard lock(f.mu);
      CHECK(f.results.count("c2") == 0);
    }

    // The CA refuses the cancel: the job ends cancelled, saying why.
    f.transport->delete_status = 409;
    f.cancel("c2", "");
    auto refused = f.result("c2");
    CHECK(refused.message ==
          "cancelled by SCM; the CA did not cancel the order: the order is issued already");
  }

  TEST_CASE("a driver that cannot cancel orders: the job is cancelled, the order stays") {
    cancel_test::fixture f(std::make_shared<cancel_test::waiting_ca>());
    f.submit("w1");
    f.wait_polled("w1");
    f.cancel("w1", "no longer needed");
    auto o = f.result("w1");
    CHECK(o.message ==
          "cancelled by SCM: no longer needed; the order stays at the CA (this "
          "backend type cannot cancel it there)");
    CHECK(f.transport->count("DELETE https://ca.test/order-w1") == 0);
  }

  TEST_CASE("a job left pending at its deadline is run again to be cancelled") {
    cancel_test::fixture f(std::make_shared<cancel_test::cancelling_ca>());
    f.submit("d1", 150ms);
    // The deadline passes while the order waits: SCM hears pending, the job stays journaled.
    auto pending = f.result("d1");
    CHECK(pending.what == ca::outcome::kind::pending);
    {
      std::lock_guard lock(f.mu);
      f.results.erase("d1");
    }
    f.cancel("d1", "too slow");
    auto o = f.result("d1");
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.message == "cancelled by SCM: too slow; the order was cancelled at the CA");
    CHECK(f.transport->count("DELETE https://ca.test/order-d1") == 1);
  }
}
