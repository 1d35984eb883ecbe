"""AD CS over CES with Kerberos (-auth kerberos): `Authorization: Negotiate`
(RFC 4559, SPNEGO) from a keytab sealed in the vault, against a real MIT KDC
(Debian's krb5-kdc, a throw-away realm on loopback, mit_kdc.py) and the AD CS
simulator in --auth kerberos, which accepts the tickets with its own keytab
(GSS-API) and records the client's principal. Enroll, pending and retrieve
over Negotiate; a wrong keytab, a skewed clock, an unknown service principal
and an unreachable KDC each fail with one line naming the principal; no byte
of a keytab in any file of the data directory or in any output."""

import base64
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (CBCS, Result, TempDirTest, assert_no_secret_in_files, cbcs,  # noqa: E402
                     eventually, refused_port, require_or_skip)
from mit_kdc import REALM, MitKdc, installed, keytab_keys  # noqa: E402
from msca_sim import SIM, MscaSim  # noqa: E402

CLIENT = "cbcs@" + REALM
SERVICE = "HTTP/localhost@" + REALM
FAKETIME = shutil.which("faketime")


def sim_has_kerberos():
    r = subprocess.run([SIM, "msca", "--help"], capture_output=True, text=True)
    return "kerberos" in r.stderr + r.stdout


class MscaKerberosTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.kdc = MitKdc()
        try:
            cls.kdc.add_principal(CLIENT)
            cls.kdc.add_principal(SERVICE)
            # Made first, so its key is one version behind the KDC's.
            cls.old_keytab = cls.kdc.keytab(CLIENT, "old.keytab")
            cls.keytab = cls.kdc.keytab(CLIENT, "cbcs.keytab")
            cls.service_keytab = cls.kdc.keytab(SERVICE, "http.keytab")
            cls.sim = MscaSim("--auth", "kerberos", "--keytab", cls.service_keytab, env=cls.kdc.env)
        except Exception:
            cls.kdc.stop()
            raise
        # The service principal is HTTP/<host of -ces>: the host CES is
        # registered under (the TLS certificate names localhost too).
        cls.ces = cls.sim.ces_url.replace("127.0.0.1", "localhost")
        cls.cep = cls.sim.cep_url.replace("127.0.0.1", "localhost")
        cls.secrets = []
        for path in (cls.keytab, cls.old_keytab, cls.service_keytab):
            for key in keytab_keys(path):
                cls.secrets += [key, base64.b64encode(key), key.hex().encode()]

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.kdc.stop()

    def setUp(self):
        super().setUp()
        self.sim.admin("POST", "/reset")
        self.data = self.path("data")
        self.addCleanup(lambda: assert_no_secret_in_files(self, self.data, self.secrets))

    def run_cbcs(self, *args, env=None, prefix=()):
        """cbcs with the realm's krb5.conf; its output holds no key."""
        full = dict(self.kdc.env, **(env or {}))
        if prefix:
            # faketime: the clock of cbcs only, not the KDC's or the CA's.
            r = Result(subprocess.run([*prefix, CBCS, *args, "--data-dir", self.data],
                                      capture_output=True, text=True, env=full, timeout=120))
        else:
            r = cbcs(*args, data_dir=self.data, env=full, timeout=120)
        for secret in self.secrets:
            self.assertNotIn(secret.decode("latin-1"), r.out + r.err)
        return r

    def add(self, keytab=None, ces=None, cep=None, name="ad"):
        # A copy: the file may be deleted once added (the vault has it).
        copy = self.path(f"{name}.keytab")
        shutil.copy(keytab or self.keytab, copy)
        r = self.run_cbcs("backend", "add", "-name", name, "-type", "msca", "-server", "localhost",
                          "-ca", self.sim.ca_name, "-ces", ces or self.ces, "-cep", cep or self.cep,
                          "-cacert", self.sim.ca_file, "-auth", "kerberos", "-keytab", copy,
                          "-principal", CLIENT, "-template", "WebServer",
                          "-requester", "CORP\\jdoe")
        self.assertEqual(r.code, 0, r)
        os.remove(copy)
        return r

    def csr(self, stem):
        cn = f"{stem}.example.com"
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{stem}.key", "-out",
                        f"{stem}.csr", "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}"],
                       cwd=self.tmp, check=True, capture_output=True)
        return self.path(f"{stem}.csr")

    def requests(self):
        return self.sim.admin("GET", "/admin/requests")["requests"]

    def stats(self):
        return self.sim.admin("GET", "/admin/stats")

    def assertOneLine(self, r, *fragments):
        self.assertOneLineError(r, 1, *fragments)

    # ---

    def test_enroll_over_negotiate_with_the_keytab_file_deleted(self):
        self.add()
        shown = self.run_cbcs("backend", "show", "-name", "ad")
        self.assertRegex(shown.out, r"keytab:\s+\*+ \(sealed\), 2 keys for " + CLIENT)
        r = self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-ca",
                          self.sim.ca_name)
        self.assertEqual(r.code, 0, r)
        agent = self.requests()[-1]
        self.assertEqual(agent["template"], "MachineEnrollmentAgent")
        self.assertEqual(agent["caller"], CLIENT)  # the ticket's client, verified by the CA side
        self.assertEqual(agent["requester"], CLIENT)
        r = self.run_cbcs("enroll", "-backend", "ad", "-csr", self.csr("web"), "-id", "job-1")
        self.assertEqual(r.code, 0, r)
        self.assertIn("BEGIN CERTIFICATE", r.out)
        last = self.requests()[-1]
        self.assertEqual((last["state"], last["caller"], last["requester"]),
                         ("issued", CLIENT, "CORP\\jdoe"))
        stats = self.stats()
        self.assertGreaterEqual(stats.get("auth_accepted", 0), 2)
        self.assertEqual(stats.get("auth_refused", 0), 0)
        r = self.run_cbcs("backend", "test", "-name", "ad")
        self.assertEqual(r.code, 0, r)
        self.assertRegex(r.out, r"(?m)^  ok    CEP ")

    def test_pending_then_approved_then_collected(self):
        self.add()
        self.assertEqual(self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad",
                                       "-ca", self.sim.ca_name).code, 0)
        csr = self.csr("held")
        r = self.run_cbcs("enroll", "-backend", "ad", "-csr", csr, "-id", "job-held", "-profile",
                          "WebServerApproval", "-timeout", "8s")
        self.assertIn("taken under submission", r.out)
        held = [q for q in self.requests() if q["state"] == "pending"]
        self.assertEqual(len(held), 1)
        self.assertEqual(held[0]["caller"], CLIENT)
        self.sim.admin("POST", f"/admin/requests/{held[0]['id']}/approve")
        r = self.run_cbcs("enroll", "-backend", "ad", "-csr", csr, "-id", "job-held", "-profile",
                          "WebServerApproval")
        self.assertEqual(r.code, 0, r)
        self.assertIn("BEGIN CERTIFICATE", r.out)
        self.assertEqual(len([q for q in self.requests()
                              if q["template"] == "WebServerApproval"]), 1)

    def test_tickets_are_renewed_before_they_expire(self):
        # A principal whose tickets live 20 s: the enroll below polls the
        # CA for longer in one process, so it needs a second ticket-granting
        # ticket (from the sealed keys) before the first one ends.
        name = "renewed@" + REALM
        self.kdc.add_principal(name)
        self.kdc.kadmin(f'modprinc -maxlife "20 seconds" {name}')
        copy = self.path("renewed.keytab")
        shutil.copy(self.kdc.keytab(name, "renewed.keytab"), copy)
        for key in keytab_keys(copy):
            self.secrets += [key, base64.b64encode(key), key.hex().encode()]
        r = self.run_cbcs("backend", "add", "-name", "ad", "-type", "msca", "-server", "localhost",
                          "-ca", self.sim.ca_name, "-ces", self.ces, "-cep", self.cep,
                          "-cacert", self.sim.ca_file, "-keytab", copy, "-principal", name,
                          "-requester", "CORP\\jdoe")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad",
                                       "-ca", self.sim.ca_name).code, 0)
        issued = lambda: self.kdc.issued_tickets(name)  # noqa: E731
        first = issued()
        job = subprocess.Popen([CBCS, "enroll", "-backend", "ad", "-csr", self.csr("renew"), "-id",
                                "job-renew", "-profile", "WebServerApproval", "-timeout", "120s",
                                "--data-dir", self.data], env=self.kdc.env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: job.poll() is None and job.kill())
        self.assertTrue(eventually(lambda: any(q["state"] == "pending" for q in self.requests()),
                                   seconds=30))
        # Still polling after its first ticket was replaced.
        self.assertTrue(eventually(lambda: issued() >= first + 2, seconds=60),
                        f"{issued() - first} ticket(s) issued")
        held = [q for q in self.requests() if q["state"] == "pending"][0]
        self.sim.admin("POST", f"/admin/requests/{held['id']}/approve")
        out, err = job.communicate(timeout=90)
        self.assertEqual(job.returncode, 0, err)
        self.assertIn("BEGIN CERTIFICATE", out)
        self.assertEqual(self.stats().get("auth_refused", 0), 0)

    def test_a_keytab_of_an_old_key_version_is_one_auth_line(self):
        self.add(keytab=self.old_keytab)
        r = self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-ca",
                          self.sim.ca_name)
        self.assertOneLine(r, CLIENT, "refused the key in the keytab", "auth")
        self.assertEqual(self.requests(), [])
        self.assertEqual(self.stats().get("ces_requests", 0), 0)  # nothing went out

    def test_a_skewed_clock_is_one_auth_line(self):
        if FAKETIME is None:
            self.skipTest("faketime is not installed (packaging/install-deps.sh)")
        self.add()
        r = self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-ca",
                          self.sim.ca_name, prefix=(FAKETIME, "-f", "+30m"),
                          env={"FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        self.assertOneLine(r, CLIENT, "clock", "skew", "auth")
        self.assertEqual(self.requests(), [])

    def test_an_unknown_service_principal_is_one_auth_line(self):
        # CES reached by its address: HTTP/127.0.0.1 is registered nowhere.
        self.add(ces=self.sim.ces_url, cep=self.sim.cep_url)
        r = self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad", "-ca",
                          self.sim.ca_name)
        self.assertOneLine(r, CLIENT, "no service principal HTTP/127.0.0.1@" + REALM, "auth")

    def test_an_unreachable_kdc_is_a_network_failure_naming_the_principal(self):
        self.add()
        self.assertEqual(self.run_cbcs("backend", "msca", "enroll-agent-cert", "-name", "ad",
                                       "-ca", self.sim.ca_name).code, 0)
        before = len(self.requests())
        sock, port = refused_port()
        self.addCleanup(sock.close)
        conf = self.path("krb5-nokdc.conf")
        self.kdc.write_client_conf(conf, port)
        r = self.run_cbcs("enroll", "-backend", "ad", "-csr", self.csr("nokdc"), "-id", "job-nokdc",
                          "-timeout", "5s", env={"KRB5_CONFIG": conf})
        self.assertNotEqual(r.code, 0, r)
        self.assertIn(CLIENT, r.err + r.out)
        self.assertIn("(network)", r.err)
        self.assertIn("no KDC of realm " + REALM + " could be reached", r.err + r.out)
        self.assertEqual(len(self.requests()), before)  # nothing reached the CA

    def test_a_keytab_without_the_principal_is_refused_at_add(self):
        copy = self.path("svc.keytab")
        shutil.copy(self.service_keytab, copy)
        r = self.run_cbcs("backend", "add", "-name", "ad", "-type", "msca", "-server", "localhost",
                          "-ca", self.sim.ca_name, "-ces", self.ces, "-auth", "kerberos",
                          "-keytab", copy, "-principal", CLIENT)
        self.assertOneLine(r, "holds no key for principal " + CLIENT)


if __name__ == "__main__":
    require_or_skip(installed(), "the MIT Kerberos KDC is not installed (packaging/install-deps.sh: "
                                 "krb5-kdc krb5-admin-server)")
    require_or_skip(sim_has_kerberos(), "cbcs-sim msca was built without Kerberos (libkrb5-dev)")
    unittest.main()
