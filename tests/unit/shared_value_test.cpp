// The shared value every driver with a fetched credential or account state uses.

#include <doctest/doctest.h>

#include "protocol/ca/common/shared_value.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

TEST_SUITE("shared value") {
  TEST_CASE("one fetch for all, refresh ahead of expiry, the held one while another fetches") {
    ca::shared_value<std::string> cache;
    auto t = sys::time_point(std::chrono::hours(24 * 20000));
    CHECK(cache.get(t) == nullptr);
    {
      ca::shared_value<std::string>::fetch_guard fetching(cache);
      CHECK(cache.fetching());
      cache.store("token-A", {"secret-AAAA"}, t + 1h, t);
    }
    CHECK_FALSE(cache.fetching());
    REQUIRE(cache.get(t));
    CHECK(*cache.get(t) == "token-A");
    // An hour's credential: fetched again 15 min before it expires.
    CHECK(cache.get(t + 44min));
    CHECK(cache.get(t + 45min) == nullptr);
    // While someone fetches, the others use the one held, until a minute before its end.
    ca::shared_value<std::string>::fetch_guard fetching(cache);
    CHECK(cache.get(t + 50min));
    CHECK(cache.get(t + 59min) == nullptr);
    CHECK_FALSE(cache.usable(t + 59min));
  }

  TEST_CASE("a failed refresh postpones it; short-lived ones half-way; refused ones retired") {
    ca::shared_value<std::string> cache;
    auto t = sys::time_point(std::chrono::hours(24 * 20000));
    cache.store("A", {"secret-AAAA"}, t + 1h, t);
    cache.postpone_refresh(t + 45min);
    CHECK(cache.get(t + 45min));
    CHECK(cache.get(t + 46min) == nullptr);
    cache.store("B", {"secret-BBBB"}, t + 10min, t);
    CHECK(cache.get(t + 4min));
    CHECK(cache.get(t + 5min) == nullptr);
    // Used until a minute before its end, at least three quarters of its life.
    CHECK(cache.usable(t + 8min));
    CHECK_FALSE(cache.usable(t + 9min));
    cache.retire();
    CHECK(cache.held() == nullptr);
    std::string m = "echo secret-AAAA secret-BBBB";
    cache.redact(m);
    CHECK(m == "echo [redacted] [redacted]");
  }
}
