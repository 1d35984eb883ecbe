#!/usr/bin/env python3
"""Writes the seed corpora: corpus/<name>/ beside each fuzz_<name>.cpp
(tests/fuzz/corpus/ for the shared parsers, tests/fuzz/<type>/corpus/ for a
backend type's driver). A new type may keep its seeds to itself: this script
need not know it.

Every key here is a throw-away TEST key made on the spot with the openssl
command; none belongs to anyone and none is used anywhere else. The vault
seeds are sealed under the fuzz target's fixed key (byte i = 0xa5 ^ i) and
need the Python 'cryptography' package for AES-GCM.

Run it again only to change the seeds: it rewrites every file (with new keys).
`make_corpus.py scm_messages installation_token` rewrites only those, which
need no keys (the others stay byte for byte).
"""

import hmac
import hashlib
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SEP = b"\xff"  # between the answers of an acmpca_driver input


def corpora():
    """target name -> corpus/<name>/ beside its fuzz_<name>.cpp, found as
    tests/fuzz/CMakeLists.txt finds them."""
    sources = [*HERE.glob("fuzz_*.cpp"), *HERE.glob("*/fuzz_*.cpp")]
    return {s.stem.removeprefix("fuzz_"): s.parent / "corpus" / s.stem.removeprefix("fuzz_")
            for s in sources}


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, check=True,
                          capture_output=True).stdout


