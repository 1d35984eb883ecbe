"""What the operator-level tests share: a registered data directory, `cbcs run`
in the background with its log captured, the SCM and DigiCert simulators,
key material, and scanners for files and outputs. Not a test script itself
(ctest's glob takes test_*.py only)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR, CBCS, TempDirTest, cbcs, openssl  # noqa: E402,F401
from test_scm_link import Scm  # noqa: E402,F401
from test_digicert_sim import DigiCertSim  # noqa: E402,F401

SIM = os.path.join(BUILD_DIR, "cbcs-sim")

# Lines that mean the journal did not commit (issue 22 item 1).
JOURNAL_TROUBLE = ("database is locked", "cannot commit", "SQLITE_BUSY", "database table is locked")


def wait_until(predicate, seconds, step=0.1):
    """predicate()'s first truthy value within seconds, else None."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(step)


class Service:
    """`cbcs run` on a data directory, in the background; stderr to a file."""

    def __init__(self, data, log_path, binary=CBCS, extra=(), env=None):
        self.data, self.log_path = data, log_path
        env = {**os.environ, **(env or {})}
        env.pop("CBCS_DATA_DIR", None)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        self.log = open(log_path, "a")
        self.proc = subprocess.Popen([binary, "run", "--data-dir", data, *extra], env=env,
                                     stdout=self.log, stderr=self.log)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, seconds=20):
        """SIGTERM, wait; the exit code (SIGKILL after seconds)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def text(self):
        """What it logged so far: its stderr and the files under logs/."""
        parts = []
        with open(self.log_path, errors="replace") as fh:
            parts.append(fh.read())
        return "\n".join(parts)

    def open_fds(self):
        """{fd: link target} of the running process."""
        out = {}
        base = f"/proc/{self.pid}/fd"
        try:
            names = os.listdir(base)
        except OSError:
            return out
        for n in names:
            try:
                out[int(n)] = os.readlink(os.path.join(base, n))
            except OSError:
                pass
        return out


def log_files_text(data):
    """Every log file under <data>/logs, concatenated."""
    out = []
    logs = os.path.join(data, "logs")
    if os.path.isdir(logs):
        for name in sorted(os.listdir(logs)):
            with open(os.path.join(logs, name), errors="replace") as fh:
                out.append(fh.read())
    return "\n".join(out)


def journal_trouble(text):
    """The lines that show the journal failing to commit."""
    return [line for line in text.splitlines() if any(t in line for t in JOURNAL_TROUBLE)]


def make_csr(directory, stem, cn):
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/CN={cn}",
            "-addext", f"subjectAltName=DNS:{cn}", cwd=directory)
    path = os.path.join(directory, f"{stem}.csr")
    with open(path) as fh:
        return path, fh.read()


def serial_of(pem_text):
    first = pem_text[:pem_text.index("-----END CERTIFICATE-----") + 25] + "\n"
    p = subprocess.run(["openssl", "x509", "-serial", "-noout"], input=first, capture_output=True,
                       text=True, check=True)
    return p.stdout.strip().split("=")[1].lower()


def ledger_rows(data, backend):
    """[(job_id, serial)] of the local CA `backend`'s ledger ([] when none)."""
    path = os.path.join(data, "local-ca", backend, "ledger.db")
    if not os.path.exists(path):
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT job_id, serial FROM issued").fetchall()
    finally:
        db.close()


class Connector:
    """An SCM simulator with one connector registered into `data`."""

    def __init__(self, test, data, name="op"):
        self.scm = Scm(test.path("scm"))
        test.addCleanup(self.scm.stop)
        created = self.scm.call("POST", "/connectors", {"name": name, "comments": "operator"})
        self.cid, self.token = created["id"], created["token"]
        r = cbcs("register", "-token", "-", data_dir=data, stdin=self.token + "\n")
        test.assertEqual(r.code, 0, f"register failed: {r}")

    def submit(self, jobs):
        return self.scm.call("POST", f"/connectors/{self.cid}/jobs", jobs)

    def job(self, job_id):
        return self.scm.call("GET", f"/connectors/{self.cid}/jobs/{job_id}")

    def jobs(self):
        return {j["id"]: j for j in self.scm.call("GET", f"/connectors/{self.cid}/jobs")}

    def results(self):
        return {r["job_id"]: r for r in self.scm.call("GET", f"/connectors/{self.cid}/results")}

    def info(self):
        return self.scm.connector(self.cid)

    def backends(self):
        return {b["name"]: b for b in self.info().get("backends", [])}

    def connected(self):
        return self.info()["status"] == "Connected"


