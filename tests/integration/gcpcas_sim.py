"""`cbcs-sim gcpcas` for the integration tests: start it on free ports, read
its ready line, use its admin API (tests/sim/README.md)."""

import json
import os
import subprocess
import tempfile
import urllib.request

from harness import BUILD_DIR

SIM = os.path.join(BUILD_DIR, "cbcs-sim")


class GcpCasSim:
    def __init__(self, state_dir=None, *extra):
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="gcpcas-sim-")
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([SIM, "gcpcas", "--state-dir", self.state_dir, *extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError("cbcs-sim gcpcas did not start: " + self.log.read().decode())
        ready = json.loads(line)
        self.url = ready["url"]
        self.admin_url = ready["admin_url"]
        self.ca_file = ready["ca_file"]
        self.key_file = ready["key_file"]
        self.project = ready["project"]
        self.location = ready["location"]

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode() or "null")

    def stats(self):
        return self.admin("GET", "/stats")

    def requests(self, path_prefix=""):
        return self.admin("GET", "/requests?path_prefix=" + path_prefix)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.stdout.close()
        self.log.close()
