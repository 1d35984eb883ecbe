// The service's trace and the CLI commands' are rotated apart, and no
// rotation removes a file that a live tracer writes (seen: a few CLI commands
// deleted the file the service was writing; `trace show -job` found nothing).

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "actors/trace/tracer.hpp"
#include "test_pki.hpp"

namespace {

using cbcs::actors::trace_event;
using cbcs::actors::tracer;
using cbcs::actors::tracer_settings;

std::string read_all(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& f : tracer::files(dir)) {
    std::ifstream in(f);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

}  // namespace

TEST_SUITE("tracer") {
  TEST_CASE("CLI commands beside the service never remove the service's trace") {
    cbcs::test::temp_dir tmp;
    std::filesystem::path dir = tmp.path();
    tracer service(tracer_settings{.dir = dir, .name = "trace", .max_files = 2});
    service.record(trace_event{.actor = "router", .event = "received", .job_id = "scm-job-1"});
    service.flush();
    for (int i = 0; i < 12; ++i) {
      tracer command(tracer_settings{.dir = dir, .name = "trace-cli", .max_files = 2});
      command.record(trace_event{.actor = "router", .event = "received", .job_id = "cli-job"});
    }
    service.record(trace_event{.actor = "router", .event = "result", .job_id = "scm-job-1"});
    service.flush();
    auto all = read_all(dir);
    CHECK(all.find("\"received\",\"job\":\"scm-job-1\"") != std::string::npos);
    CHECK(all.find("\"result\",\"job\":\"scm-job-1\"") != std::string::npos);
    CHECK(tracer::files(dir, "trace").size() == 1);
    // The CLI's own: appended to while there is room, rotated beyond.
    CHECK(tracer::files(dir, "trace-cli").size() == 1);
  }

  TEST_CASE("a rotation leaves a file another live writer of the same name still writes") {
    cbcs::test::temp_dir tmp;
    std::filesystem::path dir = tmp.path();
    auto long_command =
        std::make_unique<tracer>(tracer_settings{.dir = dir, .name = "trace-cli", .max_files = 1});
    long_command->record(trace_event{.actor = "router", .event = "sent", .job_id = "slow-job"});
    auto live = tracer::files(dir, "trace-cli").front();
    {
      // Full at once (max_file_bytes 0): it rotates, and would take the oldest.
      tracer quick(tracer_settings{
          .dir = dir, .name = "trace-cli", .max_file_bytes = 0, .max_files = 1});
      quick.record(trace_event{.actor = "router", .event = "sent", .job_id = "quick-job"});
    }
#ifndef _WIN32
    CHECK(std::filesystem::exists(live));
#endif
    long_command->record(trace_event{.actor = "router", .event = "result", .job_id = "slow-job"});
    long_command.reset();
    // Its writer gone, the next rotation may take it.
    tracer later(tracer_settings{
        .dir = dir, .name = "trace-cli", .max_file_bytes = 0, .max_files = 1});
    CHECK_FALSE(std::filesystem::exists(live));
  }

  TEST_CASE("files are ordered by number, each writer's apart") {
    cbcs::test::temp_dir tmp;
    std::filesystem::path dir = tmp.path();
    for (const char* name : {"trace-999999.jsonl", "trace-1000000.jsonl", "trace-cli-000002.jsonl",
                             "trace-x.jsonl", "notes.txt"})
      std::ofstream(dir / name) << "{}\n";
    auto service = tracer::files(dir, "trace");
    REQUIRE(service.size() == 2);
    CHECK(service[0].filename() == "trace-999999.jsonl");
    CHECK(service[1].filename() == "trace-1000000.jsonl");
    CHECK(tracer::files(dir, "trace-cli").size() == 1);
    CHECK(tracer::files(dir).size() == 3);
  }
}
