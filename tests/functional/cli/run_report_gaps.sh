# roar run ends with what it could not observe in the job, one line per
# kind of gap, on stderr (never in the job's stdout), keeps the job's exit
# status, prints no such section when nothing was missed, and -q silences
# it without changing the record.
. "$(dirname "$0")/../lib/common.sh"
need gcc jq
new_project
# With the tracer off the shim alone records, so a static binary is a gap.
"$ROAR" config set run.tracer off >/dev/null
cat >writer.c <<'C'
#include <stdio.h>
int main(int argc, char **argv) { FILE *f = fopen(argv[1], "w"); fputs("x\n", f); return fclose(f); }
C
gcc -static -O1 -o static-writer writer.c 2>/dev/null || skip "no static libc to link a static binary"

check "a fully observed job prints no gap section"
"$ROAR" run sh -c 'echo data > whole.txt' >out.txt 2>err.txt
assert_contains "$(cat err.txt)" "out  whole.txt" "the report lists the output"
assert_not_contains "$(cat err.txt)" "could not observe" "no gap section"

check "unobserved processes are one grouped line naming the programs and pids"
set +e
"$ROAR" --no-color run sh -c './static-writer a.txt; ./static-writer b.txt; echo job-stdout; exit 3' >out.txt 2>err.txt
rc=$?
set -e
assert_eq "$rc" 3 "the job's exit status is roar run's"
report=$(cat err.txt)
assert_contains "$report" "roar could not observe all of this job" "gap section"
line=$(grep -c "processes not observed" err.txt)
assert_eq "$line" 1 "one line for both static processes"
assert_contains "$report" "2 processes not observed, static-writer (pids " "grouped by program"
assert_contains "$report" "statically linked" "the reason"
assert_not_contains "$report" ") was not observed:" "not once per process as well"

check "the report goes to stderr, the job's stdout is its own"
assert_eq "$(cat out.txt)" "job-stdout" "stdout holds only the job's output"

check "-q silences the report but keeps the exit status"
set +e
"$ROAR" run -q sh -c './static-writer a.txt; ./static-writer b.txt; echo job-stdout; exit 3' >out.txt 2>err.txt
rc=$?
set -e
assert_eq "$rc" 3 "exit status with -q"
assert_eq "$(cat err.txt)" "" "nothing on stderr with -q"

check "-q never changes the record"
jobs=$("$ROAR" log --json)
loud=$(jq -r '.[-2].job_id' <<<"$jobs")
quiet=$(jq -r '.[-1].job_id' <<<"$jobs")
shape='{notes: [.notes[] | gsub("[0-9]+"; "N")], outputs: [.outputs[] | {path, hashes}], inputs: [.inputs[] | .path],
        unobserved: [.processes[] | select(.observed == false) | .notes]}'
assert_eq "$(show_json "$quiet" | jq -S "$shape")" "$(show_json "$loud" | jq -S "$shape")" "same record"
echo ok
