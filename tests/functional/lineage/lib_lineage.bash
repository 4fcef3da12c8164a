# Helpers for the lineage tests; source after ../lib/common.sh.
# Gives: $PY (the real interpreter, no pyenv/venv shims, so jobs are quick),
# write_copy_script NAME (reads argv[1..n-1], writes argv[n]: the inputs
# upper-cased and joined), run (roar run -q), dag_json, dag_node JSON FIELD CMD_SUBSTR.
PY=${ROAR_TEST_PYTHON:-/usr/bin/python3}
[[ -x "$PY" ]] || skip "$PY is not installed"

# A script reading every argument but the last and writing the last.
write_copy_script() {
  cat >"$1" <<'PY'
import sys
data = "".join(open(p).read() for p in sys.argv[1:-1])
with open(sys.argv[-1], "w") as f:
    f.write(data.upper() + "\n")
PY
}

run() { "$ROAR" run -q "$PY" "$@"; }
dag_json() { "$ROAR" dag --json "$@"; }
# dag_node JSON FIELD CMD_SUBSTR: FIELD (a jq path) of the node whose command contains CMD_SUBSTR.
dag_node() { jq -c --arg c "$3" "[.nodes[] | select(.command | contains(\$c))][0] | $2" <<<"$1"; }
