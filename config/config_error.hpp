#pragma once

#include <stdexcept>

namespace cbcs::config {

// A problem with a file or directory the connector keeps; what() names the file.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cbcs::config
