#!/usr/bin/env bash
# The Windows unit tests under Wine, one process per doctest suite: a whole
# run in one process crashes or hangs at some thread's exit after several
# suites (MinGW-w64 TLS at thread exit under Wine; see packaging/windows/README.md),
# while each suite passes alone. Fails when any suite fails.
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
failed=0
for s in "${suites[@]}"; do
  out=$(timeout 300 "$here/under_wine.sh" cbcs_unit_tests.exe -ts="$s" </dev/null 2>&1)
  if grep -q "Status: SUCCESS" <<<"$out"; then
    echo "ok    $s: $(grep -o 'test cases: *[0-9]* | *[0-9]* passed' <<<"$out" | head -1)"
  else
    failed=$((failed + 1))
    echo "FAIL  $s"
    grep -vE '^\s*0000|^0000' <<<"$out" | tail -40
  fi
done
echo "${#suites[@]} suites, $failed failed"
((failed == 0))
