"""DigiCert CertCentral through the connector's job path against the
simulator (`build/cbcs-sim digicert`, which follows DigiCert's public API
documentation): issuance at once and after approval, rejection, an invalid
organization, renew both ways, revoke of a certificate and of an order,
a storm of 429s, SIGKILL while placing orders, and a job from SCM."""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR, CBCS, TempDirTest, cbcs, openssl  # noqa: E402
from test_scm_link import Scm  # noqa: E402

SIM = os.path.join(BUILD_DIR, "cbcs-sim")


class DigiCertSim:
    def __init__(self, state_dir):
        self.proc = subprocess.Popen([SIM, "digicert", "--state-dir", state_dir],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = json.loads(self.proc.stdout.readline())
        self.url, self.admin_url = ready["url"], ready["admin_url"]
        self.ca_file, self.api_key = ready["ca_file"], ready["api_key"]
        self.base_url = ready["base_url"]

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.admin_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return json.loads(text) if text else None

    def orders(self):
        return self.admin("GET", "/admin/orders")["orders"]

    def api(self, method, path, body=None):
        """CertCentral's API itself (HTTPS, the key header): (status, JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "X-DC-DEVKEY": self.api_key})
        context = ssl.create_default_context(cafile=self.ca_file)
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as r:
                text = r.read()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            return e.code, json.loads(text) if text else None

    def requests(self, method=None, path_prefix=None):
        q = []
        if method:
            q.append(f"method={method}")
        if path_prefix:
            q.append(f"path_prefix={path_prefix}")
        return self.admin("GET", "/requests" + ("?" + "&".join(q) if q else ""))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class DigiCertTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.sim = DigiCertSim(self.path("sim"))
        self.addCleanup(self.sim.stop)
        self.data = self.path("data")

    def add_backend(self, name, *extra, key=None):
        r = cbcs("backend", "add", "-name", name, "-type", "digicert", "-apikey", "-",
                 "-endpoint", self.sim.url, "-cacert", self.sim.ca_file, "-poll", "1s", *extra,
                 data_dir=self.data, stdin=(key or self.sim.api_key) + "\n")
        self.assertEqual(r.code, 0, r)

    def csr(self, stem, cn="web.example"):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/CN={cn}",
                "-addext", f"subjectAltName=DNS:{cn}", cwd=self.tmp)
        return self.path(f"{stem}.csr")

    def read(self, path):
        with open(path) as fh:
            return fh.read()

    def pubkey(self, args, text=None):
        p = subprocess.run(["openssl", *args, "-pubkey", "-noout"], input=text, capture_output=True,
                           text=True, check=True, cwd=self.tmp)
        return p.stdout

    def assert_leaf_for(self, pem, stem):
        first = pem[:pem.index("-----END CERTIFICATE-----") + 25] + "\n"
        self.assertEqual(self.pubkey(["x509"], first), self.pubkey(["req", "-in", f"{stem}.csr"]))

    def serial(self, pem):
        p = subprocess.run(["openssl", "x509", "-serial", "-noout"], input=pem, capture_output=True,
                           text=True, check=True)
        return p.stdout.strip().split("=")[1]

    def test_issue_at_once_renew_both_ways_and_revoke(self):
        self.add_backend("dc", "-skipapproval", "true")
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("a"), "-id", "dc-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.out.count("BEGIN CERTIFICATE"), 3, r.out)  # leaf, intermediate, root
        self.assert_leaf_for(r.out, "a")
        first = r.out
        with open(self.path("a.pem"), "w") as fh:
            fh.write(first)
        orders = self.sim.orders()
        self.assertEqual(len(orders), 1)
        self.assertIn("cbcs job dc-1", orders[0]["comments"])

        # Renew by reissue (the default): the same order, a new certificate.
        r = cbcs("renew", "-backend", "dc", "-cert", self.path("a.pem"), "-csr", self.csr("b"),
                 "-id", "dc-2", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assert_leaf_for(r.out, "b")
        orders = self.sim.orders()
        self.assertEqual(len(orders), 1)
        self.assertEqual(orders[0]["certificates"], 2)
        with open(self.path("b.pem"), "w") as fh:
            fh.write(r.out)

        # Renew by a new order that renews the old one.
        self.add_backend("dcrenew", "-renewal", "renew", "-skipapproval", "true")
        r = cbcs("renew", "-backend", "dcrenew", "-cert", self.path("b.pem"), "-csr", self.csr("c"),
                 "-id", "dc-3", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assert_leaf_for(r.out, "c")
        orders = self.sim.orders()
        self.assertEqual(len(orders), 2)
        self.assertEqual(orders[1]["renewal_of_order_id"], orders[0]["id"])
        third = r.out

        # Revoke the certificate (skip approval: at once), then a whole order
        # whose revocation awaits approval, approved by cbcs.
        r = cbcs("revoke", "--json", "-backend", "dc", "-serial", self.serial(first), "-reason",
                 "keyCompromise", "-id", "dc-4", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn('"scope": "certificate"', r.out)
        self.add_backend("dcorder", "-revoke", "order", "-autoapprove", "true")
        r = cbcs("revoke", "--json", "-backend", "dcorder", "-serial", self.serial(third), "-reason",
                 "superseded", "-id", "dc-5", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn('"approved_by": "cbcs"', r.out)
        # (Revoking the first order's only certificate revoked that order too.)
        revoked = [o["id"] for o in self.sim.orders() if o["status"] == "revoked"]
        self.assertEqual(revoked, [orders[0]["id"], orders[1]["id"]])
        self.assertEqual(len(self.sim.requests("PUT", f"/services/v2/order/certificate/{orders[1]['id']}/revoke")), 1)
        self.assertEqual(len(self.sim.requests("PUT", "/services/v2/request/")), 1)
        # A reason CertCentral does not take never leaves the connector.
        before = len(self.sim.requests())
        r = cbcs("revoke", "--json", "-backend", "dc", "-serial", self.serial(first), "-reason",
                 "certificateHold", "-id", "dc-6", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("CertCentral", r.err)
        self.assertEqual(len(self.sim.requests()), before)

    def test_revocation_reasons_are_certcentrals_camelcase_words(self):
        # dev.digicert.com "Revoke order certificates": revocation_reason is
        # one of unspecified, keyCompromise, affiliationChanged, superseded,
        # cessationOfOperation; CertCentral refuses anything else (snake_case too).
        self.add_backend("dc", "-skipapproval", "true")
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("w"), "-id", "dc-w1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        serial = self.serial(r.out)
        order = self.sim.orders()[0]
        status, answer = self.sim.api("GET", f"/order/certificate/{order['id']}")
        self.assertEqual(status, 200, answer)
        cert_id = answer["certificate"]["id"]
        for word in ("key_compromise", "affiliation_changed", "cessation_of_operation", "KeyCompromise"):
            status, answer = self.sim.api("PUT", f"/certificate/{cert_id}/revoke",
                                          {"revocation_reason": word, "skip_approval": True})
            self.assertEqual(status, 400, word)
            self.assertEqual(answer["errors"][0]["code"], "invalid_revocation_reason", answer)
        self.assertEqual(self.sim.orders()[0]["status"], "issued")
        r = cbcs("revoke", "--json", "-backend", "dc", "-serial", serial, "-reason", "affiliationChanged",
                 "-id", "dc-w2", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        sent = self.sim.requests("PUT", f"/services/v2/certificate/{cert_id}/revoke")[-1]
        self.assertEqual(json.loads(sent["body"])["revocation_reason"], "affiliationChanged")
        self.assertEqual(self.sim.orders()[0]["status"], "revoked")

    def test_autoapprove_finds_the_request_already_approved_and_goes_on(self):
        # An approver in CertCentral acts between CertCentral's answer to the
        # placement (held back 3 s) and cbcs's approval: the approval gets
        # 400 "The request has already been approved"; the job goes on to
        # download the certificate, and the request is approved only once.
        self.add_backend("dc", "-autoapprove", "true")
        self.sim.admin("POST", "/admin/policy", {"product": "ssl_plus", "mode": "approve"})
        self.sim.admin("POST", "/faults", {"method": "POST", "path_prefix": "/services/v2/order/certificate/",
                                           "count": 1, "latency_ms": 3000})
        csr = self.csr("aa")
        proc = subprocess.Popen([CBCS, "enroll", "-backend", "dc", "-csr", csr, "-id", "dc-aa",
                                 "--data-dir", self.data], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.time() + 10
        while not self.sim.orders() and time.time() < deadline:
            time.sleep(0.05)
        order = self.sim.orders()[0]
        self.sim.admin("POST", f"/admin/requests/{order['requests'][0]['id']}", {"status": "approved"})
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assert_leaf_for(out, "aa")
        approvals = self.sim.requests("PUT", "/services/v2/request/")
        self.assertEqual(len(approvals), 1, approvals)
        self.assertEqual(approvals[0]["status"], 400)
        self.assertEqual(len(self.sim.orders()), 1)

    def test_a_new_job_sharing_a_csr_never_gets_another_jobs_certificate(self):
        # The README's renew example reuses the CSR; an enroll after a revoke
        # may too. The lookup before resubmit matches the job's own tag only.
        self.add_backend("dc", "-skipapproval", "true")
        csr = self.csr("s")
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "share-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        first = self.serial(r.out)
        with open(self.path("s.pem"), "w") as fh:
            fh.write(r.out)
        r = cbcs("renew", "-backend", "dc", "-cert", self.path("s.pem"), "-csr", csr, "-id", "share-2",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        second = self.serial(r.out)
        self.assertNotEqual(second, first, "the renew got the original certificate back")
        self.assertEqual(len(self.sim.requests("POST", "/services/v2/order/certificate/")), 2)  # order + reissue
        r = cbcs("revoke", "--json", "-backend", "dc", "-serial", second, "-id", "share-3", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "share-4", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        third = self.serial(r.out)
        self.assertNotIn(third, (first, second), "the enroll got an earlier job's certificate")
        mine = [o for o in self.sim.orders() if o["comments"] == "cbcs job share-4"]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]["status"], "issued")

    def test_pending_then_rejected_fails_with_the_reason(self):
        self.add_backend("dc")
        self.sim.admin("POST", "/admin/policy", {"product": "ssl_plus", "mode": "approve"})
        csr = self.csr("p")
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "dc-p", "-timeout", "8s",
                 data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("pending", r.out)
        self.assertIn("approver", r.out)
        order = self.sim.orders()[0]
        self.assertEqual(order["status"], "needs_approval")
        self.sim.admin("POST", f"/admin/requests/{order['requests'][0]['id']}",
                       {"status": "rejected", "processor_comment": "not our domain"})
        r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", "dc-p", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("rejected", r.err)
        self.assertIn("not our domain", r.err)
        self.assertEqual(len(self.sim.orders()), 1)

    def test_an_organization_without_validation_is_refused(self):
        self.add_backend("dc")
        self.sim.admin("POST", "/admin/organizations/112233", {"ov": "expired"})
        r = cbcs("enroll", "-backend", "dc", "-csr", self.csr("i"), "-id", "dc-i", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("rejected", r.err)
        self.assertIn("ov validation", r.err)
        self.assertEqual(self.sim.orders(), [])
        r = cbcs("backend", "test", "--json", "-name", "dc", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn('"usable": false', r.out)

    def test_backend_test_names_missing_permissions_and_masks_the_key(self):
        self.add_backend("dc")
        self.sim.admin("POST", "/admin/user", {"roles": ["User"]})
        r = cbcs("backend", "test", "--json", "-name", "dc", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("review_requests", r.err)
        self.assertIn("manage_requests", r.err)
        self.assertNotIn(self.sim.api_key, r.out + r.err)
        self.assertIn("manage_requests", json.loads(r.out)["missing_permissions"])
        # For a person: the same report as a table, what passed beside what did not.
        r = cbcs("backend", "test", "-name", "dc", "-quiet", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        lines = r.out.splitlines()
        self.assertRegex(lines[0], r"^  ok    API key +\.\.\.0001 accepted: user \S+ \(User\)$")
        self.assertRegex(lines[1], r"^  ok    organization +\d+ \(.*\) may order ssl_plus$")
        self.assertRegex(lines[2], r"^  fail  permissions +the roles lack manage_orders?")
        self.assertEqual(lines[3], "verdict: backend dc fails 1 check(s)")
        self.assertOneLineError(r, 1, "lacks")
        self.add_backend("wrong", key="not-the-key-but-long-enough")
        r = cbcs("backend", "test", "--json", "-name", "wrong", data_dir=self.data)
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("auth", r.err)
        self.assertIn("...ough", r.err)
        self.assertNotIn("not-the-key-but-long-enough", r.err)

    def test_a_storm_of_429s_loses_no_job_and_places_one_order_each(self):
        # CertCentral allows 10 requests a second here; the backend is told so.
        self.sim.admin("POST", "/admin/limits", {"windows": [{"limit": 10, "ms": 1000}]})
        self.add_backend("dc", "-skipapproval", "true", "-ratelimit", "default=10/1s")
        self.sim.admin("POST", "/faults", {"method": "POST", "path_prefix": "/services/v2/order",
                                           "count": 15, "status": 429, "retry_after": "1"})
        jobs = []
        for i in range(12):
            jobs.append({"id": f"storm-{i}", "operation": "enroll", "backend": "dc",
                         "csr": self.read(self.csr(f"s{i}", f"storm{i}.example"))})
        with open(self.path("jobs.jsonl"), "w") as fh:
            fh.write("".join(json.dumps(j) + "\n" for j in jobs))
        r = cbcs("jobs", "run", "-file", self.path("jobs.jsonl"), "--json", data_dir=self.data, timeout=240)
        self.assertEqual(r.code, 0, r)
        results = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        self.assertEqual(sorted(x["id"] for x in results), sorted(j["id"] for j in jobs))
        self.assertTrue(all(x["result"]["outcome"] == "issued" for x in results), results)
        orders = self.sim.orders()
        self.assertEqual(len(orders), len(jobs))
        self.assertEqual(sorted(o["comments"] for o in orders),
                         sorted(f"cbcs job {j['id']}" for j in jobs))
        log = self.sim.requests()
        self.assertGreaterEqual(sum(1 for x in log if x["status"] == 429), 15)
        # The limiter holds 10 per second as the connector sends; at the
        # simulator a first connection's handshake shifts a request by some
        # milliseconds, so any 900 ms there must hold no more than 10.
        times = sorted(x["time_ms"] for x in log)
        for i, t in enumerate(times):
            in_window = sum(1 for u in times[i:] if u < t + 900)
            self.assertLessEqual(in_window, 10, f"{in_window} requests within 900 ms of {t}: "
                                 f"{[(x['time_ms'] - times[0], x['method'], x['status']) for x in log]}")

    def test_sigkill_while_placing_orders_one_order_per_job(self):
        # A placement in doubt is looked for once 2 + 2 + 2 s have passed.
        self.add_backend("dc", "-skipapproval", "true", "-requesttimeout", "2s")
        # The third request of an enroll is the placement: crash once it was
        # sent, and once its answer came, before the result is journaled.
        for crash_point, job in (("http:3", "kill-1"), ("http_done:3", "kill-2"),
                                 ("resume_saved", "kill-3")):
            csr = self.csr(job, f"{job}.example")
            r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", job, data_dir=self.data,
                     env={"CBCS_CRASH_AT": crash_point})
            self.assertEqual(r.code, -signal.SIGKILL, r)
            r = cbcs("enroll", "-backend", "dc", "-csr", csr, "-id", job, data_dir=self.data)
            self.assertEqual(r.code, 0, r)
            self.assert_leaf_for(r.out, job)
            mine = [o for o in self.sim.orders() if o["comments"] == f"cbcs job {job}"]
            self.assertEqual(len(mine), 1, f"crash at {crash_point}: {mine}")


class DigiCertFromScmTest(TempDirTest):
    """A job from SCM waits for an approver in CertCentral, is approved there,
    and its certificate reaches SCM."""

    def test_pending_approved_in_certcentral_reaches_scm(self):
        sim = DigiCertSim(self.path("sim"))
        self.addCleanup(sim.stop)
        scm = Scm(self.path("scm"))
        self.addCleanup(scm.stop)
        data = self.path("data")
        created = scm.call("POST", "/connectors", {"name": "dc", "comments": "digicert"})
        cid = created["id"]
        r = cbcs("register", "-token", "-", data_dir=data, stdin=created["token"] + "\n")
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-",
                 "-endpoint", sim.url, "-cacert", sim.ca_file, "-poll", "1s", data_dir=data,
                 stdin=sim.api_key + "\n")
        self.assertEqual(r.code, 0, r)
        sim.admin("POST", "/admin/policy", {"mode": "approve"})
        runner = subprocess.Popen([os.environ.get("CBCS_BIN", os.path.join(BUILD_DIR, "cbcs")),
                                   "run", "--data-dir", data],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop():
            runner.send_signal(signal.SIGTERM)
            try:
                runner.wait(timeout=20)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()
        self.addCleanup(stop)
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "j.key", "-out", "j.csr", "-subj", "/CN=scm.example", cwd=self.tmp)
        with open(self.path("j.csr")) as fh:
            csr = fh.read()

        def wait_for(predicate, what, seconds=30):
            deadline = time.time() + seconds
            while time.time() < deadline:
                value = predicate()
                if value:
                    return value
                time.sleep(0.2)
            self.fail(f"timed out waiting for {what}: {scm.call('GET', f'/connectors/{cid}/jobs/scm-dc-1')} "
                      f"{cbcs('trace', 'show', '-job', 'scm-dc-1', data_dir=data).out}")

        wait_for(lambda: scm.connector(cid)["status"] == "Connected", "Connected")
        scm.call("POST", f"/connectors/{cid}/jobs",
                 {"id": "scm-dc-1", "operation": "enroll", "backend": "dc", "csr": csr})
        job = wait_for(lambda: (lambda j: j if j.get("pending_reason") else None)(
            scm.call("GET", f"/connectors/{cid}/jobs/scm-dc-1")), "pending at SCM")
        self.assertEqual(job["pending_reason"], "needs_approval")
        order = wait_for(lambda: sim.orders(), "the order")[0]
        sim.admin("POST", f"/admin/requests/{order['requests'][0]['id']}", {"status": "approved"})
        results = wait_for(lambda: {r["job_id"]: r for r in
                                    scm.call("GET", f"/connectors/{cid}/results")}.get("scm-dc-1"),
                           "the result at SCM")
        self.assertEqual(results["outcome"]["outcome"], "issued", results)
        self.assertEqual(len(sim.orders()), 1)


if __name__ == "__main__":
    unittest.main()
