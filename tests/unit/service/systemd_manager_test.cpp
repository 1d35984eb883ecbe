// `cbcs service` on Linux: the unit it writes, what it reads from systemctl,
// and the systemctl calls it makes (a stand-in systemctl that logs them).

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli/service/systemd_manager.hpp"
#include "cli/service/systemd_unit.hpp"
#include "config/atomic_file.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace svc = cbcs::cli::service;
namespace fs = std::filesystem;

namespace {

std::string exec_line(const std::string& unit) {
  auto at = unit.find("\nExecStart=");
  REQUIRE(at != std::string::npos);
  return unit.substr(at + 1, unit.find('\n', at + 1) - at - 1);
}

// A systemctl that appends its arguments to log and prints what show should say.
struct fake_systemctl {
  test::temp_dir dir;
  fs::path script = fs::path(dir.path()) / "systemctl";
  fs::path log = fs::path(dir.path()) / "calls";
  fs::path show = fs::path(dir.path()) / "show";
  fs::path run_dir = fs::path(dir.path()) / "run-systemd-system";
  fs::path etc = fs::path(dir.path()) / "etc";
  fs::path lib = fs::path(dir.path()) / "lib";
  std::string user = "root";

  explicit fake_systemctl(int start_status = 0) {
    std::ofstream(script) << "#!/bin/sh\necho \"$*\" >> " << log.string() << "\n"
                          << "case \"$1\" in show) cat " << show.string() << ";; start) "
                          << (start_status ? "echo 'Job for cbcs.service failed because the "
                                             "control process exited with error code.' >&2; "
                                             "echo 'See \"systemctl status cbcs.service\"' >&2; "
                                             "exit 1"
                                           : "true")
                          << ";; esac\n";
    fs::permissions(script, fs::perms(0755));
    fs::create_directories(run_dir);
  }
  svc::systemd_manager manager() {
    return svc::systemd_manager({.systemctl = script,
                                 .runtime_dir = run_dir,
                                 .admin_unit_dir = etc,
                                 .package_unit_dir = lib,
                                 .user = user});
  }
  std::string calls() {
    std::error_code ec;
    return fs::exists(log, ec) ? config::read_file(log) : std::string{};
  }
};

}  // namespace

