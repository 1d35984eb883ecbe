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
started=$SECONDS
/usr/lib/wine/wine64 "$program" "${@:2}"
status=$?
# Wine failing to start (CI saw one exit at once, in 0.03 s, with no output,
# and the same program pass by hand): the program never ran. Once more,
# with the prefix's server started again, detached from ctest's pipes.
if ((status != 0 && SECONDS - started < 2)); then
  echo "under_wine: wine64 exited $status at once, before the program ran; starting the prefix's server and trying once more" >&2
  setsid /usr/lib/wine/wineserver -p </dev/null >/dev/null 2>&1 &
  sleep 2
  /usr/lib/wine/wine64 "$program" "${@:2}"
  status=$?
fi
exit "$status"
