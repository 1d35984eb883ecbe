"""Help and timelines an operator reads (issue 28, items 9 and 10), through
the real binaries: `cbcs trace show` prints wall-clock UTC times and offsets
from the job's first event (not from some process's start), and `cbcs-sim`
lists its simulators, names them on a typo, and `cbcs-sim scm --help` says
how to get a connector and a token from the admin API (which is then tried
as written)."""

import calendar
import json
import os
import re
import select
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import TempDirTest, cbcs, openssl  # noqa: E402

SIM = os.path.join(harness.BUILD_DIR, "cbcs-sim")
SIMULATORS = ("scm", "digicert", "gcpcas")
# 2026-11-27T10:00:00.123Z +12.345s  actor  event ...
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) +\+(\d+)\.(\d{3})s  (\S+) +(\S+)")


def sim(*args):
    return subprocess.run([SIM, *args], capture_output=True, text=True, timeout=30)


class TraceShowTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", "-ca-name", "Help Test CA",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "web.key", "-out", "web.csr", "-subj", "/CN=web.example",
                "-addext", "subjectAltName=DNS:web.example", cwd=self.tmp)

    def parse(self, out):
        lines = out.splitlines()
        self.assertTrue(lines, out)
        parsed = []
        for line in lines:
            m = LINE.match(line)
            self.assertIsNotNone(m, f"not `UTC-time +offset actor event`: {line!r}\n{out}")
            parsed.append((m.group(1), int(m.group(2)) * 1000 + int(m.group(3)), line))
        return parsed

    def test_offsets_from_the_jobs_first_event_on_the_wall_clock(self):
        # Two processes (two enrolls of one job id), a second apart: their
        # monotonic clocks have different origins, the wall clock does not.
        for _ in range(2):
            r = cbcs("enroll", "-backend", "local", "-csr", self.path("web.csr"), "-id", "job-help-1",
                     data_dir=self.data)
            self.assertEqual(r.code, 0, r)
            time.sleep(1.1)
        # Another job, so that the unfiltered set's first event is not this job's.
        r = cbcs("enroll", "-backend", "local", "-csr", self.path("web.csr"), "-id", "job-help-2",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)

        shown = cbcs("trace", "show", "-job", "job-help-1", data_dir=self.data)
        self.assertEqual(shown.code, 0, shown)
        events = self.parse(shown.out)
        self.assertIn("+0.000s", events[0][2].split()[1], shown.out)
        self.assertEqual(events[0][1], 0, shown.out)
        offsets = [ms for _, ms, _ in events]
        self.assertEqual(offsets, sorted(offsets), shown.out)
        # The second enroll answered from the journal, a second or more later:
        # an offset of seconds, not the milliseconds (or hours) of a process clock.
        self.assertIn("duplicate", shown.out)
        self.assertGreaterEqual(offsets[-1], 1000, shown.out)
        self.assertLess(offsets[-1], 60_000, shown.out)
        # Offset = wall time - first wall time, to the millisecond.
        def wall_ms(text):
            t = time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
            return calendar.timegm(t) * 1000 + int(text[20:23])
        first = wall_ms(events[0][0])
        for stamp, ms, line in events:
            self.assertEqual(wall_ms(stamp) - first, ms, line)
        # Aligned: the actor column starts at the same place on every line.
        starts = {len(re.match(r"^\S+ +\S+  ", line).group(0)) for _, _, line in events}
        self.assertEqual(len(starts), 1, shown.out)

        # Without -job: offsets from the shown set's first event.
        everything = self.parse(cbcs("trace", "show", data_dir=self.data).out)
        self.assertEqual(everything[0][1], 0)
        all_offsets = [ms for _, ms, _ in everything]
        self.assertEqual(all_offsets, sorted(all_offsets))
        self.assertTrue(any("job=job-help-2" in line for _, _, line in everything))


class SimHelpTest(TempDirTest):
    def assert_lists_simulators(self, r):
        self.assertEqual(r.returncode, 0, r)
        for name in SIMULATORS:
            lines = [line for line in r.stdout.splitlines() if re.match(rf"^\s+{name}\s+\S", line)]
            self.assertEqual(len(lines), 1, f"{name}: {r.stdout}")

    def test_help_lists_the_simulators(self):
        for args in (("--help",), ("-h",), ()):
            with self.subTest(args=args):
                self.assert_lists_simulators(sim(*args))

    def test_unknown_simulator_exits_2_naming_the_known_ones(self):
        r = sim("digicret", "--state-dir", self.path("s"))
        self.assertEqual(r.returncode, 2, r)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("digicret", lines[0])
        for name in SIMULATORS:
            self.assertIn(name, lines[0])

    def test_scm_help_shows_how_to_create_a_connector_and_token(self):
        r = sim("scm", "--help")
        self.assertEqual(r.returncode, 0, r)
        for fragment in ("POST", "/connectors", "\"name\"", "token", "201", "curl",
                         "cbcs register -token", "/restore"):
            self.assertIn(fragment, r.stdout)
        self.assertEqual(sim("scm", "-h").stdout, r.stdout)

        # The curl example, as printed, against a running simulator.
        curl = [line for line in r.stdout.splitlines() if "-d '" in line or "curl " in line]
        body = json.loads(re.search(r"-d '(\{.*\})'", "\n".join(curl)).group(1))
        proc = subprocess.Popen([SIM, "scm", "--state-dir", self.path("sim")], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            self.assertTrue(ready, "cbcs-sim scm printed no ready line")
            info = json.loads(proc.stdout.readline())
            req = urllib.request.Request(info["admin_url"] + "/connectors", data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as res:
                self.assertEqual(res.status, 201)
                created = json.loads(res.read())
            self.assertEqual(created["status"], "Pending")
            self.assertTrue(created["id"].startswith("c-"), created)
            self.assertTrue(created["token"].startswith("cbcs1."), created)
            # The token is enough for register, as the help says.
            r = cbcs("register", "-token", "-", data_dir=self.path("data"), stdin=created["token"] + "\n")
            self.assertEqual(r.code, 0, r)
        finally:
            proc.terminate()
            proc.wait(10)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
