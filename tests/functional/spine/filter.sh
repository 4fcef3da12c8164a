# System and interpreter files are not inputs by default; roar.toml's
# filter keys change that.
. "$(dirname "$0")/../lib/common.sh"
need python3
new_project
echo data >data.csv
cat >job.py <<'PY'
import json, csv, sqlite3, pathlib, subprocess   # drags in stdlib and .pyc files
print(open("/etc/hostname").read().strip() != "", open("data.csv").read().strip())
subprocess.run(["ls", "/proc/self/"], stdout=subprocess.DEVNULL)
PY
"$ROAR" run -q "$PYTHON" job.py >/dev/null
j=$(show_json @1)
assert_eq "$(io_paths "$j" inputs | tr '\n' ' ')" "$PROJECT/data.csv $PROJECT/job.py " "only project files"
bad=$(jq -r '.inputs[].path | select(test("^/(usr|lib|etc|proc|sys|dev)/|site-packages|\\.pyc$|/\\.roar/"))' <<<"$j")
assert_eq "$bad" "" "no system files"

"$ROAR" config set filter.exclude '["*.csv"]' >/dev/null
"$ROAR" config set filter.include '["/etc/hostname"]' >/dev/null
"$ROAR" run -q "$PYTHON" job.py >/dev/null
j=$(last_job)
assert_eq "$(io_paths "$j" inputs | tr '\n' ' ')" "/etc/hostname $PROJECT/job.py " "configured filter"
echo ok
