# bench/run.sh --quick completes and its JSON has every row (1-9), each
# entry with a numeric result or an explicit n/a reason; a row that failed
# with an error (n/a "error: ...") fails this test, so a broken benchmark is
# caught. Absolute times are never asserted.
. "$(dirname "$0")/../lib/common.sh"
need nginx strace b3sum iperf3 /usr/bin/python3

out=$TEST_TMP/results.json
bash "$ROAR_SOURCE_DIR/bench/run.sh" --quick --build "$ROAR_BUILD_DIR" --out "$out" --work "$TEST_TMP/work" \
  >"$TEST_TMP/bench.log" 2>&1 || { tail -n 40 "$TEST_TMP/bench.log" >&2; fail "bench/run.sh --quick failed"; }

[[ -s $out ]] || fail "no results file at $out"
assert_eq "$(jq -r .mode "$out")" quick "mode"
for key in cpu_model cores kernel; do
  [[ -n $(jq -r ".machine.$key // empty" "$out") ]] || fail "machine.$key is not recorded"
done
for row in 1 2 3 4 5 6 7 8 9; do
  n=$(jq "[.rows[] | select(.row == $row)] | length" "$out")
  ((n > 0)) || fail "row $row is missing from the results"
done
# Every entry: a number, or a non-empty n/a reason.
bad=$(jq -r '.rows[] | select((.na // "") == "" and ((.roar | type) != "number")) | .id' "$out")
[[ -z $bad ]] || fail "entries without a number or an n/a reason: $bad"
errors=$(jq -r '.rows[] | select((.na // "") | startswith("error")) | "\(.id): \(.na)"' "$out")
[[ -z $errors ]] || fail "benchmark rows failed: $errors"
# Entries with a target carry a verdict unless they are n/a.
unjudged=$(jq -r '.rows[] | select(.target and (.na // "") == "" and (.meets | type) != "boolean") | .id' "$out")
[[ -z $unjudged ]] || fail "entries with a target but no verdict: $unjudged"
# The printed table names every row.
for row in 1 2 3 4 5 6 7 8 9; do
  grep -q "^| ${row}" "$TEST_TMP/bench.log" || fail "row $row is missing from the printed table"
done
