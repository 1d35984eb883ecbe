#include "protocol/ca/local/local_ledger.hpp"
#include "protocol/common/sqlite_file.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace cbcs::protocol::ca::local {
namespace {

struct stmt {
  sqlite3_stmt* s = nullptr;
  ~stmt() { sqlite3_finalize(s); }
};

// A statement kept for reuse is reset on every way out: that ends its read.
struct reset_on_exit {
  sqlite3_stmt* s;
  ~reset_on_exit() { sqlite3_reset(s); }
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
  if (sqlite3_open_v2(sqlite_file_name(file).c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    fail(msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
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
  } catch (...) {
    sqlite3_close(db_);  // no destructor runs for a constructor that throws
    throw;
  }
}

local_ledger::~local_ledger() {
  // An open transaction rolls back: its certificates were never handed out.
  sqlite3_finalize(insert_);
  sqlite3_finalize(by_job_);
  sqlite3_finalize(by_serial_);
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
    fail(msg);
  }
  open_ = false;
}

void local_ledger::note_rollback() {
  // SQLite may end a transaction itself on an error (disk full, I/O).
  if (db_ && open_ && sqlite3_get_autocommit(db_)) {
    lost_.insert(transaction_);
    open_ = false;
  }
}

void local_ledger::fail(const std::string& what) {
  std::string msg = !what.empty() ? what : db_ ? sqlite3_errmsg(db_) : "out of memory";
  note_rollback();
  throw std::runtime_error("local CA ledger " + file_.string() + ": " + msg);
}

void local_ledger::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    fail(msg);
  }
}

sqlite3_stmt* local_ledger::prepare(const char* sql, sqlite3_stmt** slot) {
  if (slot && *slot) return *slot;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail();
  if (slot) *slot = s;
  return s;
}

std::optional<ledger_record> local_ledger::find(sqlite3_stmt* s, const std::string& key) {
  reset_on_exit reset{s};
  sqlite3_reset(s);
  bind_text(s, 1, key);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail();  // a read error is not "no such certificate"
  return ledger_record{column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3),
                       sqlite3_column_type(s, 4) != SQLITE_NULL};
}

constexpr const char* record_columns =
    "SELECT serial, job_id, subject, certificate, revoked_at FROM issued ";

std::optional<ledger_record> local_ledger::find_by_job(const std::string& job_id) {
  // Every enroll asks this first: the statement is prepared once.
  static const std::string sql = std::string(record_columns) + "WHERE job_id = ?1";
  return find(prepare(sql.c_str(), &by_job_), job_id);
}

std::optional<ledger_record> local_ledger::find_by_serial(const std::string& serial_hex) {
  static const std::string sql = std::string(record_columns) + "WHERE serial = ?1";
  return find(prepare(sql.c_str(), &by_serial_), serial_hex);
}

bool local_ledger::insert(const ledger_record& r) {
  auto* s = prepare("INSERT INTO issued(serial, job_id, subject, certificate) VALUES(?1,?2,?3,?4)",
                    &insert_);
  note_rollback();
  if (!open_) {
    exec("BEGIN IMMEDIATE");
    ++transaction_;
    open_ = true;
  }
  sqlite3_reset(s);
  bind_text(s, 1, r.serial_hex);
  bind_text(s, 2, r.job_id);
  bind_text(s, 3, r.subject);
  bind_text(s, 4, r.certificate_pem);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT) {
    sqlite3_reset(s);
    return rc == SQLITE_DONE;
  }
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_reset(s);
  fail(msg);
}

bool local_ledger::revoke(const std::string& serial_hex, int reason,
                          std::chrono::system_clock::time_point at) {
  stmt st{prepare(
      "UPDATE issued SET revoked_at = ?2, reason = ?3 WHERE serial = ?1 AND revoked_at IS NULL")};
  bind_text(st.s, 1, serial_hex);
  sqlite3_bind_int64(st.s, 2, std::chrono::system_clock::to_time_t(at));
  sqlite3_bind_int(st.s, 3, reason);
  if (sqlite3_step(st.s) != SQLITE_DONE) fail();
  return sqlite3_changes(db_) == 1;
}

std::vector<crypto::revoked_entry> local_ledger::revocations() {
  stmt st{prepare("SELECT serial, revoked_at, reason FROM issued WHERE revoked_at IS NOT NULL")};
  std::vector<crypto::revoked_entry> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
    out.push_back({column_text(st.s, 0),
                   std::chrono::system_clock::from_time_t(sqlite3_column_int64(st.s, 1)),
                   sqlite3_column_int(st.s, 2)});
  // A CRL missing a revocation would be worse than no CRL.
  if (rc != SQLITE_DONE) fail();
  return out;
}

std::uint64_t local_ledger::single_number(const char* sql) {
  stmt st{prepare(sql)};
  if (sqlite3_step(st.s) != SQLITE_ROW) fail();
  return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

std::uint64_t local_ledger::next_crl_number() {
  exec(
      "INSERT INTO meta(k, v) VALUES('crl_number', 1) "
      "ON CONFLICT(k) DO UPDATE SET v = v + 1");
  return single_number("SELECT v FROM meta WHERE k = 'crl_number'");
}

std::uint64_t local_ledger::issued_count() { return single_number("SELECT count(*) FROM issued"); }

std::uint64_t local_ledger::revoked_count() {
  return single_number("SELECT count(*) FROM issued WHERE revoked_at IS NOT NULL");
}

}  // namespace cbcs::protocol::ca::local
