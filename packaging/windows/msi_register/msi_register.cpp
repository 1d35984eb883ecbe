// cbcs_msi_register.dll: the MSI's custom actions (type 1, called by msiexec).
//   CbcsPackRegisterData  immediate: packs INSTALLDIR, the data directory and
//                         the TOKEN / PROXY_* / FORCE properties into CbcsRegister's
//                         CustomActionData (hidden from the log).
//   CbcsRegister          deferred, no impersonation: runs cbcs.exe register
//                         with the secrets on its standard input.
//   CbcsConfigureService  deferred, no impersonation: the service's failure
//                         actions and preshutdown timeout (wixl has no
//                         ServiceConfig element), as cbcs service install
//                         sets them (cli/service/windows_service_config).
//   CbcsStopService       deferred, no impersonation, before StopServices,
//                         when the service's component is removed or
//                         replaced: stops CBCS and waits until its process
//                         has exited, so that DeleteServices and RemoveFiles
//                         never meet it running (Windows' StopServices waits
//                         for STOPPED only, Wine's not at all).
//   The setup wizard's (immediate, in the UI sequence or a dialog's DoAction,
//   in the user's context before elevation):
//   CbcsDetectRegistration  CBCS_REGISTERED=1 when the connector has an
//                         identity (as CbcsRegister decides): an upgrade skips
//                         the token and proxy pages.
//   CbcsCheckToken        the token page's Next: cbcs register's token check;
//                         CBCS_TOKEN_OK=1 or not, CBCS_TOKEN_CHECK the reason.
//   CbcsTestConnection    Test Connection: cbcs proxy test's probe to the
//                         token's SCM; one line in CBCS_PROXY_TEST.
// The decisions live in register_plan.cpp and wizard_checks.cpp (portable,
// unit-tested); this file is the Windows side only.

// msi.h and msiquery.h need windows.h first.
// clang-format off
#include <windows.h>
#include <msi.h>
#include <msiquery.h>
#include <winsvc.h>
// clang-format on

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "action_data.hpp"
#include "cli/service/service_manager.hpp"
#include "cli/service/windows_service_config.hpp"
#include "config/os/windows_text.hpp"
#include "register_plan.hpp"
#include "wizard_checks.hpp"

