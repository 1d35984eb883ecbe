#pragma once
// What the data directory needs from the operating system, one definition per
// platform (file_system_posix.cpp, file_system_windows.cpp, chosen by CMake).
// Each throws config_error with one line naming the path.

#include <filesystem>
#include <mutex>
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
  // Takes the lock only if no other process holds it: owns() says which.
  // The lock dies with its process (a crash never leaves it held).
  exclusive_file_lock(const std::filesystem::path& file, std::try_to_lock_t);
  ~exclusive_file_lock();
  bool owns() const { return owns_; }
  // Replaces the file's content (the holder's pid, for the others to read);
  // the locked range lies beyond it, so that Windows lets them read it.
  void write_content(std::string_view text);
  exclusive_file_lock(const exclusive_file_lock&) = delete;
  exclusive_file_lock& operator=(const exclusive_file_lock&) = delete;

 private:
  std::filesystem::path file_;
  bool owns_ = false;
#ifdef _WIN32
  void* handle_ = nullptr;  // a HANDLE
#else
  int fd_ = -1;  // a descriptor
#endif
};

// Marks a file as written by a live process for as long as it exists, so
// that another process's rotation leaves it (POSIX: a shared flock; on
// Windows the writer's open file already refuses deletion).
class file_in_use_mark {
 public:
  explicit file_in_use_mark(const std::filesystem::path& file);
  ~file_in_use_mark();
  file_in_use_mark(const file_in_use_mark&) = delete;
  file_in_use_mark& operator=(const file_in_use_mark&) = delete;

 private:
  int fd_ = -1;
};

// Removes file unless a live process writes it (a file_in_use_mark, or on
// Windows any open handle); true when it is gone.
bool remove_unless_in_use(const std::filesystem::path& file);

}  // namespace cbcs::config
