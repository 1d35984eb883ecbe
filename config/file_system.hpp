#pragma once
// What the data directory needs from the operating system, one definition per
// platform (file_system_posix.cpp, file_system_windows.cpp, chosen by CMake).
// Each throws config_error with one line naming the path.

#include <filesystem>
#include <string_view>

namespace cbcs::config {

// Creates dir (and its parents) for the connector's account alone, or
// restricts an existing one that is open to others. POSIX: mode 0700.
// Windows: a protected ACL for SYSTEM and Administrators only, inherited by
// everything created inside.
void make_private_directory(const std::filesystem::path& dir);

// Creates file (it must not exist), writes data and flushes it to the disk.
void write_new_file_durably(const std::filesystem::path& file, std::string_view data);

// Renames from over to; when it returns, the rename survives a power loss.
void replace_file_durably(const std::filesystem::path& from, const std::filesystem::path& to);

// An exclusive lock on a file (created when missing), held until destruction;
// it blocks while another process holds it.
class exclusive_file_lock {
 public:
  explicit exclusive_file_lock(const std::filesystem::path& file);
  ~exclusive_file_lock();
  exclusive_file_lock(const exclusive_file_lock&) = delete;
  exclusive_file_lock& operator=(const exclusive_file_lock&) = delete;

 private:
  void* handle_ = nullptr;  // a HANDLE on Windows
  int fd_ = -1;             // a descriptor on POSIX
};

}  // namespace cbcs::config
