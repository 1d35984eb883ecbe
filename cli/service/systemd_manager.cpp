#include "cli/service/systemd_manager.hpp"

#include <pwd.h>

#include <system_error>

#include <fmt/format.h>

#include "cli/child_process.hpp"
#include "cli/service/systemd_unit.hpp"
#include "config/atomic_file.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::cli::service {
namespace {

constexpr std::string_view unit_name = "cbcs.service";
// The first line of a unit `install` wrote: `uninstall` removes only such a file.
constexpr std::string_view written_marker = "# Written by `cbcs service install`";

std::string first_line(std::string_view text) {
  while (!text.empty() && (text.front() == '\n' || text.front() == ' ')) text.remove_prefix(1);
  return protocol::one_line(text.substr(0, text.find('\n')), 300);
}

}  // namespace

std::unique_ptr<service_manager> make_service_manager() {
  return std::make_unique<systemd_manager>();
}

std::optional<std::string> systemd_manager::unavailable() const {
  std::error_code ec;
  if (!std::filesystem::is_directory(paths_.runtime_dir, ec))
    return fmt::format(
        "systemd is not running on this machine (no {}); run `cbcs run` under the "
        "supervisor this machine uses",
        paths_.runtime_dir.string());
  if (!std::filesystem::exists(paths_.systemctl, ec))
    return fmt::format("systemd runs but {} is missing", paths_.systemctl.string());
  return std::nullopt;
}

std::string systemd_manager::systemctl(const std::vector<std::string>& args,
                                       std::string_view doing) {
  std::vector<std::string> argv{paths_.systemctl.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  int rc = 0;
  try {
    rc = run_child_all(argv, out);
  } catch (const std::exception& e) {
    throw service_error(fmt::format("cannot {}: {}", doing, e.what()));
  }
  if (rc != 0)
    throw service_error(
        fmt::format("cannot {}: systemctl {}: {}", doing, args.front(),
                    out.empty() ? fmt::format("exit status {}", rc) : first_line(out)));
  return out;
}

std::filesystem::path systemd_manager::admin_unit() const {
  return paths_.admin_unit_dir / unit_name;
}

void systemd_manager::install(const install_options& options) {
  std::error_code ec;
  bool packaged = std::filesystem::exists(paths_.package_unit_dir / unit_name, ec);
  // The package's unit runs /usr/bin/cbcs on /var/lib/cbcs: anything else
  // gets a unit of its own in /etc, which systemd prefers over the package's.
  bool as_packaged = packaged && options.executable == "/usr/bin/cbcs" &&
                     options.data_dir.lexically_normal() == "/var/lib/cbcs";
  if (!as_packaged) {
    auto text = render_unit(packaged_unit(), options);
    if (::getpwnam(paths_.user.c_str()) == nullptr)
      throw service_error(
          fmt::format("no user '{0}' for the service to run as: create it with "
                      "useradd --system --home-dir /var/lib/cbcs --shell /usr/sbin/nologin {0}",
                      paths_.user));
    try {
      std::filesystem::create_directories(paths_.admin_unit_dir);
      config::write_file_atomic(admin_unit(), std::string(written_marker) + "\n" + text);
      std::filesystem::permissions(admin_unit(), std::filesystem::perms(0644));
    } catch (const std::exception& e) {
      throw service_error(fmt::format("cannot write {}: {}", admin_unit().string(), e.what()));
    }
    systemctl({"daemon-reload"}, "reload systemd's units");
  }
  systemctl({"enable", std::string(unit_name)}, "enable cbcs.service");
}

void systemd_manager::uninstall() {
  auto st = status();
  if (st.state == service_state::not_installed)
    throw service_error("cbcs.service is not installed");
  systemctl({"disable", "--now", std::string(unit_name)}, "disable cbcs.service");
  std::error_code ec;
  std::string head;
  try {
    head = config::read_file(admin_unit(), 4096);
  } catch (const std::exception&) {
  }
  if (head.starts_with(written_marker)) {
    std::filesystem::remove(admin_unit(), ec);
    if (ec)
      throw service_error(fmt::format("cannot remove {}: {}", admin_unit().string(), ec.message()));
    systemctl({"daemon-reload"}, "reload systemd's units");
  }
}

void systemd_manager::start() {
  systemctl({"start", std::string(unit_name)}, "start cbcs.service");
}

void systemd_manager::stop() { systemctl({"stop", std::string(unit_name)}, "stop cbcs.service"); }

void systemd_manager::restart() {
  systemctl({"restart", std::string(unit_name)}, "restart cbcs.service");
}

service_status systemd_manager::status() {
  auto out = systemctl({"show", std::string(unit_name),
                        "--property=LoadState,ActiveState,SubState,"
                        "UnitFileState,MainPID,FragmentPath,"
                        "ActiveEnterTimestamp,Result"},
                       "ask systemd about cbcs.service");
  return parse_systemctl_show(out);
}

}  // namespace cbcs::cli::service
