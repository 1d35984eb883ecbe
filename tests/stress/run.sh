#!/usr/bin/env bash
# The suite under load (issue 29 item 5): every test of build/'s suite N
# times in a row (ctest --repeat until-fail:N: a test that fails once fails)
# while two busy loops take both cores; then the sanitizer pass once under
# the same load, unless CBCS_SKIP_SANITIZERS=1. The whole output goes to
# stress-<date>.log in the current directory, the summary to the terminal.
#
#   tests/stress/run.sh        10 runs
#   tests/stress/run.sh 3      3 runs
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runs=${1:-10}
log="$PWD/stress-$(date -u +%Y%m%dT%H%M%SZ).log"

busy=()
stop_busy() { for p in "${busy[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_busy EXIT
for _ in 1 2; do
  (while :; do :; done) &
  busy+=($!)
done

cd "$root"
cmake --build --preset default >/dev/null
started=$(date +%s)
status=0
ctest --preset default -j2 --repeat "until-fail:$runs" >"$log" 2>&1 || status=$?
grep -E "tests passed|\*\*\*|^\s+[0-9]+ - " "$log" || true
echo "stress: each test $runs time(s) in a row, ctest exit $status, $(($(date +%s) - started)) s, beside two busy loops" | tee -a "$log"
if [[ $status -eq 0 && ${CBCS_SKIP_SANITIZERS:-0} != 1 ]]; then
  tests/sanitizers/run.sh >>"$log" 2>&1 || status=$?
  grep -E "sanitizers:|\*\*\*" "$log" || true
fi
echo "stress: log in $log"
exit "$status"
