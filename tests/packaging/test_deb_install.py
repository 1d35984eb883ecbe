"""The Debian package on this machine (root only): dpkg -i registers from
/etc/cbcs/install.env against the SCM simulator and deletes the token file;
the connector runs as the unit would run it; an upgrade to a higher version
keeps configuration, identity and journal and SCM sees the new version; purge
leaves nothing in /var/lib/cbcs or /etc/cbcs.

Where systemd is not running (containers, CI), postinst cannot start the
service; the test then starts the installed connector as the unit would: as
user cbcs, with the unit's ExecStart line, NOTIFY_SOCKET set to a socket the
test listens on. What systemd itself adds (its sandbox, restarts, the
watchdog's kill) is not exercised then."""

import base64
import fcntl
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from deb import build_deb, skip  # noqa: E402

if os.geteuid() != 0:
    skip("not root: dpkg -i needs root (the package's contents are checked by test_deb_contents)")
for tool in ("dpkg", "cpack", "runuser", "adduser"):
    if not shutil.which(tool):
        skip(f"{tool} is not installed")
status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "cbcs"], capture_output=True, text=True)
if "installed" in status.stdout and "not-installed" not in status.stdout:
    skip("a cbcs package is installed on this machine; the test will not replace it")
for path in ("/var/lib/cbcs", "/etc/cbcs"):
    if os.path.exists(path):
        skip(f"{path} exists on this machine; the test will not touch it")

from harness import eventually  # noqa: E402
from test_proxy import PASSWORD, TINYPROXY, USER, Tinyproxy  # noqa: E402
from test_scm_link import Scm  # noqa: E402

if TINYPROXY is None:
    skip("tinyproxy is not installed (the installer's PROXY_* settings are tested through it)")

DATA = "/var/lib/cbcs"
ENV_FILE = "/etc/cbcs/install.env"
UNIT = "/lib/systemd/system/cbcs.service"
SYSTEMD = os.path.isdir("/run/systemd/system")


