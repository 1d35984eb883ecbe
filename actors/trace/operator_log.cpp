#include "actors/trace/operator_log.hpp"

#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/rotating_file_sink.h>

namespace cbcs::actors {
namespace {

struct log_state {
  std::mutex mutex;
  log_settings settings;
  std::shared_ptr<spdlog::logger> files;
};

log_state& state() {
  static auto* s = new log_state;  // never destroyed: threads may log during exit
  return *s;
}

spdlog::level::level_enum to_spdlog(log_level l) {
  switch (l) {
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warning:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string_view label(log_level l) {
  switch (l) {
    case log_level::debug:
      return "debug: ";
    case log_level::warning:
      return "warning: ";
    case log_level::error:
      return "error: ";
    case log_level::info:
      break;
  }
  return "";
}

}  // namespace

std::optional<log_level> parse_log_level(std::string_view text) {
  if (text == "debug") return log_level::debug;
  if (text == "info") return log_level::info;
  if (text == "warning") return log_level::warning;
  if (text == "error") return log_level::error;
  return std::nullopt;
}

bool journald_reads(const char* journal_stream, int fd) {
  if (!journal_stream || !*journal_stream) return false;
  std::string_view s(journal_stream);
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t dev = 0, ino = 0;
  auto [p1, e1] = std::from_chars(s.data(), s.data() + colon, dev);
  auto [p2, e2] = std::from_chars(s.data() + colon + 1, s.data() + s.size(), ino);
  if (e1 != std::errc{} || p1 != s.data() + colon || e2 != std::errc{} || p2 != s.data() + s.size())
    return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uint64_t>(st.st_dev) == dev &&
         static_cast<std::uint64_t>(st.st_ino) == ino;
}

std::string journald_line(log_level level, std::string_view text) {
  // syslog(3): 3 err, 4 warning, 6 info, 7 debug.
  int prio = level == log_level::error     ? 3
             : level == log_level::warning ? 4
             : level == log_level::debug   ? 7
                                           : 6;
  std::string out = fmt::format("<{}>", prio);
  for (char c : text) out += (c == '\n' || c == '\r') ? ' ' : c;  // one entry per line
  return out;
}

void configure_log(const log_settings& settings) {
  std::shared_ptr<spdlog::logger> files;
  if (!settings.journald && !settings.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(settings.dir, ec);
    if (ec)
      throw std::runtime_error(
          fmt::format("cannot make the log directory {}: {}", settings.dir.string(), ec.message()));
    try {
      auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          (settings.dir / "cbcs.log").string(), settings.max_file_bytes, settings.max_files);
      files = std::make_shared<spdlog::logger>("cbcs", std::move(sink));
    } catch (const std::exception& e) {
      throw std::runtime_error(
          fmt::format("cannot open the log file in {}: {}", settings.dir.string(), e.what()));
    }
    files->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc));
    files->set_level(to_spdlog(settings.level));
    files->flush_on(spdlog::level::trace);  // every line: a crash keeps what led to it
  }
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.settings = settings;
  s.files = std::move(files);
}

void log_line(const std::string& line) noexcept { log_at(log_level::info, line); }

void log_at(log_level level, const std::string& line) noexcept {
  try {
    auto& s = state();
    std::lock_guard lock(s.mutex);
    if (level < s.settings.level) return;
    if (s.settings.journald) {
      fmt::print(stderr, "{}\n", journald_line(level, line));
      return;
    }
    if (s.files) s.files->log(to_spdlog(level), "{}", line);
    if (!s.files || s.settings.echo_stderr) {
      auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
      fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}Z cbcs: {}{}\n", now, label(level), line);
    }
  } catch (...) {
  }
}

}  // namespace cbcs::actors
