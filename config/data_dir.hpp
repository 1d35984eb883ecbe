#pragma once
// The connector's data directory: config, vault, journal, traces. Owner-only.

#include <filesystem>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cbcs::config {

class exclusive_file_lock;

// Files of a data directory by its root, for code given only the root (the
// actors): the one place their names are written.
inline std::filesystem::path journal_file(const std::filesystem::path& root) {
  return root / "journal.db";
}
// Written by `cbcs run`, read by `cbcs status`.
inline std::filesystem::path scm_status_file(const std::filesystem::path& root) {
  return root / "scm_status.json";
}

class data_dir {
 public:
  // --data-dir, else $CBCS_DATA_DIR, else /var/lib/cbcs (%ProgramData%\CBCS on Windows).
  static std::filesystem::path resolve(const std::optional<std::string>& from_command_line);

  // Opens root, creating it private to the connector when missing (0700;
  // on Windows SYSTEM and Administrators), restricting it when it is not;
  // throws config_error.
  explicit data_dir(std::filesystem::path root);
  // Opens root only if it is there: a command that only reads (status, list,
  // show, trace) never creates a mistyped -data-dir or /var/lib/cbcs.
  struct existing_only_t {};
  static constexpr existing_only_t existing_only{};
  data_dir(std::filesystem::path root, existing_only_t);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_file() const { return root_ / "config.json"; }
  std::filesystem::path vault_file() const { return root_ / "vault.bin"; }
  std::filesystem::path key_file() const { return root_ / "vault.key"; }
  std::filesystem::path journal_file() const { return config::journal_file(root_); }
  std::filesystem::path scm_status_file() const { return config::scm_status_file(root_); }
  // Written by `cbcs run` for a monitoring agent (unless -metrics-file).
  std::filesystem::path metrics_file() const { return root_ / "metrics.prom"; }
  std::filesystem::path trace_dir() const { return root_ / "trace"; }
  std::filesystem::path service_lock_file() const { return root_ / "service.lock"; }

 private:
  std::filesystem::path root_;
};

// Holds an exclusive lock on the data directory so that two commands never
// change config and vault at the same time. Released on destruction.
class data_dir_lock {
 public:
  explicit data_dir_lock(const data_dir& dir);
  ~data_dir_lock();
  data_dir_lock(const data_dir_lock&) = delete;
  data_dir_lock& operator=(const data_dir_lock&) = delete;

 private:
  std::unique_ptr<exclusive_file_lock> lock_;
};

}  // namespace cbcs::config

namespace cbcs::config {

// Held by the one `cbcs run` of a data directory for its whole life: two
// services on one directory would take turns on SCM's session and write the
// same journal. An OS lock, so it dies with its process; the file holds the
// holder's pid. The CLI's other commands do not take it.
class service_lock {
 public:
  // Throws config_error naming the pid of the service that holds it.
  explicit service_lock(const data_dir& dir);
  ~service_lock();
  service_lock(const service_lock&) = delete;
  service_lock& operator=(const service_lock&) = delete;

  // The pid of the service holding dir's lock, or nullopt when none does.
  static std::optional<std::int64_t> holder(const data_dir& dir);

 private:
  std::unique_ptr<exclusive_file_lock> lock_;
};

}  // namespace cbcs::config
