"""Debian's MIT Kerberos KDC (krb5-kdc, krb5-admin-server) for tests: a
throw-away realm in a temporary directory, served by `krb5kdc -n` on a
loopback port, principals and keytabs made with `kadmin.local`. Every
program that uses it gets `env` (KRB5_CONFIG, KRB5_KDC_PROFILE)."""

import os
import shutil
import signal
import struct
import subprocess
import tempfile

from harness import eventually, listens_on, start_on_a_port

REALM = "CBCS.TEST"
PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local")


def installed():
    return all(shutil.which(p) or os.path.exists("/usr/sbin/" + p) for p in PROGRAMS)


def program(name):
    return shutil.which(name) or "/usr/sbin/" + name


def keytab_keys(path):
    """The key bytes of a keytab (format 0x0502): what a leaked keytab would
    show of itself anywhere."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:2] == b"\x05\x02", path
    keys, pos = [], 2
    while pos + 4 <= len(data):
        (size,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        if size <= 0:
            pos += -size
            continue
        rec, pos = data[pos:pos + size], pos + size
        (count,) = struct.unpack(">H", rec[:2])
        off = 2
        for _ in range(count + 1):  # the realm, then the components
            (n,) = struct.unpack(">H", rec[off:off + 2])
            off += 2 + n
        off += 4 + 4 + 1 + 2  # name type, timestamp, kvno, enctype
        (n,) = struct.unpack(">H", rec[off:off + 2])
        keys.append(rec[off + 2:off + 2 + n])
    return keys


class MitKdc:
    def __init__(self, skew="5m"):
        self.dir = tempfile.mkdtemp(prefix="cbcs-kdc-")
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.kdc_conf = os.path.join(self.dir, "kdc.conf")
        self.proc = None
        self.env = dict(os.environ, KRB5_CONFIG=self.krb5_conf, KRB5_KDC_PROFILE=self.kdc_conf,
                        KRB5RCACHEDIR=self.dir, KRB5CCNAME="MEMORY:")
        self.skew = skew
        self.port = start_on_a_port(self._start)

    def _write_configs(self, port):
        d = self.dir
        with open(self.kdc_conf, "w") as fh:
            fh.write(f"""[kdcdefaults]
 kdc_listen = 127.0.0.1:{port}
 kdc_tcp_listen = 127.0.0.1:{port}
[realms]
 {REALM} = {{
  database_name = {d}/principal
  key_stash_file = {d}/stash
  acl_file = {d}/kadm5.acl
  max_life = 10h
  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
 }}
[logging]
 kdc = FILE:{d}/kdc.log
 admin_server = FILE:{d}/kadmin.log
""")
        self.write_client_conf(self.krb5_conf, port)

    def write_client_conf(self, path, port):
        """A krb5.conf for the realm at 127.0.0.1:port (TCP). kdc_timesync
        off: a client whose clock is off is told so (MIT's default would
        correct its clock from the KDC's answer instead)."""
        with open(path, "w") as fh:
            fh.write(f"""[libdefaults]
 default_realm = {REALM}
 dns_lookup_kdc = false
 dns_lookup_realm = false
 rdns = false
 dns_canonicalize_hostname = false
 udp_preference_limit = 1
 kdc_timesync = 0
 clockskew = 300
[realms]
 {REALM} = {{
  kdc = 127.0.0.1:{port}
 }}
""")

    def _start(self, port):
        self._write_configs(port)
        if not os.path.exists(os.path.join(self.dir, "principal")):
            subprocess.run([program("kdb5_util"), "create", "-s", "-r", REALM, "-P",
                            "throw-away-master-key"], env=self.env, check=True,
                           capture_output=True)
        log = open(os.path.join(self.dir, "krb5kdc.out"), "w")
        self.proc = subprocess.Popen([program("krb5kdc"), "-n", "-r", REALM], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if eventually(lambda: self.proc.poll() is not None or listens_on(self.proc.pid, port),
                      seconds=15) and self.proc.poll() is None and listens_on(self.proc.pid, port):
            return True
        self._stop_proc()
        return False

    def kadmin(self, query):
        r = subprocess.run([program("kadmin.local"), "-r", REALM, "-q", query], env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0 or "error" in r.stderr.lower():
            raise RuntimeError(f"kadmin.local -q {query!r}: {r.stderr}")
        return r.stdout

    def add_principal(self, name):
        self.kadmin(f"addprinc -randkey +requires_preauth {name}")

    def keytab(self, name, file_name):
        """A keytab with a fresh key of name (its key version goes up: a
        keytab made before holds the old key)."""
        path = os.path.join(self.dir, file_name)
        self.kadmin(f"ktadd -k {path} {name}")
        return path

    def issued_tickets(self, name):
        """Ticket-granting tickets the KDC issued to name (its log)."""
        try:
            with open(os.path.join(self.dir, "kdc.log")) as fh:
                return sum(1 for line in fh if "AS_REQ" in line and "ISSUE" in line
                           and f"{name} for krbtgt/" in line)
        except OSError:
            return 0

    def _stop_proc(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def stop(self):
        self._stop_proc()
        shutil.rmtree(self.dir, True)
