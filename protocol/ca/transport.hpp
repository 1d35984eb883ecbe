#pragma once
// How a backend's requests reach its CA. The backend actor hands every
// http_request its driver returns to the backend's transport and steps the
// driver again with the answer. The HTTP client (actors/http) is the
// transport of every type that declares none; a type whose CA speaks
// something else (AD CS's DCOM on Windows) brings its own through
// runtime_policy::make_transport, and its driver still speaks http_request.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

// Why an exchange has no answer: the actor maps it onto an error_class.
enum class transport_failure : std::uint8_t {
  none,
  network,                     // resolve, connect, send or read failed: retried
  tls,                         // handshake or verification failed: configuration
  client_certificate_refused,  // the server refused (or wanted) our client certificate
  proxy_auth,                  // the proxy refused our credentials (407)
  proxy_refused,               // the proxy answered CONNECT with a refusal it repeats (403)
  // The transport's own authentication (Kerberos for Negotiate) failed before
  // the request went out: a wrong key, clock skew, an unknown service.
  authentication,
  // The request never went out: what the transport must ask first (a KDC)
  // could not be reached. Retried as network; a placement is not in doubt.
  not_sent,
};

struct transport_error {
  transport_failure kind = transport_failure::none;
  std::string message;  // one line, no secrets
  explicit operator bool() const { return kind != transport_failure::none; }
};

// Thread-safe. `done` runs once per request, on any thread (the transport's
// own, or the caller's within send): it only posts a message.
class transport {
 public:
  using completion = std::function<void(http_response response, transport_error error)>;

  virtual ~transport() = default;
  virtual void send(const http_request& request, completion done) = 0;
};

// How long one request may take: a transport gives up on its answer (a
// network failure) after connect + request; the drivers count on it
// (step_context::attempt_limit).
struct transport_timeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds request{30'000};
};

// A type's own transport for one configured backend (its settings and
// unsealed secrets, as its driver gets them). Throws std::exception naming
// what is wrong.
using transport_factory = std::unique_ptr<transport> (*)(const driver_config& backend,
                                                         const transport_timeouts& timeouts);

}  // namespace cbcs::protocol::ca
