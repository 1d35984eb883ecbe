#pragma once
// The HTTP(S) client, the transport of every backend whose type brings none
// (runtime_policy::make_transport): pooled keep-alive connections,
// TLS with SNI and host-name verification, optional mutual TLS, and HTTP
// CONNECT tunnels through a proxy with Basic authentication. Beast and Asio
// stay inside http_client.cpp; this header is cheap to include.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/ca/transport.hpp"

namespace boost::asio {
class io_context;
}

namespace cbcs::actors {

// A manual HTTP proxy; disabled means direct connections.
struct proxy_settings {
  bool enabled = false;
  std::string host;
  std::uint16_t port = 0;
  std::string user;      // empty: no Proxy-Authorization
  std::string password;  // never logged or traced
  bool operator==(const proxy_settings&) const = default;
};

struct tls_settings {
  std::string extra_roots_pem;  // trusted in addition to the system store
  bool system_roots = true;
  std::string client_cert_pem;  // mutual TLS (Entrust, the SCM session)
  std::string client_key_pem;
};

struct http_client_settings {
  tls_settings tls;
  proxy_settings proxy;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::seconds idle_timeout{30};  // pooled connections older than this are closed
  // Connections open to one host at once (in use and idle), whatever the
  // jobs in flight: requests beyond wait for one to come free. 256 at once
  // cost 57 % more CPU and twice the memory of 16, for a longer wall time.
  std::size_t max_connections = 16;
  std::size_t max_body_bytes = 8 << 20;
};

// True for hosts that are never reached through the proxy: link-local
// addresses (169.254.0.0/16, fe80::/10) and the EC2 metadata service's IPv6
// address belong to this machine's own network link, which a proxy elsewhere
// cannot see. `host` as in a URL (IPv6 in brackets).
bool bypasses_proxy(std::string_view host);

// One event loop thread shared by every client of the process.
class io_runner;
std::shared_ptr<io_runner> make_io_runner();
// Its event loop, for the other Asio clients on that thread (the SCM session).
boost::asio::io_context& io_context_of(io_runner& runner);
// Runs fn on the runner's thread; posted from that thread, it runs in the
// same turn of the loop, with no wake-up.
void post_to(io_runner& runner, std::function<void()> fn);
// The runner whose thread calls this, or null on any other thread.
io_runner* current_io_runner();

class http_client final : public protocol::ca::transport {
 public:
  http_client(std::shared_ptr<io_runner> runner, http_client_settings settings);
  ~http_client() override;

  // Thread-safe. `done` runs on the I/O thread.
  void send(const protocol::ca::http_request& request, completion done) override;

  // Connections opened and reused so far (for tests and benchmarks).
  std::size_t connections_opened() const;
  std::size_t connections_reused() const;

  struct impl;  // defined in http_client.cpp, shared with its in-flight exchanges

 private:
  std::shared_ptr<io_runner> runner_;  // declared first: destroyed after impl_
  std::shared_ptr<impl> impl_;
};

}  // namespace cbcs::actors
