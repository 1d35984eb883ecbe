// The ordering flow every order-taking CA shares (protocol/ca/common):
// lookup before resubmit, pending orders, their maximum age, resumption.

#include <doctest/doctest.h>

#include "driver_harness.hpp"
#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/job_codec.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace ordering_session_test {

// A CA of the simplest shape: GET /orders?tag=JOB -> "none" | "found ID";
// POST /orders -> "ID issued|approval|queue|weird"; GET /orders/ID -> the same.
class toy_session final : public ca::ordering_session {
 public:
  toy_session(std::string job_id, const std::string& token, ca::pending_policy p = {})
      : ordering_session(token, p), job_id_(std::move(job_id)) {}

 private:
  ca::http_request search() override {
    return {.method = "GET", .url = "https://toy.test/orders?tag=" + job_id_};
  }
  ca::search_result read_search(const ca::http_response& r) override {
    if (r.status != 200)
      return {.what = ca::search_result::kind::failed,
              .failure = ca::outcome::failed(ca::error_class::unavailable, "x")};
    if (r.body.starts_with("found "))
      return {.what = ca::search_result::kind::found, .order_id = r.body.substr(6)};
    return {.what = ca::search_result::kind::none};
  }
  ca::http_request place() override {
    return {.method = "POST", .url = "https://toy.test/orders", .body = "tag=" + job_id_};
  }
  ca::http_request poll(const std::string& id) override {
    return {.method = "GET", .url = "https://toy.test/orders/" + id};
  }
  ca::order_state read_order(const ca::http_response& r) override {
    if (r.status >= 500)
      return {.result = ca::outcome::failed(ca::error_class::unavailable, "busy")};
    auto space = r.body.find(' ');
    ca::order_state s{.order_id = r.body.substr(0, space)};
    auto state = r.body.substr(space + 1);
    if (state == "issued") {
      s.what = ca::order_state::kind::issued;
      s.result = ca::outcome::issued("CERT", "", "01");
    } else {
      s.what = ca::order_state::kind::pending;
      s.reason = state == "approval" ? ca::pending_reason::needs_approval
                 : state == "queue"  ? ca::pending_reason::queued
                                     : ca::pending_reason::unknown;
      s.message = "status " + state;
      s.poll_hint = 30s;
    }
    return s;
  }
  std::string job_id_;
};

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 9h;

test::exchange get(std::string url, std::string body, int status = 200) {
  return {.method = "GET", .url = std::move(url), .answer = {status, {}, std::move(body)}};
}
test::exchange post(std::string body) {
  return {.method = "POST", .url = "https://toy.test/orders", .answer = {200, {}, std::move(body)}};
}

}  // namespace ordering_session_test

namespace os = ordering_session_test;