namespace {

using namespace cbcs::msi;
using cbcs::cli::service::configure_recovery;
using cbcs::cli::service::service_wide_name;
using cbcs::config::to_utf8;
using cbcs::config::to_wide;

// cbcs register answers within its own timeouts (about a minute); this only
// bounds a cbcs.exe that hangs.
constexpr DWORD register_timeout_ms = 180'000;
constexpr std::size_t max_output = 64 * 1024;

void wipe(std::string& s) {
  SecureZeroMemory(s.data(), s.size());
  s.clear();
}

void wipe(std::wstring& s) {
  SecureZeroMemory(s.data(), s.size() * sizeof(wchar_t));
  s.clear();
}

std::string property(MSIHANDLE install, const wchar_t* name) {
  std::wstring buf(256, L'\0');
  DWORD size = static_cast<DWORD>(buf.size());
  UINT rc = MsiGetPropertyW(install, name, buf.data(), &size);
  if (rc == ERROR_MORE_DATA) {
    buf.assign(size + 1, L'\0');
    size = static_cast<DWORD>(buf.size());
    rc = MsiGetPropertyW(install, name, buf.data(), &size);
  }
  if (rc != ERROR_SUCCESS) {
    wipe(buf);
    return {};
  }
  auto out = to_utf8(std::wstring_view(buf.data(), size));
  wipe(buf);
  return out;
}

// One line to the MSI log; as an error, also to the user (with a UI).
// The template is formatted (Wine formats a field's value too): escaped.
void log(MSIHANDLE install, std::string_view text, bool error = false) {
  MSIHANDLE rec = MsiCreateRecord(0);
  if (!rec) return;
  MsiRecordSetStringW(rec, 0, to_wide("CBCS: " + escape_msi_format(text)).c_str());
  // An error is logged as well.
  if (error)
    MsiProcessMessage(install, static_cast<INSTALLMESSAGE>(INSTALLMESSAGE_ERROR | MB_OK), rec);
  else
    MsiProcessMessage(install, INSTALLMESSAGE_INFO, rec);
  MsiCloseHandle(rec);
}

std::string last_error_text(std::string_view what) {
  return std::string(what) + " failed (Windows error " + std::to_string(GetLastError()) + ")";
}

struct handle {
  HANDLE h = nullptr;
  handle() = default;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() { close(); }
  void close() {
    if (h && h != INVALID_HANDLE_VALUE) CloseHandle(h);
    h = nullptr;
  }
};

struct run_result {
  bool started = false;
  bool timed_out = false;
  DWORD exit_code = 1;
  std::string output;  // stdout and stderr, bounded
  std::string error;   // why it did not run
};

// Runs argv with input on its standard input and its output captured.
run_result run_with_input(const std::vector<std::string>& argv, std::string input) {
  run_result r;
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  handle in_read, in_write, out_read, out_write;
  if (!CreatePipe(&in_read.h, &in_write.h, &inherit, 0) ||
      !CreatePipe(&out_read.h, &out_write.h, &inherit, 0)) {
    r.error = last_error_text("CreatePipe");
    wipe(input);
    return r;
  }
  // Only the child's ends are inherited.
  SetHandleInformation(in_write.h, HANDLE_FLAG_INHERIT, 0);
  SetHandleInformation(out_read.h, HANDLE_FLAG_INHERIT, 0);

  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = in_read.h;
  si.hStdOutput = out_write.h;
  si.hStdError = out_write.h;
  PROCESS_INFORMATION pi{};
  auto app = to_wide(argv.front());
  auto line = to_wide(windows_command_line(argv));
  if (!CreateProcessW(app.c_str(), line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                      nullptr, &si, &pi)) {
    r.error = last_error_text("starting " + argv.front());
    wipe(input);
    return r;
  }
  r.started = true;
  handle process, thread;
  process.h = pi.hProcess;
  thread.h = pi.hThread;
  in_read.close();
  out_write.close();

  // A few hundred bytes: the pipe holds them all, the child reads them when it wants.
  DWORD written = 0;
  WriteFile(in_write.h, input.data(), static_cast<DWORD>(input.size()), &written, nullptr);
  wipe(input);
  in_write.close();

  DWORD waited = 0;
  char buf[4096];
  for (;;) {
    DWORD avail = 0;
    while (PeekNamedPipe(out_read.h, nullptr, 0, nullptr, &avail, nullptr) && avail > 0) {
      DWORD got = 0;
      if (!ReadFile(out_read.h, buf, sizeof(buf), &got, nullptr) || got == 0) break;
      if (r.output.size() < max_output) r.output.append(buf, got);
    }
    if (WaitForSingleObject(process.h, 0) == WAIT_OBJECT_0) {
      // What it wrote just before exiting.
      while (PeekNamedPipe(out_read.h, nullptr, 0, nullptr, &avail, nullptr) && avail > 0) {
        DWORD got = 0;
        if (!ReadFile(out_read.h, buf, sizeof(buf), &got, nullptr) || got == 0) break;
        if (r.output.size() < max_output) r.output.append(buf, got);
      }
      break;
    }
    if (waited >= register_timeout_ms) {
      TerminateProcess(process.h, 1);
      WaitForSingleObject(process.h, 5000);
      r.timed_out = true;
      break;
    }
    Sleep(50);
    waited += 50;
  }
  GetExitCodeProcess(process.h, &r.exit_code);
  return r;
}

bool file_exists(const std::string& path) {
  return GetFileAttributesW(to_wide(path).c_str()) != INVALID_FILE_ATTRIBUTES;
}

// Each non-empty line of cbcs's output to the log, secrets masked (cbcs
// prints none: this is a second lock).
void log_output(MSIHANDLE install, const std::string& output,
                const std::vector<std::string_view>& secrets) {
  auto text = redact(output, secrets);
  std::size_t start = 0;
  int lines = 0;
  while (start < text.size() && lines < 20) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    auto line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      log(install, "cbcs register: " + line);
      ++lines;
    }
    start = end + 1;
  }
}

// The service CBCS opened with access, both handles closed on every path;
// error (or missing, when it is not installed) says why svc is null.
struct opened_service {
  SC_HANDLE manager = nullptr;
  SC_HANDLE svc = nullptr;
  bool missing = false;
  std::string error;

  explicit opened_service(DWORD access) {
    manager = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
    if (!manager) {
      error = last_error_text("OpenSCManager");
      return;
    }
    svc = OpenServiceW(manager, service_wide_name, access);
    if (!svc) {
      missing = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST;
      error = last_error_text("OpenService CBCS");
    }
  }
  opened_service(const opened_service&) = delete;
  opened_service& operator=(const opened_service&) = delete;
  ~opened_service() {
    if (svc) CloseServiceHandle(svc);
    if (manager) CloseServiceHandle(manager);
  }
};

}  // namespace

