# roar loads libpq and libcurl (and the ~30 libraries they bring) only when a
# command needs them: a PostgreSQL store, an HTTP request. Every other
# command, `roar run` included, starts without them.
. "$(dirname "$0")/../lib/common.sh"
new_project

loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -Eo 'file=lib(pq|curl)[^ ]*' | sort -u | tr '\n' ' ' || true; }

check "roar does not link libpq or libcurl"
assert_eq "$(readelf -d "$ROAR" | grep -Eo 'lib(pq|curl)[^]]*' || true)" "" "NEEDED entries"

check "roar run, show and log on a SQLite project load neither"
assert_eq "$(loaded "$ROAR" run -q true)" "" "libraries loaded by roar run"
assert_eq "$(loaded "$ROAR" log)" "" "libraries loaded by roar log"

check "roar export --url loads libcurl when it makes its request"
assert_contains "$(loaded "$ROAR" export --format openlineage --url http://127.0.0.1:9/lineage)" "file=libcurl.so.4" \
  "libraries loaded by export --url"
