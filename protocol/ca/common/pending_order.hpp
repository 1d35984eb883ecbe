#pragma once
// Orders that wait at their CA (DigiCert approval, an Entrust queue, AD CS
// "taken under submission", domain validation), one state machine for every
// driver:
//
// - the job's resume token is an order_token: the CA's order or request id
//   and when it was placed, journaled as soon as the CA names it, so that a
//   restart polls the same order instead of placing another;
// - each poll that finds it still waiting is order_pending(): a pending
//   outcome with a reason word and the CA's hint (the backend actor adds
//   bounded jitter and back-off, and reports it to SCM as `pending`);
// - past the backend's maximum pending age (-maxpending, default 30 days)
//   it fails, saying so, and the order is left at the CA.
//
// Lookup before resubmit, for CAs without idempotency keys: see
// order_lookup.hpp.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

// Why a CA holds an order: the word SCM and the trace show.
enum class pending_reason : std::uint8_t {
  needs_approval,  // an approver must act (DigiCert requests, Entrust)
  queued,          // in the CA's queue (AD CS under submission)
  validation,      // organization or domain validation not complete
  processing,      // being issued
  unknown,         // a state the driver does not know: its word is in the message
};
const char* to_string(pending_reason r);

// The resume token of an ordering job: "order:<placed at, epoch seconds>:<id>".
struct order_token {
  std::string order_id;
  std::chrono::system_clock::time_point placed_at;
  bool operator==(const order_token&) const = default;
};
std::string encode(const order_token& token);
// nullopt for anything else (an older token form, an empty one).
std::optional<order_token> decode_order_token(std::string_view text);

// The resume token of a placement that may have left for a CA without
// idempotency keys and whose answer is not journaled yet ("in doubt"):
// "placing:<since, epoch ms>:<attempt deadline, epoch ms>". Journaled (and
// made durable) before the placement is sent; a job resumed from it looks
// for the order only once the deadline has passed (ordering_session.hpp).
struct placement_doubt {
  std::chrono::system_clock::time_point since;
  std::chrono::system_clock::time_point deadline;
  bool operator==(const placement_doubt&) const = default;
};
std::string encode(const placement_doubt& doubt);
std::optional<placement_doubt> decode_placement_doubt(std::string_view text);

// A backend's limits for waiting orders.
struct pending_policy {
  std::chrono::seconds max_age{std::chrono::hours(24 * 30)};
  // From the common option maxpending ("30d", "12h", "90m"); the default when
  // absent. The option is checked at backend add (check_duration).
  static pending_policy from(const driver_config& config);
};

// "30d" | "12h" | "90m" | "45s", 1 second to 10 years; nullopt otherwise.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// The outcome for an order found still waiting at `now`: pending (reason,
// message, the CA's hint for the next poll), or a final failure once the
// order is older than the policy allows, naming the order and its age.
outcome order_pending(const order_token& order, pending_reason reason, std::string message,
                      std::chrono::milliseconds poll_hint, const pending_policy& policy,
                      std::chrono::system_clock::time_point now);

}  // namespace cbcs::protocol::ca
