#pragma once
// The SCM link on the wire (protocol/scm/PROTOCOL.md): the session's JSON
// text frames and the HTTPS registration bodies. Pure codecs: no sockets, no
// clocks. Every decoder treats its input as hostile and throws
// scm_protocol_error with a one-line reason that repeats no field value (an
// unknown type name is quoted, sanitised and cut to 64 characters). Free
// texts come out one line (max_text_bytes): they end up in logs and on stderr.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::scm {

// The protocol version this build speaks (hello.protocol, hello_ack.protocol).
inline constexpr std::int64_t protocol_version = 1;
// Largest frame either side sends or reads (1 MiB of UTF-8).
inline constexpr std::size_t max_frame_bytes = std::size_t{1} << 20;
// Free texts (messages, reasons, error codes) as decoded: one line of at most
// this many bytes; the decoder replaces control characters and cuts longer ones.
inline constexpr std::size_t max_text_bytes = 1024;
// seq and times travel as JSON numbers: keep them exact in every JSON reader.
inline constexpr std::int64_t max_json_integer = (std::int64_t{1} << 53) - 1;

// Why a frame could not be decoded; the session answers each with an error
// frame of the same name (error_code below).
enum class error_kind : std::uint8_t {
  malformed,         // not JSON, not an object, a field missing or of the wrong type
  too_large,         // over max_frame_bytes; not parsed at all
  unsupported_type,  // well-formed, but "type" names a message we do not know
};

const char* to_string(error_kind k);

class scm_protocol_error : public std::invalid_argument {
 public:
  scm_protocol_error(error_kind kind, const std::string& what, std::string type = {},
                     std::optional<std::uint64_t> seq = std::nullopt)
      : std::invalid_argument(what), kind_(kind), type_(std::move(type)), seq_(seq) {}

  error_kind kind() const { return kind_; }
  // The frame's "type" when it could be read (sanitised, at most 64 chars):
  // never answer a bad "error" frame with another error.
  const std::string& type() const { return type_; }
  // The frame's "seq" when it could be read: the reply's ref_seq.
  std::optional<std::uint64_t> seq() const { return seq_; }

 private:
  error_kind kind_;
  std::string type_;
  std::optional<std::uint64_t> seq_;
};

// Codes of error frames and of job_ack refusals. Strings, not an enum: a
// newer peer may send codes we do not know, and we pass them on as text.
namespace error_code {
inline constexpr std::string_view malformed = "malformed";
inline constexpr std::string_view too_large = "too_large";
inline constexpr std::string_view unsupported_type = "unsupported_type";
inline constexpr std::string_view unsupported_protocol = "unsupported_protocol";
inline constexpr std::string_view out_of_state = "out_of_state";
inline constexpr std::string_view unknown_job = "unknown_job";
inline constexpr std::string_view lease_expired = "lease_expired";
inline constexpr std::string_view renewal_refused = "renewal_refused";
inline constexpr std::string_view not_cancellable = "not_cancellable";
inline constexpr std::string_view internal = "internal";
}  // namespace error_code

namespace refusal {
inline constexpr std::string_view unknown_backend = "unknown_backend";
inline constexpr std::string_view invalid_job = "invalid_job";
inline constexpr std::string_view busy = "busy";
inline constexpr std::string_view draining = "draining";
inline constexpr std::string_view lease_expired = "lease_expired";
}  // namespace refusal

namespace bye_reason {
inline constexpr std::string_view shutdown = "shutdown";
inline constexpr std::string_view restart = "restart";
inline constexpr std::string_view maintenance = "maintenance";
inline constexpr std::string_view protocol_error = "protocol_error";
inline constexpr std::string_view unsupported_protocol = "unsupported_protocol";
inline constexpr std::string_view superseded = "superseded";
inline constexpr std::string_view deregistered = "deregistered";
}  // namespace bye_reason

enum class health : std::uint8_t { healthy, degraded, unhealthy, unknown };

const char* to_string(health h);
// Unknown text reads as health::unknown: a newer peer's states stay legible.
health health_from_string(std::string_view text);

// One configured backend as the connector reports it.
struct backend_info {
  std::string name;
  std::string type;  // "acmpca", "digicert", ...
  health state = health::unknown;
  std::string message;  // optional, one line, why it is not healthy

  bool operator==(const backend_info&) const = default;
};

// --- Session frames. Each carries its own per-direction sequence number.

struct hello_msg {  // connector -> SCM, first frame of a session
  static constexpr std::string_view type = "hello";
  std::uint64_t seq = 0;
  std::string connector_id;
  std::string version;                       // the connector's software version, e.g. "0.1.0"
  std::int64_t protocol = protocol_version;  // the highest version the connector speaks
  std::vector<backend_info> backends;
};

struct hello_ack_msg {  // SCM -> connector
  static constexpr std::string_view type = "hello_ack";
  std::uint64_t seq = 0;
  std::int64_t protocol = protocol_version;  // the version this session speaks
  std::int64_t server_time_ms = 0;           // SCM's clock, unix milliseconds
  std::int64_t heartbeat_interval_ms = 0;    // > 0
};

struct heartbeat_msg {  // either direction
  static constexpr std::string_view type = "heartbeat";
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;  // the sender's clock, unix milliseconds
  // Connector -> SCM only, and only when the inventory or a health changed.
  std::optional<std::vector<backend_info>> backends;
};

struct heartbeat_ack_msg {
  static constexpr std::string_view type = "heartbeat_ack";
  std::uint64_t seq = 0;
  std::uint64_t ack = 0;  // the seq of the heartbeat answered
  std::int64_t time_ms = 0;
};

