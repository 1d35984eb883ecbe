"""The setup wizard's checks (the MSI DLL's CbcsCheckToken and
CbcsTestConnection), run natively by cbcs-msi-wizard-check against real peers
on loopback: the SCM simulator and tinyproxy with Basic authentication. Test
Connection directly, through the proxy, with a wrong password (407), with the
proxy stopped and with SCM stopped; the token page's verdicts. Neither the
token nor the password is ever in a line."""

import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, refused_port, require_or_skip  # noqa: E402
from test_proxy import PASSWORD, TINYPROXY, USER, Tinyproxy  # noqa: E402
from test_scm_link import Scm  # noqa: E402

TOOL = os.path.join(os.environ.get("CBCS_BUILD_DIR", "build"), "cbcs-msi-wizard-check")


def check(*args, stdin):
    r = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout.strip(), r.stderr


class WizardChecksTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.scm = Scm(self.path("scm"))
        self.addCleanup(self.scm.stop)
        self.token = self.scm.call("POST", "/connectors", {"name": "wizard", "comments": ""})["token"]
        self.scm_host_port = self.scm.url.split("://", 1)[1].rstrip("/")

    def connection(self, proxy_type="0", addr="", port="", user="", password=""):
        code, line, err = check("connection", proxy_type, addr, port, user,
                                stdin=f"{self.token}\n{password}\n")
        self.assertEqual(err, "")
        for secret in (self.token, PASSWORD, "wrong-" + PASSWORD):
            self.assertNotIn(secret, line)
        return code, line

    def test_token_page(self):
        code, line, _ = check("token", stdin=self.token + "\n")
        self.assertEqual(code, 0, line)
        self.assertIn(f"Token accepted: SCM {self.scm.url.rstrip('/')}", line)
        self.assertNotIn(self.token, line)
        code, line, _ = check("token", stdin=self.token[:-3] + "\n")
        self.assertEqual(code, 1)
        self.assertTrue(line.startswith("Token not accepted: "), line)
        code, line, _ = check("token", stdin="\n")
        self.assertEqual((code, line), (1, "Paste the installation token to go on."))

    def test_direct_to_scm(self):
        code, line = self.connection()
        self.assertEqual(code, 0, line)
        self.assertRegex(line, r"^Connected to SCM \(TLS peer certificate .+, host name verified\)\.$")

    def test_through_the_proxy_with_good_and_wrong_credentials_and_stopped(self):
        proxy = Tinyproxy(self.tmp)
        proxy.start()
        self.addCleanup(proxy.stop)
        scm_port = int(self.scm_host_port.rsplit(":", 1)[1])

        code, line = self.connection("1", "127.0.0.1", str(proxy.port), USER, PASSWORD)
        self.assertEqual(code, 0, line)
        self.assertTrue(line.startswith("Connected to SCM through the proxy (TLS peer certificate"), line)
        self.assertGreater(proxy.connects_to(scm_port), 0, "the test did not cross the proxy")

        code, line = self.connection("1", "127.0.0.1", str(proxy.port), USER, "wrong-" + PASSWORD)
        # tinyproxy answers a wrong password with 401 where a proxy should say 407.
        self.assertEqual(code, 1)
        self.assertRegex(line, r"^The proxy refused the credentials \(HTTP 40[17]\): check the username "
                               r"and password\.$")

        proxy.stop()
        code, line = self.connection("1", "127.0.0.1", str(proxy.port), USER, PASSWORD)
        self.assertEqual(code, 1)
        self.assertTrue(line.startswith("Proxy unreachable: cannot connect to proxy 127.0.0.1:"), line)

    def test_scm_stopped(self):
        self.scm.stop()  # again in the cleanup: harmless
        code, line = self.connection()
        self.assertEqual(code, 1)
        self.assertTrue(line.startswith("SCM unreachable: cannot connect to 127.0.0.1:"), line)

    def test_a_closed_proxy_port_and_incomplete_fields(self):
        sock, port = refused_port()
        self.addCleanup(sock.close)
        code, line = self.connection("1", "127.0.0.1", str(port))
        self.assertEqual(code, 1)
        self.assertTrue(line.startswith("Proxy unreachable: "), line)
        self.assertEqual(self.connection("1", "", "3128")[1], "A manual proxy needs its address and port.")
        self.assertEqual(self.connection("1", "127.0.0.1", "3128", "", PASSWORD)[1],
                         "A password needs a username.")


if __name__ == "__main__":
    require_or_skip(os.path.exists(TOOL), f"{TOOL} is not built")
    require_or_skip(TINYPROXY is not None and shutil.which(TINYPROXY),
                    "tinyproxy is not installed (apt-get install tinyproxy)")
    unittest.main()
