#include "config/journal.hpp"
#include "config/journal_schema.hpp"

#include <sqlite3.h>

#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/os/file_system.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/sqlite_file.hpp"

namespace cbcs::config {
using journal_sql::bind_text;
using journal_sql::column_text;
using journal_sql::schema;
using journal_sql::schema_version;
namespace {

// A version 1 journal is copied over in the same transaction, without the
// jobs SCM already holds the results of: version 1 never pruned, and a
// journal of months must not need twice its size to migrate.
constexpr const char* migrate_v1 = R"sql(
INSERT INTO job(id, request, state, resume_token, acked_at)
  SELECT id, request, state, resume_token, CASE WHEN acked != 0 THEN unixepoch() ELSE 0 END
  FROM jobs WHERE NOT (state = 1 AND acked != 0);
INSERT INTO job_result(seq, result)
  SELECT job.seq, jobs.result FROM jobs JOIN job ON job.id = jobs.id WHERE jobs.result IS NOT NULL;
DROP TABLE jobs;
)sql";

}  // namespace

// Named, not anonymous: journal::statements holds them.
struct journal_stmt {
  sqlite3_stmt* s = nullptr;
  ~journal_stmt() { sqlite3_finalize(s); }
};

namespace {

// A kept statement left after SQLITE_ROW holds its read transaction open: in
// WAL mode the connection then stays on an old snapshot, and once another
// process (a CLI command) commits, every BEGIN IMMEDIATE of this one fails
// SQLITE_BUSY at once, whatever the busy timeout, until the statement is
// reset. That was the journal locked for good. Every use resets on every way out.
struct statement_use {
  explicit statement_use(journal_stmt& st) : s(st.s) { sqlite3_reset(s); }
  ~statement_use() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  statement_use(const statement_use&) = delete;
  statement_use& operator=(const statement_use&) = delete;
  sqlite3_stmt* s;
};

}  // namespace

struct journal::statements {
  journal_stmt insert, find, set_resume, finish, result, ack, unfinished, unacked, count, prune,
      prune_results;
  // Prepared once: sqlite3_exec would parse them again for every commit.
  // (Not the synchronous pragmas: SQLite applies those when it prepares them.)
  journal_stmt begin, commit;
};

journal::journal(const std::filesystem::path& file, bool durable_commits)
    : file_(file), durable_(durable_commits), syncing_(durable_commits) {
  auto fail = [&](const std::string& what) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw config_error(fmt::format("journal {}: {}: {}", file_.string(), what, msg));
  };
  if (sqlite3_open_v2(protocol::sqlite_file_name(file).c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(durable_commits ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    create_schema();
  } catch (const config_error&) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
  st_ = std::make_unique<statements>();
  auto prepare = [&](journal_stmt& s, const char* sql) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s.s, nullptr) != SQLITE_OK)
      fail("cannot prepare statement");
  };
  constexpr const char* columns =
      "SELECT job.request, job.state, job.resume_token, job_result.result, job.acked_at FROM job "
      "LEFT JOIN job_result ON job_result.seq = job.seq ";
  prepare(st_->begin, "BEGIN IMMEDIATE");
  prepare(st_->commit, "COMMIT");
  prepare(st_->insert, "INSERT OR IGNORE INTO job(id, request) VALUES(?1, ?2)");
  prepare(st_->find, (std::string(columns) + "WHERE job.id = ?1").c_str());
  prepare(st_->set_resume, "UPDATE job SET resume_token = ?2 WHERE id = ?1");
  // The first result is the job's: a second one (a late duplicate) changes nothing.
  prepare(st_->finish, "UPDATE job SET state = 1 WHERE id = ?1 AND state = 0");
  prepare(st_->result,
          "INSERT OR REPLACE INTO job_result(seq, result) SELECT seq, ?2 FROM job WHERE id = ?1");
  prepare(st_->ack, "UPDATE job SET acked_at = max(?2, 1) WHERE id = ?1 AND acked_at = 0");
  prepare(st_->unfinished, (std::string(columns) + "WHERE job.state = 0 ORDER BY job.seq").c_str());
  prepare(
      st_->unacked,
      (std::string(columns) + "WHERE job.acked_at = 0 AND job.state = 1 ORDER BY job.seq").c_str());
  prepare(st_->count, "SELECT count(*) FROM job");
  // Oldest acknowledgements first, a bounded batch per call: a long-idle
  // connector must not stall its first commit on a million deletes.
  prepare(st_->prune_results,
          "DELETE FROM job_result WHERE seq IN (SELECT seq FROM job WHERE acked_at > 0 AND "
          "acked_at < ?1 AND state = 1 ORDER BY acked_at LIMIT ?2)");
  prepare(st_->prune,
          "DELETE FROM job WHERE seq IN (SELECT seq FROM job WHERE acked_at > 0 AND acked_at < ?1 "
          "AND state = 1 ORDER BY acked_at LIMIT ?2)");
}

void journal::create_schema() {
  exec("BEGIN IMMEDIATE");
  try {
    auto first_row = [&](const char* sql) {
      journal_stmt s;
      if (sqlite3_prepare_v2(db_, sql, -1, &s.s, nullptr) != SQLITE_OK) fail_sqlite();
      return sqlite3_step(s.s) == SQLITE_ROW ? std::optional<int>(sqlite3_column_int(s.s, 0))
                                             : std::nullopt;
    };
    int version = first_row("PRAGMA user_version").value_or(0);
    if (version > schema_version)
      throw config_error(
          fmt::format("journal {} was written by a newer cbcs (schema {}, this one knows {})",
                      file_.string(), version, schema_version));
    bool has_v1 =
        first_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").has_value();
    exec(schema);
    if (has_v1 && version < schema_version) exec(migrate_v1);
    if (version != schema_version)
      exec(fmt::format("PRAGMA user_version = {}", schema_version).c_str());
    // One commit (one fsync) when the journal is new or migrated, none after.
    exec("COMMIT");
  } catch (...) {
    rollback();
    throw;
  }
}

