#pragma once

#include <stdexcept>

namespace cbcs::cli {

// Something wrong with the command line itself: exit status 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The command was well formed but could not be carried out: exit status 1.
class operation_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

}  // namespace cbcs::cli
