"""Crash and restart at once against the DigiCert simulator (issue 22 item
10): CertCentral takes 1.5 s to create each order (the simulator's `late`
fault: the order exists only when the answer leaves), `cbcs jobs run` is
SIGKILLed while its placements are in flight and run again at once, a few
times; then, counted at the simulator: exactly one order per job tag, and
every job reported with the serial of that order's certificate.

Before the placement was journaled in doubt, the run after a kill looked the
order up before CertCentral had made it, found nothing and ordered again.

CBCS_CRASH_JOBS / CBCS_CRASH_KILLS make it longer (benchmarks/crash_restart.py)."""

import os
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from crash_runs import final_run, killed_runs, write_enroll_jobs  # noqa: E402
from harness import TempDirTest, cbcs  # noqa: E402
from test_digicert_sim import DigiCertSim  # noqa: E402

JOBS = int(os.environ.get("CBCS_CRASH_JOBS", "5"))
# The first run is killed once every placement reached CertCentral; the next
# ones that many seconds after their start (during the wait in doubt, then
# during the lookups after it).
KILL_AFTER = [float(x) for x in os.environ.get("CBCS_CRASH_KILLS", "1.0,7.0,1.0").split(",")]
LATENCY_MS = 1500


class CrashDigiCertTest(TempDirTest):
    def test_sigkill_while_orders_are_being_made_places_one_order_per_job(self):
        started = time.monotonic()
        sim = DigiCertSim(self.path("sim"))
        self.addCleanup(sim.stop)
        data = self.path("data")
        # A request may take 2 s (+2 s to connect): a placement in doubt is
        # looked for 2 + 2 + 2 s after it left.
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-",
                 "-endpoint", sim.url, "-cacert", sim.ca_file, "-poll", "1s",
                 "-skipapproval", "true", "-requesttimeout", "2s",
                 data_dir=data, stdin=sim.api_key + "\n")
        self.assertEqual(r.code, 0, r)
        sim.admin("POST", "/faults", {"method": "POST", "path_prefix": "/services/v2/order/certificate/",
                                      "latency_ms": LATENCY_MS, "late": True, "count": 100000})
        jobs = self.path("jobs.jsonl")
        ids = write_enroll_jobs(self, jobs, "dc", "dc-crash", JOBS)

        def placements_sent():
            return len(sim.requests("POST", "/services/v2/order/certificate/"))
        # Killed the moment every placement has reached CertCentral, none of them made yet.
        placements_at_kill = killed_runs(jobs, data, KILL_AFTER,
                                         lambda: placements_sent() >= JOBS, placements_sent)
        code, errors, results = final_run(jobs, data)
        self.assertEqual(code, 0, errors)
        time.sleep(LATENCY_MS / 1000 + 0.5)  # anything still being made is made
        orders = sim.orders()
        per_tag = Counter(o["comments"] for o in orders)
        placements = len(sim.requests("POST", "/services/v2/order/certificate/"))
        print(f"{JOBS} jobs, kills after {KILL_AFTER} s, placements sent by then "
              f"{placements_at_kill}, placements {placements}, orders {len(orders)}, "
              f"{time.monotonic() - started:.1f} s", file=sys.stderr)
        self.assertGreater(placements_at_kill[0], 0, "no placement was in flight at the first kill")
        for job in ids:
            self.assertEqual(per_tag[f"cbcs job {job}"], 1, f"{job}: {per_tag}")
            self.assertEqual(results[job]["outcome"], "issued", results[job])
            order = next(o for o in orders if o["comments"] == f"cbcs job {job}")
            self.assertEqual(int(results[job]["serial"], 16), int(order["serial"], 16), job)
        self.assertEqual(len(orders), JOBS)


if __name__ == "__main__":
    unittest.main()