struct job_msg {  // SCM -> connector
  static constexpr std::string_view type = "job";
  std::uint64_t seq = 0;
  std::string lease_id;
  std::int64_t lease_expires_at_ms = 0;  // SCM's clock
  ca::job job;                           // job.id is SCM's job id
};

struct job_ack_msg {  // connector -> SCM
  static constexpr std::string_view type = "job_ack";
  std::uint64_t seq = 0;
  std::string job_id;
  std::string lease_id;
  bool accepted = true;
  std::string reason;   // when refused: a refusal:: code
  std::string message;  // optional
};

struct result_msg {  // connector -> SCM; outcome is issued, failed or done
  static constexpr std::string_view type = "result";
  std::uint64_t seq = 0;
  std::string job_id;
  ca::outcome outcome;
};

struct result_ack_msg {  // SCM -> connector
  static constexpr std::string_view type = "result_ack";
  std::uint64_t seq = 0;
  std::string job_id;
};

struct pending_msg {  // connector -> SCM
  static constexpr std::string_view type = "pending";
  std::uint64_t seq = 0;
  std::string job_id;
  std::int64_t next_poll_at_ms = 0;  // the connector's clock
  std::string message;               // optional, e.g. "awaiting approval"
  // optional: why the CA holds it, one word (needs_approval, queued,
  // validation, processing, unknown); absent from older connectors
  std::string reason;
};

struct renew_identity_msg {  // connector -> SCM
  static constexpr std::string_view type = "renew_identity";
  std::uint64_t seq = 0;
  std::string csr_pem;
};

struct identity_msg {  // SCM -> connector
  static constexpr std::string_view type = "identity";
  std::uint64_t seq = 0;
  std::string certificate_pem;
  std::string chain_pem;  // optional
};

struct error_msg {  // either direction
  static constexpr std::string_view type = "error";
  std::uint64_t seq = 0;
  std::string code;  // an error_code:: value, or a newer peer's own
  std::string message;
  std::optional<std::uint64_t> ref_seq;  // the frame this is about
  std::string job_id;                    // optional
};

struct bye_msg {  // either direction: the sender sends no new work and closes soon
  static constexpr std::string_view type = "bye";
  std::uint64_t seq = 0;
  std::string reason;  // a bye_reason:: value
  std::string message;
  std::int64_t reconnect_after_ms = 0;  // SCM -> connector; 0: the connector's own back-off
};

// SCM -> connector: stop a job that is pending at its CA. Answered with the
// job's result (cancelled_outcome) or error not_cancellable / unknown_job
// (PROTOCOL.md, "cancel").
struct cancel_msg {
  static constexpr std::string_view type = "cancel";
  std::uint64_t seq = 0;
  std::string job_id;
  std::string reason;  // optional, one line
};

// The result of a job cancelled by SCM: failed, rejected, not retryable,
// message "cancelled by SCM: <reason>" ("cancelled by SCM" without one).
ca::outcome cancelled_outcome(std::string_view reason);

using message = std::variant<hello_msg, hello_ack_msg, heartbeat_msg, heartbeat_ack_msg, job_msg,
                             job_ack_msg, result_msg, result_ack_msg, pending_msg,
                             renew_identity_msg, identity_msg, error_msg, bye_msg, cancel_msg>;

std::string encode(const hello_msg& m);
std::string encode(const hello_ack_msg& m);
std::string encode(const heartbeat_msg& m);
std::string encode(const heartbeat_ack_msg& m);
std::string encode(const job_msg& m);
std::string encode(const job_ack_msg& m);
std::string encode(const result_msg& m);
std::string encode(const result_ack_msg& m);
std::string encode(const pending_msg& m);
std::string encode(const renew_identity_msg& m);
std::string encode(const identity_msg& m);
std::string encode(const error_msg& m);
std::string encode(const bye_msg& m);
std::string encode(const cancel_msg& m);
std::string encode(const message& m);

// One text frame to one message. Throws scm_protocol_error.
message decode(std::string_view frame);

// The "type" of any message, e.g. for traces.
std::string_view type_of(const message& m);
std::uint64_t seq_of(const message& m);

// --- Registration: HTTPS POST /api/connector/v1/register.

inline constexpr std::string_view registration_path = "/api/connector/v1/register";

struct registration_request {
  std::string token;  // the whole installation token text
  std::string csr_pem;
  std::string hostname;
  std::string os;          // e.g. "linux", "windows"
  std::string os_version;  // e.g. "Debian GNU/Linux 12 (bookworm)"
  std::string version;     // the connector's software version
};

struct registration_response {  // 200
  std::string connector_id;
  std::string certificate_pem;  // the connector's client certificate
  std::string chain_pem;        // optional intermediates
  std::string scm_ca_pem;       // the only trust anchor for the session
  std::string session_url;      // wss://...
  std::string group;            // optional: the pool the connector joined
};

namespace registration_code {
inline constexpr std::string_view token_unknown = "token_unknown";
inline constexpr std::string_view token_expired = "token_expired";
inline constexpr std::string_view token_used = "token_used";
inline constexpr std::string_view malformed_request = "malformed_request";
inline constexpr std::string_view csr_rejected = "csr_rejected";
inline constexpr std::string_view internal = "internal";
}  // namespace registration_code

struct registration_error {  // 4xx / 5xx
  std::string code;          // a registration_code:: value
  std::string message;
};

// The HTTP status SCM answers a registration_code with (500 for unknown codes).
int http_status_of(std::string_view registration_code);

std::string encode(const registration_request& r);
std::string encode(const registration_response& r);
std::string encode(const registration_error& e);
registration_request decode_registration_request(std::string_view body);
registration_response decode_registration_response(std::string_view body);
registration_error decode_registration_error(std::string_view body);

}  // namespace cbcs::protocol::scm
