#!/usr/bin/env bash
# Builds cbcs's Windows dependencies with MinGW-w64 from the source tarballs of
# the very Debian packages the Linux build uses, into a sysroot cached outside
# the clone. The cache key is the toolchain's version, each source package's
# version and the recipe's number: a later run on the same machine reuses it.
# CMake finds the parts through packaging/windows/cmake/ (our config files).
#
#   packaging/windows/build-sysroot.sh      prints the sysroot's path (last line)
#
# CBCS_WINDOWS_CACHE (default ~/.cache/cbcs-windows) holds sources and sysroots;
# BUILD_JOBS (default nproc) bounds the compilers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CBCS_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cbcs-windows}
jobs=${BUILD_JOBS:-$(nproc)}
triplet=x86_64-w64-mingw32
cxx=$triplet-g++-posix
cc=$triplet-gcc-posix

say() { echo "build-sysroot: $*" >&2; }
die() { say "$*"; exit 1; }
command -v "$cxx" >/dev/null || die "$cxx is missing (package g++-mingw-w64-x86-64-posix)"

# The Linux build's -dev packages name the sources (and the headers we reuse).
declare -A dev_of=(
  [openssl]=libssl-dev [actor-framework]=libcaf-dev [simdjson]=libsimdjson-dev
  [sqlite3]=libsqlite3-dev [pugixml]=libpugixml-dev [boost1.74]=libboost-program-options1.74-dev
  [fmtlib]=libfmt-dev [spdlog]=libspdlog-dev [doctest]=doctest-dev)
declare -A version_of=()
for src in "${!dev_of[@]}"; do
  v=$(dpkg-query -W -f='${source:Version}' "${dev_of[$src]}" 2>/dev/null) ||
    die "${dev_of[$src]} is not installed (packaging/install-deps.sh installs it)"
  version_of[$src]=$v
done
# Raise when the recipe below changes what lands in the sysroot.
recipe=2
key=$( {
  echo "recipe $recipe"
  "$cxx" --version | head -1
  for src in $(printf '%s\n' "${!version_of[@]}" | sort); do echo "$src=${version_of[$src]}"; done
} | sha256sum | cut -c1-16)
sysroot=$cache/sysroot-$key
if [[ -f $sysroot/.complete ]]; then
  say "cached: $sysroot"
  echo "$sysroot"
  exit 0
fi

