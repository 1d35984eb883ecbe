"""Google Cloud CA Service through the connector's job path against
`cbcs-sim gcpcas` (tests/sim/gcpcas): issue, renew, revoke; one token for
1,000 jobs; an expired token refreshed once; missing permissions named;
no second certificate after SIGKILL; quota 429s slow the backend without
losing a job."""

import json
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, cbcs, openssl  # noqa: E402
from gcpcas_sim import GcpCasSim  # noqa: E402

CREATE_PATH = "/v1/projects/test-project/locations/us-east1/caPools/pool-1/certificates"


class GcpCasSimTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = GcpCasSim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        super().setUp()
        self.sim.admin("POST", "/reset")
        self.data = self.path("data")
        self.add_backend("gcp")

    def add_backend(self, name, *extra):
        r = cbcs("backend", "add", "-name", name, "-type", "gcpcas", "-project", self.sim.project,
                 "-location", self.sim.location, "-key", self.sim.key_file, "-endpoint", self.sim.url,
                 "-cacert", self.sim.ca_file, *extra, data_dir=self.data)
        self.assertEqual(r.code, 0, r)

    def csr(self, name):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", f"/CN={name}.example",
                cwd=self.tmp)
        return self.path(name + ".csr")

    def serial(self, pem_text):
        out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem_text,
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=")[1]

    def run_jobs(self, jobs, timeout=300):
        with open(self.path("jobs.jsonl"), "w") as fh:
            for j in jobs:
                fh.write(json.dumps(j) + "\n")
        r = cbcs("jobs", "run", "-file", self.path("jobs.jsonl"), "--json", data_dir=self.data,
                 timeout=timeout)
        self.assertEqual(r.code, 0, r)
        return [json.loads(line) for line in r.out.splitlines() if line.strip()]

    def test_issue_renew_revoke_and_backend_test(self):
        r = cbcs("enroll", "-backend", "gcp", "-csr", self.csr("a"), "-validity", "7d", "-id",
                 "gcp-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        first = r.out.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
        with open(self.path("a.pem"), "w") as fh:
            fh.write(first)
        # The chain is the pool CA's certificate: the leaf verifies against it.
        chain = r.out[len(first):]
        self.assertIn("BEGIN CERTIFICATE", chain)
        with open(self.path("chain.pem"), "w") as fh:
            fh.write(chain[chain.index("-----BEGIN"):])
        openssl("verify", "-CAfile", self.path("chain.pem"), self.path("a.pem"), cwd=self.tmp)
        created = self.sim.requests(CREATE_PATH)
        self.assertEqual(len(created), 1)
        self.assertIn("certificateId=gcp-1&requestId=", created[0]["target"])
        self.assertIn('"lifetime":"604800s"', created[0]["body"])

        r = cbcs("renew", "-backend", "gcp", "-cert", self.path("a.pem"), "-csr", self.csr("b"),
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.sim.stats()["certificates_created"], 2)

        serial = self.serial(first)
        r = cbcs("revoke", "--json", "-backend", "gcp", "-serial", serial, "-reason", "privilegeWithdrawn",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        revokes = [x for x in self.sim.requests(CREATE_PATH) if x["target"].endswith(":revoke")]
        self.assertEqual(len(revokes), 1)
        self.assertIn('"reason":"PRIVILEGE_WITHDRAWN"', revokes[0]["body"])
        self.assertEqual(self.sim.stats()["certificates_revoked"], 1)
        r = cbcs("revoke", "--json", "-backend", "gcp", "-serial", serial, "-reason", "removeFromCRL",
                 data_dir=self.data)
        self.assertOneLineError(r, 1, "invalid_request", "removeFromCRL")

        r = cbcs("backend", "test", "--json", "-name", "gcp", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("pool-1", r.out)
        self.assertIn("ENABLED", r.out)
        self.assertIn("ENTERPRISE", r.out)
        self.assertEqual(len(self.sim.requests("/v1/projects/test-project/locations/us-east1/caPools/pool-1:testIamPermissions")), 1)
        # The same shape as every type's test, as a table for a person.
        checks = {c["check"]: c["verdict"] for c in json.loads(r.out)["checks"]}
        self.assertEqual(checks["pool pool-1"], "ok")
        self.assertEqual(checks["permissions on pool-1"], "ok")
        human = cbcs("backend", "test", "-name", "gcp", "-quiet", data_dir=self.data)
        self.assertEqual(human.code, 0, human)
        self.assertRegex(human.out, r"(?m)^  ok    service account +\S+@\S+ has a token for project")
        self.assertRegex(human.out, r"(?m)^  ok    pool pool-1 +ENTERPRISE tier, \d+ of \d+ CA\(s\) ENABLED$")
        self.assertTrue(human.out.endswith("verdict: backend gcp works\n"), human.out)

    def test_a_serial_with_a_leading_zero_digit_is_found_in_any_form(self):
        # About one serial in sixteen starts with a zero digit. cbcs prints
        # it two digits per byte ("0adc..."); CA Service writes
        # hexSerialNumber in lower case without it ("adc..."), and an
        # operator may type it in upper case, zero-padded or with colons.
        serial = "0adcbe3b" + "11" * 12
        self.sim.admin("PUT", "/serials", {"next": [serial]})
        r = cbcs("enroll", "-backend", "gcp", "-csr", self.csr("z"), "-id", "gcp-z", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn(f"issued serial {serial} ", r.err)
        pem = r.out.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
        self.assertEqual(self.serial(pem), serial.upper())
        # The issue's case: "pool has no certificate with serial 0adcbe..." before.
        r = cbcs("revoke", "--json", "-backend", "gcp", "-serial", serial.upper(), "-id", "gcp-z-r1",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.sim.stats()["certificates_revoked"], 1)
        colons = ":".join(["00"] + [serial[i:i + 2].upper() for i in range(0, len(serial), 2)])
        r = cbcs("revoke", "--json", "-backend", "gcp", "-serial", colons, "-id", "gcp-z-r2", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn('"already_revoked":true', r.out.replace(" ", ""))
        # Garbage is refused before any job, in one line.
        r = cbcs("revoke", "--json", "-backend", "gcp", "-serial", "0adcbeXY", data_dir=self.data)
        self.assertOneLineError(r, 2, "-serial", "'X' is not a hex digit")

    def test_devops_pool_issues_but_keeps_nothing(self):
        self.sim.admin("POST", "/pools", {"id": "fast", "tier": "DEVOPS", "cas": ["ca-9"]})
        self.add_backend("devops", "-pool", "fast", "-tier", "devops")
        shown = cbcs("backend", "show", "-name", "devops", data_dir=self.data)
        self.assertIn("devops", shown.out)
        r = cbcs("enroll", "-backend", "devops", "-csr", self.csr("d"), "-id", "dev-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.sim.stats()["certificates_stored"], 0)
        serial = self.serial(r.out.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
        r = cbcs("revoke", "--json", "-backend", "devops", "-serial", serial, data_dir=self.data)
        self.assertOneLineError(r, 1, "not_implemented", "DevOps")
        # A CA named with -ca is asked for by id.
        self.add_backend("oneca", "-pool", "pool-1", "-ca", "ca-1")
        r = cbcs("enroll", "-backend", "oneca", "-csr", self.csr("c"), "-id", "ca-job-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertTrue(any("certificateId=ca-job-1&" in x["target"] and "issuingCertificateAuthorityId=ca-1" in x["target"]
                            for x in self.sim.requests(CREATE_PATH)))
        # With several pools and none named, the job says which there are.
        self.add_backend("which")
        r = cbcs("enroll", "-backend", "which", "-csr", self.csr("w"), "-id", "which-1", data_dir=self.data)
        self.assertOneLineError(r, 1, "invalid_request", "pool-1, fast", "-pool")

    def test_thousand_jobs_one_token_request(self):
        self.add_backend("many", "-ratelimit", "off")
        with open(self.csr("m")) as fh:
            csr = fh.read()
        results = self.run_jobs([{"id": f"many-{i}", "operation": "enroll", "backend": "many",
                                  "csr": csr} for i in range(1000)])
        self.assertEqual(len(results), 1000)
        self.assertEqual({x["result"]["outcome"] for x in results}, {"issued"})
        stats = self.sim.stats()
        self.assertEqual(stats["token_requests"], 1, stats)
        self.assertEqual(stats["certificates_created"], 1000, stats)

    def test_expired_token_refreshed_once(self):
        # Google answers 401 UNAUTHENTICATED for a token past its time: the
        # first create of the run gets one, the job fetches one new token for all.
        self.sim.admin("POST", "/faults", {"method": "POST", "path_prefix": CREATE_PATH, "count": 1,
                                           "status": 401})
        with open(self.csr("t")) as fh:
            csr = fh.read()
        results = self.run_jobs([{"id": f"tok-{i}", "operation": "enroll", "backend": "gcp", "csr": csr}
                                 for i in range(5)])
        self.assertEqual({x["result"]["outcome"] for x in results}, {"issued"})
        stats = self.sim.stats()
        self.assertEqual(stats["token_requests"], 2, stats)
        self.assertEqual(stats["certificates_created"], 5, stats)
        self.assertEqual([x["status"] for x in self.sim.requests(CREATE_PATH)].count(401), 1)

    def test_missing_permission_named(self):
        self.sim.admin("PUT", "/permissions", {"permissions": [
            "privateca.caPools.get", "privateca.caPools.list", "privateca.certificateAuthorities.get",
            "privateca.certificateAuthorities.list", "privateca.certificates.get",
            "privateca.certificates.update", "privateca.certificateTemplates.get",
            "privateca.certificateTemplates.list", "privateca.certificateTemplates.use"]})
        r = cbcs("backend", "test", "--json", "-name", "gcp", data_dir=self.data)
        self.assertOneLineError(r, 1, "auth", "privateca.certificates.create")
        r = cbcs("enroll", "-backend", "gcp", "-csr", self.csr("p"), "-id", "perm-1", data_dir=self.data)
        self.assertOneLineError(r, 1, "auth", "privateca.certificates.create")
        self.assertEqual(self.sim.stats()["certificates_created"], 0)

    def test_invalid_grant_names_key_and_account(self):
        self.sim.admin("PUT", "/key", {"disabled": True})
        r = cbcs("enroll", "-backend", "gcp", "-csr", self.csr("k"), "-id", "grant-1", data_dir=self.data)
        self.assertOneLineError(r, 1, "auth", "invalid_grant", "cbcs-test@test-project.iam.gserviceaccount.com")
        with open(self.sim.key_file) as fh:
            key = json.load(fh)
        self.assertIn(key["private_key_id"], r.err)
        self.assertNotIn("PRIVATE KEY", r.err)
        self.assertEqual(self.sim.stats()["token_requests"], 1)

    def test_sigkill_replay_creates_no_second_certificate(self):
        csr = self.csr("k")
        for crash_point, job in (("result", "kill-1"), ("http_done:3", "kill-2")):
            before = self.sim.stats()["certificates_created"]
            r = cbcs("enroll", "-backend", "gcp", "-csr", csr, "-id", job, data_dir=self.data,
                     env={"CBCS_CRASH_AT": crash_point})
            self.assertEqual(r.code, -signal.SIGKILL, r)
            r = cbcs("enroll", "-backend", "gcp", "-csr", csr, "-id", job, data_dir=self.data)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(self.sim.stats()["certificates_created"], before + 1, crash_point)
            creates = [x for x in self.sim.requests(CREATE_PATH) if f"certificateId={job}&" in x["target"]]
            self.assertEqual(len({x["target"] for x in creates}), 1, creates)  # same requestId each time

    def test_quota_429s_slow_the_backend_without_losing_a_job(self):
        self.sim.admin("PUT", "/quota", {"creates_per_second": 3})
        self.add_backend("fast", "-ratelimit", "create=20")
        with open(self.csr("q")) as fh:
            csr = fh.read()
        results = self.run_jobs([{"id": f"q-{i}", "operation": "enroll", "backend": "fast", "csr": csr}
                                 for i in range(20)])
        self.assertEqual({x["result"]["outcome"] for x in results}, {"issued"})
        stats = self.sim.stats()
        self.assertEqual(stats["certificates_created"], 20)
        self.assertGreater(stats["quota_refusals"], 0)
        attempts = len([x for x in self.sim.requests(CREATE_PATH) if x["fault"] == ""])
        self.assertLess(attempts, 20 * 4, "429s should slow the backend down, not multiply calls")


if __name__ == "__main__":
    unittest.main()
