# `roar diff` compares two jobs' environment records: a distribution the
# later job imported at another version and one it imported in addition
# (tiny dist-info packages written here into a site-packages directory on
# PYTHONPATH, no PyPI) are named in text and --json; equal records add
# nothing; a job recorded without an environment record is reported as not
# compared rather than as differences.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
need jq
new_project
site=$TEST_TMP/pylib/site-packages

# install_dist NAME VERSION: a module and its dist-info (METADATA, RECORD)
# as an installer leaves them.
install_dist() {
  mkdir -p "$site/$1" "$site/$1-$2.dist-info"
  echo "VALUE = '$2'" >"$site/$1/__init__.py"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$site/$1-$2.dist-info/METADATA"
  printf '%s/__init__.py,,\n%s-%s.dist-info/METADATA,,\n%s-%s.dist-info/RECORD,,\n' "$1" "$1" "$2" "$1" "$2" \
    >"$site/$1-$2.dist-info/RECORD"
}
# newest_job: the uid of the job recorded last.
newest_job() { "$ROAR" log --json | jq -r '.[-1].job_id'; }

install_dist tinypkg 0.4.2
PYTHONPATH=$site "$ROAR" run -q "$PY" -c 'import tinypkg; open("a.txt", "w").write(tinypkg.VALUE)'
first=$(newest_job)
PYTHONPATH=$site "$ROAR" run -q "$PY" -c 'import tinypkg; open("b.txt", "w").write(tinypkg.VALUE)'
same=$(newest_job)
rm -r "$site/tinypkg-0.4.2.dist-info"
install_dist tinypkg 0.5.0
install_dist extrapkg 1.0
PYTHONPATH=$site "$ROAR" run -q "$PY" -c 'import tinypkg, extrapkg; open("c.txt", "w").write(tinypkg.VALUE)'
upgraded=$(newest_job)

check "the recorded environment names the imported package (the premise of the comparison)"
assert_eq "$("$ROAR" env --json "$first" | jq -c '[.python[].packages[] | select(.name == "tinypkg") | .version]')" \
  '["0.4.2"]' "first job's tinypkg"

check "jobs with equal environment records have no environment changes"
d=$("$ROAR" diff --json "$first" "$same")
assert_eq "$(jq -c .environment <<<"$d")" '{"changes":[],"compared":true,"recorded":{"a":true,"b":true}}' \
  "nothing differs"
assert_not_contains "$("$ROAR" diff "$first" "$same")" "environment" "no environment section in text"

check "roar diff --json names the package at another version and the package added"
d=$("$ROAR" diff --json "$first" "$upgraded")
exe=$(jq -r '.python[0].executable' <("$ROAR" env --json "$first"))
assert_eq "$(jq -c '[.environment.changes[] | select(.what == "package")]' <<<"$d")" \
  "[{\"after\":\"1.0\",\"before\":\"\",\"name\":\"extrapkg\",\"python\":\"$exe\",\"what\":\"package\"},{\"after\":\"0.5.0\",\"before\":\"0.4.2\",\"name\":\"tinypkg\",\"python\":\"$exe\",\"what\":\"package\"}]" \
  "package changes"
assert_eq "$(jq -r .environment.compared <<<"$d")" true "compared"

check "roar diff prints one line per environment change"
text=$("$ROAR" diff "$first" "$upgraded")
assert_contains "$text" "  environment" "section heading"
assert_contains "$text" "    ~ package tinypkg: 0.4.2 -> 0.5.0 (python $exe)" "changed package line"
assert_contains "$text" "    ~ package extrapkg added: 1.0 (python $exe)" "added package line"

check "the other direction reports the package removed"
assert_eq "$("$ROAR" diff --json "$upgraded" "$first" | jq -c '[.environment.changes[] | select(.name == "extrapkg") | [.before, .after]]')" \
  '[["1.0",""]]' "removed package"

check "a job without an environment record is not compared"
"$ROAR" config set run.capture_environment false >/dev/null
PYTHONPATH=$site "$ROAR" run -q "$PY" -c 'import tinypkg; open("d.txt", "w").write(tinypkg.VALUE)'
bare=$(newest_job)
d=$("$ROAR" diff --json "$first" "$bare")
assert_eq "$(jq -c .environment <<<"$d")" '{"changes":[],"compared":false,"recorded":{"a":true,"b":false}}' \
  "not compared"
assert_contains "$("$ROAR" diff "$first" "$bare")" \
  "  environment not compared: job $bare has no environment record" "text says which job"
echo ok
