#pragma once
// `cbcs journal check` and `cbcs journal repair`: the journal read as it is
// (never created or changed by a check), and a damaged one copied row by row.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace cbcs::config {

// `cbcs journal check`: SQLite's integrity check and the jobs by state, read
// without creating or changing anything (the file must exist).
struct journal_check_report {
  bool integrity_ok = false;
  std::vector<std::string> problems;  // integrity_check's lines (or the error that stopped it)
  bool counted = false;               // the counts below could be read
  std::string count_error;            // why not
  std::size_t accepted = 0;           // accepted, not yet finished, nothing from a CA yet
  std::size_t pending = 0;           // unfinished, waiting at a CA (resume token or pending result)
  std::size_t finished_unacked = 0;  // finished, SCM has not acknowledged the result
  std::size_t acknowledged = 0;      // finished and acknowledged
  std::size_t damaged_records = 0;   // rows whose content does not parse (journal::damaged_entries)
};
journal_check_report check_journal(const std::filesystem::path& file);

// `cbcs journal repair`: copies every job and result that can still be read
// from a damaged journal into a new file, then puts it in place of file; the
// damaged file (and its -wal, -shm) is kept as file.damaged-<UTC time>.
// Nothing is changed when the journal passes the integrity check (repaired
// is then false). The caller makes sure no service uses the journal.
struct journal_repair_result {
  bool repaired = false;
  std::size_t jobs_saved = 0;
  std::size_t jobs_lost = 0;  // rows known to exist (by seq or id) that could not be read
  std::size_t results_saved = 0;
  std::size_t results_lost = 0;  // finished, unacknowledged jobs whose result was lost: run again
  std::filesystem::path damaged_kept;
};
journal_repair_result repair_journal(const std::filesystem::path& file);

}  // namespace cbcs::config
