# A statically linked C program (glibc, and musl) that reads, writes,
# renames, truncates, deletes, rewrites what it read, copies with
# copy_file_range and runs a child of itself: the tracer observes all of it,
# each file with b3sum's digest, each process recorded as traced.
. "$(dirname "$0")/tracer_lib.bash"
build_static file_ops
new_project

file_ops_job() { # BIN DIRNAME
  local bin=$1 d=$PROJECT/$2
  seed "$d"
  local in_b3 rmw_b3
  in_b3=$(b3 "$d/in.txt")
  rmw_b3=$(b3 "$d/rmw.txt")
  job "$bin" "$d"

  check "$2: the static program runs to completion under the tracer"
  assert_eq "$JOB_RC" 0 "exit status"
  check "$2: what it read is an input with the digest of the bytes it read"
  assert_input "$d/in.txt" "$in_b3"
  check "$2: a file it read and then replaced (O_CREAT|O_TRUNC, not stopped) is an input with the digest of the bytes it read"
  assert_input "$d/rmw.txt" "$rmw_b3"
  assert_eq "$(jq -r --arg p "$d/rmw.txt" '[.inputs[] | select(.path == $p) | .notes[]?] | join("|")' <<<"$JOB")" "" \
    "notes of rmw.txt"
  check "$2: what it wrote, renamed, truncated and copied is an output with b3sum's digest"
  local f
  for f in out.txt renamed.txt trunc.txt rmw.txt copy.txt child.txt; do
    assert_output "$d/$f"
  done
  check "$2: the temporary name of a rename is not an output"
  assert_not_contains "$(io_paths "$JOB" outputs)" "$d/tmp.txt" "outputs"
  check "$2: the file it deleted is deleted"
  assert_deleted "$d/gone.txt"
  check "$2: the program and its child are observed, by the tracer"
  assert_eq "$(jq '[.processes[] | select(.observed == false)] | length' <<<"$JOB")" 0 "unobserved processes"
  assert_eq "$(tracer_of "$d")" ptrace "tracer of the parent"
  assert_eq "$(tracer_of child)" ptrace "tracer of the child"
  assert_eq "$(jq '[.processes[] | select(.argv | index("child")) | .exit_code] | last' <<<"$JOB")" 0 "child exit"
  assert_eq "$(jq -r '.notes | join(";")' <<<"$JOB")" "" "job notes"
}

file_ops_job "$BIN/file_ops" glibc

check "each file event carries the pid of the process that made it"
seed "$TEST_TMP/ev"
events "$BIN/file_ops" "$TEST_TMP/ev"
assert_eq "$EVENTS_RC" 0 "roar-events exit"
parent=$(pid_of "$TEST_TMP/ev")
child=$(pid_of child)
assert_ne "$parent" "$child" "parent and child pids"
# (The opens of in.txt, read-only, and of child.txt, created with
# O_CREAT|O_TRUNC, run unstopped: their OPENs name the absolute path /proc
# gives.)
assert_eq "$(q "[.[] | select(.op == \"open\" and (.s1 | endswith(\"/ev/child.txt\"))) | .pid] | unique | join(\",\")")" "$child" \
  "pid of the open of child.txt"
assert_eq "$(q "[.[] | select(.op == \"open\" and (.s1 | endswith(\"/ev/in.txt\"))) | .pid] | unique | join(\",\")")" "$parent" \
  "pid of the opens of in.txt"
assert_eq "$(q "[.[] | select(.op == \"proc_start\") | .flags % 16 >= 8] | all")" true "every PROC_START is ROAR_START_TRACED"
check "the child's fork is announced in its parent before the child's first event"
fork_at=$(q "[.[] | select(.op == \"fork\" and .pid == $parent)][0].index")
start_at=$(q "[.[] | select(.op == \"proc_start\" and .pid == $child)][0].index")
first_child=$(q "[.[] | select(.pid == $child)][0].index")
[[ $fork_at -lt $start_at && $start_at -eq $first_child ]] || fail "fork $fork_at, child start $start_at, first child event $first_child"

if command -v musl-gcc >/dev/null; then
  build_musl file_ops
  file_ops_job "$BIN/file_ops-musl" musl
fi
echo ok
