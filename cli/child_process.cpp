#include "cli/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

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

std::string child_process::read_line() {
  while (true) {
    auto nl = pending_.find('\n');
    if (nl != std::string::npos) {
      auto line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    char buf[4096];
    auto n = out_fd_ >= 0 ? ::read(out_fd_, buf, sizeof buf) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::exchange(pending_, {});
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string child_process::read_all() {
  std::string out = std::exchange(pending_, {});
  char buf[4096];
  while (out_fd_ >= 0) {
    auto n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void child_process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int child_process::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_child(const std::vector<std::string>& argv, std::string* out) {
  child_process child(argv, out != nullptr);
  if (out) {
    std::string line;
    while (!(line = child.read_line()).empty()) *out += line + "\n";
  }
  return child.wait();
}

int run_child_all(const std::vector<std::string>& argv, std::string& out) {
  child_process child(argv, true, {}, true);
  out += child.read_all();
  return child.wait();
}

std::string own_directory() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

}  // namespace cbcs::cli
