"""cbcs-sim msca against requests written here from [MS-WSTEP] and [MS-XCEP]
and signed with the openssl CLI (not the connector's code): the simulator
must take what AD CS takes and refuse what it refuses, or the driver tests
on it prove nothing."""

import base64
import os
import re
import subprocess
import sys
import unittest

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, openssl  # noqa: E402
from msca_sim import ENROLLMENT, MscaSim, text_of  # noqa: E402

CMS_TYPE = ENROLLMENT + "#PKCS7"


class MscaSimTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = MscaSim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def csr_der(self, stem, cn):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{stem}.key", "-outform", "DER", "-out", f"{stem}.csr", "-subj", f"/CN={cn}",
                "-addext", f"subjectAltName=DNS:{cn}", cwd=self.tmp)
        with open(self.path(f"{stem}.csr"), "rb") as fh:
            return fh.read()

    def signed(self, der, cert, key):
        """A CMS SignedData around the PKCS#10, as an enrollment agent sends it."""
        with open(self.path("req.der"), "wb") as fh:
            fh.write(der)
        openssl("cms", "-sign", "-binary", "-nodetach", "-in", "req.der", "-signer", cert, "-inkey", key,
                "-outform", "DER", "-out", "req.p7", cwd=self.tmp)
        with open(self.path("req.p7"), "rb") as fh:
            return fh.read()

    def leaf_of(self, answer):
        tok = text_of(text_of(answer, "RequestedSecurityToken"), "BinarySecurityToken")
        der = base64.b64decode(tok.replace("&#xD;", ""))
        return subprocess.run(["openssl", "x509", "-inform", "DER"], input=der, capture_output=True,
                              check=True).stdout.decode()

    def text(self, pem):
        return subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem.encode(),
                              capture_output=True, check=True).stdout.decode()

    def error_code(self, r):
        self.assertEqual(r.status_code, 500, r.text)
        self.assertIn("Fault", r.text)
        return int(text_of(r.text, "ErrorCode")) & 0xFFFFFFFF

    def agent(self):
        """An agent certificate from MachineEnrollmentAgent, and its key file."""
        r = self.sim.issue(self.csr_der("agent", "ignored"), "MachineEnrollmentAgent")
        self.assertEqual(r.status_code, 200, r.text)
        with open(self.path("agent.pem"), "w") as fh:
            fh.write(self.leaf_of(r.text))
        return self.path("agent.pem"), self.path("agent.key")

    # --- CEP

    def test_cep_lists_templates_and_the_ces_endpoint(self):
        r = self.sim.policies()
        self.assertEqual(r.status_code, 200, r.text)
        names = re.findall(r"<commonName>(.*?)</commonName>", r.text)
        self.assertIn("MachineEnrollmentAgent", names)
        self.assertIn("WebServer", names)
        self.assertIn(f"<uri>{self.sim.ces_url}</uri>", r.text)
        self.assertIn("<clientAuthentication>8</clientAuthentication>", r.text)
        self.assertIn("GetPoliciesResponse", r.text)

    # --- CES

    def test_agent_certificate_has_the_request_agent_eku_and_the_machine_subject(self):
        cert, _ = self.agent()
        with open(cert) as fh:
            text = self.text(fh.read())
        self.assertIn("1.3.6.1.4.1.311.20.2.1", text)  # Certificate Request Agent
        self.assertIn("CN = cbcs-host.corp.example", text)
        self.assertNotIn("ignored", text)
        subprocess.run(["openssl", "verify", "-CAfile", self.sim.issuing_ca_file, cert], check=True,
                       capture_output=True)

    def test_issued_answer_carries_a_cmc_response_signed_by_the_ca(self):
        r = self.sim.issue(self.csr_der("p", "plain.example"), "PlainWebServer")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(text_of(r.text, "DispositionMessage"), "Issued")
        self.assertTrue(text_of(r.text, "RequestID").isdigit())
        tokens = re.findall(r'<BinarySecurityToken ValueType="([^"]+)"[^>]*>(.*?)</BinarySecurityToken>',
                            r.text, re.S)
        cmc = [base64.b64decode(t.replace("&#xD;", "")) for v, t in tokens if v.endswith("#PKCS7")][0]
        with open(self.path("cmc.der"), "wb") as fh:
            fh.write(cmc)
        printed = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in",
                                  self.path("cmc.der")], capture_output=True, text=True, check=True).stdout
        self.assertIn("id-cct-PKIResponse", printed)
        subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", self.path("cmc.der"),
                        "-CAfile", self.sim.issuing_ca_file, "-binary", "-purpose", "any",
                        "-out", "/dev/null"], check=True, capture_output=True)

    def test_on_behalf_request_signed_by_the_agent_is_issued_and_recorded(self):
        cert, key = self.agent()
        r = self.sim.issue(self.signed(self.csr_der("w", "web.example"), cert, key), "WebServer",
                           value_type=CMS_TYPE)
        self.assertEqual(r.status_code, 200, r.text)
        leaf = self.leaf_of(r.text)
        self.assertIn("CN = web.example", self.text(leaf))
        last = self.sim.admin("GET", "/admin/requests")["requests"][-1]
        self.assertEqual(last["signer"], "CN=cbcs-host.corp.example")
        self.assertEqual(last["state"], "issued")

    def test_plain_request_for_an_agent_template_is_refused(self):
        r = self.sim.issue(self.csr_der("w", "web.example"), "WebServer")
        self.assertEqual(self.error_code(r), 0x80094809)  # SIGNATURE_POLICY_REQUIRED

    def test_signer_without_the_agent_eku_is_refused(self):
        r = self.sim.issue(self.signed(self.csr_der("w", "web.example"), self.sim.client_cert,
                                       self.sim.client_key), "WebServer", value_type=CMS_TYPE)
        self.assertEqual(self.error_code(r), 0x8009480B)  # SIGNATURE_REJECTED

    def test_pending_then_approved_or_denied(self):
        cert, key = self.agent()
        ids = []
        for stem in ("a1", "a2"):
            r = self.sim.issue(self.signed(self.csr_der(stem, f"{stem}.example"), cert, key),
                               "WebServerApproval", value_type=CMS_TYPE)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertEqual(text_of(r.text, "DispositionMessage"), "Taken Under Submission")
            self.assertIn("SecurityTokenReference", r.text)
            ids.append(text_of(r.text, "RequestID"))
        r = self.sim.query(ids[0])
        self.assertEqual(text_of(r.text, "DispositionMessage"), "Taken Under Submission")
        self.sim.admin("POST", f"/admin/requests/{ids[0]}/approve")
        r = self.sim.query(ids[0])
        self.assertEqual(text_of(r.text, "DispositionMessage"), "Issued", r.text)
        self.assertIn("CN = a1.example", self.text(self.leaf_of(r.text)))
        self.sim.admin("POST", f"/admin/requests/{ids[1]}/deny")
        self.assertEqual(self.error_code(self.sim.query(ids[1])), 0x80094014)  # ADMIN_DENIED

    def test_denied_and_unknown_templates(self):
        cert, key = self.agent()
        req = self.signed(self.csr_der("d", "d.example"), cert, key)
        self.assertEqual(self.error_code(self.sim.issue(req, "WebServerDenied", value_type=CMS_TYPE)),
                         0x80094012)
        self.assertEqual(self.error_code(self.sim.issue(req, "NoSuchTemplate", value_type=CMS_TYPE)),
                         0x80094800)
        self.assertEqual(self.error_code(self.sim.query("999999")), 0x80094002)

    def test_client_certificate_from_another_ca_is_refused_at_the_handshake(self):
        with self.assertRaises(requests.exceptions.SSLError):
            self.sim.policies(cert=(self.sim.other_client_cert, self.sim.other_client_key))

    def test_garbage_and_wrong_action(self):
        r = self.sim.session.post(self.sim.ces_url, data=b"<not xml", timeout=10, **self.sim.tls)
        self.assertEqual(r.status_code, 400)
        r = self.sim.post(self.sim.ces_url, "urn:wrong", "<x/>")
        self.assertEqual(r.status_code, 500)
        self.assertIn("ActionNotSupported", r.text)


class MscaSimUsernameTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = MscaSim("--auth", "username")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_username_token_is_checked(self):
        self.assertIn("UsernamePassword", self.sim.ces_url)
        r = self.sim.policies()
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("<clientAuthentication>4</clientAuthentication>", r.text)
        r = self.sim.policies(username=self.sim.username, password="wrong")
        self.assertEqual(r.status_code, 500)
        self.assertIn("InvalidSecurity", r.text)


if __name__ == "__main__":
    unittest.main()
