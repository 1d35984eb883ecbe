#pragma once
// A driver reads its backend's settings once, at start, and does not throw
// on a bad one: it collects every problem here, and each job of the backend
// then fails invalid_request with one line naming all of them:
//   backend 'EU': is missing the setting project, location; tier must be enterprise or devops
// (`backend add` checks the options first; this catches a config.json edited
// by hand or a secret missing from the vault.)

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

class settings_problems {
 public:
  explicit settings_problems(const driver_config& config) : config_(config) {}

  // A setting or secret that must be there, empty when absent.
  std::string required(std::string_view key);
  std::string required_secret(std::string_view key, std::string_view what);
  // "true" or "false"; `out` unchanged when absent.
  void flag(std::string_view key, bool& out);
  // One of `allowed`; the first when absent.
  std::string choice(std::string_view key, std::initializer_list<std::string_view> allowed);
  // A duration ("60s", "5m"); `out` unchanged when absent.
  void duration(std::string_view key, std::chrono::seconds& out);

  void add(std::string problem) { problems_.push_back(std::move(problem)); }

  // "" when every setting is fine.
  std::string message() const;

 private:
  const driver_config& config_;
  std::vector<std::string> missing_;
  std::vector<std::string> problems_;
};

}  // namespace cbcs::protocol::ca
