#!/usr/bin/env python3
"""benchmarks/quota_pacing: pacing at Google CA Service's create quota, and
the connections to one CA (issue 22 item 12).

Part 1, pacing: `cbcs-sim gcpcas` enforces Google's quota (`PUT /quota
{creates_per_second: 7}`: 7 creates per sliding second per CA, over it 429
RESOURCE_EXHAUSTED, no Retry-After), the backend keeps gcpcas's default
`-ratelimit create=7`, and `cbcs jobs run -file jobs.jsonl` issues N
certificates on a fresh data directory. Prints the wall time against the
ideal N / quota, the 429s the simulator answered, the create requests it saw,
and every job's outcome. Target: within 10 % of N / quota.

Part 2, connections: quota off at the simulator, `-ratelimit off`, the
default -maxinflight (256), M jobs with `-maxconnections 16` (the default)
and then `-maxconnections 256`: wall time, CPU time and peak RSS of the cbcs
process (from wait4's rusage), and the most sockets it held open at once
(its /proc/PID/fd polled every 10 ms).

    python3 benchmarks/quota_pacing.py                       # 100 jobs at 7/s, then 1000 jobs x2
    python3 benchmarks/quota_pacing.py --jobs 200 --conn-jobs 2000
    python3 benchmarks/quota_pacing.py --skip-connections --keep   # keep the data dir: cbcs trace show
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("CBCS_BUILD_DIR", os.path.join(HERE, "..", "build"))
from harness import CBCS, cbcs, openssl  # noqa: E402
from gcpcas_sim import GcpCasSim  # noqa: E402

CREATE_SUFFIX = "/caPools/pool-1/certificates"


def add_backend(sim, data, name, *extra):
    r = cbcs("backend", "add", "-name", name, "-type", "gcpcas", "-project", sim.project,
             "-location", sim.location, "-key", sim.key_file, "-endpoint", sim.url,
             "-cacert", sim.ca_file, *extra, data_dir=data)
    if r.code != 0:
        raise SystemExit(f"backend add failed: {r}")


def write_jobs(path, prefix, backend, csr, n):
    with open(path, "w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"{prefix}-{i}", "operation": "enroll", "backend": backend,
                                 "csr": csr}) + "\n")


def count_sockets(pid):
    n = 0
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for name in names:
        try:
            if os.readlink(os.path.join(base, name)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def run_jobs(jobs_file, data, out_path):
    """`cbcs jobs run`: (wall s, exit code, CPU s, peak RSS KiB, most sockets open, results)."""
    env = dict(os.environ)
    env.pop("CBCS_DATA_DIR", None)
    with open(out_path, "w") as out, open(out_path + ".err", "w") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen([CBCS, "jobs", "run", "-file", jobs_file, "--data-dir", data],
                                stdout=out, stderr=err, env=env)
        peak = [0]
        done = threading.Event()

        def poll():
            while not done.is_set():
                peak[0] = max(peak[0], count_sockets(proc.pid))
                time.sleep(0.01)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        # wait4: the child's own rusage (CPU, ru_maxrss = VmHWM) at its exit.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    results = []
    with open(out_path) as fh:
        for line in fh:
            if line.strip():
                results.append(json.loads(line))
    return wall, proc.returncode, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, peak[0], results


def outcomes(results):
    return dict(Counter(r["result"]["outcome"] for r in results))


def pacing(sim, root, csr, n, quota, keep, ratelimit):
    sim.admin("POST", "/reset")
    sim.admin("PUT", "/quota", {"creates_per_second": quota})
    data = os.path.join(root, "pacing-data")
    # The type's defaults (-ratelimit create=7 -maxinflight 256) unless --ratelimit.
    add_backend(sim, data, "gcp", *(["-ratelimit", ratelimit] if ratelimit else []))
    jobs = os.path.join(root, "pacing.jsonl")
    write_jobs(jobs, "pace", "gcp", csr, n)
    wall, code, cpu, rss, socks, results = run_jobs(jobs, data, os.path.join(root, "pacing.out"))
    stats = sim.stats()
    creates = [r for r in sim.requests("") if r["method"] == "POST" and
               r["target"].split("?")[0].endswith(CREATE_SUFFIX)]
    ok = [r for r in creates if r["status"] == 200]
    statuses = dict(Counter(r["status"] for r in creates))
    # The span at the simulator: first create request to the last certificate made.
    span = (ok[-1]["time_ms"] - creates[0]["time_ms"]) / 1000 if ok else float("nan")
    ideal = n / quota
    # With a sliding second, the best any client can do is `quota` creates in
    # each second from the first: the last one at floor((n-1)/quota) s.
    best = (n - 1) // quota
    limit = f"-ratelimit {ratelimit}" if ratelimit else "gcpcas defaults: -ratelimit create=7"
    print(f"pacing: {n} jobs at {quota} creates/s per CA ({limit})")
    print(f"  wall (cbcs jobs run, start to exit): {wall:.2f} s; ideal N/quota {ideal:.2f} s; "
          f"ratio {wall / ideal:.3f} ({'within' if wall <= ideal * 1.1 else 'NOT within'} 10 %)")
    print(f"  span at the simulator (first create request -> last certificate): {span:.2f} s "
          f"(a sliding-second quota allows {best} s at best)")
    print(f"  create requests {len(creates)} by status {statuses}; 429s (quota_refusals) "
          f"{stats['quota_refusals']}; certificates created {stats['certificates_created']}; "
          f"token requests {stats['token_requests']}")
    # Where the time went: create requests sent after the first second, their
    # spacing, and the 429s among them.
    t0 = creates[0]["time_ms"] if creates else 0
    late = [r for r in creates if r["time_ms"] - t0 >= 1000]
    gaps = sorted(b["time_ms"] - a["time_ms"] for a, b in zip(late, late[1:]))
    if gaps:
        print(f"  after the first second: {len(late)} creates, {sum(r['status'] == 429 for r in late)} "
              f"answered 429; spacing min {gaps[0]} / median {gaps[len(gaps) // 2]} / max {gaps[-1]} ms")
    with open(os.path.join(root, "pacing-creates.json"), "w") as fh:
        json.dump([{"ms": r["time_ms"] - t0, "status": r["status"], "target": r["target"].split("?")[1]}
                   for r in creates], fh, indent=0)
    print(f"  outcomes {outcomes(results)}; exit {code}; cbcs CPU {cpu:.2f} s, peak RSS "
          f"{rss / 1024:.1f} MiB, most sockets open {socks}")
    if keep:
        print(f"  data directory kept: {data}  (build/cbcs trace show --data-dir {data} -backend gcp)")
    failed = code != 0 or outcomes(results) != {"issued": n} or stats["certificates_created"] != n
    if failed:
        print("  FAILED: not every job issued exactly once", file=sys.stderr)
    return failed


def connections(sim, root, csr, n, maxconns):
    sim.admin("POST", "/reset")
    sim.admin("PUT", "/quota", {"creates_per_second": 0})
    rows, failed = [], False
    for mc in maxconns:
        data = os.path.join(root, f"conn-{mc}-data")
        add_backend(sim, data, "gcp", "-ratelimit", "off", "-maxconnections", str(mc))
        jobs = os.path.join(root, f"conn-{mc}.jsonl")
        write_jobs(jobs, f"c{mc}", "gcp", csr, n)
        before = sim.stats()["certificates_created"]
        wall, code, cpu, rss, socks, results = run_jobs(jobs, data, os.path.join(root, f"conn-{mc}.out"))
        created = sim.stats()["certificates_created"] - before
        oc = outcomes(results)
        failed |= code != 0 or oc != {"issued": n} or created != n
        rows.append((mc, wall, cpu, rss, socks, oc, code))
        shutil.rmtree(data, ignore_errors=True)
    print(f"connections: {n} jobs, -ratelimit off, default -maxinflight (256), no quota at the simulator")
    print("  | -maxconnections | wall | CPU | peak RSS | most sockets open | outcomes |")
    for mc, wall, cpu, rss, socks, oc, code in rows:
        print(f"  | {mc} | {wall:.2f} s | {cpu:.2f} s | {rss / 1024:.1f} MiB | {socks} | {oc} exit {code} |")
    if failed:
        print("  FAILED: not every job issued exactly once", file=sys.stderr)
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100, help="jobs for the pacing run")
    ap.add_argument("--quota", type=int, default=7, help="the simulator's creates per second per CA")
    ap.add_argument("--ratelimit", default="", help="the pacing backend's -ratelimit (default: the type's)")
    ap.add_argument("--conn-jobs", type=int, default=1000, help="jobs for each connections run")
    ap.add_argument("--maxconnections", default="16,256", help="the -maxconnections values compared")
    ap.add_argument("--skip-pacing", action="store_true")
    ap.add_argument("--skip-connections", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="cbcs-quota-")
    sim = GcpCasSim(os.path.join(root, "sim"))
    failed = False
    try:
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "q.key", "-out", "q.csr", "-subj", "/CN=quota.example", cwd=root)
        with open(os.path.join(root, "q.csr")) as fh:
            csr = fh.read()
        if not args.skip_pacing:
            failed |= pacing(sim, root, csr, args.jobs, args.quota, args.keep, args.ratelimit)
        if not args.skip_connections:
            failed |= connections(sim, root, csr, args.conn_jobs,
                                  [int(x) for x in args.maxconnections.split(",")])
    finally:
        sim.stop()
        if args.keep:
            print(f"scratch directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
