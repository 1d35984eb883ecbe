// cbcs trace show | export: the support trace read back for people and for
// Perfetto (Chrome trace-event JSON).

#include <algorithm>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <simdjson.h>

#include "actors/trace/tracer.hpp"
#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/runtime_session.hpp"
#include "config/atomic_file.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::cli {
namespace {

struct event {
  std::int64_t mono_ns = 0;
  std::int64_t wall_ms = 0;
  std::string actor, name, job, backend, outcome, detail;
  std::int64_t attempt = 0;
  std::int64_t latency_us = -1;
};

struct filter {
  std::optional<std::string> job, backend;
  std::int64_t since_wall_ms = 0;
};

std::string str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get_string().get(v) ? std::string{} : std::string(v);
}

std::int64_t num(simdjson::dom::element e, const char* key, std::int64_t fallback) {
  std::int64_t v = 0;
  return e[key].get_int64().get(v) ? fallback : v;
}

// Reads every trace file; lines that do not parse (a torn last line after a
// crash) are counted and skipped, never fatal.
std::vector<event> load(const workspace& ws, const filter& f, std::size_t& skipped) {
  std::vector<event> out;
  simdjson::dom::parser parser;
  for (const auto& file : actors::tracer::files(ws.dir().trace_dir())) {
    auto text = config::read_file(file, 1ULL << 30);
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      auto line = std::string_view(text).substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      simdjson::dom::element e;
      if (parser.parse(line.data(), line.size()).get(e)) {
        ++skipped;
        continue;
      }
      event ev{num(e, "mono_ns", 0), num(e, "wall_ms", 0),    str(e, "actor"),   str(e, "event"),
               str(e, "job"),        str(e, "backend"),       str(e, "outcome"), str(e, "detail"),
               num(e, "attempt", 0), num(e, "latency_us", -1)};
      if (f.job && ev.job != *f.job) continue;
      if (f.backend && ev.backend != *f.backend) continue;
      if (ev.wall_ms < f.since_wall_ms) continue;
      out.push_back(std::move(ev));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const event& a, const event& b) { return a.wall_ms < b.wall_ms; });
  return out;
}

std::int64_t parse_since(const std::string& text) {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  if (text.find('T') != std::string::npos) {
    auto t = crypto::parse_utc_time(text);
    if (!t)
      throw usage_error("trace show: option -since: use a duration (10m) or 2026-11-27T10:00:00");
    return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  }
  return now_ms - parse_duration_seconds(text, "since") * 1000;
}

filter filter_from(const po::variables_map& vm) {
  filter f;
  f.job = optional_string(vm, "job");
  f.backend = optional_string(vm, "backend");
  if (auto since = optional_string(vm, "since")) f.since_wall_ms = parse_since(*since);
  return f;
}

po::options_description trace_show_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                                   //
      ("job", po::value<std::string>()->value_name("ID"), "only this job (timeline)")  //
      ("backend", po::value<std::string>()->value_name("NAME"), "only this backend")   //
      ("since", po::value<std::string>()->value_name("WHEN"),
       "only events after a time (2026-11-27T10:00:00, UTC) or within a duration (10m)");
  add_common_options(desc);
  return desc;
}

std::string wall_text(std::int64_t wall_ms) {
  auto t = crypto::utc_time{std::chrono::milliseconds{wall_ms}};
  return fmt::format("{}.{:03}Z", crypto::format_utc_time(t), wall_ms % 1000);
}

int run_trace_show(const po::variables_map& vm, const args_t&) {
  workspace ws(vm, config::data_dir::existing_only);
  std::size_t skipped = 0;
  auto f = filter_from(vm);
  auto events = load(ws, f, skipped);
  if (events.empty()) {
    fmt::print("no trace events{}\n",
               f.job ? " for job " + crypto::without_private_keys(*f.job) : "");
    return f.job ? exit_failed : exit_ok;
  }
  // Offsets from the first event shown (the job's first with -job), on the
  // wall clock: mono_ns is per process, and the service's and the CLI's
  // events mix in one timeline.
  auto t0 = events.front().wall_ms;
  auto offset_text = [&](const event& e) {
    auto ms = e.wall_ms - t0;
    return fmt::format("+{}.{:03}s", ms / 1000, ms % 1000);
  };
  std::size_t offset_width = 0, actor_width = 0, name_width = 0;
  for (const auto& e : events) {
    offset_width = std::max(offset_width, offset_text(e).size());
    actor_width = std::max(actor_width, e.actor.size());
    name_width = std::max(name_width, e.name.size());
  }
  for (const auto& e : events) {
    std::string fields;
    if (!e.job.empty() && !f.job) fields += " job=" + e.job;
    if (!e.backend.empty()) fields += " backend=" + e.backend;
    if (e.attempt) fields += fmt::format(" attempt={}", e.attempt);
    if (!e.outcome.empty()) fields += " outcome=" + e.outcome;
    if (e.latency_us >= 0) fields += fmt::format(" latency={:.3f}ms", e.latency_us / 1000.0);
    if (!e.detail.empty()) fields += " " + e.detail;
    fmt::print("{} {:>{}}  {:<{}} {:<{}}{}\n", wall_text(e.wall_ms), offset_text(e), offset_width,
               e.actor, actor_width, e.name, name_width, fields);
  }
  if (skipped) fmt::print(stderr, "({} damaged trace line(s) skipped)\n", skipped);
  return exit_ok;
}

