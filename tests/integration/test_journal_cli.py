"""cbcs journal check | repair through the real binary: a journal of real
jobs on the built-in local CA, damaged by overwriting pages in the middle of
the file, found by check, repaired as far as it reads, the damaged file kept."""

import fcntl
import glob
import os
import re
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import TempDirTest, cbcs, openssl  # noqa: E402

JOBS = 40
PAGE = 4096


def counts(text):
    """The job counts of `cbcs journal check`'s lines, by their label."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(jobs [^:]+): (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


class JournalCliTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.journal = os.path.join(self.data, "journal.db")

    def make_jobs(self):
        r = cbcs("backend", "add", "-name", "local", "-type", "local", "-ca-name", "Test Local CA",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "web.key", "-out", "web.csr", "-subj", "/CN=web.example", cwd=self.tmp)
        for i in range(JOBS):
            r = cbcs("enroll", "-backend", "local", "-csr", self.path("web.csr"), "-id", f"job-{i}",
                     data_dir=self.data)
            self.assertEqual(r.code, 0, r)
        # Everything into the main file: the pages damaged below hold the jobs.
        db = sqlite3.connect(self.journal)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()

    def damage_pages(self, how_many):
        harness.damage_journal_pages(self, self.journal, how_many, PAGE)

    def test_no_journal_yet(self):
        os.makedirs(self.data, mode=0o700)
        r = cbcs("journal", "check", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("no journal yet", r.out)
        self.assertFalse(os.path.exists(self.journal))
        # A missing data directory is not created.
        r = cbcs("journal", "check", data_dir=self.path("missing"))
        self.assertNotEqual(r.code, 0, r)
        self.assertFalse(os.path.exists(self.path("missing")))

    def test_check_damage_repair(self):
        self.make_jobs()
        r = cbcs("journal", "check", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("integrity: ok", r.out)
        self.assertIn("verdict: ok", r.out)
        self.assertEqual(sum(counts(r.out).values()), JOBS, r)
        j = cbcs("journal", "check", "-json", data_dir=self.data)
        self.assertEqual(j.code, 0, j)
        self.assertIn('"verdict": "ok"', j.out)

        # A healthy journal: repair says so and changes nothing.
        with open(self.journal, "rb") as fh:
            before = fh.read()
        r = cbcs("journal", "repair", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("nothing changed", r.out)
        with open(self.journal, "rb") as fh:
            self.assertEqual(fh.read(), before)
        self.assertEqual(glob.glob(self.journal + ".damaged-*"), [])

        self.damage_pages(2)
        r = cbcs("journal", "check", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("integrity: damaged", r.out)
        self.assertRegex(r.out, r"damage: .*Page \d+")
        self.assertIn("verdict: damaged", r.out)
        self.assertIn("journal repair", r.out)
        j = cbcs("journal", "check", "-json", data_dir=self.data)
        self.assertEqual(j.code, 1, j)
        self.assertIn('"verdict": "damaged"', j.out)

        # While a service holds the data directory, repair refuses in one line.
        with open(os.path.join(self.data, "service.lock"), "w") as lock:
            lock.write(str(os.getpid()))
            lock.flush()
            fcntl.flock(lock, fcntl.LOCK_EX)
            r = cbcs("journal", "repair", data_dir=self.data)
            self.assertOneLineError(r, 1, f"pid {os.getpid()}", "stop it first")
            fcntl.flock(lock, fcntl.LOCK_UN)
        self.assertEqual(glob.glob(self.journal + ".damaged-*"), [])

        r = cbcs("journal", "repair", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        saved = int(re.search(r"^jobs saved: (\d+)$", r.out, re.M).group(1))
        lost = int(re.search(r"^jobs that could not be read: (\d+)$", r.out, re.M).group(1))
        self.assertGreater(saved, 0, r)
        self.assertGreater(lost, 0, r)
        self.assertEqual(saved + lost, JOBS, r)
        kept = glob.glob(self.journal + ".damaged-*")
        self.assertIn(re.search(r"damaged journal kept as (\S+)", r.out).group(1),
                      [k for k in kept if not k.endswith(("-wal", "-shm"))])
        self.assertFalse(os.path.exists(self.journal + ".repaired"))

        r = cbcs("journal", "check", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("verdict: ok", r.out)
        self.assertEqual(sum(counts(r.out).values()), saved, r)

        # The repaired journal works: a saved job answers from it, a new job goes in.
        r = cbcs("enroll", "-backend", "local", "-csr", self.path("web.csr"), "-id", "job-after",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("journal", "check", data_dir=self.data)
        self.assertEqual(sum(counts(r.out).values()), saved + 1, r)


if __name__ == "__main__":
    unittest.main()
