#pragma once
// The simulated SCM's network side (Boost.Beast, kept out of this header):
// HTTPS registration and the WebSocket session on one TLS port, the admin
// API on a plain-HTTP port, both on 127.0.0.1 only.

#include <cstdint>
#include <functional>

#include "tests/sim/scm/scm_state.hpp"

namespace cbcs::sim::scm {

// The path of the WebSocket session on the TLS port.
inline constexpr std::string_view session_path = "/api/connector/v1/session";

struct serve_options {
  std::uint16_t port = 0;        // 0: any free port
  std::uint16_t admin_port = 0;  // 0: any free port
};

// Binds both ports, calls on_listening(port, admin_port) (which must finish
// setting up state), then serves until SIGINT or SIGTERM. Throws on bind errors.
void serve(scm_state& state, const serve_options& options,
           const std::function<void(std::uint16_t, std::uint16_t)>& on_listening);

}  // namespace cbcs::sim::scm
