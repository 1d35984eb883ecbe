#include <doctest/doctest.h>

#include "actors/policy/call_limiter.hpp"
#include "actors/policy/circuit_breaker.hpp"
#include "actors/policy/retry_policy.hpp"
#include "actors/policy/token_bucket.hpp"

using namespace cbcs::actors;
using std::chrono::milliseconds;

TEST_SUITE("retry_policy") {
  TEST_CASE("full-jitter back-off grows, is capped, and honours Retry-After") {
    retry_settings s{.base = milliseconds(100), .cap = milliseconds(1000), .max_attempts = 5};
    CHECK(backoff_delay(s, 1, milliseconds(0), 0.5) == milliseconds(50));
    CHECK(backoff_delay(s, 2, milliseconds(0), 0.5) == milliseconds(100));
    CHECK(backoff_delay(s, 3, milliseconds(0), 0.999) == milliseconds(399));
    CHECK(backoff_delay(s, 10, milliseconds(0), 0.999) == milliseconds(999));  // capped
    CHECK(backoff_delay(s, 40, milliseconds(0), 0.5) == milliseconds(500));    // no overflow
    CHECK(backoff_delay(s, 1, milliseconds(0), 0.0) == milliseconds(0));
    CHECK(backoff_delay(s, 1, milliseconds(7000), 0.5) == milliseconds(7000));  // Retry-After wins
  }

  TEST_CASE("attempt limit and deadline end the retries") {
    retry_settings s{.base = milliseconds(100), .cap = milliseconds(1000), .max_attempts = 3};
    clock::time_point now{};
    auto deadline = now + milliseconds(10'000);
    auto at = next_attempt_time(s, 1, milliseconds(0), now, deadline, 0.5);
    REQUIRE(at);
    CHECK(*at - now == milliseconds(50));
    CHECK_FALSE(next_attempt_time(s, 3, milliseconds(0), now, deadline, 0.5));
    CHECK_FALSE(next_attempt_time(s, 1, milliseconds(20'000), now, deadline, 0.5));
  }

  TEST_CASE("pending orders are polled less and less often, within bounds") {
    retry_settings s{.poll_min = milliseconds(1000), .poll_max = milliseconds(60'000)};
    auto first = poll_delay(s, 1, milliseconds(0), 0.5);
    CHECK(first == milliseconds(1000));
    CHECK(poll_delay(s, 3, milliseconds(0), 0.5) == milliseconds(2250));
    CHECK(poll_delay(s, 50, milliseconds(0), 0.5) == milliseconds(60'000));
    CHECK(poll_delay(s, 1, milliseconds(5000), 0.5) == milliseconds(5000));  // the CA's hint
    CHECK(poll_delay(s, 1, milliseconds(0), 0.0) == milliseconds(1000));     // floor after jitter
  }
}

TEST_SUITE("token_bucket") {
  TEST_CASE("a burst, then the rate") {
    clock::time_point t{};
    token_bucket b(2.0, 2.0, t);
    CHECK(b.try_take(t));
    CHECK(b.try_take(t));
    CHECK_FALSE(b.try_take(t));
    CHECK(b.wait_time(t) == milliseconds(500));
    t += milliseconds(250);
    CHECK_FALSE(b.try_take(t));
    CHECK(b.wait_time(t) == milliseconds(250));
    t += milliseconds(250);
    CHECK(b.try_take(t));
    t += milliseconds(10'000);
    CHECK(b.try_take(t));
    CHECK(b.try_take(t));
    CHECK_FALSE(b.try_take(t));  // never more than the burst
  }

  TEST_CASE("a 429 drains the bucket and slows it") {
    clock::time_point t{};
    token_bucket b(10.0, 10.0, t);
    b.drain(t);
    CHECK_FALSE(b.try_take(t));
    CHECK(b.wait_time(t) == milliseconds(106));  // 9.5 tokens a second
  }
}

TEST_SUITE("circuit_breaker") {
  TEST_CASE("opens after repeated failures, probes once, closes on success") {
    circuit_breaker b({.failure_threshold = 3,
                       .open_for = milliseconds(1000),
                       .max_open_for = milliseconds(3000)});
    clock::time_point t{};
    b.on_failure(t);
    b.on_failure(t);
    CHECK(b.allow(t));
    b.on_success();  // a success resets the count
    b.on_failure(t);
    b.on_failure(t);
    CHECK(b.current(t) == circuit_breaker::state::closed);
    b.on_failure(t);
    CHECK(b.current(t) == circuit_breaker::state::open);
    CHECK_FALSE(b.allow(t + milliseconds(999)));
    CHECK(b.allow(t + milliseconds(1000)));        // the probe
    CHECK_FALSE(b.allow(t + milliseconds(1001)));  // only one
    b.on_failure(t + milliseconds(1001));          // probe failed: open twice as long
    CHECK(b.current(t + milliseconds(2500)) == circuit_breaker::state::open);
    CHECK(b.allow(t + milliseconds(3001)));
    b.on_success();
    CHECK(b.current(t + milliseconds(3002)) == circuit_breaker::state::closed);
    CHECK(b.allow(t + milliseconds(3002)));
  }

  TEST_CASE("the open time is capped") {
    circuit_breaker b({.failure_threshold = 1,
                       .open_for = milliseconds(1000),
                       .max_open_for = milliseconds(1500)});
    clock::time_point t{};
    b.on_failure(t);
    for (int i = 0; i < 5; ++i) {
      t = b.reopens_at();
      REQUIRE(b.allow(t));
      b.on_failure(t);
    }
    CHECK(b.reopens_at() - t == milliseconds(1500));
  }
}

TEST_SUITE("call_limiter") {
  TEST_CASE("a 429's Retry-After holds every call of the class until it has passed") {
    clock::time_point t{};
    call_limiter limiter({cbcs::protocol::ca::rate_window{.requests = 7, .window = milliseconds(1000)}},
                         t);
    CHECK(limiter.try_take(t));
    limiter.drain(t, milliseconds(2000));
    CHECK(limiter.wait_time(t) == milliseconds(2000));
    CHECK_FALSE(limiter.try_take(t + milliseconds(1999)));
    CHECK(limiter.try_take(t + milliseconds(2000)));
  }

  TEST_CASE("a throttled half-open probe closes the breaker; 429s never open it") {
    circuit_breaker b({.failure_threshold = 1, .open_for = milliseconds(100)});
    clock::time_point t{};
    for (int i = 0; i < 10; ++i) b.on_throttled();
    CHECK(b.current(t) == circuit_breaker::state::closed);
    b.on_failure(t);
    REQUIRE(b.allow(t + milliseconds(100)));
    b.on_throttled();
    CHECK(b.current(t + milliseconds(101)) == circuit_breaker::state::closed);
  }
}

TEST_SUITE("token_bucket") {
  TEST_CASE("429s slow the rate down to half the quota; answers bring it back, never above") {
    clock::time_point t{};
    token_bucket b(10.0, 1.0, t);
    b.drain(t);
    CHECK(b.rate() == doctest::Approx(9.5));
    b.drain(t + std::chrono::milliseconds(500));  // the same burst: one signal
    CHECK(b.rate() == doctest::Approx(9.5));
    for (int i = 1; i <= 100; ++i) b.drain(t + std::chrono::seconds(i));
    CHECK(b.rate() == doctest::Approx(5.0));  // the floor
    for (int i = 0; i < 100 * 100; ++i) b.answered();
    CHECK(b.rate() > 5.0);
    for (int i = 0; i < 100 * 1000; ++i) b.answered();
    CHECK(b.rate() == doctest::Approx(10.0));  // the quota, not beyond
  }
}
