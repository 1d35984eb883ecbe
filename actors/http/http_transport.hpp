#pragma once
// How a backend actor sends a driver's HTTP request. The Beast client (with
// the proxy dialer) implements it; tests use scripted transports. Completion
// callbacks run on the transport's own thread: they must only post a message.

#include <cstdint>
#include <functional>
#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::actors {

// Why an exchange has no answer: the actor maps it onto an error_class.
enum class transport_failure : std::uint8_t {
  none,
  network,                     // resolve, connect, send or read failed: retried
  tls,                         // handshake or verification failed: configuration
  client_certificate_refused,  // the server refused (or wanted) our client certificate
  proxy_auth,                  // the proxy refused our credentials (407)
};

struct transport_error {
  transport_failure kind = transport_failure::none;
  std::string message;  // one line, no secrets
  explicit operator bool() const { return kind != transport_failure::none; }
};

class http_transport {
 public:
  using completion =
      std::function<void(protocol::ca::http_response response, transport_error error)>;

  virtual ~http_transport() = default;
  virtual void send(const protocol::ca::http_request& request, completion done) = 0;
};

}  // namespace cbcs::actors
