#pragma once
// The service manager on Linux: systemd, driven through systemctl.

#include <filesystem>
#include <string>
#include <vector>

#include "cli/service/service_manager.hpp"

namespace cbcs::cli::service {

struct systemd_paths {
  std::filesystem::path systemctl = "/usr/bin/systemctl";
  // Exists while systemd runs as the system manager (what sd_booted() checks).
  std::filesystem::path runtime_dir = "/run/systemd/system";
  // Where `install` writes the unit when the package's is not there.
  std::filesystem::path admin_unit_dir = "/etc/systemd/system";
  // Where the Debian package puts its unit.
  std::filesystem::path package_unit_dir = "/lib/systemd/system";
  // The unit's User=: install checks it exists.
  std::string user = "cbcs";
};

class systemd_manager final : public service_manager {
 public:
  explicit systemd_manager(systemd_paths paths = {}) : paths_(std::move(paths)) {}

  std::string name() const override { return "systemd"; }
  std::optional<std::string> unavailable() const override;
  void install(const install_options& options) override;
  void uninstall() override;
  void start() override;
  void stop() override;
  void restart() override;
  service_status status() override;

 private:
  // Runs systemctl; throws service_error with its first line when it fails.
  std::string systemctl(const std::vector<std::string>& args, std::string_view doing);
  std::filesystem::path admin_unit() const;

  systemd_paths paths_;
};

}  // namespace cbcs::cli::service
