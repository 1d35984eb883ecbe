#include "cli/child_process.hpp"

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <csignal>

#include <fmt/format.h>

#include "cli/errors.hpp"
#include "config/os/windows_command_line.hpp"
#include "config/os/windows_error.hpp"
#include "config/os/windows_text.hpp"

namespace cbcs::cli {
namespace {

HANDLE inheritable_file(const std::wstring& path, DWORD access, DWORD disposition) {
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  return CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                     disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
}

}  // namespace

child_process::child_process(const std::vector<std::string>& argv, bool capture_stdout,
                             const std::string& stderr_file, bool stderr_to_stdout) {
  SECURITY_ATTRIBUTES inherit{sizeof inherit, nullptr, TRUE};
  HANDLE read_end = nullptr, write_end = nullptr;
  if (capture_stdout) {
    if (!CreatePipe(&read_end, &write_end, &inherit, 0))
      throw operation_error("cannot create a pipe: " + config::windows_error_text(GetLastError()));
    SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);  // ours alone
  }
  HANDLE null_out =
      capture_stdout ? nullptr : inheritable_file(L"NUL", GENERIC_WRITE, OPEN_EXISTING);
  HANDLE err = nullptr;
  if (!stderr_file.empty()) {
    err = inheritable_file(config::to_wide(stderr_file), FILE_APPEND_DATA, OPEN_ALWAYS);
  }
  STARTUPINFOW si{};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = capture_stdout ? write_end : null_out;
  si.hStdError = stderr_to_stdout && capture_stdout   ? write_end
                 : err && err != INVALID_HANDLE_VALUE ? err
                                                      : GetStdHandle(STD_ERROR_HANDLE);
  auto line = config::to_wide(config::windows_command_line(argv));
  PROCESS_INFORMATION pi{};
  // Its own process group: signal() can send it Ctrl+Break alone.
  BOOL ok = CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, CREATE_NEW_PROCESS_GROUP,
                           nullptr, nullptr, &si, &pi);
  DWORD start_error = ok ? 0 : GetLastError();
  if (write_end) CloseHandle(write_end);
  if (null_out && null_out != INVALID_HANDLE_VALUE) CloseHandle(null_out);
  if (err && err != INVALID_HANDLE_VALUE) CloseHandle(err);
  if (!ok) {
    if (read_end) CloseHandle(read_end);
    throw operation_error(fmt::format("cannot start {}: {}", argv.empty() ? "" : argv[0],
                                      config::windows_error_text(start_error)));
  }
  CloseHandle(pi.hThread);
  process_ = pi.hProcess;
  pid_ = static_cast<pid_t>(pi.dwProcessId);
  if (read_end)
    out_fd_ = _open_osfhandle(reinterpret_cast<intptr_t>(read_end), _O_RDONLY | _O_BINARY);
}

child_process::~child_process() {
  if (process_) {
    TerminateProcess(static_cast<HANDLE>(process_), 137);
    WaitForSingleObject(static_cast<HANDLE>(process_), INFINITE);
    CloseHandle(static_cast<HANDLE>(process_));
  }
  if (out_fd_ >= 0) _close(out_fd_);
}

void child_process::signal(int sig) {
  if (!process_) return;
  // SIGINT and SIGTERM ask it to stop (cbcs run drains on Ctrl+Break);
  // anything else ends it at once.
  if ((sig == SIGINT || sig == SIGTERM) &&
      GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, static_cast<DWORD>(pid_)))
    return;
  TerminateProcess(static_cast<HANDLE>(process_), 128 + static_cast<UINT>(sig));
}

int child_process::wait() {
  if (!process_) return exit_status_;
  auto h = static_cast<HANDLE>(process_);
  WaitForSingleObject(h, INFINITE);
  DWORD code = 0;
  GetExitCodeProcess(h, &code);
  CloseHandle(h);
  process_ = nullptr;
  pid_ = -1;
  exit_status_ = static_cast<int>(code);
  return exit_status_;
}

bool child_process::running() {
  if (!process_) return false;
  if (WaitForSingleObject(static_cast<HANDLE>(process_), 0) == WAIT_TIMEOUT) return true;
  wait();
  return false;
}

}  // namespace cbcs::cli
