# Helpers for the export tests; source after ../lib/common.sh.
# Gives: $PY, NODE_DIR (ajv lives there), validate FILE [BASE] (every event
# valid against the OpenLineage schema and its facets' schemas, roar's
# published under BASE when given), start_receiver
# [OPTIONS] (a lineage_receiver.mjs on a free loopback port: $RECEIVER_URL,
# $RECEIVED the file its events go to), and a small pipeline.
PY=${ROAR_TEST_PYTHON:-/usr/bin/python3}
[[ -x "$PY" ]] || skip "$PY is not installed"
need node b3sum
EXPORT_DIR=$ROAR_SOURCE_DIR/tests/functional/export
export NODE_DIR=$ROAR_SOURCE_DIR/tests/functional/node
[[ -d "$NODE_DIR/node_modules/ajv-formats" ]] || skip "ajv is not installed (tests/functional/node/install.sh)"

validate() {
  local out
  out=$(node "$EXPORT_DIR/validate_openlineage.mjs" "$@") || fail "events not valid OpenLineage: $out"
}

_receivers=0
start_receiver() {
  _receivers=$((_receivers + 1))
  local port_file=$TEST_TMP/receiver$_receivers.port
  RECEIVED=$TEST_TMP/received$_receivers.jsonl
  : >"$RECEIVED"
  node "$EXPORT_DIR/lineage_receiver.mjs" "$port_file" "$RECEIVED" "$@" &
  local pid=$!
  on_exit kill "$pid"
  local deadline=$((SECONDS + 20))
  until [[ -s "$port_file" ]]; do
    ((SECONDS < deadline)) || fail "the receiver did not start"
    sleep 0.1
  done
  RECEIVER_URL=http://127.0.0.1:$(cat "$port_file")
}

# prepare.py (data.csv -> clean.csv), train.py (clean.csv -> model.txt),
# a failing evaluate step; then `roar reset` and one job in session 2.
make_pipeline() {
  cat >copy.py <<'PY'
import sys
data = "".join(open(p).read() for p in sys.argv[1:-1])
open(sys.argv[-1], "w").write(data.upper())
PY
  printf 'id,v\n1,a\n' >data.csv
  "$ROAR" run -q "$PY" copy.py data.csv clean.csv
  "$ROAR" run -q "$PY" copy.py clean.csv model.txt
  "$ROAR" run -q "$PY" -c 'open("model.txt").read(); raise SystemExit(3)' || true
  "$ROAR" reset >/dev/null
  "$ROAR" run -q "$PY" copy.py model.txt report.txt
}
