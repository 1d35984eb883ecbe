// A backend's health as Event Log events: unhealthy when its state worsens,
// healthy again when it recovers, nothing for a message change alone.

#include <doctest/doctest.h>

#include "actors/health_events.hpp"

namespace actors = cbcs::actors;
using actors::event_id;
using cbcs::protocol::scm::backend_info;
using cbcs::protocol::scm::health;

TEST_SUITE("health_events") {
  TEST_CASE("transitions between snapshots") {
    std::vector<backend_info> healthy{{"aws", "acmpca", health::healthy, ""}};
    std::vector<backend_info> open{{"aws", "acmpca", health::degraded, "circuit breaker open"}};
    std::vector<backend_info> open_other{{"aws", "acmpca", health::degraded, "other words"}};
    std::vector<backend_info> given_up{{"aws", "acmpca", health::unhealthy, ""}};

    CHECK(actors::health_changes(healthy, healthy).empty());
    auto worse = actors::health_changes(healthy, open);
    REQUIRE(worse.size() == 1);
    CHECK(worse[0].id == event_id::backend_unhealthy);
    CHECK(actors::format_event(worse[0]) ==
          "backend aws (acmpca) is degraded: circuit breaker open");
    CHECK(actors::health_changes(open, open_other).empty());
    auto gone = actors::health_changes(open, given_up);
    REQUIRE(gone.size() == 1);
    CHECK(actors::format_event(gone[0]) == "backend aws (acmpca) is unhealthy: no reason given");
    auto back = actors::health_changes(open, healthy);
    REQUIRE(back.size() == 1);
    CHECK(actors::format_event(back[0]) == "backend aws (acmpca) is healthy again");
    // Not seen before: it was healthy.
    CHECK(actors::health_changes({}, healthy).empty());
    CHECK(actors::health_changes({}, open).size() == 1);
    CHECK(actors::health_changes(healthy, {{"aws", "acmpca", health::unknown, ""}}).empty());
  }

  TEST_CASE("the reporter tells what is unhealthy at start, then each change once") {
    auto board = std::make_shared<actors::backend_health>();
    board->add("local", "local", health::healthy);
    board->add("ad", "msca", health::unhealthy, "the msca driver is not built yet");
    std::vector<std::string> lines;
    {
      actors::health_event_reporter reporter(
          board, [&](const actors::event& e) { lines.push_back(actors::format_event(e)); });
      board->set("local", health::degraded, "circuit breaker open");
      board->set("local", health::degraded, "circuit breaker open", 1);  // another worker: same
      board->set("local", health::healthy);
      board->set("local", health::healthy, "", 1);
    }
    board->set("local", health::degraded, "after the reporter: not heard");
    CHECK(lines == std::vector<std::string>{
                       "backend ad (msca) is unhealthy: the msca driver is not built yet",
                       "backend local (local) is degraded: circuit breaker open",
                       "backend local (local) is healthy again"});
  }
}
