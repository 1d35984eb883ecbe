#pragma once
// The service manager on Windows: the Service Control Manager, through the
// Win32 service API. The service runs as LocalSystem and starts with the
// machine; what it runs is `cbcs run --data-dir DIR`, hosted by
// service_host_windows.cpp.

#include "cli/service/service_manager.hpp"

namespace cbcs::cli::service {

class service_control_manager final : public service_manager {
 public:
  std::string name() const override { return "the Service Control Manager"; }
  std::optional<std::string> unavailable() const override;
  void install(const install_options& options) override;
  void uninstall() override;
  void start() override;
  void stop() override;
  void restart() override;
  service_status status() override;
};

}  // namespace cbcs::cli::service
