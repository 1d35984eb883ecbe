#!/usr/bin/env bash
# The Windows unit tests under Wine, one process per doctest suite: a whole
# run in one process crashes or hangs at some thread's exit after several
# suites (see packaging/windows/README.md, "Known, not fixed"). A suite that
# fails or hangs so runs again one process per test case, and counts as
# passed only when every case passes; it is named in the output. Fails when
# any test case fails.
set -uo pipefail
here=$(dirname "$0")
list=$("$here/under_wine.sh" cbcs_unit_tests.exe -lts </dev/null 2>&1)
status=$?
if ((status == 77)); then
  echo "$list"
  exit 77
fi
mapfile -t suites < <(grep -v '^\[doctest\]\|^=\|^$' <<<"$list" | tr -d '\r')
((${#suites[@]} > 0)) || { echo "no suites listed: $list"; exit 1; }
# Cases that hang or time out under Wine on this 2-core machine when it is
# busy (deadlines and cancellation through the whole job path): run and shown,
# not counted, until that is found (issue 16's note). Each passes on Linux.
known_under_wine=(
  "cancel/a job left pending at its deadline is run again to be cancelled"
  "job_path/a job whose backend never answers fails at its deadline"
  "job_path/a job still pending at its deadline runs again later and finishes"
  "job_path/jobs whose commit failed run once, and their results follow the next good commit"
  "job_path/a result its submitter consumes at once is journaled acknowledged, with no ack"
)
known() {
  local k
  for k in "${known_under_wine[@]}"; do [[ $1/$2 == "$k" ]] && return 0; done
  return 1
}
run() { timeout "$1" "$here/under_wine.sh" cbcs_unit_tests.exe "${@:2}" </dev/null 2>&1; }
failed=0
case_by_case=()
for s in "${suites[@]}"; do
  out=$(run 120 -ts="$s")
  if grep -q "Status: SUCCESS" <<<"$out"; then
    echo "ok    $s: $(grep -o 'test cases: *[0-9]* | *[0-9]* passed' <<<"$out" | head -1)"
    continue
  fi
  mapfile -t cases < <(run 60 -ts="$s" -ltc | grep -v '^\[doctest\]\|^=\|^$' | tr -d '\r')
  bad=0
  for c in "${cases[@]}"; do
    # doctest filters take wildcards: escape the ones a name may hold.
    pattern=$(sed 's/[][*?,\\]/\\&/g' <<<"$c")
    one=$(run 120 -ts="$s" -tc="$pattern")
    if ! grep -q "Status: SUCCESS" <<<"$one" && known "$s" "$c"; then
      echo "KNOWN $s / $c: did not pass under Wine (not counted; see the script's list)"
    elif ! grep -q "Status: SUCCESS" <<<"$one"; then
      bad=$((bad + 1))
      echo "FAIL  $s / $c"
      grep -vE '^\s*0000|^0000' <<<"$one" | tail -30
    fi
  done
  if ((bad == 0 && ${#cases[@]} > 0)); then
    echo "ok    $s: ${#cases[@]} cases, one process each (the suite in one process did not finish)"
    case_by_case+=("$s")
  else
    failed=$((failed + 1))
    echo "FAIL  $s ($bad of ${#cases[@]} cases)"
  fi
done
echo "${#suites[@]} suites, $failed failed; passed only case by case: ${case_by_case[*]:-none}"
((failed == 0))
