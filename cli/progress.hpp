#pragma once
// What an interactive command is waiting for, said as it happens on standard
// error: each attempt and its answer, a retry with its delay and reason, a
// pending order and when it is asked again. Read from the trace events the
// runtime records anyway; a terminal also gets a status line with a spinner
// and the time waited.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "actors/trace/tracer.hpp"

namespace cbcs::cli {

// One event as a line for a person, or nothing for the events that say
// nothing to them (routing, journaling, the final result the command prints).
std::optional<std::string> describe_progress(const actors::trace_event& e);

// "450 ms", "4.2 s", "3 min".
std::string human_duration(std::chrono::milliseconds d);

class progress_display {
 public:
  enum class style { quiet, lines, terminal };
  // The style for standard error: quiet when asked, a status line on a
  // terminal, plain lines otherwise (a pipe, a log, a test).
  static style for_stderr(bool quiet);

  // Follows the events of `jobs` (and of their backends' restarts) until
  // destroyed, showing them unless quiet. With more than one job each line names its job.
  progress_display(actors::tracer& trace, std::set<std::string> jobs, style s,
                   std::FILE* out = stderr);
  ~progress_display();
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;

  // A line of the command's own (Ctrl-C's notice), said the same way; also
  // when quiet, as it answers the person's own key press.
  void say(const std::string& line);

  // A line of output (stdout) printed above the terminal's status line, not
  // into it (jobs run's results).
  void print_above(std::FILE* to, const std::string& line);

  // A request of these jobs is out at its CA, its answer not yet back.
  bool request_out();

 private:
  void on_event(const actors::trace_event& e);
  void print_line_locked(const std::string& line);
  void draw_status_locked();
  void tick();

  actors::tracer& trace_;
  std::set<std::string> jobs_;
  std::set<std::string> backends_;
  style style_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string status_ = "starting";  // the last thing said: the terminal's status line
  unsigned frame_ = 0;
  int requests_out_ = 0;
  std::size_t finished_ = 0;
  std::map<std::string, std::string> pending_said_;  // by job: the CA's words last shown
  std::thread ticker_;
};

}  // namespace cbcs::cli
