#!/usr/bin/env python3
"""benchmarks/http_exchange: CPU per HTTP exchange of cbcs's HTTP client
against blocking sockets, both against a local server that answers like AWS
(a ~3 KB JSON body, then Connection: close, as moto does). The server runs in
this process; only the client's CPU is counted.

    python3 benchmarks/http_exchange.py --count 400
"""

import argparse
import http.server
import os
import socket
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("CBCS_BUILD_DIR", os.path.join(HERE, "..", "build"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answer = b'{"Certificate":"' + b"A" * 1400 + b'","CertificateChain":"' + b"B" * 1400 + b'"}'

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(self.answer)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=400)
    args = ap.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    program = os.path.join(BUILD, "bench_http_exchange")
    try:
        for mode, at_once in (("raw", 1), ("client", 1), ("client", 8)):
            out = subprocess.run([program, "--port", str(port), "--mode", mode, "--count",
                                  str(args.count), "--at-once", str(at_once)],
                                 capture_output=True, text=True, check=True)
            print(out.stdout.strip())
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
