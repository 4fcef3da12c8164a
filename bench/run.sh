#!/usr/bin/env bash
# roar's benchmarks in one command (issue 6; method in docs/benchmarks.md):
#   bench/run.sh [--quick] [--build DIR] [--rows 1,2,...] [--out FILE] [--work DIR] [--update-docs]
# Builds what is missing (Release, in DIR, default ./build), checks the
# public tools it drives, runs bench/bench.py, prints the table of ratios
# and writes DIR/bench/results.json (+ results.md; --update-docs also puts
# the table into docs/benchmarks.md). --quick uses small sizes
# (about 1-2 minutes) and is what the CTest smoke test runs. Every server
# (nginx, roar-proxy, iperf3) listens on 127.0.0.1 only and is stopped at
# exit. Missing tools are installed with packaging/install-deps.sh --test
# when running as root, else the script says what to run.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$src/build
quick=()
pass=()
work=
while (($#)); do
  case $1 in
    --quick) quick=(--quick) ;;
    --build) build=$2; shift ;;
    --build=*) build=${1#--build=} ;;
    --work) work=$2; pass+=(--work "$2"); shift ;;
    --rows | --out) pass+=("$1" "$2"); shift ;;
    --update-docs) pass+=(--update-docs "$src/docs/benchmarks.md") ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1 (see bench/run.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
build=$(mkdir -p "$build" && cd "$build" && pwd)
work=${work:-$build/bench/work}

# The public tools the rows drive (Debian package names in install-deps.sh).
tools=(/usr/bin/python3 strace b3sum sha256sum nginx iperf3 tar cmake)
missing=()
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("$t")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bench: installing missing tools (${missing[*]}) with packaging/install-deps.sh --test" >&2
    bash "$src/packaging/install-deps.sh" --test
  else
    echo "bench: missing ${missing[*]}: run 'sudo bash packaging/install-deps.sh --test' first" >&2
    exit 1
  fi
fi

# Build what the benchmarks run, if this build tree lacks it.
targets=(roar roar-proxy bench_shim_micro bench_hash bench_ingest bench_s3_load)
need_build=0
for f in bin/roar bin/roar-proxy bench/bin/bench_shim_micro bench/bin/bench_hash bench/bin/bench_ingest \
  bench/bin/bench_s3_load; do
  [[ -x $build/$f ]] || need_build=1
done
if ((need_build)); then
  if [[ ! -f $build/CMakeCache.txt ]]; then
    echo "bench: configuring a Release build in $build" >&2
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  if grep -q '^roar_preload:' <(cmake --build "$build" --target help 2>/dev/null | sed -n 's/^\.\.\. \([^ ]*\).*/\1:/p'); then
    targets+=(roar_preload)
  fi
  echo "bench: building ${targets[*]}" >&2
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >/dev/null
fi

# Stop any server the harness started, even if it was killed.
mkdir -p "$work"
cleanup() {
  local pid
  if [[ -f $work/servers.pids ]]; then
    while read -r pid; do
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done <"$work/servers.pids"
    rm -f "$work/servers.pids"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cmd="bench/run.sh${quick:+ ${quick[*]}}"
[[ $build == "$src/build" ]] || cmd+=" --build $build"
/usr/bin/python3 "$src/bench/bench.py" --build "$build" ${quick[@]+"${quick[@]}"} --command "$cmd" \
  ${pass[@]+"${pass[@]}"}