extern "C" __declspec(dllexport) UINT __stdcall CbcsPackRegisterData(MSIHANDLE install) {
  action_fields fields;
  auto data_root = property(install, L"CommonAppDataFolder");
  if (data_root.empty()) {
    log(install, "CommonAppDataFolder is not set", true);
    return ERROR_INSTALL_FAILURE;
  }
  fields.emplace(field_install_dir, property(install, L"INSTALLDIR"));
  fields.emplace(field_data_dir, join_windows_path(data_root, "CBCS"));
  fields.emplace(field_token, property(install, L"TOKEN"));
  fields.emplace(field_proxy_type, property(install, L"PROXY_TYPE"));
  fields.emplace(field_proxy_addr, property(install, L"PROXY_ADDR"));
  fields.emplace(field_proxy_port, property(install, L"PROXY_PORT"));
  fields.emplace(field_proxy_user, property(install, L"PROXY_USER"));
  fields.emplace(field_proxy_password, property(install, L"PROXY_PASSWORD"));
  fields.emplace(field_force, property(install, L"FORCE"));
  auto packed = to_wide(pack_action_data(fields));
  for (auto& [name, value] : fields) wipe(value);
  // The deferred action's CustomActionData is the property named after it.
  UINT rc = MsiSetPropertyW(install, L"CbcsRegister", packed.c_str());
  wipe(packed);
  if (rc != ERROR_SUCCESS) {
    log(install, "cannot hand the properties to the register action", true);
    return ERROR_INSTALL_FAILURE;
  }
  return ERROR_SUCCESS;
}

extern "C" __declspec(dllexport) UINT __stdcall CbcsRegister(MSIHANDLE install) {
  auto data = property(install, L"CustomActionData");
  auto fields = unpack_action_data(data);
  wipe(data);
  if (!fields) {
    log(install, "the register action's data is malformed", true);
    return ERROR_INSTALL_FAILURE;
  }
  auto data_dir = (*fields)[std::string(field_data_dir)];
  auto plan = plan_register(*fields, file_exists(identity_path(data_dir)));
  std::string token = (*fields)[std::string(field_token)];
  std::string password = (*fields)[std::string(field_proxy_password)];
  for (auto& [name, value] : *fields) wipe(value);
  UINT rc = ERROR_SUCCESS;
  if (plan.what == register_plan::kind::skip) {
    log(install, plan.message);
  } else if (plan.what == register_plan::kind::fail) {
    log(install, plan.message + "; the installation is undone", true);
    rc = ERROR_INSTALL_FAILURE;
  } else {
    log(install,
        "registering with SCM: " + redact(windows_command_line(plan.argv), {token, password}));
    auto r = run_with_input(plan.argv, std::move(plan.stdin_text));
    bool ok = r.started && !r.timed_out && r.exit_code == 0;
    // One error (a dialog with a UI): cbcs's own reason; the installation
    // is then rolled back (cbcs register itself leaves the data directory as
    // it was).
    const std::string undone = "; the installation is undone";
    if (!r.started) {
      log(install, "cannot run cbcs register: " + r.error + undone, true);
    } else {
      log_output(install, r.output, {token, password});
      auto reason = redact(failure_reason(r.output), {token, password});
      if (r.timed_out)
        log(install, "cbcs register did not finish within 180 s and was stopped" + undone, true);
      else if (!ok)
        log(install,
            "registration with SCM failed: " +
                (reason.empty() ? "cbcs register exited with " + std::to_string(r.exit_code)
                                : reason) +
                undone,
            true);
    }
    wipe(r.output);
    rc = ok ? ERROR_SUCCESS : ERROR_INSTALL_FAILURE;
  }
  wipe(plan.stdin_text);
  wipe(token);
  wipe(password);
  return rc;
}

extern "C" __declspec(dllexport) UINT __stdcall CbcsConfigureService(MSIHANDLE install) {
  // SERVICE_START: a restart action needs it.
  opened_service service(SERVICE_CHANGE_CONFIG | SERVICE_START);
  if (!service.svc) {
    log(install, service.error, true);
    return ERROR_INSTALL_FAILURE;
  }
  // The settings `cbcs service install` makes: one definition of them.
  auto problem = configure_recovery(service.svc);
  if (!problem.empty()) {
    log(install, "service CBCS: " + problem, true);
    return ERROR_INSTALL_FAILURE;
  }
  log(install, "service CBCS: restart after 5 s (3 times, reset after 1 day), preshutdown 30 s");
  return ERROR_SUCCESS;
}

