#!/usr/bin/env python3
"""benchmarks/soak: `cbcs run` for a long time at a steady rate (issue 29
item 4). Jobs go from the SCM simulator to three backends: the local CA and
the DigiCert and Google CA Service simulators (tests/sim/README.md), with
faults sprinkled in at the two CA simulators (429 with Retry-After, 503, a
connection reset). Every --sample seconds it records the connector's RSS,
open files, threads, CPU, the journal's size (with its WAL), the trace and
log directories' sizes and the jobs done per second; it writes them to a CSV
and plots them (PNG, matplotlib), and prints a summary with the verdict:

  flat after warm-up: the RSS stays within 10 % of its value at the end of
  the warm-up (minute 5 of an hour: a twelfth of the run, at least a
  minute), open files and threads do not grow (the median of the last
  quarter of the run is not above the median of the first quarter after
  warm-up, plus 2 files / 1 thread), the journal keeps a constant size per
  job held (every job is within the 7-day retention in a run this short,
  so it holds them all: bytes per job at the end within 20 % of those at
  warm-up) and its WAL stays bounded, the trace and logs within their
  rotation.

Then it stops submitting, waits for the last results and counts: every job
has exactly one result at SCM, every DigiCert job exactly one order, every
Google job exactly one certificate (none lost, none issued twice).

    python3 benchmarks/soak.py                           # an hour at 500 jobs/s
    python3 benchmarks/soak.py --minutes 3 --check       # the suite's version (exit 1 unless flat and exact)
    python3 benchmarks/soak.py --mix local:0.6,dc:0.2,gcp:0.2 --out DIR
"""

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("CBCS_BUILD_DIR", os.path.join(HERE, "..", "build"))
CBCS = os.path.join(BUILD, "cbcs")
SIM = os.path.join(BUILD, "cbcs-sim")
DC_ORDER = "/services/v2/order/certificate/"
GCP_CREATE = "/v1/projects/"
COLUMNS = ["t_s", "rss_mib", "open_files", "threads", "cpu_pct", "journal_mib", "wal_mib",
           "trace_mib", "logs_mib", "submitted", "done", "jobs_per_s"]


def call(url, method="GET", body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read()
        return json.loads(text) if text else None


def start_sim(kind, root):
    log = open(os.path.join(root, f"{kind}.log"), "w")
    proc = subprocess.Popen([SIM, kind, "--state-dir", os.path.join(root, kind)],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"cbcs-sim {kind} did not start (see {log.name})")
    return proc, json.loads(line)


def dir_bytes(path):
    total = 0
    for base, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(base, f))
            except OSError:
                pass  # rotated away meanwhile
    return total


