#pragma once
// The session of a CA that takes orders and may hold them (DigiCert, Entrust,
// AD CS): one flow, each driver supplying its requests and the reading of
// their answers.
//
//   no resume token:  [prelude] -> search (an order tagged with the job id?) -> found: poll it
//                                                              -> none: place
//   resume token:     poll the order it names
//   placement in doubt: wait out its deadline, then search (below)
//   place / poll:     issued -> the certificate (collect() when the answer has none)
//                     pending -> order_pending(): a pending outcome, polled again
//                     failed  -> the failure
//
// Lookup before resubmit: a place whose answer was lost or retryable is never
// sent again blind; the search runs first, and only when it finds no order
// is a new one placed. The order id and its time go to the journal as the
// resume token the moment the CA names it.
//
// A placement in doubt (design.md §5). From the moment a placement may
// leave until the CA's answer names the order, the resume token is a
// placement_doubt (pending_order.hpp): "placing since T, attempt deadline D",
// D = T + the backend's attempt limit (connect + request timeout) +
// doubt_margin. The place() request is marked http_request::placement, and
// the backend actor sends it only once that token is durable in the journal
// (a commit with synchronous=FULL, shared with the other jobs' tokens of the
// same group commit). Then:
//
//   resumed with a placement in doubt (a crash, a restart, `cbcs jobs run`
//   again), or the placement's answer lost in this run:
//       pending ("placement in doubt") until D has passed, then the
//       prelude, the search, and a new placement only when it finds nothing;
//   a placement held back (rate limit, breaker) after such a doubt: when it
//       may go, the search runs again first if more than relookup_after
//       passed since the last one (a placement with no doubt behind it goes
//       as it is: re-searching every wait starved the placement, see the
//       storm test);
//   a search that finds more than one order with the job's tag: the first
//       (oldest) issued one is kept and the others are named in the issued
//       outcome's message, which the actor traces ("second_order") and the
//       operator log shows. Never kept silently.
//
// Cost: one more fsync'ed token per placement (grouped with the others of
// the same commit: one fsync per group, not per job), the placement's
// latency grows by that commit (milliseconds); a job resumed in doubt waits
// up to attempt limit + margin (about 42 s with the defaults, -requesttimeout
// shortens it) before its first request; the search reads every young order
// with the job's common name instead of stopping at the first match.
//
// What remains possible: a CA that creates an order after D (minutes after
// it answered, or after the connection dropped) is not seen by the search;
// the job places a second order, and the first is found by a later search
// for the same tag (reported as above) or stays at the CA.
//
// A CA with no search (AD CS over WSTEP: no request can be found by a tag)
// says so with lost_placement::ask_operator, and its session need not write
// search() and read_search(). Then:
//
//   no resume token:   place at once (a job with no token never placed:
//                      every placement is journaled in doubt before it leaves);
//   an order id known: poll it, as above (the id the CA handed out earlier
//                      is the only way back to a request it holds);
//   a placement in doubt, resumed or its answer lost: the job fails
//                      `internal`, not retryable, saying that an order may
//                      exist at the CA, since when, and where to look
//                      (where_to_look()); it is never placed a second time
//                      blindly. The operator looks there and runs the job
//                      again (a new placement) or collects the request.
//   an answer saying the placement failed (a fault, 5xx): placed again, as
//                      the CA said it made nothing.
//
// Cost of that choice: one job per lost answer needs a person instead of a
// second certificate at the CA (the house rule: never issued twice); with
// a search the connector resolves it alone, at the price of one search per
// doubt (a read at the CA) and the wait until D.

#include <optional>
#include <vector>

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
  std::string order_id;  // found: the one to keep (the first issued, else the oldest)
  // found: further orders with the job's tag (a second placement): reported
  // in the issued outcome, never used
  std::vector<std::string> others;
  http_request next;  // more: the next page
  outcome failure;    // failed
};

// The job's orders a search reads one by one (design.md §5), for the CAs
// whose search lists candidates to read (DigiCert, Entrust ECS): each is
// matched by the job's tag (match_lookup, order_lookup.hpp); the tag on
// another CSR stops the search, neither adopted nor placed again; at the end
// the first issued one is kept, else the oldest, and the others are
// reported (search_result::others), oldest first.
class tagged_orders {
 public:
  // `newest_first`: the order the search meets the candidates in.
  explicit tagged_orders(bool newest_first) : newest_first_(newest_first) {}

