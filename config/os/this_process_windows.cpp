#include "config/os/this_process.hpp"

#include <windows.h>

#include <fmt/format.h>

namespace cbcs::config {

std::int64_t process_id() { return static_cast<std::int64_t>(GetCurrentProcessId()); }

bool process_running(std::int64_t pid) {
  if (pid <= 0 || pid > 0xFFFFFFFF) return false;
  HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!h) return GetLastError() == ERROR_ACCESS_DENIED;  // there, but not ours to open
  DWORD code = 0;
  bool running = GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
  CloseHandle(h);
  return running;
}

std::string host_name() {
  char buf[256] = {};
  DWORD size = sizeof buf;
  if (!GetComputerNameExA(ComputerNameDnsHostname, buf, &size) || size == 0) return "unknown";
  return std::string(buf, size);
}

std::optional<std::filesystem::path> executable_path() {
  std::wstring buffer(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (n == 0) return std::nullopt;
    if (n < buffer.size()) return std::filesystem::path(buffer.substr(0, n));
    if (buffer.size() >= 32768) return std::nullopt;
    buffer.resize(buffer.size() * 2);
  }
}

const char* os_family() { return "windows"; }

std::string os_description() {
  // GetVersionEx lies to unmanifested programs; ntdll's RtlGetVersion does not.
  using rtl_get_version = LONG(WINAPI*)(OSVERSIONINFOW*);
  OSVERSIONINFOW info{};
  info.dwOSVersionInfoSize = sizeof info;
  if (HMODULE ntdll = GetModuleHandleW(L"ntdll.dll")) {
    auto get = reinterpret_cast<rtl_get_version>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")));
    if (get && get(&info) == 0)
      return fmt::format("Windows {}.{}.{}", info.dwMajorVersion, info.dwMinorVersion,
                         info.dwBuildNumber);
  }
  return "Windows";
}

void terminate_now() {
  TerminateProcess(GetCurrentProcess(), 137);
  ExitProcess(137);
}

// Nothing to set per process: new files inherit the data directory's
// protected ACL (make_private_directory), which is what umask gives on POSIX.
void keep_new_files_private() {}

}  // namespace cbcs::config
