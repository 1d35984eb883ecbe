"""The MSI's setup wizard in a real window: msiexec /i with its full UI under
Wine on a virtual X display (Xvfb), driven with xdotool as an administrator
would: Welcome, accept the licence, keep the folder, paste a token from the
SCM simulator (a damaged one first: refused, the reason on the page), a
manual proxy at tinyproxy with Basic authentication, Test Connection (a
wrong password first: 407 on the page; then connected), Ready, Install,
Finish; the service runs and SCM shows the connector Connected. Then the next
version over it: the folder page says the registration is kept and Next goes
to Ready, past the token and proxy pages; Connected with the new version. Each page is
found by its window title (one per page) and photographed into the build
tree (CBCS_WINDOWS_BUILD_DIR/wizard-screenshots/*.png); what the pages
showed is read back from the MSI log, where the DLL writes each check's line.
Skipped (77) with the reason without Xvfb, xdotool or xwd."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from screenshot import screenshot  # noqa: E402
from wine_prefix import (WINE, WIN_BUILD, ServiceChecks, Wine, eventually,  # noqa: E402
                         require_windows_build, skip)

require_windows_build()
for tool in ("Xvfb", "xdotool", "xwd"):
    if not shutil.which(tool):
        skip(f"{tool} is not installed (packaging/windows/build.sh installs xvfb, xdotool, x11-apps)")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from test_proxy import PASSWORD, TINYPROXY, USER, Tinyproxy  # noqa: E402
from test_scm_link import SIM, Scm  # noqa: E402
from test_msi_wine import MSI1, MSI2, V2  # noqa: E402

if TINYPROXY is None:
    skip("tinyproxy is not installed (the proxy page is tested through it)")

TITLE = "CA Backend Connector Service Setup: "
SHOTS = os.path.join(WIN_BUILD, "wizard-screenshots")
EXE_WIN = r"C:\Program Files\CBCS\cbcs.exe"


class Display:
    """Xvfb on a display number it picks itself (-displayfd)."""

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1024x768x24",
                                      "-nolisten", "tcp"], pass_fds=(write,), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(write)
        with os.fdopen(read) as fh:
            number = fh.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        self.name = ":" + number

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class WizardTest(ServiceChecks, unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cbcs-msi-ui-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.display = Display()
        self.addCleanup(self.display.stop)
        self.wine = Wine(os.path.join(WIN_BUILD, "msi-ui-test", "prefix"))
        self.wine.env["DISPLAY"] = self.display.name
        self.addCleanup(self.wine.stop)
        self.wine.boot()
        self.scm = Scm(os.path.join(self.tmp, "scm"))
        self.addCleanup(self.scm.stop)
        self.proxy = Tinyproxy(self.tmp)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        shutil.rmtree(SHOTS, True)
        os.makedirs(SHOTS)
        self.shots = []
        self.seen = set()
        self.x = dict(os.environ, DISPLAY=self.display.name)

    def xdotool(self, *args):
        return subprocess.run(["xdotool", *args], env=self.x, capture_output=True, text=True,
                              timeout=30).stdout.strip()

    def page(self, name, shot):
        """Waits for the page's window (its title names the page), photographs it, focuses it."""
        found = []

        # A page shown again (NewDialog to itself, to show a check's line) is a new window.
        def shown():
            found[:] = [w for w in self.xdotool("search", "--name", f"^{TITLE}{name}$").split()
                        if w not in self.seen]
            return bool(found)

        if not eventually(shown, 60, step=0.2):
            titles = [self.xdotool("getwindowname", w) for w in self.xdotool("search", "--name", ".").split()]
            self.fail(f"no page '{name}'; windows: {titles}")
        window = found[-1]
        self.seen.add(window)
        self.assertEqual(self.xdotool("getwindowname", window), TITLE + name)
        time.sleep(0.3)  # drawn
        path = os.path.join(SHOTS, f"{len(self.shots) + 1:02d}-{shot}.png")
        screenshot(self.display.name, path, self.x, window)
        self.shots.append(path)
        self.xdotool("windowfocus", "--sync", window)
        return window

    def keys(self, *keys):
        for k in keys:
            self.xdotool("key", "--clearmodifiers", k)
            time.sleep(0.05)

    def type(self, text):
        self.xdotool("type", "--delay", "1", text)

    def clear_field(self):
        self.keys("End", "shift+Home", "BackSpace")

    def log_text(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log, "rb") as fh:
            raw = fh.read()
        return raw.decode("utf-16" if raw[:2] == b"\xff\xfe" else "utf-8", "replace")

    def logged(self, line):
        """Waits for a line the DLL logged (what the page showed)."""
        if not eventually(lambda: line in self.log_text(), 60, step=0.2):
            said = [x for x in self.log_text().splitlines() if x.startswith("CBCS:")]
            self.fail(f"not in the MSI log: {line}; the DLL's lines: {said}")

    def msiexec(self, msi):
        """msiexec /i with its full UI, logging to self.log (no property dump)."""
        self.log = os.path.join(self.tmp, f"msiexec-{os.path.basename(msi)}.log")
        self.seen = set()  # a new X client may get the ids of the one that ended
        proc = subprocess.Popen(
            [WINE, "msiexec", "/i", "Z:" + msi.replace("/", "\\"), "/liwearmo",
             "Z:" + self.log.replace("/", "\\")],
            env=self.wine.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def test_the_wizard_installs_and_registers_through_the_proxy(self):
        created = self.scm.call("POST", "/connectors", {"name": "wizard", "comments": "wine ui"})
        cid, token = created["id"], created["token"]
        t0 = time.monotonic()
        msiexec = self.msiexec(MSI1)

        self.page("Welcome", "welcome")
        self.keys("Return")
        self.page("Licence Agreement", "licence")
        self.keys("alt+a", "alt+n")  # accept, Next
        self.page("Installation Folder", "folder")
        self.keys("alt+n")
        self.page("Installation Token", "token")
        # A damaged token: refused by cbcs register's check, the reason on the page.
        self.type(token[:-4])
        self.keys("alt+n")
        self.logged("CBCS: token check: Token not accepted: ")
        self.page("Installation Token", "token-refused")
        self.clear_field()
        self.type(token)
        self.keys("alt+n")
        self.logged("CBCS: token check: Token accepted: SCM " + self.scm.url.rstrip("/"))
        self.page("Proxy Settings", "proxy")
        # Manual; then each field in the tab order: Address, Port, Username, Password.
        self.keys("alt+m", "Tab")
        self.type("127.0.0.1")
        self.keys("Tab")
        self.type(str(self.proxy.port))
        self.keys("Tab")
        self.type(USER)
        self.keys("Tab")
        self.type("wrong-" + PASSWORD)
        self.keys("alt+t")  # Test Connection
        # tinyproxy answers a wrong password with 401 (a proxy should say 407): either is shown.
        self.logged("CBCS: Test Connection: The proxy refused the credentials (HTTP 40")
        self.page("Proxy Settings", "proxy-407")
        self.keys("Tab", "Tab", "Tab", "Tab")  # from the radio buttons to the password
        self.clear_field()
        self.type(PASSWORD)
        self.keys("alt+t")
        self.logged("CBCS: Test Connection: Connected to SCM through the proxy (TLS peer certificate")
        self.page("Proxy Settings", "proxy-connected")
        self.keys("alt+n")
        self.page("Ready to Install", "ready")
        self.keys("alt+i")
        self.page("Installing", "progress")
        self.page("Completed", "finish")
        self.keys("alt+f")
        self.assertEqual(msiexec.wait(timeout=60), 0, self.log_text()[-3000:])
        print(f"wizard to Finish: {time.monotonic() - t0:.1f} s", file=sys.stderr)

        log = self.log_text()
        self.assertIn(f"CBCS: cbcs register: registered as connector {cid}", log)
        self.assertTrue(os.path.exists(self.wine.unix(EXE_WIN)))
        for name in ("LICENSE.txt", "THIRD-PARTY-NOTICES.txt"):
            self.assertTrue(os.path.exists(self.wine.unix(r"C:\Program Files\CBCS" + "\\" + name)), name)
        self.wait_for_state("RUNNING", "service CBCS running")
        if not eventually(lambda: self.scm.connector(cid)["status"] == "Connected", 120, step=0.25):
            self.fail("the connector is not Connected in SCM")
        code, out, err = self.wine.run(EXE_WIN, "proxy", "show", "--data-dir", r"C:\ProgramData\CBCS")
        self.assertRegex(out, rf"type:\s+manual\s+address:\s+127\.0\.0\.1\s+port:\s+{self.proxy.port}")
        self.assertGreater(self.proxy.connects_to(int(self.scm.url.rsplit(":", 1)[1])), 0)
        # The password typed on the page is in no log line (the DLL never writes it).
        for line in log.splitlines():
            if line.startswith("CBCS:"):
                self.assertNotIn(PASSWORD, line)
                self.assertNotIn(token, line)

        # The next version over it: the connector is registered, so the folder page says the
        # registration is kept and Next goes to Ready, past the token and proxy pages.
        t1 = time.monotonic()
        msiexec = self.msiexec(MSI2)
        self.page("Welcome", "upgrade-welcome")
        self.keys("Return")
        self.page("Licence Agreement", "upgrade-licence")
        self.keys("alt+a", "alt+n")
        self.page("Installation Folder", "upgrade-folder")
        self.logged("CBCS: the connector is registered: the wizard keeps its identity")
        self.keys("alt+n")
        self.page("Ready to Install", "upgrade-ready")
        self.keys("alt+i")
        self.page("Completed", "upgrade-finish")
        self.keys("alt+f")
        self.assertEqual(msiexec.wait(timeout=60), 0, self.log_text()[-3000:])
        print(f"upgrade wizard to Finish: {time.monotonic() - t1:.1f} s", file=sys.stderr)
        log = self.log_text()
        self.assertIn("CBCS: no TOKEN given and the connector is registered: identity kept", log)
        self.assertNotIn("CBCS: token check", log)
        if not eventually(lambda: self.scm.connector(cid)["status"] == "Connected"
                          and self.scm.connector(cid)["version"] == V2, 120, step=0.25):
            self.fail(f"the connector is not Connected with version {V2} after the upgrade")
        self.assertEqual(len(self.shots), 16)


if __name__ == "__main__":
    if not os.access(SIM, os.X_OK):
        skip(f"{SIM} is not built (the native build runs the SCM simulator)")
    unittest.main()
