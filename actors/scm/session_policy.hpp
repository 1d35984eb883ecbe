#pragma once
// The pure parts of the SCM session (protocol/scm/PROTOCOL.md §4, §7, §8):
// back-off, timings, renewal time, the malformed-frame limit and the status
// file the running service leaves for `cbcs status`. No sockets, no actors,
// no clocks of their own: time and randomness come in as arguments.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "protocol/scm/messages.hpp"

namespace cbcs::actors::scm_policy {

using namespace std::chrono_literals;

inline constexpr auto dial_timeout = 15s;
inline constexpr auto hello_timeout = 15s;
inline constexpr auto result_ack_timeout = 60s;
inline constexpr auto identity_timeout = 60s;
inline constexpr auto drain_timeout = 5s;
inline constexpr auto backoff_cap = 60s;
inline constexpr auto backoff_reset_after = 60s;  // ready this long: attempts start over
inline constexpr auto identity_check_interval = 60s;
inline constexpr auto renewal_retry = std::chrono::hours(1);
inline constexpr std::size_t max_unacked_results = 256;
// Acknowledged result ids kept to drop a duplicate at once (about 1.5 MB);
// older duplicates are answered from the journal.
inline constexpr std::size_t remembered_acks = 10'000;

// Full-jitter exponential back-off: uniform(0, min(60 s, 1 s * 2^attempt)).
// u is a uniform random number in [0, 1).
std::chrono::milliseconds backoff_delay(unsigned attempt, double u);

// After bye with reconnect_after_ms: that value plus uniform(0, 10 %).
std::chrono::milliseconds bye_delay(std::int64_t reconnect_after_ms, double u);

// hello_ack.heartbeat_interval_ms clamped to 100 ms ... 300 s.
std::chrono::milliseconds heartbeat_interval(std::int64_t from_scm_ms);

// The moment to renew: notBefore + 2/3 of the certificate's life.
std::chrono::system_clock::time_point renewal_time(std::chrono::system_clock::time_point not_before,
                                                   std::chrono::system_clock::time_point not_after);

// More than 10 malformed frames within 60 s ends the session (bye protocol_error).
class malformed_limit {
 public:
  // Records one; true when the limit is now exceeded.
  bool record(std::chrono::steady_clock::time_point now);

 private:
  std::deque<std::chrono::steady_clock::time_point> seen_;
};

// Session states as PROTOCOL.md §4 names them, plus why no dial happens.
enum class link_state : std::uint8_t {
  not_registered,
  waiting,  // back-off before the next dial
  connecting,
  hello_sent,
  ready,
  draining,
  closed,
  certificate_expired,
  deregistered,
  stopped,
};
const char* to_string(link_state s);

// The link in one line for the service manager's status (systemd's STATUS=):
// "connected to SCM", "connecting to SCM (offline since ...)", "offline
// since 2026-12-02 06:00:00 UTC: <reason>". offline_since_ms: unix ms the
// link was last lost (or the session started).
std::string link_status_line(link_state s, std::int64_t offline_since_ms, std::string_view message);

// config::scm_status_file: written by `cbcs run`, read by `cbcs status`.
struct status_record {
  std::string state;  // to_string(link_state)
  std::string connector_id;
  std::string session_url;
  std::int64_t pid = 0;
  std::int64_t updated_at_ms = 0;      // unix ms of this write
  std::int64_t since_ms = 0;           // unix ms the state began
  std::int64_t last_heartbeat_ms = 0;  // unix ms of the last heartbeat answered either way
  std::int64_t connected_since_ms = 0;
  std::uint64_t jobs_received = 0;
  std::uint64_t results_sent = 0;
  std::uint64_t results_acked = 0;
  std::string message;  // one line: the last problem, or the fix for it
  std::string journal;  // empty, or why the journal cannot commit
  // Each backend's health as the service sees it (what SCM hears too).
  std::vector<protocol::scm::backend_info> backends;
  // Jobs the service holds that wait at their CA, by backend.
  std::map<std::string, std::uint64_t> pending_at_ca;
};

std::string encode_status(const status_record& s);
// nullopt for an unreadable file (status then says it cannot tell).
std::optional<status_record> decode_status(std::string_view text);

}  // namespace cbcs::actors::scm_policy