TEST_SUITE("systemd_manager") {
  TEST_CASE("the packaged unit is hardened, notifies and is watched") {
    std::string unit(svc::packaged_unit());
    for (const char* line :
         {"Type=notify", "WatchdogSec=", "Restart=on-failure", "User=cbcs", "ProtectSystem=strict",
          "StateDirectory=cbcs", "NoNewPrivileges=yes", "UMask=0077", "CapabilityBoundingSet=\n",
          "ExecStart=/usr/bin/cbcs run --data-dir /var/lib/cbcs\n"})
      CHECK_MESSAGE(unit.find(line) != std::string::npos, line);
  }

  TEST_CASE("render_unit: ExecStart runs this executable on this data directory") {
    auto unit = svc::render_unit(svc::packaged_unit(),
                                 {.executable = "/opt/cbcs/bin/cbcs", .data_dir = "/srv/cbcs/"});
    CHECK(exec_line(unit) == "ExecStart=/opt/cbcs/bin/cbcs run --data-dir /srv/cbcs");
    CHECK(unit.find("ReadWritePaths=/srv/cbcs\n") != std::string::npos);
    CHECK(unit.find("ConditionPathExists=/srv/cbcs/identity.json\n") != std::string::npos);
    auto plain = svc::render_unit(svc::packaged_unit(),
                                  {.executable = "/usr/bin/cbcs", .data_dir = "/var/lib/cbcs"});
    CHECK(plain.find("ReadWritePaths") == std::string::npos);
    CHECK(plain ==
          std::string(svc::packaged_unit()) + (svc::packaged_unit().ends_with('\n') ? "" : "\n"));
  }

  TEST_CASE("render_unit refuses paths a unit would read specially") {
    for (const char* bad : {"relative/cbcs", "/opt/my cbcs", "/opt/%n", "/opt/$HOME", "/opt/a;b",
                            "/opt/a\nExecStartPre=/bin/evil"})
      CHECK_THROWS_AS(
          svc::render_unit(svc::packaged_unit(), {.executable = bad, .data_dir = "/var/lib/cbcs"}),
          svc::service_error);
    CHECK_THROWS_AS(svc::render_unit("[Service]\n",
                                     {.executable = "/usr/bin/cbcs", .data_dir = "/var/lib/cbcs"}),
                    svc::service_error);
  }

  TEST_CASE("parse_systemctl_show: states, enablement, pid, what it says") {
    auto st = svc::parse_systemctl_show(
        "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n"
        "MainPID=4242\nFragmentPath=/lib/systemd/system/cbcs.service\n"
        "ActiveEnterTimestamp=Wed 2026-12-02 06:00:00 UTC\nResult=success\n");
    CHECK(st.state == svc::service_state::running);
    CHECK(st.enabled);
    CHECK(st.main_pid == 4242);
    CHECK(st.definition == "/lib/systemd/system/cbcs.service");
    CHECK(st.detail == "active (running) since Wed 2026-12-02 06:00:00 UTC");
    auto failed = svc::parse_systemctl_show(
        "LoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=disabled\n"
        "MainPID=0\nResult=watchdog\n");
    CHECK(failed.state == svc::service_state::failed);
    CHECK_FALSE(failed.enabled);
    CHECK(failed.main_pid == 0);
    CHECK(failed.detail == "failed (failed), last result watchdog");
    CHECK(svc::parse_systemctl_show("LoadState=not-found\nActiveState=inactive\n").state ==
          svc::service_state::not_installed);
    CHECK(svc::parse_systemctl_show("garbage\n=\nMainPID=-3\nMainPID=12x\n").state ==
          svc::service_state::not_installed);
    CHECK(svc::parse_systemctl_show("LoadState=loaded\nActiveState=activating\n").state ==
          svc::service_state::starting);
  }

  TEST_CASE("no systemd running: unavailable says so in one line") {
    fake_systemctl fake;
    fs::remove(fake.run_dir);
    auto why = fake.manager().unavailable();
    REQUIRE(why.has_value());
    CHECK(why->find("systemd is not running") != std::string::npos);
    CHECK(why->find('\n') == std::string::npos);
  }

  TEST_CASE("install writes the unit to /etc, reloads and enables; uninstall removes only that") {
    fake_systemctl fake;
    auto m = fake.manager();
    CHECK_FALSE(m.unavailable().has_value());
    m.install({.executable = "/opt/cbcs/cbcs", .data_dir = "/srv/cbcs"});
    auto unit = config::read_file(fake.etc / "cbcs.service");
    CHECK(exec_line(unit) == "ExecStart=/opt/cbcs/cbcs run --data-dir /srv/cbcs");
    CHECK((fs::status(fake.etc / "cbcs.service").permissions() & fs::perms::all) ==
          fs::perms(0644));
    CHECK(fake.calls() == "daemon-reload\nenable cbcs.service\n");
    config::write_file_atomic(fake.show, "LoadState=loaded\nActiveState=active\n");
    m.uninstall();
    CHECK_FALSE(fs::exists(fake.etc / "cbcs.service"));
    CHECK(
        fake.calls().ends_with("show cbcs.service --property=LoadState,ActiveState,SubState,"
                               "UnitFileState,MainPID,FragmentPath,ActiveEnterTimestamp,"
                               "Result\ndisable --now cbcs.service\ndaemon-reload\n"));
  }

  TEST_CASE("install without the service's user says how to make it") {
    fake_systemctl fake;
    fake.user = "cbcs-no-such-user";
    auto m = fake.manager();
    CHECK_THROWS_WITH_AS(m.install({.executable = "/opt/cbcs/cbcs", .data_dir = "/srv/cbcs"}),
                         doctest::Contains("no user 'cbcs-no-such-user'"), svc::service_error);
    CHECK(fake.calls().empty());
  }

  TEST_CASE("install with the package's unit only enables it; an admin's own unit is kept") {
    fake_systemctl fake;
    fs::create_directories(fake.lib);
    config::write_file_atomic(fake.lib / "cbcs.service", std::string(svc::packaged_unit()));
    auto m = fake.manager();
    m.install({.executable = "/usr/bin/cbcs", .data_dir = "/var/lib/cbcs"});
    CHECK_FALSE(fs::exists(fake.etc / "cbcs.service"));
    CHECK(fake.calls() == "enable cbcs.service\n");
    fs::create_directories(fake.etc);
    config::write_file_atomic(fake.etc / "cbcs.service", "[Service]\nExecStart=/bin/true\n");
    config::write_file_atomic(fake.show, "LoadState=loaded\nActiveState=inactive\n");
    m.uninstall();
    CHECK(fs::exists(fake.etc / "cbcs.service"));  // not written by us: not ours to delete
  }

  TEST_CASE("uninstall of what is not installed, and a failed start, are one-line errors") {
    fake_systemctl fake(1);
    auto m = fake.manager();
    config::write_file_atomic(fake.show, "LoadState=not-found\n");
    CHECK_THROWS_WITH_AS(m.uninstall(), "cbcs.service is not installed", svc::service_error);
    try {
      m.start();
      FAIL("start should fail");
    } catch (const svc::service_error& e) {
      std::string what = e.what();
      CHECK(what ==
            "cannot start cbcs.service: systemctl start: Job for cbcs.service failed because the "
            "control process exited with error code.");
    }
    m.stop();
    m.restart();
    CHECK(fake.calls().ends_with("start cbcs.service\nstop cbcs.service\nrestart cbcs.service\n"));
  }
}
