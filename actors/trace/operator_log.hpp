#pragma once
// Lines for the operator. Unconfigured: stderr ("2026-11-27T10:00:00.123Z
// cbcs: ..."). `cbcs run` configures it: under journald (JOURNAL_STREAM)
// stderr with syslog priority prefixes ("<4>..."), journald adds the time;
// otherwise also rotating files in the data directory (logs/cbcs.log, size
// and count bounded), which is what a Windows service has. Never a secret.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cbcs::actors {

enum class log_level : std::uint8_t { debug, info, warning, error };
std::optional<log_level> parse_log_level(std::string_view text);  // debug|info|warning|error

struct log_settings {
  log_level level = log_level::info;
  bool journald = false;  // stderr with <N> prefixes, no time, no files
  // Not journald: rotating files here (cbcs.log, then cbcs.1.log ...); empty: none.
  std::filesystem::path dir;
  std::size_t max_file_bytes = 10 << 20;
  std::size_t max_files = 5;  // rotated files kept besides cbcs.log
  bool echo_stderr = true;    // with files: stderr hears the same lines
};

// Throws std::runtime_error (one line) when the log directory cannot be used.
void configure_log(const log_settings& settings);

// Never throws: with stderr on a full disk the trace still has the event.
void log_line(const std::string& line) noexcept;  // info
void log_at(log_level level, const std::string& line) noexcept;

// journald reads fd when JOURNAL_STREAM ("device:inode") names its file.
bool journald_reads(const char* journal_stream, int fd);
// "<6>text": the syslog priority journald reads from a stream's line.
std::string journald_line(log_level level, std::string_view text);

}  // namespace cbcs::actors
