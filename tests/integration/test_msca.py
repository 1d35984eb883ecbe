"""The AD CS driver over CES/CEP through the connector's job path (cbcs
backend msca enroll-agent-cert, enroll, backend test, revoke) against the
AD CS simulator (`build/cbcs-sim msca`, tests/sim/msca), which checks the
CMS signature, the agent's EKU and records the requester."""

import os
import re
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from crash_runs import final_run, killed_runs, write_enroll_jobs  # noqa: E402
from harness import (BUILD_DIR, TempDirTest, assert_no_secret_in_files, cbcs,  # noqa: E402
                     eventually, key_lines, openssl)
from msca_sim import MscaSim  # noqa: E402


class MscaTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = MscaSim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        super().setUp()
        self.sim.admin("POST", "/reset")
        self.data = self.path("data")
        self.addCleanup(self.assert_no_secret_in_data_dir)

    def assert_no_secret_in_data_dir(self):
        """The client key and any private key (the agent's is sealed): in no
        file of the data directory."""
        assert_no_secret_in_files(self, self.data, key_lines(self.sim.client_key) + [
            b"BEGIN PRIVATE KEY", b"BEGIN RSA PRIVATE KEY"])

    def add(self, name="ad", *extra, template="WebServer"):
        r = cbcs("backend", "add", "-name", name, "-type", "msca", "-server", "127.0.0.1",
                 "-ca", self.sim.ca_name, "-ces", self.sim.ces_url, "-cep", self.sim.cep_url,
                 "-cacert", self.sim.ca_file, "-auth", "certificate", "-cert", self.sim.client_cert,
                 "-key", self.sim.client_key, "-template", template, "-requester", "CORP\\jdoe",
                 *extra, data_dir=self.data)
        self.assertEqual(r.code, 0, r)

    def agent(self, name="ad"):
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", name, "-ca", self.sim.ca_name,
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        return r

    def csr(self, stem):
        cn = f"{stem}.example.com"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/CN={cn}",
                "-addext", f"subjectAltName=DNS:{cn}", cwd=self.tmp)
        return self.path(f"{stem}.csr")

    def enroll(self, stem, job, *extra, backend="ad"):
        return cbcs("enroll", "-backend", backend, "-csr", self.csr(stem), "-id", job, *extra,
                    data_dir=self.data)

    def requests(self):
        return self.sim.admin("GET", "/admin/requests")["requests"]

    # ---

    def test_agent_certificate_then_enroll_on_behalf(self):
        self.add()
        r = self.agent()
        self.assertIn("CN=cbcs-host.corp.example", r.out)
        shown = cbcs("backend", "show", "-name", "ad", data_dir=self.data)
        self.assertRegex(shown.out, r"agentcert:\s+\*+ \(sealed\), .*CN=cbcs-host.corp.example")
        first = self.requests()[-1]
        self.assertEqual(first["template"], "MachineEnrollmentAgent")
        self.assertEqual(first["signer"], "")  # the agent's own request is a plain PKCS#10
        r = self.enroll("web", "job-1")
        self.assertEqual(r.code, 0, r)
        text = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=r.out.encode(),
                              capture_output=True, check=True).stdout.decode()
        self.assertIn("web.example.com", text)
        last = self.requests()[-1]
        self.assertEqual(last["state"], "issued")
        self.assertEqual(last["requester"], "CORP\\jdoe")
        self.assertEqual(last["signer"], "CN=cbcs-host.corp.example")
        self.assertEqual(last["template"], "WebServer")
        # The chain: the leaf verifies through the CA of the CMC response.
        with open(self.path("issued.pem"), "w") as fh:
            fh.write(r.out)
        subprocess.run(["openssl", "verify", "-CAfile", self.sim.issuing_ca_file,
                        self.path("issued.pem")], check=True, capture_output=True)

    def test_backend_test_says_what_it_found(self):
        self.add()
        r = cbcs("backend", "test", "--json", "-name", "ad", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("agent certificate: fail: none yet: run cbcs backend msca enroll-agent-cert",
                      r.err)
        self.agent()
        r = cbcs("backend", "test", "--json", "-name", "ad", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("CEP: ok", r.err)
        self.assertIn("CA: ok", r.err)
        self.assertIn("template WebServer", r.err)
        self.assertRegex(r.err, r"agent certificate: ok: CN=cbcs-host.corp.example until")

    def test_enroll_without_an_agent_says_how_to_get_one(self):
        self.add()
        r = self.enroll("web", "job-noagent")
        self.assertNotEqual(r.code, 0)
        self.assertIn("enroll-agent-cert -name ad", r.err)
        self.assertEqual(self.requests(), [])

    def test_pending_then_approved_is_collected_with_the_same_id(self):
        self.add()
        self.agent()
        r = self.enroll("held", "job-held", "-profile", "WebServerApproval", "-timeout", "8s")
        self.assertIn("taken under submission", r.out)
        held = [q for q in self.requests() if q["state"] == "pending"]
        self.assertEqual(len(held), 1)
        self.sim.admin("POST", f"/admin/requests/{held[0]['id']}/approve")
        r = cbcs("enroll", "-backend", "ad", "-csr", self.path("held.csr"), "-id", "job-held",
                 "-profile", "WebServerApproval", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("BEGIN CERTIFICATE", r.out)
        # One request for the job at the CA: the second run polled it.
        self.assertEqual(len([q for q in self.requests() if q["template"] == "WebServerApproval"]), 1)

    def test_denied_names_the_hresult(self):
        self.add()
        self.agent()
        r = self.enroll("no", "job-denied", "-profile", "WebServerDenied")
        self.assertOneLineError(r, 1, "CERTSRV_E_TEMPLATE_DENIED (0x80094012)")

    def test_revoke_over_ces_is_refused_before_any_request(self):
        self.add()
        before = len(self.sim.admin("GET", "/requests"))
        r = cbcs("revoke", "--json", "-backend", "ad", "-serial", "0a1b", "-reason", "keyCompromise",
                 data_dir=self.data)
        self.assertNotEqual(r.code, 0)
        self.assertIn("cannot revoke", r.err)
        self.assertIn("-transport dcom", r.err)
        self.assertEqual(len(self.sim.admin("GET", "/requests")), before)

    def test_pending_agent_request_is_retrieved(self):
        self.add()
        self.sim.admin("PUT", "/admin/templates/MachineEnrollmentAgent", {"mode": "pending"})
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-timeout", "8s",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("-retrieve", r.out)
        self.assertIn("taken under submission", r.out)
        held = [q for q in self.requests() if q["state"] == "pending"]
        self.sim.admin("POST", f"/admin/requests/{held[0]['id']}/approve")
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-retrieve",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("CN=cbcs-host.corp.example", r.out)
        self.assertEqual(len(self.requests()), 1)

    def test_client_certificate_from_another_ca_is_an_auth_failure(self):
        r = cbcs("backend", "add", "-name", "bad", "-type", "msca", "-server", "127.0.0.1",
                 "-ca", self.sim.ca_name, "-ces", self.sim.ces_url, "-cep", self.sim.cep_url,
                 "-cacert", self.sim.ca_file, "-auth", "certificate",
                 "-cert", self.sim.other_client_cert, "-key", self.sim.other_client_key,
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "test", "--json", "-name", "bad", data_dir=self.data)
        self.assertNotEqual(r.code, 0)
        self.assertIn("(auth", r.err)


    def test_auth_agent_presents_the_agent_certificate(self):
        # -auth agent with nothing to enroll the agent with: one clear line.
        r = cbcs("backend", "add", "-name", "early", "-type", "msca", "-server", "127.0.0.1",
                 "-ca", self.sim.ca_name, "-auth", "agent", data_dir=self.data)
        self.assertNotEqual(r.code, 0)
        self.assertIn("-cert and -key", r.err)
        # A bootstrap client certificate enrolls the agent, from a template
        # that adds Client Authentication...
        r = cbcs("backend", "add", "-name", "ag", "-type", "msca", "-server", "127.0.0.1",
                 "-ca", self.sim.ca_name, "-ces", self.sim.ces_url, "-cep", self.sim.cep_url,
                 "-cacert", self.sim.ca_file, "-auth", "agent", "-cert", self.sim.client_cert,
                 "-key", self.sim.client_key, "-template", "WebServer", "-requester", "CORP\\jdoe",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", "ag", "-template",
                 "EnrollmentAgentClientAuth", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        # ...then the bootstrap certificate is one the CA refuses, and the
        # enroll still goes through: the agent certificate opened TLS.
        r = cbcs("backend", "set", "-name", "ag", "-cert", self.sim.other_client_cert,
                 "-key", self.sim.other_client_key, data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        r = self.enroll("viaagent", "job-agent-auth", backend="ag")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.requests()[-1]["requester"], "CORP\\jdoe")


class MscaCrashTest(MscaTest):
    """SIGKILL and a restart: a request the CA holds is polled by its id, and
    a request whose answer was lost is never sent a second time."""

    test_agent_certificate_then_enroll_on_behalf = None
    test_backend_test_says_what_it_found = None
    test_enroll_without_an_agent_says_how_to_get_one = None
    test_pending_then_approved_is_collected_with_the_same_id = None
    test_denied_names_the_hresult = None
    test_revoke_over_ces_is_refused_before_any_request = None
    test_pending_agent_request_is_retrieved = None
    test_client_certificate_from_another_ca_is_an_auth_failure = None

    def test_sigkill_while_pending_polls_the_same_request(self):
        self.add(template="WebServerApproval")
        self.agent()
        jobs = self.path("jobs.jsonl")
        ids = write_enroll_jobs(self, jobs, "ad", "held", 3)

        def held():
            return len([q for q in self.requests() if q["state"] == "pending"])

        def asked_again():
            # Each held request asked for again by its RequestID: its answer
            # reached the connector and the id is journaled (a kill before
            # that is a lost answer, the other test's case).
            ids_asked = set()
            for r in self.sim.admin("GET", "/requests"):
                if "QueryTokenStatus" in r.get("body", ""):
                    ids_asked |= set(re.findall(r">(\d+)</RequestID>", r["body"]))
            return len(ids_asked) >= len(ids)
        at_kill = killed_runs(jobs, self.data, [0], asked_again, held)
        self.assertEqual(at_kill, [len(ids)])
        for q in self.requests():
            if q["state"] == "pending":
                self.sim.admin("POST", f"/admin/requests/{q['id']}/approve")
        code, errors, results = final_run(jobs, self.data)
        self.assertEqual(code, 0, f"{errors} {results}")
        for job in ids:
            self.assertEqual(results[job]["outcome"], "issued", results[job])
        # One request per job at the CA: the restart asked for each by its id.
        self.assertEqual(len([q for q in self.requests() if q["template"] == "WebServerApproval"]),
                         len(ids))

    def test_sigkill_with_the_answer_lost_never_requests_twice(self):
        self.add("ad", "-requesttimeout", "2s")
        self.agent()
        ces_path = "/" + self.sim.ces_url.split("/", 3)[3]
        self.sim.admin("POST", "/faults", {"method": "POST", "path_prefix": ces_path,
                                           "latency_ms": 1500, "late": True, "count": 100000})
        jobs = self.path("jobs.jsonl")
        ids = write_enroll_jobs(self, jobs, "ad", "lost", 3)

        def placed():
            return len([q for q in self.requests() if q["template"] == "WebServer"])
        at_kill = killed_runs(jobs, self.data, [0], lambda: len(self.sim.admin("GET", "/requests"))
                              >= len(ids) + 1, placed)
        self.assertTrue(eventually(lambda: placed() == len(ids), 10), self.requests())
        code, errors, results = final_run(jobs, self.data)
        self.assertNotEqual(code, 0, f"{errors} {results}")
        for job in ids:
            self.assertEqual(results[job]["outcome"], "failed", results[job])
            self.assertIn("certsrv.msc", results[job]["message"])
        self.assertEqual(placed(), len(ids), f"a request sent twice: {self.requests()} {at_kill}")


class MscaFromScmTest(TempDirTest):
    """A job from SCM waits for a CA manager in AD CS, is issued there, and
    its certificate reaches SCM."""

    def test_pending_issued_by_a_ca_manager_reaches_scm(self):
        from test_scm_link import Scm
        sim = MscaSim()
        self.addCleanup(sim.stop)
        scm = Scm(self.path("scm"))
        self.addCleanup(scm.stop)
        data = self.path("data")
        created = scm.call("POST", "/connectors", {"name": "ad", "comments": "msca"})
        cid = created["id"]
        r = cbcs("register", "-token", "-", data_dir=data, stdin=created["token"] + "\n")
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "add", "-name", "ad", "-type", "msca", "-server", "127.0.0.1",
                 "-ca", sim.ca_name, "-ces", sim.ces_url, "-cep", sim.cep_url,
                 "-cacert", sim.ca_file, "-auth", "certificate", "-cert", sim.client_cert,
                 "-key", sim.client_key, "-template", "WebServerApproval",
                 "-requester", "CORP\\jdoe", data_dir=data)
        self.assertEqual(r.code, 0, r)
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", data_dir=data)
        self.assertEqual(r.code, 0, r)
        runner = subprocess.Popen([os.path.join(BUILD_DIR, "cbcs"), "run", "--data-dir", data],
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

        def wait_for(predicate, what, seconds=40):
            deadline = time.time() + seconds
            while time.time() < deadline:
                value = predicate()
                if value:
                    return value
                time.sleep(0.2)
            self.fail(f"timed out waiting for {what}")

        wait_for(lambda: scm.connector(cid)["status"] == "Connected", "Connected")
        scm.call("POST", f"/connectors/{cid}/jobs",
                 {"id": "scm-ad-1", "operation": "enroll", "backend": "ad", "csr": csr})
        job = wait_for(lambda: (lambda j: j if j.get("pending_reason") else None)(
            scm.call("GET", f"/connectors/{cid}/jobs/scm-ad-1")), "pending at SCM")
        self.assertEqual(job["pending_reason"], "needs_approval")
        held = wait_for(lambda: [q for q in sim.admin("GET", "/admin/requests")["requests"]
                                 if q["state"] == "pending"], "the held request")
        sim.admin("POST", f"/admin/requests/{held[0]['id']}/approve")
        result = wait_for(lambda: {r["job_id"]: r for r in
                                   scm.call("GET", f"/connectors/{cid}/results")}.get("scm-ad-1"),
                          "the result at SCM")
        self.assertEqual(result["outcome"]["outcome"], "issued", result)
        self.assertEqual(len([q for q in sim.admin("GET", "/admin/requests")["requests"]
                              if q["template"] == "WebServerApproval"]), 1)


class MscaUsernameTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = MscaSim("--auth", "username")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def add(self, name, password):
        return cbcs("backend", "add", "-name", name, "-type", "msca", "-server", "127.0.0.1",
                    "-ca", self.sim.ca_name, "-ces", self.sim.ces_url, "-cep", self.sim.cep_url,
                    "-cacert", self.sim.ca_file, "-auth", "username", "-username", self.sim.username,
                    "-password", "-", "-template", "WebServer",
                    data_dir=self.path("data"), stdin=password + "\n")

    def test_username_authentication_and_a_wrong_password(self):
        self.assertEqual(self.add("good", self.sim.password).code, 0)
        r = cbcs("backend", "msca", "enroll-agent-cert", "-name", "good", data_dir=self.path("data"))
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.add("bad", "not-the-password").code, 0)
        r = cbcs("backend", "test", "--json", "-name", "bad", data_dir=self.path("data"))
        self.assertNotEqual(r.code, 0)
        self.assertIn("(auth", r.err)
        self.assertIn("credentials", r.err)
        self.assertNotIn("not-the-password", r.out + r.err)
        assert_no_secret_in_files(self, self.path("data"),
                                  [self.sim.password.encode(), b"not-the-password"])


if __name__ == "__main__":
    unittest.main()
