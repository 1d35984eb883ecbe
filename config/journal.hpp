#pragma once
// The job journal: every accepted job and every result, in SQLite (WAL), so
// that nothing accepted is lost and nothing is executed twice across crashes.
// Synchronous and single-threaded; the job router (actors/job_router.cpp)
// batches its calls into group commits.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "protocol/ca/driver.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cbcs::config {

struct journal_stmt;

enum class job_state { accepted, finished };

struct journal_entry {
  protocol::ca::job job;
  job_state state = job_state::accepted;
  std::string resume_token;
  std::optional<protocol::ca::outcome> result;  // when finished (or last pending)
  bool acked = false;
};

// A step or commit that SQLite refused (disk full, I/O error, busy, a
// damaged file): the transaction is void; the caller may try again later.
class journal_error : public config_error {
 public:
  journal_error(const std::string& what, int sqlite_code)
      : config_error(what), sqlite_code_(sqlite_code) {}
  int sqlite_code() const { return sqlite_code_; }

 private:
  int sqlite_code_;
};

// How long a job stays after SCM acknowledged its result, at least: the week
// of duplicate detection PROTOCOL.md section 6 promises SCM. Also the default.
constexpr std::chrono::hours min_journal_retention{24 * 7};

class journal {
 public:
  // Opens or creates file; throws config_error naming it when it cannot.
  // durable_commits: synchronous=FULL (every commit survives power loss) instead of NORMAL.
  explicit journal(const std::filesystem::path& file, bool durable_commits = true);
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  // Group commit: everything between begin() and commit() is one transaction.
  // begin(false) on a durable journal commits without fsync (synchronous=
  // NORMAL): the commit survives the process being killed, not a power cut.
  // For commits nothing outside depends on yet (results, acks): a result lost
  // to a power cut means the job runs again and its CA's idempotency answers.
  void begin(bool sync = true);
  void commit();
  // Drops the open transaction, if any (after a failed step or commit).
  void rollback() noexcept;
  // How long a statement waits for another process's write transaction
  // before it fails SQLITE_BUSY (a transient journal_error). 5 s by default.
  void set_busy_wait(std::chrono::milliseconds wait);
  // Caps the file at this many pages, as a full disk would (tests).
  void set_max_pages(std::size_t pages);

  // Records a new job. Returns nullopt when it was new, or the existing entry
  // when the id was seen before (the job is then not recorded again).
  std::optional<journal_entry> accept(const protocol::ca::job& j);
  void set_resume_token(const std::string& id, const std::string& token);
  void finish(const std::string& id, const protocol::ca::outcome& result);
  // SCM holds the result; `at` starts its retention.
  void acknowledge(const std::string& id,
                   std::chrono::system_clock::time_point at = std::chrono::system_clock::now());
  // Forgets at most `limit` finished jobs whose results were acknowledged
  // before `acked_before`, oldest first; returns how many. Jobs not yet
  // finished (also pending ones a CLI command acknowledged) or not yet
  // acknowledged are never removed.
  std::size_t prune(std::chrono::system_clock::time_point acked_before, std::size_t limit);

  // find throws journal_error when SQLite cannot read, config_error for a
  // damaged record. The lists skip damaged records (counted below).
  std::optional<journal_entry> find(const std::string& id);
  std::vector<journal_entry> unfinished();
  std::vector<journal_entry> unacknowledged_results();
  std::size_t damaged_entries() const { return damaged_; }
  std::size_t count();

 private:
  struct statements;
  journal_entry read_entry(sqlite3_stmt* st);
  std::vector<journal_entry> read_all(journal_stmt& statement);
  [[noreturn]] void fail_sqlite();
  void create_schema();
  void exec(const char* sql);
  void run(journal_stmt& statement);  // a prepared statement without results

  std::filesystem::path file_;
  bool durable_ = true;
  bool syncing_ = true;  // the connection's synchronous setting now
  sqlite3* db_ = nullptr;
  std::unique_ptr<statements> st_;
  std::size_t damaged_ = 0;
};

}  // namespace cbcs::config
