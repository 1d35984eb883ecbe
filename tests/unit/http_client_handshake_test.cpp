// A TLS handshake that fails because the connection was reset (a proxy
// restarting) is a network failure, retried; one OpenSSL refuses (not TLS at
// all, a bad certificate) is the configuration's. Found by the fault matrix
// (tests/integration/test_fault_matrix.py): a job failed for good when
// tinyproxy restarted mid-handshake. POSIX sockets, so not in the Windows build.

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

#include "actors/http/http_client.hpp"
#include "loopback_listener.hpp"

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

ca::transport_error handshake_failure(bool reset) {
  one_shot_server server(reset);
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ca::transport_error> error;
  {
    auto io = actors::make_io_runner();
    actors::http_client client(io, actors::http_client_settings{});
    client.send(ca::http_request{.method = "GET",
                                 .url = "https://127.0.0.1:" + std::to_string(server.port) + "/"},
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
}
