#!/usr/bin/env python3
"""benchmarks/idle: how often an idle connector wakes up. Starts the SCM
simulator, registers a connector with one local CA backend, runs `cbcs run`
until SCM sees it connected, then, with no jobs, counts for N seconds the
connector's context switches (voluntary + nonvoluntary, summed over all its
threads from /proc/PID/task/*/status) and its CPU time (utime + stime from
/proc/PID/stat). Prints wake-ups per minute and CPU seconds per hour, and
the wake-ups per thread.

    python3 benchmarks/idle.py                      # 60 s, SCM heartbeat 15 s (the simulator's default)
    python3 benchmarks/idle.py --seconds 120 --heartbeat-ms 5000
    python3 benchmarks/idle.py --strace /tmp/idle.strace   # then: what woke it, per thread
    CBCS_BUILD_DIR=build-idle python3 benchmarks/idle.py --json
"""

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# The simulator's admin API and /proc/PID/stat, as the end-to-end benchmark reads them.
from e2e import BUILD, call, cpu_seconds


def switches(pid):
    """{tid: (name, context switches)} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except FileNotFoundError:
            continue  # the thread ended while we looked
        n = int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"])
        out[tid] = (fields["Name"].strip(), n)
    return out


def measure(pid, seconds):
    before, cpu0, t0 = switches(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    after, cpu1, t1 = switches(pid), cpu_seconds(pid), time.monotonic()
    elapsed = t1 - t0
    per_thread = collections.Counter()
    for tid, (name, n) in after.items():
        # A thread born during the run counts from zero; one that ended is lost (said below).
        per_thread[f"{name} ({tid})"] += n - before.get(tid, (name, 0))[1]
    return {
        "seconds": round(elapsed, 1),
        "wakeups_per_min": round(sum(per_thread.values()) * 60 / elapsed, 1),
        "cpu_s_per_hour": round((cpu1 - cpu0) * 3600 / elapsed, 2),
        "threads": len(after),
        "threads_ended": len(set(before) - set(after)),
        "per_thread_per_min": {k: round(v * 60 / elapsed, 1)
                               for k, v in per_thread.most_common() if v},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--settle", type=float, default=5, help="wait this long after Connected before counting")
    ap.add_argument("--heartbeat-ms", type=int, default=15000, help="the simulator's heartbeat interval")
    ap.add_argument("--json", action="store_true", help="one JSON object instead of text")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory and say where")
    ap.add_argument("--strace", metavar="FILE",
                    help="after the count, record the connector's system calls for --seconds more "
                         "(strace -f -tt): what woke it")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="cbcs-idle-")
    cbcs, sim = os.path.join(BUILD, "cbcs"), os.path.join(BUILD, "cbcs-sim")
    data = os.path.join(root, "data")
    scm = subprocess.Popen([sim, "scm", "--state-dir", os.path.join(root, "scm"),
                            "--heartbeat-ms", str(args.heartbeat_ms)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    run = None
    try:
        admin = json.loads(scm.stdout.readline())["admin_url"]
        c = call(admin, "POST", "/connectors", {"name": "idle", "comments": "benchmarks/idle.py"})
        subprocess.run([cbcs, "register", "-token", "-", "--data-dir", data], input=c["token"] + "\n",
                       check=True, stdout=subprocess.DEVNULL, text=True)
        subprocess.run([cbcs, "backend", "add", "-name", "local", "-type", "local", "--data-dir", data],
                       check=True, stdout=subprocess.DEVNULL)
        run = subprocess.Popen([cbcs, "run", "--data-dir", data], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while call(admin, "GET", f"/connectors/{c['id']}")["status"] != "Connected":
            if time.time() > deadline or run.poll() is not None:
                sys.exit("the connector did not connect within 30 s")
            time.sleep(0.1)
        time.sleep(args.settle)
        result = measure(run.pid, args.seconds)
        result["heartbeat_ms"] = args.heartbeat_ms
        if run.poll() is not None:
            sys.exit("the connector died during the measurement")
        if args.strace:
            # Apart from the count: tracing itself adds context switches.
            tracer = subprocess.Popen(["strace", "-f", "-tt", "-o", args.strace, "-p", str(run.pid)],
                                      stderr=subprocess.DEVNULL)
            time.sleep(args.seconds)
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=10)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"idle {result['seconds']} s, SCM heartbeat {args.heartbeat_ms} ms, "
                  f"{result['threads']} threads ({result['threads_ended']} ended during the run)")
            print(f"wake-ups/min  {result['wakeups_per_min']}")
            print(f"CPU s/hour    {result['cpu_s_per_hour']}")
            for name, n in result["per_thread_per_min"].items():
                print(f"  {n:8.1f}/min  {name}")
    finally:
        if run and run.poll() is None:
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(timeout=20)
            except subprocess.TimeoutExpired:
                run.kill()
        scm.terminate()
        scm.wait(timeout=10)
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, True)


if __name__ == "__main__":
    main()
