# roar run @N: re-runs the step's recorded command in its recorded
# directory (re-creating a deleted output), as the same step; --name=value
# overrides an argument (or appends it); a stale upstream is pointed out first.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
write_copy_script preprocess.py
cat >train.py <<'PY'
import argparse
p = argparse.ArgumentParser()
p.add_argument("src"); p.add_argument("out"); p.add_argument("--epochs"); p.add_argument("--lr"); p.add_argument("--batch")
a = p.parse_args()
open(a.out, "w").write(f"epochs={a.epochs} lr={a.lr} " + open(a.src).read())
PY
mkdir sub
run preprocess.py input.csv processed.csv
(cd sub && run ../train.py ../processed.csv model.bin --epochs=10 --lr 0.1)
want=$(b3 sub/model.bin)

rm sub/model.bin
assert_contains "$("$ROAR" status)" "missing   sub/model.bin  ('roar run @2' re-creates it)" "status names the fix"
"$ROAR" run -q @2 # from the project root: the step's own cwd is used
[[ -f sub/model.bin ]] || fail "roar run @2 did not re-create sub/model.bin"
assert_eq "$(b3 sub/model.bin)" "$want" "same content again"
j=$(show_json @2)
assert_eq "$(jq -r .cwd <<<"$j")" "$PROJECT/sub" "recorded cwd"
assert_eq "$(dag_json | jq .total_steps)" 2 "still two steps"
assert_eq "$(dag_json | jq '.nodes[1].executions')" 2 "two executions of @2"

# Overrides: --name=value replaces --name=x and --name x.
report=$("$ROAR" run @2 --epochs=20 --lr=0.5 2>&1 >/dev/null)
assert_contains "$report" "re-running @2: $PY ../train.py ../processed.csv model.bin --epochs=20 --lr 0.5" "override echo"
assert_contains "$(cat sub/model.bin)" "epochs=20 lr=0.5" "override reached the program"
assert_eq "$(show_json @2 | jq -r '.argv | join(" ")')" "$PY ../train.py ../processed.csv model.bin --epochs=20 --lr 0.5" "argv"
assert_eq "$(dag_json | jq '.nodes[1].executions')" 3 "the override run is the same step"

# An override the command lacks is appended (--name value and --name=value).
"$ROAR" run -q @2 --batch 4
assert_eq "$(show_json @2 | jq -r '.argv | join(" ")')" "$PY ../train.py ../processed.csv model.bin --epochs=20 --lr 0.5 --batch 4" "appended --batch 4"
"$ROAR" run -q @2 --batch=8
assert_eq "$(show_json @2 | jq -r '.argv | join(" ")')" "$PY ../train.py ../processed.csv model.bin --epochs=20 --lr 0.5 --batch 8" "replaced --batch"
expect_failure "$ROAR" run @2 epochs=4
assert_contains "$ERR_OUT" "not an override" "malformed override"
expect_failure "$ROAR" run @9
assert_contains "$ERR_OUT" "no step @9 in this session" "unknown step"
expect_failure "$ROAR" run @x
assert_contains "$ERR_OUT" "no step @x in this session" "unknown step name"
expect_failure "$ROAR" run @-x
assert_contains "$ERR_OUT" "not a step reference" "bad step syntax"

# A stale upstream is pointed out before re-running.
printf 'id,value\n1,b\n' >input.csv
report=$("$ROAR" run @2 2>&1 >/dev/null)
assert_contains "$report" "@2 depends on stale step @1" "stale upstream note"
echo ok
