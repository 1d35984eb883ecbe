"""`cbcs backend add` with the client certificate and key in every form
administrators have them, each file made by openssl: the certificate PEM or
DER (.cer), with or without its chain, or a .p7b; the key PKCS#8 PEM or DER
(.pkcs8), PKCS#1, SEC1, an encrypted PKCS#8 with -keypassword -, or one
PKCS#12 file with -pkcs12 FILE -pkcs12password -. Each backend so added then
passes `cbcs backend test` against the Entrust simulator's CA Gateway, which
demands the client certificate: the sealed pair is a working one. Refusals
are one line naming the fix, and no password or key byte is left in the data
directory or the output."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from entrust_sim import EntrustSim  # noqa: E402
from harness import TempDirTest, assert_no_secret_in_files, cbcs, key_lines, openssl  # noqa: E402

PASSWORD = "Pw-for-the-key-8c1f2e"


class CredentialFilesTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.sim = EntrustSim()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.outputs = []
        self.addCleanup(self.assert_no_secret_left)

    # --- helpers

    def ssl(self, *args):
        openssl(*args, cwd=self.tmp)

    def add(self, name, *files, stdin=None):
        r = cbcs("backend", "add", "-name", name, "-type", "entrust", "-api", "cagw",
                 "-endpoint", self.sim.cagw_url, "-cacert", self.sim.ca_file,
                 "-caid", "ca-sim-1", "-profile", "cagw-tls-server", *files,
                 data_dir=self.data, stdin=stdin)
        self.outputs.append(r.out + r.err)
        return r

    def assert_works(self, name, *files, stdin=None):
        r = self.add(name, *files, stdin=stdin)
        self.assertEqual(r.code, 0, r)
        t = cbcs("backend", "test", "--json", "-name", name, data_dir=self.data, timeout=60)
        self.outputs.append(t.out + t.err)
        self.assertEqual(t.code, 0, t)
        shown = cbcs("backend", "show", "-name", name, data_dir=self.data)
        self.assertIn("cbcs-sim entrust client", shown.out)

    def assert_refused(self, name, *files, stdin=None, says=()):
        r = self.add(name, *files, stdin=stdin)
        self.assertNotEqual(r.code, 0, r)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        for words in says:
            self.assertIn(words, r.err)
        listed = cbcs("backend", "list", data_dir=self.data)
        self.assertNotIn(name, listed.out)

    def assert_no_secret_left(self):
        """The password and every base64 line of the keys: in no file of the
        data directory and in no output."""
        secrets = [PASSWORD.encode()] + key_lines(self.sim.client_key, self.path("rsa.key"))
        assert_no_secret_in_files(self, self.data, secrets)
        for out in self.outputs:
            for secret in secrets:
                self.assertNotIn(secret.decode(), out)

    def client_ca_key(self):
        return os.path.join(os.path.dirname(self.sim.client_ca_file), "client-ca.key")

    def rsa_client(self):
        """An RSA client certificate from the simulator's client CA."""
        self.ssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                 "-out", "rsa.key")
        self.ssl("req", "-new", "-key", "rsa.key", "-subj", "/CN=cbcs-sim entrust client rsa",
                 "-out", "rsa.csr")
        self.ssl("x509", "-req", "-in", "rsa.csr", "-CA", self.sim.client_ca_file,
                 "-CAkey", self.client_ca_key(), "-set_serial", "4242", "-days", "30",
                 "-out", "rsa.pem")
        return self.path("rsa.pem"), self.path("rsa.key")

    # --- certificate forms

    def test_der_certificate_and_pkcs8_der_key(self):
        self.ssl("x509", "-in", self.sim.client_cert, "-outform", "DER", "-out", "client.cer")
        self.ssl("pkcs8", "-topk8", "-nocrypt", "-in", self.sim.client_key, "-outform", "DER",
                 "-out", "client.pkcs8")
        self.assert_works("der", "-cert", self.path("client.cer"),
                          "-key", self.path("client.pkcs8"))

    def test_pem_certificate_with_its_chain_and_text_around(self):
        with open(self.sim.client_cert) as a, open(self.sim.client_ca_file) as b:
            chain = "Bag Attributes: from an export\n" + a.read() + "some text\n" + b.read()
        with open(self.path("chain.pem"), "w") as fh:
            fh.write(chain)
        self.assert_works("chain", "-cert", self.path("chain.pem"), "-key", self.sim.client_key)

    def test_p7b_chain_with_the_ca_first(self):
        self.ssl("crl2pkcs7", "-nocrl", "-certfile", self.sim.client_ca_file,
                 "-certfile", self.sim.client_cert, "-outform", "DER", "-out", "chain.p7b")
        self.assert_works("p7b", "-cert", self.path("chain.p7b"), "-key", self.sim.client_key)

    # --- key forms

    def test_sec1_key_pem_and_der(self):
        self.ssl("ec", "-in", self.sim.client_key, "-out", "sec1.pem")
        with open(self.path("sec1.pem")) as fh:
            self.assertIn("BEGIN EC PRIVATE KEY", fh.read())
        self.assert_works("sec1pem", "-cert", self.sim.client_cert, "-key", self.path("sec1.pem"))
        self.ssl("ec", "-in", self.sim.client_key, "-outform", "DER", "-out", "sec1.der")
        self.assert_works("sec1der", "-cert", self.sim.client_cert, "-key", self.path("sec1.der"))

    def test_pkcs1_rsa_key_pem_and_der(self):
        cert, key = self.rsa_client()
        self.ssl("rsa", "-traditional", "-in", key, "-out", "pkcs1.pem")
        with open(self.path("pkcs1.pem")) as fh:
            self.assertIn("BEGIN RSA PRIVATE KEY", fh.read())
        self.assert_works("pkcs1pem", "-cert", cert, "-key", self.path("pkcs1.pem"))
        self.ssl("rsa", "-traditional", "-in", key, "-outform", "DER", "-out", "pkcs1.der")
        self.assert_works("pkcs1der", "-cert", cert, "-key", self.path("pkcs1.der"))

    def test_encrypted_pkcs8_with_keypassword_from_standard_input(self):
        self.ssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:" + PASSWORD,
                 "-in", self.sim.client_key, "-out", "enc.pem")
        self.ssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:" + PASSWORD,
                 "-in", self.sim.client_key, "-outform", "DER", "-out", "enc.der")
        for name, key in (("encpem", "enc.pem"), ("encder", "enc.der")):
            self.assert_works(name, "-cert", self.sim.client_cert, "-key", self.path(key),
                              "-keypassword", "-", stdin=PASSWORD + "\n")
        # Without the password, with a wrong one, or with it on the command line.
        self.assert_refused("nopw", "-cert", self.sim.client_cert, "-key", self.path("enc.pem"),
                            says=("encrypted private key", "-keypassword -"))
        self.assert_refused("badpw", "-cert", self.sim.client_cert, "-key", self.path("enc.pem"),
                            "-keypassword", "-", stdin="not-it\n",
                            says=("does not open",))
        self.assert_refused("inline", "-cert", self.sim.client_cert, "-key", self.path("enc.pem"),
                            "-keypassword", PASSWORD, says=("standard input",))

    # --- PKCS#12

    def test_pkcs12_with_a_password(self):
        self.ssl("pkcs12", "-export", "-in", self.sim.client_cert, "-inkey", self.sim.client_key,
                 "-certfile", self.sim.client_ca_file, "-passout", "pass:" + PASSWORD,
                 "-out", "client.p12")
        self.assert_works("p12", "-pkcs12", self.path("client.p12"), "-pkcs12password", "-",
                          stdin=PASSWORD + "\n")
        self.assert_refused("p12nopw", "-pkcs12", self.path("client.p12"),
                            says=("protected by a password", "-pkcs12password -"))
        self.assert_refused("p12bad", "-pkcs12", self.path("client.p12"), "-pkcs12password", "-",
                            stdin="wrong\n", says=("does not open",))
        self.assert_refused("p12both", "-pkcs12", self.path("client.p12"), "-pkcs12password", "-",
                            "-cert", self.sim.client_cert, stdin=PASSWORD + "\n",
                            says=("either -pkcs12 or -cert and -key",))

    def test_pkcs12_without_a_password(self):
        self.ssl("pkcs12", "-export", "-in", self.sim.client_cert, "-inkey", self.sim.client_key,
                 "-passout", "pass:", "-out", "nopw.p12")
        self.assert_works("p12empty", "-pkcs12", self.path("nopw.p12"))

    def test_legacy_pkcs12_is_refused_naming_the_fix(self):
        # RC2-40 and 3DES, as old Windows exports: OpenSSL 3 keeps RC2 in its
        # legacy provider, which cbcs does not load.
        try:
            self.ssl("pkcs12", "-export", "-legacy", "-in", self.sim.client_cert,
                     "-inkey", self.sim.client_key, "-passout", "pass:" + PASSWORD,
                     "-out", "legacy.p12")
        except Exception:  # this openssl lacks the legacy provider itself
            self.skipTest("openssl cannot write a legacy PKCS#12 here")
        r = self.add("legacy", "-pkcs12", self.path("legacy.p12"), "-pkcs12password", "-",
                     stdin=PASSWORD + "\n")
        if r.code == 0:
            # A build whose OpenSSL reads RC2 takes it: then it must work.
            t = cbcs("backend", "test", "--json", "-name", "legacy", data_dir=self.data, timeout=60)
            self.assertEqual(t.code, 0, t)
            return
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertIn("legacy cipher", r.err)

    # --- refusals

    def test_garbage_files_are_one_clear_line(self):
        with open(self.path("junk.bin"), "wb") as fh:
            fh.write(os.urandom(700))
        self.assert_refused("junkcert", "-cert", self.path("junk.bin"), "-key", self.sim.client_key,
                            says=("no readable certificate",))
        self.assert_refused("junkkey", "-cert", self.sim.client_cert, "-key", self.path("junk.bin"),
                            says=("no readable private key",))
        self.assert_refused("junkp12", "-pkcs12", self.path("junk.bin"),
                            says=("not a PKCS#12 file",))
        # A certificate given as the key, and a key that is another's.
        self.assert_refused("certkey", "-cert", self.sim.client_cert, "-key", self.sim.client_cert,
                            says=("no readable private key",))
        self.ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", "stranger.key")
        self.assert_refused("stranger", "-cert", self.sim.client_cert,
                            "-key", self.path("stranger.key"), says=("-key",))


if __name__ == "__main__":
    unittest.main()
