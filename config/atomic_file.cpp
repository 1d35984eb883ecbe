#include "config/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/os/file_system.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"

namespace cbcs::config {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view temp_marker = ".tmp-";

[[noreturn]] void fail(std::string_view what, const fs::path& path) {
  throw config_error(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

void write_atomic(const fs::path& path, std::string_view data,
                  const std::function<void()>& before_rename, std::optional<fs::perms> perms) {
  auto temp = path;
  temp += std::string(temp_marker) + crypto::to_hex(crypto::random_bytes(6));
  auto cleanup = [&] {
    std::error_code ec;
    fs::remove(temp, ec);
  };
  try {
    write_new_file_durably(temp, data);
    if (perms) fs::permissions(temp, *perms);
    if (before_rename) before_rename();
    replace_file_durably(temp, path);
  } catch (...) {
    cleanup();
    throw;
  }
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view data,
                       const std::function<void()>& before_rename) {
  write_atomic(path, data, before_rename, std::nullopt);
}

void write_readable_file_atomic(const fs::path& path, std::string_view data) {
  using p = fs::perms;
  write_atomic(path, data, {}, p::owner_read | p::owner_write | p::group_read | p::others_read);
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
