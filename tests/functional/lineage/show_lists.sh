# roar show cuts long lists in the text view at 50 entries and says how
# many more there are; --all and --json list every one.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
mkdir data
for i in $(seq -w 1 60); do printf 'same\n' >"data/f$i.txt"; done
# The files are opened by name, not listed: a listed directory read whole
# would be one dataset entry (datasets.sh).
"$ROAR" run -q "$PY" -c '[open(f"data/f{i:02d}.txt").read() for i in range(1, 61)]; open("out.txt", "w").write("x")'
text=$("$ROAR" --no-color show @1)
assert_contains "$text" "Inputs (60)" "input count"
assert_contains "$text" "data/f50.txt" "the 50th input"
assert_not_contains "$text" "data/f51.txt" "the 51st input is cut"
assert_contains "$text" "... and 10 more ('--all' lists every one" "cut line"
all=$("$ROAR" --no-color show @1 --all)
assert_contains "$all" "data/f60.txt" "--all lists the last input"
assert_not_contains "$all" "more ('--all'" "--all cuts nothing"
assert_eq "$(show_json @1 | jq '.inputs | length')" 60 "--json has every input"
# One content at 60 paths: "Seen at" is cut the same way.
art=$("$ROAR" --no-color show data/f01.txt)
assert_contains "$art" "... and 10 more" "paths of one artifact cut"
assert_eq "$("$ROAR" --no-color show data/f01.txt --all | grep -c '^  data/')" 60 "--all lists every path"
# One job writing the same bytes to two paths is listed once for each: each line names its path.
"$ROAR" run -q sh -c 'echo twin > a.txt; echo twin > b.txt'
art=$("$ROAR" --no-color show a.txt)
assert_contains "$art" "Produced by (2)" "both writes listed"
assert_eq "$(grep -cE '^  @2 .*  a[.]txt(  pid [0-9]+)?$' <<<"$art")" 1 "the write of a.txt says so"
assert_eq "$(grep -cE '^  @2 .*  b[.]txt(  pid [0-9]+)?$' <<<"$art")" 1 "the write of b.txt says so"
echo ok
