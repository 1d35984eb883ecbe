#include "cli/service/service_host.hpp"

#include <windows.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "actors/trace/operator_log.hpp"
#include "cli/service/service_manager.hpp"
#include "config/os/windows_error.hpp"

namespace cbcs::cli::service {
namespace {

// The first stop request, from whichever source asks first.
class stop_latch {
 public:
  void ask(const char* what) {
    std::lock_guard lock(mutex_);
    if (asked_by_.empty()) asked_by_ = what;
    asked_.notify_all();
  }
  std::string wait() {
    std::unique_lock lock(mutex_);
    asked_.wait(lock, [this] { return !asked_by_.empty(); });
    return asked_by_;
  }
  // False when no stop was asked within `limit`.
  bool wait_for(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return asked_.wait_for(lock, limit, [this] { return !asked_by_.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable asked_;
  std::string asked_by_;
};

stop_latch& stop_requests() {
  static stop_latch latch;
  return latch;
}

// What the Service Control Manager hears. While starting or draining it gets
// a checkpoint each second, so that a long replay or drain is not a hang.
class service_control_notifier : public service_notifier {
 public:
  explicit service_control_notifier(SERVICE_STATUS_HANDLE handle) : handle_(handle) {
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    report(SERVICE_START_PENDING, 60'000);
    ticker_ = std::thread([this] { tick(); });
  }
  ~service_control_notifier() override { end_ticker(); }

  void ready() override { report(SERVICE_RUNNING, 0); }
  void status(std::string_view) override {}  // the manager keeps no status text; the log has it
  void alive() override {}
  void stopping() override {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState != SERVICE_STOP_PENDING) report_locked(SERVICE_STOP_PENDING, 30'000);
  }
  std::chrono::microseconds watchdog_interval() const override { return {}; }

  // The last report: a non-zero code makes the manager's failure actions restart us.
  void stopped(int exit_code) {
    end_ticker();
    std::lock_guard lock(mutex_);
    status_.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status_.dwServiceSpecificExitCode = static_cast<DWORD>(exit_code);
    report_locked(SERVICE_STOPPED, 0);
  }

 private:
  void report(DWORD state, DWORD wait_hint) {
    std::lock_guard lock(mutex_);
    report_locked(state, wait_hint);
  }
  void report_locked(DWORD state, DWORD wait_hint) {
    status_.dwCurrentState = state;
    status_.dwWaitHint = wait_hint;
    bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
    status_.dwCheckPoint = pending ? status_.dwCheckPoint + 1 : 0;
    // Stop requests wait in the latch while starting; none once draining.
    status_.dwControlsAccepted =
        state == SERVICE_RUNNING || state == SERVICE_START_PENDING
            ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN
            : 0;
    SetServiceStatus(handle_, &status_);
  }
  void tick() {
    std::unique_lock lock(mutex_);
    while (!done_) {
      ticked_.wait_for(lock, std::chrono::seconds(1));
      if (done_) break;
      auto state = status_.dwCurrentState;
      if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
        report_locked(state, status_.dwWaitHint);
    }
  }
  void end_ticker() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ticked_.notify_all();
    if (ticker_.joinable()) ticker_.join();
  }

  SERVICE_STATUS_HANDLE handle_;
  std::mutex mutex_;
  std::condition_variable ticked_;
  SERVICE_STATUS status_{};
  bool done_ = false;
  std::thread ticker_;
};

// A console has no service manager to tell.
class console_notifier : public service_notifier {
 public:
  void ready() override {}
  void status(std::string_view) override {}
  void alive() override {}
  void stopping() override {}
  std::chrono::microseconds watchdog_interval() const override { return {}; }
};

// What a stop may take, from the request to SERVICE_STOPPED (within the
// preshutdown timeout configure_recovery sets).
constexpr int drain_limit_seconds = 25;

// ServiceMain's inputs and results: it runs on a thread the dispatcher makes.
struct hosted {
  const connector_body* body = nullptr;
  std::atomic<service_control_notifier*> status{nullptr};
  int exit_code = 0;
  std::exception_ptr failure;
  std::string setup_error;
};

hosted& host() {
  static hosted h;
  return h;
}

DWORD WINAPI on_control(DWORD control, DWORD, void*, void*) {
  const char* what = nullptr;
  switch (control) {
    case SERVICE_CONTROL_STOP:
      what = "SERVICE_CONTROL_STOP";
      break;
    case SERVICE_CONTROL_SHUTDOWN:
      what = "SERVICE_CONTROL_SHUTDOWN";
      break;
    case SERVICE_CONTROL_PRESHUTDOWN:
      what = "SERVICE_CONTROL_PRESHUTDOWN";
      break;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
  stop_requests().ask(what);
  // STOP_PENDING at once, as the Service Control Manager expects; the drain then keeps it ticking.
  if (auto* s = host().status.load()) s->stopping();
  return NO_ERROR;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  auto& h = host();
  SERVICE_STATUS_HANDLE handle =
      RegisterServiceCtrlHandlerExW(service_wide_name, on_control, nullptr);
  if (!handle) {
    h.setup_error = "cannot register with the Service Control Manager: " +
                    config::windows_error_text(GetLastError());
    h.exit_code = 1;
    return;
  }
  service_control_notifier status(handle);
  h.status = &status;
  // A drain that does not end in time ends with the process: what it held is
  // in the journal and runs again at the next start. Without this a stop
  // could hang in STOP_PENDING (seen under Wine at a thread's exit).
  std::atomic<bool> body_done{false};
  std::thread deadline([&status, &body_done] {
    while (!body_done && !stop_requests().wait_for(std::chrono::milliseconds(500))) {
    }
    for (int i = 0; i < drain_limit_seconds * 10 && !body_done; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (body_done) return;
    actors::log_at(actors::log_level::warning,
                   fmt::format("the drain did not end within {} s; stopping now (the journal keeps "
                               "unfinished jobs for the next start)",
                               drain_limit_seconds));
    status.stopped(0);
    TerminateProcess(GetCurrentProcess(), 0);
  });
  try {
    h.exit_code = (*h.body)(status, [] { return stop_requests().wait(); });
  } catch (...) {
    h.failure = std::current_exception();
    h.exit_code = 1;
  }
  body_done = true;
  deadline.join();
  h.status = nullptr;
  if (h.failure) {
    try {
      std::rethrow_exception(h.failure);
    } catch (const std::exception& e) {
      actors::log_at(actors::log_level::error, fmt::format("cbcs: {}", e.what()));
    } catch (...) {
    }
  }
  status.stopped(h.exit_code);
}

BOOL WINAPI on_console(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
      stop_requests().ask("Ctrl+C");
      return TRUE;
    case CTRL_BREAK_EVENT:
      stop_requests().ask("Ctrl+Break");
      return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      stop_requests().ask("the console's close");
      return TRUE;
    default:
      return FALSE;
  }
}

}  // namespace

int host_connector(const connector_body& body) {
  auto& h = host();
  h.body = &body;
  std::wstring name = service_wide_name;  // the table takes a mutable string
  SERVICE_TABLE_ENTRYW table[] = {{name.data(), service_main}, {nullptr, nullptr}};
  // Started by the Service Control Manager: this returns when the service stopped.
  if (StartServiceCtrlDispatcherW(table)) {
    if (!h.setup_error.empty()) throw std::runtime_error(h.setup_error);
    if (h.failure) std::rethrow_exception(h.failure);
    return h.exit_code;
  }
  if (DWORD err = GetLastError(); err != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
    throw std::runtime_error("cannot start as a service: " + config::windows_error_text(err));
  // From a console (or a test): Ctrl+C, Ctrl+Break and closing it stop it.
  SetConsoleCtrlHandler(on_console, TRUE);
  console_notifier notifier;
  return body(notifier, [] { return stop_requests().wait(); });
}

}  // namespace cbcs::cli::service