TEST_SUITE("ordering session") {
  TEST_CASE("no earlier order: search, place, pending with a reason, poll, issued") {
    os::toy_session s("job-1", "");
    const test::exchange script[] = {
        os::get("https://toy.test/orders?tag=job-1", "none"),
        os::post("A7 approval"),
        os::get("https://toy.test/orders/A7", "A7 queue"),
        os::get("https://toy.test/orders/A7", "A7 issued"),
    };
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[0].pending_reason == "needs_approval");
    CHECK(r.interim[0].poll_after == 30s);
    CHECK(r.interim[1].pending_reason == "queued");
    // The order and its time are the resume token, journaled as the CA names it.
    CHECK(s.resume_token() == ca::encode(ca::order_token{"A7", os::t0}));
    // The reason word survives the journal.
    auto back = ca::outcome_from_json(ca::to_json(r.interim[0]));
    CHECK(back.pending_reason == "needs_approval");
  }

  TEST_CASE("a lost or failed answer to the order: search first, adopt what it finds, one order") {
    os::toy_session s("job-2", "");
    const test::exchange script[] = {
        os::get("https://toy.test/orders?tag=job-2", "none"),
        {.method = "POST", .url = "https://toy.test/orders", .no_answer = true},
        os::get("https://toy.test/orders?tag=job-2", "found B9"),
        os::get("https://toy.test/orders/B9", "B9 issued"),
    };
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    int placed = 0;
    for (const auto& q : r.sent) placed += q.method == "POST";
    CHECK(placed == 1);
    CHECK(s.resume_token().find(":B9") != std::string::npos);

    os::toy_session busy("job-3", "");
    const test::exchange busy_script[] = {
        os::get("https://toy.test/orders?tag=job-3", "none"),
        {.method = "POST", .url = "https://toy.test/orders", .answer = {503, {}, ""}},
        os::get("https://toy.test/orders?tag=job-3", "none"),
        os::post("C1 issued"),
    };
    auto b = test::drive(busy, busy_script, {os::t0});
    CHECK(b.outcome.what == ca::outcome::kind::issued);
    REQUIRE(b.interim.size() == 1);
    CHECK(b.interim[0].retryable);
  }

  TEST_CASE("a placement held back by a rate limit goes out as it is, without a search") {
    // Found by the DigiCert storm test: taken for a lost answer, each wait
    // for the limiter searched again, and the search used up the room the
    // placement waited for, round after round.
    os::toy_session s("job-9", "");
    auto search = s.next(nullptr, {os::t0});
    REQUIRE(std::holds_alternative<ca::http_request>(search));
    ca::http_response none{200, {}, "none"};
    auto place = s.next(&none, {os::t0});
    REQUIRE(std::get<ca::http_request>(place).method == "POST");
    for (int wait = 0; wait < 3; ++wait) {
      auto again = s.next(nullptr, {os::t0, true});
      REQUIRE(std::holds_alternative<ca::http_request>(again));
      CHECK(std::get<ca::http_request>(again).method == "POST");
    }
    // A lost answer still looks first.
    auto lost = s.next(nullptr, {os::t0});
    CHECK(std::get<ca::http_request>(lost).url == "https://toy.test/orders?tag=job-9");
  }

  TEST_CASE("a resumed job polls its order, never searches or places") {
    os::toy_session s("job-4", ca::encode(ca::order_token{"D4", os::t0 - 24h}));
    const test::exchange script[] = {os::get("https://toy.test/orders/D4", "D4 issued")};
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
  }

  TEST_CASE("past the maximum pending age the job fails and says so; unknown states are pending") {
    ca::pending_policy week{.max_age = std::chrono::hours(24 * 7)};
    os::toy_session s("job-5", ca::encode(ca::order_token{"E5", os::t0 - 24h * 8}), week);
    const test::exchange script[] = {os::get("https://toy.test/orders/E5", "E5 approval")};
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(r.outcome.message.find("order E5 is still pending at the CA (needs_approval") == 0);
    CHECK(r.outcome.message.find("after 8 days") != std::string::npos);
    CHECK(r.outcome.message.find("7 days (-maxpending)") != std::string::npos);

    os::toy_session odd("job-6", ca::encode(ca::order_token{"F6", os::t0}));
    const test::exchange odd_script[] = {
        os::get("https://toy.test/orders/F6", "F6 frobnicating"),
        os::get("https://toy.test/orders/F6", "F6 issued"),
    };
    auto o = test::drive(odd, odd_script, {os::t0});
    REQUIRE(o.interim.size() == 1);
    CHECK(o.interim[0].pending_reason == "unknown");
    CHECK(o.interim[0].message == "status frobnicating");
  }

  TEST_CASE("order tokens and durations read back; anything else is refused") {
    ca::order_token t{"ord:with:colons", os::t0};
    CHECK(ca::decode_order_token(ca::encode(t)) == t);
    for (std::string_view bad : {"", "order:", "order:12", "order::x", "order:-1:x", "order:1x:y",
                                 "arn:aws:acm-pca:...", "order:99999999999:x"})
      CHECK_MESSAGE(!ca::decode_order_token(bad), bad);
    CHECK(ca::parse_duration("30d") == std::chrono::hours(720));
    CHECK(ca::parse_duration("90m") == std::chrono::minutes(90));
    for (std::string_view bad : {"", "d", "0d", "-1d", "5", "5w", "99999999999d", "1.5h"})
      CHECK_MESSAGE(!ca::parse_duration(bad), bad);
    ca::driver_config c;
    c.settings["maxpending"] = "12h";
    CHECK(ca::pending_policy::from(c).max_age == std::chrono::hours(12));
    CHECK(ca::pending_policy::from({}).max_age == std::chrono::hours(720));
  }
}
