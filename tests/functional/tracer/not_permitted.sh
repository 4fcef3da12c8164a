# Where the kernel refuses ptrace or seccomp filters (a container without
# CAP_SYS_PTRACE, Yama's ptrace_scope 3, a seccomp policy), roar falls
# back to today's "not observed" notes and says why, once, in the run
# report; the job itself runs normally. Simulated by running roar under a
# seccomp filter that makes ptrace(2) (or seccomp(2)) fail with EPERM.
. "$(dirname "$0")/tracer_lib.bash"
build_static file_ops
gcc -O1 -o "$BIN/deny" "$PROGS/deny.c"
new_project

refused() { # SYSCALL REASON
  local d=$PROJECT/$1
  seed "$d"
  set +e
  "$BIN/deny" "$1" "$ROAR" run -q -- "$BIN/file_ops" "$d"
  JOB_RC=$?
  set -e
  JOB=$(last_job)
  check "$1 refused: the static program still runs, unharmed"
  assert_eq "$JOB_RC" 0 "exit status"
  [[ -f "$d/child.txt" && ! -e "$d/gone.txt" ]] || fail "the program did not do its work"
  check "$1 refused: the run report says why, once"
  local notes
  notes=$(jq -r '.notes[]' <<<"$JOB")
  assert_contains "$notes" "$2" "job notes"
  assert_eq "$(grep -c "$2" <<<"$notes")" 1 "times the reason is given"
  check "$1 refused: the program is recorded as not observed, with its note"
  assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$JOB")" \
    "statically linked" "process note"
  assert_eq "$(io_paths "$JOB" outputs)" "" "outputs"
}
refused ptrace "ptrace is not permitted here (Operation not permitted)"
refused seccomp "seccomp filters are not permitted here (Operation not permitted)"

check "refused while handing over from the shim: the same note, and the shell's own output"
seed "$PROJECT/shell"
set +e
"$BIN/deny" ptrace "$ROAR" run -q -- sh -c "'$BIN/file_ops' '$PROJECT/shell'; echo seen > '$PROJECT/shell/seen.txt'"
set -e
JOB=$(last_job)
assert_contains "$(jq -r '.notes[]' <<<"$JOB")" "ptrace is not permitted here" "job notes"
assert_eq "$(io_paths "$JOB" outputs)" "$PROJECT/shell/seen.txt" "outputs"

check "run.tracer = off: no tracing and no note about it"
"$ROAR" config set run.tracer off >/dev/null
seed "$PROJECT/off"
job "$BIN/file_ops" "$PROJECT/off"
assert_eq "$JOB_RC" 0 "exit status"
assert_not_contains "$(jq -r '.notes[]' <<<"$JOB")" "not permitted" "job notes"
assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$JOB")" \
  "statically linked" "process note"
echo ok
