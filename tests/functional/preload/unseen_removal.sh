# An output the job wrote that is gone at the end, its directory still
# there, with no unlink or rename of it by the job seen, was removed by
# something roar did not observe (a process outside the job, a setuid
# helper, another machine on a shared file system): the job gets a note
# naming it, shown in the run report's gaps and by roar show. A file the
# job removed itself stays silent. Through the shim (a dynamic binary) and
# the ptrace tracer (a static one).
. "$(dirname "$0")/preload_lib.bash"
build write_wait
STATIC=
if gcc -static -O1 -o "$TEST_TMP/write_wait_static" "$PROGS/write_wait.c" 2>/dev/null; then
  STATIC=1
fi

# removed_outside PROG: runs `roar run PROG out.txt ready` (its report in
# report.txt) and removes out.txt from outside the job once the job has
# written it; $JOB is then the job's record.
removed_outside() {
  "$ROAR" --no-color run -- "$1" out.txt ready 2>report.txt &
  local run=$!
  until [[ -e ready ]]; do
    kill -0 "$run" 2>/dev/null || fail "the job ended before writing ready ($(cat report.txt))"
    sleep 0.05
  done
  rm out.txt
  wait "$run" || fail "roar run failed: $(cat report.txt)"
  JOB=$(last_job)
}
NOTE_END="removed by something roar did not observe"

check "an output removed by a process outside the job is named in a job note (shim)"
new_project outside_shim
removed_outside "$TEST_TMP/write_wait"
note="1 file the job wrote was gone at the end, $NOTE_END: $PROJECT/out.txt"
assert_eq "$(jq -r '.notes[]' <<<"$JOB")" "$note" "the job's notes"
assert_not_io outputs out.txt
assert_io outputs ready
check "the run report lists it among what roar could not observe"
assert_contains "$(cat report.txt)" "roar could not observe all of this job" "gap section"
assert_contains "$(cat report.txt)" "- $note" "the note in the gap section"
check "roar show lists it in the job's notes"
assert_contains "$("$ROAR" show "$(jq -r '.job_id' <<<"$JOB")")" "$note" "roar show"

if [[ -n $STATIC ]]; then
  check "an output removed by a process outside the job is named in a job note (tracer)"
  new_project outside_tracer
  removed_outside "$TEST_TMP/write_wait_static"
  assert_eq "$(jq -r '.notes[]' <<<"$JOB")" "1 file the job wrote was gone at the end, $NOTE_END: $PROJECT/out.txt" \
    "the job's notes"
fi

check "an output the job unlinked itself gets no note (shim)"
new_project unlinked_shim
job "$TEST_TMP/write_wait" out.txt -
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes"

if [[ -n $STATIC ]]; then
  check "an output the job unlinked itself gets no note (tracer)"
  new_project unlinked_tracer
  job "$TEST_TMP/write_wait_static" out.txt -
  assert_eq "$JOB_RC" 0 "exit status"
  assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes"
fi

check "outputs a shell removed with rm or moved away with mv get no note (shim)"
new_project shell_rm
job sh -c 'echo a >a.tmp; echo b >b.tmp; rm a.tmp; mv b.tmp b.txt'
assert_eq "$JOB_RC" 0 "exit status"
assert_io outputs b.txt
assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes"
echo ok
