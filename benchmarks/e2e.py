#!/usr/bin/env python3
"""benchmarks/e2e: jobs from the SCM simulator through the connector (cbcs run)
to the local CA backend and back. Prints jobs/s, p50/p99 latency as SCM sees
it, and the connector's CPU seconds per 1,000 jobs.

    python3 benchmarks/e2e.py --jobs 2000            # burst: a backlog of 2000 jobs at SCM
    python3 benchmarks/e2e.py --jobs 2000 --rate 200 # paced: latency at a steady rate
    E2E_WORKERS=1 python3 benchmarks/e2e.py          # the local CA's -workers (default: cores)
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = os.environ.get("CBCS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "build"))


def call(admin, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(admin + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=0, help="jobs/s; 0 = all at once")
    ap.add_argument("--keep", action="store_true", help="keep the data directory (trace) and say where")
    ap.add_argument("--wrap", default="", help="command prefix for `cbcs run`, e.g. 'perf record -g -o p.data --'")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="cbcs-e2e-")
    cbcs, sim = os.path.join(BUILD, "cbcs"), os.path.join(BUILD, "cbcs-sim")
    scm = subprocess.Popen(os.environ.get("SIM_WRAP", "").split() + [sim, "scm", "--state-dir", os.path.join(root, "scm")],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    admin = json.loads(scm.stdout.readline())["admin_url"]
    data = os.path.join(root, "data")
    c = call(admin, "POST", "/connectors", {"name": "bench", "comments": "e2e"})
    subprocess.run([cbcs, "register", "-token", c["token"], "--data-dir", data], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([cbcs, "backend", "add", "-name", "local", "-type", "local", "--data-dir", data]
                   + (["-workers", os.environ["E2E_WORKERS"]] if os.environ.get("E2E_WORKERS") else []),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", os.devnull, "-out", os.path.join(root, "b.csr"), "-subj",
                    "/CN=bench.example"], check=True, capture_output=True)
    csr = open(os.path.join(root, "b.csr")).read()
    jobs = [{"id": f"e2e-{i}", "operation": "enroll", "backend": "local", "csr": csr}
            for i in range(args.jobs)]
    i = 0
    if args.rate == 0:
        # Burst: the whole backlog waits at SCM before the connector starts, so
        # that neither this script nor the simulator's admin API takes CPU
        # from the measured run on these two cores.
        for i in range(0, args.jobs, 1000):
            call(admin, "POST", f"/connectors/{c['id']}/jobs", jobs[i:i + 1000])
        i = args.jobs
    run = subprocess.Popen(args.wrap.split() + [cbcs, "run", "--data-dir", data], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    cpu0, sim0 = 0.0, cpu_seconds(scm.pid)  # the connector from its start
    if args.rate:
        while call(admin, "GET", f"/connectors/{c['id']}")["status"] != "Connected":
            time.sleep(0.05)
        cpu0, sim0 = cpu_seconds(run.pid), cpu_seconds(scm.pid)
    t0 = time.time()
    batch = 250 if args.rate == 0 else max(1, int(args.rate / 50))
    done, last_poll, last_progress = 0, 0.0, time.time()
    while done < args.jobs:
        if i < args.jobs and (args.rate == 0 or i < (time.time() - t0) * args.rate):
            chunk = jobs[i:i + batch]
            call(admin, "POST", f"/connectors/{c['id']}/jobs", chunk)
            i += len(chunk)
            if args.rate == 0 or i < (time.time() - t0) * args.rate:
                continue
        # Submissions keep their pace; the (costly) stats call only every 100 ms
        # (500 ms in a burst: the span is measured on the simulator's clock).
        if time.time() - last_poll >= (0.1 if args.rate else 0.5):
            now_done = call(admin, "GET", f"/connectors/{c['id']}/stats")["results"]
            if now_done != done:
                done, last_progress = now_done, time.time()
            elif time.time() - last_progress > 60:
                print(f"no progress for 60 s: {done} of {args.jobs} results", file=sys.stderr)
                run.kill()
                scm.kill()
                return 1
            last_poll = time.time()
        time.sleep(0.002 if args.rate and i < args.jobs else 0.05)
    cpu, sim_cpu = cpu_seconds(run.pid) - cpu0, cpu_seconds(scm.pid) - sim0
    stats = call(admin, "GET", f"/connectors/{c['id']}/stats")
    run.send_signal(signal.SIGTERM)
    run.wait()
    scm.terminate()
    scm.wait()
    if args.keep:
        print(f"data directory kept: {data}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    span = stats["span_us"] / 1e6
    print(f"jobs={args.jobs} rate={'burst' if args.rate == 0 else args.rate}")
    print(f"throughput: {args.jobs / span:.0f} jobs/s ({span:.2f} s from the first job frame "
          f"to the last result)")
    print(f"latency (the simulator's clock, job frame sent -> result received): "
          f"p50 {stats['p50_us'] / 1000:.1f} ms, p99 {stats['p99_us'] / 1000:.1f} ms, "
          f"max {stats['max_us'] / 1000:.1f} ms")
    sim_text = "not measured under SIM_WRAP" if os.environ.get("SIM_WRAP") else f"{sim_cpu:.2f} s"
    print(f"connector CPU: {cpu:.2f} s, {cpu / args.jobs * 1000:.2f} s per 1,000 jobs "
          f"(simulator: {sim_text})")


if __name__ == "__main__":
    sys.exit(main())
