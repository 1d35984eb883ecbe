#pragma once
// Renewal of the connector's own certificate over the SCM session
// (PROTOCOL.md §8): when session_policy's renewal time has come, a fresh key
// and a CSR for the connector id; SCM's answer is checked against that key
// and that id before it replaces the identity. Plain: the caller passes the
// times, sends the frames, stores the identity and logs what it says.

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "config/identity.hpp"
#include "protocol/scm/messages.hpp"

namespace cbcs::actors {

class identity_renewal {
 public:
  using steady_time = std::chrono::steady_clock::time_point;
  using system_time = std::chrono::system_clock::time_point;

  // The certificate in use changed (connected, or renewed).
  void use(const config::certificate_validity& validity) { validity_ = validity; }

  // A renew_identity to send at `now`, or nullopt: not due, or one is out.
  // `line` says what happened when it is worth a log line. jitter in [0, 1).
  std::optional<protocol::scm::renew_identity_msg> poll(const config::connector_identity& current,
                                                        steady_time now, system_time wall,
                                                        double jitter, std::string& line);

  // SCM's identity: the identity to store (the caller stores it, then calls
  // use()), or why it is refused (the next attempt is in renewal_retry).
  std::variant<config::connector_identity, std::string> accept(
      const protocol::scm::identity_msg& m, const config::connector_identity& current,
      steady_time now, std::int64_t now_s);

  bool awaiting_answer() const { return key_pem_.has_value(); }
  // SCM refused the renewal: try again in about renewal_retry.
  void refused(steady_time now, double jitter);
  // The link went: a request on it is void.
  void link_lost() { key_pem_.reset(); }

  // When poll() next has something to do; `wall` converts the renewal time.
  steady_time next_wake(steady_time now, system_time wall) const;

 private:
  std::optional<config::certificate_validity> validity_;
  std::optional<std::string> key_pem_;  // of the CSR out, until its answer
  steady_time sent_at_{};
  steady_time next_attempt_{};
};

}  // namespace cbcs::actors
