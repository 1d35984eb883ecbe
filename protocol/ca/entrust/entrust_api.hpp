#pragma once
// Entrust Certificate Services API v2, the wire: the requests the ECS
// sessions send and the reading of its answers. Pure functions, public for
// the tests and the fuzz target. Field names follow Entrust's OpenAPI
// models as Keyfactor's entrust-ecs-caplugin carries them (API/Certificate.cs,
// NewCertificateRequest.cs) and Entrust's ansible module ecs_certificate.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::entrust {

inline constexpr std::string_view ecs_base_url = "https://api.entrust.net/enterprise/v2";

// -endpoint as given (trailing '/' dropped), else Entrust's.
std::string base_url(std::string_view endpoint, std::string_view fallback);

// A request with Basic username:apikey (on every call: Keyfactor's
// ECSClient.Request sets it whatever the key's kind) and JSON.
http_request ecs_request(std::string method, std::string url, std::string_view username,
                         std::string_view api_key, std::string body = {});

// --- Errors: {"status": N, "errors": [{"code"?, "message"}]}.

struct api_error {
  std::string code;
  std::string message;  // one line
};
api_error parse_error(std::string_view body);

// The failed outcome of an error answer to `what` ("placing the order"):
// 401/403 name the user and the key masked, 429 and 5xx retry (Retry-After
// honoured), other 4xx are final; a message naming an unapproved client or
// domain is `rejected`. The error's status decides, never the body's words
// alone (Keyfactor took any body containing "errors" for an error).
outcome error_outcome(const http_response& answer, std::string_view what, std::string_view username,
                      std::string_view api_key, std::chrono::system_clock::time_point now);

// --- Statuses (ansible ecs_certificate's list): ACTIVE, APPROVED,
// DEACTIVATED, DECLINED, EXPIRED, NA, PENDING, PENDING_QUORUM, READY,
// REISSUED, REISSUING, RENEWED, RENEWING, REVOKED, SUSPENDED.
struct status_meaning {
  enum class kind : std::uint8_t { issued, pending, failed, superseded };
  kind what = kind::pending;
  pending_reason reason = pending_reason::unknown;
  std::string text;  // what the status means, for messages
};
status_meaning read_status(std::string_view status);

// --- Certificates: the answer to POST /certificates (201 or 202), to a
// renewal or reissue, and to GET /certificates/{trackingId}.
struct certificate_info {
  std::int64_t tracking_id = 0;  // 0: not ordered through the API
  std::string status;            // "" in a placement answer
  std::string serial_number;     // upper-case hex
  std::string end_entity_cert;
  std::vector<std::string> chain_certs;
  std::string csr;
  std::string tracking_info;    // tracking.trackingInfo
  std::string issue_date_time;  // RFC 3339, when issued
  std::string expires_after;
  std::string dn;
  std::string decline_reason;  // DECLINED: the approver's reason (declineReason)
};
// Throws std::runtime_error with a one-line reason when unreadable.
certificate_info parse_certificate(std::string_view body);

// GET /certificates?... : {summary{offset, limit, total}, certificates[]}.
struct certificate_list {
  std::vector<certificate_info> certificates;
  std::int64_t total = 0;
};
certificate_list parse_certificate_list(std::string_view body);

// --- Clients: GET /clients {clients[{clientId, clientName, verificationStatus}]}.
struct client_info {
  std::int64_t id = 0;
  std::string name;
  std::string verification_status;  // APPROVED, DECLINED, ...
};
std::vector<client_info> parse_clients(std::string_view body);

// The client to order for: `wanted` (0: the only APPROVED one). `error`
// says why none, naming the ids and states; `rejected` when it exists but is
// not approved.
struct client_choice {
  std::optional<client_info> chosen;
  std::string error;
  bool rejected = false;
};
client_choice choose_client(const std::vector<client_info>& clients, std::int64_t wanted);

// --- Domains: GET /clients/{id}/domains {summary{total}, domains[{domainName,
// verificationStatus, verificationMethod, ovEligible, ovExpiry, evEligible,
// evExpiry}]} [G apimodel.go GetDomainsResponse, Domain].
struct domain_info {
  std::string name;
  std::string verification_status;  // APPROVED, DECLINED, CANCELLED, INITIAL_VERIFICATION, ...
  // "Whether this domain can be used for OV (EV) certificates" [G Domain];
  // nullopt when the answer leaves it out.
  std::optional<bool> ov_eligible = {};
  std::optional<bool> ev_eligible = {};
  std::string verification_method = {};  // DNS, EMAIL, MANUAL, WEB_SERVER
  std::string ov_expiry = {};            // RFC 3339, as Entrust wrote it
  std::string ev_expiry = {};
};
struct domain_list {
  std::vector<domain_info> domains;
  std::int64_t total = 0;  // summary.total: more than listed when cut short
};
domain_list parse_domain_list(std::string_view body);
std::vector<domain_info> parse_domains(std::string_view body);

// EV certificate types order against a domain's EV eligibility.
bool is_ev_type(std::string_view cert_type);
// Whether an order may name the domain now: a verification in force
// (APPROVED, or RE_VERIFICATION / EXPIRING, for which Entrust's ecs_domain
// still reports days of eligibility left) and, when the answer says, eligible
// for the kind of certificate.
bool domain_orderable(const domain_info& d, bool ev);

// "" when every name is covered by an orderable domain (the name itself or a
// parent of it); else which name is not, and the state of its domain.
std::string domain_problem(const std::vector<domain_info>& domains,
                           const std::vector<std::string>& names, bool ev = false);

// --- Inventories: GET /inventories {inventories[{productType, remainingCount, ...}]}.
struct inventory_info {
  std::string product_type;
  std::int64_t total = 0, remaining = 0, used = 0;
};
std::vector<inventory_info> parse_inventories(std::string_view body);

// --- Requests.

struct order_request {
  std::string csr_pem;
  std::string cert_type;
  std::int64_t validity_seconds = 0;  // 0: certLifetime P1Y
  std::int64_t client_id = 0;
  std::vector<std::string> dns_names;
  std::string tracking_info;
  // tracking.requesterName/Email/Phone; left out when empty
  std::string requester_name;
  std::string requester_email;
  std::string requester_phone;
};
// POST /certificates. A validity becomes certExpiryDate as a date alone:
// Entrust moves a date with a time to US Eastern, which may give the day
// before (ca-apis.md §3).
std::string new_certificate_body(const order_request& r, std::chrono::system_clock::time_point now);
// POST /certificates/{id}/renewals and /reissues: the CSR (and for a
// renewal its lifetime; a reissue keeps the expiry, and lifetime fields are
// invalid there) and the tracking info.
std::string renewal_body(const order_request& r, bool reissue,
                         std::chrono::system_clock::time_point now);
// POST /certificates/{id}/revocations.
std::string revocation_body(std::string_view crl_reason, std::string_view comment);

// The day `now + validity` falls on, UTC: "2027-12-02".
std::string expiry_date(std::chrono::system_clock::time_point now, std::int64_t validity_seconds);

// A serial in any hex form -> Entrust's: upper-case hex without leading
// zeros (ca-apis.md §3). nullopt when it is not hex.
std::optional<std::string> entrust_serial(std::string_view serial_hex);

// True when an error message is Entrust's refusal to renew a certificate
// issued less than 30 days ago.
bool is_early_renewal_refusal(std::string_view message);

}  // namespace cbcs::protocol::ca::entrust
