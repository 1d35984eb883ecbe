// A backend whose type may present a client certificate but has none (an
// Entrust ECS API key made "Basic Auth only") starts and sends its calls;
// before, the runtime asked the vault for the certificate regardless and the
// backend never came up ("sealed option cert is missing from the vault").

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "actors/connector_runtime.hpp"
#include "config/vault.hpp"
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
}
