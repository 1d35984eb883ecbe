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
    if ! grep -q "Status: SUCCESS" <<<"$one"; then
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
