#pragma once
// The backend driver interface: a pure state machine per job. Given the job
// and the previous HTTP response, a driver returns the next HTTP request or
// the job's outcome. Drivers never see actors, sockets or clocks of their own:
// the backend actor owns I/O, time, retries and policy; a driver owns meaning.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cbcs::protocol::ca {

enum class operation : std::uint8_t { enroll, renew, revoke, inventory, test };

const char* to_string(operation op);
bool from_string(std::string_view text, operation& out);

// One request from SCM (or the CLI), as the driver sees it.
struct job {
  std::string id;  // SCM's job id: every idempotency key derives from it
  operation op = operation::enroll;
  std::string backend;
  std::string csr_pem;                // enroll, renew
  std::string cert_pem;               // renew: the certificate being renewed
  std::string serial_hex;             // revoke
  std::string reason;                 // revoke: RFC 5280 name, e.g. "keyCompromise"
  std::int64_t validity_seconds = 0;  // 0: the backend's default
  std::string profile;                // template / product / profile
  std::map<std::string, std::string, std::less<>> params;  // per-type extras (ca_arn, ...)
};

// The stable error vocabulary every backend maps its errors onto.
enum class error_class : std::uint8_t {
  network,          // could not reach the service (actor-level)
  tls,              // handshake or verification failed (actor-level)
  auth,             // credentials refused
  throttled,        // 429 / ThrottlingException: retry after a pause
  invalid_request,  // our request was wrong: never retried
  rejected,         // the CA said no (policy, denied): never retried
  unavailable,      // 5xx: retried
  internal,         // a bug or an answer we cannot read
  not_implemented,  // the backend type cannot do this operation
};

const char* to_string(error_class c);

// What a finished (or paused) job reports.
struct outcome {
  enum class kind : std::uint8_t { issued, pending, failed, done };
  kind what = kind::failed;
  // issued
  std::string certificate_pem;
  std::string chain_pem;
  std::string serial_hex;
  // pending: poll again after this long (the actor adds jitter and bounds it),
  // and why the CA holds it, one word (pending_order.hpp: needs_approval,
  // queued, validation, processing; "" when the driver cannot tell)
  std::chrono::milliseconds poll_after{0};
  std::string pending_reason;
  // failed
  error_class error = error_class::internal;
  bool retryable = false;
  std::chrono::milliseconds retry_after{0};  // from Retry-After, when the service said
  std::string backend_code;                  // the service's own code, e.g. "ThrottlingException"
  // One line, no secrets. On an issued outcome, something the operator must
  // hear although the job succeeded (a second order found at the CA for the
  // job's tag): the actor traces it and the operator log shows it.
  std::string message;
  // done (revoke, inventory, test): a JSON report for SCM and the CLI
  std::string report_json;

  static outcome issued(std::string cert, std::string chain, std::string serial);
  static outcome pending(std::chrono::milliseconds poll_after, std::string message = {});
  static outcome failed(error_class c, std::string message, std::string backend_code = {});
  static outcome done(std::string report_json = "{}");
};

struct http_header {
  std::string name;
  std::string value;
};

struct http_request {
  std::string method = "GET";
  std::string url;  // absolute: https://host[:port]/path?query
  std::vector<http_header> headers;
  std::string body;
  // Which rate-limit bucket this call draws from (e.g. "issue", "get"); "" = default.
  std::string rate_class;
  // Not a call to the CA (e.g. instance metadata for the keys): no rate
  // limit, no circuit breaker, and its answers say nothing of the CA's health.
  bool side_call = false;
  // A placement at a CA without idempotency keys (ordering_session.hpp): the
  // actor sends it only once the session's resume token of that moment (the
  // placement in doubt) is durable in the journal, and the transport never
  // sends it twice on its own (no retry on a fresh connection once written).
  bool placement = false;
};

