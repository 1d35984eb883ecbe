#!/usr/bin/env bash
# Runs a program of the Windows cross build under Wine, in the prefix
# packaging/windows/build.sh readied (its daemons already running).
#   under_wine.sh PROGRAM.exe [ARGS...]
set -uo pipefail
dir=${CBCS_WINDOWS_BUILD_DIR:?}
if [[ -f $dir/UNAVAILABLE ]]; then
  echo "skipped: $(cat "$dir/UNAVAILABLE")"
  exit 77
fi
program=$dir/$1
if [[ ! -f $program ]]; then
  echo "skipped: $program is not built (run packaging/windows/build.sh, which packaging/dev test runs)"
  exit 77
fi
if [[ ! -x /usr/lib/wine/wine64 ]]; then
  echo "skipped: wine64 is not installed"
  exit 77
fi
export WINEPREFIX=$dir/wineprefix WINEDEBUG=-all
exec /usr/lib/wine/wine64 "$program" "${@:2}"
