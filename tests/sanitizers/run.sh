#!/usr/bin/env bash
# The sanitizer pass: builds the unit tests and every program the integration
# tests run with AddressSanitizer + UBSan (the `asan` preset, build-asan/) and
# runs the unit, fuzz-replay and integration tests against that build.
# A report from either sanitizer stops the process (halt on error), so the
# test that ran it fails. Suppressions only for named third-party reports,
# each with its reason, in this folder.
#
#   tests/sanitizers/run.sh              unit, fuzz and integration labels
#   tests/sanitizers/run.sh -R scm_sim   extra arguments go to ctest
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

started=$(date +%s)
cmake --preset asan >/dev/null
# Only what the tests run: the unit tests, the fuzz replayer, cbcs, the
# simulators, the test-only types' cbcs and the MSI wizard's check tool.
cmake --build --preset asan --target cbcs_unit_tests cbcs_fuzz_replay cbcs cbcs-sim \
  cbcs-with-approval-ca cbcs-msi-wizard-check
built=$(date +%s)
echo "sanitizers: build-asan/ built in $((built - started)) s"

export CBCS_SANITIZED=1  # tests that bound memory allow for ASan's shadow and quarantine
# verify_asan_link_order=0: the clock-jump test preloads libfaketime into cbcs.
export ASAN_OPTIONS="verify_asan_link_order=0:detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1"
# UBSan is built unrecoverable (-fno-sanitize-recover=all): its reports cannot
# be suppressed, so a third-party one is avoided where our code triggers it
# (CAF 0.17 and a spawn without arguments: actors/connector_runtime.cpp).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
status=0
if [ $# -gt 0 ]; then
  ctest --test-dir build-asan --output-on-failure -j2 "$@" || status=$?
else
  ctest --test-dir build-asan --output-on-failure -j2 -L 'unit|fuzz|integration' || status=$?
fi
echo "sanitizers: tests ran in $(($(date +%s) - built)) s (exit $status)"
exit $status
