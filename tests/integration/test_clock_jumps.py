"""The wall clock jumps while `cbcs run` works (issue 29 item 3): forward a
day, then back an hour, with orders pending at the DigiCert simulator and the
connector certificate near its renewal point. Debian's libfaketime moves the
connector's wall clock only (FAKETIME_TIMESTAMP_FILE, re-read on each call:
FAKETIME_NO_CACHE); CLOCK_MONOTONIC stays true (FAKETIME_DONT_FAKE_MONOTONIC),
and the simulators keep the true time.

Proven, counted at the simulators: timers run on the steady clock (the polls
of the pending orders keep their pace after each jump: no storm, no stall;
the SCM session is not dropped), validity on the wall clock (after the day a
certificate past its renewal point is renewed; one past its end is not used
to connect, though SCM would still take it), and each pending job completes
exactly once."""

import glob
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import CBCS, SKIP, TempDirTest, cbcs, eventually, openssl, stop_gently  # noqa: E402
from test_digicert_sim import SIM, DigiCertSim  # noqa: E402
from test_scm_link import Scm  # noqa: E402  (heartbeats every 500 ms: the renewal is looked at on each)

DAY = 86400
ORDER = "/services/v2/order/certificate/"
# libfaketime's multi-threaded build (cbcs runs threads); Debian's path.
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))), None)


