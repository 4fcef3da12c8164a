# Debian's own python3: its version is read from the binary, a distribution
# from dist-packages (jmespath, which python3-boto3 pulls in) is recorded
# as imported, and the system files it used are summarised as the Debian
# packages that own them, with the versions dpkg reports.
. "$(dirname "$0")/lib_environment.bash"

PY=/usr/bin/python3
[[ -x $PY && -f /var/lib/dpkg/status ]] || skip "not a Debian system with /usr/bin/python3"
need dpkg dpkg-query
$PY -c 'import jmespath' 2>/dev/null || skip "python3-jmespath is not installed (packaging/install-deps.sh --test)"

capture job -- $PY -c 'import json, jmespath'
record=$(cat "$TEST_TMP/job.json")
real=$($PY -c 'import os, sys; print(os.path.realpath(sys.executable))')

check "the interpreter and its version, read from the binary without running it"
assert_eq "$(jq '.python | length' <<<"$record")" 1 "interpreters"
assert_eq "$(jq -r '.python[0].real_executable' <<<"$record")" "$real" "real executable"
assert_eq "$(jq -r '.python[0].version' <<<"$record")" "$($PY -c 'import platform; print(platform.python_version())')" \
  "version"
assert_eq "$(jq -r '.python[0].version_source' <<<"$record")" binary "version source"
assert_eq "$(jq -r '.python[0].kind' <<<"$record")" system "kind"

check "jmespath is recorded as imported, with the version its metadata gives"
want=$($PY -c 'import importlib.metadata as m; print(m.version("jmespath"))')
assert_eq "$(jq -r '.python[0].packages[] | select(.name == "jmespath") | .version' <<<"$record")" "$want" \
  "jmespath version"

# The Debian package owning a file, and its version, as dpkg says.
deb_of() { dpkg -S "$1" 2>/dev/null | head -1 | cut -d: -f1; }
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | head -1; }
recorded_version() { jq -r --arg n "$1" '[.system_packages[] | select(.name == $n)][0].version // empty' <<<"$record"; }

check "the standard library's package is recorded with dpkg's version"
stdlib_pkg=$(deb_of "$($PY -c 'import os; print(os.__file__)')")
[[ -n $stdlib_pkg ]] || fail "dpkg -S knows no package owning os.py"
assert_eq "$(recorded_version "$stdlib_pkg")" "$(deb_version "$stdlib_pkg")" "$stdlib_pkg"

check "the interpreter binary's package is recorded"
exe_pkg=$(deb_of "$real")
assert_eq "$(recorded_version "$exe_pkg")" "$(deb_version "$exe_pkg")" "$exe_pkg"

check "the libraries the loader maps (never seen opened) count: libc6"
assert_eq "$(recorded_version libc6)" "$(deb_version libc6)" "libc6"
"$ROAR_ENVIRONMENT" --cache-dir "$ENV_CACHE" --no-libraries --events "$TEST_TMP/job.jsonl" >"$TEST_TMP/no-libs.json"
libc_files() { jq '[.system_packages[] | select(.name == "libc6") | .files] | add // 0' "$1"; }
(($(libc_files "$TEST_TMP/job.json") > $(libc_files "$TEST_TMP/no-libs.json"))) ||
  fail "libc6 files: $(libc_files "$TEST_TMP/job.json") with libraries, not more than without"

check "jmespath's dist-packages files are explained by distributions or packages, not left over"
assert_eq "$(jq '.python[0].unattributed_files' <<<"$record")" 0 "unattributed module files"
assert_eq "$(jq '[.system_files.other_examples[] | select(contains("dist-packages"))] | length' <<<"$record")" 0 \
  "dist-packages files left unexplained"
echo ok
