"""The service commands under Wine, as an administrator types them on Windows
(no MSI): cbcs register, then cbcs service install defines the service CBCS
(automatic start, LocalSystem, this exe with its data directory, failure
actions, the preshutdown timeout) and its Event Log source; cbcs service
start, status, restart, stop and uninstall drive the Service Control Manager,
and the SCM simulator (native, loopback) sees the connector Connected, then
a new session after the restart; uninstall removes the service and the event
source and keeps the data directory.

Needs the Windows cross build (CBCS_WINDOWS_BUILD_DIR), wine64 and the native
build (CBCS_BUILD_DIR: cbcs-sim); skipped (77) with the reason otherwise."""

import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wine_prefix import WIN_BUILD, ServiceChecks, Wine, cross_built_cbcs, eventually, skip  # noqa: E402

EXE = cross_built_cbcs()

sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from test_scm_link import SIM, Scm  # noqa: E402

if not os.access(SIM, os.X_OK):
    skip(f"{SIM} is not built (the native build runs the SCM simulator)")

# A path with a space: the service's command line must quote it.
EXE_WIN = r"C:\CBCS test\cbcs.exe"
DATA_WIN = r"C:\ProgramData\CBCS"
SERVICE_KEY = r"HKLM\System\CurrentControlSet\Services\CBCS"
EVENT_SOURCE = r"HKLM\System\CurrentControlSet\Services\EventLog\Application\CBCS"


class ServiceCommandsTest(ServiceChecks, unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cbcs-service-wine-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.wine = Wine(os.path.join(WIN_BUILD, "service-test", "prefix"))
        self.addCleanup(self.wine.stop)
        print(f"wine prefix booted in {self.wine.boot():.1f} s", file=sys.stderr)
        os.makedirs(os.path.dirname(self.wine.unix(EXE_WIN)))
        shutil.copy(EXE, self.wine.unix(EXE_WIN))
        self.scm = Scm(os.path.join(self.tmp, "scm"))
        self.addCleanup(self.scm.stop)

    def cbcs(self, *args, stdin=None, data_dir=True):
        extra = ("--data-dir", DATA_WIN) if data_dir else ()
        code, out, err = self.wine.run(EXE_WIN, *args, *extra, stdin=stdin)
        return code, out + err

    def ok(self, *args, **kw):
        code, out = self.cbcs(*args, **kw)
        self.assertEqual(code, 0, f"cbcs {' '.join(args)}: {out}")
        return out

    def connector(self):
        return self.scm.connector(self.cid)

    def test_install_start_status_restart_stop_uninstall(self):
        created = self.scm.call("POST", "/connectors", {"name": "service", "comments": "wine"})
        self.cid = created["id"]

        # Not installed: start and status say so in one line.
        code, out = self.cbcs("service", "start", data_dir=False)
        self.assertNotEqual(code, 0)
        self.assertIn("the CBCS service is not installed: run cbcs service install", out)
        self.assertIn("service:          not installed", self.ok("service", "status"))

        self.ok("register", "-token", "-", stdin=created["token"] + "\n")
        out = self.ok("service", "install")
        self.assertIn("starting with the machine; data directory " + DATA_WIN, out)
        code, reg, _ = self.wine.run("reg", "query", SERVICE_KEY)
        self.assertEqual(code, 0, reg)
        self.assertRegex(reg, r'ImagePath\s+REG_SZ\s+"C:\\CBCS test\\cbcs\.exe" run --data-dir '
                              r'"C:\\ProgramData\\CBCS"')
        self.assertRegex(reg, r"Start\s+REG_DWORD\s+0x2")
        self.assertRegex(reg, r"PreshutdownTimeout\s+REG_DWORD\s+0x7530")
        # The description is the last of configure_recovery's settings (Wine 8 writes no
        # FailureActions value to read the failure actions back from).
        self.assertIn("Carries out certificate requests from the certificate manager", reg)
        self.assertIn("LocalSystem", reg)
        code, reg, _ = self.wine.run("reg", "query", EVENT_SOURCE)
        self.assertEqual(code, 0, f"no event source after cbcs service install: {reg}")
        self.assertRegex(reg, r"EventMessageFile\s+REG_EXPAND_SZ\s+C:\\CBCS test\\cbcs\.exe")
        self.assertEqual(self.service_state(), "STOPPED")
        # Installing again points the same service at the same place.
        self.ok("service", "install")

        self.assertIn("cbcs service started", self.ok("service", "start", data_dir=False))
        self.assertEqual(self.service_state(), "RUNNING")
        self.assertTrue(eventually(lambda: self.connector()["status"] == "Connected", 120, step=0.25),
                        f"not Connected: {self.connector()}")
        status = self.ok("service", "status")
        self.assertRegex(status, r"service:\s+running, starts with the machine, pid \d+")
        self.assertIn(r"defined in:       HKLM\SYSTEM\CurrentControlSet\Services\CBCS", status)
        self.assertRegex(status, "connector id: +" + re.escape(self.cid))
        # cbcs status sees the service's own process from outside it.
        self.assertRegex(status, r"connection:\s+(?!not running)\S+")

        sessions = self.connector()["sessions"]
        self.assertIn("cbcs service restarted", self.ok("service", "restart", data_dir=False))
        self.assertEqual(self.service_state(), "RUNNING")
        self.assertTrue(eventually(lambda: self.connector()["sessions"] > sessions
                                   and self.connector()["status"] == "Connected", 120, step=0.25),
                        f"no new session after the restart: {self.connector()}")

        self.assertIn("cbcs service stopped", self.ok("service", "stop", data_dir=False))
        self.assertEqual(self.service_state(), "STOPPED")
        self.assertTrue(eventually(lambda: self.connector()["status"] != "Connected", 60, step=0.25),
                        f"still Connected after the stop: {self.connector()}")

        out = self.ok("service", "uninstall", data_dir=False)
        self.assertIn("the data directory is kept", out)
        self.assertTrue(self.service_state().startswith("none"), self.last_state)
        code, reg, _ = self.wine.run("reg", "query", EVENT_SOURCE)
        self.assertNotEqual(code, 0, f"the event source is left after the uninstall: {reg}")
        self.assertTrue(os.path.exists(os.path.join(self.wine.unix(DATA_WIN), "identity.json")))
        # Uninstalling what is not installed is not an error.
        self.ok("service", "uninstall", data_dir=False)


if __name__ == "__main__":
    unittest.main()
