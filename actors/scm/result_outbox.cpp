#include "actors/scm/result_outbox.hpp"

namespace cbcs::actors {

using namespace std::chrono_literals;

bool result_outbox::add(const std::string& job_id, protocol::ca::outcome outcome) {
  if (waiting_.count(job_id) || acked_.count(job_id)) return false;
  waiting_.emplace(job_id, entry{std::move(outcome)});
  unsent_.push_back(job_id);
  return true;
}

const protocol::ca::outcome* result_outbox::find(const std::string& job_id) const {
  auto it = waiting_.find(job_id);
  return it == waiting_.end() ? nullptr : &it->second.outcome;
}

bool result_outbox::acknowledged_lately(const std::string& job_id) const {
  return acked_.count(job_id) > 0;
}

void result_outbox::mark_sent(entry& e, time_point now) {
  if (!e.sent) ++in_flight_;
  e.sent = true;
  e.sent_at = now;
  next_resend_at_ = std::min(next_resend_at_, now + ack_timeout_);
}

std::vector<result_outbox::to_send> result_outbox::take_due(time_point now) {
  std::vector<to_send> out;
  // Overdue first (at most once a second): they are the oldest.
  if (now >= next_resend_at_ && now - last_resend_check_ >= 1s) {
    last_resend_check_ = now;
    next_resend_at_ = time_point::max();
    for (auto& [id, e] : waiting_) {
      if (!e.sent) continue;
      if (now - e.sent_at >= ack_timeout_) {
        out.push_back({id, &e.outcome, true});
        mark_sent(e, now);
      } else {
        next_resend_at_ = std::min(next_resend_at_, e.sent_at + ack_timeout_);
      }
    }
  }
  while (!unsent_.empty() && in_flight_ < window_) {
    auto it = waiting_.find(unsent_.front());
    unsent_.pop_front();
    if (it == waiting_.end() || it->second.sent) continue;
    out.push_back({it->first, &it->second.outcome, false});
    mark_sent(it->second, now);
  }
  return out;
}

std::optional<result_outbox::to_send> result_outbox::take_again(const std::string& job_id,
                                                                time_point now) {
  auto it = waiting_.find(job_id);
  if (it == waiting_.end()) return std::nullopt;
  bool again = it->second.sent;
  mark_sent(it->second, now);
  return to_send{it->first, &it->second.outcome, again};
}

bool result_outbox::acknowledge(const std::string& job_id, time_point) {
  if (acked_.insert(job_id).second) {
    acked_order_.push_back(job_id);
    forget_acknowledged(remembered_acks_);
  }
  auto it = waiting_.find(job_id);
  if (it == waiting_.end()) return false;
  if (it->second.sent && in_flight_ > 0) --in_flight_;
  waiting_.erase(it);
  return true;
}

void result_outbox::restart() {
  for (auto& [id, e] : waiting_) e.sent = false;
  in_flight_ = 0;
  next_resend_at_ = time_point::max();
  unsent_.clear();
}

void result_outbox::requeue() {
  std::unordered_set<std::string> queued(unsent_.begin(), unsent_.end());
  for (auto& [id, e] : waiting_)
    if (!e.sent && !queued.count(id)) unsent_.push_back(id);
}

void result_outbox::forget_acknowledged(std::size_t keep_at_most) {
  while (acked_order_.size() > keep_at_most) {
    acked_.erase(acked_order_.front());
    acked_order_.pop_front();
  }
}

result_outbox::time_point result_outbox::next_resend_at() const {
  if (next_resend_at_ == time_point::max()) return next_resend_at_;
  return std::max(next_resend_at_, last_resend_check_ + 1s);
}

}  // namespace cbcs::actors
