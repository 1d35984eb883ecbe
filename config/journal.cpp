#include "config/journal.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "protocol/ca/job_codec.hpp"

namespace cbcs::config {
namespace {

// One transaction: one commit (fsync) when the journal is new, none after.
constexpr const char* schema = R"sql(
BEGIN;
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  request TEXT NOT NULL,
  state INTEGER NOT NULL,
  resume_token TEXT NOT NULL DEFAULT '',
  result TEXT,
  acked INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_open ON jobs(state) WHERE state = 0;
CREATE INDEX IF NOT EXISTS jobs_unacked ON jobs(acked) WHERE acked = 0 AND state = 1;
COMMIT;
)sql";

}  // namespace

// Named, not anonymous: journal::statements holds them.
struct journal_stmt {
  sqlite3_stmt* s = nullptr;
  ~journal_stmt() { sqlite3_finalize(s); }
};

struct journal::statements {
  journal_stmt insert, find, set_resume, finish, ack, unfinished, unacked, count;
};

journal::journal(const std::filesystem::path& file, bool durable_commits)
    : file_(file), durable_(durable_commits), syncing_(durable_commits) {
  auto fail = [&](const std::string& what) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw config_error(fmt::format("journal {}: {}: {}", file_.string(), what, msg));
  };
  if (sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec(durable_commits ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    exec(schema);
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
  prepare(st_->insert, "INSERT OR IGNORE INTO jobs(id, request, state) VALUES(?1, ?2, 0)");
  prepare(st_->find, "SELECT request, state, resume_token, result, acked FROM jobs WHERE id = ?1");
  prepare(st_->set_resume, "UPDATE jobs SET resume_token = ?2 WHERE id = ?1");
  prepare(st_->finish, "UPDATE jobs SET state = 1, result = ?2 WHERE id = ?1");
  prepare(st_->ack, "UPDATE jobs SET acked = 1 WHERE id = ?1");
  prepare(st_->unfinished,
          "SELECT request, state, resume_token, result, acked FROM jobs WHERE state = 0");
  prepare(st_->unacked,
          "SELECT request, state, resume_token, result, acked FROM jobs WHERE acked = 0 AND "
          "state = 1");
  prepare(st_->count, "SELECT count(*) FROM jobs");
}

journal::~journal() {
  st_.reset();
  if (db_) sqlite3_close(db_);
}

void journal::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw config_error(fmt::format("journal {}: {}", file_.string(), msg));
  }
}

void journal::begin(bool sync) {
  bool want = durable_ && sync;
  if (want != syncing_) {
    exec(want ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    syncing_ = want;
  }
  exec("BEGIN IMMEDIATE");
}
void journal::commit() { exec("COMMIT"); }

namespace {

// Not "bind": with <functional> in sight, ADL would pick std::bind for a
// temporary string and bind nothing.
void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string{};
}

}  // namespace

journal_entry journal::read_entry(sqlite3_stmt* s) {
  journal_entry e;
  try {
    e.job = protocol::ca::job_from_json(column_text(s, 0));
    e.state = sqlite3_column_int(s, 1) == 1 ? job_state::finished : job_state::accepted;
    e.resume_token = column_text(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL)
      e.result = protocol::ca::outcome_from_json(column_text(s, 3));
    e.acked = sqlite3_column_int(s, 4) != 0;
  } catch (const std::invalid_argument& ex) {
    throw config_error(
        fmt::format("journal {} holds a damaged entry: {}", file_.string(), ex.what()));
  }
  return e;
}

std::optional<journal_entry> journal::accept(const protocol::ca::job& j) {
  auto* s = st_->insert.s;
  sqlite3_reset(s);
  bind_text(s, 1, j.id);
  bind_text(s, 2, protocol::ca::to_json(j));
  if (sqlite3_step(s) != SQLITE_DONE)
    throw config_error(fmt::format("journal {}: {}", file_.string(), sqlite3_errmsg(db_)));
  if (sqlite3_changes(db_) == 1) return std::nullopt;
  return find(j.id);
}

void journal::set_resume_token(const std::string& id, const std::string& token) {
  auto* s = st_->set_resume.s;
  sqlite3_reset(s);
  bind_text(s, 1, id);
  bind_text(s, 2, token);
  if (sqlite3_step(s) != SQLITE_DONE)
    throw config_error(fmt::format("journal {}: {}", file_.string(), sqlite3_errmsg(db_)));
}

void journal::finish(const std::string& id, const protocol::ca::outcome& result) {
  auto* s = st_->finish.s;
  sqlite3_reset(s);
  bind_text(s, 1, id);
  bind_text(s, 2, protocol::ca::to_json(result));
  if (sqlite3_step(s) != SQLITE_DONE)
    throw config_error(fmt::format("journal {}: {}", file_.string(), sqlite3_errmsg(db_)));
}

void journal::acknowledge(const std::string& id) {
  auto* s = st_->ack.s;
  sqlite3_reset(s);
  bind_text(s, 1, id);
  if (sqlite3_step(s) != SQLITE_DONE)
    throw config_error(fmt::format("journal {}: {}", file_.string(), sqlite3_errmsg(db_)));
}

std::optional<journal_entry> journal::find(const std::string& id) {
  auto* s = st_->find.s;
  sqlite3_reset(s);
  bind_text(s, 1, id);
  if (sqlite3_step(s) != SQLITE_ROW) return std::nullopt;
  return read_entry(s);
}

std::vector<journal_entry> journal::unfinished() {
  std::vector<journal_entry> out;
  auto* s = st_->unfinished.s;
  sqlite3_reset(s);
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(read_entry(s));
  return out;
}

std::vector<journal_entry> journal::unacknowledged_results() {
  std::vector<journal_entry> out;
  auto* s = st_->unacked.s;
  sqlite3_reset(s);
  while (sqlite3_step(s) == SQLITE_ROW) out.push_back(read_entry(s));
  return out;
}

std::size_t journal::count() {
  auto* s = st_->count.s;
  sqlite3_reset(s);
  if (sqlite3_step(s) != SQLITE_ROW) return 0;
  return static_cast<std::size_t>(sqlite3_column_int64(s, 0));
}

}  // namespace cbcs::config
