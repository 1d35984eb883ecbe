"""Issue 22, one test per defect an administrator can reproduce from the CLI:

- item 3: one service per data directory (a second `cbcs run` refused at
  once, naming the first's pid; the CLI keeps working beside the one);
- item 8: the support trace survives ordinary CLI use beside `cbcs run`
  (no file the service writes is deleted; `trace show -job` finds its jobs);
- item 9: read-only commands create nothing; a failed `register` leaves no
  `vault.key`; `run` on a read-only data directory says a thing once;
  `proxy test`'s default target trusts the SCM CA pinned at registration;
  a declined session names the HTTP status and, for an expired identity,
  the restore hint; SCM hears a backend unhealthy after auth failures;
  `cbcs status` shows each backend's health and the jobs pending at CAs.
"""

import collections
import json
import os
import pwd
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, TempDirTest, cbcs, require_or_skip  # noqa: E402
from operator_env import (SIM, DigiCertSim, LocalCaConnectorTest, Service, jdump,  # noqa: E402
                          log_files_text, scm_job, wait_until)


# How long a finished job may take to appear in the support trace (written in batches).
TRACE_SECONDS = 15


class RunningConnector(LocalCaConnectorTest):
    def start(self, **kw):
        svc = Service(self.data, self.path(f"run-{time.monotonic_ns()}.log"), **kw)
        self.addCleanup(svc.stop)
        ok = wait_until(lambda: not svc.alive() or self.conn.connected(), 20)
        self.assertTrue(svc.alive() and ok, f"cbcs run did not connect: {svc.text()[-1500:]}")
        return svc


class OneServicePerDataDirectory(RunningConnector):
    """Issue 22 item 3."""

    def test_second_run_is_refused_at_once_with_the_first_pid_and_the_cli_works(self):
        first = self.start()
        sessions = self.conn.info()["sessions"]
        started = time.monotonic()
        second = cbcs("run", data_dir=self.data, timeout=30)
        took = time.monotonic() - started
        self.assertNotEqual(second.code, 0, f"the second cbcs run was not refused: {second}")
        self.assertLess(took, 5, f"the second cbcs run ran {took:.1f} s before it stopped; expected at once")
        lines = (second.out + second.err).strip().splitlines()
        self.assertTrue(any(str(first.pid) in line for line in lines),
                        f"no line of the second cbcs run names the first's pid {first.pid}: {lines[-5:]}")
        # The one service goes on undisturbed, and the CLI works beside it.
        self.assertTrue(first.alive())
        self.assertEqual(self.conn.info()["sessions"], sessions, "the second run opened an SCM session")
        for args in (("status",), ("backend", "list"), ("proxy", "show"),
                     ("enroll", "-backend", "local", "-csr", self.csr_path, "-id", "beside-1")):
            r = cbcs(*args, data_dir=self.data, timeout=30)
            self.assertEqual(r.code, 0, f"cbcs {' '.join(args)} beside the service: {r}")
        self.conn.submit([scm_job("after-second-1", "local", self.csr)])
        got = wait_until(lambda: self.conn.results().get("after-second-1"), 15)
        self.assertIsNotNone(got, "the first service stopped taking SCM's jobs")
        self.assertEqual(got["outcome"]["outcome"], "issued")


