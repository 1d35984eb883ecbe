#include <doctest/doctest.h>

#include "actors/policy/call_limiter.hpp"
#include "protocol/ca/common/rate_limits.hpp"
#include "protocol/ca/registry.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_SUITE("rate_limits") {
  TEST_CASE("the text form: rates per second, sliding windows, off") {
    auto plain = ca::parse_rate_limits("issue=25,get=75,default=0.5");
    REQUIRE(plain);
    REQUIRE(plain->size() == 3);
    CHECK((*plain)[0] == ca::call_class_limit{"issue", {{25, seconds(1), false}}});
    CHECK((*plain)[2].call_class == "");
    CHECK((*plain)[2].windows[0].per_second() == doctest::Approx(0.5));

    auto windows = ca::parse_rate_limits("default=100/5s+1000/3m,issue=10/h");
    REQUIRE(windows);
    CHECK((*windows)[0].windows ==
          std::vector<ca::rate_window>{{100, seconds(5), true},
                                       {1000, std::chrono::minutes(3), true}});
    CHECK((*windows)[1].windows[0].window == std::chrono::hours(1));
    CHECK(ca::format_rate_limits(*windows) == "default=100/5s+1000/3m,issue=10/h");
    CHECK(ca::format_rate_limits(*plain) == "issue=25,get=75,default=0.5");
    // Three decimals at most: what is accepted reads back exactly (a fuzz find).
    auto small = ca::parse_rate_limits("t=.008");
    REQUIRE(small);
    CHECK(ca::format_rate_limits(*small) == "t=0.008");
    CHECK(ca::parse_rate_limits(ca::format_rate_limits(*small)) == small);

    auto off = ca::parse_rate_limits("off");
    REQUIRE(off);
    CHECK(off->empty());
    CHECK(ca::format_rate_limits(*off) == "off");
  }

  TEST_CASE("wrong limits are refused with a reason, never echoed") {
    for (std::string_view bad :
         {"", "issue", "=5", "issue=", "issue=0", "issue=-1", "issue=abc", "issue=1e3", "issue=5/",
          "issue=5/x", "issue=2.5/5s", "issue=5/0s", "issue=5/2d", "issue=5/5s+", "is sue=5",
          "issue=5,", "issue=5,issue=6", "issue=9999999"}) {
      std::string error;
      CHECK_MESSAGE(!ca::parse_rate_limits(bad, &error), bad);
      CHECK_FALSE(error.empty());
    }
    std::string error;
    ca::parse_rate_limits("issue=5,issue=6", &error);
    CHECK(error == "names the class issue twice");
  }

  TEST_CASE("every type's declared limits read back from their text form (help prints it)") {
    for (auto* type : ca::backend_types()) {
      auto text = ca::format_rate_limits(type->policy.limits);
      auto back = ca::parse_rate_limits(text);
      REQUIRE_MESSAGE(back, type->name << ": " << text);
      CHECK_MESSAGE(*back == type->policy.limits, type->name << ": " << text);
    }
    auto* digicert = ca::find_backend_type("digicert");
    REQUIRE(digicert);
    CHECK(ca::policy_summary(*digicert) == "-ratelimit default=100/5s+1000/3m -maxinflight 256");
  }
}

TEST_SUITE("call_limiter") {
  TEST_CASE("two sliding windows both hold: 100 per 5 s and 1,000 per 3 min") {
    auto t = actors::clock::now();
    actors::call_limiter limiter({{100, seconds(5), true}, {1000, std::chrono::minutes(3), true}},
                                 t);
    int sent = 0;
    // A call every 10 ms for 4 minutes: what goes out is counted per window.
    std::vector<actors::clock::time_point> times;
    for (int i = 0; i < 24'000; ++i) {
      auto now = t + milliseconds(10 * i);
      if (limiter.try_take(now)) {
        ++sent;
        times.push_back(now);
      }
    }
    // Never more than 100 in any 5 s nor 1,000 in any 3 min.
    for (std::size_t i = 0; i < times.size(); ++i) {
      auto in = [&](auto window) {
        std::size_t n = 0;
        for (std::size_t j = i; j < times.size() && times[j] < times[i] + window; ++j) ++n;
        return n;
      };
      REQUIRE(in(seconds(5)) <= 100);
      REQUIRE(in(std::chrono::minutes(3)) <= 1000);
    }
    // The 3-minute window bounds the first 3 minutes to 1,000, and lets
    // more go once the first of them has left it.
    CHECK(sent > 1000);
    CHECK(sent <= 2000);
  }

  TEST_CASE("a refused call takes nothing, and the wait is the longest window's") {
    auto t = actors::clock::now();
    actors::call_limiter limiter({{2, seconds(1), true}, {3, seconds(10), true}}, t);
    CHECK(limiter.try_take(t));
    CHECK(limiter.try_take(t));
    CHECK_FALSE(limiter.try_take(t));
    CHECK(limiter.wait_time(t) == seconds(1));
    CHECK(limiter.try_take(t + seconds(1)));
    // The 10 s window is full now.
    CHECK(limiter.wait_time(t + seconds(2)) == seconds(8));
    CHECK_FALSE(limiter.try_take(t + seconds(2)));
    CHECK(limiter.try_take(t + seconds(10)));
  }

  TEST_CASE("a rate is a token bucket; a 429 pauses every window") {
    auto t = actors::clock::now();
    actors::call_limiter limiter({{10, seconds(1), false}, {100, seconds(5), true}}, t);
    for (int i = 0; i < 10; ++i) CHECK(limiter.try_take(t));
    CHECK_FALSE(limiter.try_take(t));
    CHECK(limiter.try_take(t + milliseconds(100)));
    limiter.drain(t + milliseconds(100));
    // The bucket is empty and 5 % slower (9.5/s: 106 ms to a token); the
    // window waits one call's share (50 ms).
    CHECK(limiter.wait_time(t + milliseconds(100)) == milliseconds(106));
  }
}
