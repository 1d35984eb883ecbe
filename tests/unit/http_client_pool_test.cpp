// The backends' HTTP client keeps at most max_connections open to one host,
// whatever the jobs in flight (seen: 256 connections at once to one CA with
// -ratelimit off, 57 % more CPU and twice the memory of 16). POSIX sockets
// for the little server, so not in the Windows build.

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/http/http_client.hpp"
#include "loopback_listener.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace http_client_pool_test {

// Answers every request on every connection after 20 ms, keep-alive; counts
// the connections it accepted and the most open at once.
struct slow_server {
  int listener = -1;
  int port = 0;
  std::atomic<int> accepted{0}, open{0}, most_open{0};
  std::atomic<bool> stopping{false};
  std::thread acceptor;
  std::vector<std::thread> workers;
  std::mutex mu;

  slow_server() {
    listener = test::listen_on_loopback(port, 512);
    acceptor = std::thread([this] {
      while (!stopping) {
        int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        ++accepted;
        int now = ++open;
        int seen = most_open;
        while (now > seen && !most_open.compare_exchange_weak(seen, now)) {
        }
        std::lock_guard lock(mu);
        workers.emplace_back([this, fd] { serve(fd); });
      }
    });
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        in.erase(0, end + 4);
        std::this_thread::sleep_for(20ms);
        static constexpr char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if (::send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0) break;
        continue;
      }
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    --open;
    ::close(fd);
  }

  ~slow_server() {
    stopping = true;
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
    acceptor.join();
    std::lock_guard lock(mu);
    for (auto& w : workers) w.join();
  }
};

}  // namespace http_client_pool_test

TEST_SUITE("http_client") {
  TEST_CASE("requests beyond max_connections wait for a connection; none is lost") {
    using http_client_pool_test::slow_server;
    auto server = std::make_unique<slow_server>();
    int answered = 0;
    std::mutex mu;
    std::condition_variable cv;
    {
      auto io = actors::make_io_runner();
      actors::http_client_settings settings;
      settings.max_connections = 3;
      actors::http_client client(io, settings);
      for (int i = 0; i < 40; ++i)
        client.send(ca::http_request{.method = "GET",
                                     .url = "http://127.0.0.1:" + std::to_string(server->port) +
                                            "/" + std::to_string(i)},
                    [&](ca::http_response r, ca::transport_error e) {
                      std::lock_guard lock(mu);
                      if (r.status == 200 && e.message.empty()) ++answered;
                      cv.notify_all();
                    });
      std::unique_lock lock(mu);
      CHECK(cv.wait_for(lock, 20s, [&] { return answered == 40; }));
      CHECK(client.connections_opened() <= 3);
      CHECK(client.connections_reused() >= 37);
    }
    CHECK(server->accepted <= 3);
    CHECK(server->most_open <= 3);
  }
}
