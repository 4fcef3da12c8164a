#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in their own tree and runs each
# on its seed corpus. Used by `cmake --build build --target fuzz` and by
# the CTest test fuzz/short.
#   run.sh [--build-dir DIR] [--seconds N | --total-seconds N] [--jobs N] [TARGET...]
# --seconds N: each target runs N seconds (default 300); --total-seconds N:
# the time is shared out among the targets. The seeds of fuzz_<name> are
# tests/fuzz/corpus/<name>/; new inputs go to DIR/corpus/<name>/ (the
# committed seeds stay as they are); a crash leaves DIR/crash-<target>-*
# and a non-zero exit, with the command that reproduces it.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$src/build/fuzz
seconds=300
total=
jobs=${ROAR_FUZZ_JOBS:-2}
targets=()
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --total-seconds) total=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

command -v clang++ >/dev/null || { echo "run.sh: clang++ is not installed (packaging/install-deps.sh --test)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src/tests/fuzz" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$jobs" >/dev/null

if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(grep -v '^$' "$build/fuzzers.txt")
fi
if [[ -n $total ]]; then
  seconds=$((total / ${#targets[@]}))
  ((seconds >= 1)) || seconds=1
fi

failed=()
for t in "${targets[@]}"; do
  seeds=$src/tests/fuzz/corpus/${t#fuzz_}
  work=$build/corpus/${t#fuzz_}
  mkdir -p "$work"
  [[ -d $seeds ]] || { echo "run.sh: no seed corpus $seeds" >&2; exit 1; }
  dict=()
  [[ -f $src/tests/fuzz/dict/$t.dict ]] && dict=(-dict="$src/tests/fuzz/dict/$t.dict")
  echo "fuzz: $t for ${seconds}s" >&2
  if ! "$build/$t" "$work" "$seeds" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/crash-$t-" -print_final_stats=1 >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED (log $build/$t.log); reproduce with: $build/$t $build/crash-$t-*" >&2
    tail -n 40 "$build/$t.log" >&2
    failed+=("$t")
  else
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$build/$t.log" | tail -n 1 >&2 || true
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran clean" >&2
