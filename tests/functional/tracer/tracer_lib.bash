# Shared set-up for the tracer's functional tests; source it first:
#   . "$(dirname "$0")/tracer_lib.bash"
# On top of ../lib/common.sh: $PROGS, `build_static NAME`, `build_musl
# NAME`, `build_go DIR` (each prints nothing and skips the test when the
# toolchain is missing), `events CMD...` (roar-events with the tracer, every
# raw event in $EV), `seed DIR` (the inputs file_ops and go_io expect),
# `job CMD...` (roar run; the record in $JOB) and jq helpers.
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

# check "behaviour": names what the assertions after it check, so a failure
# says which behaviour broke.
CHECK_NAME=
check() { CHECK_NAME=$1; }
fail() { echo "FAIL: $TEST_NAME: ${CHECK_NAME:+[$CHECK_NAME] }$*" >&2; exit 1; }
trap 'rc=$?; [[ $- == *e* ]] && echo "FAIL: $TEST_NAME: ${CHECK_NAME:+[$CHECK_NAME] }line $LINENO: $BASH_COMMAND (exit $rc)" >&2' ERR

PROGS=$ROAR_SOURCE_DIR/tests/functional/tracer/progs
EVENTS_BIN=$ROAR_BUILD_DIR/bin/roar-events
BIN=$TEST_TMP/bin
mkdir -p "$BIN"
need gcc b3sum
[[ -x "$EVENTS_BIN" ]] || fail "roar-events not built at $EVENTS_BIN"

# build_static NAME [gcc args]: progs/NAME.c with glibc, -static.
build_static() {
  local name=$1
  shift
  gcc -static -O1 -o "$BIN/$name" "$PROGS/$name.c" "$@" 2>"$TEST_TMP/cc.err" || skip "no static glibc: $(cat "$TEST_TMP/cc.err")"
}
# build_musl NAME: progs/NAME.c with musl, static (as $BIN/NAME-musl).
build_musl() {
  need musl-gcc
  musl-gcc -static -O1 -o "$BIN/$1-musl" "$PROGS/$1.c" 2>"$TEST_TMP/cc.err" || skip "musl-gcc failed: $(cat "$TEST_TMP/cc.err")"
}
# build_dynamic NAME: progs/NAME.c, dynamically linked.
build_dynamic() { gcc -O1 -o "$BIN/$1" "$PROGS/$1.c"; }
# build_go DIR [OUT] [CGO]: progs/DIR/main.go with Debian's Go, offline
# (Debian's golang-*-dev packages, such as minio-go, from /usr/share/gocode).
build_go() {
  need go
  local dir=$1 out=${2:-$1} cgo=${3:-0}
  mkdir -p "$TEST_TMP/go/$dir"
  cp "$PROGS/$dir/main.go" "$TEST_TMP/go/$dir/"
  (cd "$TEST_TMP/go/$dir" && GO111MODULE=off GOFLAGS= GOPROXY=off CGO_ENABLED=$cgo \
    GOPATH=$TEST_TMP/gopath:/usr/share/gocode \
    GOCACHE=${GOCACHE:-$HOME/.cache/go-build} timeout 300 go build -o "$BIN/$out" main.go) \
    2>"$TEST_TMP/go.err" || skip "go build failed: $(cat "$TEST_TMP/go.err")"
}

# seed DIR: the files file_ops and go_io read, truncate, delete and rewrite.
seed() {
  mkdir -p "$1"
  printf 'hello, tracer\n' >"$1/in.txt"
  printf 'truncate me please\n' >"$1/trunc.txt"
  printf 'doomed\n' >"$1/gone.txt"
  printf 'original bytes\n' >"$1/rmw.txt"
  # File times are coarse: the tracer hashes a file it learns was read
  # only when its inode changed before the job started (read_digest).
  sleep 0.05
}

# events [--tracer MODE] CMD...: runs CMD under roar-events with the tracer
# (auto unless given); events in $EV, exit status in $EVENTS_RC.
EV=$TEST_TMP/events.jsonl
events() {
  local mode=auto
  if [[ $1 == --tracer ]]; then
    mode=$2
    shift 2
  fi
  set +e
  "$EVENTS_BIN" --tracer "$mode" --output "$EV" -- "$@" >"$TEST_TMP/events.out" 2>"$TEST_TMP/events.err"
  EVENTS_RC=$?
  set -e
}
q() { jq -r -s "$1" "$EV"; }
# pid_of ARGV_WORD: the pid whose last PROC_START has that word in its argv.
pid_of() { q "[.[] | select(.op == \"proc_start\" and ((.argv // []) | index(\"$1\")))] | last | .pid"; }

# job CMD...: `roar run -q -- CMD...`; the record in $JOB, exit in $JOB_RC.
job() {
  set +e
  "$ROAR" run -q -- "$@"
  JOB_RC=$?
  set -e
  JOB=$(last_job)
}
# assert_output PATH: PATH is an output with b3sum's digest of it now.
assert_output() {
  io_paths "$JOB" outputs | grep -qxF "$1" || fail "$1 is not an output: $(io_paths "$JOB" outputs | tr '\n' ' ')"
  assert_eq "$(io_digest "$JOB" outputs "$1")" "$(b3 "$1")" "blake3 of output $1"
}
# assert_input PATH DIGEST: PATH is an input recorded with DIGEST.
assert_input() {
  io_paths "$JOB" inputs | grep -qxF "$1" || fail "$1 is not an input: $(io_paths "$JOB" inputs | tr '\n' ' ')"
  assert_eq "$(io_digest "$JOB" inputs "$1")" "$2" "blake3 of input $1"
}
assert_deleted() {
  jq -r '.deleted[].path' <<<"$JOB" | grep -qxF "$1" || fail "$1 is not deleted: $(jq -c .deleted <<<"$JOB")"
}
# tracer_of ARGV_WORD: the tracer field of the (last) process record whose argv has the word.
tracer_of() { jq -r "[.processes[] | select(.argv | index(\"$1\"))] | last | .tracer" <<<"$JOB"; }
