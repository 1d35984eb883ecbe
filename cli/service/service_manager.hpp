#pragma once
// `cbcs service ...` talks to the platform's service manager only through
// this interface: systemd on Linux (systemd_manager.cpp), the Service Control
// Manager on Windows. The command layer (cli/service_commands.cpp) never
// names either.

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace cbcs::cli::service {

// What the service manager would not do, in one line (no trailing newline).
class service_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class service_state : std::uint8_t {
  not_installed,
  stopped,
  starting,
  running,
  stopping,
  failed,
  unknown,
};
std::string_view to_string(service_state s);

struct service_status {
  service_state state = service_state::unknown;
  bool enabled = false;       // starts with the machine
  std::int64_t main_pid = 0;  // 0: none
  std::string detail;         // the manager's own words, one line ("active (running) since ...")
  std::string definition;     // where the service is defined (unit file, registry key)
};

struct install_options {
  std::filesystem::path executable;  // the cbcs to run (absolute)
  std::filesystem::path data_dir;    // passed as --data-dir
};

class service_manager {
 public:
  virtual ~service_manager() = default;

  // "systemd", "the Service Control Manager": for messages.
  virtual std::string name() const = 0;
  // nullopt when the manager can be used; else why not, in one line
  // ("systemd is not running on this machine (PID 1 is ...)").
  virtual std::optional<std::string> unavailable() const = 0;

  // Each throws service_error with one line when it fails. install defines
  // the service (or enables the packaged definition) to start with the
  // machine, without starting it; uninstall stops and removes it.
  virtual void install(const install_options& options) = 0;
  virtual void uninstall() = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void restart() = 0;
  virtual service_status status() = 0;
};

// The platform's manager (one definition per platform, chosen by CMake).
std::unique_ptr<service_manager> make_service_manager();

// The service's name: cbcs.service; the Windows service CBCS, as the
// connector it replaces was named (sc query CBCS).
#ifdef _WIN32
inline constexpr const char* service_name = "CBCS";
// The same name for the Service Control Manager's W functions.
inline constexpr const wchar_t* service_wide_name = L"CBCS";
#else
inline constexpr const char* service_name = "cbcs";
#endif

}  // namespace cbcs::cli::service
