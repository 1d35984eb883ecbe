"""The fuzz smoke (cbcs_fuzz_replay --smoke, ctest fuzz_smoke.*) keeps what
ends it: the input that was running is written to crash-<name> and replays.

Under the sanitizer pass this runs the ASan build, whose reports go through
the runtime's death callback rather than a signal: both paths are tried."""

import os
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD_DIR  # noqa: E402

REPLAY = os.path.join(BUILD_DIR, "cbcs_fuzz_replay")
CORPUS = os.path.join(os.path.dirname(__file__), "..", "fuzz", "corpus")


class FuzzSmokeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cbcs-fuzz-smoke-")

    def smoke(self, target, seconds, **kw):
        return subprocess.Popen([REPLAY, "--smoke", str(seconds), target, os.path.join(CORPUS, target)],
                                cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def test_a_run_that_holds_says_how_many_inputs_it_tried(self):
        p = self.smoke("json_problem", 1)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(out, r"json_problem: \d+ runs in 1 s from \d+ inputs \(seed \d+\), every property held")
        self.assertEqual(os.listdir(self.dir), [])

    def test_the_input_that_ends_the_run_is_kept_and_replays(self):
        p = self.smoke("base64", 60)
        # Stopped mid-run as an abort() from a violated property stops it.
        first = p.stderr.readline()
        self.assertIn("base64: mutating", first)
        p.send_signal(signal.SIGABRT)
        out, err = p.communicate(timeout=30)
        self.assertNotEqual(p.returncode, 0)
        crash = os.path.join(self.dir, "crash-base64")
        self.assertIn(f"the failing input is in {crash}", err)
        self.assertTrue(os.path.isfile(crash))
        r = subprocess.run([REPLAY, "base64", crash], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 inputs replayed", r.stdout)

    def test_a_bad_duration_or_target_is_one_line(self):
        for args, said in ((["--smoke", "soon", "base64", CORPUS], "--smoke takes seconds"),
                           (["--smoke", "5", "nothing", CORPUS], "unknown target nothing")):
            r = subprocess.run([REPLAY] + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2)
            self.assertIn(said, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


if __name__ == "__main__":
    unittest.main()
