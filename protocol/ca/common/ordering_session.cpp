#include "protocol/ca/common/ordering_session.hpp"

namespace cbcs::protocol::ca {
namespace {

// A search that keeps paging is a CA (or a simulator) gone wrong.
constexpr int max_search_pages = 1000;

}  // namespace

ordering_session::ordering_session(const std::string& resume_token, pending_policy policy)
    : policy_(policy), order_(decode_order_token(resume_token)) {}

std::string ordering_session::resume_token() const { return order_ ? encode(*order_) : ""; }

step ordering_session::begin() {
  if (auto failure = check()) return *failure;
  if (order_) return start_poll();
  return run_prelude(nullptr);
}

step ordering_session::run_prelude(const http_response* answer) {
  if (auto s = prelude(answer)) {
    phase_ = phase::prelude;
    return *s;
  }
  phase_ = phase::search;
  return search();
}

step ordering_session::start_poll() {
  phase_ = phase::poll;
  return poll(order_->order_id);
}

step ordering_session::again() {
  switch (phase_) {
    case phase::place:
      // The order may exist although its answer never came: look first.
      phase_ = phase::search;
      pages_ = 0;
      return search();
    case phase::poll:
      return start_poll();
    case phase::prelude:
      return run_prelude(nullptr);
    case phase::search:
    case phase::collect:
      break;
  }
  return http_session::again();
}

step ordering_session::on_answer(const http_response& answer) {
  if (phase_ == phase::prelude) return run_prelude(&answer);
  if (phase_ != phase::search) return on_order(answer);
  auto found = read_search(answer);
  switch (found.what) {
    case search_result::kind::found:
      // Placed by an earlier run whose answer was lost: adopt it. When it was
      // placed is not known; its age counts from now.
      order_ = order_token{found.order_id, now()};
      return start_poll();
    case search_result::kind::none:
      phase_ = phase::place;
      return place();
    case search_result::kind::more:
      if (++pages_ >= max_search_pages)
        return outcome::failed(error_class::internal,
                               "the search for an earlier order keeps returning more pages");
      return found.next;
    case search_result::kind::failed:
      break;
  }
  return found.failure;
}

step ordering_session::on_order(const http_response& answer) {
  auto state = read_order(answer);
  if (!order_ && !state.order_id.empty()) order_ = order_token{state.order_id, now()};
  switch (state.what) {
    case order_state::kind::issued:
      if (!state.result.certificate_pem.empty()) return state.result;
      if (order_ && phase_ != phase::collect)
        if (auto fetch = collect(order_->order_id)) {
          phase_ = phase::collect;
          return *fetch;
        }
      return outcome::failed(error_class::internal,
                             "the CA says the order is issued but gave no certificate");
    case order_state::kind::pending:
      if (!order_)
        return outcome::failed(error_class::internal,
                               "the CA holds the order but named no order id to poll");
      phase_ = phase::poll;
      return order_pending(*order_, state.reason, std::move(state.message), state.poll_hint,
                           policy_, now());
    case order_state::kind::failed:
      break;
  }
  // A retryable failure of place() comes back through again(): search first.
  return state.result;
}

}  // namespace cbcs::protocol::ca
