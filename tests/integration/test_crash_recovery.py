"""Kill the connector (SIGKILL) at random points while it works through a
batch of jobs on the local CA (from outside, and from inside at a trace
point), restart it, and prove from the local CA's serial
ledger that every job was issued exactly once and none was lost."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, TempDirTest, cbcs, openssl  # noqa: E402

JOBS = 1000
KILLS = 8


class CrashRecoveryTest(TempDirTest):
    def test_sigkill_loses_nothing_and_issues_nothing_twice(self):
        data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        self.assertEqual(r.code, 0, r)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "k.pem", "-out", "r.csr", "-subj", "/CN=crash.example", cwd=self.tmp)
        with open(self.path("r.csr")) as fh:
            csr = fh.read()
        jobs = self.path("jobs.jsonl")
        with open(jobs, "w") as fh:
            for i in range(JOBS):
                fh.write(json.dumps({"id": f"crash-{i:04d}", "operation": "enroll", "backend": "local",
                                     "csr": csr, "validity_seconds": 86400}) + "\n")

        rng = random.Random(int(os.environ.get("CBCS_TEST_SEED", "7")))
        cmd = [CBCS, "jobs", "run", "-file", jobs, "--json", "--data-dir", data]
        ledger_file = os.path.join(data, "local-ca", "local", "ledger.db")

        def ledger_count():
            if not os.path.exists(ledger_file):
                return 0
            db = sqlite3.connect(ledger_file)
            try:
                return db.execute("SELECT count(*) FROM issued").fetchone()[0]
            finally:
                db.close()

        killed_mid_batch = 0
        counts = []
        for k in range(KILLS):
            # The local CA signs ~5,000 certificates/s, faster than a timed kill
            # can aim: every other run kills itself (CBCS_CRASH_AT, SIGKILL
            # from inside) after a random number of results; the others are
            # killed from outside at a random early moment.
            env = dict(os.environ)
            if k % 2 == 0:
                env["CBCS_CRASH_AT"] = f"result:{rng.randint(20, 100)}"
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            if k % 2 == 1:
                time.sleep(rng.uniform(0.02, 0.2))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            proc.wait()
            n = ledger_count()
            counts.append(n)
            if proc.returncode == -signal.SIGKILL and 0 < n < JOBS:
                killed_mid_batch += 1

        final = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(final.returncode, 0, final.stderr)
        results = [json.loads(line) for line in final.stdout.splitlines() if line.strip()]
        by_id = {r["id"]: r["result"] for r in results}
        self.assertEqual(len(by_id), JOBS)
        for i in range(JOBS):
            self.assertEqual(by_id[f"crash-{i:04d}"]["outcome"], "issued")

        ledger = sqlite3.connect(os.path.join(data, "local-ca", "local", "ledger.db"))
        rows = ledger.execute("SELECT job_id, serial FROM issued").fetchall()
        ledger.close()
        issued_per_job = {}
        for job_id, serial in rows:
            issued_per_job.setdefault(job_id, []).append(serial)
        self.assertEqual(len(rows), JOBS, "the ledger must hold exactly one certificate per job")
        self.assertTrue(all(len(s) == 1 for s in issued_per_job.values()))
        for job_id, serials in issued_per_job.items():
            self.assertEqual(by_id[job_id]["serial"], serials[0], job_id)
        print(f"ledger counts after each kill: {counts}; {JOBS} jobs, {len(rows)} certificates",
              file=sys.stderr)
        self.assertGreater(killed_mid_batch, 0, "no run was killed mid-batch: the test proved nothing")


if __name__ == "__main__":
    unittest.main()
