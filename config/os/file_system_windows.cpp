#include "config/os/file_system.hpp"

// <windows.h> must come before the headers that use its types.
// clang-format off
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
// clang-format on

#include <memory>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/os/windows_error.hpp"

namespace cbcs::config {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void system_call_failed(std::string_view what, const fs::path& path,
                                     DWORD code = GetLastError()) {
  throw config_error(fmt::format("{} {}: {}", what, path.string(), windows_error_text(code)));
}

struct handle_guard {
  HANDLE h;
  ~handle_guard() {
    if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  }
};

// The account this process runs as, as an SDDL SID string ("S-1-5-18" for SYSTEM).
std::wstring own_sid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return {};
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::unique_ptr<BYTE[]> buffer(new BYTE[size ? size : 1]);
  std::wstring out;
  if (GetTokenInformation(token, TokenUser, buffer.get(), size, &size)) {
    wchar_t* text = nullptr;
    if (ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.get())->User.Sid, &text)) {
      out = text;
      LocalFree(text);
    }
  }
  CloseHandle(token);
  return out;
}

// Protected (nothing inherited from above), inherited below: full control for
// SYSTEM, Administrators and the account running cbcs (SYSTEM as a service; a
// developer's own account otherwise, who would else be locked out).
std::wstring private_dacl_sddl() {
  std::wstring sddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
  auto me = own_sid();
  if (!me.empty() && me != L"S-1-5-18") sddl += L"(A;OICI;FA;;;" + me + L")";
  return sddl;
}

}  // namespace

void make_private_directory(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path() && !fs::exists(dir.parent_path(), ec))
    fs::create_directories(dir.parent_path(), ec);
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(private_dacl_sddl().c_str(),
                                                            SDDL_REVISION_1, &sd, nullptr))
    system_call_failed("cannot build the access list for", dir);
  std::unique_ptr<void, decltype(&LocalFree)> sd_guard(sd, LocalFree);
  SECURITY_ATTRIBUTES attributes{sizeof attributes, sd, FALSE};
  if (CreateDirectoryW(dir.c_str(), &attributes)) return;
  if (GetLastError() != ERROR_ALREADY_EXISTS) system_call_failed("cannot create directory", dir);
  if (!fs::is_directory(dir, ec))
    throw config_error(fmt::format("{} is not a directory", dir.string()));
  // An existing directory gets the same list, whoever loosened it.
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = nullptr;
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  std::wstring name = dir.wstring();
  DWORD err = SetNamedSecurityInfoW(name.data(), SE_FILE_OBJECT,
                                    DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                    nullptr, nullptr, dacl, nullptr);
  if (err != ERROR_SUCCESS)
    system_call_failed("directory cannot be restricted to SYSTEM and Administrators:", dir, err);
}

void write_new_file_durably(const fs::path& file, std::string_view data) {
  handle_guard out{CreateFileW(file.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW,
                               FILE_ATTRIBUTE_NORMAL, nullptr)};
  if (out.h == INVALID_HANDLE_VALUE) system_call_failed("cannot create", file);
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    DWORD chunk = left > (1u << 30) ? (1u << 30) : static_cast<DWORD>(left);
    DWORD written = 0;
    if (!WriteFile(out.h, p, chunk, &written, nullptr)) system_call_failed("cannot write", file);
    p += written;
    left -= written;
  }
  if (!FlushFileBuffers(out.h)) system_call_failed("cannot sync", file);
}

void replace_file_durably(const fs::path& from, const fs::path& to) {
  // WRITE_THROUGH: returns once the rename is on the disk.
  if (!MoveFileExW(from.c_str(), to.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    system_call_failed("cannot replace", to);
}

exclusive_file_lock::exclusive_file_lock(const fs::path& file) : file_(file), owns_(true) {
  HANDLE h =
      CreateFileW(file.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) system_call_failed("cannot open", file);
  OVERLAPPED whole{};
  if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK, 0, MAXDWORD, MAXDWORD, &whole)) {
    DWORD err = GetLastError();
    CloseHandle(h);
    system_call_failed("cannot lock", file, err);
  }
  handle_ = h;
}

exclusive_file_lock::exclusive_file_lock(const fs::path& file, std::try_to_lock_t) : file_(file) {
  HANDLE h =
      CreateFileW(file.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
                  nullptr, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) system_call_failed("cannot open", file);
  handle_ = h;
  // One byte at 4 GiB, past any content: a Windows lock is mandatory, and
  // the others must still read the holder's pid at the start.
  OVERLAPPED far_byte{};
  far_byte.OffsetHigh = 1;
  if (LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &far_byte)) {
    owns_ = true;
    return;
  }
  DWORD err = GetLastError();
  if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) return;
  CloseHandle(h);
  handle_ = nullptr;
  system_call_failed("cannot lock", file, err);
}

void exclusive_file_lock::write_content(std::string_view text) {
  auto h = static_cast<HANDLE>(handle_);
  LARGE_INTEGER start{};
  DWORD written = 0;
  if (!SetFilePointerEx(h, start, nullptr, FILE_BEGIN) ||
      !WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &written, nullptr) ||
      written != text.size() || !SetEndOfFile(h))
    system_call_failed("cannot write", file_);
}

exclusive_file_lock::~exclusive_file_lock() {
  if (handle_) CloseHandle(static_cast<HANDLE>(handle_));  // releases the lock
}

// The writer's open stream (no FILE_SHARE_DELETE) is the mark on Windows.
file_in_use_mark::file_in_use_mark(const fs::path&) {}
file_in_use_mark::~file_in_use_mark() = default;

bool remove_unless_in_use(const fs::path& file) {
  return DeleteFileW(file.c_str()) || GetLastError() == ERROR_FILE_NOT_FOUND;
}

}  // namespace cbcs::config
