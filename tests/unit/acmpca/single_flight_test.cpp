// Single flight through the whole job path: 1,000 jobs of an instance-role
// backend that start together cause one fetch of the role's keys.

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "actors/connector_runtime.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/transport.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace single_flight_test {

// Answers AWS at once and the metadata service 50 ms later, from a thread of
// its own, so that every job has started while the keys are being fetched.
class imds_and_aws final : public ca::transport {
 public:
  std::atomic<int> token_puts{0}, role_listings{0}, key_fetches{0}, revokes{0};

  imds_and_aws() : worker_([this] { run(); }) {}
  ~imds_and_aws() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void send(const ca::http_request& r, completion done) override {
    if (!r.url.starts_with("http://imds.test/")) {
      ++revokes;
      return done(ca::http_response{200, {}, "{}"}, {});
    }
    ca::http_response answer{200, {}, ""};
    if (r.method == "PUT") {
      ++token_puts;
      answer.body = "METADATA-TOKEN-EXAMPLE";
    } else if (r.url.ends_with("/security-credentials/")) {
      ++role_listings;
      answer.body = "cbcs-role";
    } else {
      ++key_fetches;
      answer.body =
          R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIOSFODNN7EXAMPLE",)"
          R"("SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","Token":"SESSIONTOKEN",)"
          R"("Expiration":"2200-01-01T00:00:00Z"})";
    }
    std::lock_guard lock(mu_);
    queue_.push_back({std::chrono::steady_clock::now() + 50ms, std::move(answer), std::move(done)});
    cv_.notify_all();
  }

 private:
  struct held {
    std::chrono::steady_clock::time_point at;
    ca::http_response answer;
    completion done;
  };

  void run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      if (cv_.wait_until(lock, queue_.front().at) == std::cv_status::no_timeout) continue;
      auto h = std::move(queue_.front());
      queue_.erase(queue_.begin());
      lock.unlock();
      h.done(std::move(h.answer), {});
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<held> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace single_flight_test

TEST_SUITE("acmpca single flight") {
  TEST_CASE("1,000 jobs starting together fetch the instance role's keys once") {
    using single_flight_test::imds_and_aws;
    test::temp_dir dir;
    auto transport = std::make_shared<imds_and_aws>();
    ca::driver_config c;
    c.name = "aws";
    c.settings = {{"credentials", "instance"},
                  {"imds_endpoint", "http://imds.test"},
                  {"region", "eu-west-1"},
                  {"ca_arn",
                   "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
                   "11111111-2222-3333-4444-555555555555"}};
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
    o.backend_defaults.max_in_flight = 1000;
    o.transport = transport;
    o.extra_backends["aws"] = std::shared_ptr<ca::driver>(ca::acmpca::make_driver(c));
    actors::connector_runtime runtime(std::move(o));

    constexpr int jobs = 1000;
    std::mutex mu;
    std::condition_variable cv;
    int finished = 0, done_ok = 0;
    for (int i = 0; i < jobs; ++i)
      runtime.submit(ca::job{.id = "revoke-" + std::to_string(i),
                             .op = ca::operation::revoke,
                             .backend = "aws",
                             .serial_hex = "0a1b" + std::to_string(i)},
                     [&](const std::string&, const ca::outcome& out) {
                       std::lock_guard lock(mu);
                       ++finished;
                       if (out.what == ca::outcome::kind::done) ++done_ok;
                       cv.notify_all();
                     });
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 60s, [&] { return finished == jobs; }));
    CHECK(done_ok == jobs);
    CHECK(transport->token_puts == 1);
    CHECK(transport->role_listings == 1);
    CHECK(transport->key_fetches == 1);
    CHECK(transport->revokes == jobs);
  }
}
