"""A fault-injecting reverse proxy for a plain-HTTP service that has no fault
API of its own (moto_server): the CA simulators' faults (tests/sim/README.md,
"Generic admin API") as Python calls. Binds port 0 on loopback; `url` is what
the connector is pointed at. Not a test script itself."""

import http.client
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade",
              "content-length"}


class FaultProxy:
    """Forwards every request to upstream (http://host:port). A fault
    {method?, path_prefix?, count?=1, latency_ms?, status?, body?,
    retry_after?, reset?, garbage?, truncate?} acts on the next `count`
    matching requests, as the simulators' do; `requests()` lists what came in:
    [{method, target, body, status, fault}] (status 0: reset)."""

    def __init__(self, upstream, error_body='{"__type":"ServiceUnavailable","message":"injected fault"}'):
        host, port = upstream.split("://", 1)[1].rsplit(":", 1)
        self.upstream = (host, int(port))
        self.error_body = error_body
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_faults(self, faults):
        with self.lock:
            self.faults += [dict(f, count=f.get("count", 1)) for f in faults]

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def requests(self):
        with self.lock:
            return [dict(e) for e in self.log]

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f.get("method", method).upper() == method and path.startswith(f.get("path_prefix", "")):
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self.faults.remove(f)
                    return f
        return None

    def forward(self, method, target, headers, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP_BY_HOP], r.read()
        finally:
            conn.close()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _handler(proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def finish(self):
            try:
                super().finish()
            except OSError:
                pass

        def _reset(self):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _answer(self, status, headers, body, truncate=False):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if truncate:
                # Half the body, then a FIN (not a reset): the client sees the
                # stream end before Content-Length.
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.close()
                self.close_connection = True
                return
            self.wfile.write(body)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            entry = {"method": self.command, "target": self.path, "body": body.decode("utf-8", "replace"),
                     "status": 0, "fault": ""}
            with proxy.lock:
                proxy.log.append(entry)
            fault = proxy.take_fault(self.command, self.path.split("?", 1)[0])
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                if fault is None:
                    status, rh, rb = proxy.forward(self.command, self.path, headers, body)
                    entry["status"] = status
                    return self._answer(status, rh, rb)
                entry["fault"] = next(k for k in ("reset", "garbage", "truncate", "status", "latency_ms")
                                      if fault.get(k))
                if fault.get("reset"):
                    return self._reset()
                if fault.get("status"):
                    time.sleep(fault.get("latency_ms", 0) / 1000)
                    entry["status"] = fault["status"]
                    rh = [("Content-Type", "application/x-amz-json-1.1")]
                    if fault.get("retry_after"):
                        rh.append(("Retry-After", fault["retry_after"]))
                    return self._answer(fault["status"], rh, (fault.get("body") or proxy.error_body).encode())
                if fault.get("garbage"):
                    entry["status"] = 200
                    return self._answer(200, [("Content-Type", "application/x-amz-json-1.1")],
                                        b"}{ garbage from the fault proxy, not JSON <html>")
                # The service does its work at once; its answer is late or cut off.
                status, rh, rb = proxy.forward(self.command, self.path, headers, body)
                entry["status"] = status
                time.sleep(fault.get("latency_ms", 0) / 1000)
                return self._answer(status, rh, rb, truncate=bool(fault.get("truncate")))
            except OSError:
                self.close_connection = True  # the client gave up meanwhile

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    return Handler
