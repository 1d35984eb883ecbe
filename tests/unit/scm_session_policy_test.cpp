#include <doctest/doctest.h>

#include "actors/scm/session_policy.hpp"

using namespace cbcs::actors::scm_policy;
using namespace std::chrono_literals;

TEST_SUITE("scm_session_policy") {
  TEST_CASE("full-jitter back-off grows to the 60 s cap") {
    CHECK(backoff_delay(0, 0.0) == 0ms);
    CHECK(backoff_delay(0, 0.5) == 500ms);
    CHECK(backoff_delay(3, 0.5) == 4000ms);
    CHECK(backoff_delay(5, 0.999) < 32000ms);
    CHECK(backoff_delay(6, 1.0) == 60000ms);
    CHECK(backoff_delay(40, 1.0) == 60000ms);
    CHECK(backoff_delay(2, 7.0) == 4000ms);  // u out of range is clamped
  }

  TEST_CASE("bye's reconnect_after_ms plus up to 10 %") {
    CHECK(bye_delay(30000, 0.0) == 30000ms);
    CHECK(bye_delay(30000, 1.0) == 33000ms);
    CHECK(bye_delay(-5, 0.5) == 0ms);
  }

  TEST_CASE("heartbeat interval clamped to 100 ms ... 300 s") {
    CHECK(heartbeat_interval(20000) == 20000ms);
    CHECK(heartbeat_interval(1) == 100ms);
    CHECK(heartbeat_interval(0) == 100ms);
    CHECK(heartbeat_interval(10'000'000) == 300000ms);
  }

  TEST_CASE("renewal at two thirds of the life: day 20 of 30") {
    auto nb = std::chrono::system_clock::time_point(std::chrono::hours(24 * 1000));
    auto na = nb + std::chrono::hours(24 * 30);
    CHECK(renewal_time(nb, na) == nb + std::chrono::hours(24 * 20));
    CHECK(renewal_time(na, nb) == na);
  }

  TEST_CASE("more than 10 malformed frames within 60 s") {
    malformed_limit m;
    auto t = std::chrono::steady_clock::time_point(1000s);
    for (int i = 0; i < 10; ++i) CHECK_FALSE(m.record(t + i * 1s));
    CHECK(m.record(t + 11s));
    malformed_limit slow;
    for (int i = 0; i < 30; ++i) CHECK_FALSE(slow.record(t + i * 7s));
  }

  TEST_CASE("status record round trip; garbage is unreadable, not fatal") {
    status_record s{.state = "ready",
                    .connector_id = "c-1",
                    .session_url = "wss://scm/x",
                    .pid = 42,
                    .updated_at_ms = 1767225600123,
                    .since_ms = 1767225600000,
                    .last_heartbeat_ms = 1767225620000,
                    .connected_since_ms = 1767225600000,
                    .jobs_received = 200,
                    .results_sent = 201,
                    .results_acked = 200,
                    .message = "a \"quoted\" note",
                    .journal = "cannot commit since 2026-11-27T10:00:00Z: disk full"};
    auto back = decode_status(encode_status(s));
    REQUIRE(back);
    CHECK(back->state == "ready");
    CHECK(back->connector_id == "c-1");
    CHECK(back->pid == 42);
    CHECK(back->last_heartbeat_ms == 1767225620000);
    CHECK(back->results_sent == 201);
    CHECK(back->message == s.message);
    CHECK(back->journal == s.journal);
    // A status file from before the journal field reads as "fine".
    auto old = decode_status(R"({"state":"ready","pid":7})");
    REQUIRE(old);
    CHECK(old->journal.empty());
    CHECK_FALSE(decode_status("not json"));
    CHECK_FALSE(decode_status("{\"pid\": 1}"));
    CHECK(std::string(to_string(link_state::certificate_expired)) == "certificate_expired");
  }
}

TEST_SUITE("scm_session_policy") {
  TEST_CASE("link_status_line: what the service manager shows for each state") {
    using cbcs::actors::scm_policy::link_state;
    using cbcs::actors::scm_policy::link_status_line;
    std::int64_t at = 1'796'191'200'000;  // 2026-12-02 06:00:00 UTC
    CHECK(link_status_line(link_state::ready, at, "ignored") == "connected to SCM");
    CHECK(link_status_line(link_state::connecting, at, "") ==
          "connecting to SCM (offline since 2026-12-02 06:00:00 UTC)");
    CHECK(link_status_line(link_state::waiting, at, "connection refused") ==
          "offline since 2026-12-02 06:00:00 UTC: connection refused");
    CHECK(link_status_line(link_state::not_registered, at, "run cbcs register") ==
          "not registered: run cbcs register");
    CHECK(link_status_line(link_state::waiting, at, std::string(1000, 'x')).size() < 260);
  }
}
