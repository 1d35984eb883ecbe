#pragma once
// The support trace: every message on a job's path as one JSON line in
// rotating files under <data dir>/trace/. Thread-safe and buffered; no CAF.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/os/file_system.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::actors {

// The trace's word for an outcome: issued, done, pending, failed:<class>.
std::string outcome_label(const protocol::ca::outcome& o);

struct trace_event {
  std::string_view actor;  // "router", "backend:aws-prod", "journal", ...
  std::string_view event;  // received, routed, sent, http, retry, pending, result, acked, ...
  std::string_view job_id;
  std::string_view backend;
  std::string_view outcome;  // issued, failed:throttled, 429, ...
  int attempt = 0;
  std::int64_t latency_us = -1;
  std::string_view detail;  // one line, never a secret
};

struct tracer_settings {
  std::filesystem::path dir;
  // The files' name: the service writes trace-000001.jsonl, ...; the CLI's
  // commands trace-cli-000001.jsonl, .... Each rotates only its own, and
  // never a file another live process writes: the service's trace survives
  // any number of CLI commands beside it.
  std::string name = "trace";
  std::uint64_t max_file_bytes = 16 << 20;
  int max_files = 8;
  bool enabled = true;
};

class tracer {
 public:
  explicit tracer(tracer_settings s);
  ~tracer();
  tracer(const tracer&) = delete;
  tracer& operator=(const tracer&) = delete;

  void record(const trace_event& e);
  void flush();

  // Sees every event as it is recorded, also with the files disabled: an
  // interactive command shows its job's progress from it. Called on the
  // recording actor's thread, one call at a time; it must be quick and must
  // not record. An empty function removes it.
  using observer = std::function<void(const trace_event&)>;
  void observe(observer o);
  bool enabled() const { return settings_.enabled; }

  // For the flusher thread: sleeps until something is recorded (an idle
  // connector must not wake for its trace), lets `batch` pass so a busy
  // trace goes out in few writes, then flushes. False once stop_flushing()
  // was called.
  bool flush_when_recorded(std::chrono::milliseconds batch);
  void stop_flushing();

  // Every writer's files, each writer's oldest first (trace-000001.jsonl,
  // ..., trace-cli-000001.jsonl, ...).
  static std::vector<std::filesystem::path> files(const std::filesystem::path& dir);
  // One writer's files, oldest first.
  static std::vector<std::filesystem::path> files(const std::filesystem::path& dir,
                                                  std::string_view name);

 private:
  void open_next();
  void flush_locked();
  void write_locked();
  void reopen_locked();

  tracer_settings settings_;
  std::mutex mutex_;
  std::ofstream out_;
  std::filesystem::path path_;  // of out_
  std::unique_ptr<config::file_in_use_mark> in_use_;
  std::string buffer_;
  bool dirty_ = false;  // recorded since the last flush
  bool stop_flushing_ = false;
  std::condition_variable recorded_;
  std::uint64_t written_ = 0;
  std::uint64_t sequence_ = 0;
  // Test hook: CBCS_CRASH_AT=event[:n] kills the process (SIGKILL) right after
  // the n-th trace event of that name, to prove recovery at exact points.
  std::string crash_event_;
  int crash_countdown_ = 0;
  std::mutex observer_mutex_;
  observer observer_;
  std::atomic<bool> observed_{false};  // the record path takes no lock when unobserved
};

}  // namespace cbcs::actors