po::options_description export_options(const args_t& args) {
  auto desc = trace_show_options(args);
  desc.add_options()("chrome", po::value<std::string>()->value_name("FILE"),
                     "write Chrome trace-event JSON (opens in Perfetto)");
  return desc;
}

int run_export(const po::variables_map& vm, const args_t&) {
  auto out_file = optional_string(vm, "chrome");
  if (!out_file) throw usage_error("trace export: missing required option -chrome");
  workspace ws(vm, config::data_dir::existing_only);
  std::size_t skipped = 0;
  auto events = load(ws, filter_from(vm), skipped);
  std::map<std::string, int> tracks;  // one track (tid) per actor
  for (const auto& e : events) tracks.emplace(e.actor, 0);
  int tid = 1;
  for (auto& [_, id] : tracks) id = tid++;

  protocol::json_writer w(false);
  w.begin_object().member("displayTimeUnit", "ms").key("traceEvents").begin_array();
  for (const auto& [actor, id] : tracks) {
    w.begin_object()
        .member("ph", "M")
        .member("name", "thread_name")
        .member("pid", 1)
        .member("tid", id);
    w.key("args").begin_object().member("name", actor).end_object().end_object();
  }
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  // Placed by wall time: mono_ns is per process, and the service's and the
  // CLI commands' events mix. A slice's length is measured within its own
  // process, by mono_ns.
  auto at = [](const event& e) { return static_cast<double>(e.wall_ms) * 1000.0; };
  // One slice per HTTP attempt (http .. http_done) and per job on a backend
  // (started .. result); everything else is an instant.
  std::map<std::string, const event*> open;
  for (const auto& e : events) {
    auto key = e.actor + "|" + e.job + "|" + std::to_string(e.attempt);
    if (e.name == "http") {
      open[key] = &e;
      continue;
    }
    if (e.name == "started") {
      open[e.actor + "|" + e.job + "|job"] = &e;
    }
    if (e.name == "http_done" && open.count(key)) {
      const event* s = open[key];
      open.erase(key);
      w.begin_object()
          .member("ph", "X")
          .member("name", fmt::format("attempt {} {}", e.attempt, s->outcome))
          .member("cat", "http")
          .member("pid", 1)
          .member("tid", tracks[e.actor])
          .member("ts", at(*s))
          .member("dur", us(e.mono_ns - s->mono_ns));
      w.key("args")
          .begin_object()
          .member("job", e.job)
          .member("status", e.outcome)
          .member("url", s->detail);
      w.end_object().end_object();
      continue;
    }
    if (e.name == "result" && open.count(e.actor + "|" + e.job + "|job")) {
      const event* s = open[e.actor + "|" + e.job + "|job"];
      open.erase(e.actor + "|" + e.job + "|job");
      w.begin_object()
          .member("ph", "X")
          .member("name", "job " + e.job)
          .member("cat", "job")
          .member("pid", 1)
          .member("tid", tracks[e.actor])
          .member("ts", at(*s))
          .member("dur", us(e.mono_ns - s->mono_ns));
      w.key("args").begin_object().member("outcome", e.outcome).member("detail", e.detail);
      w.end_object().end_object();
    }
    w.begin_object()
        .member("ph", "i")
        .member("s", "t")
        .member("name", e.name)
        .member("cat", "event")
        .member("pid", 1)
        .member("tid", tracks[e.actor])
        .member("ts", at(e));
    w.key("args")
        .begin_object()
        .member("job", e.job)
        .member("backend", e.backend)
        .member("outcome", e.outcome);
    if (!e.detail.empty()) w.member("detail", e.detail);
    w.end_object().end_object();
  }
  w.end_array().end_object();
  config::write_file_atomic(*out_file, w.str());
  fmt::print("wrote {} events on {} tracks to {} (open it in https://ui.perfetto.dev)\n",
             events.size(), tracks.size(), *out_file);
  return exit_ok;
}

}  // namespace

std::vector<command> trace_commands() {
  return {
      {"trace show", "print the support trace as a timeline",
       "[-job ID] [-backend NAME] [-since WHEN]", "cbcs trace show -job enroll-1f2e3d4c5b6a7980",
       trace_show_options, run_trace_show},
      {"trace export", "write the support trace as Chrome trace-event JSON for Perfetto",
       "-chrome FILE [-job ID] [-backend NAME] [-since WHEN]",
       "cbcs trace export -chrome trace.json", export_options, run_export},
  };
}

}  // namespace cbcs::cli