class test_pki:
    """Test keys, CSRs and self-signed certificates, made in a temp dir."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="cbcs-fuzz-seeds-"))

    def close(self):
        shutil.rmtree(self.dir)

    def key(self, name, *genpkey_args):
        path = self.dir / f"{name}.key"
        openssl("genpkey", *genpkey_args, "-out", str(path))
        return path

    def ec_key(self, name, curve="P-256"):
        return self.key(name, "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}")

    def rsa_key(self, name, bits=2048):
        return self.key(name, "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}")

    def ed25519_key(self, name):
        return self.key(name, "-algorithm", "ED25519")

    def csr(self, key, subject, *extra):
        return openssl("req", "-new", "-key", str(key), "-subj", subject, *extra)

    def self_signed(self, key, subject):
        return openssl("req", "-new", "-x509", "-key", str(key), "-subj", subject, "-days", "365",
                       "-sha256")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = corpora()[target]
    folder.mkdir(parents=True, exist_ok=True)
    assert len(data) <= 8192, f"{target}/{name} is over 8 KiB"
    (folder / name).write_bytes(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def job_codec_seeds(csr_pem):
    job = {"id": "job-0001", "operation": "enroll", "backend": "aws-prod", "csr": csr_pem,
           "validity_seconds": 7776000, "profile": "webserver",
           "params": {"ca_arn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/x"}}
    write("job_codec", "enroll.json", compact(job))
    write("job_codec", "revoke.json", compact(
        {"id": "job-0002", "operation": "revoke", "backend": "local", "serial": "0a1b2c",
         "reason": "keyCompromise"}))
    write("job_codec", "escapes.json",
          '{"id":"j\\u0041","operation":"test","backend":"caf\\u00e9 \\ud83d\\ude00",'
          '"reason":"a\\u0000b\\n","params":{"k\\"":"v\\\\","":""}}')
    write("job_codec", "outcome_issued.json", compact(
        {"outcome": "issued", "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n",
         "chain": "", "serial": "01ff"}))
    write("job_codec", "outcome_pending.json",
          '{"outcome":"pending","poll_after_ms":1000,"message":"still issuing"}')
    write("job_codec", "outcome_failed.json",
          '{"outcome":"failed","error":"throttled","retryable":true,'
          '"backend_code":"ThrottlingException","message":"slow down"}')
    write("job_codec", "outcome_done.json", '{"outcome":"done","report":"{\\"ok\\":true}"}')
    # Refused: each breaks one rule.
    write("job_codec", "bad_missing_id.json", '{"operation":"enroll","backend":"b"}')
    write("job_codec", "bad_operation.json", '{"id":"x","operation":"sign","backend":"b"}')
    write("job_codec", "bad_negative_validity.json",
          '{"id":"x","operation":"renew","backend":"b","validity_seconds":-5}')
    write("job_codec", "bad_params.json",
          '{"id":"x","operation":"enroll","backend":"b","params":{"n":1}}')
    write("job_codec", "bad_truncated.json", '{"id":"x","operation":"enr')


def connector_config_seeds():
    good = {"schema_version": 1, "backends": [
        {"name": "aws-prod", "type": "acmpca",
         "settings": {"accesskeyid": "AKIAIOSFODNN7EXAMPLE", "region": "eu-west-1"},
         "sealed": {"secretaccesskey": "backend/aws-prod/secretaccesskey"}},
        {"name": "gcp", "type": "gcpcas", "settings": {"project": "p", "location": "l"},
         "sealed": {"key": "backend/gcp/key"},
         "summaries": {"key": "service account ca@p.iam.gserviceaccount.com"}},
        {"name": "local", "type": "local"}]}
    write("connector_config", "good.json", json.dumps(good, indent=2) + "\n")
    write("connector_config", "empty.json", '{"schema_version":1,"backends":[]}\n')
    write("connector_config", "bad_version.json", '{"schema_version":2,"backends":[]}')
    write("connector_config", "bad_duplicate.json",
          '{"schema_version":1,"backends":[{"name":"a","type":"local"},'
          '{"name":"a","type":"local"}]}')
    write("connector_config", "bad_name.json",
          '{"schema_version":1,"backends":[{"name":"-x","type":"local"}]}')
    write("connector_config", "bad_setting.json",
          '{"schema_version":1,"backends":[{"name":"a","type":"t","settings":{"k":[1]}}]}')
    write("connector_config", "bad_json_line3.json",
          '{\n  "schema_version": 1,\n  "backends": [,]\n}\n')


def json_problem_seeds():
    write("json_problem", "valid_nested.json",
          '{"a":[1,2.5e3,-0,true,false,null,{"b":"\\u00e9\\ud83d\\ude00"}],"c":{}}')
    write("json_problem", "trailing.json", '{"a":1}\n{"b":2}\n')
    write("json_problem", "unclosed_string.json", '{\n"a": "open\n}\n')
    write("json_problem", "deep.json", "[" * 300 + "]" * 300)
    write("json_problem", "bad_number.json", '{"n": 01.}')
    write("json_problem", "bad_utf8.json", b'{"s":"\xc3\x28"}')


def service_account_seeds(pki):
    rsa = pki.rsa_key("sa-rsa").read_text()
    ec = pki.ec_key("sa-ec").read_text()
    account = {"type": "service_account", "project_id": "fuzz-test",
               "private_key_id": "0123456789abcdef0123456789abcdef01234567",
               "private_key": rsa,
               "client_email": "cbcs@fuzz-test.iam.gserviceaccount.com",
               "client_id": "100000000000000000000",
               "auth_uri": "https://accounts.google.com/o/oauth2/auth",
               "token_uri": "https://oauth2.googleapis.com/token"}
    write("service_account", "good_rsa_test_key.json", json.dumps(account, indent=2))
    write("service_account", "bad_ec_test_key.json", json.dumps(dict(account, private_key=ec)))
    write("service_account", "bad_http_token_uri.json",
          json.dumps(dict(account, token_uri="http://oauth2.googleapis.com/token")))
    write("service_account", "bad_missing_email.json",
          json.dumps({k: v for k, v in account.items() if k != "client_email"}))


def certificate_seeds(pki):
    ec_cert = pki.self_signed(pki.ec_key("c-ec"), "/CN=fuzz test EC/O=cbcs test")
    rsa_cert = pki.self_signed(pki.rsa_key("c-rsa"), "/CN=fuzz test RSA")
    write("certificates", "ec_test_cert.pem", ec_cert)
    write("certificates", "bundle_two.pem", ec_cert + rsa_cert)
    write("certificates", "with_text_around.pem",
          b"Subject: fuzz\n" + ec_cert + b"trailing words\n")
    lines = ec_cert.split(b"\n")
    lines[3] = lines[3][:10] + b"!" + lines[3][11:]
    write("certificates", "bad_damaged_body.pem", b"\n".join(lines))
    write("certificates", "bad_good_then_damaged.pem", ec_cert + rsa_cert[:200])
    return ec_cert


def private_key_seeds(pki):
    write("private_key", "ec_pkcs8_test_key.pem", pki.ec_key("k-ec").read_bytes())
    write("private_key", "rsa_traditional_test_key.pem",
          openssl("pkey", "-in", str(pki.rsa_key("k-rsa")), "-traditional"))
    write("private_key", "ed25519_test_key.pem", pki.ed25519_key("k-ed").read_bytes())
    write("private_key", "encrypted_test_key.pem",
          openssl("pkey", "-in", str(pki.ec_key("k-enc")), "-aes256", "-passout", "pass:test"))
    key = pki.ec_key("k-bad").read_bytes()
    write("private_key", "bad_truncated.pem", key[: len(key) - 40])


def csr_seeds(pki):
    ec_csr = pki.csr(pki.ec_key("r-ec"), "/CN=www.example.test")
    write("csr", "ec_p256_cn.pem", ec_csr)
    write("csr", "rsa2048_san_only.pem", pki.csr(pki.rsa_key("r-rsa"), "/O=cbcs test",
                                                 "-addext", "subjectAltName=DNS:a.example.test"))
    write("csr", "ed25519_cn.pem", pki.csr(pki.ed25519_key("r-ed"), "/CN=ed.example.test"))
    write("csr", "bad_rsa1024.pem", pki.csr(pki.rsa_key("r-1024", 1024), "/CN=weak.example.test"))
    write("csr", "bad_secp256k1.pem", pki.csr(pki.ec_key("r-k1", "secp256k1"), "/CN=k1.test"))
    write("csr", "bad_no_name.pem", pki.csr(pki.ec_key("r-nn"), "/O=nobody"))
    # Forms the fast path reads and forms only OpenSSL's parser reads (the
    # fuzz target checks that both parsers agree on every input).
    write("csr", "ec_p384_sha384.pem", pki.csr(pki.ec_key("r-384", "P-384"), "/CN=p384.test", "-sha384"))
    write("csr", "ec_p521_san.pem", pki.csr(pki.ec_key("r-521", "P-521"), "/O=cbcs test",
                                            "-addext", "subjectAltName=DNS:b.example.test"))
    write("csr", "rsa_pss.pem", pki.csr(pki.rsa_key("r-pss"), "/CN=pss.test",
                                        "-sigopt", "rsa_padding_mode:pss"))
    write("csr", "rsa_sha1.pem", pki.csr(pki.rsa_key("r-sha1"), "/CN=sha1.test", "-sha1"))
    write("csr", "old_header.pem", ec_csr.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"))
    der = bytearray(openssl("req", "-in", "/dev/stdin", "-outform", "DER", stdin=ec_csr))
    der[-5] ^= 0x01  # inside the signature
    write("csr", "bad_signature.pem",
          openssl("req", "-inform", "DER", "-in", "/dev/stdin", stdin=bytes(der)))
    return ec_csr


def vault_seeds():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = bytes(0xA5 ^ i for i in range(32))

    def derive(label):
        return hmac.new(key, label.encode(), hashlib.sha256).digest()

    check = derive("cbcs vault key check")[:16]
    mac_key = derive("cbcs vault file mac")
    record_key = derive("cbcs vault record key")

    def records(entries):
        out = struct.pack(">I", len(entries))
        for i, (name, secret) in enumerate(entries):
            nonce = bytes([i + 1] * 12)
            sealed = AESGCM(record_key).encrypt(nonce, secret, b"cbcs-vault-v1:" + name)
            out += struct.pack(">H", len(name)) + name + nonce + struct.pack(">I", len(sealed))
            out += sealed
        return out

    def file(body):
        head = b"CBCSVLT1" + check + body
        return head + hmac.new(mac_key, head, hashlib.sha256).digest()

    two = records([(b"backend/aws/secretaccesskey", b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                   (b"backend/dc/apikey", b"test-api-key-not-real")])
    # First byte even: the rest is the whole file. Odd: the rest is the record section.
    write("vault", "file_two_records.bin", b"\x00" + file(two))
    write("vault", "file_empty.bin", b"\x00" + file(records([])))
    write("vault", "records_two.bin", b"\x01" + two)
    write("vault", "records_one.bin", b"\x01" + records([(b"n", b"")]))
    write("vault", "bad_file_altered.bin", b"\x00" + file(two)[:-1] + b"\x00")
    write("vault", "bad_other_key.bin", b"\x00CBCSVLT1" + bytes(16) + bytes(36))
    write("vault", "bad_record_aad.bin", b"\x01" + two.replace(b"backend/dc", b"backend/DC"))
    write("vault", "bad_record_count.bin", b"\x01" + struct.pack(">I", 5) + two[4:])


def base64_seeds():
    for name, text in [("empty.txt", b""), ("two_pad1.txt", b"Zm8="),
                       ("three.txt", b"Zm9vYmFy"), ("all_alphabet.txt",
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
                       ("bad_unused_bits.txt", b"Zh=="), ("bad_inner_pad.txt", b"Zg==Zg=="),
                       ("bad_newline.txt", b"Zm9v\nYmFy"), ("binary.bin", bytes(range(256)))]:
        write("base64", name, text)


def serial_number_seeds():
    for name, text in [("plain.txt", b"0adcbe3b"), ("upper.txt", b"0ADCBE3B"),
                       ("minimal.txt", b"adcbe3b"), ("colons.txt", b"0a:dc:be:3b"),
                       ("spaces.txt", b"00 0A DC BE 3B"), ("prefixed.txt", b"0x0adcbe3b"),
                       ("twenty_octets.txt", b"7f" * 20), ("too_long.txt", b"1" * 129),
                       ("zero.txt", b"00:00"), ("double_colon.txt", b"0a::dc"),
                       ("trailing_colon.txt", b"0a:"), ("not_hex.txt", b"0adcbeXY"),
                       ("empty.txt", b""), ("binary.bin", bytes(range(256)))]:
        write("serial_number", name, text)


def acmpca_seeds(cert_pem):
    """Scenario byte, then answers: status byte + body, joined by 0xff.
    Status bytes used: '0' 200, '6' 400, '9' 403, ';' 429, '<' 500, '?' no answer,
    'K' 429 with the body as Retry-After and x-amzn-ErrorType, b'\\x80' held back."""
    ca = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/" \
         "11111111-2222-3333-4444-555555555555"
    describe = compact({"CertificateAuthority": {
        "Arn": ca, "Status": "ACTIVE", "Type": "SUBORDINATE", "NotAfter": 1.9e9,
        "CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "Fuzz CA", "Organization": "cbcs test", "Country": "DE"}}}})
    issue = compact({"CertificateArn": ca + "/certificate/0123456789abcdef0123456789abcdef"})
    get = compact({"Certificate": cert_pem.decode(), "CertificateChain": cert_pem.decode()})
    in_progress = compact({"__type": "RequestInProgressException", "message": "wait"})

    def seed(name, scenario, *answers):
        data = scenario + SEP.join(status + body.encode() for status, body in answers)
        write("acmpca_driver", name, data)

    seed("enroll_ok.bin", b"0", (b"0", describe), (b"0", issue), (b"0", get))
    seed("enroll_held_back.bin", b"0", (b"0", describe), (b"\x80", ""), (b"0", issue), (b"0", get))
    seed("enroll_algorithm_given.bin", b"1", (b"0", issue), (b"6", in_progress), (b"0", get))
    seed("resume_pending_then_ok.bin", b"2", (b"6", in_progress), (b"?", ""), (b"0", get))
    seed("renew_ca_disabled.bin", b"3",
         (b"0", describe.replace('"ACTIVE"', '"DISABLED"')))
    seed("revoke_ok.bin", b"4", (b"0", ""))
    seed("revoke_already.bin", b"4",
         (b"6", compact({"__type": "RequestAlreadyProcessedException", "message": "done"})))
    seed("inventory_two_pages.bin", b"5",
         (b"0", compact({"CertificateAuthorities": [{"Arn": ca}], "NextToken": "t1"})),
         (b"0", compact({"CertificateAuthorities": [{"Arn": ca + "2"}]})),
         (b"0", describe), (b"0", compact({"Certificate": cert_pem.decode()})),
         (b"6", compact({"__type": "ResourceNotFoundException", "Message": "gone"})))
    seed("throttled_retry_after.bin", b"0", (b"K", "7"))
    seed("xml_auth_error.bin", b"6",
         (b"9", "<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                "<Message>The security token is invalid.</Message></Error></ErrorResponse>"))
    seed("not_json.bin", b"0", (b"0", "<html>gateway</html>"))

    # Former crashes/ findings, fixed; kept byte for byte so they replay.
    fixed = {
        "json_message_cut_in_utf8.bin":
            b'06{"__type": "ValidationException", "message": "' + b"a" * 511 + b'\xc3\xa9"}',
        "xml_message_not_utf8.bin":
            b"06<Error><Code>ValidationException</Code><Message>bad \xc3( byte</Message></Error>",
        "code_not_one_line.bin": b"06<Error><Code>Bad\nCode</Code></Error>",
        "retry_after_overflow.bin": b"0]99999999999999999",
        "describe_status_echoes_session_token.bin":
            b'00{"CertificateAuthority":{"Status":"FwoGZXIvYXdzEXAMPLESESSIONTOKENfuzz0123456789"}}',
    }
    for name, data in fixed.items():
        write("acmpca_driver", name, data)


def acmpca_role_seeds():
    """Scenario bytes with bit 3 set ('8', '9'): keys from instance metadata,
    so the first answers are the metadata token, role name and keys.
    Status bytes: '0' 200, '8' 401, ':' 404, '<' 500."""
    keys = compact({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
                    "SecretAccessKey": "fuzzRoleSecretEXAMPLEKEY0123456789abcdef",
                    "Token": "IQoJb3JpZ2luX2VjFUZZTOKEN", "Expiration": "2024-05-17T14:00:00Z"})
    issue = compact({"CertificateArn": "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
                                       "11111111-2222-3333-4444-555555555555/certificate/00ff"})

    def seed(name, scenario, *answers):
        data = scenario + SEP.join(status + body.encode() for status, body in answers)
        write("acmpca_driver", name, data)

    seed("role_enroll_ok.bin", b"9", (b"0", "AQAEtoken=="), (b"0", "cbcs-issuer\n"), (b"0", keys),
         (b"0", issue))
    seed("role_token_expired.bin", b"9", (b"0", "AQAEtoken=="), (b"8", ""), (b"0", "AQAEtoken2"),
         (b"0", "cbcs-issuer"), (b"<", ""), (b"0", keys))
    seed("role_none.bin", b"8", (b"0", "AQAEtoken=="), (b":", ""))
    seed("role_keys_refused.bin", b"8", (b"0", "t"), (b"0", "r"),
         (b"0", compact({"Code": "AssumeRoleUnauthorizedAccess"})))


# Stand-ins: the SCM decoders only look for the PEM label, never parse it.
FAKE_CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfake\n-----END CERTIFICATE REQUEST-----\n"
FAKE_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"


def scm_messages_seeds():
    """Every frame of PROTOCOL.md, registration bodies, and broken ones."""
    def seed(name, value):
        write("scm_messages", name, value if isinstance(value, (str, bytes)) else compact(value))

    backends = [{"name": "aws-prod", "type": "acmpca", "health": "healthy"},
                {"name": "dc", "type": "digicert", "health": "degraded",
                 "message": "429 from the API"}]
    seed("hello.json", {"type": "hello", "seq": 1, "connector_id": "c-5b0e6f2a",
                        "version": "0.1.0", "protocol": 1, "backends": backends})
    seed("hello_ack.json", {"type": "hello_ack", "seq": 1, "protocol": 1,
                            "server_time_ms": 1767225600123, "heartbeat_interval_ms": 20000})
    seed("heartbeat.json", {"type": "heartbeat", "seq": 7, "time_ms": 1767225620123})
    seed("heartbeat_backends.json", {"type": "heartbeat", "seq": 8, "time_ms": 1767225640123,
                                     "backends": [{"name": "dc", "type": "digicert",
                                                   "health": "sleepy"}]})
    seed("heartbeat_no_backends.json", {"type": "heartbeat", "seq": 9, "time_ms": 0,
                                        "backends": []})
    seed("heartbeat_ack.json", {"type": "heartbeat_ack", "seq": 5, "ack": 8,
                                "time_ms": 1767225640125})
    seed("job_enroll.json", {"type": "job", "seq": 12, "lease_id": "l-91c2",
                             "lease_expires_at_ms": 1767225650000,
                             "job": {"id": "job-7f3a9c", "operation": "enroll",
                                     "backend": "aws-prod", "csr": FAKE_CSR,
                                     "validity_seconds": 7776000,
                                     "profile": "EndEntityCertificate/V1",
                                     "params": {"ca_arn": "arn:aws:acm-pca:eu-west-1:1:ca/x"}}})
    seed("job_revoke.json", {"type": "job", "seq": 13, "lease_id": "l-91c3",
                             "lease_expires_at_ms": 1, "job": {
                                 "id": "job-7f3a9d", "operation": "revoke", "backend": "local",
                                 "serial": "1f03a2", "reason": "keyCompromise"}})
    seed("job_ack_accepted.json", {"type": "job_ack", "seq": 9, "job_id": "job-7f3a9c",
                                   "lease_id": "l-91c2", "accepted": True})
    seed("job_ack_refused.json", {"type": "job_ack", "seq": 10, "job_id": "job-7f3a9d",
                                  "lease_id": "l-91c3", "accepted": False, "reason": "busy",
                                  "message": "64 jobs in flight on aws-prod"})
    seed("result_issued.json", {"type": "result", "seq": 14, "job_id": "job-7f3a9c",
                                "outcome": {"outcome": "issued", "certificate": FAKE_CERT,
                                            "chain": FAKE_CERT, "serial": "1f03a2"}})
    seed("result_failed.json", {"type": "result", "seq": 15, "job_id": "job-7f3a9d",
                                "outcome": {"outcome": "failed", "error": "rejected",
                                            "retryable": False,
                                            "backend_code": "ValidationException",
                                            "message": "cancelled by SCM: order withdrawn"}})
    seed("result_done.json", {"type": "result", "seq": 16, "job_id": "job-7f3a9e",
                              "outcome": {"outcome": "done", "report": "{\"revoked\":true}"}})
    seed("result_ack.json", {"type": "result_ack", "seq": 20, "job_id": "job-7f3a9c"})
    seed("pending.json", {"type": "pending", "seq": 11, "job_id": "job-7f3a9c",
                          "next_poll_at_ms": 1767225900000, "message": "awaiting approval"})
    seed("renew_identity.json", {"type": "renew_identity", "seq": 30, "csr": FAKE_CSR})
    seed("identity.json", {"type": "identity", "seq": 41, "certificate": FAKE_CERT,
                           "chain": FAKE_CERT})
    seed("error.json", {"type": "error", "seq": 42, "code": "unsupported_type",
                        "message": "unsupported message type \"resize\"", "ref_seq": 17})
    seed("error_job.json", {"type": "error", "seq": 43, "code": "unknown_job",
                            "message": "no such job", "job_id": "job-0000"})
    seed("bye.json", {"type": "bye", "seq": 50, "reason": "maintenance",
                      "message": "upgrading SCM", "reconnect_after_ms": 30000})
    seed("cancel.json", {"type": "cancel", "seq": 51, "job_id": "job-7f3a9c",
                         "reason": "order withdrawn by the requester"})
    seed("cancel_no_reason.json", {"type": "cancel", "seq": 52, "job_id": "job-7f3a9d"})
    seed("cancel_null_reason.json", '{"type":"cancel","seq":53,"job_id":"j","reason":null}')
    seed("unknown_type.json", {"type": "resize", "seq": 17, "rows": 40})
    seed("newer_fields.json", {"type": "result_ack", "seq": 1, "job_id": "j-1",
                               "future": {"nested": [1, 2, {"x": None}]}})
    seed("escapes.json", '{"type":"bye","seq":1,"reason":"caf\\u00e9 \\ud83d\\ude00",'
                         '"message":"a\\u0000b\\\\ \\"q\\""}')

    # Registration bodies.
    seed("registration_response.json", {
        "connector_id": "c-5b0e6f2a", "certificate": FAKE_CERT, "chain": FAKE_CERT,
        "scm_ca": FAKE_CERT, "session_url": "wss://scm.example.com/api/connector/v1/session",
        "group": "eu-pool"})
    seed("registration_error.json", {"error": "token_used", "message": "the token was used"})
    seed("registration_request.json", {
        "token": "cbcs1.eyJzY20iOiJ4In0.Xy3_k2aQ", "csr": FAKE_CSR,
        "hostname": "ca-gw-01.example.com", "os": "linux",
        "os_version": "Debian GNU/Linux 12 (bookworm)", "version": "0.1.0"})
    seed("bad_registration_url.json", {
        "connector_id": "c", "certificate": FAKE_CERT, "scm_ca": FAKE_CERT,
        "session_url": "https://scm.example.com/"})

    # Broken: each breaks one rule.
    seed("bad_missing_backends.json", {"type": "hello", "seq": 1, "connector_id": "c",
                                       "version": "1", "protocol": 1})
    seed("bad_seq_string.json", {"type": "heartbeat", "seq": "7", "time_ms": 1})
    seed("bad_seq_2p53.json", '{"type":"heartbeat","seq":9007199254740992,"time_ms":1}')
    seed("bad_seq_u64.json", '{"type":"heartbeat","seq":18446744073709551616,"time_ms":1}')
    seed("bad_time_float.json", '{"type":"heartbeat_ack","seq":1,"ack":1,"time_ms":1e400}')
    seed("bad_negative.json", '{"type":"bye","seq":1,"reason":"x","reconnect_after_ms":-1}')
    seed("bad_utf8.bin", b'{"type":"bye","seq":1,"reason":"\xc3\x28"}')
    seed("bad_lone_surrogate.json", '{"type":"bye","seq":1,"reason":"\\ud800"}')
    seed("bad_deep.json", '{"type":"job","seq":1,"lease_id":"l","lease_expires_at_ms":1,'
                          '"job":' + '{"a":' * 600 + '1' + '}' * 600 + '}')
    seed("bad_deep_array.json", "[" * 2000 + "]" * 2000)
    seed("bad_truncated.json", '{"type":"cancel","seq":1,"job_id":"job-7f')
    seed("bad_not_object.json", '["type","hello"]')
    seed("bad_result_pending.json", {"type": "result", "seq": 1, "job_id": "j",
                                     "outcome": {"outcome": "pending", "poll_after_ms": 5}})
    seed("bad_cancel_job_id.json", {"type": "cancel", "seq": 1, "job_id": "job with spaces"})
    seed("bad_cancel_job_id_type.json", {"type": "cancel", "seq": 1, "job_id": 42})
    seed("bad_type_control.json", '{"type":"\\u001b[31m' + "A" * 100 + '","seq":1}')
    seed("duplicate_keys.json", '{"type":"result_ack","seq":1,"job_id":"a","job_id":"b"}')

    # Former findings, fixed (README, crashes/): peer texts with line breaks
    # went to the log and to `cbcs register`'s one-line error as they were.
    seed("registration_error_multiline.json",
         {"error": "internal", "message": "line one\nFAKE: registered OK\r\n\u001b[2K"})
    seed("error_message_multiline.json",
         {"type": "error", "seq": 2, "code": "internal\n", "message": "a\u0085b\u2028c\td"})
    seed("bye_message_long.json", {"type": "bye", "seq": 3, "reason": "shutdown",
                                   "message": "\u00e9" * 700})
    seed("cancel_reason_multiline.json", {"type": "cancel", "seq": 4, "job_id": "j",
                                          "reason": "first\nsecond"})
    # Empty: the replay passes no data pointer at all, which simdjson copied from.
    seed("empty.bin", b"")


def token_text(payload_json):
    import base64

    def b64url(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    text = "cbcs1." + b64url(payload_json.encode() if isinstance(payload_json, str)
                             else payload_json)
    return text + "." + b64url(hashlib.sha256(text.encode()).digest()[:6])


def installation_token_seeds():
    """First byte odd: the harness wraps the rest, a payload, into a token.
    Even: the rest is the text as it is."""
    pin = "3f2a9c0b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3"
    secret = "q6Zk1X3vS0a9m2YcJw8Hn4rLbE7tUuPdVfGiOoRyTs0"
    good = {"scm": "https://scm.example.com:8443", "ca_sha256": pin, "secret": secret,
            "exp": 1767225600}

    def text(name, value):
        write("installation_token", name, b"\x00" + (value.encode() if isinstance(value, str)
                                                     else value))

    def payload(name, value):
        body = value if isinstance(value, (str, bytes)) else compact(value)
        write("installation_token", name, b"\x01" + (body.encode() if isinstance(body, str)
                                                     else body))

    token = token_text(compact(good))
    text("token.txt", token)
    text("token_spaces.txt", "  \t" + token + "\r\n")
    text("token_no_pin.txt", token_text(compact({k: v for k, v in good.items()
                                                 if k != "ca_sha256"})))
    text("bad_damaged.txt", token[:-1] + ("A" if token[-1] != "A" else "B"))
    text("bad_newer_version.txt", "cbcs2." + token[6:])
    text("bad_no_check.txt", token.rsplit(".", 1)[0])
    text("bad_four_parts.txt", token + ".x")
    text("bad_too_long.txt", "cbcs1." + "A" * 4100 + ".AAAAAAAA")
    text("bad_empty.txt", "")
    text("bad_payload_not_base64.txt", token_text(b"\xff\xfe not json"))
    text("bad_payload_padding.txt", "cbcs1.eyJ9==.AAAAAAAA")
    # parse_endpoint and base64url read the same text.
    text("url_ipv6.txt", "https://[::1]:8443/api/connector/v1/session?x=1")
    text("url_wss.txt", "WSS://Scm.Example.COM")
    text("url_bad_port.txt", "https://h:65536/")
    text("url_user.txt", "https://user@h/")
    text("base64url.txt", "q6Zk1X3vS0a9m2YcJw8Hn4rLbE7tUuPdVfGiOoRyTs0")

    payload("good.json", good)
    payload("good_restore.json", dict(good, kind="restore"))
    payload("good_upper_pin_slash.json", dict(good, ca_sha256=pin.upper(),
                                              scm="https://scm.example.com/"))
    payload("good_ipv6.json", dict(good, scm="https://[2001:db8::1]:443"))
    payload("good_null_pin.json", dict(good, ca_sha256=None))
    payload("good_secret_in_host.json", dict(good, scm=f"https://{secret}.example"))
    payload("bad_scm_path.json", dict(good, scm="https://scm.example.com/api"))
    payload("bad_scm_http.json", dict(good, scm="http://scm.example.com"))
    payload("bad_scm_user.json", dict(good, scm="https://u:p@scm.example.com"))
    payload("bad_scm_port.json", dict(good, scm="https://scm.example.com:0"))
    payload("bad_scm_query.json", dict(good, scm="https://scm.example.com?x"))
    payload("bad_pin_short.json", dict(good, ca_sha256=pin[:63]))
    payload("bad_secret_short.json", dict(good, secret="abc"))
    payload("bad_secret_chars.json", dict(good, secret=secret[:20] + "+/="))
    payload("bad_exp_zero.json", dict(good, exp=0))
    payload("bad_exp_negative.json", dict(good, exp=-1))
    payload("bad_exp_year10000.json", dict(good, exp=253402300800))
    payload("bad_exp_float.json", compact(good).replace("1767225600", "1.7e9"))
    payload("bad_exp_huge.json", compact(good).replace("1767225600", "1" * 30))
    payload("bad_exp_string.json", dict(good, exp="1767225600"))
    payload("bad_missing_scm.json", {k: v for k, v in good.items() if k != "scm"})
    payload("bad_scm_number.json", dict(good, scm=443))
    payload("bad_not_object.json", "[1,2]")
    payload("bad_utf8.bin", compact(good).encode().replace(b"q6Zk", b"q6\xc3\x28"))
    payload("bad_deep.json", '{"x":' + "[" * 1500 + "]" * 1500 + "}")
    payload("bad_truncated.json", compact(good)[:40])
    # Former finding, fixed (crashes/README.md): describe() overflowed.
    payload("exp_after_2262.json", dict(good, exp=253401150400))


def digicert_driver_seeds():
    """Scenario byte, then answers: status byte + body, joined by 0xff.
    Status bytes: '0' 200, '3' 201, '5' 204, '6' 400, '8' 401, '9' 403, ';' 429,
    '<' 500, '?' no answer, 'K' 429 with the body as Retry-After, b'\\x80' held back."""
    orgs = compact({"organizations": [{"id": 112233, "name": "Example Inc", "status": "active",
                                       "is_active": True, "validations": [
                                           {"type": "ov", "status": "validated"}]}]})
    empty = compact({"orders": [], "page": {"total": 0, "limit": 20, "offset": 0}})
    listed = compact({"orders": [{"id": 4001, "date_created": "2024-05-17T07:00:00+00:00"}],
                      "page": {"total": 2, "limit": 1, "offset": 0}})
    pending = compact({"id": 4001, "requests": [{"id": 555, "status": "pending"}]})
    info = compact({"id": 4001, "status": "needs_approval", "comments": "cbcs job fuzz-job-1",
                    "certificate": {"id": 9001, "serial_number": "0A1B", "csr": "x"},
                    "requests": [{"id": 555, "status": "pending"}]})
    issued = info.replace("needs_approval", "issued")
    chain = compact({"id": 4001, "certificate_id": 9001, "certificate_chain": [
        {"subject_common_name": "web.example", "pem": "-----BEGIN CERTIFICATE-----\r\nAA==\r\n"
                                                      "-----END CERTIFICATE-----\r\n"}]})
    errors = compact({"errors": [{"code": "invalid_csr", "message": "The CSR is bad"}]})

    def seed(name, scenario, *answers):
        data = scenario + SEP.join(status + body.encode() for status, body in answers)
        write("digicert_driver", name, data)

    seed("enroll_at_once.bin", b"0", (b"0", orgs), (b"0", empty), (b"3", chain))
    seed("enroll_approval.bin", b"\x08", (b"0", orgs), (b"0", empty), (b"3", pending),
         (b"5", ""), (b"0", issued), (b"0", "-----BEGIN CERTIFICATE-----\nAA==\n"))
    seed("enroll_lost_then_found.bin", b"0", (b"0", orgs), (b"0", empty), (b"?", ""),
         (b"0", listed), (b"0", info), (b"0", issued))
    seed("enroll_rate_limited.bin", b"0", (b"0", orgs), (b"0", empty), (b"\x80", ""), (b"K", "3"),
         (b"0", empty), (b"6", errors))
    seed("resume_unknown_status.bin", b"1", (b"0", info.replace("needs_approval", "frob")))
    seed("renew_reissue.bin", b"2", (b"0", orgs), (b"0", issued), (b"0", issued),
         (b"3", pending), (b"0", issued))
    seed("renew_new_order.bin", b"\x12", (b"0", orgs), (b"0", issued), (b"0", empty),
         (b"3", chain))
    seed("revoke_pending.bin", b"3", (b"0", issued),
         (b"3", compact({"id": 555, "status": "pending"})), (b"0", '{"id":555,"status":"approved"}'))
    seed("revoke_resumed.bin", b"4", (b"0", '{"id":555,"status":"rejected","processor_comment":"no"}'))
    seed("test_report.bin", b"5", (b"0", orgs),
         (b"0", compact({"username": "api", "access_roles": [{"id": 3, "name": "User"}]})))
    seed("cancel.bin", b"6", (b"5", ""))
    seed("auth_error.bin", b"0", (b"8", compact({"errors": {"code": "access_denied",
                                                            "message": "FUZZKEY0123456789ABCDEFGHIJKLMNOPQRS"}})))
    seed("not_json.bin", b"0", (b"0", "<html>gateway</html>"))
    # Former findings, fixed; kept byte for byte so they replay.
    write("digicert_driver", "organization_fetch_lost.bin", b"'/")
    seed("date_created_year_4202.bin", b"0", (b"0", orgs), (b"0", empty), (b"?", ""),
         (b"0", listed.replace("2024-05-17", "4202-05-17")))


def driver_toolkit_seeds():
    # The first byte picks the parser: 0 Retry-After, 1 XML, 2 -ratelimit,
    # 3 order token, 4 -maxpending.
    seeds = {
        "retry_after_seconds.bin": b"\x00120",
        "retry_after_imf_date.bin": b"\x00Sun, 06 Nov 1994 08:49:37 GMT",
        "retry_after_rfc850.bin": b"\x00Sunday, 06-Nov-94 08:49:37 GMT",
        "retry_after_asctime.bin": b"\x00Sun Nov  6 08:49:37 1994",
        "retry_after_huge.bin": b"\x0099999999999999999999999",
        "xml_aws_error.bin": b'\x01<?xml version="1.0"?><ErrorResponse><Error>'
                             b"<Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>"
                             b"</ErrorResponse>",
        "xml_entities.bin": b'\x01<!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                            b"<e><Code>&b;</Code></e>",
        "xml_soap_prefix.bin": b'\x01<s:Envelope xmlns:s="x"><s:Body><s:Code>7</s:Code>'
                               b"</s:Body></s:Envelope>",
        "xml_truncated.bin": b"\x01<Error><Code>X</Code",
        "rate_limits_windows.bin": b"\x02default=100/5s+1000/3m,issue=25",
        "rate_limits_off.bin": b"\x02off",
        "rate_limits_bad.bin": b"\x02issue=2.5/5s,issue=3",
        # Found by the fuzzer: 8e-05 was accepted and written back as "8e-05".
        "rate_limit_tiny_rate.bin": b"ut=.000080",
        "order_token.bin": b"\x03order:1764633600:A7:with:colons",
        "order_token_bad.bin": b"\x03order:-1:x",
        "duration_days.bin": b"\x0430d",
        "duration_huge.bin": b"\x0499999999999d",
    }
    for name, data in seeds.items():
        write("driver_toolkit", name, data)


def service_texts_seeds():
    """Mode byte: 0 systemctl show, 1 paths, 2 unit text, 3 notify environment."""
    seeds = {
        "show_running.bin": b"\x00LoadState=loaded\nActiveState=active\nSubState=running\n"
                            b"UnitFileState=enabled\nMainPID=4242\nFragmentPath=/lib/systemd/system/"
                            b"cbcs.service\nActiveEnterTimestamp=Wed 2026-12-02 06:00:00 UTC\n"
                            b"Result=success\n",
        "show_failed.bin": b"\x00LoadState=loaded\nActiveState=failed\nResult=watchdog\nMainPID=0\n",
        "show_missing.bin": b"\x00LoadState=not-found\n",
        "show_garbage.bin": b"\x00=\nMainPID=99999999999999999999\nMainPID=-1\n\r\n",
        "paths_plain.bin": b"\x01/usr/bin/cbcs\x00/var/lib/cbcs",
        "paths_other.bin": b"\x01/opt/cbcs/bin/cbcs\x00/srv/cbcs/",
        "paths_newline.bin": b"\x01/opt/a\nExecStartPre=/bin/evil\x00/srv",
        "paths_relative.bin": b"\x01cbcs\x00data",
        "unit_minimal.bin": b"\x02[Service]\nExecStart=/bin/true\n",
        "unit_none.bin": b"\x02[Service]\nType=notify\n",
        "notify_abstract.bin": b"\x03@cbcs-fuzz\x00600000\x00",
        "notify_path.bin": b"\x03/run/cbcs-fuzz-none/notify\x00x\x001",
        "notify_relative.bin": b"\x03notify\x0018446744073709551615\x00",
        # Found by the fuzzer: 2^64-1 us was a negative interval.
        "notify_huge_interval.bin": b"\x03@cbcs-fuzz\x0018446744073709551615\x00",
    }
    for name, data in seeds.items():
        write("service_texts", name, data)


def gcpcas_driver_seeds():
    """Scenario byte, then answers (status byte + body, joined by 0xff).
    Status bytes: '0' 200, '6' 400, '8' 401, '9' 403, ';' 409, '<' 429,
    '=' 503, '?' no answer, 'L' 429 with the body as Retry-After, b'\\x80' held back
    (ignored on the token call, a side call).
    The certificate is the certificates corpus' test certificate."""
    cert = (CORPUS / "certificates" / "ec_test_cert.pem").read_text()
    token = compact({"access_token": "ya29.FUZZTOKEN0123456789", "expires_in": 3599,
                     "token_type": "Bearer"})
    pools = compact({"caPools": [{"name": "projects/p/locations/l/caPools/pool-a",
                                  "tier": "ENTERPRISE"}]})
    created = compact({"name": "projects/p/locations/l/caPools/pool-a/certificates/fuzz-job-1",
                       "pemCertificate": cert, "pemCertificateChain": [cert]})

    def err(code, status, message):
        return compact({"error": {"code": code, "message": message, "status": status}})

    def seed(name, scenario, *answers):
        data = scenario + SEP.join(status + body.encode() for status, body in answers)
        write("gcpcas_driver", name, data)

    seed("enroll_only_pool.bin", b"0", (b"0", token), (b"0", pools), (b"0", created))
    seed("enroll_held_back.bin", b"0", (b"\x80", token), (b"\x80", ""), (b"0", pools),
         (b"\x80", ""), (b"0", created))
    seed("enroll_two_pools.bin", b"0", (b"0", token), (b"0", compact({"caPools": [
        {"name": "projects/p/locations/l/caPools/a"}, {"name": "projects/p/locations/l/caPools/b"}],
        "nextPageToken": ""})))
    seed("enroll_exists_then_get.bin", b"1", (b"0", token),
         (b";", err(409, "ALREADY_EXISTS", "exists")), (b"0", created))
    seed("renew_quota_then_ok.bin", b"2", (b"0", token), (b"L", "2"),
         (b"=", err(503, "UNAVAILABLE", "later")), (b"0", created))
    seed("revoke_by_serial.bin", b"3", (b"0", token), (b"0", compact({"tier": "ENTERPRISE"})),
         (b"0", compact({"certificates": [{"name": "projects/p/locations/l/caPools/pool-a/certificates/x"}]})),
         (b"0", created))
    seed("revoke_already.bin", b"4", (b"0", token),
         (b"6", err(400, "FAILED_PRECONDITION", "Certificate is already revoked")))
    seed("inventory.bin", b"5", (b"0", token), (b"0", pools),
         (b"0", compact({"certificateAuthorities": [{"name": "x/certificateAuthorities/ca-1",
                                                     "state": "ENABLED", "tier": "ENTERPRISE"}]})))
    seed("test_missing_permission.bin", b"6", (b"0", token), (b"0", pools), (b"9", err(403, "PERMISSION_DENIED", "no")),
         (b"0", compact({"permissions": ["privateca.caPools.get"]})))
    seed("invalid_grant.bin", b"1", (b"6", compact({"error": "invalid_grant",
                                                  "error_description": "Invalid JWT Signature."})))
    seed("token_echoed_in_error.bin", b"1", (b"0", token),
         (b"9", err(403, "PERMISSION_DENIED",
                    "Permission 'privateca.certificates.create' denied for ya29.FUZZTOKEN0123456789")))
    seed("unauthenticated_twice.bin", b"1", (b"0", token), (b"8", err(401, "UNAUTHENTICATED", "x")),
         (b"0", token), (b"8", err(401, "UNAUTHENTICATED", "x")))
    seed("not_json.bin", b"1", (b"0", token), (b"0", "<html>gateway</html>"))
    seed("devops_revoke.bin", b"7")

    # Former findings, fixed; kept byte for byte so they replay.
    fixed = {
        # a token answer that is not UTF-8: its fields were read from a failed parse (UBSan)
        "token_answer_not_utf8.bin": base64.b64decode(
            "MDB7ImGdnJqMjKCLkGtlbiI6InlhMjkuRlVaWlRPS0VOMDEyMzQ1Njc4OSIsImV4cGlyZXNfaW4iOjM1OTks"
            "InRva2VuX3R5cGUiOiJCZWFyZXIiff8weyJjYVBvb2xzIjpbeyJuYW1lIjoicHJvamVjdHMvcC9sb2NhdGlv"
            "bnMvbC9jYVBvb2xzL2EifSx7Im5hbWUiOiJwcm9qZWN0cy9wL2xvY2F0aW96cy9sL2NhUG9vbHMvYiJ9XSwi"
            "bmV4dFBhZ2VUb2tlbiI6IiJ9"),
        # an empty answer body (a null string_view) handed to the parser
        "empty_answer_body.bin": base64.b64decode(
            "MTB7ImFjY2Vzc190b2tlbiI6InlhMjkuRlVaWlRPS0VOMDEyMzQ1Njc4OSIsImV4cGlyZXNfaW4iOjM1OTksInRv"
            "a2VuX3R5cGUiOiJCZWFyZXIiff84eyJlcnJvciI6eyJjb2RlIjo0MDEsIm1lc3NhZ2UiOiJ4Iiwic3RhdHVzIjoi"
            "VU5BVf////////////////////////////////////////////////////////////////////////////9USEVO"
            "VElDQVRFRCJ9ff8weyJhY2Nlc3NfdG9rZW4iOiJ5YTI5LkZVWlpUT0tFTjAxMjM0NTY3ODkiLCJleHBpcmVzX2lu"
            "IjozNTk5LCJ0b2tlbl90eXBlIjoiQmVhcmVyIn3/OHsiZXJyb3IiOnsiY29kZSI6NDAxLCJtZXNzYWdlIjoieCIs"
            "InN0YXR1cyI6IlVOQVVUSEVOVElDQVRFRCJ9fQ=="),
        # a lookup by serial answering a name outside the pool (it went into the URL)
        "serial_lookup_name_outside_pool.bin": base64.b64decode(
            "MzB7ImFjY2Vzc190b2tlbiI6InlhMjkuRlVaWlRPS0VOMDEyMzQ1Njc4OSIsImV4cGlyZXNfaW4iOjM1OTksInRv"
            "a2VuX3R5cGUiOiJCZWFyZXIiff8weyJ0aWVyIjoiRU5URVJQUklTRSJ9/zB7ImNlcnRpZmljYXRlcyI6W3sibmFt"
            "ZSI6InByb2plY3RzL3AvbG9jYXRpb25zb2NhbC9QL29scy9wb29sLWEvY2VydGlmaWNhdGVzL3gifV19/zB7Im5h"
            "bWUiOiJwcm9qZWN0cy9wL2xvY2F0aW9ucy9sL2NhUG9vbHMvcG9vbC1hL2NlcnRpZmljYXRlcy9mdXp7LWpvYi0x"
            "IiwicGVtQ2VydGlmaWNhdGUiOiItLS0tLUJFR0lOIENFUlRJRklDQVRFLS0tLS1cbk1JSUJxakNDQVZHZ0F3SUJB"
            "Z0lVRmp1RWVXZ2VsVzl5c2NJeXowMHsiYZ2cmoyMoIuQa2VuIjoieWEyOS5GVXdmN1dsWDIrT0l3Q2dZSUtvWkl6"
            "ajBFQXdJpqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqampqam"
            "pqampqampqampqampqampqampqampqampqampqampqampqampqampndcbkt6RVZNQk1HQTFVRUF3d01ablY2ZWlC"
            "MFpYTjBJRVZETVJJdy9jYVBvb2xzL3Bvb2wtYS9jZXJ0aWZaWlRPS0VOMDEyMzQ1NmljYXRlcy94In1dNzg5Iiwi"
            "ZXhwaXJlc19pbiI6MzU5OSwidGVjdHMvcC9sb2NhdGlvbnMvbC9jYVBvb2xzL2EifSx7Im5hbWUiOiJwcm9qZWN0"
            "c33/MHsibmFtZSI6InByb2plY3RzL3AvbG9jYXRpb25zL2wvY2FQb29scy9wb29sLWEvY2VydGlmaWNhdGVzL2Z1"
            "enstai9wL2xvY2F0aW96cy9sL2NhUG9vbHMvYiJ9XSwibmVvYi0xIix4dFBhZ2VUb2tlbiI6IiJwZW1DZXJ0aWZp"
            "Y2F0ZSI6Ii0tLS0tQkVHSU4gQ0VSVElGSUNBVEUtLS0tLSJcbk1JSUJxakNDQVZHZ0F3SUJBZ0lVRmp1RWVXZ2Vs"
            "Vzl5c2NJeXp3ZjdXbFgyK09Jd0NnWUlLb1pJemowRUF3SXdcbkt6RVZNQk1HQTFVRUF3d01ablY2ZWlCMFpYTjBJ"
            "RVZETVJJd0VBWURWUVFLREFsalltTnpJSFJsYzNRd0hoY05cbk1qWXhNVEkzTURVME16VTJXaGNOTWpjeE1USTNN"
            "RFUwTXpVMldqQXJNUlV3RXdZfURWUVFEREF4bWRYcDZJSFJsXG5jM1FnUlVNeEVqQVFCZ05WQkFvTUNXTmlZM01n"
            "ZEdWemQ="),
        "token_expires_at_once.bin": b'10{"access_token":"ya29.x","expires_in":0.001}',
        "token_error_code_not_identifier.bin": b'16{"error":"bad code\n!","error_description":"x"}',
    }
    for name, data in fixed.items():
        write("gcpcas_driver", name, data)


