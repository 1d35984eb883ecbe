// A TLS handshake that fails because the connection was reset (a proxy
// restarting) is a network failure, retried; one OpenSSL refuses (not TLS at
// all, a bad certificate) is the configuration's. Found by the fault matrix
// (tests/integration/test_fault_matrix.py): a job failed for good when
// tinyproxy restarted mid-handshake. A certificate the client refuses (an
// untrusted CA, another host's name) stays tls, never retried. POSIX sockets,
// so not in the Windows build.

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include "actors/http/http_client.hpp"
#include "loopback_listener.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace http_client_handshake_test {

// Accepts one connection, reads what the client sends first (its
// ClientHello), then either resets it or answers bytes that are not TLS.
struct one_shot_server {
  int listener = -1;
  int port = 0;
  std::thread worker;

  explicit one_shot_server(bool reset) {
    listener = test::listen_on_loopback(port, 4);
    worker = std::thread([this, reset] {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      char buf[4096];
      (void)::recv(fd, buf, sizeof buf, 0);
      if (reset) {
        linger l{1, 0};  // close with a RST, not a FIN
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      } else {
        static constexpr char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        (void)::send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL);
      }
      ::close(fd);
    });
  }

  ~one_shot_server() {
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    worker.join();
  }
};

// Accepts one connection and answers its handshake as a real TLS server
// with `identity`'s certificate, until the client gives up on it.
struct tls_one_shot_server {
  int listener = -1;
  int port = 0;
  std::thread worker;

  explicit tls_one_shot_server(test::key_and_cert identity) {
    listener = test::listen_on_loopback(port, 4);
    worker = std::thread([this, identity = std::move(identity)] {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      namespace net = boost::asio;
      net::io_context io;
      net::ssl::context ctx(net::ssl::context::tls_server);
      ctx.use_certificate_chain(net::buffer(identity.cert_pem));
      ctx.use_private_key(net::buffer(identity.key_pem), net::ssl::context::pem);
      net::ssl::stream<net::ip::tcp::socket> stream(io, ctx);
      boost::system::error_code ec;
      stream.next_layer().assign(net::ip::tcp::v4(), fd, ec);
      // Ends with the client's alert: it refuses the certificate.
      stream.handshake(net::ssl::stream_base::server, ec);
    });
  }

  ~tls_one_shot_server() {
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    worker.join();
  }
};

ca::transport_error send_and_fail(const std::string& url,
                                  const actors::http_client_settings& settings) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ca::transport_error> error;
  {
    auto io = actors::make_io_runner();
    actors::http_client client(io, settings);
    client.send(ca::http_request{.method = "GET", .url = url},
                [&](ca::http_response, ca::transport_error e) {
                  std::lock_guard lock(mu);
                  error = std::move(e);
                  cv.notify_all();
                });
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 20s, [&] { return error.has_value(); }));
  }
  return *error;
}

ca::transport_error handshake_failure(bool reset) {
  one_shot_server server(reset);
  return send_and_fail("https://127.0.0.1:" + std::to_string(server.port) + "/", {});
}

// The server shows `shown`; the client trusts only `trusted`.
ca::transport_error refused_certificate(const test::key_and_cert& shown,
                                        const test::key_and_cert& trusted) {
  tls_one_shot_server server(shown);
  actors::http_client_settings settings;
  settings.tls.extra_roots_pem = trusted.cert_pem;
  settings.tls.system_roots = false;
  return send_and_fail("https://localhost:" + std::to_string(server.port) + "/", settings);
}

}  // namespace http_client_handshake_test

TEST_SUITE("http_client") {
  TEST_CASE("a handshake reset by the peer is a network failure; one OpenSSL refuses is tls") {
    auto reset = http_client_handshake_test::handshake_failure(true);
    CHECK(reset.kind == ca::transport_failure::network);
    CHECK(reset.message.find("tls: handshake with 127.0.0.1") != std::string::npos);

    auto not_tls = http_client_handshake_test::handshake_failure(false);
    CHECK(not_tls.kind == ca::transport_failure::tls);
    CHECK(not_tls.message.find("tls: handshake with 127.0.0.1") != std::string::npos);
  }

  TEST_CASE("a certificate the client refuses is tls, never retried") {
    namespace t = http_client_handshake_test;
    auto localhost = test::make_self_signed("p256", "localhost");

    auto untrusted = t::refused_certificate(localhost, test::make_self_signed("p256", "localhost"));
    CHECK(untrusted.kind == ca::transport_failure::tls);
    CHECK(untrusted.message.find("tls: handshake with localhost") != std::string::npos);

    auto elsewhere = test::make_self_signed("p256", "elsewhere.example");
    auto wrong_name = t::refused_certificate(elsewhere, elsewhere);
    CHECK(wrong_name.kind == ca::transport_failure::tls);
    CHECK(wrong_name.message.find("tls: handshake with localhost") != std::string::npos);
  }
}
