// The metrics for monitoring: the text format the textfile collectors read,
// the registry's figures, and the file written whole at start and stop.

#include <doctest/doctest.h>

#include <filesystem>

#include "actors/metrics/metrics_file.hpp"
#include "actors/metrics/registry.hpp"
#include "actors/metrics/text_format.hpp"
#include "config/atomic_file.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace m = actors::metrics;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

std::string text_of(const m::registry& r, std::chrono::system_clock::time_point now) {
  return m::to_text(r.snapshot(now));
}

}  // namespace

TEST_SUITE("metrics") {
  TEST_CASE("label values and help are escaped; an empty family is left out") {
    std::vector<m::family> fs{{"cbcs_things_total",
                               "Things, one \\ per\nline.",
                               m::kind::counter,
                               {{{{"backend", "a\"b\\c\nd"}, {"operation", "enroll"}}, 3.0}}},
                              {"cbcs_nothing", "Never set.", m::kind::gauge, {}},
                              {"cbcs_ratio", "A fraction.", m::kind::gauge, {{{}, 0.25}}}};
    auto text = m::to_text(fs);
    CHECK(text ==
          "# HELP cbcs_things_total Things, one \\\\ per\\nline.\n"
          "# TYPE cbcs_things_total counter\n"
          "cbcs_things_total{backend=\"a\\\"b\\\\c\\nd\",operation=\"enroll\"} 3\n"
          "# HELP cbcs_ratio A fraction.\n"
          "# TYPE cbcs_ratio gauge\n"
          "cbcs_ratio 0.25\n"
          "# EOF\n");
  }

  TEST_CASE("histogram buckets are cumulative, end in +Inf, and _count equals it") {
    m::histogram_value h{.bounds = {0.5, 1, 10}, .counts = {2, 0, 3, 1}, .sum = 21.5};
    auto text = m::to_text(
        {{"cbcs_wait_seconds", "Waits.", m::kind::histogram, {{{{"backend", "x"}}, h}}}});
    CHECK(text ==
          "# HELP cbcs_wait_seconds Waits.\n"
          "# TYPE cbcs_wait_seconds histogram\n"
          "cbcs_wait_seconds_bucket{backend=\"x\",le=\"0.5\"} 2\n"
          "cbcs_wait_seconds_bucket{backend=\"x\",le=\"1.0\"} 2\n"
          "cbcs_wait_seconds_bucket{backend=\"x\",le=\"10.0\"} 5\n"
          "cbcs_wait_seconds_bucket{backend=\"x\",le=\"+Inf\"} 6\n"
          "cbcs_wait_seconds_sum{backend=\"x\"} 21.5\n"
          "cbcs_wait_seconds_count{backend=\"x\"} 6\n"
          "# EOF\n");
  }

  TEST_CASE("a histogram puts a value on a bound into that bound's bucket") {
    static constexpr double bounds[] = {0.1, 1};
    m::histogram h(bounds);
    h.observe(100ms);
    h.observe(101ms);
    h.observe(5s);
    auto v = h.value();
    CHECK(v.counts == std::vector<std::uint64_t>{1, 1, 1});
    CHECK(v.sum == doctest::Approx(5.201));
  }

  TEST_CASE("the registry's figures: jobs by outcome, retries, breaker, pending, link") {
    m::registry r;
    auto local = r.backend("local");
    CHECK(r.backend("local") == local);
    local->job_finished(ca::operation::enroll, ca::outcome::issued("pem", "", "01"), 20ms);
    local->job_finished(ca::operation::enroll, ca::outcome::issued("pem", "", "02"), 30ms);
    local->job_finished(ca::operation::revoke, ca::outcome::failed(ca::error_class::rejected, "no"),
                        5ms);
    ca::outcome pending;
    pending.what = ca::outcome::kind::pending;
    local->job_finished(ca::operation::enroll, pending, 1s);  // not its end: not counted
    local->retry(ca::error_class::throttled);
    local->retry(ca::error_class::throttled);
    local->rate_limited(1500ms);
    local->breaker(0, true);
    local->breaker(1, true);
    local->breaker(0, true);  // no change: not another opening
    auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000));
    local->pending(3, 1'000'000 - 90);
    r.scm_connected();
    r.scm_connected();
    r.scm_link("ready", true);
    r.identity_expires(now + 24h);
    r.journal_commit(2ms);
    r.journal_commit_failed();
    auto text = text_of(r, now);
    CHECK(has_line(text,
                   "cbcs_jobs_total{backend=\"local\",operation=\"enroll\",outcome=\"issued\"} 2"));
    CHECK(has_line(text,
                   "cbcs_jobs_total{backend=\"local\",operation=\"revoke\",outcome=\"failed\","
                   "error=\"rejected\"} 1"));
    CHECK(text.find("outcome=\"pending\"") == std::string::npos);
    CHECK(has_line(text, "cbcs_job_duration_seconds_count{backend=\"local\"} 3"));
    CHECK(has_line(text, "cbcs_job_duration_seconds_bucket{backend=\"local\",le=\"0.025\"} 2"));
    CHECK(has_line(text, "cbcs_retries_total{backend=\"local\",reason=\"throttled\"} 2"));
    CHECK(has_line(text, "cbcs_ratelimit_waits_total{backend=\"local\"} 1"));
    CHECK(has_line(text, "cbcs_ratelimit_wait_seconds_total{backend=\"local\"} 1.5"));
    CHECK(has_line(text, "cbcs_breaker_open{backend=\"local\"} 1"));
    CHECK(has_line(text, "cbcs_breaker_opened_total{backend=\"local\"} 2"));
    CHECK(has_line(text, "cbcs_pending_orders{backend=\"local\"} 3"));
    CHECK(has_line(text, "cbcs_oldest_pending_age_seconds{backend=\"local\"} 90"));
    CHECK(has_line(text, "cbcs_journal_commit_seconds_count 1"));
    CHECK(has_line(text, "cbcs_journal_commit_failures_total 1"));
    CHECK(has_line(text, "cbcs_scm_link_up 1"));
    CHECK(has_line(text, "cbcs_scm_link_state{state=\"ready\"} 1"));
    CHECK(has_line(text, "cbcs_scm_reconnects_total 1"));
    CHECK(has_line(text, "cbcs_certificate_expiry_timestamp_seconds{kind=\"identity\"} 1086400"));
    CHECK(has_line(text, "cbcs_metrics_written_timestamp_seconds 1000000"));

    local->breaker(0, false);
    CHECK(has_line(text_of(r, now), "cbcs_breaker_open{backend=\"local\"} 1"));  // worker 1 still
    local->breaker(1, false);
    local->pending(0, 0);
    r.scm_link("waiting", false);
    local->certificate("agent", now + 48h);
    text = text_of(r, now);
    CHECK(has_line(text, "cbcs_breaker_open{backend=\"local\"} 0"));
    CHECK(has_line(text, "cbcs_oldest_pending_age_seconds{backend=\"local\"} 0"));
    CHECK(has_line(text, "cbcs_scm_link_up 0"));
    CHECK(has_line(text, "cbcs_scm_link_state{state=\"waiting\"} 1"));
    CHECK(has_line(text,
                   "cbcs_certificate_expiry_timestamp_seconds{kind=\"agent\",backend=\"local\"} "
                   "1172800"));
  }

  TEST_CASE("the file is written at once and at stop, whole") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "metrics.prom";
    auto r = std::make_shared<m::registry>();
    std::vector<std::string> logged;
    m::file_writer writer(r, {.file = file,
                              .interval = 1h,
                              .readable_by_all = true,
                              .log = [&](const std::string& l) { logged.push_back(l); }});
    auto first = config::read_file(file);
    CHECK(has_line(first, "cbcs_scm_link_up 0"));
    CHECK(first.ends_with("# EOF\n"));
#ifndef _WIN32
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
           std::filesystem::perms::group_read | std::filesystem::perms::others_read));
#endif
    r->scm_link("ready", true);
    writer.stop();
    CHECK(has_line(config::read_file(file), "cbcs_scm_link_up 1"));
    CHECK(logged.empty());
  }

  TEST_CASE("a file that cannot be written is said once, and again when it can") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "missing" / "metrics.prom";
    std::vector<std::string> logged;
    auto log = [&](const std::string& l) { logged.push_back(l); };
    {
      // Two writes fail (at once, at stop): one line.
      m::file_writer writer(std::make_shared<m::registry>(),
                            {.file = file, .interval = 1h, .log = log});
      writer.stop();
    }
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].find("metrics: cannot write") == 0);
    logged.clear();
    m::file_writer writer(std::make_shared<m::registry>(),
                          {.file = file, .interval = 1h, .log = log});
    std::filesystem::create_directory(file.parent_path());
    writer.stop();
    REQUIRE(logged.size() == 2);
    CHECK(logged[0].find("metrics: cannot write") == 0);
    CHECK(logged[1].find("metrics: writing") == 0);
    CHECK(has_line(config::read_file(file), "cbcs_scm_link_up 0"));
  }
}