def msi_action_data_seeds():
    """First byte: bit 0 the identity exists, bit 1 the rest is fields split at 0xff."""
    def packed(fields):
        out = b""
        for name, value in sorted(fields.items()):
            for part in (name.encode(), value.encode()):
                out += str(len(part)).encode() + b":" + part
        return out

    def split(fields):
        return SEP.join(part.encode() for kv in fields.items() for part in kv)

    first = {"install_dir": "C:\\Program Files\\CBCS\\", "data_dir": "C:\\ProgramData\\CBCS",
             "token": "cbcs1.eyJzY20iOiJodHRwczovL3NjbS5leGFtcGxlIn0.abc"}
    proxy = dict(first, proxy_type="1", proxy_addr="proxy.corp.example", proxy_port="3128",
                 proxy_user="svc cbcs", proxy_password='p"w\\ ;[1]')
    seeds = {
        "first_install_packed.bin": b"\x00" + packed(first),
        "upgrade_no_token_packed.bin": b"\x01" + packed({k: v for k, v in first.items() if k != "token"}),
        "proxy_fields.bin": b"\x02" + split(proxy),
        "force_again_fields.bin": b"\x03" + split(dict(first, force="1")),
        "force_bad_fields.bin": b"\x03" + split(dict(first, force="yes")),
        "force_without_token_fields.bin": b"\x03" + split({k: v for k, v in dict(first, force="1").items()
                                                           if k != "token"}),
        "quote_in_dir_fields.bin": b"\x02" + split(dict(first, install_dir='C:\\x" -force "y')),
        "proxy_without_type_fields.bin": b"\x02" + split(dict(first, proxy_addr="p", proxy_password="pw")),
        "truncated_packed.bin": b"\x00" + packed(first)[:-7],
        "repeated_name_packed.bin": b"\x00" + b"1:k1:v1:k1:w",
        "brackets_packed.bin": b"\x00" + packed({"token": "[1]{x}[\\[]", "install_dir": "C:\\a",
                                                 "data_dir": "C:\\b"}),
    }
    # Found by the fuzzer: a data directory "-token" was an option of its own.
    seeds["data_dir_is_an_option.bin"] = base64.b64decode(
        "A2luc3RhbGxfZGly/2M6bGVzXEJCJkNTXP9kYXRhX2Rpcv8tdG9rZW7/dG9rZW7/Y2Jj/v//bnMwLmUtcHJveHktcGFzc3lKICAg/3Rva+VuVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVf9jYiNj/2ZvcmNl/zE=")
    for name, data in seeds.items():
        write("msi_action_data", name, data)