class TraceSurvivesCliUse(RunningConnector):
    """Issue 22 item 8."""

    def deleted_fds(self, svc):
        return {fd: t for fd, t in svc.open_fds().items() if t.endswith("(deleted)")}

    def test_cli_commands_never_delete_the_service_trace(self):
        svc = self.start()
        self.conn.submit([scm_job("svc-before", "local", self.csr)])
        self.assertTrue(wait_until(lambda: "svc-before" in self.conn.results(), 15))
        trace_fds = {fd: t for fd, t in svc.open_fds().items() if "/trace/" in t}
        self.assertTrue(trace_fds, f"the service holds no trace file open: {svc.open_fds()}")
        commands = [("status",), ("backend", "list"), ("proxy", "show"), ("trace", "show", "-since", "1m"),
                    ("backend", "test", "-name", "local")]
        commands += [("enroll", "-backend", "local", "-csr", self.csr_path, "-id", f"cli-{i}") for i in range(6)]
        for args in commands:
            r = cbcs(*args, data_dir=self.data, timeout=30)
            self.assertEqual(r.code, 0, f"cbcs {' '.join(args)}: {r}")
            deleted = self.deleted_fds(svc)
            self.assertEqual(deleted, {}, f"after `cbcs {' '.join(args)}` the service writes a deleted file: "
                                          f"{deleted}; trace dir: {sorted(os.listdir(self.path('data', 'trace')))}")
        self.conn.submit([scm_job("svc-after", "local", self.csr)])
        self.assertTrue(wait_until(lambda: "svc-after" in self.conn.results(), 15))
        self.assertEqual(self.deleted_fds(svc), {})
        # The trace is written in batches: each job's timeline may take a moment.
        for job in ("svc-before", "svc-after", "cli-0"):
            shown = wait_until(lambda: (lambda r: r if "result" in r.out else None)(
                cbcs("trace", "show", "-job", job, data_dir=self.data)), TRACE_SECONDS, step=0.5)
            self.assertIsNotNone(shown, f"`cbcs trace show -job {job}` does not show the job's result "
                                        f"{TRACE_SECONDS} s after it, with CLI commands run beside the "
                                        f"service: {cbcs('trace', 'show', '-job', job, data_dir=self.data)}")

class ReadOnlyCommandsCreateNothing(TempDirTest):
    """Issue 22 item 9: `cbcs status -data-dir typo/a/b` creates the whole path."""

    def test_read_only_commands_on_a_missing_directory_create_nothing(self):
        for args in (("status",), ("status", "--json"), ("backend", "list"), ("backend", "show", "-name", "x"),
                     ("proxy", "show"), ("trace", "show"), ("trace", "show", "-job", "j")):
            typo = self.path("typo", "a", "b")
            r = cbcs(*args, data_dir=typo)
            self.assertFalse(os.path.exists(self.path("typo")),
                             f"`cbcs {' '.join(args)} -data-dir typo/a/b` (exit {r.code}) created "
                             f"{[d for d, _, _ in os.walk(self.path('typo'))]}")


class FailedRegisterLeavesNothing(TempDirTest):
    """Issue 22 item 9: a failed `register` leaves `vault.key` behind."""

    def test_bad_tokens_leave_no_vault_key(self):
        require_or_skip(os.path.exists(SIM), f"{SIM} is not built")
        from operator_env import Scm
        from test_scm_sim import forged_token
        scm = Scm(self.path("scm"))
        self.addCleanup(scm.stop)
        for n, token in enumerate([forged_token(scm.url), "cbcs1.garbage.xxxxxxxx", "not-a-token"]):
            data = self.path(f"data-{n}")
            r = cbcs("register", "-token", "-", data_dir=data, stdin=token + "\n")
            self.assertNotEqual(r.code, 0, r)
            if token == "not-a-token":  # a value failing its check: the command line is wrong
                self.assertOneLineError(r, 2, "option -token")
            left = sorted(os.listdir(data)) if os.path.isdir(data) else []
            self.assertEqual(left, [], f"register with a bad token ({token[:20]}...) failed with "
                                       f"{r.err.strip()!r} and left {left}")
        # Through a proxy that cannot be reached (the installer's PROXY_* options):
        # the proxy settings must not stay behind either.
        data = self.path("via-proxy")
        token = scm.call("POST", "/connectors", {"name": "p", "comments": "proxy"})["token"]
        r = cbcs("register", "-token", "-", "-proxy-type", "1", "-proxy-addr", "127.0.0.1", "-proxy-port", "9",
                 data_dir=data, stdin=token + "\n")
        self.assertNotEqual(r.code, 0, r)
        left = sorted(os.listdir(data)) if os.path.isdir(data) else []
        self.assertEqual(left, [], f"register through an unreachable proxy failed with {r.err.strip()!r} "
                                   f"and left {left}")
        # In an existing data directory (a backend configured already): nothing new.
        data = self.path("existing")
        self.assertEqual(cbcs("proxy", "set", "-type", "direct", data_dir=data).code, 0)
        before = sorted(os.listdir(data))
        r = cbcs("register", "-token", "-", data_dir=data, stdin=forged_token(scm.url) + "\n")
        self.assertNotEqual(r.code, 0, r)
        self.assertEqual(sorted(os.listdir(data)), before, "a failed register added files")


