"""`cbcs run` as a service talks to its manager: systemd's notification
protocol on a socket this test listens on (READY=1 once the runtime is up,
STATUS= as the SCM link connects and drops, WATCHDOG=1 at half the interval,
STOPPING=1 on SIGTERM); `cbcs service ...` where systemd is not running."""

import os
import signal
import socket
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, TempDirTest, cbcs, eventually  # noqa: E402
from test_scm_link import Scm  # noqa: E402

# Short for a test, long enough that a loaded CI machine answers the probes
# (each gets a quarter: 500 ms).
WATCHDOG_USEC = 2_000_000


class NotifySocket:
    """What systemd listens on: an abstract AF_UNIX datagram socket."""

    def __init__(self):
        self.name = "@cbcs-it-" + uuid.uuid4().hex[:12]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name[1:])
        self.seen = []  # (monotonic time, message)

    def next(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        self.seen.append((time.monotonic(), data))
        return data

    def wait_for(self, predicate, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            m = self.next(max(0.05, deadline - time.monotonic()))
            if m is not None and predicate(m):
                return m
        return None

    def close(self):
        self.sock.close()


class RegisteredConnector(TempDirTest):
    """A connector registered with the SCM simulator, and a notify socket."""

    def setUp(self):
        super().setUp()
        self.scm = Scm(self.path("scm"))
        self.addCleanup(self.scm.stop)
        self.data = self.path("data")
        created = self.scm.call("POST", "/connectors", {"name": "svc", "comments": "notify"})
        self.cid = created["id"]
        r = cbcs("register", "-token", "-", data_dir=self.data, stdin=created["token"] + "\n")
        self.assertEqual(r.code, 0, r)
        self.notify = NotifySocket()
        self.addCleanup(self.notify.close)

    def start(self, **env):
        full = dict(os.environ, NOTIFY_SOCKET=self.notify.name, **env)
        full.pop("CBCS_DATA_DIR", None)
        proc = subprocess.Popen([CBCS, "run", "--data-dir", self.data], env=full,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
        return proc


class NotifyTest(RegisteredConnector):
    def test_ready_status_watchdog_and_stopping(self):
        proc = self.start(WATCHDOG_USEC=str(WATCHDOG_USEC))
        self.assertEqual(self.notify.wait_for(lambda m: m == "READY=1"), "READY=1", self.notify.seen)
        self.assertIsNotNone(self.notify.wait_for(lambda m: m == "STATUS=connected to SCM"),
                             self.notify.seen)
        # Alive every half interval (1 s): about 5 in 5 s.
        start = time.monotonic()
        while time.monotonic() - start < 5:
            self.notify.next(0.5)
        beats = [t for t, m in self.notify.seen if m == "WATCHDOG=1" and t >= start]
        self.assertGreaterEqual(len(beats), 3, self.notify.seen)
        self.assertLessEqual(len(beats), 8, self.notify.seen)
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        self.assertLess(max(gaps), WATCHDOG_USEC / 1e6, "a gap as long as the watchdog interval")
        # SCM drops the session: the status says offline (or reconnecting), then connected.
        self.scm.call("POST", "/faults", {"drop_session": True})
        down = self.notify.wait_for(lambda m: m.startswith("STATUS=offline since")
                                    or m.startswith("STATUS=connecting to SCM (offline since"))
        self.assertIsNotNone(down, self.notify.seen)
        self.assertIsNotNone(self.notify.wait_for(lambda m: m == "STATUS=connected to SCM"),
                             self.notify.seen)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.notify.wait_for(lambda m: m == "STOPPING=1", 20), "STOPPING=1")
        self.assertEqual(proc.wait(timeout=30), 0)
        after_stop = [m for t, m in self.notify.seen if m == "WATCHDOG=1"]
        self.assertTrue(after_stop)  # (sanity: it did beat)
        self.assertNotEqual(self.notify.seen[-1][1], "WATCHDOG=1")

    def test_no_watchdog_asked_none_sent(self):
        proc = self.start()
        self.assertIsNotNone(self.notify.wait_for(lambda m: m == "READY=1"), self.notify.seen)
        self.notify.wait_for(lambda m: False, 1.5)
        self.assertNotIn("WATCHDOG=1", [m for _, m in self.notify.seen])
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_without_notify_socket_nothing_changes(self):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        proc = subprocess.Popen([CBCS, "run", "--data-dir", self.data], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assertTrue(eventually(lambda: self.scm.connector(self.cid)["status"] == "Connected"))
        self.assertIsNone(self.notify.next(0.3))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)


class LogTest(RegisteredConnector):
    """Where `cbcs run` logs: journald's stream, else rotating files (and stderr)."""

    def run_briefly(self, stderr, env_extra=None, args=()):
        env = dict(os.environ, **(env_extra or {}))
        env.pop("CBCS_DATA_DIR", None)
        env["NOTIFY_SOCKET"] = self.notify.name
        proc = subprocess.Popen([CBCS, "run", "--data-dir", self.data, *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        self.assertIsNotNone(self.notify.wait_for(lambda m: m == "STATUS=connected to SCM"))
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_journald_gets_priorities_and_no_files(self):
        err_path = self.path("stderr")
        with open(err_path, "w") as err:
            st = os.fstat(err.fileno())
            self.run_briefly(err, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        with open(err_path) as fh:
            lines = fh.read().splitlines()
        self.assertTrue(lines, "nothing logged")
        self.assertTrue(all(line[:3] in ("<6>", "<4>", "<3>", "<7>") for line in lines), lines)
        self.assertTrue(any("starting" in line for line in lines), lines)
        self.assertFalse(os.path.exists(os.path.join(self.data, "logs")))

    def test_otherwise_rotating_files_in_the_data_directory(self):
        with open(self.path("stderr"), "w") as err:
            self.run_briefly(err, {"JOURNAL_STREAM": "1:2"}, ["-log-max-files", "2"])
        log = os.path.join(self.data, "logs", "cbcs.log")
        self.assertEqual(os.stat(log).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.dirname(log)).st_mode & 0o777, 0o700)
        with open(log) as fh:
            text = fh.read()
        self.assertIn(" info cbcs ", text)
        self.assertIn(" starting; data directory ", text)
        self.assertIn("received; draining the session", text)

    def test_log_options_are_checked(self):
        for args, frag in ((["-log-level", "loud"], "-log-level"),
                           (["-log-max-size", "1K"], "-log-max-size"),
                           (["-log-max-size", "10Q"], "-log-max-size"),
                           (["-log-max-files", "0"], "-log-max-files")):
            r = cbcs("run", *args, data_dir=self.data)
            self.assertOneLineError(r, 2, frag)


@unittest.skipIf(os.path.isdir("/run/systemd/system"),
                 "systemd runs here: `cbcs service` would drive the real manager")
class NoSystemdTest(TempDirTest):
    def test_each_service_command_says_so_in_one_line(self):
        for sub in ("install", "uninstall", "start", "stop", "restart", "status"):
            r = cbcs("service", sub)
            self.assertOneLineError(r, 1, "systemd is not running")


if __name__ == "__main__":
    unittest.main()
