"""Shared helpers for the integration tests: the cbcs binary, temp data
directories, test keys made with the openssl command line."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD_DIR = os.environ.get("CBCS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
CBCS = os.environ.get("CBCS_BIN", os.path.join(BUILD_DIR, "cbcs"))


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"


def cbcs(*args, data_dir=None, stdin=None, env=None, timeout=60):
    cmd = [CBCS, *args]
    if data_dir is not None:
        cmd += ["--data-dir", data_dir]
    full_env = dict(os.environ)
    full_env.pop("CBCS_DATA_DIR", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=full_env,
                          timeout=timeout)
    return Result(proc)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_key_and_cert(directory, stem, cn, algorithm="EC", extra=()):
    """Writes stem.key and stem.pem (self-signed) into directory."""
    key = os.path.join(directory, stem + ".key")
    cert = os.path.join(directory, stem + ".pem")
    if algorithm == "EC":
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key, cwd=directory)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key, cwd=directory)
    openssl("req", "-new", "-x509", "-key", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn, *extra,
            cwd=directory)
    return key, cert


class TempDirTest(unittest.TestCase):
    """A test case with a fresh scratch directory in self.tmp."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cbcs-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def assertOneLineError(self, result, code, *fragments):
        """The error is one line, the last; before it only the progress lines
        an interactive command shows while it waits (cli/progress.cpp)."""
        self.assertEqual(result.code, code, result)
        lines = result.err.strip().splitlines()
        self.assertTrue(lines, result)
        for line in lines[:-1]:
            self.assertRegex(line, PROGRESS_LINE, f"not a progress line before the error: {result}")
        for f in fragments:
            self.assertIn(f, lines[-1], result)


# What cli/progress.cpp says while a command waits, line by line.
PROGRESS_LINE = re.compile(
    r"^((enroll|renew|revoke|test|inventory) started at backend \S+"
    r"|(GET|POST|PUT|PATCH|DELETE) \S+( \(attempt \d+\))?"
    r"|  HTTP \d+( in .*)?|  no answer.*"
    r"|\S+ failure, retrying.*|pending at the CA .*|still pending .*"
    r"|resuming the job from the journal.*|this job finished before.*"
    r"|the backend kept failing.*|waiting for the .*|note: .*|cancelled: .*"
    r"|the journal cannot commit yet.*|backend \S+ crashed.*"
    r"|collecting the earlier revoke .*)$")

SKIP = 77  # ctest's SKIP_RETURN_CODE for these scripts: reported as skipped, never passed


def listening_socket():
    """A loopback socket bound to a port the system chose, listening: for a
    server in this process (no race between choosing a port and binding it)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def refused_port():
    """(socket, port): a port nothing listens on for as long as the socket,
    bound and never listening, is kept (connecting is refused)."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def listens_on(pid, port):
    """True when the socket listening on 127.0.0.1:port is one of pid's file
    descriptors (/proc/net/tcp and /proc/PID/fd): a connection that reaches
    another process, which took the port in between, does not count."""
    local = "0100007F:%04X" % port
    inode = None
    with open("/proc/net/tcp") as fh:
        next(fh)
        for line in fh:
            fields = line.split()
            if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
                inode = fields[9]
    if inode is None:
        return False
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    for name in names:
        try:
            if os.readlink(os.path.join(fd_dir, name)) == f"socket:[{inode}]":
                return True
        except OSError:
            pass
    return False


_held_ports = []  # lock files of the ports this process reserved, open until it ends


def reserved_port():
    """A loopback port for a program that must be told its port (tinyproxy,
    the KDC: no port 0). It is below the kernel's ephemeral range, so no
    program binding port 0 (every simulator, every client) can be handed it,
    and locked with flock(2) in the temp directory, so two tests running at
    once never choose the same one. The lock lasts as long as this process."""
    import fcntl
    import random
    import socket
    import tempfile
    with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
        ephemeral_low = int(fh.read().split()[0])
    low, high = 20000, min(ephemeral_low, 32768)
    folder = os.path.join(tempfile.gettempdir(), "cbcs-test-ports")
    os.makedirs(folder, exist_ok=True)
    for port in random.sample(range(low, high), 200):
        lock = open(os.path.join(folder, f"{port}.lock"), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        with socket.socket() as s:  # a service of the machine may hold it
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                lock.close()
                continue
        _held_ports.append(lock)
        return port
    raise RuntimeError(f"no port in {low}-{high} could be reserved")


def start_on_a_port(start, attempts=5):
    """For a program that must be told its port: start(port) with a
    reserved_port(), again with another if the program could not have it (a
    program outside the tests took it). start returns true once the program
    listens on it itself (listens_on), false when it failed to bind."""
    for _ in range(attempts):
        port = reserved_port()
        if start(port):
            return port
    raise RuntimeError(f"no free port could be had in {attempts} attempts")


def wait_for_http(url, seconds=20):
    import time
    import urllib.request
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return True
        except Exception:
            time.sleep(0.1)
    return False


def require_or_skip(condition, reason):
    """Ends the whole script as skipped (exit 77) when a peer cannot be had."""
    if not condition:
        print(f"SKIPPED: {reason}", flush=True)
        raise SystemExit(SKIP)


def stop_gently(proc, seconds=20):
    """SIGTERM (a service drains), then SIGKILL if it is still there after seconds."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def eventually(predicate, seconds=30, step=0.1):
    """True once predicate() is, within seconds."""
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def admin_call(admin_url, method, path, body=None):
    """A simulator's admin API (plain HTTP, JSON): the answer's JSON, or
    None for an empty one; an HTTP error fails the test with its body."""
    import json
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(admin_url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        raise AssertionError(f"admin {method} {path}: {e.code} {e.read()!r}") from e


def key_lines(*key_files):
    """The base64 lines of PEM key files (those that exist), as bytes: what
    a leaked key would show of itself anywhere."""
    out = []
    for key in key_files:
        if os.path.exists(key):
            with open(key) as fh:
                out += [line.strip().encode() for line in fh
                        if len(line.strip()) >= 40 and "-----" not in line]
    return out


def assert_no_secret_in_files(test, directory, secrets):
    """No secret (bytes) in any file under directory (config, journal,
    trace, logs, status; the vault is sealed)."""
    for root, _, files in os.walk(directory):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                content = fh.read()
            for secret in secrets:
                test.assertNotIn(secret, content, f"a secret in {os.path.join(root, name)}")


def damage_journal_pages(test, journal, how_many, page=4096):
    """Overwrites table leaf pages in the middle of a journal (never page 1) with garbage."""
    with open(journal, "rb") as fh:
        data = fh.read()
    pages = len(data) // page
    leaves = [p for p in range(pages // 3, pages) if data[p * page] == 0x0D]
    test.assertGreater(len(leaves), 2 * how_many)
    with open(journal, "r+b") as fh:
        for p in leaves[:2 * how_many:2]:
            test.assertNotEqual(p, 0)
            fh.seek(p * page)
            fh.write(os.urandom(page))
