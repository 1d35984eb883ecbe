#include "driver_harness.hpp"

#include <doctest/doctest.h>

namespace cbcs::test {
namespace {

namespace ca = protocol::ca;

std::string mismatch(const ca::http_request& r, const exchange& e, std::size_t index) {
  if (!e.method.empty() && r.method != e.method)
    return "exchange " + std::to_string(index) + ": method " + r.method + ", expected " + e.method;
  bool prefix = !e.url.empty() && e.url.back() == '*';
  auto want = prefix ? e.url.substr(0, e.url.size() - 1) : e.url;
  if (prefix ? !r.url.starts_with(want) : r.url != want)
    return "exchange " + std::to_string(index) + ": url " + r.url + ", expected " + e.url;
  for (const auto& part : e.body_has)
    if (r.body.find(part) == std::string::npos)
      return "exchange " + std::to_string(index) + ": body lacks " + part + " in " + r.body;
  ca::http_response view{0, r.headers, {}};
  for (const auto& [name, value] : e.headers) {
    auto got = view.header(name);
    if (got.empty() || (!value.empty() && got != value))
      return "exchange " + std::to_string(index) + ": header " + name + " is '" + got +
             "', expected '" + value + "'";
  }
  return {};
}

}  // namespace

drive_result drive(ca::job_session& session, std::span<const exchange> script, ca::step_context ctx,
                   int max_steps) {
  drive_result result;
  std::size_t next = 0;
  const ca::http_response* previous = nullptr;
  ca::http_response answer;
  for (int i = 0; i < max_steps; ++i) {
    auto step = session.next(previous, ctx);
    previous = nullptr;
    if (std::holds_alternative<ca::await_fetch>(step)) {
      ++result.awaits;
      continue;
    }
    if (auto* o = std::get_if<ca::outcome>(&step)) {
      bool open = o->what == ca::outcome::kind::pending ||
                  (o->what == ca::outcome::kind::failed && o->retryable);
      if (open) {
        result.interim.push_back(*o);
        // The actor waits as long as asked before it steps the job again.
        if (o->what == ca::outcome::kind::pending) ctx.now += o->poll_after;
        continue;
      }
      result.outcome = *o;
      CHECK_MESSAGE(next == script.size(), "the session finished with "
                                               << script.size() - next
                                               << " exchange(s) left; outcome: " << o->message);
      return result;
    }
    const auto& request = std::get<ca::http_request>(step);
    result.sent.push_back(request);
    if (next >= script.size()) {
      FAIL_CHECK("an unscripted request: " << request.method << " " << request.url);
      return result;
    }
    auto problem = mismatch(request, script[next], next);
    if (!problem.empty()) {
      FAIL_CHECK(problem);
      return result;
    }
    if (!script[next].no_answer) {
      answer = script[next].answer;
      previous = &answer;
    }
    ++next;
  }
  FAIL_CHECK("no final outcome after " << max_steps << " steps");
  return result;
}

}  // namespace cbcs::test
