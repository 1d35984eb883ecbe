#pragma once
// Ctrl-C during an interactive command: the first asks the command to stop
// waiting once the request already sent has its answer (so the journal knows
// where the job stands); the second ends the process at once, as Ctrl-C
// always does. Installed for the life of the object.

namespace cbcs::cli {

class interrupt_guard {
 public:
  interrupt_guard();
  ~interrupt_guard();
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

  // Ctrl-C (SIGINT, or the console's Ctrl+C on Windows) was pressed once.
  bool requested() const;
};

}  // namespace cbcs::cli