def file_bytes(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def proc_sample(pid):
    status = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return (int(status["VmRSS"].split()[0]) / 1024, len(os.listdir(f"/proc/{pid}/fd")),
            int(status["Threads"]), cpu)


def csr_maker():
    """A CSR per job with a name of its own: the DigiCert driver looks for an
    earlier order of the job among the orders for its common name, as a fleet
    of distinct names would have them (one name for all would make each
    lookup read every order so far)."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-cryptography
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())

    def make(name):
        b = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])).add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    return make


def parse_mix(text):
    mix = {}
    for part in text.split(","):
        name, _, share = part.partition(":")
        mix[name.strip()] = float(share)
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items() if v > 0}


# The faults, in turn, one every --fault-every seconds (tests/sim/README.md):
# each clears itself after `count` requests; the connector must ride them out.
FAULTS = [
    ("dc", {"method": "POST", "path_prefix": DC_ORDER, "status": 429, "retry_after": "1", "count": 5}),
    ("gcp", {"method": "POST", "path_prefix": GCP_CREATE, "status": 503, "count": 3}),
    ("dc", {"method": "GET", "path_prefix": DC_ORDER, "status": 503, "count": 3}),
    ("gcp", {"method": "POST", "path_prefix": GCP_CREATE, "status": 429, "retry_after": "2", "count": 5}),
    ("dc", {"method": "POST", "path_prefix": DC_ORDER, "reset": True, "count": 1}),
    ("gcp", {"method": "POST", "path_prefix": GCP_CREATE, "reset": True, "count": 1}),
]


def median(values):
    return statistics.median(values) if values else 0


def verdict(rows, warmup_s, journal_jobs):
    """The flat-after-warm-up checks: [(name, ok, text)]."""
    after = [r for r in rows if r["t_s"] >= warmup_s]
    if len(after) < 4:
        return [("samples", False, f"only {len(after)} samples after the warm-up")]
    base = after[0]
    rss_lo, rss_hi = min(r["rss_mib"] for r in after), max(r["rss_mib"] for r in after)
    q = max(1, len(after) // 4)
    first, last = after[:q], after[-q:]
    out = []
    out.append(("rss", rss_hi <= base["rss_mib"] * 1.10 and rss_lo >= base["rss_mib"] * 0.90,
                f"RSS {base['rss_mib']:.1f} MiB at {base['t_s']:.0f} s, then {rss_lo:.1f}..{rss_hi:.1f} MiB "
                f"({(rss_hi / base['rss_mib'] - 1) * 100:+.1f} % at most; limit 10 %)"))
    for key, slack, what in (("open_files", 2, "open files"), ("threads", 1, "threads")):
        a, b = median([r[key] for r in first]), median([r[key] for r in last])
        out.append((key, b <= a + slack,
                    f"{what}: median {a:g} in the first quarter after warm-up, {b:g} in the last "
                    f"(range {min(r[key] for r in after)}..{max(r[key] for r in after)}; slack {slack})"))
    per_job = []
    for r in (base, rows[-1]):
        held = journal_jobs(r)
        per_job.append(r["journal_mib"] * 1048576 / held if held else 0)
    wal_max = max(r["wal_mib"] for r in rows)
    out.append(("journal", per_job[1] <= per_job[0] * 1.2 + 64 and wal_max <= 256,
                f"journal {rows[-1]['journal_mib']:.1f} MiB holding {journal_jobs(rows[-1])} jobs "
                f"(all within the 7-day retention): {per_job[0]:.0f} B/job at warm-up, "
                f"{per_job[1]:.0f} B/job at the end; WAL at most {wal_max:.1f} MiB"))
    trace_max = max(r["trace_mib"] for r in rows)
    logs_max = max(r["logs_mib"] for r in rows)
    out.append(("trace", trace_max <= 8 * 16 + 16 and logs_max <= 6 * 10,
                f"trace at most {trace_max:.1f} MiB (rotation: 8 x 16 MiB), logs at most "
                f"{logs_max:.1f} MiB (5 x 10 MiB + the live file)"))
    return out


def plot(rows, warmup_s, path, title):
    try:
        import matplotlib
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-matplotlib
        try:
            import matplotlib
        except ImportError:
            print("no plot: matplotlib is missing (packaging/install-deps.sh installs python3-matplotlib)")
            return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = [r["t_s"] / 60 for r in rows]
    panels = [("rss_mib", "RSS (MiB)"), ("open_files", "open files"), ("threads", "threads"),
              ("journal_mib", "journal + WAL (MiB)"), ("trace_mib", "trace / logs (MiB)"),
              ("jobs_per_s", "jobs done / s")]
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), dpi=72)
    base = next((r for r in rows if r["t_s"] >= warmup_s), rows[-1])
    for ax, (key, label) in zip(axes.flat, panels):
        if key == "journal_mib":
            ax.plot(t, [r["journal_mib"] + r["wal_mib"] for r in rows], lw=1)
        elif key == "trace_mib":
            ax.plot(t, [r["trace_mib"] for r in rows], lw=1, label="trace")
            ax.plot(t, [r["logs_mib"] for r in rows], lw=1, label="logs")
            ax.legend(fontsize=7)
        else:
            ax.plot(t, [r[key] for r in rows], lw=1)
        if key == "rss_mib":
            ax.axhspan(base["rss_mib"] * 0.9, base["rss_mib"] * 1.1, color="green", alpha=0.12)
        ax.axvline(warmup_s / 60, color="grey", ls=":", lw=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("minutes", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(bottom=0)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def title_of(args, mix):
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return (f"cbcs soak {commit}: {args.minutes:g} min at {args.rate:g} jobs/s "
            f"({', '.join(f'{k} {v:.0%}' for k, v in mix.items())}), faults every {args.fault_every:g} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--rate", type=float, default=500, help="jobs/s submitted at SCM")
    ap.add_argument("--mix", default="local:0.6,dc:0.2,gcp:0.2", help="backend:share,...")
    ap.add_argument("--sample", type=float, default=10, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds; default a twelfth of the run (5 min of an hour), at least 60")
    ap.add_argument("--fault-every", type=float, default=20, help="seconds between faults; 0: none")
    ap.add_argument("--out", default=".", help="directory for soak.csv and soak.png")
    ap.add_argument("--check", action="store_true", help="exit 1 unless flat and every job exactly once")
    ap.add_argument("--drain", type=float, default=300, help="seconds to wait for the last results")
    ap.add_argument("--replot", metavar="CSV", help="only judge and plot a run's CSV again (with --minutes, --rate, "
                    "--mix and --fault-every as it ran) into --out")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the cleanup below runs
    duration = args.minutes * 60
    warmup_s = args.warmup if args.warmup is not None else max(60.0, duration / 12)
    mix = parse_mix(args.mix)
    os.makedirs(args.out, exist_ok=True)
    if args.replot:
        with open(args.replot) as fh:
            rows = [{k: int(v) if v.isdigit() else float(v) for k, v in r.items()} for r in csv.DictReader(fh)]
        for name, ok, text in verdict(rows, warmup_s, lambda r: r["done"]):
            print(f"  [{'ok' if ok else 'FAIL'}] {text}")
        return 0 if plot(rows, warmup_s, os.path.join(args.out, "soak.png"), title_of(args, mix)) else 1
    root = tempfile.mkdtemp(prefix="cbcs-soak-")
    procs = []
    run = None
    try:
        scm_proc, scm = start_sim("scm", root)
        procs.append(scm_proc)
        admin = scm["admin_url"]
        sims = {}
        if "dc" in mix:
            p, sims["dc"] = start_sim("digicert", root)
            procs.append(p)
            # CertCentral's request limits (100 per 5 s, 1000 per 3 min) and Google's
            # create quota (7/s) would hold these backends to a few jobs/s: lifted
            # here (and the backends' pacing with -ratelimit off) as this measures
            # the connector; quota_pacing.py and the CA tests cover the limits.
            call(sims["dc"]["admin_url"] + "/admin/limits", "POST", {"windows": []})
        if "gcp" in mix:
            p, sims["gcp"] = start_sim("gcpcas", root)
            procs.append(p)
        data = os.path.join(root, "data")
        env = dict(os.environ)
        env.pop("CBCS_DATA_DIR", None)

        def cli(*a, stdin=None):
            subprocess.run([CBCS, *a, "--data-dir", data], check=True, input=stdin, text=True,
                           stdout=subprocess.DEVNULL, env=env)

        c = call(admin + "/connectors", "POST", {"name": "soak", "comments": "soak"})
        cli("register", "-token", c["token"])
        if "local" in mix:
            cli("backend", "add", "-name", "local", "-type", "local")
        if "dc" in mix:
            d = sims["dc"]
            cli("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-", "-endpoint", d["url"],
                "-cacert", d["ca_file"], "-poll", "1s", "-skipapproval", "true", "-ratelimit", "off",
                stdin=d["api_key"] + "\n")
        if "gcp" in mix:
            g = sims["gcp"]
            cli("backend", "add", "-name", "gcp", "-type", "gcpcas", "-project", g["project"],
                "-location", g["location"], "-key", g["key_file"], "-endpoint", g["url"],
                "-cacert", g["ca_file"], "-ratelimit", "off")
        make_csr = csr_maker()
        csr = make_csr("soak.example")
        run = subprocess.Popen([CBCS, "run", "--data-dir", data], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(root, "run.err"), "w"), env=env)
        jobs_url = f"{admin}/connectors/{c['id']}"
        deadline = time.monotonic() + 30
        while call(jobs_url)["status"] != "Connected":
            if time.monotonic() > deadline or run.poll() is not None:
                raise SystemExit("the connector did not connect to SCM")
            time.sleep(0.05)

        # Backends in turn by their shares (deterministic): a smooth mix.
        names = sorted(mix)
        credit = {n: 0.0 for n in names}
        per_backend = Counter()
        order = []
        submitted = 0
        rows = []
        t0 = time.monotonic()
        next_sample, next_fault, fault_i = 0.0, args.fault_every or float("inf"), 0
        faults_sent = Counter()
        last_done, last_t = 0, 0.0
        batch = max(1, int(args.rate / 50))
        cpu_prev = 0.0

        def sample(now):
            nonlocal last_done, last_t, cpu_prev
            rss, fds, threads, cpu = proc_sample(run.pid)
            done = call(jobs_url + "/stats")["results"]
            dt = max(now - last_t, 1e-6)
            row = {"t_s": round(now, 1), "rss_mib": round(rss, 2), "open_files": fds, "threads": threads,
                   "cpu_pct": round((cpu - cpu_prev) / dt * 100, 1) if rows else 0.0,
                   "journal_mib": round(file_bytes(os.path.join(data, "journal.db")) / 1048576, 2),
                   "wal_mib": round(file_bytes(os.path.join(data, "journal.db-wal")) / 1048576, 2),
                   "trace_mib": round(dir_bytes(os.path.join(data, "trace")) / 1048576, 2),
                   "logs_mib": round(dir_bytes(os.path.join(data, "logs")) / 1048576, 2),
                   "submitted": submitted, "done": done,
                   "jobs_per_s": round((done - last_done) / dt, 1) if rows else 0.0}
            rows.append(row)
            last_done, last_t, cpu_prev = done, now, cpu
            print(f"{row['t_s']:7.0f} s  rss {row['rss_mib']:7.1f} MiB  files {fds:3d}  threads {threads:2d}  "
                  f"cpu {row['cpu_pct']:5.1f} %  journal {row['journal_mib']:7.1f}+{row['wal_mib']:.1f} MiB  "
                  f"trace {row['trace_mib']:6.1f}  logs {row['logs_mib']:5.1f}  submitted {submitted}  done {done}  "
                  f"{row['jobs_per_s']:.0f}/s", flush=True)

        while True:
            now = time.monotonic() - t0
            if run.poll() is not None:
                raise SystemExit(f"cbcs run exited with {run.returncode} (see {root}/run.err)")
            if now >= next_sample:
                sample(now)
                next_sample += args.sample
                if now >= duration:
                    break
            if now >= next_fault:
                target, fault = FAULTS[fault_i % len(FAULTS)]
                if target in sims:
                    call(sims[target]["admin_url"] + "/faults", "POST", fault)
                    faults_sent[f"{target} {fault.get('status', 'reset')}"] += 1
                fault_i += 1
                next_fault += args.fault_every
            due = min(int(now * args.rate), int(duration * args.rate))
            if submitted < due:
                chunk = []
                for _ in range(min(batch, due - submitted)):
                    for n in names:
                        credit[n] += mix[n]
                    pick = max(names, key=lambda n: credit[n])
                    credit[pick] -= 1
                    per_backend[pick] += 1
                    order.append(pick)
                    chunk.append({"id": f"soak-{pick}-{submitted:08d}", "operation": "enroll",
                                  "backend": pick, "csr": csr if pick == "local" else
                                  make_csr(f"s{submitted}.soak.example")})
                    submitted += 1
                call(jobs_url + "/jobs", "POST", chunk)
                continue
            time.sleep(0.005)
        behind = submitted - rows[-1]["done"]

        # The last results (a backlog drains at full speed), then the counts.
        drain_start = time.monotonic()
        while call(jobs_url + "/stats")["results"] < submitted and time.monotonic() - drain_start < args.drain:
            time.sleep(0.5)
        drain_s = time.monotonic() - drain_start
        # The samples first, so that a failing count below loses none of them.
        csv_path, png_path = os.path.join(args.out, "soak.csv"), os.path.join(args.out, "soak.png")
        with open(csv_path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(rows)
        # Counts, not lists: an hour at 500 jobs/s is 1.8 million results
        # (gigabytes of certificates at SCM) and 360,000 DigiCert orders.
        summary = call(jobs_url + "/results_summary", timeout=600)
        outcomes = Counter(summary["outcomes"])
        redelivered = summary["delivered_more_than_once"]
        for job in summary["missing"]:
            j = call(f"{jobs_url}/jobs/{job}")
            print(f"  no result: {job}: {j['state']}, {j['deliveries']} deliveries, {j['acks']} acks")
        problems = []
        if summary["jobs"] != submitted or summary["with_result"] != submitted:
            problems.append(f"{summary['with_result']} jobs with a result of {submitted} submitted")
        if outcomes.get("issued", 0) != submitted:
            problems.append(f"outcomes {dict(outcomes)}")
        if "dc" in sims:
            orders = call(sims["dc"]["admin_url"] + "/admin/orders_summary", timeout=600)
            if orders["orders"] != per_backend["dc"] or orders["comments_on_two_or_more"]:
                problems.append(f"DigiCert: {orders['orders']} orders for {per_backend['dc']} jobs, "
                                f"{orders['comments_on_two_or_more']} jobs with 2+")
        if "gcp" in sims:
            gstats = call(sims["gcp"]["admin_url"] + "/stats")
            if gstats["certificates_created"] != per_backend["gcp"]:
                problems.append(f"Google: {gstats['certificates_created']} certificates for "
                                f"{per_backend['gcp']} jobs ({gstats})")
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)

        held = lambda r: r["done"]  # noqa: E731  (nothing is pruned within 7 days)
        checks = verdict(rows, warmup_s, held)
        title = title_of(args, mix)
        plotted = plot(rows, warmup_s, png_path, title)
        after = [r for r in rows if r["t_s"] >= warmup_s and r["jobs_per_s"] > 0]
        print(f"\n{title}")
        print(f"submitted {submitted} ({dict(per_backend)}); done {rows[-1]['done']} by the end, "
              f"{behind} behind; the rest in {drain_s:.1f} s")
        if after:
            rates = [r["jobs_per_s"] for r in after]
            print(f"jobs done/s after warm-up: median {median(rates):.0f}, min {min(rates):.0f}, "
                  f"max {max(rates):.0f}; connector CPU median {median([r['cpu_pct'] for r in after]):.0f} %")
        print(f"faults injected: {dict(faults_sent)}")
        print(f"results at SCM: {dict(outcomes)}; {redelivered} delivered more than once (the first kept)")
        flat = all(ok for _, ok, _ in checks)
        for name, ok, text in checks:
            print(f"  [{'ok' if ok else 'FAIL'}] {text}")
        for p in problems:
            print(f"  [FAIL] {p}")
        exact = not problems
        print(f"verdict: {'flat' if flat else 'NOT flat'} after a {warmup_s:.0f} s warm-up; "
              f"{'every job exactly once' if exact else 'jobs lost or doubled'}")
        print(f"wrote {csv_path}" + (f" and {png_path}" if plotted else ""))
        return 0 if (flat and exact) or not args.check else 1
    finally:
        if run is not None and run.poll() is None:
            run.kill()
            run.wait()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if args.keep:
            print(f"scratch directory kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
