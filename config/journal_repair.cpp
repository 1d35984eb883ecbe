#include "config/journal_repair.hpp"

#include <sqlite3.h>

#include <limits>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/journal_schema.hpp"
#include "config/os/file_system.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/sqlite_file.hpp"

namespace cbcs::config {
using journal_sql::bind_text;
using journal_sql::column_text;
using journal_sql::schema;
using journal_sql::schema_version;

namespace {

// A connection of its own, never CREATE: check and repair read a journal as
// it is. No checkpoint on close, queries only: the damaged file (and its WAL)
// stays byte for byte what it was.
struct raw_db {
  sqlite3* db = nullptr;
  raw_db() = default;
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  ~raw_db() {
    if (db) sqlite3_close(db);
  }
};

void open_existing(raw_db& r, const std::filesystem::path& file) {
  if (sqlite3_open_v2(protocol::sqlite_file_name(file).c_str(), &r.db, SQLITE_OPEN_READWRITE,
                      nullptr) != SQLITE_OK)
    throw config_error(fmt::format("journal {}: cannot open: {}", file.string(),
                                   r.db ? sqlite3_errmsg(r.db) : "out of memory"));
  sqlite3_db_config(r.db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_busy_timeout(r.db, 5000);
  sqlite3_exec(r.db, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
}

std::vector<std::string> integrity_problems(sqlite3* db) {
  std::vector<std::string> lines;
  journal_stmt s;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(100)", -1, &s.s, nullptr) != SQLITE_OK)
    return {sqlite3_errmsg(db)};
  int rc = SQLITE_ROW;
  // One line per fact: a row may hold several ("*** in database main ***\nPage 12: ...").
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    auto text = column_text(s.s, 0);
    std::size_t start = 0;
    while (start <= text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  }
  if (rc != SQLITE_DONE) lines.push_back(sqlite3_errmsg(db));
  if (lines.size() == 1 && lines[0] == "ok") lines.clear();
  if (lines.empty()) return {};
  return lines;
}

bool parses_as_job(const std::string& text) {
  try {
    (void)protocol::ca::job_from_json(text);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool parses_as_outcome(const std::string& text) {
  try {
    (void)protocol::ca::outcome_from_json(text);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Reads a rowid table in rowid order through sql ("... WHERE rowid >= ?1
// ORDER BY rowid", the rowid first), calling row for each row read. Where a
// step fails (a damaged page), it seeks again at growing distances past the
// last row read, then narrows down to the first rowid that reads again: one
// bad page loses the rows on it, not every row after it.
template <class Row>
void salvage_rows(sqlite3* db, const char* sql, Row&& row) {
  journal_stmt s;
  if (sqlite3_prepare_v2(db, sql, -1, &s.s, nullptr) != SQLITE_OK) return;
  using i64 = sqlite3_int64;
  constexpr i64 lowest = std::numeric_limits<i64>::min();
  auto probe = [&](i64 from) {
    sqlite3_reset(s.s);
    sqlite3_bind_int64(s.s, 1, from);
    return sqlite3_step(s.s);
  };
  i64 start = lowest;
  for (;;) {
    int rc = probe(start);
    bool any = false;
    i64 last = start;
    while (rc == SQLITE_ROW) {
      i64 id = sqlite3_column_int64(s.s, 0);
      if (!any || id > last) last = id;
      any = true;
      row(s.s);
      rc = sqlite3_step(s.s);
    }
    if (rc == SQLITE_DONE) return;
    i64 base = any ? last : (start == lowest ? 0 : start);
    // Growing jumps until a seek reads a row again (or finds none left).
    i64 failed = base, found = 0;
    bool resumed = false;
    for (i64 delta = 1; delta > 0 && delta <= (i64{1} << 62); delta *= 2) {
      if (base > std::numeric_limits<i64>::max() - delta) return;
      i64 at = base + delta;
      int p = probe(at);
      if (p == SQLITE_DONE) return;
      if (p == SQLITE_ROW) {
        found = at;
        resumed = true;
        break;
      }
      failed = at;
    }
    if (!resumed) return;
    // The first rowid after `failed` from which a seek reads.
    while (found - failed > 1) {
      i64 mid = failed + (found - failed) / 2;
      if (probe(mid) == SQLITE_ROW)
        found = mid;
      else
        failed = mid;
    }
    if (found <= start && start != lowest) return;  // no progress: give up rather than loop
    start = found;
  }
}

std::string utc_stamp() {
  auto secs = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto day = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss time{secs - day};
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

void exec_or_throw(sqlite3* db, const std::filesystem::path& file, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw config_error(fmt::format("journal {}: {}", file.string(), msg));
  }
}

}  // namespace

journal_check_report check_journal(const std::filesystem::path& file) {
  journal_check_report r;
  raw_db db;
  try {
    open_existing(db, file);
  } catch (const config_error& e) {
    r.problems = {e.what()};
    r.count_error = e.what();
    return r;
  }
  r.problems = integrity_problems(db.db);
  r.integrity_ok = r.problems.empty();
  journal_stmt s;
  if (sqlite3_prepare_v2(db.db,
                         "SELECT job.request, job.state, job.resume_token, job_result.result, "
                         "job.acked_at FROM job LEFT JOIN job_result ON job_result.seq = job.seq",
                         -1, &s.s, nullptr) != SQLITE_OK) {
    r.count_error = sqlite3_errmsg(db.db);
    return r;
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(s.s)) == SQLITE_ROW) {
    bool has_result = sqlite3_column_type(s.s, 3) != SQLITE_NULL;
    // What journal::read_entry would refuse (journal::damaged_entries()).
    if (!parses_as_job(column_text(s.s, 0)) ||
        (has_result && !parses_as_outcome(column_text(s.s, 3))))
      ++r.damaged_records;
    if (sqlite3_column_int(s.s, 1) == 1) {
      if (sqlite3_column_int64(s.s, 4) != 0)
        ++r.acknowledged;
      else
        ++r.finished_unacked;
    } else if (!column_text(s.s, 2).empty() || has_result) {
      ++r.pending;
    } else {
      ++r.accepted;
    }
  }
  if (rc == SQLITE_DONE)
    r.counted = true;
  else
    r.count_error = sqlite3_errmsg(db.db);
  return r;
}

journal_repair_result repair_journal(const std::filesystem::path& file) {
  journal_repair_result out;
  struct saved_job {
    std::string id, request, resume_token;
    int state = 0;
    sqlite3_int64 acked_at = 0;
  };
  std::map<sqlite3_int64, saved_job> jobs;
  std::map<sqlite3_int64, std::string> results;
  std::set<sqlite3_int64> known;  // every job seen anywhere, readable or not
  {
    raw_db db;
    open_existing(db, file);
    if (integrity_problems(db.db).empty()) return out;  // healthy: nothing changes
    salvage_rows(db.db,
                 "SELECT seq, id, request, state, resume_token, acked_at FROM job NOT INDEXED "
                 "WHERE seq >= ?1 ORDER BY seq",
                 [&](sqlite3_stmt* s) {
                   auto seq = sqlite3_column_int64(s, 0);
                   known.insert(seq);
                   saved_job j{column_text(s, 1), column_text(s, 2), column_text(s, 4),
                               sqlite3_column_int(s, 3), sqlite3_column_int64(s, 5)};
                   if (j.id.empty() || (j.state != 0 && j.state != 1) ||
                       sqlite3_column_type(s, 2) != SQLITE_TEXT || !parses_as_job(j.request))
                     return;  // a row of garbage: counted lost
                   jobs.emplace(seq, std::move(j));
                 });
    salvage_rows(db.db,
                 "SELECT seq, result FROM job_result NOT INDEXED WHERE seq >= ?1 ORDER BY seq",
                 [&](sqlite3_stmt* s) {
                   auto seq = sqlite3_column_int64(s, 0);
                   auto text = column_text(s, 1);
                   if (parses_as_outcome(text)) results.emplace(seq, std::move(text));
                 });
    // The id index is pages of its own: it names jobs whose rows were lost.
    for (const char* order : {"ASC", "DESC"}) {
      journal_stmt s;
      auto sql = fmt::format("SELECT seq FROM job INDEXED BY sqlite_autoindex_job_1 ORDER BY id {}",
                             order);
      if (sqlite3_prepare_v2(db.db, sql.c_str(), -1, &s.s, nullptr) != SQLITE_OK) continue;
      while (sqlite3_step(s.s) == SQLITE_ROW) known.insert(sqlite3_column_int64(s.s, 0));
    }
    for (const auto& [seq, _] : results) known.insert(seq);
  }
  if (jobs.empty() && known.empty())
    throw config_error(fmt::format(
        "journal {} is damaged and not one job could be read from it; it is left as it is",
        file.string()));

  auto repaired = file;
  repaired += ".repaired";
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    auto leftover = repaired;
    leftover += suffix;
    std::filesystem::remove(leftover, ec);
  }
  {
    raw_db db;
    if (sqlite3_open_v2(protocol::sqlite_file_name(repaired).c_str(), &db.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
      throw config_error(fmt::format("journal {}: cannot create: {}", repaired.string(),
                                     db.db ? sqlite3_errmsg(db.db) : "out of memory"));
    // A rollback journal while it is written: the finished file stands alone
    // (no WAL beside it); the journal turns it to WAL when it opens it.
    exec_or_throw(db.db, repaired, "PRAGMA journal_mode=DELETE");
    exec_or_throw(db.db, repaired, "PRAGMA synchronous=FULL");
    exec_or_throw(db.db, repaired, "BEGIN IMMEDIATE");
    exec_or_throw(db.db, repaired, schema);
    exec_or_throw(db.db, repaired, fmt::format("PRAGMA user_version = {}", schema_version).c_str());
    journal_stmt ins, res;
    if (sqlite3_prepare_v2(db.db,
                           "INSERT OR IGNORE INTO job(seq, id, request, state, resume_token, "
                           "acked_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                           -1, &ins.s, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db.db, "INSERT INTO job_result(seq, result) VALUES(?1, ?2)", -1, &res.s,
                           nullptr) != SQLITE_OK)
      throw config_error(fmt::format("journal {}: {}", repaired.string(), sqlite3_errmsg(db.db)));
    for (auto& [seq, j] : jobs) {
      auto result = results.find(seq);
      // A finished result nobody holds yet, lost with its page: the job runs
      // again (its CA's idempotency answers), as after a lost commit.
      if (j.state == 1 && result == results.end() && j.acked_at == 0) {
        j.state = 0;
        ++out.results_lost;
      }
      sqlite3_reset(ins.s);
      sqlite3_bind_int64(ins.s, 1, seq);
      bind_text(ins.s, 2, j.id);
      bind_text(ins.s, 3, j.request);
      sqlite3_bind_int(ins.s, 4, j.state);
      bind_text(ins.s, 5, j.resume_token);
      sqlite3_bind_int64(ins.s, 6, j.acked_at);
      if (sqlite3_step(ins.s) != SQLITE_DONE)
        throw config_error(fmt::format("journal {}: {}", repaired.string(), sqlite3_errmsg(db.db)));
      if (sqlite3_changes(db.db) != 1) continue;  // a second row with the same id
      ++out.jobs_saved;
      if (result == results.end()) continue;
      sqlite3_reset(res.s);
      sqlite3_bind_int64(res.s, 1, seq);
      bind_text(res.s, 2, result->second);
      if (sqlite3_step(res.s) != SQLITE_DONE)
        throw config_error(fmt::format("journal {}: {}", repaired.string(), sqlite3_errmsg(db.db)));
      ++out.results_saved;
    }
    exec_or_throw(db.db, repaired, "COMMIT");  // synchronous=FULL: on the disk when it returns
    if (auto problems = integrity_problems(db.db); !problems.empty())
      throw config_error(fmt::format("journal {}: the copy fails its own check: {}",
                                     repaired.string(), problems.front()));
  }
  out.jobs_lost = known.size() > out.jobs_saved ? known.size() - out.jobs_saved : 0;

  // The damaged file and its WAL and shared memory aside, together; then the copy in place.
  out.damaged_kept = file;
  out.damaged_kept += ".damaged-" + utc_stamp();
  replace_file_durably(file, out.damaged_kept);
  for (const char* suffix : {"-wal", "-shm"}) {
    auto side = file;
    side += suffix;
    if (!std::filesystem::exists(side, ec)) continue;
    auto kept = out.damaged_kept;
    kept += suffix;
    replace_file_durably(side, kept);
  }
  replace_file_durably(repaired, file);
  out.repaired = true;
  return out;
}

}  // namespace cbcs::config
