#pragma once
// The session of a CA that takes orders and may hold them (DigiCert, Entrust,
// AD CS): one flow, each driver supplying its requests and the reading of
// their answers.
//
//   no resume token:  [prelude] -> search (an order tagged with the job id?) -> found: poll it
//                                                              -> none: place
//   resume token:     poll the order it names
//   place / poll:     issued -> the certificate (collect() when the answer has none)
//                     pending -> order_pending(): a pending outcome, polled again
//                     failed  -> the failure
//
// Lookup before resubmit: a place whose answer was lost or retryable is never
// sent again blind; the search runs first, and only when it finds no order
// is a new one placed. The order id and its time go to the journal as the
// resume token the moment the CA names it.

#include <optional>

#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/pending_order.hpp"

namespace cbcs::protocol::ca {

// What a driver read from the answer to place() or poll().
struct order_state {
  enum class kind : std::uint8_t { issued, pending, failed };
  kind what = kind::failed;
  std::string order_id;  // when the answer names it
  // pending
  pending_reason reason = pending_reason::unknown;
  std::string message;
  std::chrono::milliseconds poll_hint{0};
  // issued (certificate_pem empty: collect() fetches it) or failed
  outcome result;
};

// What a driver read from an answer to its search.
struct search_result {
  enum class kind : std::uint8_t { found, none, more, failed };
  kind what = kind::none;
  std::string order_id;  // found
  http_request next;     // more: the next page
  outcome failure;       // failed
};

class ordering_session : public http_session {
 public:
  std::string resume_token() const final;

 protected:
  ordering_session(const std::string& resume_token, pending_policy policy);

  // A failure found without asking the CA (a bad job), or nullopt.
  virtual std::optional<outcome> check() { return std::nullopt; }
  // Steps before the search (DigiCert: the organization to check, the order
  // of the certificate being renewed): called with nullptr first and when
  // its last step must be taken again (no answer, a retry, a credential
  // awaited), then with each answer to its requests. A request, an
  // await_credential or an outcome; nullopt once the search may begin.
  virtual std::optional<step> prelude(const http_response* answer) {
    (void)answer;
    return std::nullopt;
  }
  // The search for an order tagged with the job id, and its answers.
  virtual http_request search() = 0;
  virtual search_result read_search(const http_response& answer) = 0;
  virtual http_request place() = 0;
  virtual http_request poll(const std::string& order_id) = 0;
  // Answers to place(), poll() and collect().
  virtual order_state read_order(const http_response& answer) = 0;
  // An issued order whose answer held no certificate: the request that
  // fetches it (its answer goes to read_order too).
  virtual std::optional<http_request> collect(const std::string& order_id) {
    (void)order_id;
    return std::nullopt;
  }

  const std::optional<order_token>& order() const { return order_; }

 private:
  enum class phase : std::uint8_t { prelude, search, place, poll, collect };

  step begin() final;
  step on_answer(const http_response& answer) final;
  step again() final;
  // A placement held back by a rate limit never reached the CA: sent as it is.
  step resend() override { return last_request(); }
  step on_order(const http_response& answer);
  step start_poll();
  step run_prelude(const http_response* answer);

  pending_policy policy_;
  std::optional<order_token> order_;
  phase phase_ = phase::search;
  int pages_ = 0;
};

}  // namespace cbcs::protocol::ca
