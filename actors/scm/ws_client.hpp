#pragma once
// One WebSocket-over-TLS connection to SCM (protocol/scm/PROTOCOL.md §3):
// client certificate, the pinned SCM CA as the only trust anchor, SNI and
// host-name verification, optional HTTP CONNECT proxy. Runs on the shared
// I/O thread; events are callbacks on that thread, which must only post a
// message (the session actor uses caf::anon_send). Beast stays in the .cpp.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "actors/http/http_client.hpp"

namespace cbcs::actors {

struct ws_settings {
  std::string url;             // wss://host[:port]/path
  std::string trust_pem;       // the only trust anchors
  std::string cert_chain_pem;  // client certificate, then intermediates
  std::string key_pem;         // never logged
  proxy_settings proxy;
  std::chrono::milliseconds dial_timeout{15'000};  // TCP + CONNECT + TLS + upgrade
  std::size_t max_frame_bytes = std::size_t{1} << 20;
};

enum class ws_frame_kind : int { text = 0, binary = 1, too_large = 2 };

struct ws_events {
  std::function<void()> opened;
  std::function<void(std::string payload, ws_frame_kind kind)> frame;  // too_large: empty payload
  std::function<void(std::string reason)> closed;                      // exactly once
};

class ws_connection {
 public:
  // Starts dialing at once. Throws std::invalid_argument for a bad URL or
  // unreadable certificates/key (the message names which, never the key).
  static std::shared_ptr<ws_connection> dial(const std::shared_ptr<io_runner>& runner,
                                             ws_settings settings, ws_events events);
  virtual ~ws_connection() = default;

  // Thread-safe; frames go out in order. Ignored once closed.
  virtual void send(std::string text) = 0;
  // Sends what is queued, then closes with status 1000.
  virtual void close() = 0;
  // Drops the TCP connection at once (dead link).
  virtual void abort() = 0;
};

}  // namespace cbcs::actors
