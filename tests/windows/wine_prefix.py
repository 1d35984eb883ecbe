"""What the Wine tests share: the Windows build they test (skipped, 77, with
the reason when it or Wine is missing), and a fresh Wine prefix with its own
wineserver whose processes never inherit ctest's pipes (that would hang it)."""

import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import SKIP, eventually  # noqa: E402


def skip(reason):
    print(f"SKIPPED: {reason}", flush=True)
    raise SystemExit(SKIP)


WIN_BUILD = os.environ.get("CBCS_WINDOWS_BUILD_DIR", "")
WINE = os.environ.get("CBCS_WINE", "/usr/lib/wine/wine64")
WINESERVER = shutil.which("wineserver") or "/usr/lib/wine/wineserver"


def require_windows_build():
    if not WIN_BUILD or not os.path.isdir(WIN_BUILD):
        skip(f"no Windows cross build at '{WIN_BUILD}' (packaging/windows/build.sh makes build-windows)")
    # packaging/windows/build.sh writes why it could not cross-build here.
    unavailable = os.path.join(WIN_BUILD, "UNAVAILABLE")
    if os.path.exists(unavailable):
        with open(unavailable) as fh:
            skip(fh.read().strip())
    if not os.access(WINE, os.X_OK) or not os.access(WINESERVER, os.X_OK):
        skip("wine64 is not installed (packaging/windows/build.sh installs it)")


def cross_built_cbcs():
    """build-windows/cbcs.exe; skipped (77) with the reason when it or Wine is missing."""
    require_windows_build()
    exe = os.path.join(WIN_BUILD, "cbcs.exe")
    if not os.path.exists(exe):
        skip(f"{exe} is not built (packaging/windows/build.sh)")
    return exe


class Wine:
    """One prefix, its own wineserver; every Wine process with /dev/null streams."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.env = dict(os.environ, WINEPREFIX=prefix, WINEDEBUG="-all",
                        # No Mono or Gecko installer on a fresh prefix.
                        WINEDLLOVERRIDES="mscoree=d;mshtml=d", WINEARCH="win64")
        self.env.pop("DISPLAY", None)
        self.env.pop("CBCS_DATA_DIR", None)

    def boot(self):
        shutil.rmtree(self.prefix, True)
        os.makedirs(self.prefix)
        t0 = time.monotonic()
        subprocess.Popen([WINESERVER, "-p"], env=self.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True).wait(timeout=60)
        # Plain wineboot: after "wineboot -i" a deferred action's OpenService
        # did not see the service InstallServices had just created (1060).
        subprocess.run([WINE, "wineboot"], env=self.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       start_new_session=True, timeout=300, check=True)
        return time.monotonic() - t0

    def stop(self):
        subprocess.run([WINESERVER, "-k"], env=self.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def run(self, *args, stdin=None, timeout=180):
        """(exit code as Wine reports it: the low 8 bits, 1603 is 67), stdout, stderr."""
        r = subprocess.run([WINE, *args], env=self.env, input=stdin, capture_output=True,
                           text=True, timeout=timeout, start_new_session=True)
        return r.returncode, r.stdout, r.stderr

    def unix(self, windows_path):
        assert windows_path[1:3] == ":\\"
        return os.path.join(self.prefix, "drive_c", *windows_path[3:].split("\\"))


class ServiceChecks:
    """For a unittest.TestCase with self.wine: the service CBCS as sc sees it."""

    def service_state(self):
        code, out, _ = self.wine.run("sc", "query", "CBCS", timeout=60)
        m = re.search(r"STATE\s*:\s*\d+\s+(\w+)", out)
        self.last_state = m.group(1) if m else f"none (sc exit {code})"
        return self.last_state

    def wait_for_state(self, state, what):
        if not eventually(lambda: self.service_state() == state, 120, step=0.25):
            self.fail(f"timed out waiting for {what}: service CBCS is {self.last_state}")

    def sc(self, verb):
        code, out, err = self.wine.run("sc", verb, "CBCS", timeout=120)
        self.assertEqual(code, 0, f"sc {verb} CBCS: {out}{err}")
