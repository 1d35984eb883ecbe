#include "cli/interrupt.hpp"

#include <atomic>
#include <csignal>

#ifdef _WIN32
#include <windows.h>
#endif

namespace cbcs::cli {
namespace {

std::atomic<int> presses{0};

#ifdef _WIN32
BOOL WINAPI on_console(DWORD type) {
  if (type != CTRL_C_EVENT) return FALSE;
  // The second press falls through to the default handler: the process ends.
  return presses.fetch_add(1) == 0 ? TRUE : FALSE;
}
#else
struct sigaction previous {};

void on_sigint(int) {
  if (presses.fetch_add(1) == 0) return;
  // Async-signal-safe: the default action, taken again.
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
}
#endif

}  // namespace

interrupt_guard::interrupt_guard() {
  presses = 0;
#ifdef _WIN32
  SetConsoleCtrlHandler(on_console, TRUE);
#else
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous);
#endif
}

interrupt_guard::~interrupt_guard() {
#ifdef _WIN32
  SetConsoleCtrlHandler(on_console, FALSE);
#else
  sigaction(SIGINT, &previous, nullptr);
#endif
}

bool interrupt_guard::requested() const { return presses.load() > 0; }

}  // namespace cbcs::cli