# --- Sources: apt-get source through a private list, the system's untouched.
src_dir=$cache/src
mkdir -p "$src_dir/lists/partial"
cat >"$src_dir/sources.list" <<LIST
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
LIST
apt_opts=(-o "Dir::Etc::SourceList=$src_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$src_dir/lists" -o Debug::NoLocking=1 -qq)
# A tarball of the installed version, or else the newest one of that package
# in the cache (the archive keeps only current versions: OpenSSL moves on).
orig() {
  local upstream=${version_of[$1]#*:}
  upstream=${upstream%-*}
  { compgen -G "$src_dir/${1}_${upstream}.orig.tar.*" || compgen -G "$src_dir/${1}_*.orig.tar.*"; } |
    grep -v '\.asc$' | sort -V | tail -1
}
need_fetch=()
for src in openssl actor-framework simdjson sqlite3 pugixml boost1.74; do
  [[ -n $(orig "$src") ]] || need_fetch+=("$src")
done
if ((${#need_fetch[@]})); then
  say "fetching ${need_fetch[*]}"
  apt-get "${apt_opts[@]}" update 2>/dev/null
  wanted=()
  for src in "${need_fetch[@]}"; do
    available=$(apt-cache "${apt_opts[@]}" showsrc "$src" | sed -n 's/^Version: //p' | sort -V)
    if grep -qxF "${version_of[$src]}" <<<"$available"; then
      wanted+=("$src=${version_of[$src]}")
    else
      newest=$(tail -1 <<<"$available")
      [[ -n $newest ]] || die "deb.debian.org has no source package $src"
      say "$src ${version_of[$src]} is no longer in the archive: building $newest"
      wanted+=("$src=$newest")
    fi
  done
  # The .debian.tar.xz may be gone from the mirror; the orig tarball is what we use.
  (cd "$src_dir" && apt-get "${apt_opts[@]}" source --download-only "${wanted[@]}" 2>/dev/null) || true
fi
for src in openssl actor-framework simdjson sqlite3 pugixml boost1.74; do
  [[ -n $(orig "$src") ]] || die "no source tarball for $src ${version_of[$src]} from deb.debian.org"
done

work=$cache/work-$key
# What an interrupted build left (any key) goes; finished sysroots stay.
rm -rf "$cache"/work-* "$cache"/sysroot-*.partial
mkdir -p "$work" "$sysroot.partial"/{include,lib}
prefix=$sysroot.partial
unpack() { # unpack NAME -> prints the source tree
  local dir=$work/$1
  mkdir -p "$dir"
  tar -xf "$(orig "$1")" -C "$dir" --strip-components=1
  echo "$dir"
}
timed() { local t0=$SECONDS; "$@"; say "$1 done in $((SECONDS - t0)) s"; }

build_openssl() {
  local s; s=$(unpack openssl)
  (cd "$s" && ./Configure mingw64 --cross-compile-prefix=$triplet- no-shared no-tests \
    --prefix="$prefix" --libdir=lib >/dev/null &&
    make -j"$jobs" build_libs >/dev/null 2>&1 && make install_dev >/dev/null)
}

# CAF_NO_THREAD_LOCAL: CAF's logger keeps a thread_local intrusive_ptr per
# worker; MinGW-w64's GCC 12 runs such destructors after the thread's emulated
# TLS is freed (heap corruption in free at a thread's exit). Without it, CAF
# keeps that pointer in a pthread key, whose destructor winpthreads runs in time.
build_caf() {
  local s; s=$(unpack actor-framework)
  cmake -S "$s" -B "$s/build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$here/mingw-w64.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCAF_BUILD_STATIC_ONLY=ON -DCAF_NO_EXAMPLES=ON -DCAF_NO_UNIT_TESTS=ON \
    -DCAF_NO_OPENSSL=ON -DCAF_NO_TOOLS=ON -DCAF_NO_PYTHON=ON -DCAF_NO_IO=ON \
    -DCAF_NO_SUMMARY=ON -DCAF_NO_AUTO_LIBCPP=ON -DCMAKE_CXX_FLAGS="-D_WIN32_WINNT=0x0A00 -DCAF_NO_THREAD_LOCAL" >/dev/null
  ninja -C "$s/build" -j"$jobs" libcaf_core_static >/dev/null
  # CAF's CMake installs nothing on WIN32: copy the headers and the library.
  cp -r "$s/libcaf_core/caf" "$prefix/include/"
  cp "$(find "$s/build" -name build_config.hpp | head -1)" "$prefix/include/caf/detail/"
  cp "$(find "$s/build" -name 'libcaf_core_static.a' | head -1)" "$prefix/lib/"
}

build_boost_program_options() {
  local s=$work/boost1.74
  mkdir -p "$s"
  tar -xf "$(orig boost1.74)" -C "$s" --strip-components=1 --wildcards '*/libs/program_options/src/*'
  local objs=()
  for f in "$s"/libs/program_options/src/*.cpp; do
    "$cxx" -std=c++20 -O2 -DBOOST_ALL_NO_LIB -DBOOST_BIND_GLOBAL_PLACEHOLDERS -isystem "$prefix/include" -c "$f" -o "${f%.cpp}.o" &
    objs+=("${f%.cpp}.o")
    (($(jobs -r | wc -l) < jobs)) || wait -n
  done
  wait
  $triplet-gcc-ar-posix rcs "$prefix/lib/libboost_program_options.a" "${objs[@]}"
}

build_simdjson() {
  local s=$work/simdjson
  mkdir -p "$s"
  tar -xf "$(orig simdjson)" -C "$s" --strip-components=1 --wildcards '*/singleheader/*'
  "$cxx" -std=c++20 -O2 -isystem "$prefix/include" -c "$s/singleheader/simdjson.cpp" -o "$s/simdjson.o"
  $triplet-gcc-ar-posix rcs "$prefix/lib/libsimdjson.a" "$s/simdjson.o"
}

build_sqlite() {
  local s; s=$(unpack sqlite3)
  # The orig tarball is SQLite's full tree: generate the amalgamation natively.
  (cd "$s" && ./configure >/dev/null && make -j"$jobs" sqlite3.c >/dev/null 2>&1)
  "$cc" -O2 -DSQLITE_THREADSAFE=1 -c "$s/sqlite3.c" -o "$s/sqlite3.o"
  $triplet-gcc-ar-posix rcs "$prefix/lib/libsqlite3.a" "$s/sqlite3.o"
  cp "$s/sqlite3.h" "$s/sqlite3ext.h" "$prefix/include/"
}

build_pugixml() {
  local s; s=$(unpack pugixml)
  "$cxx" -std=c++20 -O2 -c "$s/src/pugixml.cpp" -o "$s/pugixml.o"
  $triplet-gcc-ar-posix rcs "$prefix/lib/libpugixml.a" "$s/pugixml.o"
  cp "$s/src/pugixml.hpp" "$s/src/pugiconfig.hpp" "$prefix/include/"
}

# Debian's header-only parts are used as they are (their versions are in the key).
link_headers() {
  for h in boost fmt spdlog doctest simdjson.h; do ln -s "/usr/include/$h" "$prefix/include/$h"; done
}

t0=$SECONDS
say "building into $sysroot (jobs $jobs)"
link_headers
timed build_openssl
timed build_caf
timed build_boost_program_options
timed build_simdjson
timed build_sqlite
timed build_pugixml
printf '%s\n' "$("$cxx" --version | head -1)" >"$prefix/.versions"
for src in $(printf '%s\n' "${!version_of[@]}" | sort); do echo "$src ${version_of[$src]}" >>"$prefix/.versions"; done
rm -rf "$work"
touch "$prefix/.complete"
mv "$prefix" "$sysroot"
say "sysroot ready in $((SECONDS - t0)) s: $sysroot"
echo "$sysroot"
