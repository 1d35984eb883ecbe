"""Metrics for monitoring (issue 28 item 5): `cbcs run` against the SCM
simulator with the local CA writes <data dir>/metrics.prom; a real parser
(prometheus_client's, Debian's python3-prometheus-client) reads it, and its
figures equal what SCM saw: jobs by operation and outcome, the link, the
identity certificate's expiry. Stopping SCM takes the link gauge to 0.

The service writes every 15 s; CBCS_TEST_METRICS_INTERVAL_MS shortens that
here to 200 ms."""

import json
import os
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import cbcs, require_or_skip  # noqa: E402
from operator_env import LocalCaConnectorTest, Service, scm_job, wait_until  # noqa: E402
from test_scm_link import WITH_APPROVAL_CA, add_approval_backend  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package, for a python3 that is not Debian's own (pyenv).
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

INTERVAL = {"CBCS_TEST_METRICS_INTERVAL_MS": "200"}


def parse(text):
    """{metric family name: [(sample name, labels, value)]}, by the real parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend((s.name, s.labels, s.value) for s in family.samples)
    return out


def samples(families, sample_name):
    return [(labels, value) for fam in families.values() for name, labels, value in fam
            if name == sample_name]


def value(families, sample_name, **labels):
    found = [v for ls, v in samples(families, sample_name) if ls == labels]
    return found[0] if found else None


class MetricsTest(LocalCaConnectorTest):
    def setUp(self):
        require_or_skip(text_string_to_metric_families is not None,
                        "prometheus_client is not installed (packaging/install-deps.sh installs "
                        "python3-prometheus-client)")
        super().setUp()
        self.file = os.path.join(self.data, "metrics.prom")

    def read(self):
        try:
            with open(self.file) as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def families_when(self, predicate, what, seconds=20):
        """The parsed file once predicate(families) holds."""
        def attempt():
            text = self.read()
            if text is None:
                return None
            families = parse(text)
            return families if predicate(families) else None
        families = wait_until(attempt, seconds)
        self.assertIsNotNone(families, f"timed out waiting for {what}; the file:\n{self.read()}")
        return families

    def identity_not_after(self):
        with open(os.path.join(self.data, "identity.json")) as fh:
            pem = json.load(fh)["certificate"]
        end = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=pem, text=True,
                             capture_output=True, check=True).stdout.strip().split("=", 1)[1]
        return ssl.cert_time_to_seconds(end)

    def test_counts_of_a_run_the_link_and_the_identity_expiry(self):
        service = Service(self.data, self.path("run.log"), env=INTERVAL)
        self.addCleanup(service.stop)
        self.assertTrue(wait_until(self.conn.connected, 30), service.text())
        enrolls = [scm_job(f"m-enroll-{i}", "local", self.csr) for i in range(20)]
        # Serials the local CA never issued: failed jobs, by their error class.
        revokes = [{"id": f"m-revoke-{i}", "operation": "revoke", "backend": "local",
                    "serial": f"7a{i:02x}", "reason": "superseded"} for i in range(3)]
        self.conn.submit(enrolls + revokes)
        total = len(enrolls) + len(revokes)
        self.assertTrue(wait_until(lambda: len(self.conn.results()) == total, 60),
                        self.conn.results())
        expected = {}
        for r in self.conn.results().values():
            o = r["outcome"]
            op = "enroll" if r["job_id"].startswith("m-enroll") else "revoke"
            key = (op, o["outcome"], o.get("error", "") if o["outcome"] == "failed" else "")
            expected[key] = expected.get(key, 0) + 1
        self.assertEqual(expected.get(("enroll", "issued", "")), 20, expected)

        def jobs(families):
            return {(ls["operation"], ls["outcome"], ls.get("error", "")): int(v)
                    for ls, v in samples(families, "cbcs_jobs_total") if ls["backend"] == "local"}
        families = self.families_when(
            lambda f: sum(jobs(f).values()) == total and
            value(f, "cbcs_job_duration_seconds_count", backend="local") == total, f"{total} jobs")
        self.assertEqual(jobs(families), expected)
        buckets = sorted(((float(ls["le"]), v) for ls, v in
                          samples(families, "cbcs_job_duration_seconds_bucket")
                          if ls["backend"] == "local"))
        self.assertEqual(buckets[-1], (float("inf"), total))
        self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets), "cumulative")
        self.assertGreater(value(families, "cbcs_journal_commit_seconds_count"), 0)
        self.assertEqual(value(families, "cbcs_journal_commit_failures_total"), 0)
        self.assertEqual(value(families, "cbcs_pending_orders", backend="local"), 0)
        self.assertEqual(value(families, "cbcs_oldest_pending_age_seconds", backend="local"), 0)
        self.assertEqual(value(families, "cbcs_breaker_open", backend="local"), 0)
        self.assertEqual(value(families, "cbcs_scm_link_up"), 1)
        self.assertEqual(value(families, "cbcs_scm_link_state", state="ready"), 1)
        self.assertEqual(value(families, "cbcs_scm_reconnects_total"), 0)
        self.assertEqual(value(families, "cbcs_certificate_expiry_timestamp_seconds",
                               kind="identity"), self.identity_not_after())
        self.assertEqual(samples(families, "cbcs_retries_total"), [])
        # Owner only, like every file of the data directory.
        self.assertEqual(os.stat(self.file).st_mode & 0o777, 0o600)

        self.conn.scm.stop()
        families = self.families_when(lambda f: value(f, "cbcs_scm_link_up") == 0, "the link down")
        self.assertIsNone(value(families, "cbcs_scm_link_state", state="ready"))
        self.assertEqual(service.stop(), 0)
        # The last write, at the stop.
        families = parse(self.read())
        self.assertEqual(value(families, "cbcs_scm_link_state", state="stopped"), 1)
        self.assertEqual(sum(jobs(families).values()), total)

    def test_pending_jobs_and_the_age_of_the_oldest(self):
        approvals = self.path("approvals")
        os.makedirs(approvals)
        r = add_approval_backend(self.data, approvals)
        self.assertEqual(r.returncode, 0, r.stderr)
        service = Service(self.data, self.path("run.log"), binary=WITH_APPROVAL_CA, env=INTERVAL)
        self.addCleanup(service.stop)
        self.assertTrue(wait_until(self.conn.connected, 30), service.text())
        ids = [f"m-wait-{i}" for i in range(3)]
        self.conn.submit([scm_job(i, "slow", self.csr) for i in ids])
        self.families_when(lambda f: value(f, "cbcs_pending_orders", backend="slow") == 3,
                           "3 jobs pending")
        # The oldest ages while it waits (whole seconds).
        self.families_when(
            lambda f: value(f, "cbcs_oldest_pending_age_seconds", backend="slow") >= 1,
            "the oldest a second old")
        for i in ids[:2]:
            open(os.path.join(approvals, i), "w").close()
        def issued(f):
            return value(f, "cbcs_jobs_total", backend="slow", operation="enroll", outcome="issued")
        # (One write may catch a job counted and not yet off the pending gauge.)
        families = self.families_when(
            lambda f: value(f, "cbcs_pending_orders", backend="slow") == 1 and issued(f) == 2,
            "1 job pending, 2 issued")
        self.assertGreaterEqual(value(families, "cbcs_oldest_pending_age_seconds", backend="slow"), 1)
        open(os.path.join(approvals, ids[2]), "w").close()
        families = self.families_when(
            lambda f: value(f, "cbcs_pending_orders", backend="slow") == 0 and issued(f) == 3,
            "none pending, 3 issued")
        self.assertEqual(value(families, "cbcs_oldest_pending_age_seconds", backend="slow"), 0)
        # They waited over a second: no job in the buckets below it.
        self.assertEqual(value(families, "cbcs_job_duration_seconds_bucket", backend="slow",
                               le="1.0"), 0)
        self.assertTrue(wait_until(lambda: len(self.conn.results()) == 3, 30))

    def test_metrics_file_option(self):
        r = cbcs("run", "-metrics-file", self.path("cbcs.txt"), data_dir=self.data)
        self.assertOneLineError(r, 2, "-metrics-file", "does not end in .prom")
        r = cbcs("run", "-metrics-file", self.path("nowhere", "cbcs.prom"), data_dir=self.data)
        self.assertOneLineError(r, 2, "-metrics-file", "is not a directory")
        collector_dir = self.path("textfile")
        os.makedirs(collector_dir)
        target = os.path.join(collector_dir, "cbcs.prom")
        service = Service(self.data, self.path("run.log"), extra=("-metrics-file", target),
                          env=INTERVAL)
        self.addCleanup(service.stop)
        self.assertTrue(wait_until(self.conn.connected, 30), service.text())
        self.file = target
        self.families_when(lambda f: value(f, "cbcs_scm_link_up") == 1, "the link up")
        # Readable by a collector running as another user; nothing in the data directory.
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o644)
        self.assertFalse(os.path.exists(os.path.join(self.data, "metrics.prom")))
        self.assertEqual(service.stop(), 0)


if __name__ == "__main__":
    unittest.main()
