"""AD CS from cbcs.exe under Wine: `backend add -type msca` with no -transport
takes DCOM, Windows' default (no -auth, no CES options needed), and
`backend test` and `backend msca enroll-agent-cert` (the seed's line) then
go to COM (Wine has no CertCli: CoCreateInstance answers
REGDB_E_CLASSNOTREG, named in one line); CES's options without -transport
ces are refused, saying so.

Runs in the prefix packaging/windows/build.sh readied (its daemons already
running); skipped (77) with the reason when the Windows build or Wine is
missing."""

import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wine_prefix import WIN_BUILD, Wine, cross_built_cbcs, skip  # noqa: E402

EXE = cross_built_cbcs()
PREFIX = os.path.join(WIN_BUILD, "wineprefix")
if not os.path.isdir(PREFIX):
    skip(f"no Wine prefix at {PREFIX} (packaging/windows/build.sh readies it)")


class MscaDefaultTransportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cbcs-msca-wine-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # build.sh's prefix, its wineserver already running: not stopped here.
        self.wine = Wine(PREFIX)
        # Wine's Z: is the Unix root.
        self.data = "Z:" + os.path.join(self.tmp, "data").replace("/", "\\")

    def cbcs(self, *args):
        code, out, err = self.wine.run(EXE, *args, "--data-dir", self.data)
        return code, out + err

    def test_dcom_is_the_default_on_windows(self):
        code, out = self.cbcs("backend", "add", "-name", "ad", "-type", "msca",
                              "-server", "ca01.corp.example", "-ca", "Corp CA")
        self.assertEqual(code, 0, out)
        code, out = self.cbcs("backend", "test", "-name", "ad")
        self.assertNotEqual(code, 0, out)
        # The CA asked over DCOM, as the service's own identity: COM's own
        # failure under Wine, not CES's Kerberos or an HTTP request.
        self.assertIn("ca01.corp.example\\Corp CA) over DCOM failed", out)
        self.assertIn("0x80040154", out)
        self.assertNotIn("kerberos", out.lower())
        self.assertNotIn("https://", out)

    def test_enroll_agent_cert_goes_over_dcom(self):
        # The seed's line: the agent's PKCS#10 to ICertRequest2::Submit.
        code, out = self.cbcs("backend", "add", "-name", "MSCA1", "-type", "msca",
                              "-server", "ca01.corp.example", "-ca", "local-SectigoTestCA-CA")
        self.assertEqual(code, 0, out)
        code, out = self.cbcs("backend", "msca", "enroll-agent-cert", "-name", "MSCA1",
                              "-ca", "local-SectigoTestCA-CA", "-timeout", "60s")
        self.assertNotEqual(code, 0, out)
        failed = [line for line in out.splitlines() if "enroll-agent-cert failed" in line]
        self.assertEqual(len(failed), 1, out)
        self.assertIn("ca01.corp.example\\local-SectigoTestCA-CA over DCOM failed", failed[0])
        self.assertIn("REGDB_E_CLASSNOTREG (0x80040154)", failed[0])
        self.assertNotIn("https://", out)

    def test_ces_options_need_transport_ces_on_windows(self):
        code, out = self.cbcs("backend", "add", "-name", "web", "-type", "msca",
                              "-server", "ca01.corp.example", "-ca", "Corp CA",
                              "-auth", "certificate")
        self.assertNotEqual(code, 0, out)
        self.assertIn("option -auth does not go with -transport dcom (the default on Windows; "
                      "give -transport ces for CES)", out)


if __name__ == "__main__":
    unittest.main()
