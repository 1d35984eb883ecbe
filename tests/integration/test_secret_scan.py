"""Issue 22 item 4: no secret ever reaches the data directory in the clear.

Private-key material (a PKCS#8 `-----BEGIN PRIVATE KEY-----` PEM, an RSA
PKCS#1 and an EC SEC1 key) is fed, by mistake as an administrator or a
misbehaving SCM would, into each input field of every CLI command that takes
a file or text, and into each field of an SCM job frame the simulator can
carry. After each, every file under the data directory (journal.db and its
-wal, logs, trace files, config.json, the local CA's files) and the
command's output are scanned for the key's base64 body. Where a command
fails on its input, the README's "a failed command writes nothing" is
checked too: the data directory is byte for byte what it was (the support
trace and the SQLite -shm index aside).

Each test collects every finding of its group and fails once, listing all of
them: "LEAK <field>: <file>" or "WROTE <field>: <change>".
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, TempDirTest, cbcs, make_key_and_cert, require_or_skip  # noqa: E402
from operator_env import (SIM, Connector, DigiCertSim, Service, find_in_text, find_in_tree,  # noqa: E402
                          fragments, jdump, make_csr, make_keys, make_pkcs8, serial_of, tree_diff,
                          tree_snapshot, wait_until)

KEY = object()  # stands for "the key material" in a job template

# Not data: the support trace (every command traces its attempt by design)
# and SQLite's shared-memory index of the WAL, rewritten by any reader.
NOT_WRITES = ("trace/",)


def comparable(snapshot):
    return {k: v for k, v in snapshot.items()
            if not k.startswith(NOT_WRITES) and not k.endswith("-shm")}


class SecretScan(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.keydir = tempfile.mkdtemp(prefix="cbcs-keys-")
        cls.keys = make_keys(cls.keydir)
        cls.frags = {label: fragments(body) for label, (_, _, body) in cls.keys.items()}

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.keydir, True)

    def setUp(self):
        super().setUp()
        self.findings = []

    # --- helpers

    def scan(self, field, label, data, outputs=()):
        """Records a finding for each file of data and each output holding the key."""
        frags = self.frags[label]
        for path, _ in find_in_tree(data, frags) if os.path.isdir(data) else []:
            self.findings.append(f"LEAK {field} [{label}]: {path}")
        for name, text in outputs:
            if find_in_text(text or "", frags):
                self.findings.append(f"LEAK {field} [{label}]: the command's {name}")

    def check(self, field, label, data, args, stdin=None, writes_nothing_on_failure=True,
              expect_failure=False):
        """Runs cbcs args on data; scans; on failure, checks nothing was written."""
        before = comparable(tree_snapshot(data))
        r = cbcs(*args, data_dir=data, stdin=stdin, timeout=60)
        self.scan(field, label, data, (("stdout", r.out), ("stderr", r.err)))
        if expect_failure and r.code == 0:
            self.findings.append(f"ACCEPTED {field} [{label}]: exit 0 for key material")
        if r.code != 0 and writes_nothing_on_failure:
            for change in tree_diff(before, comparable(tree_snapshot(data))):
                self.findings.append(f"WROTE {field} [{label}] (exit {r.code}): {change}")
        return r

    def assert_no_findings(self):
        self.assertEqual(self.findings, [], "\n" + "\n".join(self.findings))

    def local_data(self):
        """A data directory with the local CA `local` and a certificate issued by it."""
        data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        self.assertEqual(r.code, 0, r)
        self.csr_path, self.csr = make_csr(self.tmp, "good", "good.example")
        self.cert_path = self.path("good.pem")
        r = cbcs("enroll", "-backend", "local", "-csr", self.csr_path, "-out", self.cert_path,
                 "-id", "good-1", data_dir=data)
        self.assertEqual(r.code, 0, r)
        with open(self.cert_path) as fh:
            self.cert = fh.read()
        self.serial = serial_of(self.cert)
        return data

    # --- the CLI's job commands

    def test_job_commands_fields(self):
        data = self.local_data()
        for label, (key_file, pem, _) in self.keys.items():
            out = self.path(f"out-{label}.pem")
            file_cases = {
                "enroll -csr": ["enroll", "-backend", "local", "-csr", key_file, "-out", out],
                "renew -cert": ["renew", "-backend", "local", "-cert", key_file, "-csr", self.csr_path],
                "renew -csr": ["renew", "-backend", "local", "-cert", self.cert_path, "-csr", key_file],
                "jobs run -file (the key file itself)": ["jobs", "run", "-file", key_file],
            }
            for field, args in file_cases.items():
                self.check(field, label, data, args, expect_failure=True)
            if os.path.exists(out):
                self.findings.append(f"WROTE enroll -csr [{label}]: the failed enroll wrote -out {out}")
            text_cases = {
                "enroll -profile": ["enroll", "-backend", "local", "-csr", self.csr_path, "-profile", pem],
                "enroll -backend": ["enroll", "-backend", pem, "-csr", self.csr_path],
                "enroll -validity": ["enroll", "-backend", "local", "-csr", self.csr_path, "-validity", pem],
                "renew -profile": ["renew", "-backend", "local", "-cert", self.cert_path, "-csr",
                                   self.csr_path, "-profile", pem],
                "revoke -serial": ["revoke", "-backend", "local", "-serial", pem],
                "revoke -reason": ["revoke", "-backend", "local", "-serial", self.serial, "-reason", pem],
                "revoke -backend": ["revoke", "-backend", pem, "-serial", self.serial],
                "backend test -name": ["backend", "test", "-name", pem],
                "backend show -name": ["backend", "show", "-name", pem],
                "backend remove -name": ["backend", "remove", "-name", pem],
                "trace show -job": ["trace", "show", "-job", pem],
                "trace show -backend": ["trace", "show", "-backend", pem],
                "trace show -since": ["trace", "show", "-since", pem],
                "enroll -timeout": ["enroll", "-backend", "local", "-csr", self.csr_path, "-timeout", pem],
                "run -journal-retention": ["run", "-journal-retention", pem],
                "run -log-level": ["run", "-log-level", pem],
            }
            for field, args in text_cases.items():
                # A profile the local CA ignores may succeed; everything else must fail.
                self.check(field, label, data, args, expect_failure=not field.endswith("-profile")
                           and not field.startswith("trace show -job")
                           and not field.startswith("trace show -backend"))
        self.assert_no_findings()

    def test_jobs_file_fields(self):
        data = self.local_data()
        for label, (_, pem, _) in self.keys.items():
            jobs = {
                "csr": {"operation": "enroll", "backend": "local", "csr": pem},
                "certificate": {"operation": "renew", "backend": "local", "csr": self.csr, "certificate": pem},
                "serial": {"operation": "revoke", "backend": "local", "serial": pem},
                "reason": {"operation": "revoke", "backend": "local", "serial": self.serial, "reason": pem},
                "profile": {"operation": "enroll", "backend": "local", "csr": self.csr, "profile": pem},
                "params value": {"operation": "enroll", "backend": "local", "csr": self.csr,
                                 "params": {"ca_arn": pem}},
                "params key": {"operation": "enroll", "backend": "local", "csr": self.csr,
                               "params": {pem: "x"}},
                "backend": {"operation": "enroll", "backend": pem, "csr": self.csr},
            }
            for n, (field, job) in enumerate(jobs.items()):
                path = self.path(f"jobs-{label}-{n}.jsonl")
                with open(path, "w") as fh:
                    fh.write(json.dumps({"id": f"leak-{label}-{n}", **job}) + "\n")
                ok_possible = field in ("profile", "params value", "params key")
                self.check(f"jobs run -file, field \"{field}\"", label, data, ["jobs", "run", "-file", path],
                           expect_failure=not ok_possible, writes_nothing_on_failure=not ok_possible)
        self.assert_no_findings()

    # --- backend add, every type, every option

    def backend_cases(self, pem, key_file):
        entrust_key, entrust_cert = make_key_and_cert(self.tmp, "entrust", "entrust api user")
        sa = self.path("sa.json")
        rsa_key, _ = make_key_and_cert(self.tmp, "gcp", "gcp", algorithm="RSA")
        with open(rsa_key) as fh, open(sa, "w") as out:
            json.dump({"type": "service_account", "project_id": "p1", "private_key_id": "kid-1",
                       "private_key": fh.read(), "client_email": "cbcs@p1.iam.gserviceaccount.com",
                       "token_uri": "https://oauth2.googleapis.com/token"}, out)
        base = {
            "acmpca": {"region": "eu-west-1", "accesskeyid": "AKIAIOSFODNN7EXAMPLE",
                       "secretaccesskey": "aws/SECRET+key0123456789abcdefABCDEF"},
            "digicert": {"apikey": "DIGICERT-APIKEY-0123456789ABCDEF"},
            "entrust": {"username": "apiuser", "apikey": "ENTRUST-APIKEY-fedcba9876543210",
                        "cert": entrust_cert, "key": entrust_key},
            "gcpcas": {"project": "p1", "location": "us-east1", "key": sa},
            "msca": {"server": "ca01.corp.example", "ca": "Corp Issuing CA"},
            "local": {},
        }
        extra = {
            "acmpca": ["sessiontoken", "ca_arn", "fips", "credentials"],
            "digicert": ["region", "orgid", "product", "skipapproval", "autoapprove", "renewal", "revoke",
                         "poll"],
            "entrust": ["api", "caid", "profile", "certtype", "clientid", "renewal", "revokereason",
                        "requestername", "requesteremail", "requesterphone", "keypassword", "pkcs12",
                        "pkcs12password"],
            "msca": ["transport", "ces", "cep", "auth", "username", "password", "cert", "key",
                     "template", "requester", "autoapprove", "keypassword", "pkcs12",
                     "pkcs12password"],
            "gcpcas": ["pool", "ca", "template", "tier"],
            "local": ["key-algorithm", "ca-name", "workers"],
        }
        common = ["endpoint", "cacert", "ratelimit", "maxinflight", "maxpending"]
        files = {"cacert", "cert", "key", "pkcs12"}
        for t, opts in base.items():
            for opt in list(opts) + extra.get(t, []) + common:
                if t == "entrust" and opt == "key":
                    continue  # a key where a key belongs: test_backend_cli covers its sealing
                args = dict(opts)
                args[opt] = key_file if opt in files else pem
                flat = []
                for k, v in args.items():
                    flat += [f"-{k}", v]
                yield f"backend add -type {t} -{opt}", t, flat

    def test_backend_add_options(self):
        data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        self.assertEqual(r.code, 0, r)
        for label, (key_file, pem, _) in self.keys.items():
            for n, (field, t, flat) in enumerate(self.backend_cases(pem, key_file)):
                name = f"b{n}{label}"
                r = self.check(field, label, data, ["backend", "add", "-name", name, "-type", t, *flat])
                if r.code == 0:
                    shown = cbcs("backend", "show", "-name", name, "--json", data_dir=data)
                    self.scan(field + " (then backend show)", label, data, (("stdout", shown.out),
                                                                            ("stderr", shown.err)))
                    cbcs("backend", "remove", "-name", name, data_dir=data)
            for field, args in (("backend add -name", ["-name", pem, "-type", "local"]),
                                ("backend add -type", ["-name", "x" + label, "-type", pem])):
                self.check(field, label, data, ["backend", "add", *args], expect_failure=True)
            # After every add and remove: nothing of the key left anywhere.
            self.scan("backend add/remove, all of them", label, data)
        self.assert_no_findings()

    # --- proxy, register

    def test_proxy_commands(self):
        data = self.path("data")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        self.assertEqual(r.code, 0, r)
        for label, (key_file, pem, _) in self.keys.items():
            good = {"type": "manual", "addr": "127.0.0.1", "port": "3128", "user": "u", "password": "p"}
            for opt in good:
                args = dict(good)
                args[opt] = pem
                flat = []
                for k, v in args.items():
                    flat += [f"-{k}", v]
                self.check(f"proxy set -{opt}", label, data, ["proxy", "set", *flat],
                           expect_failure=opt not in ("user", "password"))
                shown = cbcs("proxy", "show", "--json", data_dir=data)
                self.scan(f"proxy set -{opt} (then proxy show)", label, data,
                          (("stdout", shown.out), ("stderr", shown.err)))
            self.check("proxy set -password - (stdin)", label, data,
                       ["proxy", "set", "-type", "manual", "-addr", "127.0.0.1", "-port", "3128",
                        "-user", "u", "-password", "-"], stdin=pem)
            cbcs("proxy", "set", "-type", "direct", data_dir=data)
            self.check("proxy test -target", label, data, ["proxy", "test", "-target", pem],
                       expect_failure=True)
            self.check("proxy test -cacert", label, data,
                       ["proxy", "test", "-target", "https://127.0.0.1:9/", "-cacert", key_file],
                       expect_failure=True)
        self.assert_no_findings()

    def test_register_options(self):
        require_or_skip(os.path.exists(SIM), f"{SIM} is not built")
        from operator_env import Scm
        scm = Scm(self.path("scm"))
        self.addCleanup(scm.stop)
        token = scm.call("POST", "/connectors", {"name": "scan", "comments": "secret scan"})["token"]
        for label, (key_file, pem, _) in self.keys.items():
            cases = {
                "register -token": (["register", "-token", pem], None),
                "register -token - (stdin)": (["register", "-token", "-"], pem),
                "register -scm": (["register", "-token", "-", "-scm", pem], token + "\n"),
                "register -scm-cacert": (["register", "-token", "-", "-scm-cacert", key_file], token + "\n"),
                "register -proxy-addr": (["register", "-token", "-", "-proxy-type", "1", "-proxy-addr", pem,
                                          "-proxy-port", "3128"], token + "\n"),
                "register -proxy-user": (["register", "-token", "-", "-proxy-type", "1", "-proxy-addr",
                                          "127.0.0.1", "-proxy-port", "9", "-proxy-user", pem,
                                          "-proxy-password", "p"], token + "\n"),
                "register -proxy-password": (["register", "-token", "-", "-proxy-type", "1", "-proxy-addr",
                                              "127.0.0.1", "-proxy-port", "9", "-proxy-user", "u",
                                              "-proxy-password", pem], token + "\n"),
                "register -proxy-port": (["register", "-token", "-", "-proxy-type", "1", "-proxy-addr",
                                          "127.0.0.1", "-proxy-port", pem], token + "\n"),
            }
            for n, (field, (args, stdin)) in enumerate(cases.items()):
                data = self.path(f"reg-{label}-{n}")
                r = self.check(field, label, data, args, stdin=stdin, expect_failure=True)
                if r.code != 0 and os.path.exists(data):
                    left = sorted(os.listdir(data))
                    if left:
                        self.findings.append(f"WROTE {field} [{label}] (exit {r.code}): a failed register "
                                             f"left {left} in a data directory it created")
        self.assert_no_findings()

    # --- SCM job frames

    def test_scm_job_frame_fields(self):
        require_or_skip(os.path.exists(SIM), f"{SIM} is not built")
        data = self.path("data")
        conn = Connector(self, data, "scan")
        r = cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        self.assertEqual(r.code, 0, r)
        dc = DigiCertSim(self.path("dcsim"))
        self.addCleanup(dc.stop)
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-", "-endpoint", dc.url,
                 "-cacert", dc.ca_file, "-poll", "1s", data_dir=data, stdin=dc.api_key + "\n")
        self.assertEqual(r.code, 0, r)
        dc.admin("POST", "/admin/policy", {"mode": "approve"})
        _, csr = make_csr(self.tmp, "frame", "frame.example")
        svc = Service(data, self.path("run.log"))
        self.addCleanup(svc.stop)
        self.assertTrue(wait_until(conn.connected, 20), f"never connected: {svc.text()[-1500:]}")
        # A certificate of the local CA, for renew and a real serial.
        conn.submit({"id": "frame-base", "operation": "enroll", "backend": "local", "csr": csr})
        base = wait_until(lambda: conn.results().get("frame-base"), 20)
        self.assertIsNotNone(base, "the base job got no result")
        cert = base["outcome"]["outcome"] == "issued" and base["outcome"]["certificate"]
        serial = serial_of(cert)

        # One fresh PKCS#8 key per field, so that a leak names its field; the
        # RSA and EC keys go into the CSR fields as well.
        fields = {}  # job id -> (field, fragments)

        def feed(field, job, pem_body=None):
            job_id = f"frame-{len(fields)}"
            if pem_body is None:
                _, pem, body = make_pkcs8(self.tmp, job_id)
            else:
                pem, body = pem_body
            fields[job_id] = (field, fragments(body))
            conn.submit({"id": job_id, **{k: (pem if v is KEY else v) for k, v in job.items()},
                         **({"params": {(pem if k is KEY else k): (pem if v is KEY else v)
                                        for k, v in job["params"].items()}} if "params" in job else {})})
        for field, job in {
            "csr": {"operation": "enroll", "backend": "local", "csr": KEY},
            "certificate": {"operation": "renew", "backend": "local", "csr": csr, "certificate": KEY},
            "serial": {"operation": "revoke", "backend": "local", "serial": KEY},
            "reason": {"operation": "revoke", "backend": "local", "serial": serial, "reason": KEY},
            "profile": {"operation": "enroll", "backend": "local", "csr": csr, "profile": KEY},
            "params value": {"operation": "enroll", "backend": "local", "csr": csr, "params": {"ca_arn": KEY}},
            "params key": {"operation": "enroll", "backend": "local", "csr": csr, "params": {KEY: "x"}},
            "backend": {"operation": "enroll", "backend": KEY, "csr": csr},
            "csr (to DigiCert)": {"operation": "enroll", "backend": "dc", "csr": KEY},
            "certificate (to DigiCert)": {"operation": "renew", "backend": "dc", "csr": csr, "certificate": KEY},
            "serial (to DigiCert)": {"operation": "revoke", "backend": "dc", "serial": KEY},
        }.items():
            feed(field, job)
        for label in ("rsa", "ec"):
            _, pem, body = self.keys[label]
            feed(f"csr [{label}]", {"operation": "enroll", "backend": "local", "csr": KEY}, (pem, body))
            feed(f"csr (to DigiCert) [{label}]", {"operation": "enroll", "backend": "dc", "csr": KEY},
                 (pem, body))
        # The cancel frame's free-text reason, on a job pending at DigiCert.
        conn.submit({"id": "frame-cancel", "operation": "enroll", "backend": "dc", "csr": csr})
        self.assertTrue(wait_until(lambda: conn.job("frame-cancel").get("pending_reason"), 20),
                        f"frame-cancel never pending: {jdump(conn.job('frame-cancel'))}")
        _, pem, body = make_pkcs8(self.tmp, "cancel-reason")
        fields["frame-cancel"] = ("cancel reason", fragments(body))
        conn.scm.call("POST", f"/connectors/{conn.cid}/jobs/frame-cancel/cancel", pem)

        def answered(job_id):
            return conn.job(job_id)["state"] in ("refused", "done")
        wait_until(lambda: all(answered(i) for i in fields), 30, step=0.3)
        for i, (field, _) in fields.items():
            j = conn.job(i)
            if not answered(i):
                self.findings.append(f"UNANSWERED job frame field {field}: job {i} is {j['state']} after 30 s")
        self.assertEqual(svc.stop(), 0, f"cbcs run did not stop cleanly: {svc.text()[-1500:]}")
        with open(svc.log_path, errors="replace") as fh:
            log = fh.read()
        for i, (field, frags) in fields.items():
            for path, _ in find_in_tree(data, frags):
                self.findings.append(f"LEAK job frame field {field} (job {i}): {path}")
            if find_in_text(log, frags):
                self.findings.append(f"LEAK job frame field {field} (job {i}): cbcs run's standard error")
        self.assert_no_findings()


if __name__ == "__main__":
    unittest.main()
