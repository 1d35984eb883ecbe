"""Every outbound connection through an authenticating HTTP proxy: Debian's
tinyproxy with Basic authentication on a free loopback port, in front of
moto_server (AWS Private CA). The proxy's own log proves the traffic crossed it."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CBCS, TempDirTest, cbcs, listening_socket, openssl,  # noqa: E402
                     listens_on, refused_port, require_or_skip, start_on_a_port)

TINYPROXY = shutil.which("tinyproxy")
USER, PASSWORD = "cbcs-proxy-user", "Pr0xy-pa55word-never-logged"


class Tinyproxy:
    """tinyproxy must be told its port (it refuses Port 0): the first start
    takes one the system just handed out, and counts as started only once
    tinyproxy's own process listens there (another if it could not bind
    it); a restart keeps it."""

    def __init__(self, directory):
        self.dir = directory
        self.port = None
        self.log = os.path.join(directory, "tinyproxy.log")
        self.conf = os.path.join(directory, "tinyproxy.conf")
        self.proc = None

    def _start_on(self, port):
        with open(self.conf, "w") as fh:
            fh.write(f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{self.log}"\n'
                     f"LogLevel Connect\nMaxClients 100\nBasicAuth {USER} {PASSWORD}\n")
        self.proc = subprocess.Popen([TINYPROXY, "-d", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and self.proc.poll() is None:
            if listens_on(self.proc.pid, port):  # ours, not another process's
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def start(self):
        if self.port is None:
            self.port = start_on_a_port(self._start_on)
        else:
            # The same port again (a restart): it was ours a moment ago.
            deadline = time.time() + 10
            while not self._start_on(self.port):
                if time.time() > deadline:
                    raise RuntimeError(f"tinyproxy could not listen on {self.port} again")
                time.sleep(0.2)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def connects_to(self, port):
        if not os.path.exists(self.log):
            return 0
        with open(self.log) as fh:
            return sum(1 for line in fh if f"CONNECT 127.0.0.1:{port} " in line)


def serve_garbage(s, stop):
    """A 'proxy' on listening socket s that answers anything with bytes that are not HTTP."""
    with s:
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            with conn:
                conn.recv(4096)
                conn.sendall(b"\x00\x01garbage that is not HTTP\r\n\r\n")


class ProxyTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        from test_acmpca_moto import Moto
        cls.moto = Moto()

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.proxy = Tinyproxy(self.tmp)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        r = cbcs("backend", "add", "-name", "aws", "-type", "acmpca", "-accesskeyid", self.moto.key_id,
                 "-secretaccesskey", "-", "-region", "us-east-1", "-endpoint", self.moto.url,
                 "-ca_arn", self.moto.ca_arn, data_dir=self.data, stdin=self.moto.secret + "\n")
        self.assertEqual(r.code, 0, r)

    def set_proxy(self, password=PASSWORD, port=None):
        r = cbcs("proxy", "set", "-type", "manual", "-addr", "127.0.0.1", "-port",
                 str(port or self.proxy.port), "-user", USER, "-password", "-",
                 data_dir=self.data, stdin=password + "\n")
        self.assertEqual(r.code, 0, r)

    def csr(self, name):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", f"/CN={name}.example", cwd=self.tmp)
        return self.path(name + ".csr")

    def assertNoPasswordAnywhere(self, *outputs):
        for out in outputs:
            self.assertNotIn(PASSWORD, out)
        for dirpath, _, files in os.walk(self.data):
            for f in files:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    self.assertNotIn(PASSWORD.encode(), fh.read(), f)

    def test_backend_traffic_crosses_the_proxy(self):
        self.set_proxy()
        shown = cbcs("proxy", "show", data_dir=self.data)
        self.assertIn("********", shown.out)
        as_json = json.loads(cbcs("proxy", "show", "--json", data_dir=self.data).out)
        self.assertEqual(as_json["type"], "manual")
        self.assertEqual(as_json["port"], self.proxy.port)
        before = self.proxy.connects_to(self.moto.port)
        r = cbcs("enroll", "-backend", "aws", "-csr", self.csr("p"), "-id", "via-proxy", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertGreater(self.proxy.connects_to(self.moto.port), before,
                           "the proxy's log shows no CONNECT to the CA")
        trace = cbcs("trace", "show", "-job", "via-proxy", data_dir=self.data)
        self.assertNoPasswordAnywhere(r.out, r.err, shown.out, trace.out)

    def test_wrong_password_fails_at_once(self):
        self.set_proxy(password="not-the-password")
        start = time.time()
        r = cbcs("enroll", "-backend", "aws", "-csr", self.csr("w"), "-id", "bad-proxy-pw", data_dir=self.data)
        self.assertOneLineError(r, 1, "proxy authentication failed")
        self.assertLess(time.time() - start, 20)
        timeline = cbcs("trace", "show", "-job", "bad-proxy-pw", data_dir=self.data).out
        self.assertEqual(timeline.count(" http "), 1, timeline)
        self.assertNotIn("not-the-password", r.err + timeline)

    def test_proxy_stopped_mid_batch_and_started_again(self):
        self.set_proxy()
        r = cbcs("backend", "remove", "-name", "aws", data_dir=self.data)
        r = cbcs("backend", "add", "-name", "aws", "-type", "acmpca", "-accesskeyid", self.moto.key_id,
                 "-secretaccesskey", "-", "-region", "us-east-1", "-endpoint", self.moto.url,
                 "-ca_arn", self.moto.ca_arn, "-ratelimit", "issue=6,get=20,describe=20",
                 data_dir=self.data, stdin=self.moto.secret + "\n")
        self.assertEqual(r.code, 0, r)
        with open(self.csr("b")) as fh:
            csr = fh.read()
        jobs = self.path("jobs.jsonl")
        with open(jobs, "w") as fh:
            for i in range(30):
                fh.write(json.dumps({"id": f"batch-{i}", "operation": "enroll", "backend": "aws",
                                     "csr": csr}) + "\n")
        before = len(self.moto.issue_tokens())
        proc = subprocess.Popen([CBCS, "jobs", "run", "-file", jobs, "--json", "--data-dir", self.data],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        self.proxy.stop()
        time.sleep(2.0)
        self.proxy.start()
        out, err = proc.communicate(timeout=240)
        self.assertEqual(proc.returncode, 0, err)
        results = [json.loads(line) for line in out.splitlines() if line.strip()]
        self.assertEqual(len(results), 30)
        self.assertTrue(all(r["result"]["outcome"] == "issued" for r in results), out)
        # A request that reached moto whose answer the outage swallowed is sent
        # again; moto ignores IdempotencyToken, AWS does not. What proves "never
        # issued twice" is that every job used one token, whatever it retried.
        tokens = self.moto.issue_tokens()[before:]
        self.assertGreaterEqual(len(tokens), 30)
        self.assertEqual(len(set(tokens)), 30, "a job's retry used a new idempotency token")
        retries = cbcs("trace", "show", "-backend", "aws", data_dir=self.data).out
        self.assertIn(" retry ", retries, "the outage should have caused retries")

    def test_proxy_test_reports_each_step(self):
        self.set_proxy()
        ok = cbcs("proxy", "test", "-target", self.moto.url + "/", data_dir=self.data)
        self.assertEqual(ok.code, 0, ok)
        for step in ("name resolution", "TCP to proxy", "proxy CONNECT", "HTTP reply", "verdict"):
            self.assertIn(step, ok.out)

        self.set_proxy(password="wrong")
        r = cbcs("proxy", "test", "-target", self.moto.url + "/", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("FAIL proxy CONNECT", r.out)
        self.assertIn("proxy authentication failed", r.out)

        held, port = refused_port()  # nothing listens there while it is held
        with held:
            self.set_proxy(port=port)
            r = cbcs("proxy", "test", "-target", self.moto.url + "/", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("FAIL TCP to proxy", r.out)

        garbage = listening_socket()
        garbage_port = garbage.getsockname()[1]
        stop = threading.Event()
        t = threading.Thread(target=serve_garbage, args=(garbage, stop), daemon=True)
        t.start()
        self.addCleanup(stop.set)
        self.set_proxy(port=garbage_port)
        r = cbcs("proxy", "test", "-target", self.moto.url + "/", data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("FAIL proxy CONNECT", r.out)
        self.assertIn("bad or no reply", r.out)
        self.assertNoPasswordAnywhere(ok.out, r.out)

    def test_tls_through_the_proxy_is_verified(self):
        # A TLS server with a self-signed certificate for "localhost".
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "srv.key", "-out", "srv.pem", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost", cwd=self.tmp)
        listener = listening_socket()
        port = listener.getsockname()[1]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.path("srv.pem"), self.path("srv.key"))
        stop = threading.Event()

        def serve():
            with listener as s:
                s.settimeout(0.2)
                while not stop.is_set():
                    try:
                        conn, _ = s.accept()
                    except socket.timeout:
                        continue
                    try:
                        with ctx.wrap_socket(conn, server_side=True) as tls:
                            tls.recv(4096)
                            tls.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                    except (ssl.SSLError, OSError):
                        pass

        threading.Thread(target=serve, daemon=True).start()
        self.addCleanup(stop.set)
        self.set_proxy()
        target = f"https://localhost:{port}/"
        r = cbcs("proxy", "test", "-target", target, data_dir=self.data)
        self.assertEqual(r.code, 1, r)
        self.assertIn("FAIL TLS handshake", r.out)
        self.assertIn("certificate", r.out)
        r = cbcs("proxy", "test", "-target", target, "-cacert", self.path("srv.pem"), data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("CN=localhost", r.out)
        self.assertIn("host name verified", r.out)

    def test_bad_proxy_settings_are_usage_errors(self):
        for args, fragment in ((("-type", "manual", "-port", "3128"), "-addr"),
                               (("-type", "manual", "-addr", "p", "-port", "99999"), "-port"),
                               (("-type", "manual", "-addr", "p", "-port", "1", "-password", "x"),
                                "needs a user"),
                               (("-type", "bogus",), "-type"),
                               (("-type", "direct", "-addr", "p"), "go with type manual")):
            self.assertOneLineError(cbcs("proxy", "set", *args, data_dir=self.data), 2, fragment)
        r = cbcs("proxy", "set", "-type", "0", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("direct", cbcs("proxy", "show", data_dir=self.data).out)




class ScmThroughProxyTest(TempDirTest):
    """Registration and the SCM session through the authenticating proxy."""

    def test_register_and_session_cross_the_proxy_and_survive_its_restart(self):
        from test_scm_link import Scm
        scm = Scm(self.path("scm"))
        self.addCleanup(scm.stop)
        proxy = Tinyproxy(self.tmp)
        proxy.start()
        self.addCleanup(proxy.stop)
        data = self.path("data")
        created = scm.call("POST", "/connectors", {"name": "proxied", "comments": ""})
        scm_port = int(scm.url.rsplit(":", 1)[1])
        # As an installer would: the proxy properties on the register command line.
        r = cbcs("register", "-token", "-", "-proxy-type", "1", "-proxy-addr", "127.0.0.1",
                 "-proxy-port", str(proxy.port), "-proxy-user", USER, "-proxy-password", "-",
                 data_dir=data, stdin=created["token"] + "\n" + PASSWORD + "\n")
        self.assertEqual(r.code, 0, r)
        self.assertIn("manual", cbcs("proxy", "show", data_dir=data).out)
        self.assertGreater(proxy.connects_to(scm_port), 0, "registration did not cross the proxy")
        cbcs("backend", "add", "-name", "local", "-type", "local", data_dir=data)
        runner = subprocess.Popen([CBCS, "run", "--data-dir", data], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (runner.terminate(), runner.wait()))

        def status():
            return scm.call("GET", f"/connectors/{created['id']}")["status"]

        def wait_for(predicate, what, seconds=60):
            deadline = time.time() + seconds
            while time.time() < deadline:
                if predicate():
                    return
                time.sleep(0.1)
            self.fail(f"timed out waiting for {what}")

        wait_for(lambda: status() == "Connected", "Connected through the proxy")
        sessions_before = proxy.connects_to(scm_port)
        proxy.stop()  # the tunnel dies with the proxy
        wait_for(lambda: status() == "Offline", "Offline after the proxy stopped")
        proxy.start()
        wait_for(lambda: status() == "Connected", "the session back through the proxy")
        self.assertGreater(proxy.connects_to(scm_port), sessions_before)
        scm.call("POST", f"/connectors/{created['id']}/jobs",
                 [{"id": "through-proxy", "operation": "test", "backend": "local"}])
        wait_for(lambda: any(r["job_id"] == "through-proxy" for r in
                             scm.call("GET", f"/connectors/{created['id']}/results")), "the result")


if __name__ == "__main__":
    require_or_skip(TINYPROXY is not None, "tinyproxy is not installed (apt-get install tinyproxy)")
    from test_acmpca_moto import MOTO, boto3
    require_or_skip(MOTO is not None and boto3 is not None, "moto_server/boto3 are not installed")
    unittest.main()