class ClockJumpTest(TempDirTest):
    def setUp(self):
        super().setUp()
        if LIBFAKETIME is None:
            self.skipTest("libfaketime is not installed (packaging/install-deps.sh installs faketime)")
        self.scm = Scm(self.path("scm"))
        self.addCleanup(self.scm.stop)
        self.data = self.path("data")
        self.offset_file = self.path("faketime")
        self.set_offset("+0")
        self.runner = None
        self.addCleanup(self.stop_run)

    def set_offset(self, offset):
        # Written whole then renamed: the connector never reads half a file.
        with open(self.offset_file + ".new", "w") as fh:
            fh.write(offset + "\n")
        os.replace(self.offset_file + ".new", self.offset_file)

    def register_with_days_left(self, days_left):
        """Registers with SCM's clock set back so that the certificate (30
        days) has days_left of its life left, then puts SCM's clock right."""
        back = int((30 - days_left) * DAY)
        self.scm.call("POST", "/clock", {"advance_seconds": -back})
        created = self.scm.call("POST", "/connectors", {"name": "clock", "comments": "clock jumps",
                                                        "token_ttl_seconds": back + DAY})
        self.cid = created["id"]
        r = cbcs("register", "-token", "-", data_dir=self.data, stdin=created["token"] + "\n")
        self.assertEqual(r.code, 0, r)
        self.scm.call("POST", "/clock", {"advance_seconds": back})
        return self.connector()["certificate_not_after_ms"]

    def connector(self):
        return self.scm.connector(self.cid)

    def start_run(self):
        env = dict(os.environ, LD_PRELOAD=LIBFAKETIME, FAKETIME_TIMESTAMP_FILE=self.offset_file,
                   FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1")
        env.pop("CBCS_DATA_DIR", None)
        self.err = open(self.path("run.err"), "w+")
        self.addCleanup(self.err.close)
        self.runner = subprocess.Popen([CBCS, "run", "--data-dir", self.data], stdout=subprocess.DEVNULL,
                                       stderr=self.err, env=env)
        self.wait_for(lambda: self.connector()["status"] == "Connected", "the session")

    def stop_run(self):
        stop_gently(self.runner)
        self.runner = None

    def run_log(self):
        self.err.seek(0)
        return self.err.read()

    def wait_for(self, predicate, what, seconds=30):
        if not eventually(predicate, seconds):
            self.fail(f"timed out waiting for {what}; cbcs run said:\n{self.run_log() if self.runner else ''}")

    def test_polls_keep_their_pace_the_certificate_renews_and_jobs_finish_once(self):
        not_after = self.register_with_days_left(10.5)  # renewal point (day 20) in 12 h
        sim = DigiCertSim(self.path("dc"))
        self.addCleanup(sim.stop)
        sim.admin("POST", "/admin/policy", {"product": "ssl_plus", "mode": "approve"})
        r = cbcs("backend", "add", "-name", "dc", "-type", "digicert", "-apikey", "-", "-endpoint", sim.url,
                 "-cacert", sim.ca_file, "-poll", "2s", data_dir=self.data, stdin=sim.api_key + "\n")
        self.assertEqual(r.code, 0, r)
        self.start_run()
        jobs = []
        for i in range(4):
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", f"j{i}.key", "-out", f"j{i}.csr", "-subj", f"/CN=clock{i}.example",
                    "-addext", f"subjectAltName=DNS:clock{i}.example", cwd=self.tmp)
            with open(self.path(f"j{i}.csr")) as fh:
                jobs.append({"id": f"clock-{i}", "operation": "enroll", "backend": "dc", "csr": fh.read()})
        self.scm.call("POST", f"/connectors/{self.cid}/jobs", jobs)
        self.wait_for(lambda: len(sim.orders()) == 4, "four orders pending at DigiCert")

        def polls():
            """Each order's polls (GET of the order), times in ms."""
            out = {}
            for q in sim.requests("GET", ORDER):
                out.setdefault(q["target"].split("?")[0], []).append(q["time_ms"])
            return out

        def each_polled(n):
            got = polls()
            return len(got) == 4 and all(len(v) >= n for v in got.values())

        # Polls of a pending order start at -poll (2 s) and grow by half each
        # time, jittered +-20 %: each gap is 1.0 to 2.25 times the one before.
        # A timer on the wall clock would fire at once after the day forward
        # (a storm: gaps near 0) and wait an hour after the hour back (a stall).
        sessions = self.connector()["sessions"]
        self.wait_for(lambda: each_polled(2), "two polls of each order", 30)
        self.set_offset("+1d")
        jumps = [time.time() * 1000]
        # Past the renewal point on the connector's clock: renewed (SCM's
        # clock is true, so the new certificate ends in 30 days).
        self.wait_for(lambda: self.connector()["certificate_not_after_ms"] > not_after + 15 * DAY * 1000,
                      "the renewed certificate", 20)
        self.wait_for(lambda: each_polled(4), "two more polls of each order after a day forward", 60)
        self.set_offset("+23h")
        jumps.append(time.time() * 1000)
        self.wait_for(lambda: each_polled(6), "two more polls of each order after an hour back", 90)
        self.assertEqual(self.connector()["sessions"], sessions, "the session was dropped by a jump")
        ratios = []
        for order, times in polls().items():
            gaps = [b - a for a, b in zip(times, times[1:])]
            for g0, g1 in zip(gaps, gaps[1:]):
                ratios.append(round(g1 / g0, 2))
            # Polls spanning each jump were seen (the check covers them).
            self.assertTrue(all(min(times) < j < max(times) for j in jumps), (order, times, jumps))
        self.assertTrue(all(0.85 <= r <= 2.5 for r in ratios),
                        f"the polls' gaps jumped with the clock: ratios {ratios}")

        for o in sim.orders():
            sim.admin("POST", f"/admin/requests/{o['requests'][0]['id']}", {"status": "approved"})

        def results():
            return self.scm.call("GET", f"/connectors/{self.cid}/results")
        self.wait_for(lambda: len(results()) == 4, "the four results", 30)
        for res in results():
            self.assertEqual(res["outcome"]["outcome"], "issued", res)
            self.assertEqual(res["count"], 1, res)
        self.assertEqual(sorted(o["comments"] for o in sim.orders()),
                         [f"cbcs job clock-{i}" for i in range(4)], "one order per job")
        print(f"successive poll gaps' ratios across the jumps: {sorted(ratios)}", file=sys.stderr)

    def test_a_certificate_expired_on_the_wall_clock_is_not_used(self):
        self.register_with_days_left(0.5)  # past its renewal point already; ends in 12 h
        self.scm.call("POST", "/faults", {"refuse_renewal": True})
        self.start_run()
        self.wait_for(lambda: "renewal" in self.run_log(), "the refused renewal")
        sessions = self.connector()["sessions"]
        self.set_offset("+1d")  # now past its end on the connector's clock, not on SCM's
        self.scm.call("POST", "/faults", {"drop_session": True})
        self.wait_for(lambda: "certificate has expired" in self.run_log(), "the expiry noticed")
        st = cbcs("status", data_dir=self.data, env={"LD_PRELOAD": LIBFAKETIME,
                                                     "FAKETIME_TIMESTAMP_FILE": self.offset_file,
                                                     "FAKETIME_NO_CACHE": "1"})
        self.assertIn("connection:       certificate_expired", st.out, st)
        self.assertIn("EXPIRED", st.out, st)
        # SCM would take it (its clock is true): the connector, deciding
        # whether to dial, logged the expiry instead.
        self.assertEqual(self.connector()["sessions"], sessions, "a session with an expired certificate")
        self.assertFalse(self.connector()["certificate_expired"])


if __name__ == "__main__":
    if not os.path.exists(SIM):
        print(f"{SIM} is not built", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main()
