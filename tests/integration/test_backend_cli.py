"""`cbcs backend add|list|show|remove` and the command line's behaviour on bad
input, run as a user would: the real binary on a temp data directory."""

import json
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import TempDirTest, cbcs, make_key_and_cert  # noqa: E402

# Known secret values: none may appear in any file of the data directory or in output.
SECRETS = {
    "aws": "aws/SECRET+key0123456789abcdefABCDEF",
    "digicert": "DIGICERT-APIKEY-0123456789ABCDEF",
    "entrust": "ENTRUST-APIKEY-fedcba9876543210",
}


def tree_bytes(root):
    for dirpath, _, files in os.walk(root):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                yield os.path.join(dirpath, f), fh.read()


class BackendCliTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.data = self.path("data")
        self.entrust_key, self.entrust_cert = make_key_and_cert(self.tmp, "entrust", "entrust api user")
        self.other_key, self.other_cert = make_key_and_cert(self.tmp, "other", "someone else")
        gcp_key_pem_path, _ = make_key_and_cert(self.tmp, "gcp", "gcp", algorithm="RSA")
        with open(gcp_key_pem_path) as fh:
            self.gcp_private_key = fh.read()
        self.gcp_json = self.path("sa.json")
        with open(self.gcp_json, "w") as fh:
            json.dump({"type": "service_account", "project_id": "p1", "private_key_id": "kid-123",
                       "private_key": self.gcp_private_key,
                       "client_email": "cbcs@p1.iam.gserviceaccount.com",
                       "token_uri": "https://oauth2.googleapis.com/token"}, fh)
        with open(self.entrust_key) as fh:
            self.entrust_key_pem = fh.read()

    def add(self, *args, **kw):
        return cbcs("backend", "add", *args, data_dir=self.data, **kw)

    def add_all_types(self):
        r = self.add("-name", "aws", "-type", "acmpca", "-accesskeyid", "AKIAIOSFODNN7EXAMPLE",
                     "-secretaccesskey", SECRETS["aws"], "-region", "eu-west-1")
        self.assertEqual(r.code, 0, r)
        r = self.add("--name", "dc", "--type", "digicert", "--apikey", SECRETS["digicert"])
        self.assertEqual(r.code, 0, r)
        r = self.add("--name=en", "--type=entrust", "-username", "apiuser", "-apikey",
                     SECRETS["entrust"], "-cert", self.entrust_cert, "-key", self.entrust_key)
        self.assertEqual(r.code, 0, r)
        r = self.add("-name", "gcp", "-type", "gcpcas", "-project", "p1", "-location", "europe-west1",
                     "-key", self.gcp_json, "-endpoint", "https://privateca.example.test")
        self.assertEqual(r.code, 0, r)
        r = self.add("-name", "ad", "-type", "msca", "-server", "ca01.corp.example", "-ca",
                     "Corp Issuing CA", "-cacert", self.other_cert)
        self.assertEqual(r.code, 0, r)
        r = self.add("-name", "local", "-type", "local")
        self.assertEqual(r.code, 0, r)

    def test_every_type_is_added_and_no_secret_is_written_or_shown(self):
        self.add_all_types()
        secret_strings = list(SECRETS.values()) + [self.entrust_key_pem, self.gcp_private_key]
        # Distinctive slices of the PEM keys too, in case only part were copied.
        for pem in (self.entrust_key_pem, self.gcp_private_key):
            body = "".join(pem.splitlines()[1:-1])
            secret_strings += [body[i:i + 32] for i in range(0, len(body) - 32, 32)]
        for path, content in tree_bytes(self.data):
            for s in secret_strings:
                self.assertNotIn(s.encode(), content, f"secret found in {path}")

        listing = cbcs("backend", "list", "--json", data_dir=self.data)
        self.assertEqual(listing.code, 0, listing)
        self.assertEqual([b["name"] for b in json.loads(listing.out)], ["aws", "dc", "en", "gcp", "ad", "local"])
        outputs = [listing.out]
        for name in ("aws", "dc", "en", "gcp", "ad", "local"):
            for extra in ((), ("--json",)):
                r = cbcs("backend", "show", "-name", name, *extra, data_dir=self.data)
                self.assertEqual(r.code, 0, r)
                outputs.append(r.out + r.err)
        for out in outputs:
            for s in secret_strings:
                self.assertNotIn(s, out)

        shown = json.loads(cbcs("backend", "show", "-name", "en", "--json", data_dir=self.data).out)
        self.assertEqual(shown["options"]["username"], "apiuser")
        self.assertTrue(shown["options"]["apikey"].startswith("********"))
        self.assertIn("CN=entrust api user", shown["options"]["cert"])
        self.assertIn("EC prime256v1 private key", shown["options"]["key"])
        gcp = json.loads(cbcs("backend", "show", "-name", "gcp", "--json", data_dir=self.data).out)
        self.assertIn("cbcs@p1.iam.gserviceaccount.com", gcp["options"]["key"])
        self.assertEqual(gcp["options"]["endpoint"], "https://privateca.example.test")
        ad = cbcs("backend", "show", "-name", "ad", data_dir=self.data)
        self.assertIn("1 certificate: CN=someone else", ad.out)

    def test_files_are_private(self):
        self.add_all_types()
        self.assertEqual(stat.S_IMODE(os.stat(self.data).st_mode), 0o700)
        for path, _ in tree_bytes(self.data):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o077, 0, path)

    def test_sealed_files_may_be_deleted_after_add(self):
        self.add_all_types()
        os.remove(self.entrust_key)
        os.remove(self.gcp_json)
        r = cbcs("backend", "show", "-name", "en", data_dir=self.data)
        self.assertEqual(r.code, 0, r)

    def test_remove_drops_config_entry_and_sealed_records(self):
        self.add_all_types()
        with open(os.path.join(self.data, "vault.bin"), "rb") as fh:
            before = len(fh.read())
        r = cbcs("backend", "remove", "-name", "en", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        with open(os.path.join(self.data, "vault.bin"), "rb") as fh:
            after = len(fh.read())
        self.assertLess(after, before - len(self.entrust_key_pem))
        names = [b["name"] for b in json.loads(cbcs("backend", "list", "--json", data_dir=self.data).out)]
        self.assertNotIn("en", names)
        # The name is free again.
        r = self.add("-name", "en", "-type", "digicert", "-apikey", "x")
        self.assertEqual(r.code, 0, r)
        self.assertOneLineError(cbcs("backend", "remove", "-name", "nope", data_dir=self.data), 1, "nope")

    def test_set_changes_the_options_given_and_keeps_the_others(self):
        r = self.add("-name", "dc", "-type", "digicert", "-apikey", "-", "-poll", "30s",
                     stdin=SECRETS["digicert"] + "\n")
        self.assertEqual(r.code, 0, r)

        def config():
            with open(os.path.join(self.data, "config.json")) as fh:
                return next(b for b in json.load(fh)["backends"] if b["name"] == "dc")
        before = config()
        r = cbcs("backend", "set", "-name", "dc", "-maxinflight", "8", data_dir=self.data)
        self.assertEqual(r.code, 0, r)
        self.assertIn("-maxinflight", r.out)
        after = config()
        self.assertEqual(after["settings"]["maxinflight"], "8")
        self.assertEqual(after["settings"]["poll"], "30s")  # kept
        self.assertEqual(after["sealed"], before["sealed"])  # the key untouched
        # A new secret: a new vault record (a running service sees the change), the old one gone.
        new_key = "DIGICERT-APIKEY-NEW-0123456789"
        r = cbcs("backend", "set", "-name", "dc", "-apikey", "-", data_dir=self.data, stdin=new_key + "\n")
        self.assertEqual(r.code, 0, r)
        self.assertNotEqual(config()["sealed"]["apikey"], before["sealed"]["apikey"])
        for path, content in tree_bytes(self.data):
            self.assertNotIn(new_key.encode(), content, path)
            self.assertNotIn(SECRETS["digicert"].encode(), content, path)
        # Refused in one line, nothing written: a bad value, no option, no such backend.
        snapshot = self.snapshot()
        self.assertOneLineError(cbcs("backend", "set", "-name", "dc", "-maxinflight", "zero",
                                     data_dir=self.data), 2, "-maxinflight")
        self.assertOneLineError(cbcs("backend", "set", "-name", "dc", data_dir=self.data), 2, "no option")
        self.assertOneLineError(cbcs("backend", "set", "-name", "nope", "-maxinflight", "3",
                                     data_dir=self.data), 1, "nope")
        self.assertEqual(self.snapshot(), snapshot)

    def test_secret_from_standard_input(self):
        r = self.add("-name", "dc", "-type", "digicert", "-apikey", "-", stdin=SECRETS["digicert"] + "\n")
        self.assertEqual(r.code, 0, r)
        for path, content in tree_bytes(self.data):
            self.assertNotIn(SECRETS["digicert"].encode(), content, path)

    def test_data_dir_from_environment(self):
        env_dir = self.path("from-env")
        r = cbcs("backend", "add", "-name", "l", "-type", "local", env={"CBCS_DATA_DIR": env_dir})
        self.assertEqual(r.code, 0, r)
        self.assertTrue(os.path.exists(os.path.join(env_dir, "config.json")))

    def snapshot(self):
        if not os.path.exists(self.data):
            return {}
        return {p: c for p, c in tree_bytes(self.data) if not p.endswith(".lock")}

    def test_bad_input_gets_one_line_and_writes_nothing(self):
        self.add("-name", "first", "-type", "digicert", "-apikey", "k1")
        with open(self.path("bad.json"), "w") as fh:
            fh.write('{"type": "service_account"')
        with open(self.path("no-key.json"), "w") as fh:
            json.dump({"type": "service_account", "client_email": "a@b", "private_key_id": "1",
                       "token_uri": "https://oauth2.googleapis.com/token"}, fh)
        cases = [
            (("frobnicate",), 2, ["unknown command 'frobnicate'"]),
            (("backend", "add", "-name", "x", "-type", "nosuch"), 2, ["unknown backend type 'nosuch'"]),
            (("backend", "add", "-name", "x"), 2, ["-type"]),
            (("backend", "add", "-type", "digicert", "-apikey", "k"), 2, ["-name"]),
            (("backend", "add", "-name", "x", "-type", "digicert"), 2, ["-apikey"]),
            (("backend", "add", "-name", "x", "-type", "digicert", "-apikey", "k", "-region", "r"), 2, ["-region"]),
            (("backend", "add", "-nam", "x", "-type", "digicert", "-apikey", "k"), 2, ["-nam"]),
            (("backend", "add", "-name", "x", "-type", "digicert", "-apikey", "k", "stray"), 2, ["unexpected argument"]),
            (("backend", "add", "-name", "bad/name", "-type", "local"), 2, ["-name"]),
            (("backend", "add", "-name", "x", "-type", "acmpca", "-accesskeyid", "AKIAIOSFODNN7EXAMPLE",
              "-secretaccesskey", "s", "-region", "eu west"), 2, ["-region"]),
            (("backend", "add", "-name", "x", "-type", "digicert", "-apikey", "k", "-endpoint", "ftp://x"), 2,
             ["-endpoint"]),
            (("backend", "add", "-name", "first", "-type", "digicert", "-apikey", "k"), 1, ["'first' exists already"]),
            (("backend", "add", "-name", "x", "-type", "gcpcas", "-project", "p", "-location", "l",
              "-key", self.path("missing.json")), 1, ["-key", "missing.json"]),
            (("backend", "add", "-name", "x", "-type", "gcpcas", "-project", "p", "-location", "l",
              "-key", self.path("bad.json")), 1, ["-key", "bad.json", "not valid JSON"]),
            (("backend", "add", "-name", "x", "-type", "gcpcas", "-project", "p", "-location", "l",
              "-key", self.path("no-key.json")), 1, ["-key", "no-key.json", "private_key"]),
            (("backend", "add", "-name", "x", "-type", "entrust", "-username", "u", "-apikey", "k",
              "-cert", self.entrust_cert, "-key", self.other_key), 1, ["-key", "does not belong"]),
            (("backend", "add", "-name", "x", "-type", "entrust", "-username", "u", "-apikey", "k",
              "-cert", self.entrust_key, "-key", self.entrust_key), 1, ["-cert", "entrust.key"]),
            (("backend", "add", "-name", "x", "-type", "digicert", "-apikey", "k", "-cacert", self.gcp_json),
             1, ["-cacert"]),
            # The local CA reaches no CA: the options about that are not its own.
            (("backend", "add", "-name", "x", "-type", "local", "-cacert", self.gcp_json), 2,
             ["unrecognised option '-cacert'"]),
            (("backend", "show", "-name", "nope"), 1, ["no backend named 'nope'"]),
            (("backend", "show"), 2, ["-name"]),
        ]
        before = self.snapshot()
        for args, code, fragments in cases:
            with self.subTest(args=args):
                r = cbcs(*args, data_dir=self.data)
                self.assertOneLineError(r, code, *fragments)
                self.assertTrue(r.err.startswith("cbcs: "), r)
                self.assertEqual(self.snapshot(), before, "bad input changed the data directory")

    def test_a_newcomers_slips_get_the_way_on(self):
        # A near miss names the command meant.
        self.assertOneLineError(cbcs("stat", data_dir=self.data), 2, "did you mean 'status'")
        self.assertOneLineError(cbcs("enrol", data_dir=self.data), 2, "did you mean 'enroll'")
        # A group word alone lists its subcommands (exit 2), and so does help (exit 0).
        r = cbcs("backend", data_dir=self.data)
        self.assertEqual(r.code, 2, r)
        for sub in ("backend add", "backend set", "backend list", "backend remove"):
            self.assertIn(sub, r.err)
        r = cbcs("help", "proxy")
        self.assertEqual(r.code, 0, r)
        for sub in ("proxy set", "proxy show", "proxy test"):
            self.assertIn(sub, r.out)
        r = cbcs("backend", "frob", data_dir=self.data)
        self.assertEqual(r.code, 2, r)
        self.assertIn("no subcommand 'frob'", r.err)
        # An unknown type is said before its options are found unknown.
        self.assertOneLineError(cbcs("backend", "add", "-name", "x", "-type", "DigiCert", "-apikey", "k",
                                     data_dir=self.data), 2, "unknown backend type 'DigiCert'", "digicert")
        self.assertFalse(os.path.exists(self.data))
        # A type's help tells of that type alone; the overview marks the types without a driver.
        r = cbcs("backend", "add", "-type", "local", "-h")
        self.assertEqual(r.code, 0, r)
        self.assertNotIn("apikey", r.out)
        self.assertNotIn("digicert -", r.out)
        # Every type has its driver now: none is marked (a type declared
        # before its driver is, as msca was: "driver not built yet").
        r = cbcs("help", "backend", "add")
        self.assertIn("msca - Microsoft AD CS\n", r.out)
        self.assertNotIn("driver not built yet", r.out)

    def test_corrupt_config_is_named_and_kept(self):
        self.add("-name", "first", "-type", "local")
        config = os.path.join(self.data, "config.json")
        with open(config, "w") as fh:
            fh.write('{\n  "schema_version": 1,\n  "backends": [,]\n}\n')
        for args in (("backend", "list"), ("backend", "add", "-name", "x", "-type", "local")):
            r = cbcs(*args, data_dir=self.data)
            self.assertOneLineError(r, 1, config, "line 3")
        with open(config) as fh:
            self.assertIn("[,]", fh.read())
        with open(config, "w") as fh:
            fh.write('{"schema_version": 99, "backends": []}')
        self.assertOneLineError(cbcs("backend", "list", data_dir=self.data), 1, config, "schema version 99")

    def test_tampered_vault_and_wrong_key_are_reported(self):
        self.add("-name", "dc", "-type", "digicert", "-apikey", "k")
        vault = os.path.join(self.data, "vault.bin")
        with open(vault, "rb") as fh:
            original = fh.read()
        with open(vault, "wb") as fh:
            fh.write(original[:-3] + bytes([original[-3] ^ 1]) + original[-2:])
        r = self.add("-name", "dc2", "-type", "digicert", "-apikey", "k2")
        self.assertOneLineError(r, 1, "vault.bin", "altered or damaged")
        with open(vault, "wb") as fh:
            fh.write(original)
        with open(os.path.join(self.data, "vault.key"), "wb") as fh:
            fh.write(os.urandom(32))
        r = self.add("-name", "dc2", "-type", "digicert", "-apikey", "k2")
        self.assertOneLineError(r, 1, "vault.bin", "another key")

    def test_help_forms(self):
        overview = cbcs("help")
        self.assertEqual(overview.code, 0)
        for command in ("backend add", "backend list", "backend show", "backend remove", "demo", "version"):
            self.assertIn(command, overview.out)
        for args in (("help", "backend", "add"), ("backend", "add", "-h"), ("backend", "add", "--help")):
            r = cbcs(*args)
            self.assertEqual(r.code, 0, r)
            for opt in ("-accesskeyid", "-secretaccesskey", "-region", "-apikey", "-username", "-cert",
                        "-key", "-project", "-location", "-server", "-ca", "-endpoint", "-cacert"):
                self.assertIn(opt, r.out, args)
        typed = cbcs("backend", "add", "-type", "entrust", "-h")
        self.assertIn("-username USER", typed.out)
        version = cbcs("version")
        self.assertEqual(version.code, 0)
        self.assertRegex(version.out, r"^cbcs \d+\.\d+\.\d+")
        self.assertEqual(cbcs().code, 2)
        self.assertOneLineError(cbcs("help", "nosuch"), 2, "nosuch")


if __name__ == "__main__":
    unittest.main()
