"""Crash and restart at once against the Google CA Service simulator (issue
22, "Show"): each certificate takes 1.5 s to be made (the simulator's `late`
fault: it exists only when the answer leaves), `cbcs jobs run` is SIGKILLed
while its creates are in flight and run again at once, a few times; then,
counted at the simulator: exactly one certificate per job (CA Service
deduplicates by requestId and certificateId, both derived from the job id),
and every job reported issued with a serial of its own.

CBCS_CRASH_JOBS / CBCS_CRASH_KILLS make it longer."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, TempDirTest, cbcs, openssl  # noqa: E402
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
        with open(jobs, "w") as fh:
            for i in range(JOBS):
                stem = f"g{i}"
                openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
                        "-subj", f"/CN=gcrash{i}.example", "-addext",
                        f"subjectAltName=DNS:gcrash{i}.example", cwd=self.tmp)
                with open(self.path(f"{stem}.csr")) as c:
                    fh.write(json.dumps({"id": f"gcp-crash-{i:04d}", "operation": "enroll",
                                         "backend": "gcp", "csr": c.read()}) + "\n")
        cmd = [CBCS, "jobs", "run", "-file", jobs, "--data-dir", data]
        creates_at_kill = []
        for k, after in enumerate(KILL_AFTER):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if k == 0:
                # Killed once every create has reached the service, none made yet.
                deadline = time.monotonic() + 10
                while (time.monotonic() < deadline and
                       len([q for q in sim.requests("/v1/projects/")
                            if q.get("method") == "POST"]) < JOBS):
                    time.sleep(0.02)
            else:
                time.sleep(after)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            creates_at_kill.append(sim.stats()["certificates_created"])
        final = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(final.returncode, 0, final.stderr)
        time.sleep(LATENCY_MS / 1000 + 0.5)  # anything still being made is made
        results = {}
        for line in final.stdout.splitlines():
            if line.strip():
                r = json.loads(line)
                results[r["id"]] = r["result"]
        stats = sim.stats()
        print(f"{JOBS} jobs, kills after {KILL_AFTER} s, certificates made by then "
              f"{creates_at_kill}, made {stats['certificates_created']}, deduplicated "
              f"{stats['deduplicated']}, {time.monotonic() - started:.1f} s", file=sys.stderr)
        serials = set()
        for i in range(JOBS):
            job = f"gcp-crash-{i:04d}"
            self.assertEqual(results[job]["outcome"], "issued", results[job])
            serials.add(int(results[job]["serial"], 16))
        self.assertEqual(len(serials), JOBS, "two jobs were reported with one serial")
        self.assertEqual(stats["certificates_created"], JOBS, stats)


if __name__ == "__main__":
    unittest.main()
