#pragma once
// Files the connector writes: whole or not at all, owner-only.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace cbcs::config {

// Writes data to a temp file beside path, fsyncs it, renames it over path and
// fsyncs the directory, so a crash leaves either the old or the new file.
// before_rename is a test seam: it runs after the temp file is durable.
void write_file_atomic(const std::filesystem::path& path, std::string_view data,
                       const std::function<void()>& before_rename = {});

// The same for a file that holds no secret and that another user must read
// (the metrics file a monitoring agent collects): owner read-write, others
// read, whatever the umask.
void write_readable_file_atomic(const std::filesystem::path& path, std::string_view data);

// Reads a whole file of at most max_size bytes; throws config_error naming the file.
std::string read_file(const std::filesystem::path& path, std::size_t max_size = 16 << 20);

// Removes temp files that an interrupted write_file_atomic left beside path.
void remove_stale_temp_files(const std::filesystem::path& path);

}  // namespace cbcs::config
