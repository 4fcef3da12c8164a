# Read-only opens run without a ptrace stop: the tracer learns their fds
# from /proc at the process's next stop that needs them (the fd's close, a
# dup over it, an exec, exit_group or a death by signal, a call that may
# change a file) and publishes the OPEN then. Each place is checked here, with the record's
# digests, and the stop count of an open+close loop (one stop per
# iteration, not three) and what those stops cost roar run's main thread.
. "$(dirname "$0")/tracer_lib.bash"
build_static read_modes
new_project
printf 'kept open\n' >kept.txt
printf 'duplicated\n' >duped.txt
printf 'close on exec\n' >cloexec.txt
printf 'read, then rewritten\n' >rewritten.txt
before_rewrite=$(b3 rewritten.txt)

job "$BIN/read_modes" keep kept.txt
check "a file still open at exit_group is an input"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/kept.txt" "$(b3 kept.txt)"

# process_notes ARGV_WORD: the notes of the process whose argv has the word, joined by '|'.
process_notes() { jq -r "[.processes[] | select(.argv | index(\"$1\")) | .notes[]?] | join(\"|\")" <<<"$JOB"; }

job "$BIN/read_modes" killed kept.txt
check "a file still open when a signal kills the process is an input"
assert_eq "$JOB_RC" 143 "exit status (SIGTERM)"
assert_input "$PROJECT/kept.txt" "$(b3 kept.txt)"
assert_not_contains "$(process_notes killed)" "before the tracer could learn" "process notes"

job "$BIN/read_modes" sigkill kept.txt
check "a process SIGKILL ends before its open files could be learnt has them as inputs or says they may be missing"
assert_eq "$JOB_RC" 137 "exit status (SIGKILL)"
if ! io_paths "$JOB" inputs | grep -qxF "$PROJECT/kept.txt"; then
  assert_contains "$(process_notes sigkill)" "killed by signal 9 before the tracer could learn the files it still had open" \
    "process notes"
fi

job "$BIN/read_modes" dup duped.txt
check "a file read through a dup2 copy is an input, once"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(io_paths "$JOB" inputs)" "$PROJECT/duped.txt" "inputs"
assert_input "$PROJECT/duped.txt" "$(b3 duped.txt)"

job "$BIN/read_modes" exec cloexec.txt /bin/true
check "an O_CLOEXEC fd open at exec is an input of the image that read it"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/cloexec.txt" "$(b3 cloexec.txt)"

job "$BIN/read_modes" rewrite rewritten.txt
check "a file read and then rewritten while still open is an input with its old digest and an output"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/rewritten.txt" "$before_rewrite"
assert_output "$PROJECT/rewritten.txt"

check "the OPEN learnt at close names the absolute path and the fd"
events "$BIN/read_modes" dup duped.txt
assert_eq "$EVENTS_RC" 0 "exit status"
assert_eq "$(q '[.[] | select(.op == "open")] | map(.s1) | unique | join(" ")')" "$PROJECT/duped.txt" "OPEN paths"
assert_eq "$(q '[.[] | select(.op == "open")] | length')" 1 "OPENs"

check "a directory learnt at close keeps O_DIRECTORY (listed, not read), a file its access mode"
mkdir -p listed
events "$BIN/read_modes" list listed
assert_eq "$EVENTS_RC" 0 "exit status"
assert_eq "$(q "[.[] | select(.op == \"open\" and .s1 == \"$PROJECT/listed\") | (.flags / $((0200000)) | floor) % 2] | join(\" \")")" 1 \
  "O_DIRECTORY of the directory's OPEN"
events "$BIN/read_modes" dup duped.txt
assert_eq "$EVENTS_RC" 0 "exit status"
assert_eq "$(q "[.[] | select(.op == \"open\") | .flags] | unique | join(\" \")")" 0 "flags of the file's OPEN (O_RDONLY)"

check "an open+close loop costs one stop per iteration"
events "$BIN/read_modes" loop kept.txt 2000
assert_eq "$EVENTS_RC" 0 "exit status"
stops=$(sed -n 's/^roar-events: tracer: .*, \([0-9]*\) stops, .*/\1/p' "$TEST_TMP/events.err")
[[ -n $stops ]] || fail "no tracer stop count in: $(cat "$TEST_TMP/events.err")"
((stops >= 2000 && stops < 2100)) || fail "$stops ptrace stops for 2,000 iterations (want one per iteration)"
assert_eq "$(q '[.[] | select(.op == "open")] | length')" 2000 "OPENs"

check "the loop's stops do not wake roar run's main thread (no SIGCHLD left pending for it)"
# Every ptrace stop sends SIGCHLD to the tracing thread. Were it blocked
# there, the kernel would hand it to the main thread instead, waking it
# once per stop. The job reads the main thread's voluntary context
# switches (roar's /proc/PID/status) before and after 2,000 iterations.
cat >wakes.sh <<'SH'
p=$$
while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != roar ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat)
done
[ "$p" -gt 1 ] || exit 3 # no roar among the job's ancestors: nothing measured
switches() { awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$p/status; }
before=$(switches)
"$@" || exit 1
echo "$(( $(switches) - before ))" >wakes.out
SH
job sh wakes.sh "$BIN/read_modes" loop kept.txt 2000
assert_eq "$JOB_RC" 0 "exit status"
wakes=$(cat wakes.out)
((wakes < 500)) || fail "roar run's main thread woke $wakes times during 2,000 stops (want far fewer than one per stop)"
echo ok
