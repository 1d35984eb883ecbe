// A backend whose type may present a client certificate but has none (an
// Entrust ECS API key made "Basic Auth only") starts and sends its calls;
// before, the runtime asked the vault for the certificate regardless and the
// backend never came up ("sealed option cert is missing from the vault").

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "actors/metrics/registry.hpp"
#include "config/identity.hpp"
#include "config/vault.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/transport.hpp"
#include "test_pki.hpp"

using namespace cbcs;
using namespace std::chrono_literals;
namespace ca = protocol::ca;

namespace {

class refusing_transport final : public ca::transport {
 public:
  void send(const ca::http_request&, completion done) override {
    ++calls;
    done({}, {ca::transport_failure::tls, "no CA here"});
  }
  std::atomic<int> calls{0};
};

// The metrics file's line for a backend's watched certificate: its notAfter.
std::string expiry_line(const std::string& kind, const std::string& backend,
                        const std::string& cert_pem) {
  auto not_after = config::validity_of(cert_pem).not_after;
  return fmt::format(
      "\ncbcs_certificate_expiry_timestamp_seconds{{kind=\"{}\",backend=\"{}\"}} {}\n", kind,
      backend,
      std::chrono::duration_cast<std::chrono::seconds>(not_after.time_since_epoch()).count());
}

std::string metrics_text(actors::connector_runtime& runtime) {
  return actors::metrics::to_text(runtime.metrics()->snapshot(std::chrono::system_clock::now()));
}

}  // namespace

TEST_SUITE("client identity") {
  TEST_CASE("a type's client certificate is presented only when the backend has one") {
    test::temp_dir dir;
    config::vault vault(std::filesystem::path(dir.path()) / "vault.bin", crypto::random_bytes(32));
    vault.put("backend.ecs.apikey", "sim-entrust-api-key-0001");
    auto transport = std::make_shared<refusing_transport>();
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
    o.vault = &vault;
    o.transport = transport;
    o.config.backends.push_back({.name = "ecs",
                                 .type = "entrust",
                                 .settings = {{"api", "ecs"}, {"username", "u"}},
                                 .sealed = {{"apikey", "backend.ecs.apikey"}}});
    actors::connector_runtime runtime(std::move(o));
    auto outcome = runtime.run(
        {.id = "basic-1", .op = ca::operation::revoke, .backend = "ecs", .serial_hex = "0a",
         .reason = "keyCompromise"},
        5s);
    runtime.stop();
    CHECK(transport->calls >= 1);  // it reached the CA's transport
    CHECK(outcome.message.find("missing from the vault") == std::string::npos);
  }

  // The board SCM and `cbcs status` read: 30 days before the client
  // certificate expires it says degraded with the command that replaces it;
  // once it has expired, unhealthy. Nothing needs to be sent for that.
  TEST_CASE("the backend's health warns of its client certificate's end, with the fix") {
    struct expected {
      std::chrono::hours age, lifetime;
      protocol::scm::health state;
      const char* words;
    };
    for (auto e : {expected{24h, 24h * 11, protocol::scm::health::degraded, "expires on"},
                   expected{48h, 24h, protocol::scm::health::unhealthy, "expired on"},
                   expected{24h, 24h * 200, protocol::scm::health::healthy, ""}}) {
      CAPTURE(e.words);
      test::temp_dir dir;
      auto client = crypto::create_root_ca("ecdsa-p256", "client of ecs",
                                           std::chrono::system_clock::now() - e.age, e.lifetime);
      config::vault vault(std::filesystem::path(dir.path()) / "vault.bin",
                          crypto::random_bytes(32));
      vault.put("backend.ecs.apikey", "sim-entrust-api-key-0001");
      vault.put("backend.ecs.cert", client.cert_pem);
      vault.put("backend.ecs.key", client.key_pem);
      actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
      o.vault = &vault;
      o.transport = std::make_shared<refusing_transport>();
      o.config.backends.push_back({.name = "ecs",
                                   .type = "entrust",
                                   .settings = {{"api", "ecs"}, {"username", "u"}},
                                   .sealed = {{"apikey", "backend.ecs.apikey"},
                                              {"cert", "backend.ecs.cert"},
                                              {"key", "backend.ecs.key"}}});
      actors::connector_runtime runtime(std::move(o));
      auto board = runtime.health();
      auto entry = [&] {
        for (const auto& b : board->snapshot())
          if (b.name == "ecs") return b;
        return protocol::scm::backend_info{};
      };
      if (e.state != protocol::scm::health::healthy) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (entry().state != e.state && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(10ms);
      } else {
        // Healthy stays healthy: the actor has looked once it answers a job.
        (void)runtime.run({.id = "probe", .op = ca::operation::revoke, .backend = "ecs",
                           .serial_hex = "0a", .reason = "keyCompromise"},
                          5s);
      }
      auto b = entry();
      CHECK(b.state == e.state);
      CHECK(test::contains(b.message, e.words));
      if (e.state != protocol::scm::health::healthy) {
        CHECK(test::contains(b.message, "cbcs backend set -name ecs -cert FILE -key FILE"));
        CHECK(test::contains(b.message, "client of ecs"));
      }
      // The metrics have its end, whatever the health says.
      CHECK(test::contains(metrics_text(runtime), expiry_line("client", "ecs", client.cert_pem)));
      runtime.stop();
    }
  }

  // AD CS's enrollment agent certificate is watched the same way, and the
  // warning names the command that renews it.
  TEST_CASE("the backend's health warns of its agent certificate's end, naming the renewal") {
    test::temp_dir dir;
    auto agent = crypto::create_root_ca("ecdsa-p256", "agent of ad",
                                        std::chrono::system_clock::now() - 24h, 24h * 11);
    config::vault vault(std::filesystem::path(dir.path()) / "vault.bin", crypto::random_bytes(32));
    vault.put("backend.ad.password", "p");
    vault.put("backend.ad.agentcert", agent.cert_pem);
    vault.put("backend.ad.agentkey", agent.key_pem);
    actors::runtime_options o{.data_dir = dir.path(), .durable_journal = false, .trace = false};
    o.vault = &vault;
    o.transport = std::make_shared<refusing_transport>();
    o.config.backends.push_back({.name = "ad",
                                 .type = "msca",
                                 .settings = {{"server", "ca01"},
                                              {"ca", "Corp CA"},
                                              {"transport", "ces"},
                                              {"auth", "username"},
                                              {"username", "CORP\\svc"}},
                                 .sealed = {{"password", "backend.ad.password"},
                                            {"agentcert", "backend.ad.agentcert"},
                                            {"agentkey", "backend.ad.agentkey"}}});
    actors::connector_runtime runtime(std::move(o));
    auto board = runtime.health();
    auto entry = [&] {
      for (const auto& b : board->snapshot())
        if (b.name == "ad") return b;
      return protocol::scm::backend_info{};
    };
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (entry().state != protocol::scm::health::degraded &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    auto b = entry();
    CHECK(b.state == protocol::scm::health::degraded);
    CHECK(test::contains(b.message, "the enrollment agent certificate (CN=agent of ad) expires on"));
    CHECK(test::contains(b.message, "renew it with cbcs backend msca enroll-agent-cert -name ad"));
    CHECK(test::contains(metrics_text(runtime), expiry_line("agent", "ad", agent.cert_pem)));
    runtime.stop();
  }
}
