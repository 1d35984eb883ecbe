"""AWS Private CA through the connector's job path against a real peer:
moto_server on loopback, checking every SigV4 signature against its IAM users."""

import base64
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (TempDirTest, cbcs, openssl, require_or_skip,  # noqa: E402
                     wait_for_http)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from imds import ImdsSimulator  # noqa: E402

MOTO = shutil.which("moto_server")
try:
    import boto3
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover
    boto3 = None


class Moto:
    """moto_server on a free loopback port, an IAM user allowed acm-pca:*, and
    an active subordinate CA signed by a test root."""

    def __init__(self, instance_role=False):
        """instance_role: also a role allowed acm-pca:* and a session of it
        (self.role_keys, as instance metadata serves them). Its three calls
        come after the user's four, unchecked as well."""
        # moto keeps no list of issued certificates that can be read back, and it
        # ignores IdempotencyToken: every IssueCertificate it receives creates
        # one. Its request recorder lets the test count those.
        self.recording = tempfile.NamedTemporaryFile(prefix="moto-rec-", delete=False).name
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="7" if instance_role else "4",
                   MOTO_ENABLE_RECORDING="True",
                   MOTO_RECORDER_FILEPATH=self.recording)
        self.log = tempfile.TemporaryFile()
        # Port 0: the system chooses, werkzeug says which ("Running on http://127.0.0.1:PORT").
        self.proc = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", "0"], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.port = None
        deadline = time.time() + 20
        while self.port is None and time.time() < deadline and self.proc.poll() is None:
            self.log.seek(0)
            found = re.search(rb"Running on http://127\.0\.0\.1:(\d+)", self.log.read())
            if found:
                self.port = int(found.group(1))
            else:
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"
        if self.port is None or not wait_for_http(self.url + "/moto-api/"):
            self.stop()
            raise RuntimeError("moto_server did not start")
        anon = dict(endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="setup",
                    aws_secret_access_key="setup")
        iam = boto3.client("iam", **anon)  # the four unchecked calls
        iam.create_user(UserName="cbcs")
        policy = iam.create_policy(PolicyName="pca", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "acm-pca:*", "Resource": "*"}]}))
        iam.attach_user_policy(UserName="cbcs", PolicyArn=policy["Policy"]["Arn"])
        key = iam.create_access_key(UserName="cbcs")["AccessKey"]
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        if instance_role:
            role = iam.create_role(RoleName="cbcs-issuer", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}))
            iam.attach_role_policy(RoleName="cbcs-issuer", PolicyArn=policy["Policy"]["Arn"])
            session = boto3.client("sts", **anon).assume_role(
                RoleArn=role["Role"]["Arn"], RoleSessionName="i-0cbc5000000000001")["Credentials"]
            self.role_keys = {
                "AccessKeyId": session["AccessKeyId"], "SecretAccessKey": session["SecretAccessKey"],
                "Token": session["SessionToken"],
                "Expiration": session["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.pca = boto3.client("acm-pca", endpoint_url=self.url, region_name="us-east-1",
                                aws_access_key_id=self.key_id, aws_secret_access_key=self.secret)
        self.ca_arn = self._active_ca()

    def _active_ca(self):
        arn = self.pca.create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
                "Subject": {"CommonName": "cbcs moto issuing CA"}},
            CertificateAuthorityType="SUBORDINATE")["CertificateAuthorityArn"]
        csr = x509.load_pem_x509_csr(
            self.pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"].encode())
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cbcs moto test root")])
        now = datetime.datetime.now(datetime.timezone.utc)
        root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
                .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(root_key, hashes.SHA256()))
        sub = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(root_name)
               .public_key(csr.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=20))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .sign(root_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        self.pca.import_certificate_authority_certificate(
            CertificateAuthorityArn=arn, Certificate=sub.public_bytes(pem),
            CertificateChain=root.public_bytes(pem))
        return arn

    def issue_tokens(self):
        """The IdempotencyToken of every IssueCertificate for our CA, in order."""
        tokens = []
        with open(self.recording) as fh:
            for line in fh:
                entry = json.loads(line)
                headers = {k.lower(): v for k, v in entry["headers"].items()}
                body = entry.get("body", "")
                if entry.get("body_encoded"):
                    body = base64.b64decode(body).decode("utf-8", "replace")
                if headers.get("x-amz-target") == "ACMPrivateCA.IssueCertificate" and self.ca_arn in body:
                    tokens.append(json.loads(body).get("IdempotencyToken"))
        return tokens

    def issued_count(self):
        return len(self.issue_tokens())

    def revoked(self):
        data = json.load(urllib.request.urlopen(self.url + "/moto-api/data.json"))
        cas = data.get("acmpca", {}).get("CertificateAuthority", [])
        return [ca.get("revoked_certificates") or {} for ca in cas if ca["arn"] == self.ca_arn][0]

    def stop(self):
        if os.path.exists(self.recording):
            os.remove(self.recording)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class AcmPcaMotoTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.add_backend("aws", self.moto.secret)

    def add_backend(self, name, secret):
        r = cbcs("backend", "add", "-name", name, "-type", "acmpca", "-accesskeyid", self.moto.key_id,
                 "-secretaccesskey", "-", "-region", "us-east-1", "-endpoint", self.moto.url,
                 "-ca_arn", self.moto.ca_arn, data_dir=self.data, stdin=secret + "\n")
        self.assertEqual(r.code, 0, r)

    def csr(self, name):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", f"/CN={name}.example", cwd=self.tmp)
        return self.path(name + ".csr")

    def serial(self, pem_text):
        out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem_text,
                             capture_output=True, text=True, check=True).stdout
        return out.strip().split("=")[1]

    def test_enroll_renew_revoke_and_inventory(self):
        before = self.moto.issued_count()
        r = cbcs("enroll", "-backend", "aws", "-csr", self.csr("a"), "-validity", "7d", "-id", "aws-1",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("BEGIN CERTIFICATE", r.out)
        self.assertEqual(self.moto.issued_count(), before + 1)
        first = r.out.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
        with open(self.path("a.pem"), "w") as fh:
            fh.write(first)

        r = cbcs("renew", "-backend", "aws", "-cert", self.path("a.pem"), "-csr", self.csr("b"),
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.moto.issued_count(), before + 2)

        serial = self.serial(first)
        r = cbcs("revoke", "--json", "-backend", "aws", "-serial", serial, "-reason", "keyCompromise",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertTrue(self.moto.revoked(), "moto shows no revocation")
        r = cbcs("revoke", "--json", "-backend", "aws", "-serial", serial, "-reason", "certificateHold",
                 data_dir=self.data)
        self.assertOneLineError(r, 1, "invalid_request")

        r = cbcs("backend", "test", "--json", "-name", "aws", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn(self.moto.ca_arn, r.out)
        self.assertIn("ACTIVE", r.out)
        self.assertIn("EC_prime256v1", r.out)

    def test_wrong_secret_is_an_auth_error_not_retried(self):
        self.add_backend("wrong", "definitely-not-the-secret")
        before = self.moto.issued_count()
        r = cbcs("enroll", "-backend", "wrong", "-csr", self.csr("w"), "-id", "wrong-1", data_dir=self.data)
        self.assertOneLineError(r, 1, "auth")
        self.assertNotIn("definitely-not-the-secret", r.err)
        self.assertEqual(self.moto.issued_count(), before)
        timeline = cbcs("trace", "show", "-job", "wrong-1", data_dir=self.data).out
        self.assertEqual(timeline.count(" http "), 1, timeline)
        self.assertNotIn(" retry ", timeline)

    def test_sigkill_replay_issues_no_second_certificate(self):
        csr = self.csr("k")
        for crash_point, job in (("resume_saved", "kill-1"), ("result", "kill-2")):
            before = self.moto.issued_count()
            r = cbcs("enroll", "-backend", "aws", "-csr", csr, "-id", job, data_dir=self.data,
                     env={"CBCS_CRASH_AT": crash_point})
            self.assertEqual(r.code, -signal.SIGKILL, r)
            r = cbcs("enroll", "-backend", "aws", "-csr", csr, "-id", job, data_dir=self.data)
            self.assertEqual(r.code, 0, r)
            self.assertEqual(self.moto.issued_count(), before + 1, f"crash at {crash_point}")


class AcmPcaInstanceRoleTest(TempDirTest):
    """-credentials instance: the keys of the instance's role from instance
    metadata (tests/sim/imds.py), a session of a role that moto checks."""

    @classmethod
    def setUpClass(cls):
        cls.moto = Moto(instance_role=True)

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.sims = []

    def tearDown(self):
        for sim in self.sims:
            sim.stop()
        super().tearDown()

    def add_backend(self, name, role="cbcs-issuer", keys=None, extra=()):
        sim = ImdsSimulator(role, keys or self.moto.role_keys).start()
        self.sims.append(sim)
        r = cbcs("backend", "add", "-name", name, "-type", "acmpca", "-credentials", "instance",
                 "-imds_endpoint", sim.url, "-region", "us-east-1", "-endpoint", self.moto.url,
                 "-ca_arn", self.moto.ca_arn, *extra, data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        return sim

    def csr(self):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "r.key", "-out", "r.csr", "-subj", "/CN=role.example", cwd=self.tmp)
        return self.path("r.csr")

    def test_role_keys_fetched_once_issue_and_revoke(self):
        # One job at a time: jobs that start together, before any keys are
        # there, would each fetch them (harmless, but not what this counts).
        sim = self.add_backend("aws", extra=("-maxinflight", "1"))
        shown = cbcs("backend", "show", "-name", "aws", data_dir=self.data)
        self.assertEqual(shown.code, 0, shown)
        self.assertIn("instance", shown.out)
        self.assertNotIn(self.moto.role_keys["SecretAccessKey"], shown.out)
        with open(self.csr()) as fh:
            csr = fh.read()
        with open(self.path("jobs.jsonl"), "w") as fh:
            for i in range(3):
                fh.write(json.dumps({"id": f"role-{i}", "operation": "enroll", "backend": "aws",
                                     "csr": csr}) + "\n")
        before = self.moto.issued_count()
        r = cbcs("jobs", "run", "-file", self.path("jobs.jsonl"), "--json", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        results = [json.loads(line) for line in r.out.splitlines() if line.strip()]
        self.assertEqual([x["result"]["outcome"] for x in results], ["issued"] * 3, r.out)
        self.assertEqual(self.moto.issued_count(), before + 3)
        # IMDSv2: one token, one role listing, one fetch of the keys for all jobs.
        self.assertEqual(sim.requests, [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", "/latest/meta-data/iam/security-credentials/cbcs-issuer")])
        for secret in (self.moto.role_keys["SecretAccessKey"], self.moto.role_keys["Token"]):
            self.assertNotIn(secret, r.out + r.err)
            for name in os.listdir(self.data):
                path = os.path.join(self.data, name)
                if os.path.isfile(path):
                    with open(path, "rb") as fh:
                        self.assertNotIn(secret.encode(), fh.read(), name)

        serial = results[0]["result"]["serial"]
        r = cbcs("revoke", "--json", "-backend", "aws", "-serial", serial, "-reason", "superseded",
                 data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertTrue(self.moto.revoked(), "moto shows no revocation")

    def test_keys_the_service_refuses_are_an_auth_error(self):
        wrong = dict(self.moto.role_keys, SecretAccessKey="not-the-role-secret-EXAMPLE0000000000000")
        self.add_backend("wrong", keys=wrong)
        before = self.moto.issued_count()
        r = cbcs("enroll", "-backend", "wrong", "-csr", self.csr(), "-id", "role-wrong", data_dir=self.data)
        self.assertOneLineError(r, 1, "auth")
        self.assertNotIn("not-the-role-secret", r.err)
        self.assertEqual(self.moto.issued_count(), before)

    def test_an_instance_without_a_role_says_so(self):
        self.add_backend("norole", role=None)
        r = cbcs("enroll", "-backend", "norole", "-csr", self.csr(), "-id", "role-none", data_dir=self.data)
        self.assertOneLineError(r, 1, "no IAM role is attached to this instance")

    def test_keys_and_instance_role_do_not_mix(self):
        r = cbcs("backend", "add", "-name", "mixed", "-type", "acmpca", "-credentials", "instance",
                 "-accesskeyid", self.moto.key_id, "-region", "us-east-1", data_dir=self.data)
        self.assertOneLineError(r, 2, "-accesskeyid does not go with -credentials instance")
        r = cbcs("backend", "add", "-name", "neither", "-type", "acmpca", "-region", "us-east-1",
                 data_dir=self.data)
        self.assertOneLineError(r, 2, "missing required option -accesskeyid")
        listed = cbcs("backend", "list", data_dir=self.data)
        self.assertNotIn("mixed", listed.out)
        self.assertNotIn("neither", listed.out)


if __name__ == "__main__":
    require_or_skip(MOTO is not None, "moto_server is not installed (pip install 'moto[server]')")
    require_or_skip(boto3 is not None, "boto3/cryptography are not installed")
    unittest.main()
