#pragma once
// How a backend actor sends a driver's HTTP request. The Beast client (with
// the proxy dialer) implements it; tests use scripted transports. Completion
// callbacks run on the transport's own thread: they must only post a message.

#include <functional>
#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::actors {

class http_transport {
 public:
  // error: empty on success; else a one-line network/TLS failure, starting with
  // "tls:" for TLS problems so the actor can classify it.
  using completion = std::function<void(protocol::ca::http_response response, std::string error)>;

  virtual ~http_transport() = default;
  virtual void send(const protocol::ca::http_request& request, completion done) = 0;
};

}  // namespace cbcs::actors
