# 32-bit executables: the probe flags them (ROAR_EXEC_32BIT), the root is
# not traced and gets a note; run by a traced program, the tracer's filter
# lets their i386 system calls through untouched (no ENOSYS, no decoding)
# and the process is noted as not observed.
. "$(dirname "$0")/tracer_lib.bash"
gcc -m32 -nostdlib -static -fno-pic -O1 -o "$BIN/i386_writer" "$PROGS/i386_writer.c" 2>"$TEST_TMP/cc.err" \
  || skip "no 32-bit code generation: $(cat "$TEST_TMP/cc.err")"
"$BIN/i386_writer" "$TEST_TMP/probe.txt" 2>/dev/null || skip "this kernel does not run 32-bit programs"
build_static spawn
new_project

job "$BIN/i386_writer" root.txt
check "a 32-bit root command runs, and is noted as not observed because it is 32-bit"
assert_eq "$JOB_RC" 0 "exit status"
[[ -f root.txt ]] || fail "root.txt was not written"
assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$JOB")" "32-bit" "note"

job "$BIN/spawn" "$BIN/i386_writer" child.txt
check "run by a traced static program, it runs unharmed under the filter"
assert_eq "$JOB_RC" 0 "exit status"
[[ -f child.txt ]] || fail "child.txt was not written"
assert_eq "$(tracer_of "$BIN/spawn")" ptrace "tracer of spawn"
assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$JOB")" "32-bit" "note"
echo ok
