# Helpers for the reproduce tests; source after ../lib/common.sh.
# new_pipeline: a git repository ($PROJECT, a roar project) holding three
# Python steps (step1.py .. step3.py, committed) and an external input
# data/raw.csv (ignored by git, as are out/ and .roar/); run_pipeline runs
# them under roar run: raw.csv -> out/a.txt -> out/b.txt -> out/model.txt.
PY=${ROAR_TEST_PYTHON:-/usr/bin/python3}
[[ -x "$PY" ]] || skip "$PY is not installed"
need git b3sum

git_() { git -c user.name=roar-test -c user.email=roar-test@example.invalid -c init.defaultBranch=main "$@"; }

new_pipeline() {
  new_project
  git_ init -q .
  printf '.roar/\ndata/\nout/\n' >.gitignore
  cat >step1.py <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
open(sys.argv[2], "w").write("\n".join(r.upper() for r in rows) + "\n")
PY
  cat >step2.py <<'PY'
import sys
text = open(sys.argv[1]).read()
open(sys.argv[2], "w").write("".join(reversed(text.splitlines(True))))
PY
  cat >step3.py <<'PY'
import hashlib, sys
a, b = open(sys.argv[1]).read(), open(sys.argv[2]).read()
open(sys.argv[3], "w").write("model " + hashlib.sha256((a + b).encode()).hexdigest() + "\n")
PY
  git_ add .gitignore step1.py step2.py step3.py
  git_ commit -q -m pipeline
  mkdir -p data out
  printf 'id,value\n1,a\n2,b\n' >data/raw.csv
}

run_pipeline() {
  "$ROAR" run -q "$PY" step1.py data/raw.csv out/a.txt
  "$ROAR" run -q "$PY" step2.py out/a.txt out/b.txt
  "$ROAR" run -q "$PY" step3.py out/a.txt out/b.txt out/model.txt
}

# reproduce_json ARGS...: `roar reproduce --run --json ARGS` (building under
# $TEST_TMP), its stdout in $OUT, stderr in $ERR, exit status in $RC.
reproduce_json() {
  set +e
  # The rebuild's directory goes away with the test's (not TMPDIR itself:
  # a PostgreSQL server started later must not live in $TEST_TMP).
  OUT=$(TMPDIR=$TEST_TMP "$ROAR" reproduce --run --json "$@" 2>"$TEST_TMP/reproduce.err")
  RC=$?
  set -e
  ERR=$(cat "$TEST_TMP/reproduce.err")
}
