#!/usr/bin/env python3
"""benchmarks/acmpca: 500 certificates from AWS Private CA (moto_server on
loopback) through cbcs (`cbcs jobs run`, rate limits off), and the same 500
with a boto3 script on 16 threads. Prints both wall and CPU times and their
ratios. moto's own CPU is not counted for either.

    python3 benchmarks/acmpca.py --count 500
"""

import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("CBCS_BUILD_DIR", os.path.join(HERE, "..", "build"))
from harness import CBCS  # noqa: E402
from test_acmpca_moto import Moto  # noqa: E402


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    args = ap.parse_args()
    moto = Moto()
    tmp = tempfile.mkdtemp(prefix="cbcs-acmpca-bench-")
    try:
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", os.devnull, "-out", os.path.join(tmp, "b.csr"), "-subj",
                        "/CN=bench.example"], check=True, capture_output=True)
        csr = open(os.path.join(tmp, "b.csr")).read()
        data = os.path.join(tmp, "data")
        subprocess.run([CBCS, "backend", "add", "-name", "aws", "-type", "acmpca", "-accesskeyid",
                        moto.key_id, "-secretaccesskey", "-", "-region", "us-east-1", "-endpoint",
                        moto.url, "-ca_arn", moto.ca_arn, "-ratelimit", "off", "--data-dir", data],
                       input=moto.secret + "\n", text=True, check=True, capture_output=True)
        jobs = os.path.join(tmp, "jobs.jsonl")
        with open(jobs, "w") as fh:
            for i in range(args.count):
                fh.write(json.dumps({"id": f"b-{i}", "operation": "enroll", "backend": "aws", "csr": csr,
                                     "params": {"signing_algorithm": "SHA256WITHECDSA"}}) + "\n")
        cpu0, t0 = children_cpu(), time.time()
        out = subprocess.run([CBCS, "jobs", "run", "-file", jobs, "--data-dir", data],
                             capture_output=True, text=True)
        cbcs_wall, cbcs_cpu = time.time() - t0, children_cpu() - cpu0
        issued = sum(1 for line in out.stdout.splitlines() if '"issued"' in line)

        import boto3
        pca = boto3.client("acm-pca", endpoint_url=moto.url, region_name="us-east-1",
                           aws_access_key_id=moto.key_id, aws_secret_access_key=moto.secret)

        def one(i):
            arn = pca.issue_certificate(CertificateAuthorityArn=moto.ca_arn, Csr=csr.encode(),
                                        SigningAlgorithm="SHA256WITHECDSA",
                                        Validity={"Type": "DAYS", "Value": 30},
                                        IdempotencyToken=f"boto-{i}")["CertificateArn"]
            while True:
                try:
                    return pca.get_certificate(CertificateAuthorityArn=moto.ca_arn, CertificateArn=arn)
                except pca.exceptions.RequestInProgressException:
                    time.sleep(0.2)

        cpu0, t0 = self_cpu(), time.time()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            got = list(pool.map(one, range(args.count)))
        boto_wall, boto_cpu = time.time() - t0, self_cpu() - cpu0
        print(f"certificates: cbcs {issued}/{args.count}, boto3 {len(got)}/{args.count}")
        print(f"wall: cbcs {cbcs_wall:.2f} s, boto3 {boto_wall:.2f} s, ratio {cbcs_wall / boto_wall:.2f}")
        print(f"CPU:  cbcs {cbcs_cpu:.2f} s, boto3 {boto_cpu:.2f} s, ratio {cbcs_cpu / boto_cpu:.3f}")
    finally:
        moto.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
