# The gateway's metadata SQL is written once for SQLite and PostgreSQL:
# on a throwaway PostgreSQL 15, the schema applies, every data statement
# prepares (so its syntax and parameter types are accepted), keys sort in
# byte order, and the quota reservation's conditional UPDATE never
# over-allocates when many sessions race for the last bytes.
source "$(dirname "$0")/lib_backends.sh"
SQL_TOOL=${ROAR_GATEWAY_SQL_TOOL:-$ROAR_BUILD_DIR/bin/roar_gateway_sql_tool}
[[ -x "$SQL_TOOL" ]] || fail "roar_gateway_sql_tool not built at $SQL_TOOL"
start_postgres

check "the schema applies on PostgreSQL"
"$SQL_TOOL" schema postgresql >"$TEST_TMP/schema.sql"
pg -f "$TEST_TMP/schema.sql"
assert_eq "$(pg -tAc "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'gw\_%'")" 13 "tables"

check "every data statement prepares on PostgreSQL"
"$SQL_TOOL" statements >"$TEST_TMP/statements.sql"
n=0
while IFS= read -r stmt; do
  n=$((n + 1))
  echo "PREPARE s$n AS $stmt;"
done <"$TEST_TMP/statements.sql" >"$TEST_TMP/prepare.sql"
((n > 50)) || fail "only $n statements listed"
pg -f "$TEST_TMP/prepare.sql" 2>"$TEST_TMP/prepare.err" || fail "a statement does not prepare: $(cat "$TEST_TMP/prepare.err")"

check "object keys sort in byte order (COLLATE \"C\")"
pg -c "INSERT INTO gw_objects (id, tenant, bucket, object_key, size, etag, last_modified) VALUES
  ('1', 't', 'b', 'a/b', 1, 'e', 0), ('2', 't', 'b', 'B', 1, 'e', 0), ('3', 't', 'b', 'a-b', 1, 'e', 0),
  ('4', 't', 'b', 'é', 1, 'e', 0), ('5', 't', 'b', 'z', 1, 'e', 0)"
assert_eq "$(pg -tAc "SELECT string_agg(object_key, ' ' ORDER BY object_key) FROM gw_objects")" "B a-b a/b z é" \
  "key order"

check "racing sessions never reserve more than the quota"
reserve=$(sed -n 's/^\(UPDATE gw_backends SET reserved_bytes = reserved_bytes + \$2 WHERE name = \$1 AND (quota_bytes IS NULL.*\)$/\1/p' \
  "$TEST_TMP/statements.sql")
[[ -n "$reserve" ]] || fail "the reservation statement is not listed"
pg -c "INSERT INTO gw_backends (name, quota_bytes) VALUES ('a', 1000)"
pids=()
for i in $(seq 1 24); do
  # Without -q, psql prints each command's tag: "UPDATE 1" when the row qualified.
  psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U roar -d gw -tA -c "BEGIN" -c "PREPARE r AS $reserve" \
    -c "EXECUTE r('a', 100)" -c "SELECT pg_sleep(0.05)" -c "COMMIT" >"$TEST_TMP/race.$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
granted=$(cat "$TEST_TMP"/race.* | grep -c '^UPDATE 1$' || true)
assert_eq "$granted" 10 "reservations granted"
assert_eq "$(pg -tAc "SELECT reserved_bytes FROM gw_backends WHERE name = 'a'")" 1000 "bytes reserved"
echo "gateway SQL on PostgreSQL ok"
