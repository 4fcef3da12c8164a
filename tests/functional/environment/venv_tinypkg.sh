# A distribution installed from a locally built wheel into a temporary venv
# is recorded, with its version, from the module file a real
# `python -c 'import tinypkg'` opened; one installed but not imported is
# not, unless every installed distribution is asked for; the interpreter is
# the venv's, with the version Python itself reports.
. "$(dirname "$0")/lib_environment.bash"

"$PYTHON" -c 'import venv, zipfile' 2>/dev/null || skip "$PYTHON has no venv module"
work=$TEST_TMP/work
mkdir -p "$work"
cd "$work"
"$PYTHON" -m venv --without-pip venv
VPY=$work/venv/bin/python
site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# Two wheels built by hand (no PyPI, no build backend): tinypkg is imported,
# otherpkg only installed.
make_wheel() { # name version
  "$PYTHON" - "$1" "$2" <<'PY'
import base64, hashlib, sys, zipfile
name, ver = sys.argv[1], sys.argv[2]
info = f"{name}-{ver}.dist-info"
files = {
    f"{name}/__init__.py": f"VALUE = {ver!r}\n".encode(),
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n".encode(),
    f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: roar-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = ""
for path, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record += f"{path},sha256={digest},{len(data)}\n"
record += f"{info}/RECORD,,\n"
with zipfile.ZipFile(f"{name}-{ver}-py3-none-any.whl", "w") as z:
    for path, data in files.items():
        z.writestr(path, data)
    z.writestr(f"{info}/RECORD", record)
PY
}
make_wheel tinypkg 0.1.3
make_wheel otherpkg 2.0.1

# pip (22.3 or later can install into another interpreter) when there is
# one; else the wheel is unpacked the way pip would, RECORD included.
if "$PYTHON" -m pip --python "$VPY" --version >/dev/null 2>&1; then
  "$PYTHON" -m pip --python "$VPY" install --no-index --disable-pip-version-check -q \
    tinypkg-0.1.3-py3-none-any.whl otherpkg-2.0.1-py3-none-any.whl
  installer=pip
else
  for w in tinypkg-0.1.3-py3-none-any.whl otherpkg-2.0.1-py3-none-any.whl; do
    "$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$w" "$site"
  done
  installer=
fi
[[ -f $site/tinypkg-0.1.3.dist-info/RECORD ]] || fail "the wheel was not installed into $site"

capture job -- "$VPY" -c 'import tinypkg; print(tinypkg.VALUE)'
record=$(cat "$TEST_TMP/job.json")

check "the job opened tinypkg's module file (the shim saw it)"
opened=$(jq -r --arg s "$site/tinypkg/" 'select(.op == "open" and .result >= 0) | .s1 // empty | select(startswith($s))' \
  "$TEST_TMP/job.jsonl" | head -1)
assert_contains "$opened" "$site/tinypkg/" "tinypkg module file opened"

check "one interpreter: the venv's, with the version Python reports"
assert_eq "$(jq '.python | length' <<<"$record")" 1 "interpreters"
assert_eq "$(jq -r '.python[0].executable' <<<"$record")" "$VPY" "executable"
assert_eq "$(jq -r '.python[0].kind' <<<"$record")" venv "kind"
assert_eq "$(jq -r '.python[0].prefix' <<<"$record")" "$work/venv" "prefix"
assert_eq "$(jq -r '.python[0].version' <<<"$record")" "$("$VPY" -c 'import platform; print(platform.python_version())')" \
  "version"
assert_eq "$(jq -r '.python[0].real_executable' <<<"$record")" \
  "$("$VPY" -c 'import os, sys; print(os.path.realpath(sys.executable))')" "real executable"

check "tinypkg 0.1.3 is recorded as imported, otherpkg (installed, never imported) is not"
pkgs=$(jq -c '[.python[0].packages[] | {name, version}]' <<<"$record")
assert_eq "$pkgs" '[{"name":"tinypkg","version":"0.1.3"}]' "imported packages"
if [[ -n $installer ]]; then
  assert_eq "$(jq -r '.python[0].packages[0].installer' <<<"$record")" "$installer" "installer"
fi

check "the interface's fields are all there"
for key in os kernel cpu memory_bytes gpus; do
  assert_eq "$(jq --arg k "$key" '.machine | has($k)' <<<"$record")" true "machine.$key"
done
assert_eq "$(jq -r '.machine.gpus | type' <<<"$record")" array "machine.gpus"
assert_eq "$(jq -r '.system_packages | type' <<<"$record")" array "system_packages"

check "a second capture, from the warm cache, gives the same record"
"$ROAR_ENVIRONMENT" --cache-dir "$ENV_CACHE" --events "$TEST_TMP/job.jsonl" >"$TEST_TMP/again.json"
assert_eq "$(jq -S . "$TEST_TMP/again.json")" "$(jq -S . "$TEST_TMP/job.json")" "warm record"

check "--all-packages lists every distribution of the venv, imported ones still apart"
"$ROAR_ENVIRONMENT" --cache-dir "$ENV_CACHE" --all-packages --events "$TEST_TMP/job.jsonl" >"$TEST_TMP/all.json"
all=$(jq -c '[.python[0].installed_packages[] | {name, version}]' "$TEST_TMP/all.json")
assert_eq "$all" '[{"name":"otherpkg","version":"2.0.1"},{"name":"tinypkg","version":"0.1.3"}]' "installed packages"
assert_eq "$(jq -c '[.python[0].packages[].name]' "$TEST_TMP/all.json")" '["tinypkg"]' "imported packages"

check "a module imported through '..' after a symbolic link is the file the kernel opened: tinypkg is recorded"
ln -s "$site/tinypkg" alias
capture dotdot -- "$VPY" -c "import sys; sys.path.insert(0, 'alias/..'); import tinypkg"
opened=$(jq -r 'select(.op == "open" and .result >= 0) | .s1 // empty' "$TEST_TMP/dotdot.jsonl")
assert_contains "$opened" "$work/alias/../tinypkg/" "the module (or its cached bytecode) opened through the link"
assert_eq "$(jq -c '[.python[0].packages[] | {name, version}]' "$TEST_TMP/dotdot.json")" \
  '[{"name":"tinypkg","version":"0.1.3"}]' "imported packages"

check "upgrading a distribution in place is seen by the next capture"
sleep 0.05
make_wheel tinypkg 0.2.0
if [[ -n $installer ]]; then
  "$PYTHON" -m pip --python "$VPY" install --no-index --disable-pip-version-check -q tinypkg-0.2.0-py3-none-any.whl
else
  rm -rf "$site/tinypkg" "$site/tinypkg-0.1.3.dist-info"
  "$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    tinypkg-0.2.0-py3-none-any.whl "$site"
fi
capture upgraded -- "$VPY" -c 'import tinypkg'
assert_eq "$(jq -c '[.python[0].packages[] | {name, version}]' "$TEST_TMP/upgraded.json")" \
  '[{"name":"tinypkg","version":"0.2.0"}]' "packages after the upgrade"
echo ok
