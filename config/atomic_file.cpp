#include "config/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"

namespace cbcs::config {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view temp_marker = ".tmp-";

[[noreturn]] void fail(std::string_view what, const fs::path& path) {
  throw config_error(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view data,
                       const std::function<void()>& before_rename) {
  auto temp = path;
  temp += std::string(temp_marker) + crypto::to_hex(crypto::random_bytes(6));
  fd_guard file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (file.fd < 0) fail("cannot create", temp);
  auto cleanup = [&] { ::unlink(temp.c_str()); };
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    auto n = ::write(file.fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      cleanup();
      fail("cannot write", temp);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(file.fd) != 0) {
    cleanup();
    fail("cannot sync", temp);
  }
  ::close(file.fd);
  file.fd = -1;
  if (before_rename) {
    try {
      before_rename();
    } catch (...) {
      cleanup();
      throw;
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    cleanup();
    fail("cannot replace", path);
  }
  // The rename is durable only once the directory entry is.
  auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fd_guard dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.fd >= 0) ::fsync(dir_fd.fd);
}

std::string read_file(const fs::path& path, std::size_t max_size) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw config_error(fmt::format("cannot read {}: no such file", path.string()));
  if (!fs::is_regular_file(status))
    throw config_error(fmt::format("cannot read {}: not a regular file", path.string()));
  auto size = fs::file_size(path, ec);
  if (ec) throw config_error(fmt::format("cannot read {}: {}", path.string(), ec.message()));
  if (size > max_size)
    throw config_error(
        fmt::format("cannot read {}: larger than {} bytes", path.string(), max_size));
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open", path);
  std::string out(size, '\0');
  in.read(out.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) fail("cannot read", path);
  return out;
}

void remove_stale_temp_files(const fs::path& path) {
  auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  auto prefix = path.filename().string() + std::string(temp_marker);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().starts_with(prefix)) fs::remove(entry.path(), ec);
}

}  // namespace cbcs::config
