# References that match nothing, or more than one thing, fail with a
# clear message and a non-zero exit; so do lineage commands outside a project.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
mkdir "$TEST_TMP/nowhere"
cd "$TEST_TMP/nowhere"
for cmd in dag status reset "show @1"; do
  expect_failure "$ROAR" $cmd
  assert_contains "$ERR_OUT" "run 'roar init' first" "$cmd outside a project"
done
new_project
assert_contains "$("$ROAR" dag)" "Pipeline: 0 steps" "empty dag"
assert_eq "$(dag_json | jq .total_steps)" 0 "empty dag json"
printf 'a\n' >in.txt
write_copy_script copy.py
run copy.py in.txt out.txt
expect_failure "$ROAR" show @7
assert_contains "$ERR_OUT" "no step @7 in this session" "unknown step"
expect_failure "$ROAR" show @seven
assert_contains "$ERR_OUT" "no step @seven in this session" "unknown step name"
expect_failure "$ROAR" show @7x!
assert_contains "$ERR_OUT" "is not a step reference" "bad step"
expect_failure "$ROAR" show no-such-file.csv
assert_contains "$ERR_OUT" "no job, step, path or digest matches 'no-such-file.csv'" "unknown path"
printf 'x\n' >unrecorded.txt
expect_failure "$ROAR" show unrecorded.txt
assert_contains "$ERR_OUT" "unrecorded.txt is not recorded in any job" "unrecorded file"
expect_failure "$ROAR" show --lineage @1
assert_contains "$ERR_OUT" "--lineage is for artifacts" "lineage of a job"
expect_failure "$ROAR" dag --format svg
assert_contains "$ERR_OUT" "svg" "unknown format"
expect_failure "$ROAR" dag --html "$TEST_TMP/no/such/dir/dag.html"
assert_contains "$ERR_OUT" "cannot write" "unwritable html"
echo ok
