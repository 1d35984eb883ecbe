// The SCM session waits for work instead of polling (issue 13, item 10), so
// these check, against a fake SCM (TLS WebSocket on loopback), that what the
// poll used to catch still happens: a backend's health change goes out at
// once even when the next heartbeat is minutes away, and heartbeats keep the
// interval SCM chose. No timed assertions: a wait only bounds whether a
// frame comes at all.

#include <doctest/doctest.h>

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "actors/scm/scm_session.hpp"
#include "actors/scm/session_policy.hpp"
#include "config/data_dir.hpp"
#include "protocol/scm/messages.hpp"
#include "test_pki.hpp"

namespace {

namespace wake_net = boost::asio;
namespace wake_scm = cbcs::protocol::scm;
using wake_tcp = wake_net::ip::tcp;

// One session: answers hello with hello_ack (the heartbeat interval given)
// and, if asked, heartbeats with heartbeat_ack (so a short interval's link
// stays alive), and keeps every frame but the hello for the test, in order.
// Not asked, it sends nothing after hello_ack: no frame wakes the connector.
class wake_fake_scm {
 public:
  wake_fake_scm(std::int64_t heartbeat_ms, bool ack_heartbeats)
      : heartbeat_ms_(heartbeat_ms),
        ack_heartbeats_(ack_heartbeats),
        cert_(cbcs::test::make_self_signed("p256", "localhost")) {
    tls_.use_certificate_chain(wake_net::buffer(cert_.cert_pem));
    tls_.use_private_key(wake_net::buffer(cert_.key_pem), wake_net::ssl::context::pem);
    acceptor_.open(wake_tcp::v4());
    acceptor_.bind({wake_net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    thread_ = std::thread([this] { serve(); });
  }

  ~wake_fake_scm() {
    // Wakes a blocked accept or read; the thread then ends.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      if (socket_fd_ >= 0) ::shutdown(socket_fd_, SHUT_RDWR);
    }
    thread_.join();
  }

  std::string url() const {
    return fmt::format("wss://localhost:{}/v1/session", acceptor_.local_endpoint().port());
  }
  const std::string& ca_pem() const { return cert_.cert_pem; }

  // The next frame received, or nullopt when none came within `limit`.
  std::optional<wake_scm::message> next(std::chrono::seconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, limit, [&] { return !frames_.empty(); })) return std::nullopt;
    auto m = std::move(frames_.front());
    frames_.pop_front();
    return m;
  }

  std::optional<wake_scm::hello_msg> hello() {
    std::lock_guard lock(mutex_);
    return hello_;
  }

 private:
  static std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void serve() {
    std::optional<boost::beast::websocket::stream<wake_net::ssl::stream<wake_tcp::socket>>> ws;
    try {
      wake_tcp::socket socket(ioc_);
      acceptor_.accept(socket);
      {
        std::lock_guard lock(mutex_);
        socket_fd_ = socket.native_handle();
      }
      ws.emplace(std::move(socket), tls_);
      ws->next_layer().handshake(wake_net::ssl::stream_base::server);
      ws->accept();
      ws->text(true);
      std::uint64_t seq = 0;
      for (;;) {
        boost::beast::flat_buffer buffer;
        ws->read(buffer);
        auto m = wake_scm::decode(boost::beast::buffers_to_string(buffer.data()));
        if (auto* h = std::get_if<wake_scm::hello_msg>(&m)) {
          wake_scm::hello_ack_msg ack;
          ack.seq = ++seq;
          ack.server_time_ms = unix_ms();
          ack.heartbeat_interval_ms = heartbeat_ms_;
          ws->write(wake_net::buffer(wake_scm::encode(ack)));
          std::lock_guard lock(mutex_);
          hello_ = *h;
          continue;
        }
        if (auto* h = std::get_if<wake_scm::heartbeat_msg>(&m); h && ack_heartbeats_) {
          wake_scm::heartbeat_ack_msg ack;
          ack.seq = ++seq;
          ack.ack = h->seq;
          ack.time_ms = unix_ms();
          ws->write(wake_net::buffer(wake_scm::encode(ack)));
        }
        std::lock_guard lock(mutex_);
        frames_.push_back(std::move(m));
        cv_.notify_all();
      }
    } catch (const std::exception&) {
      // The connector closed the session, or the destructor ended it.
    }
    std::lock_guard lock(mutex_);
    socket_fd_ = -1;  // before the socket goes: the destructor must not shut a reused fd
  }

  std::int64_t heartbeat_ms_;
  bool ack_heartbeats_;
  cbcs::test::key_and_cert cert_;
  wake_net::io_context ioc_;
  wake_net::ssl::context tls_{wake_net::ssl::context::tls_server};
  wake_tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<wake_scm::message> frames_;
  std::optional<wake_scm::hello_msg> hello_;
  int socket_fd_ = -1;
};

