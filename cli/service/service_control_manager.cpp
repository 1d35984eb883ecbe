#include "cli/service/service_control_manager.hpp"

#include <windows.h>

#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "actors/trace/event_log.hpp"
#include "cli/service/windows_service_config.hpp"
#include "config/os/windows_error.hpp"

namespace cbcs::cli::service {
namespace {

using namespace std::chrono_literals;

struct sc_handle {
  SC_HANDLE h = nullptr;
  explicit sc_handle(SC_HANDLE handle) : h(handle) {}
  sc_handle(sc_handle&& other) noexcept : h(std::exchange(other.h, nullptr)) {}
  ~sc_handle() {
    if (h) CloseServiceHandle(h);
  }
  sc_handle(const sc_handle&) = delete;
  sc_handle& operator=(const sc_handle&) = delete;
  explicit operator bool() const { return h != nullptr; }
};

[[noreturn]] void fail(std::string_view doing, DWORD code = GetLastError()) {
  std::string hint = code == ERROR_ACCESS_DENIED ? "; run it as an administrator" : "";
  throw service_error(fmt::format("cannot {} the {} service: {}{}", doing, service_name,
                                  config::windows_error_text(code), hint));
}

sc_handle open_manager(DWORD access) {
  sc_handle m{OpenSCManagerW(nullptr, nullptr, access)};
  if (!m) fail("reach the Service Control Manager for");
  return m;
}

// nullptr (no throw) when the service is not installed.
std::unique_ptr<sc_handle> open_service(DWORD access) {
  auto m = open_manager(SC_MANAGER_CONNECT);
  SC_HANDLE s = OpenServiceW(m.h, service_wide_name, access);
  if (!s) {
    if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) return nullptr;
    fail("open");
  }
  return std::make_unique<sc_handle>(s);
}

SERVICE_STATUS_PROCESS query(SC_HANDLE s) {
  SERVICE_STATUS_PROCESS st{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(s, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&st), sizeof st,
                            &needed))
    fail("query");
  return st;
}

service_state state_of(const SERVICE_STATUS_PROCESS& st) {
  switch (st.dwCurrentState) {
    case SERVICE_STOPPED:
      return st.dwWin32ExitCode == NO_ERROR ? service_state::stopped : service_state::failed;
    case SERVICE_START_PENDING:
    case SERVICE_CONTINUE_PENDING:
      return service_state::starting;
    case SERVICE_RUNNING:
      return service_state::running;
    case SERVICE_STOP_PENDING:
    case SERVICE_PAUSE_PENDING:
    case SERVICE_PAUSED:
      return service_state::stopping;
    default:
      return service_state::unknown;
  }
}

// Waits while the service is in a pending state, as long as it keeps
// advancing its checkpoint (or the wait hint allows), at most `limit`.
SERVICE_STATUS_PROCESS settle(SC_HANDLE s, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto st = query(s);
  while (
      (st.dwCurrentState == SERVICE_START_PENDING || st.dwCurrentState == SERVICE_STOP_PENDING) &&
      std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    st = query(s);
  }
  return st;
}

std::string exit_text(const SERVICE_STATUS_PROCESS& st) {
  if (st.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR)
    return fmt::format("exit code {}", st.dwServiceSpecificExitCode);
  if (st.dwWin32ExitCode != NO_ERROR) return config::windows_error_text(st.dwWin32ExitCode);
  return "exit code 0";
}

}  // namespace

std::unique_ptr<service_manager> make_service_manager() {
  return std::make_unique<service_control_manager>();
}

std::optional<std::string> service_control_manager::unavailable() const {
  SC_HANDLE m = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
  if (!m)
    return fmt::format("cannot reach the Service Control Manager: {}",
                       config::windows_error_text(GetLastError()));
  CloseServiceHandle(m);
  return std::nullopt;
}

