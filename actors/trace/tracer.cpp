#include "actors/trace/tracer.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "config/os/this_process.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::actors {

std::string outcome_label(const protocol::ca::outcome& o) {
  using kind = protocol::ca::outcome::kind;
  switch (o.what) {
    case kind::issued:
      return "issued";
    case kind::done:
      return "done";
    case kind::pending:
      return "pending";
    case kind::failed:
      return std::string("failed:") + protocol::ca::to_string(o.error);
  }
  return "unknown";
}
namespace fs = std::filesystem;

tracer::tracer(tracer_settings s) : settings_(std::move(s)) {
  if (const char* crash = std::getenv("CBCS_CRASH_AT"); crash && *crash) {
    std::string_view spec(crash);
    auto colon = spec.find(':');
    crash_event_ = std::string(spec.substr(0, colon));
    crash_countdown_ = colon == std::string_view::npos ? 1 : std::atoi(crash + colon + 1);
    settings_.enabled = true;  // the hook rides on the trace
  }
  if (!settings_.enabled) return;
  std::error_code ec;
  fs::create_directories(settings_.dir, ec);
  fs::permissions(settings_.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  auto existing = files(settings_.dir, settings_.name);
  if (!existing.empty()) {
    auto stem = existing.back().stem().string();  // trace-000042
    sequence_ = std::stoull(stem.substr(settings_.name.size() + 1));
    // Appended to while it has room: a CLI command is a few lines, and a
    // file each would rotate the earlier commands' timelines away.
    // Appends of whole lines from several processes do not mix (O_APPEND).
    std::error_code size_ec;
    auto size = fs::file_size(existing.back(), size_ec);
    if (!size_ec && size < settings_.max_file_bytes) {
      out_.open(existing.back(), std::ios::app | std::ios::binary);
      if (out_.is_open()) {
        in_use_ = std::make_unique<config::file_in_use_mark>(existing.back());
        written_ = size;
        return;
      }
    }
  }
  open_next();
}

tracer::~tracer() { flush(); }

std::vector<fs::path> tracer::files(const fs::path& dir, std::string_view writer) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    // <writer>-NNNNNN.jsonl, six digits or more
    if (name.size() < writer.size() + 13 || !name.starts_with(writer) ||
        name[writer.size()] != '-' || !name.ends_with(".jsonl"))
      continue;
    auto digits = std::string_view(name).substr(writer.size() + 1, name.size() - writer.size() - 7);
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(e.path());
  }
  // By number: trace-1000000 comes after trace-999999.
  std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
    auto an = a.filename().string(), bn = b.filename().string();
    return an.size() != bn.size() ? an.size() < bn.size() : an < bn;
  });
  return out;
}

std::vector<fs::path> tracer::files(const fs::path& dir) {
  auto out = files(dir, "trace");
  auto cli = files(dir, "trace-cli");
  out.insert(out.end(), cli.begin(), cli.end());
  return out;
}

void tracer::open_next() {
  in_use_.reset();
  if (out_.is_open()) out_.close();
  fs::path path;
  std::error_code ec;
  // A number no other process of this writer took (two CLI commands at once).
  do path = settings_.dir / fmt::format("{}-{:06}.jsonl", settings_.name, ++sequence_);
  while (fs::exists(path, ec));
  out_.open(path, std::ios::app | std::ios::binary);
  path_ = path;
  in_use_ = std::make_unique<config::file_in_use_mark>(path);
  written_ = 0;
  auto mine = files(settings_.dir, settings_.name);
  for (std::size_t i = 0; i + settings_.max_files < mine.size(); ++i)
    config::remove_unless_in_use(mine[i]);
}

void tracer::observe(observer o) {
  std::lock_guard lock(observer_mutex_);
  observed_ = static_cast<bool>(o);
  observer_ = std::move(o);
}

void tracer::record(const trace_event& e) {
  if (observed_) {
    std::lock_guard lock(observer_mutex_);
    if (observer_) observer_(e);
  }
  if (!settings_.enabled) return;
  auto mono = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now().time_since_epoch())
                  .count();
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  protocol::json_writer w(false);
  w.begin_object()
      .member("mono_ns", static_cast<std::int64_t>(mono))
      .member("wall_ms", static_cast<std::int64_t>(wall))
      .member("actor", e.actor)
      .member("event", e.event);
  if (!e.job_id.empty()) w.member("job", e.job_id);
  if (!e.backend.empty()) w.member("backend", e.backend);
  if (!e.outcome.empty()) w.member("outcome", e.outcome);
  if (e.attempt) w.member("attempt", e.attempt);
  if (e.latency_us >= 0) w.member("latency_us", e.latency_us);
  if (!e.detail.empty()) w.member("detail", e.detail);
  w.end_object();
  std::lock_guard lock(mutex_);
  buffer_ += w.str();
  buffer_ += '\n';
  if (!dirty_) {
    // Only the first since a flush: a flusher in its batch wait is not woken per event.
    dirty_ = true;
    recorded_.notify_one();
  }
  if (!crash_event_.empty() && e.event == crash_event_ && --crash_countdown_ == 0) {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    config::terminate_now();
  }
  if (buffer_.size() >= 64 * 1024) {
    write_locked();
    if (written_ >= settings_.max_file_bytes) open_next();
  }
}

void tracer::write_locked() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  written_ += buffer_.size();
  buffer_.clear();
  if (!out_) reopen_locked();
}

// A write that failed (a full disk) leaves an ofstream failed for good: the
// trace would take nothing more until the process ends. Reopen the same file
// (what was buffered is lost) and end the line the failure may have cut, so
// a reader skips that one line and the events after it are written again.
void tracer::reopen_locked() {
  out_.close();
  out_.clear();
  out_.open(path_, std::ios::app | std::ios::binary);
  out_.put('\n');
}

void tracer::flush() {
  if (!settings_.enabled) return;
  std::lock_guard lock(mutex_);
  flush_locked();
}

void tracer::flush_locked() {
  dirty_ = false;
  write_locked();
  out_.flush();
  if (!out_) reopen_locked();
  if (written_ >= settings_.max_file_bytes) open_next();
}

bool tracer::flush_when_recorded(std::chrono::milliseconds batch) {
  std::unique_lock lock(mutex_);
  recorded_.wait(lock, [&] { return dirty_ || stop_flushing_; });
  if (stop_flushing_) return false;
  recorded_.wait_for(lock, batch, [&] { return stop_flushing_; });
  if (settings_.enabled) flush_locked();
  return !stop_flushing_;
}

void tracer::stop_flushing() {
  std::lock_guard lock(mutex_);
  stop_flushing_ = true;
  recorded_.notify_all();
}

}  // namespace cbcs::actors
