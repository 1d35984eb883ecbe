"""The Entrust simulator itself (`cbcs-sim entrust`, tests/sim/entrust), driven
directly with Python's requests/ssl, without the connector: the client
certificate demanded at the handshake, ECS's Basic auth, issue / queue /
approve / decline, the 30-day renewal rule, reissue keeping the expiry, the
revocation reason rule, lists with filters, the CA Gateway, throttling and
faults, and the admin counters the driver's exactly-once tests rely on."""

import base64
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest

import requests

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, openssl  # noqa: E402
from entrust_sim import EntrustSim  # noqa: E402

TRACKING = {"requesterName": "Test Person", "requesterEmail": "test@example.com",
            "requesterPhone": "+1 555 0100"}


def cert_serial(pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem,
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=")[1]


def cert_enddate(pem):
    return subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=pem,
                          capture_output=True, text=True, check=True).stdout.strip()


class EntrustSimTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = EntrustSim()
        cls.csr_dir = os.path.join(cls.sim.state_dir, "csrs")
        os.makedirs(cls.csr_dir)
        cls.csrs = {}
        for name in ("a", "b"):
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", name + ".key", "-out", name + ".csr", "-subj",
                    f"/CN={name}.example.com", cwd=cls.csr_dir)
            with open(os.path.join(cls.csr_dir, name + ".csr")) as fh:
                cls.csrs[name] = fh.read()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        super().setUp()
        self.sim.admin("POST", "/reset")

    def order(self, csr="a", info="job-1", expect=201, **extra):
        body = {"csr": self.csrs[csr], "certType": "STANDARD_SSL", "certLifetime": "P1Y",
                "tracking": dict(TRACKING, trackingInfo=info), **extra}
        body = {k: v for k, v in body.items() if v is not None}
        r = self.sim.ecs("POST", "/certificates", body)
        self.assertEqual(r.status_code, expect, r.text)
        return r.json()

    def assert_ecs_error(self, r, status, words):
        self.assertEqual(r.status_code, status, r.text)
        body = r.json()
        self.assertEqual(body["status"], status)
        self.assertIn(words, body["errors"][0]["message"])

    def raw_exchange(self, cert=None, max_version=None):
        """One TLS connection and one request: the answer's bytes, or the error."""
        ctx = ssl.create_default_context(cafile=self.sim.ca_file)
        if max_version:
            ctx.maximum_version = max_version
        if cert:
            ctx.load_cert_chain(*cert)
        try:
            with socket.create_connection(("127.0.0.1", self.sim.port), timeout=5) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    t.sendall(b"GET /enterprise/v2/application/version HTTP/1.1\r\n"
                              b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    return t.recv(4096)
        except (ssl.SSLError, ConnectionError) as e:
            return e

    # ---- TLS and credentials ----

    def test_client_certificate_is_demanded_at_the_handshake(self):
        good = self.raw_exchange((self.sim.client_cert, self.sim.client_key))
        self.assertIsInstance(good, bytes)
        self.assertTrue(good.startswith(b"HTTP/1.1 401"), good)  # no Basic auth sent
        for version in (None, ssl.TLSVersion.TLSv1_2):
            for cert in (None, (self.sim.other_client_cert, self.sim.other_client_key)):
                refused = self.raw_exchange(cert, version)
                # A TLS alert (certificate required, unknown CA, handshake
                # failure); with TLS 1.3 the client reads it after its side of
                # the handshake. Either way no HTTP answer.
                self.assertIsInstance(refused, (ssl.SSLError, ConnectionResetError), (version, cert))
        with self.assertRaises(requests.exceptions.RequestException):
            requests.get(self.sim.ecs_url + "/application/version", verify=self.sim.ca_file,
                         auth=(self.sim.username, self.sim.api_key), timeout=5)
        with self.assertRaises(requests.exceptions.RequestException):
            requests.get(self.sim.cagw_url + "/v1/certificate-authorities", verify=self.sim.ca_file,
                         cert=(self.sim.other_client_cert, self.sim.other_client_key), timeout=5)
        # Only the good connection reached HTTP.
        self.assertEqual(len(self.sim.admin("GET", "/requests")), 1)

    def test_basic_auth(self):
        r = self.sim.ecs("GET", "/application/version")
        self.assertEqual(r.status_code, 200, r.text)
        self.assert_ecs_error(self.sim.ecs("GET", "/organizations", auth=(self.sim.username, "wrong")),
                              401, "Invalid")
        self.assert_ecs_error(self.sim.ecs("GET", "/organizations", auth=("someone", self.sim.api_key)),
                              401, "Invalid")
        r = self.sim.session.get(self.sim.ecs_url + "/inventories", timeout=5, **self.sim.tls)
        self.assert_ecs_error(r, 401, "Invalid")
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["ecs_unauthorized"], 3)
        for path, key in (("/organizations", "organizations"), ("/clients", "clients"),
                          ("/clients/1/domains", "domains"), ("/inventories", "inventories")):
            r = self.sim.ecs("GET", path)
            self.assertEqual(r.status_code, 200, r.text)
            self.assertTrue(r.json()[key], r.text)

    def test_client_domains_page_and_filter(self):
        r = self.sim.ecs("GET", "/clients/1/domains?offset=1&limit=2")
        self.assertEqual(r.status_code, 200, r.text)
        page = r.json()
        self.assertEqual((page["summary"]["offset"], page["summary"]["limit"],
                          page["summary"]["total"]), (1, 2, 4))
        self.assertEqual([d["domainName"] for d in page["domains"]], ["example.net", "example.org"])
        # First verification: no eligibility yet (ecs_domain's RETURN).
        self.assertNotIn("ovEligible", page["domains"][1])
        r = self.sim.ecs("GET", "/clients/1/domains?verificationStatus=APPROVED")
        self.assertEqual([d["domainName"] for d in r.json()["domains"]], ["example.com"])
        self.assert_ecs_error(self.sim.ecs("GET", "/clients/1/domains?limit=0"), 400, "limit")
        self.assert_ecs_error(self.sim.ecs("GET", "/clients/2/domains"), 404, "Client")

    # ---- ECS ----

    def test_issue_get_and_list(self):
        placed = self.order(info="job-1")
        self.assertEqual(set(placed), {"trackingId", "endEntityCert", "chainCerts", "serialNumber",
                                       "expiresAfter"})
        serial = placed["serialNumber"]
        self.assertEqual(serial, serial.upper())
        self.assertNotEqual(serial[0], "0")
        self.assertEqual(serial, cert_serial(placed["endEntityCert"]).lstrip("0"))
        self.assertEqual(len(placed["chainCerts"]), 3)
        self.assertEqual(placed["chainCerts"][0], placed["endEntityCert"])
        # A real chain: leaf, intermediate, the root in issuing_root_file.
        with open(self.path("inter.pem"), "w") as fh:
            fh.write(placed["chainCerts"][1])
        with open(self.path("leaf.pem"), "w") as fh:
            fh.write(placed["endEntityCert"])
        with open(self.sim.issuing_root_file) as fh:
            self.assertEqual(fh.read(), placed["chainCerts"][2])
        subprocess.run(["openssl", "verify", "-CAfile", self.sim.issuing_root_file, "-untrusted",
                        self.path("inter.pem"), self.path("leaf.pem")], check=True,
                       capture_output=True)
        got = self.sim.ecs("GET", f"/certificates/{placed['trackingId']}").json()
        self.assertEqual(got["status"], "ACTIVE")
        self.assertEqual(got["tracking"]["trackingInfo"], "job-1")
        self.assertEqual(got["endEntityCert"], placed["endEntityCert"])
        other = self.order(csr="b", info="job-2")
        for query, expected in ((f"serialNumber={serial}", [placed]),
                                (f"serialNumber=00{serial.lower()}", [placed]),
                                ("trackingInfo=job-2", [other]),
                                ("status=ACTIVE", [placed, other]),
                                ("status=REVOKED", []),
                                ("limit=1&offset=1", [other])):
            r = self.sim.ecs("GET", "/certificates?" + query)
            self.assertEqual(r.status_code, 200, r.text)
            body = r.json()
            self.assertEqual([c["trackingId"] for c in body["certificates"]],
                             [e["trackingId"] for e in expected], query)
            self.assertIn("total", body["summary"])
        self.assertEqual(self.sim.ecs("GET", "/certificates?limit=1").json()["summary"]["total"], 2)
        self.assert_ecs_error(self.sim.ecs("GET", "/certificates?limit=1001"), 400, "limit")
        self.assert_ecs_error(self.sim.ecs("GET", "/certificates/999"), 404, "not found")
        bad = self.sim.ecs("POST", "/certificates", {"csr": "nope", "tracking": TRACKING})
        self.assert_ecs_error(bad, 400, "csr")
        no_phone = {k: v for k, v in TRACKING.items() if k != "requesterPhone"}
        r = self.sim.ecs("POST", "/certificates", {"csr": self.csrs["a"], "tracking": no_phone})
        self.assert_ecs_error(r, 400, "requesterPhone")

    def test_order_fields(self):
        # validateOnly as Entrust's ansible module sends it (a string): 200, nothing ordered.
        r = self.sim.ecs("POST", "/certificates", {"csr": self.csrs["a"], "validateOnly": "true",
                                                   "tracking": TRACKING})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["ecs_orders"], 0)
        # A certExpiryDate with a time is read in US Eastern: 02:00Z is the day before.
        placed = self.order(certLifetime=None, certExpiryDate="2027-06-10T02:00:00.00Z")
        self.assertEqual(placed["expiresAfter"], "2027-06-09T00:00:00Z")
        placed = self.order(certLifetime=None, certExpiryDate="2027-06-10")
        self.assertEqual(placed["expiresAfter"], "2027-06-10T00:00:00Z")
        # certLifetime wins over certExpiryDate; public TLS at most 398 days.
        self.order(certLifetime="P2Y", expect=400)
        self.order(certType="PRIVATE_SSL", certLifetime="P2Y")
        self.order(ou=["a", "b"], expect=400)
        self.order(eku="CODE", expect=400)
        self.order(certType="NOPE_SSL", expect=400)

    def test_queue_approve_and_decline(self):
        self.assertEqual(self.sim.admin("PUT", "/admin/approval", {"mode": "queue"})["mode"], "queue")
        queued = self.order(expect=202, info="q-1")
        self.assertEqual(set(queued), {"trackingId"})
        tid = queued["trackingId"]
        got = self.sim.ecs("GET", f"/certificates/{tid}").json()
        self.assertEqual(got["status"], "PENDING")
        self.assertNotIn("endEntityCert", got)
        r = self.sim.ecs("PATCH", f"/certificates/{tid}", {"operation": "APPROVE"})
        self.assertEqual(r.status_code, 200, r.text)
        got = self.sim.ecs("GET", f"/certificates/{tid}").json()
        self.assertEqual(got["status"], "ACTIVE")
        self.assertIn("BEGIN CERTIFICATE", got["endEntityCert"])
        self.assert_ecs_error(self.sim.ecs("PATCH", f"/certificates/{tid}", {"operation": "DECLINE"}),
                              400, "not PENDING")
        second = self.order(expect=202, info="q-2")["trackingId"]
        r = self.sim.ecs("PATCH", f"/certificates/{second}",
                         {"operation": "DECLINE", "declineReason": "no"})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{second}").json()["status"], "DECLINED")
        # The admin approves and declines too.
        third = self.order(expect=202, info="q-3")["trackingId"]
        self.assertEqual(self.sim.admin("POST", f"/admin/orders/{third}/approve")["status"], "ACTIVE")
        fourth = self.order(expect=202, info="q-4")["trackingId"]
        self.assertEqual(self.sim.admin("POST", f"/admin/orders/{fourth}/decline",
                                        {"declineReason": "policy"})["declineReason"], "policy")
        # Decline mode: queued, then declined by the approver.
        self.sim.admin("PUT", "/admin/approval", {"mode": "decline"})
        declined = self.order(expect=202, info="d-1")["trackingId"]
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{declined}").json()["status"], "DECLINED")
        # Issue mode, but queueForApproval asked.
        self.sim.admin("PUT", "/admin/approval", {"mode": "issue"})
        self.order(expect=202, info="q-5", queueForApproval=True)
        stats = self.sim.admin("GET", "/admin/stats")
        self.assertEqual((stats["ecs_orders"], stats["ecs_queued"], stats["ecs_approved"],
                          stats["ecs_declined"], stats["ecs_issued"]), (6, 6, 2, 3, 2))

    def test_renewal_refused_within_30_days_then_renewed(self):
        placed = self.order()
        tid = placed["trackingId"]
        r = self.sim.ecs("POST", f"/certificates/{tid}/renewals", {"csr": self.csrs["b"]})
        self.assert_ecs_error(r, 400, "within 30 days")
        self.sim.admin("POST", "/admin/clock", {"advance_seconds": 31 * 86400})
        r = self.sim.ecs("POST", f"/certificates/{tid}/renewals",
                         {"csr": self.csrs["b"], "certLifetime": "P1Y"})
        self.assertEqual(r.status_code, 201, r.text)
        renewed = r.json()
        self.assertNotEqual(renewed["trackingId"], tid)
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{tid}").json()["status"], "RENEWED")
        r = self.sim.ecs("POST", f"/certificates/{tid}/renewals", {})
        self.assert_ecs_error(r, 400, "RENEWED")
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["ecs_renewals"], 1)

    def test_reissue_keeps_the_expiry(self):
        placed = self.order()
        tid = placed["trackingId"]
        r = self.sim.ecs("POST", f"/certificates/{tid}/reissues",
                         {"csr": self.csrs["b"], "certLifetime": "P1Y"})
        self.assert_ecs_error(r, 400, "reissue")
        r = self.sim.ecs("POST", f"/certificates/{tid}/reissues", {"csr": self.csrs["b"]})
        self.assertEqual(r.status_code, 201, r.text)
        new = r.json()
        self.assertEqual(new["expiresAfter"], placed["expiresAfter"])
        self.assertEqual(cert_enddate(new["endEntityCert"]), cert_enddate(placed["endEntityCert"]))
        self.assertNotEqual(new["serialNumber"], placed["serialNumber"])
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{tid}").json()["status"], "REISSUED")
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{new['trackingId']}").json()["status"],
                         "ACTIVE")

    def test_revocation_reasons(self):
        tid = self.order()["trackingId"]
        for reason in ("superseded", "cessationOfOperation", "affiliationChanged", ""):
            r = self.sim.ecs("POST", f"/certificates/{tid}/revocations",
                             {"crlReason": reason, "revocationComment": "test"})
            self.assert_ecs_error(r, 400, "keyCompromise or unspecified")
        self.assertEqual(self.sim.ecs("GET", f"/certificates/{tid}").json()["status"], "ACTIVE")
        r = self.sim.ecs("POST", f"/certificates/{tid}/revocations",
                         {"crlReason": "keyCompromise", "revocationComment": "lost laptop"})
        self.assertEqual(r.status_code, 200, r.text)
        got = self.sim.ecs("GET", f"/certificates/{tid}").json()
        self.assertEqual((got["status"], got["crlReason"]), ("REVOKED", "keyCompromise"))
        r = self.sim.ecs("POST", f"/certificates/{tid}/revocations", {"crlReason": "unspecified"})
        self.assert_ecs_error(r, 400, "already revoked")
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["ecs_revocations"], 1)

    def test_counters_per_tracking_info(self):
        self.order(info="job-1")
        self.order(csr="b", info="job-1")
        self.order(info="job-2")
        orders = self.sim.admin("GET", "/admin/orders")
        self.assertEqual(orders["by_tracking_info"], {"job-1": 2, "job-2": 1})
        self.assertEqual(len(self.sim.admin("GET", "/admin/orders?trackingInfo=job-1")["orders"]), 2)
        self.assertEqual(len(self.sim.admin("GET", "/requests?method=POST&path_prefix="
                                            "/enterprise/v2/certificates")), 3)

    def test_throttling_and_faults(self):
        self.sim.admin("POST", "/admin/throttle", {"api": "ecs", "count": 2, "retry_after": "3"})
        for _ in range(2):
            r = self.sim.ecs("GET", "/application/version")
            self.assert_ecs_error(r, 429, "Too many")
            self.assertEqual(r.headers["Retry-After"], "3")
        self.assertEqual(self.sim.ecs("GET", "/application/version").status_code, 200)
        self.sim.admin("POST", "/faults", [
            {"method": "POST", "path_prefix": "/enterprise/v2/certificates", "status": 503,
             "retry_after": "2"},
            {"path_prefix": "/enterprise/v2/organizations", "garbage": True},
            {"path_prefix": "/enterprise/v2/clients", "reset": True}])
        r = self.sim.ecs("POST", "/certificates", {"csr": self.csrs["a"], "tracking": TRACKING})
        self.assert_ecs_error(r, 503, "injected")
        self.assertEqual(r.headers["Retry-After"], "2")
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["ecs_orders"], 0)
        r = self.sim.ecs("GET", "/organizations")
        with self.assertRaises(ValueError):
            r.json()
        with self.assertRaises(requests.exceptions.ConnectionError):
            self.sim.ecs("GET", "/clients")
        # Truncated bodies, in each API.
        self.sim.admin("POST", "/admin/truncate", {"api": "ecs", "count": 1})
        r = self.sim.ecs("GET", "/organizations")
        self.assertEqual(r.status_code, 200)
        with self.assertRaises(ValueError):
            r.json()
        self.assertEqual(self.sim.ecs("GET", "/organizations").json()["organizations"][0]["clientId"], 1)
        self.sim.admin("POST", "/admin/truncate", {"api": "cagw", "count": 1})
        with self.assertRaises(ValueError):
            self.sim.cagw("GET", "/v1/certificate-authorities").json()
        self.assertEqual(self.sim.admin("GET", "/admin/stats")["truncated"], 2)

    def test_late_order_after_the_client_gave_up(self):
        # A CA still creating an order when the client's wait ends: the order
        # appears later, under the same tracking info (the driver's
        # look-up-before-resubmitting case).
        self.sim.admin("POST", "/faults", {"method": "POST", "path_prefix": "/enterprise/v2/certificates",
                                           "latency_ms": 1500, "late": True})
        with self.assertRaises(requests.exceptions.Timeout):
            self.sim.ecs("POST", "/certificates", {"csr": self.csrs["a"], "tracking":
                                                   dict(TRACKING, trackingInfo="late-1")}, timeout=0.3)
        self.assertEqual(self.sim.admin("GET", "/admin/orders")["by_tracking_info"], {})
        for _ in range(50):
            if self.sim.admin("GET", "/admin/orders")["by_tracking_info"]:
                break
            time.sleep(0.1)
        self.assertEqual(self.sim.admin("GET", "/admin/orders")["by_tracking_info"], {"late-1": 1})
        found = self.sim.ecs("GET", "/certificates?trackingInfo=late-1").json()
        self.assertEqual(found["summary"]["total"], 1)

    # ---- CA Gateway ----

    def test_ca_gateway(self):
        cas = self.sim.cagw("GET", "/v1/certificate-authorities").json()["caList"]
        self.assertEqual(cas[0]["id"], self.sim.ca_id)
        ca_pem = ssl.DER_cert_to_PEM_cert(base64.b64decode(cas[0]["certificate"]["certificateData"]))
        self.assertIn("BEGIN CERTIFICATE", ca_pem)
        base = f"/v1/certificate-authorities/{self.sim.ca_id}"
        profiles = self.sim.cagw("GET", base + "/profiles").json()
        self.assertEqual(profiles["type"], "ProfilesResponse")
        profile = profiles["profiles"][0]["id"]
        der = "".join(l for l in self.csrs["a"].splitlines() if "-----" not in l)
        r = self.sim.cagw("POST", base + "/enrollments", {
            "profileId": profile, "csr": der, "requiredFormat": {"format": "X509"},
            "subjectAltNames": [{"type": "dNSName", "value": "a.example.com"}],
            "optionalCertificateRequestDetails": {"validityPeriod": "P90D"}})
        self.assertEqual(r.status_code, 200, r.text)
        enrollment = r.json()["enrollment"]
        self.assertEqual(enrollment["status"], "ACCEPTED")
        self.assertIn("message", r.json())
        pem = ssl.DER_cert_to_PEM_cert(base64.b64decode(enrollment["body"]))
        self.assertEqual(cert_serial(pem).lower().lstrip("0"), enrollment["serialNumber"].lstrip("0"))
        r = self.sim.cagw("POST", base + "/enrollments", {
            "profileId": profile, "csr": self.csrs["b"], "requiredFormat": {"format": "PEM"},
            "subjectAltNames": [{"type": "dNSName", "value": "b.example.com"}]})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertIn("BEGIN CERTIFICATE", r.json()["enrollment"]["body"])
        second = r.json()["enrollment"]["serialNumber"]
        r = self.sim.cagw("POST", f"{base}/certificates/00{second.upper()}/actions",
                          {"action": {"type": "HoldAction", "comment": "wrapped"}})
        self.assertEqual(r.status_code, 200, r.text)
        got = self.sim.cagw("GET", f"{base}/certificates/{second}").json()
        self.assertEqual(got["certificate"]["status"], "held")
        serial = enrollment["serialNumber"]
        got = self.sim.cagw("GET", f"{base}/certificates/{serial}").json()
        self.assertEqual(got["certificate"]["status"], "normal")
        # The action bare (not in "action", as no public client sends it): refused.
        r = self.sim.cagw("POST", f"{base}/certificates/{serial}/actions",
                          {"type": "RevokeAction", "reason": "keyCompromise", "comment": "test"})
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn('"action"', r.json()["error"]["message"])
        # Upper case without leading zeros, as Entrust's ansible module sends it.
        r = self.sim.cagw("POST", f"{base}/certificates/{serial.upper().lstrip('0')}/actions",
                          {"action": {"type": "RevokeAction", "reason": "keyCompromise",
                                      "comment": "test"}})
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["action"]["status"], "COMPLETED")
        got = self.sim.cagw("GET", f"{base}/certificates/{serial}").json()
        self.assertEqual(got["certificate"]["status"], "revoked")
        r = self.sim.cagw("POST", f"{base}/certificates/{serial}/actions",
                          {"action": {"type": "RevokeAction", "reason": "keyCompromise"}})
        self.assertEqual(r.status_code, 400)
        self.assertEqual(r.json()["type"], "ErrorResponse")
        self.assertIn("already revoked", r.json()["error"]["message"])
        r = self.sim.cagw("GET", "/v1/certificate-authorities/nope/profiles")
        self.assertEqual((r.status_code, r.json()["error"]["code"]), (404, "NotFound"))
        r = self.sim.cagw("POST", base + "/enrollments", {"profileId": profile, "csr": "junk"})
        self.assertEqual((r.status_code, r.json()["error"]["code"]), (400, "BadRequest"))
        self.sim.admin("POST", "/admin/throttle", {"api": "cagw", "count": 1, "retry_after": "5"})
        r = self.sim.cagw("GET", "/v1/certificate-authorities")
        self.assertEqual((r.status_code, r.json()["error"]["code"]), (429, "TooManyRequests"))
        self.assertEqual(r.headers["Retry-After"], "5")
        stats = self.sim.admin("GET", "/admin/stats")
        self.assertEqual((stats["cagw_enrollments"], stats["cagw_actions"]), (2, 2))
        self.assertEqual(len(self.sim.admin("GET", "/admin/gateway")["certificates"]), 2)


if __name__ == "__main__":
    unittest.main()