def cms_response_seeds(pki):
    """AD CS answers: certs-only PKCS #7 (openssl crl2pkcs7) and CMC Full PKI
    Responses (RFC 5272 PKIResponse, eContentType id-cct-PKIResponse) signed by
    a test CA; a CMS-signed PKCS #10 as an agent sends it; damaged ones."""
    d = pki.dir
    root_key, ca_key, leaf_key = pki.ec_key("cms_root"), pki.ec_key("cms_ca"), pki.ec_key("cms_leaf")
    (d / "root.pem").write_bytes(pki.self_signed(root_key, "/CN=Test Root"))
    ext = d / "ca.ext"
    ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    for name, key, issuer, issuer_key, extra in (
            ("ca", ca_key, "root", root_key, ["-extfile", str(ext)]),
            ("leaf", leaf_key, "ca", ca_key, [])):
        (d / f"{name}.csr").write_bytes(pki.csr(key, f"/CN=cms {name}"))
        openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / f"{issuer}.pem"),
                "-CAkey", str(issuer_key), "-set_serial", "7", "-days", "365", "-sha256",
                *extra, "-out", str(d / f"{name}.pem"))
    chain = d / "chain.pem"
    chain.write_bytes(b"".join((d / f"{n}.pem").read_bytes() for n in ("root", "leaf", "ca")))
    certs_only = openssl("crl2pkcs7", "-nocrl", "-certfile", str(chain), "-outform", "DER")
    write("cms_response", "certs_only_chain.p7b", certs_only)
    write("cms_response", "certs_only_leaf.p7b", openssl(
        "crl2pkcs7", "-nocrl", "-certfile", str(d / "leaf.pem"), "-outform", "DER"))
    b64 = base64.b64encode(certs_only).decode()
    write("cms_response", "certs_only_base64_crlf.txt",
          "\r\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)))

    def tlv(tag, content):
        n = len(content)
        size = bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xff])
        return bytes([tag]) + size + content

    def seq(*parts):
        return tlv(0x30, b"".join(parts))

    def integer(v):
        return tlv(0x02, bytes([v]))

    status_v1 = tlv(0x06, bytes.fromhex("2b06010505070701"))
    status_v2 = tlv(0x06, bytes.fromhex("2b06010505070719"))

    def response(oid, status):
        return seq(seq(seq(integer(1), oid, tlv(0x31, status))), seq(), seq())

    def cmc(name, content, *certfile):
        # The signer's certificate goes in by itself: -certfile must not repeat it.
        path = d / f"{name}.der"
        path.write_bytes(content)
        write("cms_response", f"{name}.p7b", openssl(
            "cms", "-sign", "-binary", "-nodetach", "-nosmimecap", "-econtent_type",
            "1.3.6.1.5.5.7.12.3", "-in", str(path), "-signer", str(d / "ca.pem"), "-inkey",
            str(ca_key), *certfile, "-outform", "DER"))

    others = d / "others.pem"
    others.write_bytes((d / "root.pem").read_bytes() + (d / "leaf.pem").read_bytes())
    cmc("cmc_success", response(status_v1, seq(integer(0), seq(integer(1)))),
        "-certfile", str(others))
    cmc("cmc_pending", response(status_v1, seq(
        integer(3), seq(integer(1)), tlv(0x0c, b"Taken Under Submission"),
        seq(tlv(0x04, bytes([0, 0, 0, 42])), tlv(0x18, b"20260101000000Z")))))
    cmc("cmc_failed_v2", response(status_v2, seq(
        integer(2), seq(integer(1)), tlv(0x0c, b"Denied by Policy Module"), integer(2))))
    write("cms_response", "bad_truncated.p7b", certs_only[: len(certs_only) // 2])
    write("cms_response", "bad_trailing.p7b", certs_only + b"\0")
    (d / "leaf.csr.der").write_bytes(openssl("req", "-in", str(d / "leaf.csr"), "-outform", "DER"))
    write("cms_response", "request_signed.p7b", openssl(
        "cms", "-sign", "-binary", "-nodetach", "-nosmimecap", "-in", str(d / "leaf.csr.der"),
        "-signer", str(d / "ca.pem"), "-inkey", str(ca_key), "-outform", "DER"))


def main():
    keyless = {"msi_action_data": msi_action_data_seeds,
               "scm_messages": scm_messages_seeds,
               "digicert_driver": digicert_driver_seeds,
               "service_texts": service_texts_seeds,
               "installation_token": installation_token_seeds,
               "driver_toolkit": driver_toolkit_seeds,
               "gcpcas_driver": gcpcas_driver_seeds,
               "serial_number": serial_number_seeds}
    names = sys.argv[1:]
    if names:
        unknown = [n for n in names if n not in keyless]
        if unknown:
            sys.exit(f"make_corpus.py: only {', '.join(keyless)} can be written alone")
        for name in names:
            shutil.rmtree(corpora()[name], ignore_errors=True)
            keyless[name]()
        print(f"wrote {', '.join(names)}")
        return
    if shutil.which("openssl") is None:
        sys.exit("make_corpus.py needs the openssl command")
    folders = corpora().values()
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    pki = test_pki()
    try:
        csr_pem = csr_seeds(pki)
        job_codec_seeds(csr_pem.decode())
        connector_config_seeds()
        json_problem_seeds()
        service_account_seeds(pki)
        cert_pem = certificate_seeds(pki)
        private_key_seeds(pki)
        vault_seeds()
        base64_seeds()
        acmpca_seeds(cert_pem)
        acmpca_role_seeds()
        cms_response_seeds(pki)
        for write_seeds in keyless.values():
            write_seeds()
    finally:
        pki.close()
    files = [f for folder in folders for f in folder.rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    count = len(files)
    print(f"{count} seed files, {total} bytes")
    assert total < 300 * 1024, "the corpus must stay under 300 KiB"


if __name__ == "__main__":
    main()
