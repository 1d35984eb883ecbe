#!/usr/bin/env python3
"""benchmarks/crash_restart: crash and restart at once against the DigiCert
simulator, with more jobs than the suite's test (issue 22 item 10; the same
approach as tests/integration/test_crash_digicert.py).

CertCentral takes --latency-ms (1500) to create each order: the simulator's
`late` fault runs the order's handler only when the latency has passed, so an
order exists only when its answer leaves, whether or not cbcs still waits for
it. `cbcs jobs run -file jobs.jsonl` is SIGKILLed --kills times and run again
at once each time: the first run the moment the first placements have reached
the simulator (none made yet), the next ones at random moments (seeded) between
--min-after and --max-after seconds after their start: during the wait in
doubt (-requesttimeout 2s: a placement is looked for 2 + 2 + 2 s after it
left), the lookups after it and the new placements. A last run goes to the
end. Then, counted at the simulator: orders per job tag (must be exactly 1),
and every job reported `issued` with the serial of its order's certificate.

    python3 benchmarks/crash_restart.py                    # 50 jobs, 5 kills
    python3 benchmarks/crash_restart.py --jobs 100 --kills 8 --seed 7
    python3 benchmarks/crash_restart.py --kill-times 1,7,1,3,9   # seconds after each start (the first: 0 = at the first placements)
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("CBCS_BUILD_DIR", os.path.join(HERE, "..", "build"))
from harness import CBCS, cbcs, openssl  # noqa: E402
from test_digicert_sim import DigiCertSim  # noqa: E402

ORDER_PREFIX = "/services/v2/order/certificate/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-after", type=float, default=0.5)
    ap.add_argument("--max-after", type=float, default=9.0)
    ap.add_argument("--kill-times", default="", help="explicit seconds after each start, comma-separated")
    ap.add_argument("--latency-ms", type=int, default=1500)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if args.kill_times:
        kill_after = [float(x) for x in args.kill_times.split(",")]
    else:
        kill_after = [0.0] + [round(rng.uniform(args.min_after, args.max_after), 2)
                              for _ in range(args.kills - 1)]
    root = tempfile.mkdtemp(prefix="cbcs-crash-")
    started = time.monotonic()
    sim = DigiCertSim(os.path.join(root, "sim"))
    failed = False
    try:
        data = os.path.join(root, "data")
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-",
                 "-endpoint", sim.url, "-cacert", sim.ca_file, "-poll", "1s",
                 "-skipapproval", "true", "-requesttimeout", "2s",
                 data_dir=data, stdin=sim.api_key + "\n")
        if r.code != 0:
            raise SystemExit(f"backend add failed: {r}")
        sim.admin("POST", "/faults", {"method": "POST", "path_prefix": ORDER_PREFIX,
                                      "latency_ms": args.latency_ms, "late": True, "count": 1000000})
        jobs = os.path.join(root, "jobs.jsonl")
        with open(jobs, "w") as fh:
            for i in range(args.jobs):
                stem = f"j{i}"
                openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
                        "-subj", f"/CN=crash{i}.example", "-addext",
                        f"subjectAltName=DNS:crash{i}.example", cwd=root)
                with open(os.path.join(root, f"{stem}.csr")) as c:
                    fh.write(json.dumps({"id": f"dc-crash-{i:04d}", "operation": "enroll",
                                         "backend": "dc", "csr": c.read()}) + "\n")
        env = dict(os.environ)
        env.pop("CBCS_DATA_DIR", None)
        cmd = [CBCS, "jobs", "run", "-file", jobs, "--data-dir", data]
        at_kill, t_runs = [], time.monotonic()
        for k, after in enumerate(kill_after):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            if k == 0 and after == 0:
                # The moment the first placements reach CertCentral (as many as
                # go out at once, up to -maxconnections 16), none made yet.
                want = min(args.jobs, 16)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and len(sim.requests("POST", ORDER_PREFIX)) < want:
                    time.sleep(0.02)
            else:
                time.sleep(after)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            at_kill.append((len(sim.requests("POST", ORDER_PREFIX)), len(sim.orders())))
        t_final = time.monotonic()
        final = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        final_wall = time.monotonic() - t_final
        time.sleep(args.latency_ms / 1000 + 0.5)  # anything still being made is made
        results = {}
        for line in final.stdout.splitlines():
            if line.strip():
                x = json.loads(line)
                results[x["id"]] = x["result"]
        orders = sim.orders()
        per_tag = Counter(o["comments"] for o in orders)
        placed = sim.requests("POST", ORDER_PREFIX)
        placements = len(placed)
        # Placements beyond one per job: which job, and what the simulator answered.
        by_job = Counter()
        for p in placed:
            for i in range(args.jobs):
                if f"dc-crash-{i:04d}" in p["body"]:
                    by_job[f"dc-crash-{i:04d}"] += 1
        extra = [(job, [(p["status"], p["fault"]) for p in placed if job in p["body"]])
                 for job, n in sorted(by_job.items()) if n > 1]
        one_order = with_serial = 0
        problems = []
        for i in range(args.jobs):
            job = f"dc-crash-{i:04d}"
            n = per_tag[f"cbcs job {job}"]
            one_order += n == 1
            res = results.get(job, {})
            order = next((o for o in orders if o["comments"] == f"cbcs job {job}"), None)
            ok = (n == 1 and res.get("outcome") == "issued" and order is not None and
                  res.get("serial") and int(res["serial"], 16) == int(order["serial"], 16))
            with_serial += bool(ok)
            if n != 1 or not ok:
                problems.append(f"{job}: {n} orders, result {res.get('outcome')} "
                                f"{res.get('serial', '')} {res.get('message', '')}".strip())
        failed = final.returncode != 0 or one_order != args.jobs or with_serial != args.jobs \
            or len(orders) != args.jobs
        print(f"kills after {kill_after} s (0 = at the first placements); "
              f"(placements sent, orders made) at each kill: {at_kill}")
        print(f"final run: exit {final.returncode}, {final_wall:.1f} s; "
              f"{final.stderr.strip().splitlines()[-1] if final.stderr.strip() else ''}")
        for job, answers in extra:
            print(f"  {job} placed {len(answers)} times, answered (status, fault): {answers}")
        for p in problems[:20]:
            print("  " + p)
        print(f"crash_restart: {args.jobs} jobs, {len(kill_after)} kills, latency {args.latency_ms} ms: "
              f"placements {placements}, orders {len(orders)}, jobs with exactly one order "
              f"{one_order}/{args.jobs}, issued with their order's serial {with_serial}/{args.jobs}, "
              f"tags with 2+ orders {sum(1 for v in per_tag.values() if v > 1)}; "
              f"{time.monotonic() - t_runs:.1f} s in all -> {'FAIL' if failed else 'OK'}")
    finally:
        sim.stop()
        if args.keep:
            print(f"scratch directory kept: {root} (build/cbcs trace show --data-dir {root}/data -backend dc)")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
