#include "actors/health_events.hpp"

#include <algorithm>

namespace cbcs::actors {

using protocol::scm::health;

std::vector<event> health_changes(const std::vector<protocol::scm::backend_info>& before,
                                  const std::vector<protocol::scm::backend_info>& after) {
  std::vector<event> out;
  for (const auto& b : after) {
    auto was =
        std::find_if(before.begin(), before.end(), [&](const auto& p) { return p.name == b.name; });
    auto previous = was == before.end() ? health::healthy : was->state;
    if (b.state == previous || b.state == health::unknown) continue;
    if (b.state == health::healthy)
      out.push_back(make_event<event_id::backend_healthy>(b.name, b.type));
    else
      out.push_back(make_event<event_id::backend_unhealthy>(
          b.name, b.type, protocol::scm::to_string(b.state),
          b.message.empty() ? std::string("no reason given") : b.message));
  }
  return out;
}

health_event_reporter::health_event_reporter(std::shared_ptr<backend_health> board,
                                             event_reporter report)
    : board_(std::move(board)), report_(std::move(report)) {
  subscription_ = board_->subscribe([this] { check(); });
  check();
}

health_event_reporter::~health_event_reporter() { board_->unsubscribe(subscription_); }

void health_event_reporter::check() {
  // One writer at a time compares with what was reported last, so that two
  // threads' changes are each reported once, in order.
  std::lock_guard lock(mutex_);
  auto now = board_->snapshot();
  for (const auto& e : health_changes(last_, now)) report_(e);
  last_ = std::move(now);
}

}  // namespace cbcs::actors
