#!/usr/bin/env bash
# Cross-builds cbcs for 64-bit Windows into build-windows/: the dependencies'
# sysroot (built once per machine and cached, build-sysroot.sh), cbcs.exe and
# the unit tests, statically linked; then readies a Wine prefix for the tests
# (build-windows/wineprefix), its daemons started here, outside ctest.
#
#   packaging/windows/build.sh
#
# When the toolchain cannot be installed, it writes the reason to
# build-windows/UNAVAILABLE and exits 0: the windows tests then report
# themselves skipped with it. A build that fails fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-windows
mkdir -p "$out"
rm -f "$out/UNAVAILABLE"
unavailable() {
  echo "$*" >"$out/UNAVAILABLE"
  echo "windows: skipped: $*" >&2
  exit 0
}

# Xvfb, xdotool and xwd (x11-apps): the setup wizard's test drives it in a real window.
packages=(g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 wine64 msitools wixl xvfb xdotool x11-apps)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "windows: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null 2>"$out/apt.log" ||
    unavailable "the Windows toolchain could not be installed (apt-get install ${missing[*]}: $(tail -1 "$out/apt.log"))"
fi

t0=$SECONDS
if ! sysroot=$(packaging/windows/build-sysroot.sh 2>"$out/sysroot.log" | tail -1) || [[ -z $sysroot ]]; then
  cat "$out/sysroot.log" >&2
  # Sources come from deb.debian.org; without it no sysroot can be built.
  if grep -q "no source tarball\|has no source package" "$out/sysroot.log"; then
    unavailable "the Windows dependencies' sources could not be fetched ($(tail -1 "$out/sysroot.log"))"
  fi
  echo "windows: the sysroot did not build" >&2
  exit 1
fi
echo "windows: sysroot $sysroot ($((SECONDS - t0)) s)" >&2

t1=$SECONDS
cmake -S . -B "$out" -G Ninja -DCMAKE_TOOLCHAIN_FILE=packaging/windows/mingw-w64.cmake \
  -DCBCS_WINDOWS_SYSROOT="$sysroot" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out"
echo "windows: cross build $((SECONDS - t1)) s" >&2

# Wine's daemons, started here: started inside a test they inherit ctest's
# pipes and hang it. A fresh prefix each time (recreated, ~700 MB, never cached).
export WINEPREFIX=$PWD/$out/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
t2=$SECONDS
# wineboot failed once here (exit 53) right after the server was started:
# a failed first start is tried again from a clean prefix, twice at most.
for attempt in 1 2 3; do
  /usr/lib/wine/wineserver -k 2>/dev/null || true
  rm -rf "$WINEPREFIX"
  setsid /usr/lib/wine/wineserver -p </dev/null >/dev/null 2>&1 &
  /usr/lib/wine/wine64 wineboot -i </dev/null >/dev/null 2>&1 && break
  status=$?
  echo "windows: wineboot failed (exit $status), attempt $attempt of 3" >&2
  ((attempt < 3)) || exit "$status"
  sleep 2
done
echo "windows: Wine prefix ready ($((SECONDS - t2)) s)" >&2
