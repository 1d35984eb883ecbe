#include "config/os/file_system.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "config/config_error.hpp"

namespace cbcs::config {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void system_call_failed(std::string_view what, const fs::path& path) {
  throw config_error(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void make_private_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      system_call_failed("cannot create directory", dir);
  }
  if (!fs::is_directory(dir, ec))
    throw config_error(fmt::format("{} is not a directory", dir.string()));
  // Secrets' neighbours stay private even if someone loosened the mode.
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0)
    system_call_failed("directory is open to other users and cannot be restricted:", dir);
}

void write_new_file_durably(const fs::path& file, std::string_view data) {
  fd_guard out{::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (out.fd < 0) system_call_failed("cannot create", file);
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    auto n = ::write(out.fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) system_call_failed("cannot write", file);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(out.fd) != 0) system_call_failed("cannot sync", file);
}

void replace_file_durably(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) system_call_failed("cannot replace", to);
  // The rename is durable only once the directory entry is.
  auto dir = to.parent_path().empty() ? fs::path(".") : to.parent_path();
  fd_guard dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.fd >= 0) ::fsync(dir_fd.fd);
}

exclusive_file_lock::exclusive_file_lock(const fs::path& file) : file_(file), owns_(true) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) system_call_failed("cannot open", file);
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd_);
    errno = err;
    system_call_failed("cannot lock", file);
  }
}

exclusive_file_lock::exclusive_file_lock(const fs::path& file, std::try_to_lock_t) : file_(file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) system_call_failed("cannot open", file);
  // flock, not fcntl: an fcntl lock is dropped when any descriptor of the
  // file closes in this process (SQLite's, a reader's).
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return;
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    errno = err;
    system_call_failed("cannot lock", file);
  }
  owns_ = true;
}

void exclusive_file_lock::write_content(std::string_view text) {
  if (::ftruncate(fd_, 0) != 0) system_call_failed("cannot write", file_);
  auto n = ::pwrite(fd_, text.data(), text.size(), 0);
  if (n < 0 || static_cast<std::size_t>(n) != text.size()) system_call_failed("cannot write", file_);
}

exclusive_file_lock::~exclusive_file_lock() {
  if (fd_ >= 0) ::close(fd_);
}

file_in_use_mark::file_in_use_mark(const fs::path& file) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ >= 0 && ::flock(fd_, LOCK_SH | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;  // unmarked: the file is as exposed as before, nothing worse
  }
}

file_in_use_mark::~file_in_use_mark() {
  if (fd_ >= 0) ::close(fd_);
}

bool remove_unless_in_use(const fs::path& file) {
  fd_guard probe{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (probe.fd < 0) return errno == ENOENT;
  if (::flock(probe.fd, LOCK_EX | LOCK_NB) != 0) return false;  // a live writer's
  return ::unlink(file.c_str()) == 0 || errno == ENOENT;
}

}  // namespace cbcs::config
