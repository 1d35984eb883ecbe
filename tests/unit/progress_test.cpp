// What an interactive command says while it waits: each trace event of its
// job as a line for a person, in the order recorded, and nothing of other
// jobs; a proxy's lasting refusal is not retried.

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "actors/http/proxy_connect.hpp"
#include "actors/trace/tracer.hpp"
#include "cli/progress.hpp"

namespace {

using cbcs::actors::trace_event;
using cbcs::cli::describe_progress;

std::string said(const trace_event& e) { return describe_progress(e).value_or("<nothing>"); }

// What a progress_display wrote to its file.
std::string written(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  return out;
}

}  // namespace

TEST_SUITE("progress") {
  TEST_CASE("each step of a job reads as a sentence with its delay and reason") {
    CHECK(said({.event = "started", .backend = "dc", .detail = "enroll"}) ==
          "enroll started at backend dc");
    CHECK(said({.event = "http",
                .outcome = "POST",
                .attempt = 1,
                .detail = "https://ca.example/services/v2/order?x=1"}) ==
          "POST https://ca.example/services/v2/order");
    CHECK(said({.event = "http_done", .outcome = "201", .attempt = 1, .latency_us = 412'000}) ==
          "  HTTP 201 in 412 ms");
    CHECK(said({.event = "http_done",
                .outcome = "error",
                .attempt = 2,
                .latency_us = 10'000'000,
                .detail = "cannot connect to ca.example:443: refused"}) ==
          "  no answer in 10.0 s (attempt 2): cannot connect to ca.example:443: refused");
    CHECK(said({.event = "retry",
                .outcome = "throttled",
                .attempt = 1,
                .detail = "in 4200 ms: request limit reached"}) ==
          "throttled failure, retrying in 4.2 s: request limit reached");
    CHECK(said({.event = "pending",
                .outcome = "needs_approval",
                .attempt = 1,
                .detail = "poll in 60000 ms: order 2000005 waits for an approver"}) ==
          "pending at the CA (needs_approval): order 2000005 waits for an approver; asking again "
          "in 60.0 s");
    CHECK(said({.event = "pending", .outcome = "pending", .detail = "poll in 300000 ms"}) ==
          "pending at the CA (waiting); asking again in 5 min");
    CHECK(said({.event = "breaker", .outcome = "open", .detail = "wait 900 ms"}) ==
          "the backend kept failing (circuit breaker open): next try in 900 ms");
    CHECK(said({.event = "resumed"}).starts_with("resuming the job from the journal"));
    // Routing and journaling say nothing to a person; the result is the command's to print.
    CHECK(said({.event = "routed"}) == "<nothing>");
    CHECK(said({.event = "result", .outcome = "issued"}) == "<nothing>");
  }

  TEST_CASE("a display shows its own job's events in order, and a line of the command's own") {
    cbcs::actors::tracer trace({.enabled = false});  // observed even with no files
    std::FILE* out = std::tmpfile();
    REQUIRE(out);
    {
      cbcs::cli::progress_display shown(trace, {"job-1"}, cbcs::cli::progress_display::style::lines,
                                        out);
      trace.record({.event = "started", .job_id = "job-1", .backend = "dc", .detail = "revoke"});
      trace.record({.event = "http", .job_id = "job-2", .outcome = "GET", .detail = "https://x/"});
      trace.record({.event = "http",
                    .job_id = "job-1",
                    .outcome = "PUT",
                    .attempt = 1,
                    .detail = "https://ca.example/revoke"});
      CHECK(shown.request_out());
      trace.record({.event = "http_done", .job_id = "job-1", .outcome = "204", .attempt = 1});
      CHECK_FALSE(shown.request_out());
      trace.record({.event = "pending",
                    .job_id = "job-1",
                    .outcome = "needs_approval",
                    .detail = "poll in 2000 ms: request 7 waits"});
      trace.record({.event = "pending",
                    .job_id = "job-1",
                    .outcome = "needs_approval",
                    .detail = "poll in 4000 ms: request 7 waits"});
      shown.say("finishing the request already sent to the CA");
    }
    trace.record({.event = "retry", .job_id = "job-1", .outcome = "network", .detail = "in 5 ms"});
    CHECK(written(out) ==
          "revoke started at backend dc\n"
          "PUT https://ca.example/revoke\n"
          "  HTTP 204\n"
          "pending at the CA (needs_approval): request 7 waits; asking again in 2.0 s\n"
          "still pending (needs_approval); asking again in 4.0 s\n"
          "finishing the request already sent to the CA\n");
    std::fclose(out);
  }

  TEST_CASE("quiet: nothing shown, requests still followed") {
    cbcs::actors::tracer trace({.enabled = false});
    std::FILE* out = std::tmpfile();
    REQUIRE(out);
    {
      cbcs::cli::progress_display shown(trace, {"j"}, cbcs::cli::progress_display::style::quiet,
                                        out);
      trace.record({.event = "http", .job_id = "j", .outcome = "POST", .detail = "https://x/"});
      CHECK(shown.request_out());
    }
    CHECK(written(out).empty());
    std::fclose(out);
  }

  TEST_CASE("a proxy's refusal that asking again cannot change is told from one that may pass") {
    using cbcs::actors::classify_connect_reply;
    using cbcs::actors::connect_verdict;
    CHECK(classify_connect_reply(200) == connect_verdict::open);
    CHECK(classify_connect_reply(407) == connect_verdict::auth_failed);
    CHECK(classify_connect_reply(403) == connect_verdict::refused_for_good);
    CHECK(classify_connect_reply(400) == connect_verdict::refused_for_good);
    CHECK(classify_connect_reply(501) == connect_verdict::refused_for_good);
    CHECK(classify_connect_reply(502) == connect_verdict::refused);
    CHECK(classify_connect_reply(503) == connect_verdict::refused);
    CHECK(classify_connect_reply(429) == connect_verdict::refused);
  }
}
