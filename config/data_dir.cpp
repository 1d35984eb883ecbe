#include "config/data_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/file_system.hpp"

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

data_dir_lock::data_dir_lock(const data_dir& dir)
    : lock_(std::make_unique<exclusive_file_lock>(dir.root() / ".lock")) {}

data_dir_lock::~data_dir_lock() = default;

}  // namespace cbcs::config
