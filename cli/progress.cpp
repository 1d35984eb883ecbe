#include "cli/progress.hpp"

#include <charconv>

#include <fmt/format.h>

#ifndef _WIN32
#include <sys/ioctl.h>
#include <unistd.h>
#endif

namespace cbcs::cli {
namespace {

using std::chrono::milliseconds;

// "in 4200 ms: why" / "poll in 60000 ms: why" / "wait 900 ms": the delay the
// backend actor wrote, and what follows it.
std::optional<std::pair<milliseconds, std::string_view>> leading_delay(std::string_view detail) {
  std::string_view rest;
  for (std::string_view prefix : {"poll in ", "in ", "wait "})
    if (detail.starts_with(prefix)) rest = detail.substr(prefix.size());
  long long ms = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), ms);
  if (rest.empty() || ec != std::errc() ||
      !std::string_view(end, static_cast<std::size_t>(rest.data() + rest.size() - end))
           .starts_with(" ms"))
    return std::nullopt;
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()) + 3);
  if (rest.starts_with(": ")) rest.remove_prefix(2);
  return std::pair{milliseconds(ms), rest};
}

std::string latency_text(std::int64_t latency_us) {
  return latency_us < 0 ? std::string() : " in " + human_duration(milliseconds(latency_us / 1000));
}

// The URL without its query (it may carry identifiers an operator does not
// need on the console; the trace keeps it).
std::string_view without_query(std::string_view url) { return url.substr(0, url.find('?')); }

}  // namespace

