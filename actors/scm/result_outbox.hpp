#pragma once
// Store and forward of job results to SCM (PROTOCOL.md §6): every result
// waits here until SCM acknowledges it; at most a window of them is
// unacknowledged on the link at once; one sent and not acknowledged in time
// goes again; after a reconnect all go again, in the order they came. Plain
// and clock-free (the caller passes the time), so it is tested without a link.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::actors {

class result_outbox {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  // remembered_acks: how many acknowledged ids are kept (the oldest go
  // first), so memory stays flat however many jobs a long run sees.
  result_outbox(std::size_t window, std::chrono::milliseconds ack_timeout,
                std::size_t remembered_acks = 10'000)
      : window_(window), ack_timeout_(ack_timeout), remembered_acks_(remembered_acks) {}

  // A result to deliver. False (and nothing kept) when it is waiting already
  // or SCM acknowledged it lately.
  bool add(const std::string& job_id, protocol::ca::outcome outcome);

  // Waiting for SCM's acknowledgement (sent or not).
  const protocol::ca::outcome* find(const std::string& job_id) const;
  bool acknowledged_lately(const std::string& job_id) const;
  bool empty() const { return waiting_.empty(); }

  struct to_send {
    std::string job_id;
    const protocol::ca::outcome* outcome;
    bool again;  // sent before on this link
  };
  // What goes out now: the results not sent yet, while the window has room,
  // then (at most once a second) those whose acknowledgement is overdue;
  // each is marked sent at `now`.
  std::vector<to_send> take_due(time_point now);
  // The one result again at once (SCM leased its job again), marked sent.
  std::optional<to_send> take_again(const std::string& job_id, time_point now);

  // SCM acknowledged it: true when it was waiting here.
  bool acknowledge(const std::string& job_id, time_point now);

  // A new link: nothing is on it. Results added next (a rescan of the
  // journal, in its order) queue first; requeue() then queues the rest.
  void restart();
  void requeue();

  // Forgets the oldest acknowledged ids beyond keep_at_most.
  void forget_acknowledged(std::size_t keep_at_most);
  std::size_t remembered_acks() const { return acked_.size(); }

  // When take_due() next has an overdue result for the link; max() when none.
  time_point next_resend_at() const;

  std::size_t in_flight() const { return in_flight_; }
  std::size_t size() const { return waiting_.size(); }

 private:
  struct entry {
    protocol::ca::outcome outcome;
    bool sent = false;
    time_point sent_at{};
  };
  void mark_sent(entry& e, time_point now);

  std::size_t window_;
  std::chrono::milliseconds ack_timeout_;
  std::unordered_map<std::string, entry> waiting_;
  std::deque<std::string> unsent_;
  std::size_t in_flight_ = 0;
  time_point next_resend_at_ = time_point::max();
  time_point last_resend_check_{};
  // The latest acknowledged ids, oldest first, so that a duplicate result
  // is not sent again; the journal remembers them for longer.
  std::size_t remembered_acks_;
  std::unordered_set<std::string> acked_;
  std::deque<std::string> acked_order_;
};

}  // namespace cbcs::actors
