# roar loads libpq and libcurl (and the ~30 libraries they bring) only when a
# command needs them: a PostgreSQL store, an HTTP request; libcrypto only
# when it hashes with SHA-256, signs a request or makes the TLS CA. Every
# other command, `roar run` included, starts without them.
. "$(dirname "$0")/../lib/common.sh"
new_project

loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -Eo 'file=lib(pq|curl|crypto)[^ ]*' | sort -u | tr '\n' ' ' || true; }

check "roar does not link libpq, libcurl or libcrypto"
assert_eq "$(readelf -d "$ROAR" | grep -Eo 'lib(pq|curl|crypto)[^]]*' || true)" "" "NEEDED entries"

check "roar run, show and log on a SQLite project load none of them"
assert_eq "$(loaded "$ROAR" run -q true)" "" "libraries loaded by roar run"
assert_eq "$(loaded "$ROAR" log)" "" "libraries loaded by roar log"
assert_eq "$(loaded "$ROAR" show @1)" "" "libraries loaded by roar show"

check "roar run --hash sha256 loads libcrypto and records the right digest"
printf 'abc' > abc.txt
assert_contains "$(loaded "$ROAR" run -q --hash sha256 cat abc.txt)" "file=libcrypto.so.3" \
  "libraries loaded by run --hash sha256"
assert_contains "$("$ROAR" show --json abc.txt)" \
  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" "SHA-256 of abc.txt"

check "roar export --url loads libcurl when it makes its request"
assert_contains "$(loaded "$ROAR" export --format openlineage --url http://127.0.0.1:9/lineage)" "file=libcurl.so.4" \
  "libraries loaded by export --url"
