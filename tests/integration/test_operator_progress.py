"""What a person at the console sees while cbcs waits, and `cbcs doctor`
(issue 28 items 1, 2 and 8), through the real binary against the DigiCert and
SCM simulators: progress lines in their order (never their timing), Ctrl-C
that stops waiting once the request sent has its answer, a revoke run again
that collects the first request, a proxy's 403 not retried, the notes after
a result, and doctor's verdict on a healthy setup and on each thing that
breaks one (a stopped proxy, a wrong vault key, an expired identity, a
damaged journal, a skewed clock). A tmux session shows the terminal's
status line and Ctrl-C as a person meets them."""

import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import CBCS, TempDirTest, cbcs, eventually, openssl  # noqa: E402
from test_digicert_sim import DigiCertSim  # noqa: E402
from test_scm_link import Scm  # noqa: E402


def lines_in_order(test, text, *fragments):
    """Each fragment is on a line after the previous fragment's line."""
    lines = text.splitlines()
    at = -1
    for f in fragments:
        found = [i for i, line in enumerate(lines) if f in line and i > at]
        test.assertTrue(found, f"{f!r} not after line {at} in:\n{text}")
        at = found[0]


class StderrReader:
    """Collects a process's standard error as it comes."""

    def __init__(self, proc):
        self.text = ""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, args=(proc,), daemon=True)
        self.thread.start()

    def run(self, proc):
        for line in proc.stderr:
            with self.lock:
                self.text += line

    def has(self, fragment):
        with self.lock:
            return fragment in self.text


