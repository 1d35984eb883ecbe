"""Crash and restart at once against the Google CA Service simulator (issue
22, "Show"): each certificate takes 1.5 s to be made (the simulator's `late`
fault: it exists only when the answer leaves), `cbcs jobs run` is SIGKILLed
while its creates are in flight and run again at once, a few times; then,
counted at the simulator: exactly one certificate per job (CA Service
deduplicates by requestId and certificateId, both derived from the job id),
and every job reported issued with a serial of its own.

CBCS_CRASH_JOBS / CBCS_CRASH_KILLS make it longer."""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from crash_runs import final_run, killed_runs, write_enroll_jobs  # noqa: E402
from harness import TempDirTest, cbcs  # noqa: E402
from gcpcas_sim import SIM, GcpCasSim  # noqa: E402

JOBS = int(os.environ.get("CBCS_CRASH_JOBS", "5"))
KILL_AFTER = [float(x) for x in os.environ.get("CBCS_CRASH_KILLS", "0.5,2.0,1.0").split(",")]
LATENCY_MS = 1500


class CrashGcpCasTest(TempDirTest):
    def test_sigkill_while_certificates_are_being_made_issues_one_per_job(self):
        if not os.path.exists(SIM):
            raise unittest.SkipTest(f"{SIM} is not built")
        started = time.monotonic()
        sim = GcpCasSim(self.path("sim"))
        self.addCleanup(sim.stop)
        data = self.path("data")
        r = cbcs("backend", "add", "-name", "gcp", "-type", "gcpcas", "-project", sim.project,
                 "-location", sim.location, "-key", sim.key_file, "-endpoint", sim.url,
                 "-cacert", sim.ca_file, "-requesttimeout", "3s", data_dir=data)
        self.assertEqual(r.code, 0, r)
        sim.admin("POST", "/faults", {"method": "POST", "path_prefix": "/v1/projects/",
                                      "latency_ms": LATENCY_MS, "late": True, "count": 100000})
        jobs = self.path("jobs.jsonl")
        ids = write_enroll_jobs(self, jobs, "gcp", "gcp-crash", JOBS)

        def creates_sent():
            return len([q for q in sim.requests("/v1/projects/") if q.get("method") == "POST"])
        creates_at_kill = killed_runs(jobs, data, KILL_AFTER, lambda: creates_sent() >= JOBS,
                                      lambda: sim.stats()["certificates_created"])
        code, errors, results = final_run(jobs, data)
        self.assertEqual(code, 0, errors)
        time.sleep(LATENCY_MS / 1000 + 0.5)  # anything still being made is made
        stats = sim.stats()
        print(f"{JOBS} jobs, kills after {KILL_AFTER} s, certificates made by then "
              f"{creates_at_kill}, made {stats['certificates_created']}, deduplicated "
              f"{stats['deduplicated']}, {time.monotonic() - started:.1f} s", file=sys.stderr)
        serials = set()
        for job in ids:
            self.assertEqual(results[job]["outcome"], "issued", results[job])
            serials.add(int(results[job]["serial"], 16))
        self.assertEqual(len(serials), JOBS, "two jobs were reported with one serial")
        self.assertEqual(stats["certificates_created"], JOBS, stats)


if __name__ == "__main__":
    unittest.main()
