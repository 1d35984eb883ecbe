#pragma once
// The connector's data directory: config, vault, journal, traces. Owner-only.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace cbcs::config {

class exclusive_file_lock;

class data_dir {
 public:
  // --data-dir, else $CBCS_DATA_DIR, else /var/lib/cbcs (%ProgramData%\CBCS on Windows).
  static std::filesystem::path resolve(const std::optional<std::string>& from_command_line);

  // Opens root, creating it private to the connector when missing (0700;
  // on Windows SYSTEM and Administrators), restricting it when it is not;
  // throws config_error.
  explicit data_dir(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_file() const { return root_ / "config.json"; }
  std::filesystem::path vault_file() const { return root_ / "vault.bin"; }
  std::filesystem::path key_file() const { return root_ / "vault.key"; }
  std::filesystem::path journal_file() const { return root_ / "journal.db"; }
  std::filesystem::path trace_dir() const { return root_ / "trace"; }

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
