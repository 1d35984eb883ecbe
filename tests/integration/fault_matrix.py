"""The CAs of the fault matrix (test_fault_matrix*.py, issue 29 item 2): each
one's simulator (or moto_server behind tests/integration/fault_proxy.py),
its backend in a data directory, its faults, and what it created per job,
counted at the CA. Not a test script itself."""

import base64
import json
import os
import shutil
import sys
import urllib.parse
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))
from harness import cbcs  # noqa: E402
from operator_env import ledger_rows  # noqa: E402

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover
    x509 = None


def make_csr(cn):
    """A fresh P-256 CSR for cn (also its DNS name), PEM text."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def cn_of_csr(pem):
    csr = x509.load_pem_x509_csr(pem.encode() if isinstance(pem, str) else pem)
    return csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def common_name(job_id):
    return f"{job_id}.example"


def added(r):
    if r.code != 0:
        raise AssertionError(f"backend add failed: {r}")


class Ca:
    """One CA of the matrix. `backend` is its name in the data directory;
    `http` whether faults can be put in front of it; `revokes` whether a
    revoke job goes with each round."""
    backend = ""
    http = True
    revokes = True

    def add_backend(self, data):
        raise NotImplementedError

    def put_faults(self, faults):
        """faults: the simulators' fault objects, without path_prefix."""
        self.sim.admin("POST", "/faults", [dict(f, path_prefix=self.fault_prefix) for f in faults])

    def clear_faults(self):
        self.sim.admin("DELETE", "/faults")

    def created(self):
        """{job id: certificates the CA created for it}."""
        raise NotImplementedError

    def stop(self):
        self.sim.stop()


class LocalCa(Ca):
    backend, http = "local", False

    def __init__(self, tmp):
        self.data = None

    def add_backend(self, data):
        self.data = data
        added(cbcs("backend", "add", "-name", self.backend, "-type", "local", data_dir=data))

    def created(self):
        return Counter(job for job, _ in ledger_rows(self.data, self.backend))

    def stop(self):
        pass


class DigiCertCa(Ca):
    backend, fault_prefix = "dc", "/services/v2/"

    def __init__(self, tmp):
        from test_digicert_sim import DigiCertSim
        self.sim = DigiCertSim(os.path.join(tmp, "digicert"))

    def add_backend(self, data, *extra):
        added(cbcs("backend", "add", "-name", self.backend, "-type", "digicert", "-apikey", "-",
                   "-endpoint", self.sim.url, "-cacert", self.sim.ca_file, "-poll", "1s",
                   "-skipapproval", "true", "-requesttimeout", "2s", *extra,
                   data_dir=data, stdin=self.sim.api_key + "\n"))

    def created(self):
        return Counter(o["comments"].removeprefix("cbcs job ") for o in self.sim.orders())


class GcpCa(Ca):
    backend, fault_prefix = "gcp", "/"
    CREATE = "/v1/projects/test-project/locations/us-east1/caPools/pool-1/certificates"

    def __init__(self, tmp):
        from gcpcas_sim import GcpCasSim
        self.sim = GcpCasSim(os.path.join(tmp, "gcpcas"))

    def add_backend(self, data):
        added(cbcs("backend", "add", "-name", self.backend, "-type", "gcpcas", "-project", self.sim.project,
                   "-location", self.sim.location, "-key", self.sim.key_file, "-endpoint", self.sim.url,
                   "-cacert", self.sim.ca_file, "-requesttimeout", "2s", data_dir=data))

    def created(self):
        # A certificate id is unique in a pool, and a requestId seen before
        # gets the first answer: the creates answered 200, by distinct requestId.
        seen = set()
        for q in self.sim.requests(self.CREATE):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(q["target"]).query)
            # A garbage answer is logged 200, its handler never ran.
            if q["method"] == "POST" and q["status"] == 200 and q["fault"] != "garbage" \
                    and "certificateId" in query:
                seen.add((query["certificateId"][0], query.get("requestId", [""])[0]))
        return Counter(job for job, _ in seen)

    def total_created(self):
        return self.sim.stats()["certificates_created"]


