#include "cli/child_process.hpp"

#include <unistd.h>  // read(): MinGW has it too

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "cli/errors.hpp"
#include "config/os/this_process.hpp"

namespace cbcs::cli {

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
  auto exe = config::executable_path();
  return exe ? exe->parent_path().string() : std::string(".");
}

}  // namespace cbcs::cli
