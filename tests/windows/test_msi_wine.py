"""The MSI end to end under Wine, as an administrator would use it: a silent
install with TOKEN and PROXY_* from the command line registers through an
authenticating proxy (tinyproxy) with the SCM simulator (native, loopback),
the service CBCS runs and is Connected with its version; enroll, renew and
revoke jobs from SCM on a local backend; an upgrade to the next version keeps
identity and journal and SCM sees the new version; a downgrade is refused;
uninstall removes the service and keeps %ProgramData%\\CBCS; the token and
the proxy password are in no file under the prefix but the sealed vault.

Needs the Windows cross build (CBCS_WINDOWS_BUILD_DIR, its packages/*.msi),
wine64 and the native build (CBCS_BUILD_DIR: cbcs-sim). Skipped (77) with the
reason when any is missing. A fresh Wine prefix in the Windows build tree; its
daemons start with their standard streams on /dev/null in a session of their
own (inheriting ctest's pipes would hang it) and are ended with wineserver -k."""

import base64
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wine_prefix import (WIN_BUILD, ServiceChecks, Wine, eventually, require_windows_build,  # noqa: E402
                         skip)

sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from harness import openssl  # noqa: E402

require_windows_build()
if not shutil.which("wixl"):
    skip("wixl (msitools) is not installed: the cross build made no MSI")


def msi_version(path):
    return tuple(int(p) for p in re.search(r"cbcs-(\d+\.\d+\.\d+)-x64\.msi$", path).group(1).split("."))


MSIS = sorted(glob.glob(os.path.join(WIN_BUILD, "packages", "cbcs-*-x64.msi")), key=msi_version)
if len(MSIS) < 2:
    skip(f"{WIN_BUILD}/packages has {len(MSIS)} MSI (build the cbcs_msi target)")
MSI1, MSI2 = MSIS[-2], MSIS[-1]
V1, V2 = (".".join(map(str, msi_version(m))) for m in (MSI1, MSI2))

from test_proxy import PASSWORD, TINYPROXY, USER, Tinyproxy  # noqa: E402
from test_scm_link import SIM, Scm  # noqa: E402

if not os.access(SIM, os.X_OK):
    skip(f"{SIM} is not built (the native build runs the SCM simulator)")
if TINYPROXY is None:
    skip("tinyproxy is not installed (the installer's PROXY_* settings are tested through it)")

DATA_WIN = r"C:\ProgramData\CBCS"
EXE_WIN = r"C:\Program Files\CBCS\cbcs.exe"
EVENT_SOURCE = r"HKLM\System\CurrentControlSet\Services\EventLog\Application\CBCS"


def product_code(msi):
    out = subprocess.run(["msiinfo", "export", msi, "Property"], capture_output=True, text=True,
                         check=True).stdout
    return re.search(r"^ProductCode\t(\{[0-9A-F-]+\})", out, re.M).group(1)


ERROR_INSTALL_FAILURE = 1603 & 0xFF  # Wine's exit status keeps the low byte


