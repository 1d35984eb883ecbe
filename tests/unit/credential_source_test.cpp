// credential_use: the one copy of "get, await or fetch, sign; after a 401
// retire it and fetch once; redact", driven with a scripted source.

#include <doctest/doctest.h>

#include "protocol/ca/common/credential_source.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

namespace {

// Two requests per fetch (like the metadata service: a token, then the value).
class two_step_source final : public ca::credential_source<std::string> {
 public:
  int starts = 0;
  int agains = 0;
  std::string next_value = "value-1";

  std::string what() const override { return "the test value"; }
  ca::http_request start(time_point) override {
    ++starts;
    stage_ = 0;
    return {.method = "PUT", .url = "https://meta/token", .side_call = true};
  }
  ca::http_request again(time_point) override {
    ++agains;
    return {.method = stage_ == 0 ? "PUT" : "GET", .url = "https://meta/again"};
  }
  answer_step answer(const ca::http_response& r, time_point now) override {
    if (r.status == 503) return ca::outcome{.error = ca::error_class::unavailable,
                                            .retryable = true,
                                            .message = "busy, echoing " + next_value};
    if (r.status == 403)
      return ca::outcome::failed(ca::error_class::auth, "refused " + next_value);
    if (stage_++ == 0) return ca::http_request{.method = "GET", .url = "https://meta/value"};
    return ca::fetched<std::string>{next_value, {"secret-" + next_value}, now + 1h};
  }

 private:
  int stage_ = 0;
};

const auto t0 = sys::time_point(std::chrono::hours(24 * 20000));
ca::http_response answer(int status) { return {.status = status}; }

template <class T>
bool is(const ca::credential_use<std::string>::result& r) {
  auto* s = std::get_if<ca::step>(&r);
  return s && std::holds_alternative<T>(*s);
}

}  // namespace

TEST_SUITE("credential source") {
  TEST_CASE("one session fetches in two requests, the others await, then all use the value") {
    auto src = std::make_unique<two_step_source>();
    auto* source = src.get();
    ca::fetched_value<std::string> shared(std::move(src));
    ca::credential_use<std::string> a(shared), b(shared);
    CHECK(is<ca::http_request>(a.get(t0)));
    CHECK(a.fetching());
    auto waiting = b.get(t0);
    REQUIRE(is<ca::await_fetch>(waiting));
    CHECK(std::get<ca::await_fetch>(std::get<ca::step>(waiting)).what == "the test value");
    // a's first answer lost: the same fetch asks again, it does not start another.
    CHECK(is<ca::http_request>(a.get(t0)));
    CHECK(source->agains == 1);
    CHECK(is<ca::http_request>(a.on_answer(answer(200), t0)));
    auto got = a.on_answer(answer(200), t0);
    REQUIRE(std::holds_alternative<const std::string*>(got));
    CHECK(*std::get<const std::string*>(got) == "value-1");
    CHECK_FALSE(a.fetching());
    auto later = b.get(t0 + 1s);
    REQUIRE(std::holds_alternative<const std::string*>(later));
    CHECK(source->starts == 1);
  }

  TEST_CASE("a refused value is retired and fetched once more per session, never in a loop") {
    auto src = std::make_unique<two_step_source>();
    auto* source = src.get();
    ca::fetched_value<std::string> shared(std::move(src));
    ca::credential_use<std::string> a(shared);
    a.get(t0);
    a.on_answer(answer(200), t0);
    a.on_answer(answer(200), t0);
    REQUIRE(a.refused());
    CHECK(shared.cache().held() == nullptr);
    source->next_value = "value-2";
    CHECK(is<ca::http_request>(a.get(t0)));
    a.on_answer(answer(200), t0);
    auto got = a.on_answer(answer(200), t0);
    CHECK(*std::get<const std::string*>(got) == "value-2");
    CHECK_FALSE(a.refused());
    CHECK(shared.cache().held() != nullptr);
    // Both values' secrets stay out of messages.
    CHECK(a.redacted("saw secret-value-1 and secret-value-2") == "saw [redacted] and [redacted]");
  }

  TEST_CASE("a value another session replaced is not retired by a late refusal") {
    ca::fetched_value<std::string> shared(std::make_unique<two_step_source>());
    ca::credential_use<std::string> a(shared), b(shared);
    a.get(t0);
    a.on_answer(answer(200), t0);
    a.on_answer(answer(200), t0);
    b.get(t0);  // b uses value-1 too
    REQUIRE(a.refused());
    static_cast<two_step_source&>(shared.source()).next_value = "value-2";
    a.get(t0);
    a.on_answer(answer(200), t0);
    a.on_answer(answer(200), t0);
    CHECK(b.refused());  // b's value-1 is not the one held: value-2 stays
    REQUIRE(shared.cache().held());
    CHECK(*shared.cache().held() == "value-2");
  }

  TEST_CASE("busy while refreshing: the value held serves; refused: remembered for a while") {
    ca::fetched_value<std::string> shared(std::make_unique<two_step_source>(), {}, 60s);
    ca::credential_use<std::string> a(shared);
    a.get(t0);
    a.on_answer(answer(200), t0);
    a.on_answer(answer(200), t0);
    // Refresh due at 45 min: the service is busy, the held value goes on.
    auto at = t0 + 46min;
    ca::credential_use<std::string> b(shared);
    REQUIRE(is<ca::http_request>(b.get(at)));
    auto busy = b.on_answer(answer(503), at);
    REQUIRE(std::holds_alternative<const std::string*>(busy));
    // Gone and refused: the failure, redacted; the next session fails at once.
    shared.cache().retire();
    ca::credential_use<std::string> c(shared), d(shared), e(shared);
    c.get(at);
    auto refused = c.on_answer(answer(403), at);
    REQUIRE(is<ca::outcome>(refused));
    CHECK(std::get<ca::outcome>(std::get<ca::step>(refused)).message == "refused value-1");
    auto remembered = d.get(at + 30s);
    REQUIRE(is<ca::outcome>(remembered));
    CHECK(std::get<ca::outcome>(std::get<ca::step>(remembered)).error == ca::error_class::auth);
    CHECK(is<ca::http_request>(e.get(at + 61s)));
  }

  TEST_CASE("held_always: a refresh refused or unanswered keeps the value held while it is good") {
    ca::fetched_value<std::string> shared(std::make_unique<two_step_source>(), {}, 0s,
                                          ca::failed_refresh::held_always);
    ca::credential_use<std::string> a(shared);
    a.get(t0);
    a.on_answer(answer(200), t0);
    a.on_answer(answer(200), t0);
    auto at = t0 + 46min;  // refresh due
    ca::credential_use<std::string> b(shared), c(shared);
    REQUIRE(is<ca::http_request>(b.get(at)));
    auto refused = b.on_answer(answer(403), at);
    REQUIRE(std::holds_alternative<const std::string*>(refused));
    CHECK(*std::get<const std::string*>(refused) == "value-1");
    // A lost answer to the refresh: the held value too, not another request.
    auto later = at + 2min;  // the postponed refresh is due again
    REQUIRE(is<ca::http_request>(c.get(later)));
    auto lost = c.get(later);
    REQUIRE(std::holds_alternative<const std::string*>(lost));
    // Past its use: the failure itself.
    ca::credential_use<std::string> d(shared);
    auto end = t0 + 60min;
    REQUIRE(is<ca::http_request>(d.get(end)));
    CHECK(is<ca::outcome>(d.on_answer(answer(403), end)));
  }
}
