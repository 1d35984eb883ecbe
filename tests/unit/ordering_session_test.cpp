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
  toy_session(std::string job_id, const std::string& token, ca::pending_policy p = {},
              ca::lost_placement lost = ca::lost_placement::search)
      : ordering_session(token, p, lost), job_id_(std::move(job_id)) {}

 private:
  std::string where_to_look() const override { return "the toy CA's request list"; }
  ca::http_request search() override {
    return {.method = "GET", .url = "https://toy.test/orders?tag=" + job_id_};
  }
  ca::search_result read_search(const ca::http_response& r) override {
    if (r.status != 200)
      return {.what = ca::search_result::kind::failed,
              .failure = ca::outcome::failed(ca::error_class::unavailable, "x")};
    if (r.body.starts_with("found ")) {
      // "found A B C": keep A, the others are second orders
      ca::search_result found{.what = ca::search_result::kind::found};
      std::string rest = r.body.substr(6);
      for (auto at = rest.find(' '); at != std::string::npos; at = rest.find(' ')) {
        (found.order_id.empty() ? found.order_id : found.others.emplace_back()) =
            rest.substr(0, at);
        rest = rest.substr(at + 1);
      }
      (found.order_id.empty() ? found.order_id : found.others.emplace_back()) = rest;
      return found;
    }
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
    // A lost answer still looks first, once the placement's deadline passed.
    auto lost = s.next(nullptr, {os::t0});
    REQUIRE(std::holds_alternative<ca::outcome>(lost));
    CHECK(std::get<ca::outcome>(lost).what == ca::outcome::kind::pending);
    auto later = s.next(nullptr, {os::t0 + ca::default_attempt_limit + ca::doubt_margin});
    CHECK(std::get<ca::http_request>(later).url == "https://toy.test/orders?tag=job-9");
  }

  TEST_CASE("a placement is marked, and in doubt in the journal before it leaves") {
    os::toy_session s("job-10", "");
    s.next(nullptr, {os::t0});
    ca::http_response none{200, {}, "none"};
    auto place = s.next(&none, {.now = os::t0, .attempt_limit = 7s});
    REQUIRE(std::holds_alternative<ca::http_request>(place));
    CHECK(std::get<ca::http_request>(place).placement);
    // The token the actor makes durable before it sends the placement.
    auto doubt = ca::decode_placement_doubt(s.resume_token());
    REQUIRE(doubt);
    CHECK(doubt->since == os::t0);
    CHECK(doubt->deadline == os::t0 + 7s + ca::doubt_margin);
    CHECK(ca::encode(*doubt) == s.resume_token());
    // The answer names the order: the token is the order from then on.
    ca::http_response placed{200, {}, "Q1 approval"};
    s.next(&placed, {os::t0 + 1s});
    CHECK(s.resume_token() == ca::encode(ca::order_token{"Q1", os::t0 + 1s}));
    // Searches are not placements.
    os::toy_session t("job-11", "");
    CHECK_FALSE(std::get<ca::http_request>(t.next(nullptr, {os::t0})).placement);
  }

  TEST_CASE("resumed with a placement in doubt: no lookup before its deadline, then one, and "
            "the order found is adopted without a second placement") {
    auto deadline = os::t0 + 10s;
    os::toy_session s("job-12", ca::encode(ca::placement_doubt{os::t0 - 2s, deadline}));
    // Restarted at once: every step before the deadline waits, sending nothing.
    using tp = std::chrono::system_clock::time_point;
    for (tp at : {tp(os::t0), tp(os::t0 + 5s), tp(deadline - 1ms)}) {
      auto w = s.next(nullptr, {.now = at});
      REQUIRE(std::holds_alternative<ca::outcome>(w));
      auto& o = std::get<ca::outcome>(w);
      CHECK(o.what == ca::outcome::kind::pending);
      CHECK(o.poll_after == std::chrono::duration_cast<std::chrono::milliseconds>(deadline - at));
      CHECK(o.message.find("may still be being made at the CA") != std::string::npos);
      CHECK(s.resume_token() == ca::encode(ca::placement_doubt{os::t0 - 2s, deadline}));
    }
    // After it: the lookup, which finds the order; polled, never placed again.
    const test::exchange script[] = {
        os::get("https://toy.test/orders?tag=job-12", "found G7"),
        os::get("https://toy.test/orders/G7", "G7 issued"),
    };
    auto r = test::drive(s, script, {deadline});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.message.empty());
    for (const auto& q : r.sent) CHECK(q.method != "POST");
    CHECK(s.resume_token().find(":G7") != std::string::npos);

    // Nothing found after the deadline: one new placement.
    os::toy_session n("job-13", ca::encode(ca::placement_doubt{os::t0 - 2s, os::t0 + 10s}));
    const test::exchange none_script[] = {
        os::get("https://toy.test/orders?tag=job-13", "none"),
        os::post("H8 issued"),
    };
    auto q = test::drive(n, none_script, {os::t0});
    CHECK(q.outcome.what == ca::outcome::kind::issued);
    REQUIRE(q.interim.size() == 1);  // the wait for the deadline
    CHECK(q.interim[0].poll_after == 10s);
  }

  TEST_CASE("a placement's lost answer waits out its deadline before the lookup") {
    os::toy_session s("job-14", "");
    const test::exchange script[] = {
        os::get("https://toy.test/orders?tag=job-14", "none"),
        {.method = "POST", .url = "https://toy.test/orders", .no_answer = true},
        os::get("https://toy.test/orders?tag=job-14", "found K1"),
        os::get("https://toy.test/orders/K1", "K1 issued"),
    };
    auto r = test::drive(s, script, {.now = os::t0, .attempt_limit = 12s});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].what == ca::outcome::kind::pending);
    CHECK(r.interim[0].poll_after == 12s + ca::doubt_margin);
  }

  TEST_CASE("after a doubt, a placement held back by a rate limit looks up again first") {
    os::toy_session s("job-15", ca::encode(ca::placement_doubt{os::t0 - 60s, os::t0 - 10s}));
    auto search = s.next(nullptr, {os::t0});
    REQUIRE(std::get<ca::http_request>(search).method == "GET");
    ca::http_response none{200, {}, "none"};
    REQUIRE(std::get<ca::http_request>(s.next(&none, {os::t0})).method == "POST");
    // Held back briefly: goes as it is, dated anew.
    auto soon = s.next(nullptr, {.now = os::t0 + 500ms, .unsent = true});
    CHECK(std::get<ca::http_request>(soon).method == "POST");
    CHECK(ca::decode_placement_doubt(s.resume_token())->since == os::t0 + 500ms);
    // Held back longer: the lookup runs again before it.
    auto later = s.next(nullptr, {.now = os::t0 + 3s, .unsent = true});
    CHECK(std::get<ca::http_request>(later).url == "https://toy.test/orders?tag=job-15");
    ca::http_response found{200, {}, "found L2"};
    CHECK(std::get<ca::http_request>(s.next(&found, {os::t0 + 3s})).url ==
          "https://toy.test/orders/L2");
  }

  TEST_CASE("two orders with the job's tag: the first is kept, the second is reported") {
    os::toy_session s("job-16", ca::encode(ca::placement_doubt{os::t0 - 60s, os::t0 - 10s}));
    const test::exchange script[] = {
        os::get("https://toy.test/orders?tag=job-16", "found M1 M2"),
        os::get("https://toy.test/orders/M1", "M1 issued"),
    };
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.message.find("second order at the CA for this job's tag: M2") == 0);
    CHECK(r.outcome.message.find("keeps order M1") != std::string::npos);
  }

  TEST_CASE("placement doubt tokens read back; anything else is refused") {
    ca::placement_doubt d{os::t0 + 123ms, os::t0 + 42s};
    CHECK(ca::decode_placement_doubt(ca::encode(d)) == d);
    CHECK_FALSE(ca::decode_order_token(ca::encode(d)));
    for (auto bad : {"", "placing:", "placing:1", "placing:x:2", "placing:5:4", "placing:1:2:3",
                     "order:1:A"})
      CHECK_FALSE(ca::decode_placement_doubt(bad));
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

TEST_SUITE("ordering session") {
  TEST_CASE("a CA with no search: placed at once, and a lost answer asks the operator") {
    auto no_search = [](std::string id, std::string token = "") {
      return os::toy_session(std::move(id), token, {}, ca::lost_placement::ask_operator);
    };
    auto placed = [](const test::drive_result& r) {
      int n = 0;
      for (const auto& q : r.sent) n += q.method == "POST";
      return n;
    };
    auto s = no_search("job-20");
    const test::exchange script[] = {
        os::post("R5 queue"),
        os::get("https://toy.test/orders/R5", "R5 issued"),
    };
    auto r = test::drive(s, script, {os::t0});
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.sent.size() == 2);  // no search

    auto lost = no_search("job-21");
    const test::exchange lost_script[] = {
        {.method = "POST", .url = "https://toy.test/orders", .no_answer = true},
    };
    auto l = test::drive(lost, lost_script, {os::t0});
    CHECK(l.outcome.what == ca::outcome::kind::failed);
    CHECK(l.outcome.error == ca::error_class::internal);
    CHECK_FALSE(l.outcome.retryable);
    CHECK(l.outcome.backend_code == "placement_in_doubt");
    CHECK(l.outcome.message.find("the toy CA's request list") != std::string::npos);
    CHECK(placed(l) == 1);

    // Resumed in doubt (a crash after the placement left): fails at once.
    auto token = ca::encode(ca::placement_doubt{os::t0 - 5s, os::t0 + 40s});
    auto resumed = no_search("job-22", token);
    auto d = test::drive(resumed, std::span<const test::exchange>{}, {os::t0});
    CHECK(d.outcome.backend_code == "placement_in_doubt");
    CHECK(d.sent.empty());

    // The CA answered that it made nothing: placed again.
    auto busy = no_search("job-23");
    const test::exchange busy_script[] = {
        {.method = "POST", .url = "https://toy.test/orders", .answer = {503, {}, ""}},
        os::post("R7 issued"),
    };
    auto b = test::drive(busy, busy_script, {os::t0});
    CHECK(b.outcome.what == ca::outcome::kind::issued);
    CHECK(placed(b) == 2);

    // An order id it handed out earlier: polled.
    auto known = no_search("job-24", ca::encode(ca::order_token{"R9", os::t0 - 1h}));
    const test::exchange poll_script[] = {os::get("https://toy.test/orders/R9", "R9 issued")};
    CHECK(test::drive(known, poll_script, {os::t0}).outcome.what == ca::outcome::kind::issued);
  }
}