namespace {

// The drain ends within 25 s (service_host_windows.cpp); a margin beyond it.
constexpr ULONGLONG stop_wait_ms = 60'000;

// Stops the service if it runs and waits for its process to exit, all within
// one 60 s deadline; "" when it is gone or stopped, or what it saw when the
// deadline passed. The process is opened while the service still runs: a
// stopped service reports no process id, and its image stays in use until
// the process has ended (after STOPPED).
std::string stop_and_wait(SC_HANDLE svc) {
  const ULONGLONG deadline = GetTickCount64() + stop_wait_ms;
  HANDLE process = nullptr;
  std::string problem;
  for (;;) {
    SERVICE_STATUS_PROCESS st{};
    DWORD needed = 0;
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof(st),
                              &needed)) {
      problem = last_error_text("QueryServiceStatusEx CBCS");
      break;
    }
    if (!process && st.dwProcessId != 0) process = OpenProcess(SYNCHRONIZE, FALSE, st.dwProcessId);
    if (st.dwCurrentState == SERVICE_STOPPED) break;
    // Sent again until it is taken (a service still starting may refuse it).
    if (st.dwCurrentState != SERVICE_STOP_PENDING) {
      SERVICE_STATUS ignored{};
      ControlService(svc, SERVICE_CONTROL_STOP, &ignored);
    }
    if (GetTickCount64() >= deadline) {
      problem = "not stopped after 60 s (service state " + std::to_string(st.dwCurrentState) + ")";
      break;
    }
    Sleep(100);
  }
  if (process) {
    auto now = GetTickCount64();
    DWORD left = now < deadline ? static_cast<DWORD>(deadline - now) : 0;
    if (problem.empty() && WaitForSingleObject(process, left) != WAIT_OBJECT_0)
      problem = "its process did not exit within 60 s";
    CloseHandle(process);
  }
  return problem;
}

}  // namespace

extern "C" __declspec(dllexport) UINT __stdcall CbcsStopService(MSIHANDLE install) {
  opened_service service(SERVICE_QUERY_STATUS | SERVICE_STOP);
  if (!service.svc) {
    // Not installed (a first install): nothing runs.
    if (service.missing) return ERROR_SUCCESS;
    log(install, service.error, true);
    return ERROR_INSTALL_FAILURE;
  }
  auto problem = stop_and_wait(service.svc);
  // Not a failure: Windows Installer replaces a file in use at the next reboot.
  if (!problem.empty())
    log(install, "service CBCS: " + problem + "; files in use are replaced at the next reboot");
  else
    log(install, "service CBCS: stopped");
  return ERROR_SUCCESS;
}

namespace {

bool set_property(MSIHANDLE install, const wchar_t* name, std::string_view value) {
  return MsiSetPropertyW(install, name, to_wide(value).c_str()) == ERROR_SUCCESS;
}

std::string data_dir_of(MSIHANDLE install) {
  auto root = property(install, L"CommonAppDataFolder");
  return root.empty() ? std::string() : join_windows_path(root, "CBCS");
}

}  // namespace

extern "C" __declspec(dllexport) UINT __stdcall CbcsDetectRegistration(MSIHANDLE install) {
  auto data_dir = data_dir_of(install);
  bool registered = !data_dir.empty() && file_exists(identity_path(data_dir));
  set_property(install, L"CBCS_REGISTERED", registered ? "1" : "");
  log(install, registered ? "the connector is registered: the wizard keeps its identity"
                          : "the connector is not registered yet");
  return ERROR_SUCCESS;
}

extern "C" __declspec(dllexport) UINT __stdcall CbcsCheckToken(MSIHANDLE install) {
  auto token = property(install, L"TOKEN");
  auto verdict = check_token(token, std::chrono::system_clock::now());
  wipe(token);
  set_property(install, L"CBCS_TOKEN_OK", verdict.ok ? "1" : "");
  // Shown by the page's Text control "[CBCS_TOKEN_CHECK]" (a value is not formatted again).
  set_property(install, L"CBCS_TOKEN_CHECK", verdict.line);
  log(install, "token check: " + verdict.line);
  return ERROR_SUCCESS;
}

extern "C" __declspec(dllexport) UINT __stdcall CbcsTestConnection(MSIHANDLE install) {
  wizard_proxy proxy{.type = property(install, L"PROXY_TYPE"),
                     .addr = property(install, L"PROXY_ADDR"),
                     .port = property(install, L"PROXY_PORT"),
                     .user = property(install, L"PROXY_USER"),
                     .password = property(install, L"PROXY_PASSWORD")};
  auto token = property(install, L"TOKEN");
  auto line = test_connection(token, proxy, std::chrono::system_clock::now());
  // A second lock: neither secret ever reaches the page or the log.
  line = redact(std::move(line), {token, proxy.password});
  wipe(token);
  wipe(proxy.password);
  set_property(install, L"CBCS_PROXY_TEST", line);
  log(install, "Test Connection: " + line);
  return ERROR_SUCCESS;
}
