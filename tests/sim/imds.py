#!/usr/bin/env python3
"""EC2 instance metadata service, IMDSv2 with tokens required, as AWS documents
it ("Use the Instance Metadata Service to access instance metadata" and
"Retrieve security credentials from instance metadata"), for the parts an
SDK uses to get the instance role's keys. Loopback only.

    PUT /latest/api/token                 X-aws-ec2-metadata-token-ttl-seconds: 1..21600
        -> 200 token; 400 without a valid TTL; 403 with X-Forwarded-For
    GET /latest/meta-data/iam/security-credentials/       -> 200 "ROLE" (404 without a role)
    GET /latest/meta-data/iam/security-credentials/ROLE   -> 200 {"Code":"Success", ...}
        every GET needs X-aws-ec2-metadata-token: a valid, unexpired token, else 401

As a library: ImdsSimulator(role, keys).start() serves on a free port;
.requests lists (method, path) of every request. As a script:
    python3 tests/sim/imds.py --role R --keys keys.json [--port 0]
prints {"url": ...} and serves until SIGTERM.
"""

import argparse
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIALS = "/latest/meta-data/iam/security-credentials/"


class ImdsSimulator:
    def __init__(self, role=None, keys=None):
        """role: the attached role's name (None: no role). keys: dict with
        AccessKeyId, SecretAccessKey, Token, Expiration (ISO 8601), or a
        callable returning one."""
        self.role = role
        self.keys = keys
        self.tokens = {}  # token -> expiry (monotonic seconds)
        self.requests = []
        self.lock = threading.Lock()
        self.server = None

    def start(self, port=0):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body="", content_type="text/plain"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                sim.record("PUT", self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path != "/latest/api/token":
                    return self.reply(404, "Not Found")
                if self.headers.get("X-Forwarded-For"):
                    return self.reply(403, "Forbidden")
                try:
                    ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
                except ValueError:
                    ttl = 0
                if not 1 <= ttl <= 21600:
                    return self.reply(400, "Bad Request")
                token = "AQAE" + secrets.token_urlsafe(40)
                with sim.lock:
                    sim.tokens[token] = time.monotonic() + ttl
                self.reply(200, token)

            def do_GET(self):
                sim.record("GET", self.path)
                token = self.headers.get("X-aws-ec2-metadata-token", "")
                with sim.lock:
                    valid = sim.tokens.get(token, 0) > time.monotonic()
                if not valid:
                    return self.reply(401, "Unauthorized")
                if self.path == CREDENTIALS:
                    return self.reply(200, sim.role) if sim.role else self.reply(404, "Not Found")
                if sim.role and self.path == CREDENTIALS + sim.role:
                    keys = sim.keys() if callable(sim.keys) else sim.keys
                    body = dict(Code="Success", LastUpdated=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                Type="AWS-HMAC", **keys)
                    return self.reply(200, json.dumps(body), "application/json")
                self.reply(404, "Not Found")

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def record(self, method, path):
        with self.lock:
            self.requests.append((method, path))

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--role")
    ap.add_argument("--keys", help="JSON file: AccessKeyId, SecretAccessKey, Token, Expiration")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    keys = json.load(open(args.keys)) if args.keys else None
    sim = ImdsSimulator(args.role, keys).start(args.port)
    print(json.dumps({"url": sim.url}), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
