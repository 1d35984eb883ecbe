#pragma once
// The running process as the operating system sees it, one definition per
// platform (this_process_posix.cpp, this_process_windows.cpp).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace cbcs::config {

std::int64_t process_id();

// Whether a process with this id runs (it may be another user's).
bool process_running(std::int64_t pid);

// This machine's host name; "unknown" when the system does not say.
std::string host_name();

// The executable this process runs; nullopt when the system does not say.
std::optional<std::filesystem::path> executable_path();

// "linux" or "windows": the os SCM's registration asks for.
const char* os_family();

// "Debian GNU/Linux 12 (bookworm)", "Windows 10.0.20348": for SCM's inventory.
std::string os_description();

// Ends the process at once, as a crash or a power cut would (no destructors,
// no flush): the crash points of the recovery tests.
[[noreturn]] void terminate_now();

// Files and directories created from now on are the connector's account's
// alone (POSIX: umask 077; Windows: they inherit the data directory's
// protected ACL, make_private_directory).
void keep_new_files_private();

}  // namespace cbcs::config
