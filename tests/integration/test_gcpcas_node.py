"""The simulator speaks Google's API: Google's official Node.js clients,
@google-cloud/security-private-ca (REST fallback) and google-auth-library,
pinned in tests/integration/node/package-lock.json and installed with npm
into <build>/node-gcp, run against `cbcs-sim gcpcas` with its key file:
token, list pools, create a certificate, get it, revoke it. Skipped, with
the reason, when node or npm is missing or the install fails."""

import filecmp
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR, TempDirTest, openssl, require_or_skip  # noqa: E402
from gcpcas_sim import GcpCasSim  # noqa: E402

NODE_SRC = os.path.join(os.path.dirname(__file__), "node")
NODE_DIR = os.path.join(BUILD_DIR, "node-gcp")


def install_clients():
    """npm ci into NODE_DIR unless it holds this lock file's install already."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require_or_skip(node and npm, "node and npm are needed for Google's Node.js client (not found)")
    os.makedirs(NODE_DIR, exist_ok=True)
    lock = os.path.join(NODE_SRC, "package-lock.json")
    stamp = os.path.join(NODE_DIR, "installed-lock.json")
    if os.path.exists(stamp) and filecmp.cmp(lock, stamp, shallow=False) and \
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@google-cloud", "security-private-ca")):
        return node
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(NODE_SRC, name), NODE_DIR)
    try:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=NODE_DIR,
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        require_or_skip(False, "npm ci did not finish within 300 s (registry unreachable?)")
    lines = [x for x in (r.stderr + r.stdout).splitlines()
             if x.strip() and "complete log" not in x and not x.rstrip().endswith("-debug-0.log")]
    require_or_skip(r.returncode == 0,
                    f"npm ci failed (registry unreachable?): {lines[0] if lines else r.returncode}")
    shutil.copy(lock, stamp)
    return node


class GoogleNodeClientTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.node = install_clients()
        cls.sim = GcpCasSim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_token_pools_create_get_revoke(self):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "n.key", "-out", "n.csr", "-subj", "/CN=node.example", cwd=self.tmp)
        env = dict(os.environ, SIM_URL=self.sim.url, KEY_FILE=self.sim.key_file, PROJECT=self.sim.project,
                   LOCATION=self.sim.location, CSR_FILE=self.path("n.csr"),
                   NODE_EXTRA_CA_CERTS=self.sim.ca_file,
                   NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
        r = subprocess.run([self.node, os.path.join(NODE_SRC, "gcpcas_client.js")], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        seen = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertTrue(seen["token"].startswith("ya29.sim"), seen)
        self.assertEqual(seen["pools"], [{"name": "projects/test-project/locations/us-east1/caPools/pool-1",
                                          "tier": "ENTERPRISE"}])
        self.assertTrue(seen["created"]["pem"], seen)
        self.assertEqual(seen["created"]["chain"], 1)
        self.assertTrue(seen["got"]["same"], seen)
        self.assertEqual(seen["revoked"]["state"], "KEY_COMPROMISE")
        self.assertEqual(seen["not_found"]["code"], 404, seen)
        stats = self.sim.stats()
        # google-auth-library's token request, and Google's client's own
        # self-signed JWTs as bearers: the simulator verified both.
        self.assertEqual(stats["token_requests"], 1, stats)
        self.assertEqual(stats["token_refusals"], 0, stats)
        self.assertGreaterEqual(stats["self_signed_jwts"], 4, stats)
        self.assertEqual(stats["certificates_created"], 1, stats)
        self.assertEqual(stats["certificates_revoked"], 1, stats)
        targets = [x["target"] for x in self.sim.requests("/v1/")]
        self.assertTrue(any(":revoke" in t for t in targets), targets)


if __name__ == "__main__":
    unittest.main()
