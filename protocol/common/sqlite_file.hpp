#pragma once
// A path as SQLite's open functions take it: UTF-8 on every platform (a
// Windows path's c_str() is wide).

#include <filesystem>
#include <string>

namespace cbcs::protocol {

inline std::string sqlite_file_name(const std::filesystem::path& file) {
  auto utf8 = file.u8string();
  return std::string(utf8.begin(), utf8.end());
}

}  // namespace cbcs::protocol
