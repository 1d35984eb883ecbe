#include "config/data_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "config/config_error.hpp"

#ifndef _WIN32
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace cbcs::config {
namespace fs = std::filesystem;

fs::path data_dir::resolve(const std::optional<std::string>& from_command_line) {
  if (from_command_line && !from_command_line->empty()) return fs::path(*from_command_line);
  if (const char* env = std::getenv("CBCS_DATA_DIR"); env && *env) return fs::path(env);
#ifdef _WIN32
  const char* program_data = std::getenv("ProgramData");
  return fs::path(program_data && *program_data ? program_data : "C:\\ProgramData") / "CBCS";
#else
  return fs::path("/var/lib/cbcs");
#endif
}

data_dir::data_dir(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  if (!fs::exists(root_, ec)) {
    if (root_.has_parent_path()) fs::create_directories(root_.parent_path(), ec);
#ifdef _WIN32
    fs::create_directory(root_, ec);  // ACLs are set by the installer
#else
    if (::mkdir(root_.c_str(), 0700) != 0 && errno != EEXIST)
      throw config_error(
          fmt::format("cannot create data directory {}: {}", root_.string(), std::strerror(errno)));
#endif
  }
  if (!fs::is_directory(root_, ec))
    throw config_error(fmt::format("data directory {} is not a directory", root_.string()));
#ifndef _WIN32
  // Secrets' neighbours stay private even if someone loosened the mode.
  struct stat st {};
  if (::stat(root_.c_str(), &st) == 0 && (st.st_mode & 077) != 0 &&
      ::chmod(root_.c_str(), 0700) != 0)
    throw config_error(
        fmt::format("data directory {} is open to other users and cannot be "
                    "restricted: {}",
                    root_.string(), std::strerror(errno)));
#endif
}

#ifdef _WIN32
data_dir_lock::data_dir_lock(const data_dir&) {}
data_dir_lock::~data_dir_lock() = default;
#else
data_dir_lock::data_dir_lock(const data_dir& dir) {
  auto path = dir.root() / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw config_error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  if (::flock(fd_, LOCK_EX) != 0) {
    ::close(fd_);
    throw config_error(fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
  }
}

data_dir_lock::~data_dir_lock() {
  if (fd_ >= 0) ::close(fd_);
}
#endif

}  // namespace cbcs::config
