#pragma once
// The local CA's serial ledger: every certificate it issued, by serial and by
// job id, and its revocations. A job id maps to at most one certificate: a
// certificate leaves the CA only after its record is committed (group commit
// of many records per fsync), whatever crashes in between.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/certificate_authority.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cbcs::protocol::ca::local {

struct ledger_record {
  std::string serial_hex;
  std::string job_id;
  std::string subject;
  std::string certificate_pem;
  bool revoked = false;
};

class local_ledger {
 public:
  explicit local_ledger(const std::filesystem::path& file);
  ~local_ledger();
  local_ledger(const local_ledger&) = delete;
  local_ledger& operator=(const local_ledger&) = delete;

  std::optional<ledger_record> find_by_job(const std::string& job_id);
  std::optional<ledger_record> find_by_serial(const std::string& serial_hex);
  // False when the serial exists already (the caller draws another). The
  // record joins the open transaction (begun here when none is): it is
  // durable only after commit(), and lost with the transaction if the
  // process dies first (then nobody has seen the certificate either).
  bool insert(const ledger_record& r);
  // Commits the open transaction with one fsync; no-op when none is open.
  // Throws when it fails; that transaction is then lost.
  void commit();
  // Transactions are numbered. A record joins the current one; a transaction
  // SQLite rolled back (disk full, I/O error: it may take the whole
  // transaction with a failed statement) is lost with every record in it.
  std::uint64_t current_transaction() const { return transaction_; }
  bool lost(std::uint64_t transaction) const { return lost_.count(transaction) > 0; }
  // False when it was revoked before.
  bool revoke(const std::string& serial_hex, int reason, std::chrono::system_clock::time_point at);
  std::vector<crypto::revoked_entry> revocations();
  std::uint64_t next_crl_number();
  std::uint64_t issued_count();
  std::uint64_t revoked_count();

 private:
  void exec(const char* sql);
  void note_rollback();  // the open transaction ended behind our back: lost
  // Notes a rolled-back transaction, throws with SQLite's reason (or `what`).
  [[noreturn]] void fail(const std::string& what = {});
  // Prepares once into `slot` (null: a statement of the caller's to finalize).
  sqlite3_stmt* prepare(const char* sql, sqlite3_stmt** slot = nullptr);
  std::optional<ledger_record> find(sqlite3_stmt* s, const std::string& key);
  std::uint64_t single_number(const char* sql);

  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* by_job_ = nullptr;
  sqlite3_stmt* by_serial_ = nullptr;
  std::uint64_t transaction_ = 0;
  bool open_ = false;
  std::set<std::uint64_t> lost_;
};

}  // namespace cbcs::protocol::ca::local
