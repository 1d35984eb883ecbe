"""Builds the Debian package from the build tree with cpack, into a
directory of the caller's: the release build, or the upgrade test's build
(build/upgrade-test/cbcs, a higher version) packed the same way."""

import fcntl
import os
import re
import subprocess

BUILD_DIR = os.environ.get("CBCS_BUILD_DIR",
                           os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SKIP = 77


def skip(reason):
    print(f"SKIPPED: {reason}", flush=True)
    raise SystemExit(SKIP)


def version_of(binary):
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=True).stdout
    return re.match(r"cbcs (\S+) ", out).group(1)


def build_deb(out_dir, upgrade=False):
    """The .deb's path; upgrade: build/upgrade-test/cbcs at its version."""
    binary = os.path.join(BUILD_DIR, "upgrade-test" if upgrade else "", "cbcs")
    version = version_of(binary)
    cmd = ["cpack", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"), "-G", "DEB",
           "-B", os.path.join(out_dir, "cpack"), "-D", f"CPACK_OUTPUT_FILE_PREFIX={out_dir}",
           "-D", f"CPACK_PACKAGE_VERSION={version}"]
    if upgrade:
        cmd += ["-D", f"CBCS_PACKAGE_BINARY={os.path.abspath(binary)}"]
    # cpack writes beside the build's install manifest: one at a time.
    with open(os.path.join(BUILD_DIR, ".cpack.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=BUILD_DIR)
    if r.returncode != 0:
        raise AssertionError(f"cpack failed:\n{r.stdout}\n{r.stderr}")
    debs = [f for f in os.listdir(out_dir) if f.endswith(".deb") and f"_{version}_" in f]
    if len(debs) != 1:
        raise AssertionError(f"cpack made {debs} in {out_dir}")
    return os.path.join(out_dir, debs[0]), version
