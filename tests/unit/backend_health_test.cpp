#include <doctest/doctest.h>

#include "actors/backend_health.hpp"

using namespace cbcs;
using health = protocol::scm::health;

TEST_SUITE("backend_health") {
  TEST_CASE("a backend shows the worst of its workers, not the last to report") {
    actors::backend_health board;
    board.add("local", "local", health::healthy);
    board.add("aws", "acmpca", health::healthy);
    auto v0 = board.version();
    board.set("local", health::degraded, "breaker open", 1);
    board.set("local", health::healthy, "", 0);  // worker 0 is fine: still degraded
    auto s = board.snapshot();
    CHECK(s[0].state == health::degraded);
    CHECK(s[0].message == "breaker open");
    CHECK(s[1].state == health::healthy);
    CHECK(board.version() > v0);
    board.set("local", health::healthy, "", 1);
    CHECK(board.snapshot()[0].state == health::healthy);
    auto v1 = board.version();
    board.set("local", health::healthy, "", 1);  // no change: no new version
    CHECK(board.version() == v1);
    board.set("nope", health::degraded);  // unknown names are ignored
    CHECK(board.version() == v1);
  }

  TEST_CASE("given up is final; refused credentials are not") {
    actors::backend_health board;
    board.add("aws", "acmpca", health::healthy);
    board.set("aws", health::unhealthy, "the CA refuses the credentials: invalid key");
    board.set("aws", health::healthy, "", 0);
    CHECK(board.snapshot()[0].state == health::healthy);  // a job succeeded again
    board.give_up("aws", "gave up after 5 crashes");
    board.set("aws", health::healthy, "", 0);
    board.set("aws", health::degraded, "breaker open", 2);
    auto s = board.snapshot();
    CHECK(s[0].state == health::unhealthy);
    CHECK(s[0].message == "gave up after 5 crashes");
  }
}
