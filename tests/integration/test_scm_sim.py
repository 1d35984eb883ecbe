"""The SCM simulator (`cbcs-sim scm`) against PROTOCOL.md, driven by a small
client written here from the document: registration over HTTPS, the session
as a hand-made WebSocket over mutual TLS, the admin API and its faults."""

import base64
import hashlib
import http.client
import json
import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

SIM = os.path.join(harness.BUILD_DIR, "cbcs-sim")
REGISTER = "/api/connector/v1/register"
DAY = 86400


class Sim:
    """A running `cbcs-sim scm` on free ports; stderr goes to a file in tmp."""

    def __init__(self, tmp, *extra):
        self.err = open(os.path.join(tmp, "sim.err"), "w")
        self.proc = subprocess.Popen([SIM, "scm", "--state-dir", os.path.join(tmp, "sim"), *extra],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError("cbcs-sim printed no ready line; see " + self.err.name)
        info = json.loads(line)
        self.scm_url, self.admin_url, self.ca_file = info["scm_url"], info["admin_url"], info["ca_file"]
        self.port = int(self.scm_url.rsplit(":", 1)[1])
        self.admin_port = int(self.admin_url.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()
        return self.proc.returncode

    def admin(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        conn.request(method, path, None if body is None else json.dumps(body),
                     {"Content-Type": "application/json"})
        res = conn.getresponse()
        data = json.loads(res.read() or b"null")
        conn.close()
        return res.status, data

    def ok(self, method, path, body=None):
        status, data = self.admin(method, path, body)
        assert status in (200, 201), (status, data)
        return data

    def connector(self, cid):
        return self.ok("GET", "/connectors/" + cid)

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.ca_file)  # the printed CA only
        return ctx

    def register(self, token, csr_pem, raw_body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls_context(), timeout=10)
        body = raw_body if raw_body is not None else json.dumps(
            {"token": token, "csr": csr_pem, "hostname": "it-host", "os": "linux",
             "os_version": "test", "version": "0.1.0-test"})
        conn.request("POST", REGISTER, body, {"Content-Type": "application/json"})
        res = conn.getresponse()
        data = json.loads(res.read())
        conn.close()
        return res.status, data


def new_key_and_csr(cn="ignored-by-scm"):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def write_identity(directory, stem, key, cert_pem):
    key_file = os.path.join(directory, stem + ".key")
    cert_file = os.path.join(directory, stem + ".pem")
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_file, "w") as f:
        f.write(cert_pem)
    return cert_file, key_file


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(scm_url):
    """A well-formed token SCM never issued."""
    payload = b64url(json.dumps({"scm": scm_url, "secret": b64url(os.urandom(32)),
                                 "exp": int(time.time()) + DAY}).encode())
    check = b64url(hashlib.sha256(("cbcs1." + payload).encode()).digest()[:6])
    return f"cbcs1.{payload}.{check}"


class Refused(Exception):
    """The upgrade was answered with something other than 101."""

    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class WsClient:
    """A minimal RFC 6455 client: text frames, masked, no extensions."""

    def __init__(self, sim, cert_file, key_file, path="/api/connector/v1/session"):
        ctx = sim.tls_context()
        ctx.load_cert_chain(cert_file, key_file)
        raw = socket.create_connection(("127.0.0.1", sim.port), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{sim.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        head = self._read_until(b"\r\n\r\n").decode()
        status = int(head.split(" ", 2)[1])
        if status != 101:
            length = next((int(h.split(":", 1)[1]) for h in head.split("\r\n")
                           if h.lower().startswith("content-length:")), 0)
            body = self._read_exact(length).decode()
            self.sock.close()
            raise Refused(status, body)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                               .encode()).digest()).decode()
        assert accept in head, head
        self.seq = 0

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def _read_until(self, marker):
        while marker not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, payload, opcode=1):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, msg):
        """Sends one message; seq is filled in."""
        self.seq += 1
        self.send_frame(json.dumps({**msg, "seq": self.seq}).encode())
        return self.seq

    def recv_frame(self, timeout=10):
        """(opcode, payload) of the next data or close frame; pings answered."""
        self.sock.settimeout(timeout)
        while True:
            b0, b1 = self._read_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            payload = self._read_exact(n)  # server frames are not masked
            opcode = b0 & 0x0F
            if opcode == 9:
                self.send_frame(payload, 10)
                continue
            if opcode == 10:
                continue
            return opcode, payload

    def recv(self, timeout=10, skip=("heartbeat", "heartbeat_ack")):
        """The next JSON message, heartbeats skipped."""
        while True:
            opcode, payload = self.recv_frame(timeout)
            if opcode == 8:
                raise ConnectionError("closed by SCM")
            msg = json.loads(payload)
            if msg.get("type") not in skip:
                return msg

    def hello(self, connector_id, version="0.1.0-test"):
        self.send({"type": "hello", "connector_id": connector_id, "version": version, "protocol": 1,
                   "backends": [{"name": "local", "type": "local", "health": "healthy"}]})
        return self.recv()

    def close(self):
        try:
            self.send_frame(struct.pack("!H", 1000), 8)
            self.recv_frame(5)
        except (OSError, ConnectionError, ValueError):
            pass
        self.sock.close()