void service_control_manager::install(const install_options& options) {
  auto command = service_command_line(options.executable.wstring(), options.data_dir.wstring());
  auto m = open_manager(SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
  sc_handle s{CreateServiceW(m.h, service_wide_name, L"CA Backend Connector Service",
                             SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                             SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                             nullptr /* LocalSystem */, nullptr)};
  if (!s) {
    if (GetLastError() != ERROR_SERVICE_EXISTS) fail("install");
    // Installed before: point it at this executable and data directory.
    s.h = OpenServiceW(m.h, service_wide_name, SERVICE_ALL_ACCESS);
    if (!s) fail("open");
    if (!ChangeServiceConfigW(s.h, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                              SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                              nullptr, nullptr, L"CA Backend Connector Service"))
      fail("update");
  }
  // Before the rest can fail: Event Viewer reads the events' texts from this exe.
  try {
    actors::register_event_source(options.executable);
  } catch (const std::runtime_error& e) {
    throw service_error(fmt::format("the {} service is installed but {}", service_name, e.what()));
  }
  if (auto problem = configure_recovery(s.h); !problem.empty())
    throw service_error(fmt::format("the {} service is installed but {}", service_name, problem));
}

void service_control_manager::uninstall() {
  auto s = open_service(SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
  if (!s) return;  // nothing to remove
  if (query(s->h).dwCurrentState != SERVICE_STOPPED) stop();
  if (!DeleteService(s->h) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) fail("remove");
  actors::unregister_event_source();
}

void service_control_manager::start() {
  auto s = open_service(SERVICE_START | SERVICE_QUERY_STATUS);
  if (!s)
    throw service_error(
        fmt::format("the {} service is not installed: run cbcs service install", service_name));
  if (!StartServiceW(s->h, 0, nullptr) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
    fail("start");
  auto st = settle(s->h, 90s);
  if (st.dwCurrentState != SERVICE_RUNNING)
    throw service_error(
        fmt::format("the {} service did not start ({}, {}); see its log in the data directory",
                    service_name, to_string(state_of(st)), exit_text(st)));
}

void service_control_manager::stop() {
  auto s = open_service(SERVICE_STOP | SERVICE_QUERY_STATUS);
  if (!s) throw service_error(fmt::format("the {} service is not installed", service_name));
  SERVICE_STATUS ignored{};
  if (!ControlService(s->h, SERVICE_CONTROL_STOP, &ignored) &&
      GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
    fail("stop");
  // The drain takes up to the session's own timeout.
  auto st = settle(s->h, 60s);
  if (st.dwCurrentState != SERVICE_STOPPED)
    throw service_error(fmt::format("the {} service did not stop within 60 s ({})", service_name,
                                    to_string(state_of(st))));
}

void service_control_manager::restart() {
  if (auto s = open_service(SERVICE_QUERY_STATUS);
      s && query(s->h).dwCurrentState != SERVICE_STOPPED)
    stop();
  start();
}

service_status service_control_manager::status() {
  service_status out;
  out.definition = fmt::format("HKLM\\SYSTEM\\CurrentControlSet\\Services\\{}", service_name);
  auto s = open_service(SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
  if (!s) {
    out.state = service_state::not_installed;
    out.definition.clear();
    return out;
  }
  auto st = query(s->h);
  out.state = state_of(st);
  out.main_pid = st.dwProcessId;
  DWORD needed = 0;
  QueryServiceConfigW(s->h, nullptr, 0, &needed);
  std::unique_ptr<BYTE[]> buffer(new BYTE[needed ? needed : 1]);
  auto* cfg = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.get());
  if (needed && QueryServiceConfigW(s->h, cfg, needed, &needed))
    out.enabled = cfg->dwStartType == SERVICE_AUTO_START;
  out.detail = out.state == service_state::running
                   ? fmt::format("{} (pid {})", to_string(out.state), st.dwProcessId)
                   : fmt::format("{} ({})", to_string(out.state), exit_text(st));
  return out;
}

}  // namespace cbcs::cli::service
