#pragma once
// CertCentral Services API v2, the wire: base URLs, the requests the
// sessions send, and the reading of its answers. Pure functions, public for
// the tests and the fuzz target; the sessions (order_session.hpp, ...) put
// them in order.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::digicert {

inline constexpr std::string_view us_base_url = "https://www.digicert.com/services/v2";
inline constexpr std::string_view eu_base_url = "https://certcentral.digicert.eu/services/v2";

// -endpoint (a base URL, "/services/v2" added when it has no path), else the
// region's: "us" (default) or "eu".
std::string base_url(std::string_view endpoint, std::string_view region);

// A request with the key header and JSON content type.
http_request api_request(std::string method, std::string url, std::string_view api_key,
                         std::string body = {});

// --- Errors: {"errors":[{"code","message"}]} (an object at times).

struct api_error {
  std::string code;     // an identifier ([A-Za-z0-9_.-], at most 64) or ""
  std::string message;  // one line, at most 256 bytes
};
api_error parse_error(std::string_view body);

// The failed outcome of an error answer to `what` ("placing the order"):
// 401/403 name the key masked, 429 and 5xx are retryable (Retry-After
// honoured), the others are final; DigiCert's code and message are kept.
outcome error_outcome(const http_response& answer, std::string_view what, std::string_view api_key,
                      std::chrono::system_clock::time_point now);

// --- Organizations: GET /organization.

struct validation {
  std::string type;    // "ov", "ev", ...
  std::string status;  // "validated", "pending", "expired", ...
  std::string validated_until;
};
struct organization {
  std::int64_t id = 0;
  std::string name;
  std::string status;  // "active", "inactive"
  bool active = false;
  std::vector<validation> validations;
};
// Throws std::runtime_error with a one-line reason when the answer cannot be read.
std::vector<organization> parse_organizations(std::string_view body);

// The validation a product needs: "ev" for EV products, "" for private
// ones (no public validation), else "ov".
std::string required_validation(std::string_view product);

// "" when the organization can order `product`, else why not (which
// validation is missing or in what state, or that it is inactive).
std::string organization_problem(const organization& org, std::string_view product);

// The organization to order with: `wanted` (0: the only active, validated
// one). `error` says why there is none, listing ids and names.
struct organization_choice {
  std::optional<organization> chosen;
  std::string error;
  bool rejected = false;  // it exists but may not order (not validated, inactive)
};
organization_choice choose_organization(const std::vector<organization>& orgs, std::int64_t wanted,
                                        std::string_view product);

// --- Orders.

// A DigiCert status word read as an order state. issued; pending with a
// reason (needs_approval, validation, processing; unknown keeps the word);
// failed (rejected, denied, canceled, revoked, expired).
struct status_meaning {
  enum class kind : std::uint8_t { issued, pending, failed };
  kind what = kind::pending;
  pending_reason reason = pending_reason::unknown;
  std::string text;  // for messages: what the status means
};
status_meaning read_status(std::string_view status);

struct request_ref {
  std::string id;
  std::string status;
};
struct certificate_pem {
  std::string subject_common_name;
  std::string pem;
};
// An order answer: to POST /order/certificate/{product} (201), to a reissue,
// or GET /order/certificate/{id}.
struct order_info {
  std::string id;
  std::string status;  // "" in a placement answer
  std::string certificate_id;
  std::string serial_number;
  std::string certificate_status;  // certificate.status, when the answer has it
  std::string csr;                 // the certificate's CSR, when the answer has it
  std::string comments;            // when the answer has them
  std::string date_created;
  std::string organization_id;
  std::vector<request_ref> requests;
  std::vector<certificate_pem> chain;  // certificate_chain, when issued at once
  std::string reason;                  // a rejection's or cancellation's note, when given
};
// Throws std::runtime_error with a one-line reason when unreadable.
order_info parse_order(std::string_view body);

// GET /order/certificate?filters... answer: the orders and whether more pages follow.
struct order_list {
  std::vector<order_info> orders;
  std::int64_t total = 0;
  std::int64_t offset = 0;
  std::int64_t limit = 0;
};
order_list parse_order_list(std::string_view body);

// A serial in any common hex form -> DigiCert's: upper-case hex without
// separators or leading zero bytes. nullopt when it is not hex.
std::optional<std::string> digicert_serial(std::string_view serial_hex);

// --- A request (approval, revocation): GET /request/{id}.
struct request_info {
  std::string id;
  std::string status;  // "pending", "approved", "rejected", ...
  std::string processor_comment;
};
request_info parse_request(std::string_view body);

// --- The key's user: GET /user/me.
struct user_info {
  std::string username;
  std::vector<std::string> roles;  // access_roles[].name
};
user_info parse_user(std::string_view body);

// The permissions the seed requires of the key, and which the user's
// roles grant (CertCentral's documented role table).
inline constexpr std::string_view required_permissions[] = {"view_organizations",
                                                            "manage_orders",
                                                            "place_orders",
                                                            "view_orders",
                                                            "manage_requests",
                                                            "review_requests",
                                                            "create_longer_validity_order"};
bool role_grants(std::string_view role, std::string_view permission);

}  // namespace cbcs::protocol::ca::digicert
