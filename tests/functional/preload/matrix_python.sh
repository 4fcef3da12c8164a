# Real-program matrix, Python: open/read/write, pathlib, shutil.copyfile
# (sendfile only) / copy2 / move, tempfile + os.replace (the target is the
# output, not the temp name), sqlite3 (read-only use is an input only),
# pickle. Asserts on `roar show --json`.
. "$(dirname "$0")/preload_lib.bash"
need b3sum
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3) || skip "python3 is not installed"
new_project
printf 'a,b\n1,2\n' >data.csv

job $PY -c 'open("out.txt", "w").write(open("data.csv").read().upper())'
assert_eq "$JOB_RC" 0 "exit"
assert_io inputs data.csv
assert_io outputs out.txt

job $PY -c 'import pathlib; p = pathlib.Path("data.csv"); pathlib.Path("p.txt").write_text(p.read_text())'
assert_io inputs data.csv
assert_io outputs p.txt

job $PY -c 'import shutil; shutil.copyfile("data.csv", "copy.csv")'
assert_io inputs data.csv
assert_io outputs copy.csv

job $PY -c 'import shutil; shutil.copy2("data.csv", "copy2.csv")'
assert_io inputs data.csv
assert_io outputs copy2.csv

cp data.csv moveme.csv
job $PY -c 'import shutil; shutil.move("moveme.csv", "moved.csv")'
assert_io outputs moved.csv

echo old >model.bin
job $PY -c '
import os, tempfile
fd, tmp = tempfile.mkstemp(dir=".", prefix=".model-")
with os.fdopen(fd, "w") as f:
    f.write("new weights\n")
os.replace(tmp, "model.bin")'
assert_io outputs model.bin
[[ $(jq '[.outputs[] | select(.path | contains(".model-"))] | length' <<<"$JOB") == 0 ]] || fail "temp name recorded as an output"

$PY -c 'import sqlite3; c = sqlite3.connect("db.sqlite"); c.execute("create table t(x)"); c.execute("insert into t values (1)"); c.commit()'
db_digest=$(b3 db.sqlite)
job $PY -c 'import sqlite3; print(sqlite3.connect("db.sqlite").execute("select count(*) from t").fetchone()[0])'
assert_io inputs db.sqlite
assert_not_io outputs db.sqlite
assert_input_digest db.sqlite "$db_digest"
job $PY -c 'import sqlite3; c = sqlite3.connect("db.sqlite"); c.execute("insert into t values (2)"); c.commit()'
assert_io outputs db.sqlite
assert_input_digest db.sqlite "$db_digest"

job $PY -c 'import pickle; pickle.dump({"w": [1, 2, 3]}, open("obj.pkl", "wb")); print(pickle.load(open("obj.pkl", "rb")))'
assert_io outputs obj.pkl
echo ok