class RunOnReadOnlyDirectory(RunningConnector):
    """Issue 22 item 9: `run` on a read-only directory logs the same line 21 times in 8 s."""

    def test_says_it_once(self):
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user 'nobody' to run as")
        if os.geteuid() != 0:
            self.skipTest("needs root to run cbcs as another user (root ignores file modes)")
        # The data directory owned by nobody, every file readable and nothing writable.
        os.chmod(self.tmp, 0o755)
        for dirpath, dirs, files in os.walk(self.data):
            os.chown(dirpath, nobody.pw_uid, nobody.pw_gid)
            os.chmod(dirpath, 0o500)
            for f in files:
                p = os.path.join(dirpath, f)
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
                os.chmod(p, 0o400)
        self.addCleanup(lambda: [os.chmod(d, 0o700) for d, _, _ in os.walk(self.data)])

        def demote():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        env = {k: v for k, v in os.environ.items() if k not in ("CBCS_DATA_DIR", "NOTIFY_SOCKET",
                                                                "JOURNAL_STREAM")}
        proc = subprocess.Popen([CBCS, "run", "--data-dir", self.data], env=env, preexec_fn=demote,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            # Watch it for 6 s (an observation window, not a wait for something).
            _, out = proc.communicate(timeout=6)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                _, out = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, out = proc.communicate()
        # A line without its timestamp and pid: "[...] level cbcs text".
        texts = collections.Counter(re.sub(r"^\S+ \S+ ", "", re.sub(r"\d{4}-\d\d-\d\dT\S+", "", line)).strip()
                                    for line in out.splitlines() if line.strip())
        repeated = {t: n for t, n in texts.items() if n > 2}
        self.assertEqual(repeated, {}, f"cbcs run on a read-only data directory repeats itself: "
                                       f"{jdump(repeated)}")
        self.assertTrue(out.strip(), "cbcs run on a read-only data directory said nothing at all")
        print(f"cbcs run on a read-only data directory said ({len(out.splitlines())} lines): "
              f"{out.strip()[-600:]}", file=sys.stderr)


class ProxyTestTrustsThePinnedScmCa(RunningConnector):
    """Issue 22 item 9: `cbcs proxy test` with its default target ignores the SCM CA pinned at registration."""

    def test_default_target_verifies_with_the_pinned_ca(self):
        r = cbcs("proxy", "test", data_dir=self.data, timeout=30)
        self.assertEqual(r.code, 0, f"`cbcs proxy test` (default target: the SCM this connector is "
                                    f"registered with) failed where the session itself works: {r}")
        self.assertNotIn("certificate verify failed", r.out + r.err, r)


class DeclinedSessionSaysWhy(RunningConnector):
    """Issue 22 item 9: an expired identity is logged only as 'the WebSocket handshake was declined'."""

    def test_expired_identity_names_the_status_and_the_restore_hint(self):
        self.conn.scm.call("POST", "/clock", {"advance_seconds": 31 * 86400})
        svc = Service(self.data, self.path("run.log"))
        self.addCleanup(svc.stop)
        said = wait_until(lambda: (lambda t: t if "403" in t and "-force" in t else None)(
            svc.text() + log_files_text(self.data)), 15)
        text = svc.text()
        self.assertIsNotNone(said, f"SCM declined the session (identity expired on SCM's side, HTTP 403); "
                                   f"the log must give the status and the hint `cbcs register -token T -force`; "
                                   f"it says: {text[-1200:]}")
        self.assertIn("register -token", said)


class HealthFollowsOutcomes(RunningConnector):
    """Issue 22 item 9: SCM hears a backend is healthy after its jobs failed with invalid_api_key."""

    def test_auth_failures_make_the_backend_unhealthy_at_scm(self):
        dc = DigiCertSim(self.path("dcsim"))
        self.addCleanup(dc.stop)
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-", "-endpoint", dc.url,
                 "-cacert", dc.ca_file, "-poll", "1s", "-skipapproval", "true", data_dir=self.data,
                 stdin="not-the-key-but-long-enough\n")
        self.assertEqual(r.code, 0, r)
        self.start()
        self.conn.submit([scm_job(f"badkey-{i}", "dc", self.csr) for i in range(3)])
        results = wait_until(lambda: (lambda r: r if all(f"badkey-{i}" in r for i in range(3)) else None)(
            self.conn.results()), 20)
        self.assertIsNotNone(results, f"no results: {jdump(self.conn.jobs())}")
        for i in range(3):
            o = results[f"badkey-{i}"]["outcome"]
            self.assertEqual((o["outcome"], o.get("error")), ("failed", "auth"), jdump(o))
        health = wait_until(lambda: (lambda b: b if b.get("health") != "healthy" else None)(
            self.conn.backends().get("dc", {})), 10)
        self.assertIsNotNone(health, f"after 3 jobs failed with auth SCM still hears dc is "
                                     f"{jdump(self.conn.backends().get('dc'))}")
        self.assertTrue(health.get("message"), f"the unhealthy backend has no reason: {jdump(health)}")

    def test_status_shows_backend_health_and_pending_jobs(self):
        dc = DigiCertSim(self.path("dcsim"))
        self.addCleanup(dc.stop)
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-", "-endpoint", dc.url,
                 "-cacert", dc.ca_file, "-poll", "1s", data_dir=self.data, stdin=dc.api_key + "\n")
        self.assertEqual(r.code, 0, r)
        dc.admin("POST", "/admin/policy", {"mode": "approve"})
        self.start()
        self.conn.submit([scm_job("wait-1", "dc", self.csr)])
        self.assertTrue(wait_until(lambda: self.conn.job("wait-1").get("pending_reason"), 20))
        r = cbcs("status", "--json", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        st = json.loads(r.out)
        backends = st.get("backends")
        self.assertIsInstance(backends, list, f"cbcs status --json has no list of backends: {r.out}")
        by_name = {b.get("name"): b for b in backends if isinstance(b, dict)}
        self.assertIn("dc", by_name, f"cbcs status --json backends: {jdump(backends)}")
        for name in ("local", "dc"):
            self.assertIn("health", by_name.get(name, {}), f"cbcs status shows no health of {name}: "
                                                           f"{jdump(by_name.get(name))}")

        def pending_counts(x, under=""):
            if isinstance(x, dict):
                for k, v in x.items():
                    yield from pending_counts(v, k)
            elif isinstance(x, list):
                for v in x:
                    yield from pending_counts(v, under)
            elif "pending" in under.lower() and isinstance(x, int):
                yield x
        self.assertTrue(any(n >= 1 for n in pending_counts(by_name["dc"])) or
                        any(n >= 1 for n in pending_counts(st)),
                        f"cbcs status --json shows no job pending at a CA (one is, at dc): {r.out}")

if __name__ == "__main__":
    require_or_skip(os.path.exists(SIM), f"{SIM} is not built")
    unittest.main()
