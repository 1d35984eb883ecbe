"""enroll, renew, revoke, backend test and trace, through the real binary and
the actor job path on the built-in local CA."""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, cbcs, openssl  # noqa: E402


class JobCliTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", "-ca-name", "Test Local CA",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)

    def csr(self, name, algorithm="EC", bits="2048"):
        key_opts = (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if algorithm == "EC"
                    else ["-newkey", f"rsa:{bits}"])
        openssl("req", "-new", *key_opts, "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", f"/CN={name}.example", "-addext", f"subjectAltName=DNS:{name}.example",
                cwd=self.tmp)
        return self.path(name + ".csr")

    def serial_of(self, pem_path):
        out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-serial"],
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=")[1].lower()

    def test_enroll_renew_revoke_and_trace(self):
        started_us = time.time() * 1e6
        csr = self.csr("web")
        out = self.path("web.pem")
        r = cbcs("enroll", "-backend", "local", "-csr", csr, "-out", out, "-validity", "10d",
                 "-id", "job-web-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("job-web-1", r.out)
        # The file holds the leaf, then the chain; the leaf verifies against the chain.
        with open(out) as fh:
            pems = fh.read().split("-----END CERTIFICATE-----")
        with open(self.path("leaf.pem"), "w") as fh:
            fh.write(pems[0] + "-----END CERTIFICATE-----\n")
        with open(self.path("ca.pem"), "w") as fh:
            fh.write(pems[1].lstrip() + "-----END CERTIFICATE-----\n")
        v = subprocess.run(["openssl", "verify", "-CAfile", self.path("ca.pem"), self.path("leaf.pem")],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        text = subprocess.run(["openssl", "x509", "-in", self.path("leaf.pem"), "-noout", "-text"],
                              capture_output=True, text=True).stdout
        self.assertIn("DNS:web.example", text)
        self.assertIn("Issuer: CN = Test Local CA", text)
        serial = self.serial_of(self.path("leaf.pem"))

        # The same job id again: the same certificate, not a second one.
        again = cbcs("enroll", "-backend", "local", "-csr", csr, "-id", "job-web-1", data_dir=self.data)
        self.assertEqual(again.code, 0, again)
        with open(self.path("again.pem"), "w") as fh:
            fh.write(again.out)
        self.assertEqual(self.serial_of(self.path("again.pem")), serial)

        renewed = self.path("web2.pem")
        r = cbcs("renew", "-backend", "local", "-cert", self.path("leaf.pem"), "-csr", self.csr("web2"),
                 "-out", renewed, data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertNotEqual(self.serial_of(renewed), serial)

        r = cbcs("revoke", "--json", "-backend", "local", "-serial", serial, "-reason", "keyCompromise",
                 "-id", "job-revoke-1", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertFalse(json.loads(r.out)["already_revoked"])
        crl = subprocess.run(["openssl", "crl", "-in", os.path.join(self.data, "local-ca", "local", "crl.pem"),
                              "-noout", "-text"], capture_output=True, text=True).stdout
        self.assertIn(serial.upper(), crl)
        self.assertIn("Key Compromise", crl)
        r = cbcs("revoke", "--json", "-backend", "local", "-serial", serial, data_dir=self.data)
        self.assertTrue(json.loads(r.out)["already_revoked"])

        report = cbcs("backend", "test", "--json", "-name", "local", data_dir=self.data)
        self.assertEqual(report.code, 0, report)
        info = json.loads(report.out)
        self.assertEqual(info["ca"], "CN=Test Local CA")
        self.assertEqual(info["issued"], 2)
        self.assertEqual(info["revoked"], 1)

        timeline = cbcs("trace", "show", "-job", "job-web-1", data_dir=self.data)
        self.assertEqual(timeline.code, 0, timeline)
        for event in ("received", "accepted", "routed", "started", "result", "acked", "duplicate"):
            self.assertIn(event, timeline.out)
        self.assertIn("outcome=issued", timeline.out)
        only_backend = cbcs("trace", "show", "-backend", "local", "-since", "1h", data_dir=self.data)
        self.assertIn("job-revoke-1", only_backend.out)

        chrome = self.path("trace.json")
        r = cbcs("trace", "export", "-chrome", chrome, data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        with open(chrome) as fh:
            doc = json.load(fh)
        names = {e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M"}
        self.assertIn("router", names)
        # One track per actor: the local CA runs one signing actor per core.
        self.assertTrue(any(n == "backend:local" or n.startswith("backend:local#") for n in names),
                        names)
        slices = [e for e in doc["traceEvents"] if e["ph"] == "X"]
        self.assertTrue(any(e["name"] == "job job-web-1" for e in slices))
        self.assertTrue(all(e["dur"] >= 0 for e in slices))
        # Placed by wall time (each command is a process of its own: their
        # monotonic clocks do not line up), within this test's run.
        instants = [e["ts"] for e in doc["traceEvents"] if e["ph"] == "i"]
        self.assertTrue(instants)
        self.assertTrue(all(started_us - 1e6 <= ts <= time.time() * 1e6 + 1e6 for ts in instants),
                        (started_us, min(instants), max(instants)))

    def test_bad_requests_fail_at_once_with_one_line(self):
        weak = self.csr("weak", algorithm="RSA", bits="1024")
        r = cbcs("enroll", "-backend", "local", "-csr", weak, "-id", "weak-1", data_dir=self.data)
        # Refused before any job exists: the line names the file, nothing is traced or retried.
        self.assertOneLineError(r, 1, "option -csr", "weak.csr", "below 2048")
        timeline = cbcs("trace", "show", "-job", "weak-1", data_dir=self.data).out
        self.assertNotIn(" retry ", timeline)
        self.assertNotIn("weak-1", timeline.replace("no trace events for job weak-1", ""))
        with open(self.path("garbage.csr"), "w") as fh:
            fh.write("-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n")
        self.assertOneLineError(cbcs("enroll", "-backend", "local", "-csr", self.path("garbage.csr"),
                                     data_dir=self.data), 1, "garbage.csr", "not a PEM certificate request")
        self.assertOneLineError(cbcs("enroll", "-backend", "nope", "-csr", self.csr("fine"), data_dir=self.data),
                                1, "no backend named 'nope'")
        self.assertOneLineError(cbcs("enroll", "-backend", "local", "-csr", self.path("missing.csr"),
                                     data_dir=self.data), 1, "-csr", "missing.csr")
        self.assertOneLineError(cbcs("enroll", "-backend", "local", "-csr", weak, "-validity", "soon",
                                     data_dir=self.data), 2, "-validity")
        self.assertOneLineError(cbcs("revoke", "--json", "-backend", "local", "-serial", "xyz", data_dir=self.data),
                                2, "-serial")
        self.assertOneLineError(cbcs("revoke", "--json", "-backend", "local", "-serial", "0a0b", "-reason", "bored",
                                     data_dir=self.data), 2, "-reason")
        self.assertOneLineError(cbcs("revoke", "--json", "-backend", "local", "-serial", "0a0b", data_dir=self.data),
                                1, "rejected", "not issued by this CA")
        self.assertOneLineError(cbcs("enroll", "-backend", "local", "-csr", weak, "-id", "has space",
                                     data_dir=self.data), 2, "-id")

    def test_jobs_file_errors_name_the_line(self):
        jobs = self.path("jobs.jsonl")
        with open(jobs, "w") as fh:
            fh.write(json.dumps({"id": "a", "operation": "test", "backend": "local"}) + "\n")
            fh.write('{"id": "b", "operation": "explode", "backend": "local"}\n')
        r = cbcs("jobs", "run", "-file", jobs, "--json", data_dir=self.data)
        self.assertOneLineError(r, 1, "jobs.jsonl line 2", "operation")


if __name__ == "__main__":
    unittest.main()
