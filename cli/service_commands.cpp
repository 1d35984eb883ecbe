// cbcs service install|uninstall|start|stop|restart|status: the connector as
// a service of the platform's service manager, through the interface in
// cli/service/service_manager.hpp (systemd on Linux, the Service Control
// Manager on Windows). Where no manager runs, each says so in one line.

#include <filesystem>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/service/service_manager.hpp"
#include "cli/workspace.hpp"
#include "config/os/this_process.hpp"

namespace cbcs::cli {
namespace {

namespace svc = service;

po::options_description service_dir_options(const args_t&) {
  po::options_description desc("Options");
  add_common_options(desc);
  return desc;
}

po::options_description service_bare_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()("help,h", "show this help");
  return desc;
}

std::unique_ptr<svc::service_manager> service_manager_or_fail() {
  auto m = svc::make_service_manager();
  if (auto why = m->unavailable()) throw operation_error(*why);
  return m;
}

template <class F>
void through_manager(F&& f) {
  try {
    f();
  } catch (const svc::service_error& e) {
    throw operation_error(e.what());
  }
}

std::filesystem::path this_executable() {
  auto exe = config::executable_path();
  if (!exe) throw operation_error("cannot tell where this cbcs executable is");
  return *exe;
}

int run_install(const po::variables_map& vm, const args_t&) {
  auto m = service_manager_or_fail();
  workspace ws(vm);
  auto dir = std::filesystem::absolute(ws.dir().root());
  through_manager([&] { m->install({.executable = this_executable(), .data_dir = dir}); });
  fmt::print("cbcs installed as a service of {}, starting with the machine; data directory {}\n",
             m->name(), dir.string());
  fmt::print("register first if not done (cbcs register -token T), then: cbcs service start\n");
  return exit_ok;
}

int run_uninstall(const po::variables_map&, const args_t&) {
  auto m = service_manager_or_fail();
  through_manager([&] { m->uninstall(); });
  fmt::print("cbcs service stopped and removed from {} (the data directory is kept)\n", m->name());
  return exit_ok;
}

int run_start(const po::variables_map&, const args_t&) {
  auto m = service_manager_or_fail();
  through_manager([&] { m->start(); });
  fmt::print("cbcs service started\n");
  return exit_ok;
}

int run_stop(const po::variables_map&, const args_t&) {
  auto m = service_manager_or_fail();
  through_manager([&] { m->stop(); });
  fmt::print("cbcs service stopped\n");
  return exit_ok;
}

int run_restart(const po::variables_map&, const args_t&) {
  auto m = service_manager_or_fail();
  through_manager([&] { m->restart(); });
  fmt::print("cbcs service restarted\n");
  return exit_ok;
}

int run_service_status(const po::variables_map& vm, const args_t&) {
  auto m = service_manager_or_fail();
  svc::service_status st;
  through_manager([&] { st = m->status(); });
  auto line = std::string(svc::to_string(st.state));
  if (st.state != svc::service_state::not_installed) {
    line += st.enabled ? ", starts with the machine" : ", does not start with the machine";
    if (st.main_pid > 0) line += fmt::format(", pid {}", st.main_pid);
  }
  fmt::print("service:          {} ({}: {})\n", line, m->name(), st.detail);
  if (!st.definition.empty()) fmt::print("defined in:       {}\n", st.definition);
  return show_connector_status(workspace(vm), false);
}

}  // namespace

std::vector<command> service_commands() {
  return {
      {"service install", "run this cbcs as a service of the system's service manager", "",
       "cbcs service install", service_dir_options, run_install},
      {"service uninstall", "stop the service and remove it (the data directory stays)", "",
       "cbcs service uninstall", service_bare_options, run_uninstall},
      {"service start", "start the service", "", "cbcs service start", service_bare_options,
       run_start},
      {"service stop", "stop the service (it drains its session with SCM first)", "",
       "cbcs service stop", service_bare_options, run_stop},
      {"service restart", "restart the service", "", "cbcs service restart", service_bare_options,
       run_restart},
      {"service status", "the service manager's view of the service, then cbcs status", "",
       "cbcs service status", service_dir_options, run_service_status},
  };
}

}  // namespace cbcs::cli
