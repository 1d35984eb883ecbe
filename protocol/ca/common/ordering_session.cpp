#include "protocol/ca/common/ordering_session.hpp"

#include <fmt/format.h>

#include <utility>

#include "crypto/utc_time.hpp"
#include "protocol/ca/common/order_lookup.hpp"

namespace cbcs::protocol::ca {
namespace {

// A search that keeps paging is a CA (or a simulator) gone wrong.
constexpr int max_search_pages = 1000;

std::string utc(std::chrono::system_clock::time_point t) {
  return crypto::format_utc_time(std::chrono::floor<std::chrono::seconds>(t));
}

}  // namespace

ordering_session::ordering_session(const std::string& resume_token, pending_policy policy,
                                   lost_placement lost)
    : policy_(policy),
      lost_(lost),
      order_(decode_order_token(resume_token)),
      doubt_(order_ ? std::nullopt : decode_placement_doubt(resume_token)) {}

std::string ordering_session::resume_token() const {
  if (order_) return encode(*order_);
  if (doubt_) return encode(*doubt_);
  return "";
}

step ordering_session::begin() {
  if (auto failure = check()) return *failure;
  if (order_) return start_poll();
  if (doubt_) {
    doubt_seen_ = true;
    return wait_out_doubt();
  }
  fresh_ = true;
  return run_prelude(nullptr);
}

step ordering_session::wait_out_doubt() {
  if (lost_ == lost_placement::ask_operator) return lost_in_doubt();
  if (now() < doubt_->deadline) {
    phase_ = phase::doubt;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(doubt_->deadline - now());
    auto o = outcome::pending(
        std::max(left, std::chrono::milliseconds(1)),
        fmt::format("a placement sent at {} may still be being made at the CA; the job looks for "
                    "it after {}, before ordering again",
                    utc(doubt_->since), utc(doubt_->deadline)));
    o.pending_reason = to_string(pending_reason::processing);
    return o;
  }
  return run_prelude(nullptr);
}

step ordering_session::run_prelude(const http_response* answer) {
  if (auto s = prelude(answer)) {
    phase_ = phase::prelude;
    return *s;
  }
  if (std::exchange(fresh_, false) && !search_when_fresh()) return start_place();
  return start_search();
}

outcome ordering_session::lost_in_doubt() const {
  return outcome::failed(
      error_class::internal,
      fmt::format("the answer to the placement sent at {} was lost and this CA cannot be searched: "
                  "a request for this job may exist at the CA; look in {} before running the job "
                  "again (the connector does not place it a second time on its own)",
                  utc(doubt_->since), where_to_look()),
      "placement_in_doubt");
}

step ordering_session::start_search() {
  if (lost_ == lost_placement::ask_operator) return start_place();
  phase_ = phase::search;
  pages_ = 0;
  others_.clear();
  searched_at_ = now();
  return search();
}

step ordering_session::start_place() {
  phase_ = phase::place;
  placement_answered_ = false;
  auto limit =
      attempt_limit() > std::chrono::milliseconds(0) ? attempt_limit() : default_attempt_limit;
  // In doubt from now: journaled (durably, by the actor) before it leaves.
  doubt_ = placement_doubt{now(), now() + limit + doubt_margin};
  auto request = place();
  request.placement = true;
  return request;
}

step ordering_session::start_poll() {
  phase_ = phase::poll;
  return poll(order_->order_id);
}

step ordering_session::resend() {
  if (phase_ != phase::place) return last_request();
  // Held back (rate limit, breaker, its token's commit): nothing left. After
  // a doubt the CA may have made the earlier order since the last search.
  if (doubt_seen_ && now() - searched_at_ > relookup_after) return start_search();
  // Its deadline counts from when it leaves, which is now.
  return start_place();
}

step ordering_session::again() {
  switch (phase_) {
    case phase::place:
      // The order may exist although its answer never came: look first,
      // once the CA has surely finished with the request.
      if (!placement_answered_ && doubt_) {
        doubt_seen_ = true;
        return wait_out_doubt();
      }
      return start_search();
    case phase::doubt:
      return wait_out_doubt();
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
      doubt_.reset();
      others_ = std::move(found.others);
      return start_poll();
    case search_result::kind::none:
      return start_place();
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

outcome ordering_session::with_others(outcome issued) const {
  if (others_.empty() || !order_) return issued;
  std::string ids;
  for (const auto& id : others_) ids += (ids.empty() ? "" : ", ") + id;
  auto note = fmt::format(
      "second order at the CA for this job's tag: {} (not used; this job keeps order {}; "
      "cancel or revoke the other there)",
      ids, order_->order_id);
  issued.message = issued.message.empty() ? note : issued.message + "; " + note;
  return issued;
}

step ordering_session::on_order(const http_response& answer) {
  if (phase_ == phase::place) placement_answered_ = true;
  auto state = read_order(answer);
  if (!order_ && !state.order_id.empty()) {
    order_ = order_token{state.order_id, now()};
    doubt_.reset();
  }
  switch (state.what) {
    case order_state::kind::issued:
      if (!state.result.certificate_pem.empty()) return with_others(state.result);
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

std::optional<search_result> tagged_orders::add(std::string_view tag_text, std::string_view csr_pem,
                                                const std::string& order_id, bool issued,
                                                std::string_view job_id,
                                                std::string_view job_csr_pem,
                                                std::string_view where) {
  switch (match_lookup({tag_text, csr_pem}, job_id, job_csr_pem)) {
    case lookup_match::ours:
      // Every order with the job's tag is read: two of them mean a second
      // placement, which is reported, never kept silently.
      found_.emplace_back(order_id, issued);
      break;
    case lookup_match::conflict:
      return search_result{
          .what = search_result::kind::failed,
          .failure = outcome::failed(
              error_class::invalid_request,
              fmt::format("{} carries this job's tag ({}) but another CSR; it is not placed again",
                          where, job_tag(job_id)))};
    case lookup_match::not_ours:
      break;
  }
  return std::nullopt;
}

search_result tagged_orders::result() const {
  if (found_.empty()) return {};
  std::vector<std::size_t> by_age(found_.size());
  for (std::size_t i = 0; i < found_.size(); ++i)
    by_age[i] = newest_first_ ? found_.size() - 1 - i : i;
  auto keep = by_age.front();
  for (auto i : by_age)
    if (found_[i].second) {
      keep = i;
      break;
    }
  search_result out{.what = search_result::kind::found, .order_id = found_[keep].first};
  for (auto i : by_age)
    if (i != keep) out.others.push_back(found_[i].first);
  return out;
}

}  // namespace cbcs::protocol::ca