def dpkg(*args, env=None):
    r = subprocess.run(["dpkg", *args], capture_output=True, text=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive", **(env or {})))
    if r.returncode != 0:
        raise AssertionError(f"dpkg {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def as_cbcs(*args, stdin=None):
    return subprocess.run(["runuser", "-u", "cbcs", "--", "/usr/bin/cbcs", *args, "--data-dir", DATA],
                          input=stdin, capture_output=True, text=True)


class DebInstallTest(unittest.TestCase):
    def setUp(self):
        # One run at a time on a machine (two CI runs would share dpkg and /var/lib/cbcs).
        self.lock = open("/run/lock/cbcs-packaging-test.lock", "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.addCleanup(self.lock.close)
        self.tmp = tempfile.mkdtemp(prefix="cbcs-deb-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.user_existed = self.has_user()
        self.addCleanup(self.clean_machine)
        self.scm = Scm(os.path.join(self.tmp, "scm"))
        self.addCleanup(self.scm.stop)
        self.proxy = Tinyproxy(self.tmp)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.proc = None
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_name = "@cbcs-deb-" + uuid.uuid4().hex[:12]
        self.notify.bind("\0" + self.notify_name[1:])
        self.addCleanup(self.notify.close)

    @staticmethod
    def has_user():
        try:
            pwd.getpwnam("cbcs")
            return True
        except KeyError:
            return False

    def clean_machine(self):
        self.stop_connector()
        subprocess.run(["dpkg", "--purge", "cbcs"], capture_output=True)
        shutil.rmtree("/etc/cbcs", True)
        if not self.user_existed and self.has_user():
            subprocess.run(["deluser", "--system", "--quiet", "cbcs"], capture_output=True)
            subprocess.run(["delgroup", "--system", "--quiet", "cbcs"], capture_output=True)

    def wait_for(self, predicate, what, seconds=90):
        if not eventually(predicate, seconds):
            self.fail(f"timed out waiting for {what}")

    def start_connector(self):
        """As the unit would: its ExecStart line, as its User=, from /."""
        if SYSTEMD:
            subprocess.run(["systemctl", "start", "cbcs.service"], check=True)
            return
        with open(UNIT) as fh:
            unit = fh.read()
        exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
        user = next(line for line in unit.splitlines() if line.startswith("User=")).split("=", 1)[1]
        argv = shlex.split(exec_start.split("=", 1)[1])
        env = {"PATH": "/usr/bin:/bin", "NOTIFY_SOCKET": self.notify_name, "LANG": "C.UTF-8"}
        self.proc = subprocess.Popen(argv, user=user, group=user, extra_groups=[], cwd="/", env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.notify.settimeout(90)  # generous: CI machines are shared
        while self.notify.recv(4096) != b"READY=1":
            pass

    def stop_connector(self):
        if SYSTEMD:
            subprocess.run(["systemctl", "stop", "cbcs.service"], capture_output=True)
            return
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(timeout=30), 0)
        self.proc = None

    def connector(self):
        return self.scm.connector(self.cid)

    def test_install_register_upgrade_purge(self):
        deb1, v1 = build_deb(self.tmp)
        deb2, v2 = build_deb(self.tmp, upgrade=True)
        self.assertNotEqual(v1, v2)
        created = self.scm.call("POST", "/connectors", {"name": "deb", "comments": "package"})
        self.cid = created["id"]

        # The installer's properties as an administrator leaves them: the token
        # and the proxy in install.env, the proxy's password in the environment.
        os.makedirs("/etc/cbcs", mode=0o700)
        with open(os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
            fh.write(f"# from SCM\nTOKEN=\"{created['token']}\"\nPROXY_TYPE=1\n"
                     f"PROXY_ADDR=127.0.0.1\nPROXY_PORT='{self.proxy.port}'\nPROXY_USER={USER}\n"
                     f"EXTRA=$(touch {self.tmp}/ran)\n")
        r = dpkg("-i", deb1, env={"PROXY_PASSWORD": PASSWORD})
        scm_port = int(self.scm.url.rsplit(":", 1)[1])
        self.assertGreater(self.proxy.connects_to(scm_port), 0, "registration did not cross the proxy")
        self.assertNotIn(PASSWORD, r.stdout + r.stderr)
        # The file is data: an unknown line is reported, never run.
        self.assertIn("ignoring the unknown setting 'EXTRA'", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "ran")))
        self.assertNotIn(created["token"], r.stdout + r.stderr)
        self.assertFalse(os.path.exists(ENV_FILE), "the token file is deleted after registering")
        self.assertFalse(os.path.exists("/etc/cbcs"))
        st = os.stat(DATA)
        self.assertEqual(st.st_mode & 0o777, 0o700)
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "cbcs")
        with open(os.path.join(DATA, "identity.json")) as fh:
            self.assertEqual(json.load(fh)["connector_id"], self.cid)
        self.assertEqual(self.connector()["status"], "Pending")

        r = as_cbcs("backend", "add", "-name", "local", "-type", "local")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.start_connector()
        sessions_before = self.proxy.connects_to(scm_port)
        self.wait_for(lambda: self.connector()["status"] == "Connected", "Connected")
        self.assertEqual(self.connector()["version"], v1)
        self.assertGreater(self.proxy.connects_to(scm_port), sessions_before,
                           "the session did not cross the proxy")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem", "-out", "r.csr",
                        "-subj", "/CN=deb.example"], cwd=self.tmp, check=True, capture_output=True)
        with open(os.path.join(self.tmp, "r.csr")) as fh:
            csr = fh.read()
        self.scm.call("POST", f"/connectors/{self.cid}/jobs",
                      [{"id": "deb-job-1", "operation": "enroll", "backend": "local", "csr": csr}])
        self.wait_for(lambda: any(r["job_id"] == "deb-job-1" for r in
                                  self.scm.call("GET", f"/connectors/{self.cid}/results")),
                      "the job's result")
        self.stop_connector()
        with open(os.path.join(DATA, "config.json"), "rb") as fh:
            config_before = fh.read()
        with open(os.path.join(DATA, "identity.json"), "rb") as fh:
            identity_before = fh.read()

        # Upgrade in place.
        dpkg("-i", deb2)
        r = subprocess.run(["/usr/bin/cbcs", "version"], capture_output=True, text=True)
        self.assertIn(f"cbcs {v2} ", r.stdout)
        with open(os.path.join(DATA, "config.json"), "rb") as fh:
            self.assertEqual(fh.read(), config_before)
        with open(os.path.join(DATA, "identity.json"), "rb") as fh:
            self.assertEqual(fh.read(), identity_before)
        db = sqlite3.connect(f"file:{DATA}/journal.db?mode=ro", uri=True)
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM job WHERE id = 'deb-job-1'").fetchone(),
                             (1,))
        finally:
            db.close()
        self.start_connector()
        self.wait_for(lambda: self.connector()["status"] == "Connected"
                      and self.connector()["version"] == v2, f"Connected with version {v2}")
        self.stop_connector()

        # No secret in any file of the data directory but the vault.
        secret = json.loads(base64.urlsafe_b64decode(created["token"].split(".")[1] + "==="))["secret"]
        for dirpath, _, files in os.walk(DATA):
            for f in files:
                if f == "vault.bin":
                    continue
                with open(os.path.join(dirpath, f), "rb") as fh:
                    blob = fh.read()
                self.assertNotIn(secret.encode(), blob, f)
                self.assertNotIn(PASSWORD.encode(), blob, f)

        dpkg("--purge", "cbcs")
        self.assertFalse(os.path.exists(DATA))
        self.assertFalse(os.path.exists("/etc/cbcs"))
        self.assertFalse(os.path.exists("/usr/bin/cbcs"))
        if not SYSTEMD:
            print("SKIPPED PART: systemd is not running here; postinst did not start or restart "
                  "the service, the test ran the unit's ExecStart as user cbcs instead",
                  file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
