#include "protocol/ca/local/local_ledger.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace cbcs::protocol::ca::local {
namespace {

struct stmt {
  sqlite3_stmt* s = nullptr;
  ~stmt() { sqlite3_finalize(s); }
};

std::string column_text(sqlite3_stmt* s, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string{};
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

}  // namespace

local_ledger::local_ledger(const std::filesystem::path& file) : file_(file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("local CA ledger " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  // An issued certificate must stay on record even through a power cut.
  exec("PRAGMA synchronous=FULL");
  exec(R"sql(
    CREATE TABLE IF NOT EXISTS issued (
      serial TEXT PRIMARY KEY,
      job_id TEXT NOT NULL UNIQUE,
      subject TEXT NOT NULL,
      certificate TEXT NOT NULL,
      issued_at INTEGER NOT NULL DEFAULT (unixepoch()),
      revoked_at INTEGER,
      reason INTEGER
    );
    CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
  )sql");
}

local_ledger::~local_ledger() {
  // An open transaction rolls back: its certificates were never handed out.
  sqlite3_finalize(insert_);
  sqlite3_finalize(by_job_);
  sqlite3_close(db_);
}

void local_ledger::commit() {
  note_rollback();
  if (!open_) return;
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db_);
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    lost_.insert(transaction_);
    open_ = false;
    throw std::runtime_error("local CA ledger " + file_.string() + ": " + msg);
  }
  open_ = false;
}

void local_ledger::note_rollback() {
  // SQLite may end a transaction itself on an error (disk full, I/O).
  if (open_ && sqlite3_get_autocommit(db_)) {
    lost_.insert(transaction_);
    open_ = false;
  }
}

void local_ledger::fail() {
  std::string msg = sqlite3_errmsg(db_);
  note_rollback();
  throw std::runtime_error("local CA ledger " + file_.string() + ": " + msg);
}

void local_ledger::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    note_rollback();
    throw std::runtime_error("local CA ledger " + file_.string() + ": " + msg);
  }
}

std::optional<ledger_record> local_ledger::find(const char* sql, const std::string& key) {
  stmt st;
  sqlite3_prepare_v2(db_, sql, -1, &st.s, nullptr);
  bind_text(st.s, 1, key);
  if (sqlite3_step(st.s) != SQLITE_ROW) return std::nullopt;
  return ledger_record{column_text(st.s, 0), column_text(st.s, 1), column_text(st.s, 2),
                       column_text(st.s, 3), sqlite3_column_type(st.s, 4) != SQLITE_NULL};
}

std::optional<ledger_record> local_ledger::find_by_job(const std::string& job_id) {
  // Every enroll asks this first: the statement is prepared once.
  if (!by_job_ &&
      sqlite3_prepare_v2(
          db_,
          "SELECT serial, job_id, subject, certificate, revoked_at FROM issued WHERE job_id = ?1",
          -1, &by_job_, nullptr) != SQLITE_OK)
    throw std::runtime_error("local CA ledger " + file_.string() + ": " + sqlite3_errmsg(db_));
  sqlite3_reset(by_job_);
  bind_text(by_job_, 1, job_id);
  std::optional<ledger_record> found;
  if (sqlite3_step(by_job_) == SQLITE_ROW)
    found = ledger_record{column_text(by_job_, 0), column_text(by_job_, 1), column_text(by_job_, 2),
                          column_text(by_job_, 3), sqlite3_column_type(by_job_, 4) != SQLITE_NULL};
  sqlite3_reset(by_job_);  // ends its read transaction
  return found;
}

std::optional<ledger_record> local_ledger::find_by_serial(const std::string& serial_hex) {
  return find(
      "SELECT serial, job_id, subject, certificate, revoked_at FROM issued WHERE serial = ?1",
      serial_hex);
}

bool local_ledger::insert(const ledger_record& r) {
  if (!insert_ &&
      sqlite3_prepare_v2(
          db_, "INSERT INTO issued(serial, job_id, subject, certificate) VALUES(?1,?2,?3,?4)", -1,
          &insert_, nullptr) != SQLITE_OK)
    throw std::runtime_error("local CA ledger " + file_.string() + ": " + sqlite3_errmsg(db_));
  note_rollback();
  if (!open_) {
    exec("BEGIN IMMEDIATE");
    ++transaction_;
    open_ = true;
  }
  sqlite3_reset(insert_);
  bind_text(insert_, 1, r.serial_hex);
  bind_text(insert_, 2, r.job_id);
  bind_text(insert_, 3, r.subject);
  bind_text(insert_, 4, r.certificate_pem);
  int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  if (rc == SQLITE_DONE) return true;
  if (rc == SQLITE_CONSTRAINT) return false;
  fail();
}

bool local_ledger::revoke(const std::string& serial_hex, int reason,
                          std::chrono::system_clock::time_point at) {
  stmt st;
  sqlite3_prepare_v2(
      db_,
      "UPDATE issued SET revoked_at = ?2, reason = ?3 WHERE serial = ?1 AND revoked_at IS NULL", -1,
      &st.s, nullptr);
  bind_text(st.s, 1, serial_hex);
  sqlite3_bind_int64(st.s, 2, std::chrono::system_clock::to_time_t(at));
  sqlite3_bind_int(st.s, 3, reason);
  if (sqlite3_step(st.s) != SQLITE_DONE) fail();
  return sqlite3_changes(db_) == 1;
}

std::vector<crypto::revoked_entry> local_ledger::revocations() {
  stmt st;
  sqlite3_prepare_v2(db_,
                     "SELECT serial, revoked_at, reason FROM issued WHERE revoked_at IS NOT NULL",
                     -1, &st.s, nullptr);
  std::vector<crypto::revoked_entry> out;
  while (sqlite3_step(st.s) == SQLITE_ROW)
    out.push_back({column_text(st.s, 0),
                   std::chrono::system_clock::from_time_t(sqlite3_column_int64(st.s, 1)),
                   sqlite3_column_int(st.s, 2)});
  return out;
}

std::uint64_t local_ledger::next_crl_number() {
  exec(
      "INSERT INTO meta(k, v) VALUES('crl_number', 1) "
      "ON CONFLICT(k) DO UPDATE SET v = v + 1");
  stmt st;
  sqlite3_prepare_v2(db_, "SELECT v FROM meta WHERE k = 'crl_number'", -1, &st.s, nullptr);
  sqlite3_step(st.s);
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

std::uint64_t local_ledger::issued_count() {
  stmt st;
  sqlite3_prepare_v2(db_, "SELECT count(*) FROM issued", -1, &st.s, nullptr);
  sqlite3_step(st.s);
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

std::uint64_t local_ledger::revoked_count() {
  stmt st;
  sqlite3_prepare_v2(db_, "SELECT count(*) FROM issued WHERE revoked_at IS NOT NULL", -1, &st.s,
                     nullptr);
  sqlite3_step(st.s);
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

}  // namespace cbcs::protocol::ca::local
