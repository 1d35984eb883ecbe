"""The Debian package's files, modes and control data (dpkg-deb), and what
lintian says about it: no errors."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from deb import build_deb, skip  # noqa: E402

if not shutil.which("dpkg-deb") or not shutil.which("cpack"):
    skip("dpkg-deb or cpack is not installed")
if not shutil.which("lintian"):
    skip("lintian is not installed (packaging/install-deps.sh installs it)")


class DebContentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cbcs-deb-")
        cls.deb, cls.version = build_deb(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def dpkg_deb(self, *args):
        return subprocess.run(["dpkg-deb", *args, self.deb], capture_output=True, text=True,
                              check=True).stdout

    def test_files_and_modes(self):
        entries = {}
        for line in self.dpkg_deb("-c").splitlines():
            mode, owner, _size, _date, _time, path = line.split(None, 5)
            entries[path.lstrip(".")] = (mode, owner)
        expected = {
            "/usr/bin/cbcs": "-rwxr-xr-x",
            "/lib/systemd/system/cbcs.service": "-rw-r--r--",
            "/usr/share/man/man1/cbcs.1.gz": "-rw-r--r--",
            "/usr/share/bash-completion/completions/cbcs": "-rw-r--r--",
            "/usr/share/doc/cbcs/copyright": "-rw-r--r--",
            "/usr/share/doc/cbcs/changelog.gz": "-rw-r--r--",
        }
        for path, mode in expected.items():
            self.assertIn(path, entries)
            self.assertEqual(entries[path], (mode, "root/root"), path)
        for path, (mode, owner) in entries.items():
            self.assertEqual(owner, "root/root", path)
            if mode.startswith("d"):
                self.assertEqual(mode, "drwxr-xr-x", path)
        # Nothing in /var/lib/cbcs or /etc: postinst makes the data directory 0700.
        self.assertFalse([p for p in entries if p.startswith(("/var", "/etc"))], entries)

    def test_control_and_maintainer_scripts(self):
        info = self.dpkg_deb("-I")
        self.assertIn(f"Version: {self.version}", info)
        self.assertIn("Package: cbcs", info)
        depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
        for dep in ("adduser", "libc6", "libssl3", "libcaf-core0.17"):
            self.assertIn(dep, depends)
        for script in ("postinst", "prerm", "postrm"):
            self.assertRegex(info, rf"\d+ bytes, +\d+ lines +\* +{script} +#!/bin/sh")
        unit = subprocess.run(["dpkg-deb", "--fsys-tarfile", self.deb], capture_output=True,
                              check=True).stdout
        self.assertIn(b"Type=notify", unit)

    def test_man_page_and_completion_list_every_command(self):
        root = os.path.join(self.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", self.deb, root], check=True)
        man = subprocess.run(["gzip", "-dc", os.path.join(root, "usr/share/man/man1/cbcs.1.gz")],
                             capture_output=True, text=True, check=True).stdout
        with open(os.path.join(root, "usr/share/bash-completion/completions/cbcs")) as fh:
            completion = fh.read()
        for command in ("register", "run", "status", "service install", "service status",
                        "backend add", "trace export"):
            self.assertIn(f'.SS "cbcs {command}', man)
            self.assertIn(f'"{command}") words=', completion)
        self.assertIn("-journal-retention", completion)
        self.assertIn(r".B \-token", man)
        if shutil.which("bash"):
            # The completion answers: `cbcs serv<TAB>` and `cbcs service st<TAB>`.
            script = (f"source {root}/usr/share/bash-completion/completions/cbcs; "
                      "COMP_WORDS=(cbcs service st); COMP_CWORD=2; _cbcs; echo ${COMPREPLY[*]}")
            out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout
            self.assertEqual(out.split(), ["start", "status", "stop"])
        if shutil.which("man"):
            r = subprocess.run(["man", "--warnings", "-l", "-"], input=man, capture_output=True,
                               text=True, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", "groff warnings")

    def test_lintian_reports_no_errors(self):
        r = subprocess.run(["lintian", "--tag-display-limit", "0", self.deb], capture_output=True,
                           text=True)
        errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
        self.assertEqual(errors, [], r.stdout)
        print(f"lintian: {r.stdout.strip() or 'nothing to report'}", file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
