#include "cli/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/errors.hpp"

namespace cbcs::cli {

child_process::child_process(const std::vector<std::string>& argv, bool capture_stdout,
                             const std::string& stderr_file, bool stderr_to_stdout) {
  int fds[2] = {-1, -1};
  if (capture_stdout && ::pipe2(fds, O_CLOEXEC) != 0)
    throw operation_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  pid_ = ::fork();
  if (pid_ < 0) throw operation_error(std::string("cannot fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    if (capture_stdout) {
      ::dup2(fds[1], STDOUT_FILENO);
    } else {
      int null_fd = ::open("/dev/null", O_WRONLY);
      ::dup2(null_fd, STDOUT_FILENO);
    }
    if (!stderr_file.empty()) {
      int err_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    }
    if (stderr_to_stdout && capture_stdout) ::dup2(fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (capture_stdout) {
    ::close(fds[1]);
    out_fd_ = fds[0];
  }
}

child_process::~child_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
}

void child_process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

namespace {
int status_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

int child_process::wait() {
  if (pid_ <= 0) return exit_status_;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  exit_status_ = status_of(status);
  return exit_status_;
}

bool child_process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) exit_status_ = status_of(status);
  pid_ = -1;
  return false;
}

}  // namespace cbcs::cli
