"""The SCM link end to end: `cbcs register` and `cbcs run` against the SCM
simulator (`build/cbcs-sim scm`) on loopback, with a local CA backend."""

import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR, CBCS, TempDirTest, cbcs, openssl, require_or_skip, stop_gently  # noqa: E402

SIM = os.path.join(BUILD_DIR, "cbcs-sim")
# cbcs with a test backend type that holds each job pending until approved.
WITH_APPROVAL_CA = os.path.join(BUILD_DIR, "cbcs-with-approval-ca")


def add_approval_backend(data, approvals, name="slow"):
    """`backend add` of the approval test CA (jobs pending until a file named
    by the job id appears in approvals); the finished process."""
    return subprocess.run([WITH_APPROVAL_CA, "backend", "add", "-name", name, "-type", "approval",
                           "-approvals", approvals, "--data-dir", data],
                          capture_output=True, text=True)


class Scm:
    def __init__(self, state_dir, env=None):
        self.proc = subprocess.Popen([SIM, "scm", "--state-dir", state_dir, "--heartbeat-ms", "500"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, **(env or {})})
        ready = json.loads(self.proc.stdout.readline())
        self.url, self.admin, self.ca_file = ready["scm_url"], ready["admin_url"], ready["ca_file"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.admin + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def connector(self, cid):
        return self.call("GET", f"/connectors/{cid}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class ScmLinkTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.scm = Scm(self.path("scm"))
        self.addCleanup(self.scm.stop)
        self.data = self.path("data")
        created = self.scm.call("POST", "/connectors", {"name": "it", "comments": "integration"})
        self.cid, self.token = created["id"], created["token"]
        self.assertEqual(created["status"], "Pending")
        self.runner = None

    def tearDown(self):
        self.stop_run()
        super().tearDown()

    def register(self, token=None, *extra):
        return cbcs("register", "-token", "-", *extra, data_dir=self.data,
                    stdin=(token or self.token) + "\n")

    def start_run(self, binary=CBCS):
        self.runner = subprocess.Popen([binary, "run", "--data-dir", self.data], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self.wait_for(lambda: self.scm.connector(self.cid)["status"] == "Connected", "Connected")

    def stop_run(self):
        stop_gently(self.runner)
        self.runner = None

    def wait_for(self, predicate, what, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.fail(f"timed out waiting for {what}")

    def csr_text(self):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "s.key", "-out", "s.csr", "-subj", "/CN=scm-link.example", cwd=self.tmp)
        with open(self.path("s.csr")) as fh:
            return fh.read()

    def results(self):
        return {r["job_id"]: r for r in self.scm.call("GET", f"/connectors/{self.cid}/results")}

    def ledger(self):
        db = sqlite3.connect(os.path.join(self.data, "local-ca", "local", "ledger.db"))
        try:
            return db.execute("SELECT job_id, count(*) FROM issued GROUP BY job_id").fetchall()
        finally:
            db.close()

    def test_register_connect_and_refuse_a_reused_token(self):
        r = self.register()
        self.assertEqual(r.code, 0, r)
        self.assertIn(self.cid, r.out)
        self.assertEqual(self.scm.connector(self.cid)["status"], "Pending")
        again = cbcs("register", "-token", "-", "-force", data_dir=self.data, stdin=self.token + "\n")
        self.assertOneLineError(again, 1, "already used")
        cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=self.data)
        # A backend no job can succeed with (AD CS with -auth kerberos, which
        # this version lacks): SCM must hear it is unhealthy.
        r = cbcs("backend", "add", "-name", "dc", "-type", "msca", "-server", "ca.example",
                 "-ca", "Example CA", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.start_run()
        info = self.scm.connector(self.cid)
        self.assertEqual(info["version"], "0.1.0")
        health = {b["name"]: b["health"] for b in info["backends"]}
        self.assertEqual(health, {"local": "healthy", "dc": "unhealthy"})
        status = json.loads(cbcs("status", "--json", data_dir=self.data).out)
        self.assertEqual(status["connection"], "ready")
        self.stop_run()
        self.wait_for(lambda: self.scm.connector(self.cid)["status"] == "Offline", "Offline")
        # No secret of the token or the identity key in any file outside the vault.
        secret = json.loads(__import__("base64").urlsafe_b64decode(
            self.token.split(".")[1] + "==="))["secret"]
        for dirpath, _, files in os.walk(self.data):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    self.assertNotIn(secret.encode(), fh.read(), f)

    def test_run_refuses_a_journal_retention_below_a_week(self):
        r = cbcs("run", "-journal-retention", "2d", data_dir=self.data)
        self.assertOneLineError(r, 2, "-journal-retention", "at least 7d")
        r = cbcs("run", "-journal-retention", "soon", data_dir=self.data)
        self.assertOneLineError(r, 2, "-journal-retention", "not a duration")

    def test_wrong_scm_ca_is_a_clear_tls_error_and_writes_nothing(self):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=not the SCM CA",
                cwd=self.tmp)
        r = self.register(None, "-scm-cacert", self.path("other.pem"))
        self.assertOneLineError(r, 1, "certificate verify failed")
        self.assertFalse(os.path.exists(os.path.join(self.data, "identity.json")))
        self.assertEqual(self.register().code, 0)  # the token was not spent

    def test_batch_survives_a_dropped_session_without_loss_or_duplicates(self):
        self.assertEqual(self.register().code, 0)
        cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=self.data)
        self.start_run()
        csr = self.csr_text()
        n = 1000
        jobs = [{"id": f"link-{i:04d}", "operation": "enroll", "backend": "local", "csr": csr}
                for i in range(n)]
        for i in range(0, n, 250):
            self.scm.call("POST", f"/connectors/{self.cid}/jobs", jobs[i:i + 250])
        self.wait_for(lambda: len(self.results()) >= 50, "the first results")
        self.scm.call("POST", "/faults", {"drop_session": True})
        time.sleep(0.3)
        self.scm.call("POST", "/faults", {"garbage_frames": 3, "duplicate_frames": True})
        self.wait_for(lambda: len(self.results()) == n, f"{n} results", seconds=240)
        results = self.results()
        self.assertTrue(all(r["outcome"]["outcome"] == "issued" for r in results.values()))
        ledger = dict(self.ledger())
        self.assertEqual(len(ledger), n, "every job issued")
        self.assertTrue(all(c == 1 for c in ledger.values()), "no job issued twice")
        self.assertIsNone(self.runner.poll(), "the connector died")

    def trace_events(self, job_id):
        events = []
        trace_dir = os.path.join(self.data, "trace")
        for name in sorted(os.listdir(trace_dir)) if os.path.isdir(trace_dir) else []:
            with open(os.path.join(trace_dir, name)) as fh:
                for line in fh:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue  # a line still being written
                    if e.get("job") == job_id:
                        events.append((e["actor"], e["event"]))
        return events

    def run_with_approval_ca(self):
        """Registers, adds the approval test CA as backend "slow", runs; its approvals folder."""
        self.assertEqual(self.register().code, 0)
        approvals = self.path("approvals")
        os.makedirs(approvals)
        r = add_approval_backend(self.data, approvals)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.start_run(WITH_APPROVAL_CA)
        return approvals

    def test_pending_reaches_scm_again_after_a_reconnect_then_the_result(self):
        approvals = self.run_with_approval_ca()
        csr = self.csr_text()
        ids = [f"wait-{i}" for i in range(5)]
        self.scm.call("POST", f"/connectors/{self.cid}/jobs",
                      [{"id": i, "operation": "enroll", "backend": "slow", "csr": csr} for i in ids])

        def job(i):
            return self.scm.call("GET", f"/connectors/{self.cid}/jobs/{i}")

        self.wait_for(lambda: all(job(i)["pending_reports"] >= 1 for i in ids), "pending at SCM")
        self.assertTrue(all(job(i)["pending_message"] == "awaiting approval" for i in ids))
        self.assertTrue(all(job(i)["pending_reason"] == "needs_approval" for i in ids))
        self.scm.call("POST", "/faults", {"drop_session": True})
        time.sleep(0.3)
        self.wait_for(lambda: self.scm.connector(self.cid)["status"] == "Connected", "reconnected")

        # Every poll's pending (the router's "progress") is either sent or,
        # while the link is down, held; one more than those is the one said
        # again on reconnect.
        def resent(i):
            events = self.trace_events(i)
            said = events.count(("scm_session", "pending_sent")) + \
                events.count(("scm_session", "pending_held"))
            return said > events.count(("router", "progress"))
        self.wait_for(lambda: all(resent(i) for i in ids), "pending said again after the reconnect")
        self.assertTrue(all(job(i)["state"] == "accepted" for i in ids))
        self.assertEqual(self.results(), {}, "no result before approval")

        for i in ids[:2]:
            open(os.path.join(approvals, i), "w").close()
        self.wait_for(lambda: set(self.results()) == set(ids[:2]), "the approved results")
        for i in ids[2:]:
            open(os.path.join(approvals, i), "w").close()
        self.wait_for(lambda: len(self.results()) == len(ids), "every result", seconds=60)
        results = self.results()
        self.assertTrue(all(r["outcome"]["outcome"] == "issued" for r in results.values()))
        self.assertEqual(len({r["outcome"]["serial"] for r in results.values()}), len(ids))
        self.assertIsNone(self.runner.poll(), "the connector died")

    def test_scm_cancels_a_pending_job(self):
        approvals = self.run_with_approval_ca()
        csr = self.csr_text()
        ids = ["cancel-me", "keep-me"]
        self.scm.call("POST", f"/connectors/{self.cid}/jobs",
                      [{"id": i, "operation": "enroll", "backend": "slow", "csr": csr} for i in ids])

        def job(i):
            return self.scm.call("GET", f"/connectors/{self.cid}/jobs/{i}")

        self.wait_for(lambda: all(job(i)["pending_reports"] >= 1 for i in ids), "pending at SCM")
        self.scm.call("POST", f"/connectors/{self.cid}/jobs/cancel-me/cancel", "requester withdrew")
        self.wait_for(lambda: "cancel-me" in self.results(), "the cancelled job's result")
        outcome = self.results()["cancel-me"]["outcome"]
        self.assertEqual(outcome["outcome"], "failed")
        self.assertEqual(outcome["error"], "rejected")
        self.assertFalse(outcome["retryable"])
        # The approval type cannot cancel orders at its CA: the result says so.
        self.assertEqual(outcome["message"], "cancelled by SCM: requester withdrew; the order "
                         "stays at the CA (this backend type cannot cancel it there)")
        # Cancelled twice: the second is refused; a job not pending yet is refused too.
        self.scm.call("POST", f"/connectors/{self.cid}/jobs/cancel-me/cancel", "again")
        self.wait_for(lambda: job("cancel-me")["last_connector_error"] == "not_cancellable",
                      "the second cancel refused")
        # Approving it afterwards changes nothing; the other job goes on.
        for i in ids:
            open(os.path.join(approvals, i), "w").close()
        self.wait_for(lambda: "keep-me" in self.results(), "the other job's result")
        self.assertEqual(self.results()["keep-me"]["outcome"]["outcome"], "issued")
        time.sleep(0.5)
        self.assertEqual(job("cancel-me")["result_count"], 1)
        self.assertEqual(self.results()["cancel-me"]["outcome"]["outcome"], "failed")
        self.assertIsNone(self.runner.poll(), "the connector died")

    def test_restore_after_31_days_offline(self):
        self.assertEqual(self.register().code, 0)
        self.scm.call("POST", "/clock", {"advance_seconds": 31 * 86400})
        restore = self.scm.call("POST", f"/connectors/{self.cid}/restore")["token"]
        plain = self.register(restore)
        self.assertOneLineError(plain, 1, "-force")
        forced = cbcs("register", "-token", "-", "-force", data_dir=self.data, stdin=restore + "\n")
        self.assertEqual(forced.code, 0, forced)
        self.assertIn(self.cid, forced.out)


if __name__ == "__main__":
    require_or_skip(os.path.exists(SIM), f"{SIM} is not built")
    unittest.main()
