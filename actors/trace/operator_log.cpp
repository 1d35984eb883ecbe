#include "actors/trace/operator_log.hpp"

#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace cbcs::actors {

void log_line(const std::string& line) noexcept {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  try {
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}Z cbcs: {}\n", now, line);
  } catch (...) {
  }
}

}  // namespace cbcs::actors
