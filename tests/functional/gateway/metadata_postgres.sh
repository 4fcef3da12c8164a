# The gateway's metadata unit tests (every [gateway] Catch2 test that opens
# a metadata store: quota reservations, objects, copies, multipart, jobs,
# tenants, the worker and maintenance over in-memory backends) run again
# with their store on a throwaway PostgreSQL 15, one schema per test, so
# both engines of the store layer answer the same tests.
source "$(dirname "$0")/lib_backends.sh"
UNIT=${ROAR_GATEWAY_TESTS:-$ROAR_BUILD_DIR/bin/roar_gateway_tests}
[[ -x "$UNIT" ]] || fail "roar_gateway_tests not built at $UNIT"
start_postgres

check "the gateway's unit tests pass with their metadata on PostgreSQL"
ROAR_GATEWAY_TEST_POSTGRES_URL=$PG_URL "$UNIT" --reporter compact >"$TEST_TMP/unit.log" 2>&1 ||
  fail "unit tests failed on PostgreSQL: $(grep -E 'FAILED|failed|error' "$TEST_TMP/unit.log" | head -20)"
summary=$(grep -E "^(Passed all|All tests passed)" "$TEST_TMP/unit.log" | tail -n 1 || true)
echo "$summary"
[[ $summary =~ ^Passed\ all\ ([0-9]+)\ test\ cases ]] || fail "unexpected summary: $summary"
((BASH_REMATCH[1] >= 100)) || fail "only ${BASH_REMATCH[1]} test cases ran"

check "the tests' stores really were on PostgreSQL (a schema per test, the gateway's tables in each)"
schemas=$(pg -tAc "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'gwtest\_%'")
((schemas > 40)) || fail "only $schemas test schemas on the server"
assert_eq "$(pg -tAc "SELECT count(DISTINCT table_schema) FROM information_schema.tables
  WHERE table_schema LIKE 'gwtest\_%' AND table_name = 'gw_objects'")" "$schemas" "schemas with gw_objects"
rows=$(pg -tAc "SELECT count(*) FROM information_schema.tables WHERE table_schema LIKE 'gwtest\_%' AND table_name = 'gw_settings'")
assert_eq "$rows" "$schemas" "schemas with gw_settings"
echo "gateway metadata on PostgreSQL ok"
