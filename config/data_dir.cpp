#include "config/data_dir.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <fstream>
#include <thread>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/os/file_system.hpp"
#include "config/os/this_process.hpp"

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
  try {
    make_private_directory(root_);
  } catch (const config_error& e) {
    throw config_error(fmt::format("data directory: {}", e.what()));
  }
}

data_dir::data_dir(fs::path root, existing_only_t) : root_(std::move(root)) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec))
    throw config_error(fmt::format(
        "data directory {} does not exist (check -data-dir or CBCS_DATA_DIR; cbcs register "
        "creates it)",
        root_.string()));
}

data_dir_lock::data_dir_lock(const data_dir& dir)
    : lock_(std::make_unique<exclusive_file_lock>(dir.root() / ".lock")) {}

data_dir_lock::~data_dir_lock() = default;

namespace {

std::optional<std::int64_t> pid_in(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text(32, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::int64_t pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

service_lock::service_lock(const data_dir& dir) {
  // A few tries: `cbcs status` probes the lock for a moment (holder()).
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(40));
    lock_ = std::make_unique<exclusive_file_lock>(dir.service_lock_file(), std::try_to_lock);
    if (lock_->owns()) break;
  }
  if (!lock_->owns()) {
    auto pid = pid_in(dir.service_lock_file());
    throw config_error(fmt::format(
        "another cbcs run ({}) serves the data directory {}: one service per data directory "
        "(stop it first: cbcs service stop; the CLI's other commands work beside it)",
        pid ? fmt::format("pid {}", *pid) : std::string("pid unknown"), dir.root().string()));
  }
  lock_->write_content(fmt::format("{}\n", process_id()));
}

service_lock::~service_lock() = default;

std::optional<std::int64_t> service_lock::holder(const data_dir& dir) {
  std::error_code ec;
  if (!fs::exists(dir.service_lock_file(), ec)) return std::nullopt;
  exclusive_file_lock probe(dir.service_lock_file(), std::try_to_lock);
  if (probe.owns()) return std::nullopt;  // nobody holds it (ours ends here)
  return pid_in(dir.service_lock_file()).value_or(0);
}

}  // namespace cbcs::config