struct http_response {
  int status = 0;
  std::vector<http_header> headers;
  std::string body;

  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

// What a driver sees of time: given by the actor, so tests can fix it.
struct step_context {
  std::chrono::system_clock::time_point now;
  // next(nullptr) because the last request never went out (a rate-limit or
  // circuit-breaker wait), not because its answer was lost: nothing reached
  // the CA, so the same request is due, not a lookup of what it may have done.
  bool unsent = false;
  // The longest one request may take before the transport gives up on its
  // answer (the backend's connect plus request timeout); 0: not known.
  std::chrono::milliseconds attempt_limit{0};
};

// The job waits for a value (a credential, an account's organization list)
// that another job of the same backend is fetching for all of them (single flight: 1,000 jobs that start together
// cause one fetch). The actor steps it again, next(nullptr), once a side call
// of the backend was answered or another job finished, and at the latest
// after a second; the session then signs with what was fetched, or fetches
// itself when nobody does any more. `what` names the value, for the trace.
struct await_fetch {
  std::string what;
};

using step = std::variant<http_request, outcome, await_fetch>;

// State of one job inside a driver. A driver's sessions may share state of
// the backend (a shared_value, see await_fetch): they all run on the
// backend's one actor, so never at once, unless runtime_policy::computes.
// `resume` is an opaque token the driver
// may set (e.g. a certificate ARN or an order id); the actor journals it so a
// restarted job continues instead of starting over.
class job_session {
 public:
  virtual ~job_session() = default;
  // First call: previous == nullptr. Then the response to the last request.
  virtual step next(const http_response* previous, const step_context& ctx) = 0;
  virtual std::string resume_token() const { return {}; }
};

// The value under `key` of a backend's settings or secrets or a job's
// params; "" when absent.
std::string setting(const std::map<std::string, std::string, std::less<>>& values,
                    std::string_view key);

// Settings and unsealed secrets of one configured backend.
struct driver_config {
  std::string name;
  std::map<std::string, std::string, std::less<>> settings;
  std::map<std::string, std::string, std::less<>> secrets;
  std::string data_dir;  // for backends that keep state of their own (local CA)
};

class driver {
 public:
  virtual ~driver() = default;
  // resume_token: what a previous run of the same job left (may be empty).
  virtual std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) = 0;
};

// Optional ability of a driver: cancels a job's order at the CA (SCM cancels a
// job pending there), where the CA allows it. The backend actor runs the
// session it returns in place of the job's; its outcome (done: cancelled at
// the CA; failed: refused or impossible) is told in the cancelled job's
// result, which fails either way.
class cancels_orders {
 public:
  virtual ~cancels_orders() = default;
  virtual std::unique_ptr<job_session> cancel(const job& j, const std::string& resume_token,
                                              const std::string& reason) = 0;
};

// Optional ability of a driver that is the CA itself (the local CA): it
// parses and checks every CSR itself (signing from the parsed request), so
// the actor does not parse it first; and it keeps records of its own (the
// ledger) by group commit: an outcome a session returned may not be durable
// yet, so the actor holds it until it has called make_durable(), once for all
// outcomes that arrived in between. make_durable() throws when the records
// could not be saved; the held outcomes then fail. Its actors block on the
// disk, so they get threads of their own.
class keeps_records {
 public:
  virtual ~keeps_records() = default;
  virtual void make_durable() = 0;
};

// Optional ability of a driver: a problem with the backend's settings that
// fails every job before any request (an authentication this build lacks, a
// sealed credential that cannot be read). The backend shows unhealthy with
// it from the start, not at its first job; "" when the settings are fine.
class checks_settings {
 public:
  virtual ~checks_settings() = default;
  virtual std::string settings_problem() const = 0;
};

// Optional ability of a driver whose settings decide which certificate the
// backend presents in TLS (AD CS: -cert with -auth certificate, its
// enrollment agent certificate with -auth agent, none otherwise), in place
// of runtime_policy::client_identity's options.
struct client_certificate_pair {
  std::string certificate_pem;  // the leaf first
  std::string key_pem;
};
class presents_client_certificate {
 public:
  virtual ~presents_client_certificate() = default;
  virtual std::optional<client_certificate_pair> client_certificate() const = 0;
};

// Optional ability of a driver whose backend authenticates to its service
// with Kerberos (AD CS's -auth kerberos): the transport adds `Authorization:
// Negotiate` (RFC 4559) to every request, for the service principal
// HTTP/<host of the request's URL>, from this principal's keys.
struct kerberos_identity {
  std::string principal;  // "name@REALM", or "name" (the keytab's realm)
  std::string keytab;     // the keytab file's bytes (sealed): never printed
};
class presents_kerberos_identity {
 public:
  virtual ~presents_kerberos_identity() = default;
  virtual std::optional<kerberos_identity> kerberos() const = 0;
};

using driver_factory = std::unique_ptr<driver> (*)(const driver_config& config);

}  // namespace cbcs::protocol::ca