class EntrustCa(Ca):
    backend, fault_prefix = "ecs", "/enterprise/v2/"

    def __init__(self, tmp):
        from entrust_sim import EntrustSim
        self.sim = EntrustSim(os.path.join(tmp, "entrust"))

    def add_backend(self, data):
        added(cbcs("backend", "add", "-name", self.backend, "-type", "entrust", "-api", "ecs",
                   "-endpoint", self.sim.ecs_url, "-cacert", self.sim.ca_file,
                   "-username", self.sim.username, "-apikey", "-", "-requestername", "Test Person",
                   "-requesteremail", "test@example.com", "-requesterphone", "+1 555 0100",
                   "-cert", self.sim.client_cert, "-key", self.sim.client_key, "-requesttimeout", "2s",
                   data_dir=data, stdin=self.sim.api_key + "\n"))
        self.sim.admin("PUT", "/admin/approval", {"mode": "issue"})

    def created(self):
        return Counter(o["trackingInfo"].removeprefix("cbcs job ")
                       for o in self.sim.admin("GET", "/admin/orders")["orders"])


class MscaCa(Ca):
    """AD CS over CES: no revoke there (DCOM only), and no idempotency: a
    request whose answer was lost is never sent again (the job fails saying
    to look in certsrv.msc)."""
    backend, revokes = "ad", False

    def __init__(self, tmp):
        from msca_sim import MscaSim
        self.sim = MscaSim()
        self.fault_prefix = "/" + self.sim.ces_url.split("/", 3)[3]

    def add_backend(self, data):
        added(cbcs("backend", "add", "-name", self.backend, "-type", "msca", "-server", "127.0.0.1",
                   "-ca", self.sim.ca_name, "-ces", self.sim.ces_url, "-cep", self.sim.cep_url,
                   "-cacert", self.sim.ca_file, "-auth", "certificate", "-cert", self.sim.client_cert,
                   "-key", self.sim.client_key, "-template", "WebServer", "-requester", "CORP\\jdoe",
                   "-requesttimeout", "2s", data_dir=data))
        added(cbcs("backend", "msca", "enroll-agent-cert", "-name", self.backend, data_dir=data))

    def created(self):
        out = Counter()
        for q in self.sim.admin("GET", "/admin/requests")["requests"]:
            if q["template"] == "WebServer" and q["certificate"]:
                cn = q["subject"].split("CN=", 1)[-1].split(",", 1)[0]
                out[cn.removesuffix(".example")] += 1
        return out


class AwsCa(Ca):
    """AWS Private CA: moto_server behind the fault proxy. moto ignores
    IdempotencyToken (each IssueCertificate makes a certificate), so what
    AWS would create is counted: distinct tokens per job."""
    backend = "aws"

    def __init__(self, tmp):
        from fault_proxy import FaultProxy
        from test_acmpca_moto import Moto
        self.moto = Moto()
        self.sim = FaultProxy(self.moto.url)

    def add_backend(self, data):
        added(cbcs("backend", "add", "-name", self.backend, "-type", "acmpca", "-accesskeyid",
                   self.moto.key_id, "-secretaccesskey", "-", "-region", "us-east-1",
                   "-endpoint", self.sim.url, "-ca_arn", self.moto.ca_arn, "-requesttimeout", "2s",
                   data_dir=data, stdin=self.moto.secret + "\n"))

    def put_faults(self, faults):
        self.sim.add_faults(faults)

    def clear_faults(self):
        self.sim.clear_faults()

    def created(self):
        tokens = {}
        for q in self.sim.requests():
            if '"Csr"' not in q["body"] or q["method"] != "POST":
                continue
            body = json.loads(q["body"])
            cn = cn_of_csr(base64.b64decode(body["Csr"]))
            tokens.setdefault(cn.removesuffix(".example"), set()).add(body.get("IdempotencyToken"))
        return Counter({job: len(t) for job, t in tokens.items()})

    def stop(self):
        self.sim.stop()
        self.moto.stop()


def available_cas(tmp):
    """[(Ca class, reason it cannot run or None)]."""
    from test_acmpca_moto import MOTO, boto3
    aws = None if MOTO and boto3 else "moto_server or boto3 is not installed"
    return [(LocalCa, None), (DigiCertCa, None), (GcpCa, None), (EntrustCa, None), (MscaCa, None),
            (AwsCa, aws)]


def have_crypto():
    return x509 is not None and shutil.which("openssl") is not None