journal::~journal() {
  st_.reset();
  if (db_) sqlite3_close(db_);
}

void journal::exec(const char* sql) {
  char* err = nullptr;
  if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw journal_error(fmt::format("journal {}: {}", file_.string(), msg), rc);
  }
}

void journal::fail_sqlite() {
  throw journal_error(fmt::format("journal {}: {}", file_.string(), sqlite3_errmsg(db_)),
                      sqlite3_errcode(db_));
}

void journal::run(journal_stmt& statement) {
  int rc = sqlite3_step(statement.s);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
    sqlite3_reset(statement.s);
    return;
  }
  try {
    fail_sqlite();
  } catch (const journal_error&) {
    sqlite3_reset(statement.s);  // else the rollback that follows finds it still running
    throw;
  }
}

void journal::begin(bool sync) {
  bool want = durable_ && sync;
  if (want != syncing_) {
    exec(want ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    syncing_ = want;
  }
  run(st_->begin);
}
void journal::commit() { run(st_->commit); }

void journal::rollback() noexcept {
  // No statement may keep a read open past a failure: the next BEGIN would
  // meet the old snapshot again (see statement_use).
  for (auto* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s))
    sqlite3_reset(s);
  // SQLite may have rolled back already (SQLITE_FULL does): then this is a no-op.
  if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void journal::set_busy_wait(std::chrono::milliseconds wait) {
  sqlite3_busy_timeout(db_, static_cast<int>(wait.count()));
}

void journal::set_max_pages(std::size_t pages) {
  exec(fmt::format("PRAGMA max_page_count = {}", pages).c_str());
}

journal_entry journal::read_entry(sqlite3_stmt* s) {
  journal_entry e;
  try {
    e.job = protocol::ca::job_from_json(column_text(s, 0));
    e.state = sqlite3_column_int(s, 1) == 1 ? job_state::finished : job_state::accepted;
    e.resume_token = column_text(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL)
      e.result = protocol::ca::outcome_from_json(column_text(s, 3));
    e.acked = sqlite3_column_int64(s, 4) != 0;
  } catch (const std::invalid_argument& ex) {
    throw config_error(
        fmt::format("journal {} holds a damaged entry: {}", file_.string(), ex.what()));
  }
  return e;
}

std::optional<journal_entry> journal::accept(const protocol::ca::job& j) {
  statement_use use(st_->insert);
  auto* s = use.s;
  bind_text(s, 1, j.id);
  bind_text(s, 2, protocol::ca::to_json(j));
  if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
  if (sqlite3_changes(db_) == 1) return std::nullopt;
  return find(j.id);
}

void journal::set_resume_token(const std::string& id, const std::string& token) {
  statement_use use(st_->set_resume);
  auto* s = use.s;
  bind_text(s, 1, id);
  bind_text(s, 2, token);
  if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
}

void journal::finish(const std::string& id, const protocol::ca::outcome& result) {
  statement_use use(st_->finish);
  auto* s = use.s;
  bind_text(s, 1, id);
  if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
  if (sqlite3_changes(db_) == 0) return;
  statement_use result_use(st_->result);
  s = result_use.s;
  bind_text(s, 1, id);
  bind_text(s, 2, protocol::ca::to_json(result));
  if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
}

void journal::acknowledge(const std::string& id, std::chrono::system_clock::time_point at) {
  statement_use use(st_->ack);
  auto* s = use.s;
  bind_text(s, 1, id);
  sqlite3_bind_int64(s, 2, std::chrono::system_clock::to_time_t(at));
  if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
}

std::size_t journal::prune(std::chrono::system_clock::time_point acked_before, std::size_t limit) {
  auto cutoff = std::chrono::system_clock::to_time_t(acked_before);
  // Results first, then their jobs: both select the same rows.
  for (auto* statement : {&st_->prune_results, &st_->prune}) {
    statement_use use(*statement);
    auto* s = use.s;
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(limit));
    if (sqlite3_step(s) != SQLITE_DONE) fail_sqlite();
  }
  return static_cast<std::size_t>(sqlite3_changes(db_));  // jobs removed (reset keeps the count)
}

std::optional<journal_entry> journal::find(const std::string& id) {
  statement_use use(st_->find);
  auto* s = use.s;
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail_sqlite();  // a read error is not "no such job"
  return read_entry(s);
}

std::vector<journal_entry> journal::read_all(journal_stmt& statement) {
  std::vector<journal_entry> out;
  statement_use use(statement);
  auto* s = use.s;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    try {
      out.push_back(read_entry(s));
    } catch (const journal_error&) {
      throw;
    } catch (const config_error&) {
      ++damaged_;  // one damaged row must not hide every other job
    }
  }
  if (rc != SQLITE_DONE) fail_sqlite();
  return out;
}

std::vector<journal_entry> journal::unfinished() { return read_all(st_->unfinished); }

std::vector<journal_entry> journal::unacknowledged_results() { return read_all(st_->unacked); }

std::size_t journal::count() {
  statement_use use(st_->count);
  auto* s = use.s;
  if (sqlite3_step(s) != SQLITE_ROW) return 0;
  return static_cast<std::size_t>(sqlite3_column_int64(s, 0));
}

}  // namespace cbcs::config
