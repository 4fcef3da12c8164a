# A file the job inherited as stdout/stderr from the user's shell
# (`roar run cmd > out.log`) is an output only when the job wrote to it;
# roar never appends its report to a file the job's record holds, and -q
# never changes the record.
. "$(dirname "$0")/../lib/common.sh"
need jq python3
new_project
outputs() { "$ROAR" show --json "$("$ROAR" log --json | jq -r '.[-1].job_id')" | jq -r '[.outputs[].path] | sort | join(" ")'; }

check "stdout redirected but not written is not an output"
"$ROAR" run true >quiet.log
assert_eq "$(outputs)" "" "no outputs"

check "stdout the job wrote to is an output"
"$ROAR" run /bin/echo hello >out.log
assert_eq "$(outputs)" "$PROJECT/out.log" "out.log recorded"
assert_eq "$(cat out.log)" "hello" "stdout holds the job's bytes only"

check "stderr the job wrote to is an output, and roar's report is not appended to it"
"$ROAR" run sh -c 'echo oops >&2' 2>err.log
assert_eq "$(outputs)" "$PROJECT/err.log" "err.log recorded"
assert_eq "$(cat err.log)" "oops" "no report appended to a recorded file"
assert_contains "$("$ROAR" --no-color status)" " 0 modified" "err.log is not reported modified"

check "-q records the same outputs"
"$ROAR" run -q sh -c 'echo oops >&2' 2>err-q.log
assert_eq "$(outputs)" "$PROJECT/err-q.log" "err-q.log recorded with -q"

check "stderr the job did not write to is not an output, and the report goes there"
"$ROAR" run /bin/echo hi >/dev/null 2>report.log
assert_eq "$(outputs)" "" "report.log not recorded"
assert_contains "$(cat report.log)" "roar:" "the report is in report.log"

check "a program whose stdio is in writing mode without writing a byte (python3) does not make it an output"
"$ROAR" run -q python3 -c 'pass' 2>py-q.log
assert_eq "$(outputs)" "" "py-q.log not recorded with -q"
"$ROAR" run python3 -c 'pass' >py.out 2>py.log
assert_eq "$(outputs)" "" "py.out and py.log not recorded"
"$ROAR" run -q python3 -c 'import sys; sys.stderr.write("warn\n")' 2>py-w.log
assert_eq "$(outputs)" "$PROJECT/py-w.log" "a python3 job that wrote to stderr records it"

check "-q does not record a stderr file the job left alone either"
"$ROAR" run -q /bin/echo hi >/dev/null 2>report-q.log
assert_eq "$(outputs)" "" "report-q.log not recorded"
echo ok
