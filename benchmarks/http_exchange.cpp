// benchmarks/http_exchange: CPU per HTTP/1.1 exchange of the backends' HTTP
// client (Beast, on the shared I/O thread) against the same exchange made
// with blocking sockets, the floor any client pays for a connection per
// request. The server is a separate process (benchmarks/http_exchange.py
// starts one that answers like AWS: ~3 KB of JSON, then Connection: close),
// so its CPU is not counted.
//
//   build/bench_http_exchange --port P --mode client --count 400 --at-once 1
//   build/bench_http_exchange --port P --mode raw --count 400

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "actors/http/http_client.hpp"

namespace {

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

const std::string body(600, 'x');  // about an IssueCertificate request

// One exchange on a fresh connection with blocking calls; false on failure.
bool raw_exchange(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  int one = 1;
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  auto request =
      fmt::format("POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\r\n{}", port,
                  body.size(), body);
  ok = ok && send(s, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size());
  char buffer[16384];
  std::size_t got = 0;
  for (ssize_t n = 0; ok && (n = recv(s, buffer, sizeof buffer, 0)) > 0;)
    got += static_cast<std::size_t>(n);
  close(s);
  return ok && got > 0;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, count = 400, at_once = 1;
  std::string mode = "client";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i];
    if (k == "--port")
      port = std::atoi(argv[i + 1]);
    else if (k == "--count")
      count = std::atoi(argv[i + 1]);
    else if (k == "--at-once")
      at_once = std::max(1, std::atoi(argv[i + 1]));
    else if (k == "--mode")
      mode = argv[i + 1];
  }
  if (port <= 0 || count <= 0 || (mode != "client" && mode != "raw")) {
    fmt::print(stderr,
               "usage: bench_http_exchange --port P [--mode client|raw] [--count N] "
               "[--at-once K]\n");
    return 2;
  }
  int failed = 0;
  double start = 0;
  if (mode == "raw") {
    start = cpu_seconds();
    for (int i = 0; i < count; ++i) failed += !raw_exchange(port);
  } else {
    auto io = cbcs::actors::make_io_runner();
    cbcs::actors::http_client client(io, {});
    cbcs::protocol::ca::http_request request{
        .method = "POST", .url = fmt::format("http://127.0.0.1:{}/", port), .body = body};
    request.headers.push_back({"Content-Type", "application/x-amz-json-1.1"});
    std::mutex mu;
    std::condition_variable cv;
    int started = 0, done = 0;
    std::function<void()> next = [&] {
      client.send(request, [&](cbcs::protocol::ca::http_response r,
                               cbcs::protocol::ca::transport_error error) {
        std::lock_guard lock(mu);
        ++done;
        failed += static_cast<bool>(error) || r.status != 200;
        if (started < count) {
          ++started;
          next();
        }
        if (done == count) cv.notify_all();
      });
    };
    start = cpu_seconds();
    {
      std::lock_guard lock(mu);
      for (; started < std::min(at_once, count);) {
        ++started;
        next();
      }
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == count; });
  }
  double per = 1e6 * (cpu_seconds() - start) / count;
  fmt::print("{}: {} exchanges ({} failed), {} at once: {:.0f} us CPU per exchange\n", mode, count,
             failed, mode == "raw" ? 1 : at_once, per);
  return failed ? 1 : 0;
}
