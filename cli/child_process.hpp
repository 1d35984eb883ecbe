#pragma once
// Child processes for `cbcs demo`, which drives the real commands and the SCM
// simulator the way an operator would. Platform parts: child_process_posix.cpp,
// child_process_windows.cpp.

#include <string>
#include <vector>

#include <sys/types.h>

namespace cbcs::cli {

class child_process {
 public:
  // Starts argv[0] with argv; its stdout is readable with read_line() when
  // capture_stdout, else it goes to /dev/null (stderr is kept).
  // stderr_file: where its stderr goes (appended); empty keeps ours.
  // stderr_to_stdout: its stderr joins the captured stdout.
  child_process(const std::vector<std::string>& argv, bool capture_stdout,
                const std::string& stderr_file = {}, bool stderr_to_stdout = false);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  std::string read_line();  // empty at end of output
  std::string read_all();   // the rest of its output, until it closes it
  void signal(int sig);
  int wait();  // exit status (128 + signal when killed)
  // Not yet exited (reaps it when it has: wait() then gives its status).
  bool running();
  pid_t pid() const { return pid_; }  // -1 once reaped

 private:
  int exit_status_ = -1;
  pid_t pid_ = -1;
  void* process_ = nullptr;  // Windows: the process HANDLE
  int out_fd_ = -1;
  std::string pending_;
};

// Runs to completion; returns the exit status and the captured stdout.
int run_child(const std::vector<std::string>& argv, std::string* out = nullptr);

// Runs to completion; returns the exit status, stdout and stderr in *out.
int run_child_all(const std::vector<std::string>& argv, std::string& out);

// The directory of the running executable (cbcs-sim lives beside cbcs).
std::string own_directory();

}  // namespace cbcs::cli