class ForbiddingProxy:
    """An HTTP proxy whose rules forbid every destination: 403 to each CONNECT."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connects = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"CONNECT "):
                    self.connects += 1
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def close(self):
        self.sock.close()


class WaitingTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.sim = DigiCertSim(self.path("sim"))
        self.addCleanup(self.sim.stop)
        self.data = self.path("data")

    def add_backend(self, name, *extra):
        r = cbcs("backend", "add", "-name", name, "-type", "digicert", "-apikey", "-",
                 "-endpoint", self.sim.url, "-cacert", self.sim.ca_file, "-poll", "1s", *extra,
                 data_dir=self.data, stdin=self.sim.api_key + "\n")
        self.assertEqual(r.code, 0, r)

    def csr(self, stem):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", "/CN=web.example",
                "-addext", "subjectAltName=DNS:web.example", cwd=self.tmp)
        return self.path(f"{stem}.csr")

    def approve_all(self):
        for order in self.sim.orders():
            for req in order["requests"]:
                if req["status"] == "pending":
                    self.sim.admin("POST", f"/admin/requests/{req['id']}", {"status": "approved"})

    def test_a_pending_enroll_says_what_it_waits_for_and_ctrl_c_stops_after_the_request(self):
        self.add_backend("dc")
        self.sim.admin("POST", "/admin/policy", {"product": "ssl_plus", "mode": "approve"})
        csr = self.csr("p")
        proc = subprocess.Popen([CBCS, "enroll", "-backend", "dc", "-csr", csr, "-id", "job-p",
                                 "-timeout", "2m", "--data-dir", self.data],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        err = StderrReader(proc)
        self.assertTrue(eventually(lambda: err.has("still pending"), 60), err.text)
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read()
        proc.wait(timeout=30)
        err.thread.join(10)
        self.assertEqual(proc.returncode, 1, out + err.text)
        lines_in_order(self, err.text,
                       "enroll started at backend dc",
                       "POST https://127.0.0.1",
                       "  HTTP 201",
                       "pending at the CA (needs_approval): request",
                       "still pending (needs_approval); asking again in",
                       "finishing the request already sent to the CA; Ctrl-C again to stop "
                       "waiting (the job stays in the journal and -id job-p collects it)",
                       "stopped waiting for job job-p; it stays in the journal")
        self.assertEqual(len(self.sim.orders()), 1)
        # Collected later, quietly: no progress, the certificate, still one order.
        self.approve_all()
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "job-p", "-quiet",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("BEGIN CERTIFICATE", r.out)
        self.assertNotIn("started at backend", r.err)
        self.assertNotIn("HTTP 200", r.err)
        self.assertEqual(len(self.sim.orders()), 1)

    def test_a_revoke_run_again_collects_the_first_request(self):
        # The deadline must outlast the first answer: under the sanitizers on
        # two busy cores a 3 s deadline ran out before it (stop 34's CI).
        wait = "20s" if os.environ.get("CBCS_SANITIZED") == "1" else "8s"
        self.add_backend("dc", "-skipapproval", "true")
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("r"), data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        serial = subprocess.run(["openssl", "x509", "-serial", "-noout"], input=r.out,
                                capture_output=True, text=True, check=True).stdout.split("=")[1].strip()
        self.add_backend("dcr")  # its revocations wait for an approver
        revokes = lambda: [q for q in self.sim.requests("PUT") if q["target"].endswith("/revoke")]  # noqa: E731
        r = cbcs("revoke", "-backend", "dcr", "-serial", serial, "-timeout", wait, data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("pending at backend dcr", r.out)
        self.assertEqual(len(revokes()), 1)
        r = cbcs("revoke", "-backend", "dcr", "-serial", serial, "-timeout", wait, data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn(f"COLLECTING THE EARLIER REVOKE OF SERIAL {serial.upper()}", r.err.upper())
        self.assertIn("resuming the job from the journal", r.err)
        self.assertEqual(len(revokes()), 1, "a second revocation request")
        self.approve_all()
        r = cbcs("revoke", "-backend", "dcr", "-serial", serial, data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(len(revokes()), 1)
        # Another reason is another request: not collected in place of it.
        r = cbcs("revoke", "-backend", "dcr", "-serial", serial, "-reason", "superseded",
                 "-timeout", wait, data_dir=self.data)
        self.assertNotIn("collecting the earlier revoke", r.err)

    def test_a_proxy_that_forbids_the_ca_is_not_asked_again(self):
        self.add_backend("dc", "-skipapproval", "true")
        proxy = ForbiddingProxy()
        self.addCleanup(proxy.close)
        r = cbcs("proxy", "set", "-type", "manual", "-addr", "127.0.0.1", "-port", str(proxy.port),
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "test", "-name", "dc", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("refused CONNECT", r.err)
        self.assertIn("403", r.err)
        self.assertIn("asking again gets the same answer", r.err)
        self.assertNotIn("retrying", r.err)
        self.assertEqual(proxy.connects, 1)

    def test_a_shorter_validity_than_asked_is_said(self):
        self.add_backend("dc", "-skipapproval", "true")
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("v"), "-validity", "500d", "-quiet",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("note: the CA issued it for 199 days, not the 500 asked with -validity", r.err)
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("w"), "-validity", "90d", "-quiet",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertNotIn("note:", r.err)

    def test_a_terminal_shows_a_status_line_and_ctrl_c_as_a_person_meets_them(self):
        harness.require_or_skip(shutil.which("tmux"), "tmux is not installed")
        self.add_backend("dc")
        self.sim.admin("POST", "/admin/policy", {"product": "ssl_plus", "mode": "approve"})
        csr = self.csr("t")
        session = f"cbcs-{os.getpid()}"
        command = (f"{CBCS} enroll -backend dc -csr {csr} -id job-t -timeout 2m "
                   f"--data-dir {self.data} > {self.path('t.pem')}; echo EXIT=$?; sleep 120")
        env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        subprocess.run(["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "160",
                        "-y", "40", command], check=True, env=env)
        self.addCleanup(subprocess.run, ["tmux", "-L", session, "kill-server"], capture_output=True)

        def pane():
            return subprocess.run(["tmux", "-L", session, "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True, env=env).stdout

        # The status line: a spinner, the seconds waited, the last thing said.
        status_line = re.compile(r"^[|/\\-] +\d+s (still )?pending", re.M)
        self.assertTrue(eventually(lambda: status_line.search(pane()), 60), pane())
        subprocess.run(["tmux", "-L", session, "send-keys", "-t", session, "C-c"], check=True, env=env)
        self.assertTrue(eventually(lambda: "EXIT=1" in pane(), 30), pane())
        screen = pane()
        lines_in_order(self, screen, "pending at the CA (needs_approval)",
                       "finishing the request already sent to the CA",
                       "stopped waiting for job job-t", "EXIT=1")
        # No status line left behind on the screen.
        self.assertIsNone(status_line.search(screen), screen)
        # Collected later, by the same job.
        self.approve_all()
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "job-t", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(len(self.sim.orders()), 1)


def expired_certificate_pem():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired connector")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now - datetime.timedelta(days=35))
            .sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives.serialization import Encoding
    return cert.public_bytes(Encoding.PEM).decode()


class DoctorTest(TempDirTest):
    def start(self, scm_env=None):
        self.scm = Scm(self.path("scm"), env=scm_env)
        self.addCleanup(self.scm.stop)
        self.data = self.path("data")
        created = self.scm.call("POST", "/connectors", {"name": "doc", "comments": "doctor"})
        self.cid = created["id"]
        r = cbcs("register", "-token", "-", data_dir=self.data, stdin=created["token"] + "\n")
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "add", "-name", "loc", "-type", "local", data_dir=self.data)
        self.assertEqual(r.code, 0, r)

    def run_service(self):
        proc = subprocess.Popen([CBCS, "run", "--data-dir", self.data], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

        def stop():
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        self.addCleanup(stop)
        self.assertTrue(eventually(lambda: self.scm.connector(self.cid)["status"] == "Connected"))

    def doctor(self):
        r = cbcs("doctor", "--json", data_dir=self.data)
        report = json.loads(r.out)
        return r, {c["name"]: c for c in report["checks"]}

    def test_a_healthy_connector_passes_every_check(self):
        self.start()
        self.run_service()
        r = cbcs("doctor", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("every check passed", r.out)
        r, checks = self.doctor()
        self.assertEqual(r.code, 0, r)
        for name in ("data directory", "vault", "journal", "identity", "SCM session", "SCM path",
                     "clock vs SCM", "backend loc"):
            self.assertEqual(checks[name]["verdict"], "ok", checks)
        self.assertIn("pinned SCM CA", checks["SCM path"]["detail"])
        self.assertIn("within a second of ours", checks["clock vs SCM"]["detail"])
        # A check changes nothing: doctor's test jobs leave no trace in the journal.
        before = cbcs("journal", "check", "--json", data_dir=self.data).out
        self.doctor()
        self.assertEqual(cbcs("journal", "check", "--json", data_dir=self.data).out, before)

    def test_a_stopped_proxy_is_named_with_its_fix(self):
        self.start()
        held, port = harness.refused_port()
        self.addCleanup(held.close)
        r = cbcs("proxy", "set", "-type", "manual", "-addr", "127.0.0.1", "-port", str(port),
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r, checks = self.doctor()
        self.assertEqual(r.code, 1, r)
        self.assertEqual(checks["SCM path"]["verdict"], "fail")
        self.assertIn("through proxy 127.0.0.1", checks["SCM path"]["detail"])
        self.assertIn("failed at TCP to proxy", checks["SCM path"]["detail"])
        self.assertIn("the proxy does not answer", checks["SCM path"]["fix"])
        self.assertEqual(checks["SCM session"]["verdict"], "warn")  # no service here

    def test_a_wrong_vault_key_fails_the_vault_and_skips_what_needs_it(self):
        self.start()
        with open(os.path.join(self.data, "vault.key"), "wb") as fh:
            fh.write(os.urandom(32))
        r, checks = self.doctor()
        self.assertEqual(r.code, 1, r)
        self.assertEqual(checks["vault"]["verdict"], "fail", checks)
        self.assertIn("vault key", checks["vault"]["fix"])
        self.assertEqual(checks["backends"]["verdict"], "skip")

    def test_an_expired_identity_says_to_register_again(self):
        self.start()
        path = os.path.join(self.data, "identity.json")
        with open(path) as fh:
            identity = json.load(fh)
        key = next(k for k in identity if "cert" in k and isinstance(identity[k], str)
                   and "BEGIN CERTIFICATE" in identity[k])
        identity[key] = expired_certificate_pem()
        with open(path, "w") as fh:
            json.dump(identity, fh)
        r, checks = self.doctor()
        self.assertEqual(r.code, 1, r)
        self.assertEqual(checks["identity"]["verdict"], "fail")
        self.assertIn("expired on", checks["identity"]["detail"])
        self.assertIn("cbcs register -token", checks["identity"]["fix"])

    def test_a_damaged_journal_says_to_repair_it(self):
        self.start()
        jobs = self.path("jobs.jsonl")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "d.key", "-out", "d.csr", "-subj", "/CN=doc.example", cwd=self.tmp)
        with open(self.path("d.csr")) as fh:
            csr = fh.read()
        with open(jobs, "w") as fh:
            for i in range(80):
                fh.write(json.dumps({"id": f"d-{i}", "operation": "enroll", "backend": "loc",
                                     "csr": csr}) + "\n")
        r = cbcs("jobs", "run", "-file", jobs, "-quiet", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        import sqlite3
        journal = os.path.join(self.data, "journal.db")
        db = sqlite3.connect(journal)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        harness.damage_journal_pages(self, journal, 2)
        r, checks = self.doctor()
        self.assertEqual(r.code, 1, r)
        self.assertEqual(checks["journal"]["verdict"], "fail")
        self.assertIn("cbcs journal repair", checks["journal"]["fix"])

    def test_a_skewed_clock_at_scm_fails_with_how_far(self):
        self.start(scm_env={"CBCS_SIM_CLOCK_OFFSET": "900"})
        r, checks = self.doctor()
        self.assertEqual(r.code, 1, r)
        clock = checks["clock vs SCM"]
        self.assertEqual(clock["verdict"], "fail", clock)
        seconds = int(clock["detail"].split(" s ")[0])
        self.assertTrue(895 <= seconds <= 905, clock)
        self.assertIn("ahead of ours", clock["detail"])
        self.assertIn("synchronise this machine's clock", clock["fix"])


if __name__ == "__main__":
    unittest.main()
