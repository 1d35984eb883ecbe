"""What the crash-and-restart tests share: a file of enroll jobs, and
`cbcs jobs run` started and SIGKILLed a few times in a row (the first time
once a condition holds, e.g. every placement reached the CA)."""

import json
import signal
import subprocess
import time

from harness import CBCS, openssl


def write_enroll_jobs(test, path, backend, id_prefix, count):
    """count enroll jobs for `backend`, each with a fresh P-256 CSR; their ids."""
    ids = []
    with open(path, "w") as fh:
        for i in range(count):
            stem = f"{id_prefix}{i}"
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
                    "-subj", f"/CN={stem}.example", "-addext", f"subjectAltName=DNS:{stem}.example",
                    cwd=test.tmp)
            with open(test.path(f"{stem}.csr")) as c:
                job_id = f"{id_prefix}-{i:04d}"
                ids.append(job_id)
                fh.write(json.dumps({"id": job_id, "operation": "enroll", "backend": backend,
                                     "csr": c.read()}) + "\n")
    return ids


def killed_runs(jobs_file, data_dir, kill_after, first_ready, counted):
    """Runs `cbcs jobs run` once per entry of kill_after and SIGKILLs it: the
    first run once first_ready() holds (10 s at most), the others that many
    seconds after their start. Returns counted() after each kill."""
    cmd = [CBCS, "jobs", "run", "-file", jobs_file, "--json", "--data-dir", data_dir]
    seen = []
    for k, after in enumerate(kill_after):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if k == 0:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not first_ready():
                time.sleep(0.02)
        else:
            time.sleep(after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.append(counted())
    return seen


def final_run(jobs_file, data_dir):
    """The last, uninterrupted run: (exit code, stderr, {job id: result})."""
    cmd = [CBCS, "jobs", "run", "-file", jobs_file, "--json", "--data-dir", data_dir]
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    results = {}
    for line in final.stdout.splitlines():
        if line.strip():
            r = json.loads(line)
            results[r["id"]] = r["result"]
    return final.returncode, final.stderr, results