// A runtime with no backends of its own and a session to the fake SCM; the
// test owns the health board the session reports.
struct wake_connector {
  cbcs::test::temp_dir dir;
  std::shared_ptr<cbcs::actors::backend_health> health =
      std::make_shared<cbcs::actors::backend_health>();
  std::unique_ptr<cbcs::actors::connector_runtime> runtime;
  std::unique_ptr<cbcs::actors::scm_service> service;

  explicit wake_connector(const wake_fake_scm& scm) {
    health->add("local", "local", wake_scm::health::healthy);
    runtime = std::make_unique<cbcs::actors::connector_runtime>(
        cbcs::actors::runtime_options{.data_dir = dir.path(), .trace = false});
    auto client = cbcs::test::make_self_signed("p256", "wake-connector");
    cbcs::config::connector_identity id{.connector_id = "wake-connector",
                                        .session_url = scm.url(),
                                        .scm_ca_pem = scm.ca_pem(),
                                        .certificate_pem = client.cert_pem,
                                        .key_pem = client.key_pem};
    service = std::make_unique<cbcs::actors::scm_service>(
        *runtime, cbcs::actors::scm_session_options{.data_dir = dir.path(),
                                                    .version = "0.0.0-test",
                                                    .health = health,
                                                    .load_identity = [id] { return id; },
                                                    .store_identity = [](const auto&) {}});
  }

  // Ready, by the status file it writes: from then on only a deadline or a
  // message wakes it.
  bool wait_ready() {
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(cbcs::config::scm_status_file(dir.path()));
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (auto s = cbcs::actors::scm_policy::decode_status(text); s && s->state == "ready") {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // its handler returns
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  ~wake_connector() {
    service.reset();  // drains and closes the session first
    runtime.reset();
  }
};

// The next heartbeat the connector sent; nullopt if none came.
std::optional<wake_scm::heartbeat_msg> next_heartbeat(wake_fake_scm& scm) {
  while (auto m = scm.next()) {
    if (auto* h = std::get_if<wake_scm::heartbeat_msg>(&*m)) return *h;
  }
  return std::nullopt;
}

}  // namespace

TEST_SUITE("scm_session_wake") {
  TEST_CASE("a health change reaches SCM at once, not with the next heartbeat") {
    // 300 s: the longest interval SCM may ask for; no heartbeat is due
    // during the test and the fake SCM sends nothing, so only the health
    // board's own message can make the session look.
    wake_fake_scm scm(300'000, false);
    wake_connector connector(scm);
    REQUIRE(connector.wait_ready());
    auto hello = scm.hello();
    REQUIRE(hello);
    REQUIRE(hello->backends.size() == 1);
    CHECK(hello->backends[0].state == wake_scm::health::healthy);

    connector.health->set("local", wake_scm::health::degraded, "breaker open");
    auto hb = next_heartbeat(scm);
    REQUIRE(hb);
    REQUIRE(hb->backends);
    REQUIRE(hb->backends->size() == 1);
    CHECK((*hb->backends)[0].state == wake_scm::health::degraded);
    CHECK((*hb->backends)[0].message == "breaker open");

    // And back: every change goes out, each in a heartbeat of its own.
    REQUIRE(connector.wait_ready());
    connector.health->set("local", wake_scm::health::healthy);
    hb = next_heartbeat(scm);
    REQUIRE(hb);
    REQUIRE(hb->backends);
    CHECK((*hb->backends)[0].state == wake_scm::health::healthy);
  }

  TEST_CASE("heartbeats keep the interval SCM chose, without backends when nothing moved") {
    wake_fake_scm scm(100, true);  // the shortest SCM may ask for
    wake_connector connector(scm);
    for (int i = 0; i < 3; ++i) {
      auto hb = next_heartbeat(scm);
      REQUIRE(hb);
      CHECK_FALSE(hb->backends);
      CHECK(hb->time_ms > 0);
    }
  }
}

TEST_SUITE("backend_health") {
  TEST_CASE("subscribers hear every change of version, and only those") {
    cbcs::actors::backend_health board;
    int calls = 0;
    auto id = board.subscribe([&calls] { ++calls; });
    board.add("local", "local", wake_scm::health::healthy);
    CHECK(calls == 1);
    board.set("local", wake_scm::health::degraded, "breaker open");
    CHECK(calls == 2);
    board.set("local", wake_scm::health::degraded, "breaker open");  // no change
    board.set("nope", wake_scm::health::degraded);                   // unknown name
    CHECK(calls == 2);
    board.unsubscribe(id);
    board.set("local", wake_scm::health::healthy);
    CHECK(calls == 2);
  }
}