def token_with_secret(token, secret):
    """The token for the same SCM with another secret (SCM knows none such)."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
    payload["secret"] = secret
    text = b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"cbcs1.{text}.{b64(hashlib.sha256(f'cbcs1.{text}'.encode()).digest()[:6])}"


class MsiWineTest(ServiceChecks, unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cbcs-msi-wine-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.wine = Wine(os.path.join(WIN_BUILD, "msi-test", "prefix"))
        self.addCleanup(self.wine.stop)
        boot = self.wine.boot()
        print(f"wine prefix booted in {boot:.1f} s", file=sys.stderr)
        self.scm = Scm(os.path.join(self.tmp, "scm"))
        self.addCleanup(self.scm.stop)
        self.proxy = Tinyproxy(self.tmp)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.logs = []
        self.secrets = []

    def wait_for(self, predicate, what, seconds=120):
        if not eventually(predicate, seconds, step=0.25):
            self.fail(f"timed out waiting for {what}")

    def msiexec(self, *args):
        """msiexec /q with a log outside the prefix (no property dump: Wine ignores
        MsiHiddenProperties, Windows masks them); (code, log text)."""
        log = os.path.join(self.tmp, f"msiexec-{len(self.logs)}.log")
        code, out, err = self.wine.run("msiexec", *args, "/q", "/liwearmo", "Z:" + log.replace("/", "\\"))
        text = ""
        if os.path.exists(log):
            with open(log, "rb") as fh:
                raw = fh.read()
            text = raw.decode("utf-16" if raw[:2] == b"\xff\xfe" else "utf-8", "replace")
        text += out + err
        self.logs.append((code, text))
        # Wine writes every property into some logs (a failed installation's, an
        # upgrade's), MsiHiddenProperties or not: never into a test's output.
        return code, self.redact(text)

    def redact(self, text):
        for secret in self.secrets:
            text = text.replace(secret, "********")
        return text

    def cbcs(self, *args, stdin=None):
        return self.wine.run(EXE_WIN, *args, "--data-dir", DATA_WIN, stdin=stdin)

    def connector(self):
        return self.scm.connector(self.cid)

    def results(self):
        return {r["job_id"]: r for r in self.scm.call("GET", f"/connectors/{self.cid}/results")}

    def run_job(self, job):
        self.scm.call("POST", f"/connectors/{self.cid}/jobs", [job])
        self.wait_for(lambda: job["id"] in self.results(), f"the result of job {job['id']}")
        return self.results()[job["id"]]["outcome"]

    def csr(self, name):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", f"/CN={name}.example",
                cwd=self.tmp)
        with open(os.path.join(self.tmp, name + ".csr")) as fh:
            return fh.read()

    def test_install_register_jobs_upgrade_uninstall(self):
        created = self.scm.call("POST", "/connectors", {"name": "msi", "comments": "wine"})
        self.cid, token = created["id"], created["token"]
        secret = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))["secret"]
        self.secrets = [token, secret, PASSWORD]
        scm_port = int(self.scm.url.rsplit(":", 1)[1])
        data = self.wine.unix(DATA_WIN)

        # A first install without TOKEN fails with a message naming it, and leaves nothing.
        code, log = self.msiexec("/i", MSI1)
        self.assertEqual(code, ERROR_INSTALL_FAILURE, log)
        self.assertIn("TOKEN is required on the first installation", log)
        self.assertFalse(os.path.exists(self.wine.unix(EXE_WIN)), "a failed install left cbcs.exe")
        self.assertNotEqual(self.service_state(), "RUNNING")

        # A token SCM does not know: cbcs's own one-line reason is the error (a dialog with a
        # UI), and the installation is rolled back: no cbcs.exe, no service, no data directory.
        unknown = token_with_secret(token, "unknown-" + "A" * 40)
        self.secrets.append(unknown)
        code, log = self.msiexec("/i", MSI1, f"TOKEN={unknown}")
        self.assertEqual(code, ERROR_INSTALL_FAILURE, log)
        self.assertIn("CBCS: registration with SCM failed: SCM refused the token: unknown token", log)
        self.assertIn("; the installation is undone", log)
        self.assertFalse(os.path.exists(self.wine.unix(EXE_WIN)), "a rolled-back install left cbcs.exe")
        self.assertNotIn(self.service_state(), ("RUNNING", "STOPPED"))
        if os.path.exists(data):
            self.fail(f"a rolled-back install left {os.listdir(data)} in the data directory")

        # The seed's command line.
        t0 = time.monotonic()
        code, log = self.msiexec("/i", MSI1, f"TOKEN={token}", "PROXY_TYPE=1", "PROXY_ADDR=127.0.0.1",
                                 f"PROXY_PORT={self.proxy.port}", f"PROXY_USER={USER}",
                                 f"PROXY_PASSWORD={PASSWORD}")
        print(f"install {V1}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        self.assertEqual(code, 0, log)
        self.assertIn("CBCS: cbcs register: registered as connector " + self.cid, log)
        self.assertIn("CBCS: service CBCS: restart after 5 s", log)
        self.assertGreater(self.proxy.connects_to(scm_port), 0, "registration did not cross the proxy")
        with open(os.path.join(data, "identity.json")) as fh:
            self.assertEqual(json.load(fh)["connector_id"], self.cid)
        code, out, _ = self.wine.run("reg", "query", r"HKLM\System\CurrentControlSet\Services\CBCS")
        self.assertRegex(out, r"PreshutdownTimeout\s+REG_DWORD\s+0x7530")
        self.assertRegex(out, r'ImagePath\s+REG_SZ\s+.*cbcs\.exe"? run --data-dir "C:\\ProgramData\\CBCS"')
        self.assertRegex(out, r"Start\s+REG_DWORD\s+0x2")
        self.assertIn("LocalSystem", out)
        code, out, _ = self.wine.run("reg", "query", EVENT_SOURCE)
        self.assertEqual(code, 0, f"no event source after the install: {out}")
        self.assertRegex(out, r"EventMessageFile\s+REG_SZ\s+C:\\Program Files\\CBCS\\cbcs\.exe")
        self.assertRegex(out, r"TypesSupported\s+REG_DWORD\s+0x7")
        self.wait_for_state("RUNNING", "service CBCS running")
        self.wait_for(lambda: self.connector()["status"] == "Connected", "Connected")
        self.assertEqual(self.connector()["version"], V1)
        code, out, err = self.cbcs("proxy", "show")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"type:\s+manual\s+address:\s+127\.0\.0\.1\s+"
                              rf"port:\s+{self.proxy.port}\s+user:\s+{USER}\s")

        # A local CA, then a restart of the service to serve it.
        code, out, err = self.cbcs("backend", "add", "-name", "local", "-type", "local")
        self.assertEqual(code, 0, out + err)
        self.sc("stop")
        self.wait_for_state("STOPPED", "service CBCS stopped")
        self.sc("start")
        self.wait_for_state("RUNNING", "service CBCS running again")
        self.wait_for(lambda: self.connector()["status"] == "Connected"
                      and any(b["name"] == "local" and b["health"] == "healthy"
                              for b in self.connector().get("backends", [])),
                      "Connected with backend local healthy")

        enrolled = self.run_job({"id": "msi-enroll", "operation": "enroll", "backend": "local",
                                 "csr": self.csr("enroll")})
        self.assertEqual(enrolled["outcome"], "issued", enrolled)
        renewed = self.run_job({"id": "msi-renew", "operation": "renew", "backend": "local",
                                "certificate": enrolled["certificate"], "csr": self.csr("renew")})
        self.assertEqual(renewed["outcome"], "issued", renewed)
        self.assertNotEqual(renewed["serial"], enrolled["serial"])
        revoked = self.run_job({"id": "msi-revoke", "operation": "revoke", "backend": "local",
                                "serial": renewed["serial"], "reason": "superseded"})
        self.assertEqual(revoked["outcome"], "done", revoked)

        with open(os.path.join(data, "identity.json"), "rb") as fh:
            identity_before = fh.read()
        with open(os.path.join(data, "config.json"), "rb") as fh:
            config_before = fh.read()

        # Upgrade in place with the install's command line run again (its token
        # used already): the identity is kept, the token not used.
        upgrade = ("/i", MSI2, f"TOKEN={token}")
        t0 = time.monotonic()
        code, log = self.msiexec(*upgrade)
        print(f"upgrade {V1} -> {V2}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        self.assertEqual(code, 0, log)
        self.assertIn("the connector is registered: identity kept, TOKEN not used", log)
        code, out, _ = self.wine.run(EXE_WIN, "version")
        self.assertIn(f"cbcs {V2}", out)
        with open(os.path.join(data, "identity.json"), "rb") as fh:
            self.assertEqual(fh.read(), identity_before)
        with open(os.path.join(data, "config.json"), "rb") as fh:
            self.assertEqual(fh.read(), config_before)
        self.wait_for_state("RUNNING", "the upgraded service running")
        self.wait_for(lambda: self.connector()["status"] == "Connected"
                      and self.connector()["version"] == V2, f"Connected with version {V2}")
        self.assertEqual(self.results()["msi-enroll"]["count"], 1, "a job ran twice after the upgrade")

        # The same package and command line again (a script rerun) succeeds and keeps
        # the identity. Wine reinstalls the component (Windows would change nothing), so
        # the service is stopped, waited for, and started again.
        code, log = self.msiexec(*upgrade)
        self.assertEqual(code, 0, log)
        self.assertIn("CBCS: the connector is registered: identity kept, TOKEN not used", log)
        with open(os.path.join(data, "identity.json"), "rb") as fh:
            self.assertEqual(fh.read(), identity_before)
        self.wait_for_state("RUNNING", "the service running after the rerun")
        self.wait_for(lambda: self.connector()["status"] == "Connected", "Connected after the rerun")

        # A downgrade is refused with the package's message; the newer version stays.
        code, log = self.msiexec("/i", MSI1)
        self.assertEqual(code, ERROR_INSTALL_FAILURE, log)
        # Wine's log lacks the launch condition's text (test_msi_tables checks it): its cause.
        self.assertIn("Property(S): WIX_DOWNGRADE_DETECTED = {", log)
        self.assertIn("LaunchConditions. Return value 0", log)
        code, out, _ = self.wine.run(EXE_WIN, "version")
        self.assertIn(f"cbcs {V2}", out)

        # Uninstall: the service and the program go, the data stays.
        # By product code: Wine's msiexec /x <package path> reinstalls it.
        code, log = self.msiexec("/x", product_code(MSI2))
        self.assertEqual(code, 0, log)
        self.assertTrue(self.service_state().startswith("none"), f"service left: {self.last_state}")
        code, out, _ = self.wine.run("reg", "query", EVENT_SOURCE)
        self.assertNotEqual(code, 0, f"the event source is left after the uninstall: {out}")
        # CbcsStopService stopped the service and waited for its process, so that
        # RemoveFiles did not meet cbcs.exe in use.
        self.assertIn("CBCS: service CBCS: stopped", log)
        self.assertFalse(os.path.exists(self.wine.unix(EXE_WIN)), "the uninstall left cbcs.exe")
        code, _ = self.msiexec("/x", product_code(MSI2))
        self.assertEqual(code, 1605 & 0xFF, "the product is still registered after its uninstall")
        for name in ("identity.json", "config.json", "vault.bin", "journal.db"):
            self.assertTrue(os.path.exists(os.path.join(data, name)), f"uninstall removed {name}")
        db = sqlite3.connect(f"file:{data}/journal.db?mode=ro", uri=True)
        try:
            ids = {r[0] for r in db.execute("SELECT id FROM job")}
        finally:
            db.close()
        self.assertLessEqual({"msi-enroll", "msi-renew", "msi-revoke"}, ids)

        # No secret in any file under the prefix but the vault, nor in the logs.
        self.wine.stop()  # registry files written out
        vault = os.path.join(data, "vault.bin")
        needles = [token.encode(), secret.encode(), PASSWORD.encode(),
                   PASSWORD.encode("utf-16-le"), secret.encode("utf-16-le")]
        found = []
        for dirpath, _, files in os.walk(self.wine.prefix):
            for f in files:
                path = os.path.join(dirpath, f)
                if path == vault or os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as fh:
                    blob = fh.read()
                found += [path for n in needles if n in blob]
        self.assertEqual(found, [], "a secret in a file under the prefix")
        # No secret in what the custom actions and msiexec log, but Wine's own
        # property dump (see msiexec(); Windows masks MsiHiddenProperties there).
        for _, text in self.logs:
            lines = [line for line in text.splitlines() if not line.startswith("Property(")]
            leaked = [n for n, line in enumerate(lines) if self.redact(line) != line]
            self.assertEqual(leaked, [], "a secret in an msiexec log outside Wine's property dump")


if __name__ == "__main__":
    unittest.main()
