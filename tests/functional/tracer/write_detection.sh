# The tracer does not stop on write(2): for a write-capable fd that did not
# truncate (an append, O_RDWR, a redirection the program inherited) it
# notes the file and reports a write when the file changed by the time the
# fd is closed, the program exits or execs, or is killed. Written files
# are outputs; a file opened read-write but only read, or a redirection
# nothing was written to, is not. Under run.tracer = complete the same
# holds for a dynamically linked program's write(2) into a redirection it
# inherited, made with an inline `syscall` instruction that no shim hook
# sees.
. "$(dirname "$0")/tracer_lib.bash"
build_static fd_writes
new_project

printf 'first\n' >log.txt
job "$BIN/fd_writes" append log.txt
check "an append through O_APPEND makes the file an output"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/log.txt"

printf 'data\n' >table.db
job "$BIN/fd_writes" rdwr-read table.db
check "O_RDWR opened but only read: an input, not an output"
assert_input "$PROJECT/table.db" "$(b3 table.db)"
assert_not_contains "$(io_paths "$JOB" outputs)" "$PROJECT/table.db" "outputs"

set +e
"$ROAR" run -q -- "$BIN/fd_writes" say hello >said.txt
"$ROAR" run -q -- "$BIN/fd_writes" silent >quiet.txt
set -e
said=$(show_json "$("$ROAR" log --json | jq -r '.[-2].job_id')")
JOB=$(last_job)
check "a redirection the program wrote to is an output; one it left alone is not"
assert_eq "$(io_paths "$said" outputs)" "$PROJECT/said.txt" "outputs of 'say'"
assert_eq "$(io_digest "$said" outputs "$PROJECT/said.txt")" "$(b3 said.txt)" "blake3 of said.txt"
assert_eq "$(io_paths "$JOB" outputs)" "" "outputs of 'silent'"

printf 'abcdefgh\n' >patched.txt
job "$BIN/fd_writes" overwrite patched.txt
check "a same-size overwrite in place through a write-only fd makes the file an output"
assert_eq "$(cat patched.txt)" "XXXXefgh" "the file"
assert_output "$PROJECT/patched.txt"

printf 'before\n' >dying.txt
job "$BIN/fd_writes" append-die dying.txt
check "killed before closing: what it appended still makes the file an output"
assert_eq "$JOB_RC" 137 "exit status"
assert_output "$PROJECT/dying.txt"

gcc -O1 -o "$BIN/fd_writes-dyn" "$PROGS/fd_writes.c"
"$ROAR" config set run.tracer complete >/dev/null
set +e
"$ROAR" run -q -- "$BIN/fd_writes-dyn" raw-say hello >rawsaid.txt
"$ROAR" run -q -- "$BIN/fd_writes-dyn" silent >rawquiet.txt
set -e
said=$(show_json "$("$ROAR" log --json | jq -r '.[-2].job_id')")
JOB=$(last_job)
check "complete mode: a dynamic program's inline-syscall write into an inherited redirection is an output; silence is not"
assert_eq "$(cat rawsaid.txt)" "hello" "rawsaid.txt"
assert_eq "$(io_paths "$said" outputs)" "$PROJECT/rawsaid.txt" "outputs of 'raw-say'"
assert_eq "$(io_digest "$said" outputs "$PROJECT/rawsaid.txt")" "$(b3 rawsaid.txt)" "blake3 of rawsaid.txt"
assert_eq "$(jq -r '[.processes[] | select(.argv | index("raw-say"))] | last | .tracer' <<<"$said")" "shim+ptrace" "tracer"
assert_eq "$(io_paths "$JOB" outputs)" "" "outputs of 'silent'"
echo ok
