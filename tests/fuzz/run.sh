#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs each for SECONDS_PER_TARGET seconds (default 60) on its seed corpus.
#
#   tests/fuzz/run.sh                 every target
#   tests/fuzz/run.sh vault base64    only these
#
# Environment: SECONDS_PER_TARGET (60), BUILD_DIR (<repo>/build-fuzz),
# BUILD_JOBS (1), FUZZ_ARGS (extra libFuzzer flags), GROW_CORPUS (0).
#
# GROW_CORPUS=1: after fuzzing a target, the inputs it found that reach new
# coverage are merged into its seed corpus (libFuzzer -merge=1, which keeps
# only those), to be reviewed and committed: the corpus grows from long runs.
#
# New inputs the fuzzer finds go to BUILD_DIR/fuzz-corpus/<name>/ (the seeds,
# corpus/<name>/ beside each fuzz_<name>.cpp, are only read). A crash, leak,
# timeout or out-of-memory input lands in BUILD_DIR/fuzz-artifacts/<name>/
# and is listed at the end; the exit status is then 1. Reproduce one with
#   BUILD_DIR/fuzz/fuzz_<name> FILE     or   cbcs_fuzz_replay <name> FILE
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
seconds=${SECONDS_PER_TARGET:-60}
build_jobs=${BUILD_JOBS:-1}

# --- clang 14 and its libFuzzer runtime (Debian 12 packages).
if ! command -v clang++-14 >/dev/null ||
  ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'ok installed'; then
  echo "run.sh: installing clang-14 and libclang-rt-14-dev" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y clang-14 libclang-rt-14-dev
fi

# --- Build.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCBCS_FUZZ=ON >/dev/null
ninja -C "$build" -j"$build_jobs" cbcs_fuzzers

# Every fuzz_<name>.cpp, here or in a backend type's folder, as CMakeLists.txt finds them.
declare -A seeds_of=()
while IFS= read -r -d '' source; do
  name=$(basename "$source" .cpp)
  name=${name#fuzz_}
  seeds_of[$name]=$(dirname "$source")/corpus/$name
done < <(find "$here" -maxdepth 2 -name 'fuzz_*.cpp' -print0)
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(printf '%s\n' "${!seeds_of[@]}" | sort)
fi

# --- Fuzz, one target after the other, one process each (-jobs=1 -workers=1).
found=()
for name in "${targets[@]}"; do
  binary=$build/fuzz/fuzz_$name
  seeds=${seeds_of[$name]:-$here/corpus/$name}
  [ -x "$binary" ] || { echo "run.sh: no fuzz target $name" >&2; exit 2; }
  [ -d "$seeds" ] || { echo "run.sh: no seed corpus $seeds" >&2; exit 2; }
  work=$build/fuzz-corpus/$name
  artifacts=$build/fuzz-artifacts/$name
  logs=$build/fuzz-logs/$name
  mkdir -p "$work" "$artifacts" "$logs"
  case $name in
    job_codec | connector_config | json_problem | service_account | acmpca_driver | scm_messages | \
      installation_token)
      dict=(-dict="$here/dict/json.dict") ;;
    certificates | private_key | csr) dict=(-dict="$here/dict/pem.dict") ;;
    *) dict=() ;;
  esac
  stamp=$logs/.started
  touch "$stamp"
  echo "== $name: ${seconds}s"
  # With -jobs the run goes to fuzz-0.log in the current directory.
  (cd "$logs" && rm -f fuzz-*.log &&
    "$binary" -jobs=1 -workers=1 -max_total_time="$seconds" -max_len=8192 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "${dict[@]}" ${FUZZ_ARGS:-} "$work" "$seeds" >/dev/null 2>&1) || true
  log=$logs/fuzz-0.log
  if [ -f "$log" ]; then
    grep -aE '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true
    grep -aE '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" || true
    grep -aE '^(==[0-9]+==ERROR|SUMMARY|fuzz property violated|.*runtime error)' "$log" || true
  fi
  if [ "${GROW_CORPUS:-0}" = 1 ]; then
    before=$(find "$seeds" -type f | wc -l)
    (cd "$logs" && "$binary" -merge=1 -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      "$seeds" "$work" >merge.log 2>&1) || echo "run.sh: merging $name's corpus failed (see $logs/merge.log)"
    echo "corpus $name: $before -> $(find "$seeds" -type f | wc -l) seeds"
  fi
  while IFS= read -r -d '' artifact; do
    found+=("$name: $artifact")
  done < <(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) -newer "$stamp" -print0 2>/dev/null)
done

if [ ${#found[@]} -gt 0 ]; then
  echo
  echo "run.sh: the fuzzers found ${#found[@]} input(s) that fail:"
  printf '  %s\n' "${found[@]}"
  echo "Keep each under tests/fuzz/crashes/<name>/ until its parser is fixed; then add it to"
  echo "its corpus/<name>/ (beside fuzz_<name>.cpp) so every test run replays it."
  exit 1
fi
echo "run.sh: no new failing input"