def scm_job(job_id, backend, csr, op="enroll", **extra):
    """A job as SCM sends it (the simulator's POST /connectors/{id}/jobs)."""
    return {"id": job_id, "operation": op, "backend": backend, "csr": csr, **extra}


class LocalCaConnectorTest(TempDirTest):
    """A connector registered with the SCM simulator into self.data, the local
    CA as backend `local`, and a CSR for web.example (self.csr_path, self.csr)."""

    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.conn = Connector(self, self.data)
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.csr_path, self.csr = make_csr(self.tmp, "web", "web.example")


# --- key material and scanning


def make_keys(directory):
    """{label: (path, pem text, [base64 body lines])}: PKCS#8, RSA (PKCS#1) and EC (SEC1)."""
    out = {}
    specs = {
        "pkcs8": (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "{out}"], "PRIVATE KEY"),
        "rsa": (["genrsa", "-traditional", "-out", "{out}", "2048"], "RSA PRIVATE KEY"),
        "ec": (["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "{out}"], "EC PRIVATE KEY"),
    }
    for label, (args, marker) in specs.items():
        path = os.path.join(directory, f"leak-{label}.key")
        openssl(*[a.replace("{out}", path) for a in args], cwd=directory)
        with open(path) as fh:
            pem = fh.read()
        assert f"-----BEGIN {marker}-----" in pem, (label, pem[:40])
        body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
        out[label] = (path, pem, body)
    return out


def make_pkcs8(directory, stem):
    """A fresh PKCS#8 (EC P-256) key: (path, pem, body lines)."""
    path = os.path.join(directory, stem + ".key")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path, cwd=directory)
    with open(path) as fh:
        pem = fh.read()
    return path, pem, [line for line in pem.splitlines() if line and not line.startswith("-----")]


def fragments(body_lines):
    """What a leak would show: every full 64-character line of the body, and
    each 24-character run of the base64 (JSON escaping or re-wrapping may
    split the lines differently)."""
    joined = "".join(body_lines)
    frags = {line for line in body_lines if len(line) >= 24}
    frags.update(joined[i:i + 24] for i in range(0, len(joined) - 24, 24))
    return sorted(frags)


def find_in_tree(root, frags):
    """[(file, fragment)] for every file under root holding a fragment."""
    hits = []
    encoded = [(f, f.encode()) for f in frags]
    # JSON writers may escape '/' as '\/'; look for that form too.
    encoded += [(f, f.replace("/", "\\/").encode()) for f in frags if "/" in f]
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as fh:
                    content = fh.read()
            except OSError:
                continue
            for f, e in encoded:
                if e in content:
                    hits.append((os.path.relpath(path, root), f))
                    break
    return hits


def find_in_text(text, frags):
    return [f for f in frags if f in text or f.replace("/", "\\/") in text]


def tree_snapshot(root):
    """{relative path: (size, mtime_ns, bytes)} of every file, and the directories."""
    snap = {}
    if not os.path.exists(root):
        return snap
    for dirpath, dirs, files in os.walk(root):
        for d in dirs:
            snap[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = None
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                snap[os.path.relpath(path, root)] = fh.read()
    return snap


def tree_diff(before, after):
    """Human-readable list of what changed between two snapshots."""
    changes = []
    for k in sorted(set(before) | set(after)):
        if k not in before:
            changes.append(f"created {k}")
        elif k not in after:
            changes.append(f"deleted {k}")
        elif before[k] != after[k]:
            changes.append(f"changed {k}")
    return changes


def jdump(x):
    return json.dumps(x, indent=None, sort_keys=True)[:2000]