std::string human_duration(milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 120'000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000);
  return fmt::format("{} min", (ms + 30'000) / 60'000);
}

std::optional<std::string> describe_progress(const actors::trace_event& e) {
  auto ev = e.event;
  if (ev == "started") return fmt::format("{} started at backend {}", e.detail, e.backend);
  if (ev == "resumed")
    return fmt::format(
        "resuming the job from the journal: its first request is followed, not "
        "placed again");
  if (ev == "duplicate" && e.outcome == "answered_from_journal")
    return std::string("this job finished before: its result comes from the journal");
  // A request's attempt is named from the second on: most go once.
  auto attempt = e.attempt > 1 ? fmt::format(" (attempt {})", e.attempt) : std::string();
  if (ev == "http") return fmt::format("{} {}{}", e.outcome, without_query(e.detail), attempt);
  if (ev == "http_done") {
    if (e.outcome == "error")
      return fmt::format("  no answer{}{}: {}", latency_text(e.latency_us), attempt, e.detail);
    return fmt::format("  HTTP {}{}", e.outcome, latency_text(e.latency_us));
  }
  if (ev == "retry") {
    if (auto d = leading_delay(e.detail))
      return fmt::format("{} failure, retrying in {}: {}", e.outcome, human_duration(d->first),
                         d->second);
    return fmt::format("{} failure, retrying: {}", e.outcome, e.detail);
  }
  if (ev == "pending") {
    auto reason = e.outcome == "pending" ? std::string_view("waiting") : e.outcome;
    if (auto d = leading_delay(e.detail))
      return fmt::format("pending at the CA ({}){}; asking again in {}", reason,
                         d->second.empty() ? std::string() : ": " + std::string(d->second),
                         human_duration(d->first));
    return fmt::format("pending at the CA ({})", reason);
  }
  if (ev == "breaker") {
    if (e.outcome == "half_open")
      return std::string("the backend kept failing: waiting for its trial request to succeed");
    if (auto d = leading_delay(e.detail))
      return fmt::format("the backend kept failing (circuit breaker open): next try in {}",
                         human_duration(d->first));
    return std::string("the backend kept failing (circuit breaker open)");
  }
  if (ev == "await") return fmt::format("waiting for the {}: {}", e.outcome, e.detail);
  if (ev == "second_order") return fmt::format("note: {}", e.detail);
  if (ev == "cancelled") return fmt::format("cancelled: {}", e.detail);
  if (ev == "journal_failed") return fmt::format("the journal cannot commit yet: {}", e.detail);
  if (ev == "crashed")
    return fmt::format("backend {} crashed: {}; it is restarted", e.backend, e.detail);
  return std::nullopt;
}

progress_display::style progress_display::for_stderr(bool quiet) {
  if (quiet) return style::quiet;
#ifdef _WIN32
  return style::lines;  // no escape sequences on an old console
#else
  return isatty(STDERR_FILENO) ? style::terminal : style::lines;
#endif
}

progress_display::progress_display(actors::tracer& trace, std::set<std::string> jobs, style s,
                                   std::FILE* out)
    : trace_(trace), jobs_(std::move(jobs)), style_(s), out_(out) {
  trace_.observe([this](const actors::trace_event& e) { on_event(e); });
  if (style_ == style::terminal) ticker_ = std::thread([this] { tick(); });
}

progress_display::~progress_display() {
  trace_.observe({});
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (style_ == style::terminal) std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void progress_display::say(const std::string& line) {
  std::lock_guard lock(mutex_);
  print_line_locked(line);
}

void progress_display::print_above(std::FILE* to, const std::string& line) {
  std::lock_guard lock(mutex_);
  if (style_ == style::terminal) {
    std::fputs("\r\033[K", out_);
    std::fflush(out_);
  }
  std::fputs(line.c_str(), to);
  std::fputc('\n', to);
  std::fflush(to);
  if (style_ == style::terminal) draw_status_locked();
}

bool progress_display::request_out() {
  std::lock_guard lock(mutex_);
  return requests_out_ > 0;
}

void progress_display::on_event(const actors::trace_event& e) {
  // A job's own events, and the crash of a backend one of them started on.
  if (e.job_id.empty() ? e.event != "crashed" : !jobs_.count(std::string(e.job_id))) return;
  std::lock_guard lock(mutex_);
  if (e.event == "crashed" && !backends_.count(std::string(e.backend))) return;
  if (e.event == "started") backends_.insert(std::string(e.backend));
  if (e.event == "http") ++requests_out_;
  if (e.event == "http_done" && requests_out_ > 0) --requests_out_;
  if ((e.event == "result" && e.actor == "router") ||
      (e.event == "duplicate" && e.outcome == "answered_from_journal"))
    ++finished_;
  if (style_ == style::quiet) return;
  // Many jobs (jobs run): what holds them up, not every request.
  bool many = jobs_.size() > 1;
  if (many && (e.event == "started" || e.event == "http" || e.event == "http_done")) return;
  auto line = describe_progress(e);
  if (!line) return;
  if (e.event == "pending") {
    // The CA's words once; then only that it still waits.
    auto& before = pending_said_[std::string(e.job_id)];
    auto colon = e.detail.find(": ");
    auto words =
        std::string(e.outcome) +
        (colon == std::string_view::npos ? std::string() : std::string(e.detail.substr(colon)));
    if (words == before)
      if (auto d = leading_delay(e.detail))
        line = fmt::format("still pending ({}); asking again in {}",
                           e.outcome == "pending" ? std::string_view("waiting") : e.outcome,
                           human_duration(d->first));
    before = std::move(words);
  }
  if (jobs_.size() > 1 && !e.job_id.empty()) *line = fmt::format("{}: {}", e.job_id, *line);
  print_line_locked(*line);
}

void progress_display::print_line_locked(const std::string& line) {
  if (style_ == style::terminal) std::fputs("\r\033[K", out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  status_ = line;
  if (style_ == style::terminal) draw_status_locked();
  std::fflush(out_);
}

void progress_display::draw_status_locked() {
  static constexpr const char* frames[] = {"|", "/", "-", "\\"};
  auto waited =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started_);
  std::size_t width = 80;
#ifndef _WIN32
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width = ws.ws_col;
#endif
  auto line = fmt::format(
      "{} {:>6} {}", frames[frame_++ % 4], fmt::format("{}s", waited.count() / 1000),
      jobs_.size() > 1
          ? fmt::format("{} of {} jobs finished; last: {}", finished_, jobs_.size(), status_)
          : status_);
  // Room for the terminal's echo of Ctrl-C ("^C"): a wrapped status line would stay behind.
  if (line.size() + 3 > width) line.resize(width - 3);
  std::fputs("\r\033[K", out_);
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
}

void progress_display::tick() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, milliseconds(250), [this] { return stopping_; }))
    draw_status_locked();
}

}  // namespace cbcs::cli
