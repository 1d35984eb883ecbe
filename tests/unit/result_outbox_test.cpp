// Store and forward of results to SCM, without a link: the window, the
// resend of overdue ones, reconnects, duplicates.

#include <doctest/doctest.h>

#include "actors/scm/result_outbox.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> ids(const std::vector<actors::result_outbox::to_send>& sent) {
  std::vector<std::string> out;
  for (const auto& s : sent) out.push_back(s.job_id + (s.again ? "*" : ""));
  return out;
}

ca::outcome done() { return ca::outcome::done(); }

}  // namespace

TEST_SUITE("result outbox") {
  TEST_CASE("a window of unacknowledged results; an ack makes room; order kept") {
    actors::result_outbox box(2, 60s);
    auto t = std::chrono::steady_clock::now();
    for (auto id : {"a", "b", "c", "d"}) CHECK(box.add(id, done()));
    CHECK_FALSE(box.add("a", done()));  // waiting already
    CHECK(ids(box.take_due(t)) == std::vector<std::string>{"a", "b"});
    CHECK(box.take_due(t).empty());
    CHECK(box.in_flight() == 2);
    CHECK(box.acknowledge("a", t));
    CHECK(ids(box.take_due(t)) == std::vector<std::string>{"c"});
    CHECK_FALSE(box.add("a", done()));  // acknowledged lately: not again
    CHECK(box.acknowledged_lately("a"));
    CHECK_FALSE(box.acknowledge("zz", t));
    CHECK(box.size() == 3);
  }

  TEST_CASE("an acknowledgement overdue: the result goes again, not before its time") {
    actors::result_outbox box(10, 60s);
    auto t = std::chrono::steady_clock::now();
    box.add("a", done());
    box.take_due(t);
    CHECK(box.next_resend_at() == t + 60s);
    CHECK(box.take_due(t + 59s).empty());
    CHECK(ids(box.take_due(t + 60s)) == std::vector<std::string>{"a*"});
    CHECK(box.in_flight() == 1);
    CHECK(box.next_resend_at() == t + 120s);
    box.acknowledge("a", t + 61s);
    CHECK(box.empty());
    CHECK(box.next_resend_at() >= t + 120s);
  }

  TEST_CASE("a new link: everything unacknowledged goes again, journal order first") {
    actors::result_outbox box(10, 60s);
    auto t = std::chrono::steady_clock::now();
    box.add("old-1", done());
    box.add("old-2", done());
    box.take_due(t);
    box.restart();
    CHECK(box.in_flight() == 0);
    box.add("from-journal", done());
    box.requeue();
    CHECK(ids(box.take_due(t + 1s)).front() == "from-journal");
    CHECK(box.in_flight() == 3);
    // A job SCM leases again: its result at once, marked as sent again.
    auto again = box.take_again("old-1", t + 2s);
    REQUIRE(again);
    CHECK(again->again);
    CHECK_FALSE(box.take_again("unknown", t));
    box.forget_acknowledged(0);
    CHECK_FALSE(box.acknowledged_lately("anything"));
  }

  TEST_CASE("acknowledged ids are kept up to a bound, the oldest forgotten first") {
    actors::result_outbox box(8, 30s, 3);
    auto t = actors::result_outbox::time_point{};
    for (int i = 1; i <= 5; ++i) {
      auto id = "job-" + std::to_string(i);
      box.add(id, done());
      box.take_due(t);
      box.acknowledge(id, t);
    }
    CHECK(box.remembered_acks() == 3);
    CHECK_FALSE(box.acknowledged_lately("job-1"));
    CHECK_FALSE(box.acknowledged_lately("job-2"));
    CHECK(box.acknowledged_lately("job-3"));
    CHECK(box.acknowledged_lately("job-5"));
    // Acknowledged again (a duplicate ack): still one entry, the order kept.
    box.acknowledge("job-4", t);
    CHECK(box.remembered_acks() == 3);
    // A result for a forgotten id is taken again (the journal answers it);
    // one for a remembered id is dropped.
    CHECK(box.add("job-1", done()));
    CHECK_FALSE(box.add("job-5", done()));
  }
}
