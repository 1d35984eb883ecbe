#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<name>/.

Every key here is a throw-away TEST key made on the spot with the openssl
command; none belongs to anyone and none is used anywhere else. The vault
seeds are sealed under the fuzz target's fixed key (byte i = 0xa5 ^ i) and
need the Python 'cryptography' package for AES-GCM.

Run it again only to change the seeds: it rewrites every file (with new keys).
"""

import hmac
import hashlib
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
    folder = CORPUS / target
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


def acmpca_seeds(cert_pem):
    """Scenario byte, then answers: status byte + body, joined by 0xff.
    Status bytes used: '0' 200, '6' 400, '9' 403, ';' 429, '<' 500, '?' no answer,
    'K' 429 with the body as Retry-After and x-amzn-ErrorType."""
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


def main():
    if shutil.which("openssl") is None:
        sys.exit("make_corpus.py needs the openssl command")
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
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
    finally:
        pki.close()
    total = sum(f.stat().st_size for f in CORPUS.rglob("*") if f.is_file())
    count = sum(1 for f in CORPUS.rglob("*") if f.is_file())
    print(f"{count} seed files, {total} bytes")
    assert total < 300 * 1024, "the corpus must stay under 300 KiB"


if __name__ == "__main__":
    main()
