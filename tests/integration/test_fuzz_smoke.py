"""The fuzz smoke (cbcs_fuzz_replay --smoke, ctest fuzz_smoke.*) keeps what
ends it: the input that was running is written to crash-<name> and replays.

A self-test hook fails one run as abort() (a violated property, or UBSan's
report with abort_on_error=1) or, under the sanitizer pass (the ASan
build), as a read past the input, which ASan reports through its death
callback."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR  # noqa: E402

REPLAY = os.path.join(BUILD_DIR, "cbcs_fuzz_replay")
SANITIZED = os.environ.get("CBCS_SANITIZED") == "1"
CORPUS = os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus")


class FuzzSmokeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cbcs-fuzz-smoke-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def smoke(self, target, seconds, **kw):
        return subprocess.Popen([REPLAY, "--smoke", str(seconds), target, os.path.join(CORPUS, target)],
                                cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def test_a_run_that_holds_says_how_many_inputs_it_tried(self):
        p = self.smoke("json_problem", 1)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(out, r"json_problem: \d+ runs in \d+\.\d s from \d+ inputs \(seed \d+\), every property held")
        self.assertEqual(os.listdir(self.dir), [])

    def test_the_suites_smoke_makes_the_same_runs_every_time(self):
        # ctest's fuzz_smoke.* fix the seed and cap the runs: no luck in a test result.
        env = dict(os.environ, CBCS_FUZZ_SEED="29", CBCS_FUZZ_MAX_RUNS="500")
        said = []
        for _ in range(2):
            p = self.smoke("json_problem", 60, env=env)
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn("CBCS_FUZZ_SEED=29", err)
            said.append(re.search(r"(\d+) runs in", out).group(1))
        self.assertEqual(said, ["500", "500"])

    def ended_at_run(self, target, how):
        # Run 100 is a mutation (the corpora hold fewer seeds than that).
        p = self.smoke(target, 60, env=dict(os.environ, CBCS_FUZZ_SMOKE_SELF_TEST=f"{how}:100"))
        out, err = p.communicate(timeout=120)
        self.assertNotEqual(p.returncode, 0)
        crash = os.path.join(self.dir, f"crash-{target}")
        self.assertIn(f"the failing input is in {crash}", err)
        self.assertTrue(os.path.isfile(crash))
        r = subprocess.run([REPLAY, target, crash], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 inputs replayed", r.stdout)
        return err

    def test_the_input_that_ends_the_run_is_kept_and_replays(self):
        # abort(): a violated property, or UBSan's report with abort_on_error=1.
        self.ended_at_run("base64", "abort")

    @unittest.skipUnless(SANITIZED, "a read past the input is found only under AddressSanitizer")
    def test_an_asan_report_keeps_the_input_too(self):
        err = self.ended_at_run("json_problem", "overread")
        self.assertIn("heap-buffer-overflow", err)

    def test_a_bad_duration_or_target_is_one_line(self):
        for args, said in ((["--smoke", "soon", "base64", CORPUS], "--smoke takes seconds"),
                           (["--smoke", "5", "nothing", CORPUS], "unknown target nothing")):
            r = subprocess.run([REPLAY] + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn(said, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
