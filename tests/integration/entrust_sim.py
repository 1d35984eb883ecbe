"""`cbcs-sim entrust` (tests/sim/entrust) as a library for tests: start it,
call ECS and the CA Gateway with the simulator's client certificate, and
use its admin API. Used by test_entrust_sim.py."""

import json
import os
import shutil
import subprocess
import tempfile

import requests

from harness import BUILD_DIR, admin_call

SIM = os.path.join(BUILD_DIR, "cbcs-sim")


class EntrustSim:
    def __init__(self, state_dir=None, *extra):
        self.own_dir = state_dir is None
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="cbcs-entrust-sim-")
        self.proc = subprocess.Popen([SIM, "entrust", "--state-dir", self.state_dir, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("cbcs-sim entrust printed no ready line")
        self.ready = json.loads(line)
        for k, v in self.ready.items():
            setattr(self, k, v)
        self.port = int(self.url.rsplit(":", 1)[1])
        self.session = requests.Session()
        # Per request: REQUESTS_CA_BUNDLE in the environment would override
        # Session.verify (requests' merge_environment_settings).
        self.tls = {"verify": self.ca_file, "cert": (self.client_cert, self.client_key)}

    def ecs(self, method, path, body=None, auth=None, **kw):
        """ECS (Basic auth with the simulator's credentials unless auth is given)."""
        return self.session.request(method, self.ecs_url + path, json=body,
                                    auth=auth or (self.username, self.api_key),
                                    **{"timeout": 10, **self.tls, **kw})

    def cagw(self, method, path, body=None, **kw):
        return self.session.request(method, self.cagw_url + path, json=body,
                                    **{"timeout": 10, **self.tls, **kw})

    def admin(self, method, path, body=None):
        return admin_call(self.admin_url, method, path, body)

    def stop(self):
        self.session.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        if self.own_dir:
            shutil.rmtree(self.state_dir, True)