def revoke_job(job_id):
    return {"id": job_id, "operation": "revoke", "backend": "local", "serial": "1f03a2",
            "reason": "keyCompromise"}


DONE = {"outcome": "done", "report": "{\"revoked\":true}"}


class ScmSimTest(harness.TempDirTest):
    def setUp(self):
        super().setUp()
        if not os.path.exists(SIM):
            self.skipTest(f"{SIM} is not built")
        self.sim = Sim(self.tmp)
        self.addCleanup(self.sim.stop)

    # --- helpers

    def new_connector(self, **extra):
        created = self.sim.ok("POST", "/connectors", {"name": "gw", "comments": "integration", **extra})
        self.assertEqual(created["status"], "Pending")
        return created["id"], created["token"]

    def registered(self, stem="id"):
        """A registered connector: (id, cert file, key file, registration reply)."""
        cid, token = self.new_connector()
        key, csr = new_key_and_csr()
        status, reply = self.sim.register(token, csr)
        self.assertEqual(status, 200, reply)
        cert_file, key_file = write_identity(self.tmp, stem, key, reply["certificate"])
        return cid, cert_file, key_file, reply

    def session(self, cid, cert_file, key_file):
        ws = WsClient(self.sim, cert_file, key_file)
        self.addCleanup(ws.close)
        ack = ws.hello(cid)
        self.assertEqual(ack["type"], "hello_ack", ack)
        return ws

    def wait_status(self, cid, status, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.sim.connector(cid)["status"] == status:
                return
            time.sleep(0.05)
        self.fail(f"{cid} never became {status}: {self.sim.connector(cid)}")

    # --- registration

    def test_registration_issues_a_30_day_certificate_for_the_csr_key(self):
        cid, token = self.new_connector()
        key, csr = new_key_and_csr()
        status, reply = self.sim.register(token, csr)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["connector_id"], cid)
        self.assertEqual(reply["session_url"], f"wss://127.0.0.1:{self.sim.port}/api/connector/v1/session")
        with open(self.sim.ca_file) as f:
            self.assertEqual(reply["scm_ca"], f.read())
        cert = x509.load_pem_x509_certificate(reply["certificate"].encode())
        ca = x509.load_pem_x509_certificate(reply["scm_ca"].encode())
        self.assertEqual(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value, cid)
        self.assertEqual(cert.issuer, ca.subject)
        self.assertEqual(cert.public_key().public_numbers(), key.public_key().public_numbers())
        life = cert.not_valid_after_utc - cert.not_valid_before_utc
        self.assertAlmostEqual(life.total_seconds(), 30 * DAY + 300, delta=60)
        # The token pins the CA that signs the server certificate.
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        self.assertEqual(payload["scm"], self.sim.scm_url)
        self.assertEqual(payload["ca_sha256"],
                         hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).hexdigest())
        self.assertEqual(self.sim.connector(cid)["version"], "0.1.0-test")

    def test_server_sends_its_ca_in_the_chain(self):
        # The connector pins the CA by fingerprint, so it must come in the chain.
        shown = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.sim.port}",
                                "-showcerts", "-CAfile", self.sim.ca_file, "-verify_return_error"],
                               input="", capture_output=True, text=True, timeout=30)
        self.assertEqual(shown.stdout.count("-----BEGIN CERTIFICATE-----"), 2, shown.stdout)
        self.assertIn("Verify return code: 0 (ok)", shown.stdout)

    def test_token_used_expired_unknown_and_bad_requests(self):
        cid, token = self.new_connector()
        key, csr = new_key_and_csr()
        first = self.sim.register(token, csr)
        self.assertEqual(first[0], 200)
        # A retry with the same key gets the same answer; another key is refused.
        self.assertEqual(self.sim.register(token, csr), first)
        status, err = self.sim.register(token, new_key_and_csr()[1])
        self.assertEqual((status, err["error"]), (409, "token_used"), err)

        status, err = self.sim.register(forged_token(self.sim.scm_url), csr)
        self.assertEqual((status, err["error"]), (401, "token_unknown"), err)
        status, err = self.sim.register("cbcs1.garbage.xxxxxxxx", csr)
        self.assertEqual((status, err["error"]), (401, "token_unknown"), err)

        _, short = self.new_connector(token_ttl_seconds=60)
        self.sim.ok("POST", "/clock", {"advance_seconds": 120})
        status, err = self.sim.register(short, csr)
        self.assertEqual((status, err["error"]), (401, "token_expired"), err)

        _, fresh = self.new_connector()
        status, err = self.sim.register(fresh, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                               "-----END CERTIFICATE REQUEST-----\n")
        self.assertEqual((status, err["error"]), (400, "csr_rejected"), err)
        status, err = self.sim.register(fresh, csr, raw_body='{"token": 1}')
        self.assertEqual((status, err["error"]), (400, "malformed_request"), err)
        # Failures did not use the token.
        self.assertEqual(self.sim.register(fresh, new_key_and_csr()[1])[0], 200)

    # --- session

    def test_session_job_and_result_round_trip_and_status(self):
        cid, cert_file, key_file, _ = self.registered()
        self.assertEqual(self.sim.connector(cid)["status"], "Pending")
        ws = WsClient(self.sim, cert_file, key_file)
        ack = ws.hello(cid, version="9.9.9")
        self.assertEqual(ack["type"], "hello_ack")
        self.assertEqual(ack["protocol"], 1)
        self.assertEqual(ack["seq"], 1)
        self.assertEqual(ack["heartbeat_interval_ms"], 15000)
        self.assertLess(abs(ack["server_time_ms"] - time.time() * 1000), 60000)
        info = self.sim.connector(cid)
        self.assertEqual((info["status"], info["version"]), ("Connected", "9.9.9"))
        self.assertEqual(info["backends"][0]["name"], "local")

        accepted = self.sim.ok("POST", f"/connectors/{cid}/jobs", revoke_job("job-1"))
        self.assertEqual(accepted["accepted"], ["job-1"])
        job = ws.recv()
        self.assertEqual(job["type"], "job", job)
        self.assertEqual(job["job"]["id"], "job-1")
        self.assertEqual(job["job"]["operation"], "revoke")
        self.assertTrue(job["lease_id"])
        self.assertGreater(job["lease_expires_at_ms"], ack["server_time_ms"])
        ws.send({"type": "job_ack", "job_id": "job-1", "lease_id": job["lease_id"], "accepted": True})
        ws.send({"type": "heartbeat", "time_ms": int(time.time() * 1000)})
        hb = ws.recv(skip=())
        self.assertEqual((hb["type"], hb["ack"]), ("heartbeat_ack", ws.seq))
        ws.send({"type": "result", "job_id": "job-1", "outcome": DONE})
        self.assertEqual(ws.recv(), {"type": "result_ack", "seq": hb["seq"] + 1, "job_id": "job-1"})

        results = self.sim.ok("GET", f"/connectors/{cid}/results")
        self.assertEqual(len(results), 1)
        self.assertEqual((results[0]["job_id"], results[0]["count"]), ("job-1", 1))
        self.assertEqual(results[0]["outcome"]["outcome"], "done")
        detail = self.sim.ok("GET", f"/connectors/{cid}/jobs/job-1")
        self.assertEqual((detail["state"], detail["deliveries"], detail["acks"]), ("done", 1, 1))

        ws.close()
        self.wait_status(cid, "Offline")

    def test_foreign_certificate_is_refused(self):
        cid, _, _, _ = self.registered()
        # A certificate naming the connector, but from a CA that is not SCM's.
        key_file, cert_file = harness.make_key_and_cert(self.tmp, "foreign", cid)
        with self.assertRaises(Refused) as refused:
            WsClient(self.sim, cert_file, key_file)
        self.assertEqual(refused.exception.status, 403)
        self.assertIn("not issued by the SCM CA", refused.exception.body)
        self.assertEqual(self.sim.connector(cid)["status"], "Pending")

    def test_session_without_client_certificate_is_refused(self):
        with socket.create_connection(("127.0.0.1", self.sim.port), timeout=10) as raw:
            tls = self.sim.tls_context().wrap_socket(raw, server_hostname="127.0.0.1")
            self.addCleanup(tls.close)
            tls.sendall(b"GET /api/connector/v1/session HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        b"Sec-WebSocket-Version: 13\r\n\r\n")
            reply = tls.recv(4096).decode()
            self.assertIn("403", reply.split("\r\n")[0])
            self.assertIn("client certificate is required", reply)

    def test_expired_identity_is_refused_and_restore_re_registers(self):
        cid, cert_file, key_file, _ = self.registered()
        self.session(cid, cert_file, key_file).close()
        self.sim.ok("POST", "/clock", {"advance_seconds": 31 * DAY})
        self.assertTrue(self.sim.connector(cid)["certificate_expired"])
        with self.assertRaises(Refused) as refused:
            WsClient(self.sim, cert_file, key_file)
        self.assertEqual(refused.exception.status, 403)
        self.assertIn("expired", refused.exception.body)

        token = self.sim.ok("POST", f"/connectors/{cid}/restore")["token"]
        key, csr = new_key_and_csr()
        status, reply = self.sim.register(token, csr)
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["connector_id"], cid)
        cert_file, key_file = write_identity(self.tmp, "restored", key, reply["certificate"])
        self.session(cid, cert_file, key_file)
        self.wait_status(cid, "Connected")
        self.assertFalse(self.sim.connector(cid)["certificate_expired"])

    def test_renew_identity(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = self.session(cid, cert_file, key_file)
        key, csr = new_key_and_csr()
        ws.send({"type": "renew_identity", "csr": csr})
        identity = ws.recv()
        self.assertEqual(identity["type"], "identity", identity)
        cert = x509.load_pem_x509_certificate(identity["certificate"].encode())
        self.assertEqual(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value, cid)
        self.assertEqual(cert.public_key().public_numbers(), key.public_key().public_numbers())
        bad = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
        seq = ws.send({"type": "renew_identity", "csr": bad})
        err = ws.recv()
        self.assertEqual((err["type"], err["code"], err["ref_seq"]), ("error", "renewal_refused", seq))
        self.sim.ok("POST", "/faults", {"refuse_renewal": True})
        seq = ws.send({"type": "renew_identity", "csr": csr})
        err = ws.recv()
        self.assertEqual((err["type"], err["code"], err["ref_seq"]), ("error", "renewal_refused", seq))

    def test_protocol_errors_are_answered(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = WsClient(self.sim, cert_file, key_file)
        self.addCleanup(ws.close)
        seq = ws.send({"type": "job_ack", "job_id": "x", "lease_id": "l", "accepted": True})
        err = ws.recv()
        self.assertEqual((err["code"], err["ref_seq"]), ("out_of_state", seq), err)
        self.assertEqual(ws.hello(cid)["type"], "hello_ack")
        seq = ws.send({"type": "resize"})
        err = ws.recv()
        self.assertEqual((err["code"], err["ref_seq"]), ("unsupported_type", seq), err)
        ws.send_frame(b"{not json")
        self.assertEqual(ws.recv()["code"], "malformed")
        ws.send_frame(b"\x01\x02", opcode=2)
        self.assertEqual(ws.recv()["code"], "malformed")
        seq = ws.send({"type": "result", "job_id": "nope", "outcome": DONE})
        err = ws.recv()
        self.assertEqual((err["code"], err["job_id"]), ("unknown_job", "nope"), err)
        # An error frame is never answered, even a malformed one.
        ws.send({"type": "error", "code": 5})
        ws.send({"type": "heartbeat", "time_ms": 1})
        self.assertEqual(ws.recv(skip=())["type"], "heartbeat_ack")

    def test_too_large_and_too_many_malformed_frames(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = self.session(cid, cert_file, key_file)
        big = json.dumps({"type": "heartbeat", "seq": 2, "time_ms": 1, "pad": "x" * (1 << 20)})
        ws.send_frame(big.encode())
        self.assertEqual(ws.recv()["code"], "too_large")
        for _ in range(11):
            ws.send_frame(b"[not json")
        codes = [ws.recv() for _ in range(12)]
        self.assertEqual([m.get("code") for m in codes[:11]], ["malformed"] * 11)
        self.assertEqual((codes[11]["type"], codes[11]["reason"]), ("bye", "protocol_error"))

    def test_hello_with_another_connector_id_is_a_protocol_error(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = WsClient(self.sim, cert_file, key_file)
        self.addCleanup(ws.close)
        self.assertEqual(ws.hello("c-someoneelse")["type"], "error")
        bye = ws.recv()
        self.assertEqual((bye["type"], bye["reason"]), ("bye", "protocol_error"))

    # --- delivery

    def test_jobs_queue_while_offline_and_unacked_jobs_are_resent(self):
        cid, cert_file, key_file, _ = self.registered()
        self.sim.ok("POST", f"/connectors/{cid}/jobs", [revoke_job("job-a"), revoke_job("job-b")])
        ws = self.session(cid, cert_file, key_file)
        a, b = ws.recv(), ws.recv()
        self.assertEqual([a["job"]["id"], b["job"]["id"]], ["job-a", "job-b"])
        ws.send({"type": "job_ack", "job_id": "job-a", "lease_id": a["lease_id"], "accepted": True})
        ws.send({"type": "heartbeat", "time_ms": 1})
        ws.recv(skip=())  # the ack of job-a has been handled
        ws.close()
        self.wait_status(cid, "Offline")

        ws = self.session(cid, cert_file, key_file)
        again = ws.recv()
        self.assertEqual(again["job"]["id"], "job-b")  # only the unacknowledged one
        self.assertNotEqual(again["lease_id"], b["lease_id"])
        # Results are acknowledged every time; the first is kept and counted.
        for _ in range(2):
            ws.send({"type": "result", "job_id": "job-a", "outcome": DONE})
            self.assertEqual(ws.recv()["type"], "result_ack")
        ws.send({"type": "result", "job_id": "job-a",
                 "outcome": {"outcome": "failed", "error": "internal", "message": "late"}})
        self.assertEqual(ws.recv()["type"], "result_ack")
        results = self.sim.ok("GET", f"/connectors/{cid}/results")
        self.assertEqual(results[0]["count"], 3)
        self.assertEqual(results[0]["outcome"]["outcome"], "done")
        self.assertEqual(self.sim.ok("GET", f"/connectors/{cid}/jobs/job-b")["deliveries"], 2)

    def test_delete_says_bye_deregistered(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = self.session(cid, cert_file, key_file)
        self.sim.ok("DELETE", f"/connectors/{cid}")
        bye = ws.recv()
        self.assertEqual((bye["type"], bye["reason"]), ("bye", "deregistered"))
        self.assertEqual(self.sim.admin("GET", f"/connectors/{cid}")[0], 404)

    # --- faults

    def test_faults(self):
        cid, cert_file, key_file, _ = self.registered()
        ws = self.session(cid, cert_file, key_file)
        self.sim.ok("POST", "/faults", {"garbage_frames": 2})
        for _ in range(2):
            opcode, payload = ws.recv_frame()
            self.assertEqual(opcode, 1)
            self.assertRaises(ValueError, json.loads, payload)

        self.sim.ok("POST", "/faults", {"duplicate_frames": True, "delay_ms": 200})
        started = time.time()
        self.sim.ok("POST", f"/connectors/{cid}/jobs", revoke_job("job-d"))
        first, second = ws.recv(), ws.recv()
        self.assertEqual(first, second)
        self.assertGreaterEqual(time.time() - started, 0.35)
        self.sim.ok("POST", "/faults", {"reset": True})

        self.sim.ok("POST", "/faults", {"drop_session": True})
        with self.assertRaises((ConnectionError, OSError)):
            ws.recv(timeout=5)
        self.wait_status(cid, "Offline")
        ws = self.session(cid, cert_file, key_file)
        self.assertEqual(ws.recv()["job"]["id"], "job-d")  # never acknowledged: sent again

    def test_stops_cleanly_on_sigterm(self):
        self.assertEqual(self.sim.stop(), 0)


if __name__ == "__main__":
    unittest.main()