  // A candidate read: nullopt to read on, or the failed search. `where`
  // names it for that failure: "order 12 at CertCentral".
  std::optional<search_result> add(std::string_view tag_text, std::string_view csr_pem,
                                   const std::string& order_id, bool issued,
                                   std::string_view job_id, std::string_view job_csr_pem,
                                   std::string_view where);
  bool empty() const { return found_.empty(); }
  void clear() { found_.clear(); }
  // found, or none when no candidate was the job's.
  search_result result() const;

 private:
  bool newest_first_;
  std::vector<std::pair<std::string, bool>> found_;  // order id, issued
};

// Added to the attempt limit for a placement's deadline in doubt: the
// scheduling between the token's commit and the bytes leaving, and the CA's
// own bookkeeping after the request timed out on our side.
inline constexpr std::chrono::milliseconds doubt_margin{2'000};
// Without step_context::attempt_limit: the HTTP client's defaults (connect
// 10 s + request 30 s).
inline constexpr std::chrono::milliseconds default_attempt_limit{40'000};
// A placement held back after a doubt searches again when the last search
// is older than this.
inline constexpr std::chrono::milliseconds relookup_after{1'000};

// How a lost answer to a placement is resolved, as the CA allows.
enum class lost_placement : std::uint8_t {
  search,        // look for the job's tag, then place only when nothing is found
  ask_operator,  // the CA has no search: fail, naming where to look
};

class ordering_session : public http_session {
 public:
  std::string resume_token() const final;

 protected:
  ordering_session(const std::string& resume_token, pending_policy policy,
                   lost_placement lost = lost_placement::search);

  // A failure found without asking the CA (a bad job), or nullopt.
  virtual std::optional<outcome> check() { return std::nullopt; }
  // Steps before the search (DigiCert: the organization to check, the order
  // of the certificate being renewed): called with nullptr first and when
  // its last step must be taken again (no answer, a retry, a credential
  // awaited), then with each answer to its requests. A request, an
  // await_fetch or an outcome; nullopt once the search may begin.
  virtual std::optional<step> prelude(const http_response* answer) {
    (void)answer;
    return std::nullopt;
  }
  // The search for an order tagged with the job id, and its answers; never
  // called with lost_placement::ask_operator.
  virtual http_request search() { return {}; }
  virtual search_result read_search(const http_response& answer) {
    (void)answer;
    return {};
  }
  // A job that never placed (no resume token: every placement is journaled
  // in doubt before it leaves) searches first all the same when this is
  // true: cheap insurance for a CA whose search filters by the tag
  // (DigiCert: one page). A CA whose search reads every recent order (ECS
  // has no filter by tag: pages of 1,000 per job) says false and places at
  // once. Its cost: a job accepted by a connector older than the placement
  // token, placed there and resumed after an upgrade, is not looked up.
  virtual bool search_when_fresh() const { return true; }
  // lost_placement::ask_operator: where at the CA an operator finds the
  // requests it holds ("the CA's Pending Requests and Issued Certificates
  // (certsrv.msc)"), for the failure of a placement in doubt.
  virtual std::string where_to_look() const { return "the CA's list of requests"; }
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
  enum class phase : std::uint8_t { prelude, doubt, search, place, poll, collect };

  step begin() final;
  step on_answer(const http_response& answer) final;
  step again() final;
  // A request held back (rate limit, breaker, a placement's token commit)
  // never reached the CA: sent as it is; a placement dated anew, or after a
  // doubt preceded by a fresh search (see above).
  step resend() override;
  step on_order(const http_response& answer);
  step start_poll();
  step run_prelude(const http_response* answer);
  step start_search();
  step start_place();
  // Pending until the doubt's deadline, then the prelude and the search.
  step wait_out_doubt();
  outcome with_others(outcome issued) const;
  // A placement in doubt at a CA with no search.
  outcome lost_in_doubt() const;

  pending_policy policy_;
  lost_placement lost_;
  std::optional<order_token> order_;
  // A placement that may have left and whose answer is not known.
  std::optional<placement_doubt> doubt_;
  bool doubt_seen_ = false;  // this job had a placement in doubt (resumed or lost)
  bool fresh_ = false;       // no resume token at the start, nothing placed yet
  bool placement_answered_ = false;
  time_point searched_at_{};
  std::vector<std::string> others_;  // second orders found for the job's tag
  phase phase_ = phase::search;
  int pages_ = 0;
};

}  // namespace cbcs::protocol::ca
