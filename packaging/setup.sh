#!/usr/bin/env bash
# The README's two commands, for a fresh Debian 12 machine, as root:
#   bash packaging/setup.sh demo   installs, builds, runs the demo pipeline
#   bash packaging/setup.sh test   installs (with test tools), builds, runs every test,
#                                  then the sanitizer stage below (what CI runs)
#   bash packaging/setup.sh sanitize   only the sanitizer stage: the same sources
#                                  under ASan+UBSan and TSan (build-asan, build-tsan;
#                                  README "Sanitizers")
# All are idempotent: re-running skips what is already installed.
set -euo pipefail

mode=${1:-}
case "$mode" in
  demo | test | sanitize) ;;
  *) echo "usage: $0 demo|test|sanitize" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ROAR_BUILD_DIR:-$src/build}
jobs=$(nproc)

step() { printf '\n==> %s\n' "$*" >&2; }

step "Installing dependencies"
if [[ $mode != demo ]]; then
  "$src/packaging/install-deps.sh" --test
  if [[ -x "$src/tests/functional/node/install.sh" ]]; then
    "$src/tests/functional/node/install.sh"
  fi
else
  "$src/packaging/install-deps.sh" --demo
fi

step "Building roar in $build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROAR_WERROR=ON -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build "$build" -j "$jobs"

if [[ $mode == demo ]]; then
  step "Running the demo pipeline"
  exec "$src/packaging/demo/run-demo.sh" "$build/bin/roar"
fi

if [[ $mode == test ]]; then
  step "Running the test suite"
  ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 1200
fi

# The same sources under sanitizers, each in its own tree (README "Working
# on roar"): ASan+UBSan over the unit and functional suites (label asan),
# TSan over the ring's and the proxy's concurrency tests (label tsan). The
# preload shim is never sanitized. Any sanitizer report fails the run.
# -O1 -g1 (line tables): reports keep file:line, the trees build in about
# 60% of RelWithDebInfo's compiler time.
san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DROAR_WERROR=ON -DCMAKE_UNITY_BUILD=ON)
step "Building with ASan+UBSan in $build-asan"
cmake -S "$src" -B "$build-asan" "${san_flags[@]}" -DROAR_SANITIZE="address;undefined" >/dev/null
# Only what the asan selection runs (no gateway, benchmarks or preload unit tests).
cmake --build "$build-asan" -j "$jobs" --target roar roar-proxy roar-events roar_preload roar_proxy_ring_tool \
  roar_collector_tests roar_cli_tests roar_proxy_tests
step "Running the asan tests"
ctest --test-dir "$build-asan" -L asan --output-on-failure -j "$jobs" --timeout 1200

step "Building with TSan in $build-tsan"
cmake -S "$src" -B "$build-tsan" "${san_flags[@]}" -DROAR_SANITIZE=thread >/dev/null
cmake --build "$build-tsan" -j "$jobs" --target roar roar-proxy roar_proxy_ring_tool roar_collector_tests roar_proxy_tests \
  roar_gateway_tests
step "Running the tsan tests"
ctest --test-dir "$build-tsan" -L tsan --output-on-failure -j "$jobs" --timeout 1200
