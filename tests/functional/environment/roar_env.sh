# `roar env REF` of a job recorded by `roar run`: a venv's interpreter,
# with its version, and the distribution the job imported (a dist-info
# written by hand into the venv, no PyPI), in text and as the issue's JSON
# interface; `roar show` summarises it in one line; run.record_all_packages
# lists every installed distribution; run.capture_environment = false
# records none.
. "$(dirname "$0")/../lib/common.sh"
need jq
"$PYTHON" -c 'import venv' 2>/dev/null || skip "$PYTHON has no venv module"

new_project
"$PYTHON" -m venv --without-pip venv
VPY=$PWD/venv/bin/python
site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
version=$("$VPY" -c 'import platform; print(platform.python_version())')

# tinypkg 0.4.2 is imported by the job, idlepkg 1.0 only installed: each a
# module and a dist-info (METADATA, RECORD) as an installer leaves them.
install_dist() { # name version
  mkdir -p "$site/$1" "$site/$1-$2.dist-info"
  echo "VALUE = '$2'" >"$site/$1/__init__.py"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n' "$1" "$2" >"$site/$1-$2.dist-info/METADATA"
  printf '%s/__init__.py,,\n%s-%s.dist-info/METADATA,,\n%s-%s.dist-info/RECORD,,\n' "$1" "$1" "$2" "$1" "$2" \
    >"$site/$1-$2.dist-info/RECORD"
}
install_dist tinypkg 0.4.2
install_dist idlepkg 1.0
"$ROAR" run -q "$VPY" -c 'import tinypkg; open("out.txt", "w").write(tinypkg.VALUE)'

check "roar env prints the interpreter with its version and the package the job imported"
text=$("$ROAR" env @1)
assert_contains "$text" "$VPY  $version  venv $PWD/venv" "interpreter line"
assert_contains "$text" "    tinypkg 0.4.2" "imported package"
assert_not_contains "$text" "idlepkg" "a package never imported"
assert_contains "$text" "Machine" "machine section"

check "roar env --json has the issue's interface"
json=$("$ROAR" env --json @1)
assert_eq "$(jq -c '.machine | [has("os", "kernel", "cpu", "memory_bytes", "gpus")] | all' <<<"$json")" true \
  "machine keys"
assert_eq "$(jq -r '.machine.gpus | type' <<<"$json")" array "gpus is a list"
assert_eq "$(jq -r '.machine.memory_bytes | type' <<<"$json")" number "memory_bytes is a number"
assert_eq "$(jq -r '.python | type' <<<"$json")" array "python is a list"
assert_eq "$(jq -r '.python | length' <<<"$json")" 1 "one interpreter"
assert_eq "$(jq -r '.python[0].executable' <<<"$json")" "$VPY" "executable"
assert_eq "$(jq -r '.python[0].version' <<<"$json")" "$version" "version"
assert_eq "$(jq -c '[.python[0].packages[] | {name, version}]' <<<"$json")" \
  '[{"name":"tinypkg","version":"0.4.2"}]' "packages"
assert_eq "$(jq -r '.system_packages | type' <<<"$json")" array "system_packages"
assert_eq "$(jq -r '.job_id' <<<"$json")" "$(jq -r '.[0].job_id' <("$ROAR" log --json))" "job_id"

check "an artifact stands for the job that wrote it"
assert_eq "$("$ROAR" env --json out.txt | jq -r .job_id)" "$(jq -r .job_id <<<"$json")" "out.txt's job"

check "roar show has a one-line summary"
show=$("$ROAR" show @1)
assert_contains "$show" "  platform  " "platform line"
assert_contains "$show" "Python $version (1 package)" "summary names the interpreter"

check "system files filtered out of the inputs are Debian packages with versions (where dpkg is)"
if [[ -f /var/lib/dpkg/status ]] && dpkg -S "$(readlink -f "$VPY")" >/dev/null 2>&1; then
  owner=$(dpkg -S "$(readlink -f "$VPY")" | head -1 | cut -d: -f1)
  assert_eq "$(jq -r --arg p "$owner" '.system_packages[] | select(.name == $p) | .version' <<<"$json")" \
    "$(dpkg-query -W -f='${Version}' "$owner")" "the interpreter's package, with dpkg's version"
fi
assert_eq "$(jq -r '[.system_packages[] | (.name | length > 0) and (.version | length > 0)] | all' <<<"$json")" \
  true "every package has a name and a version"

check "run.record_all_packages lists every installed distribution"
"$ROAR" config set run.record_all_packages true >/dev/null
"$ROAR" run -q "$VPY" -c 'import tinypkg'
assert_eq "$("$ROAR" env --json @2 | jq -c '[.python[0].installed_packages[] | {name, version}]')" \
  '[{"name":"idlepkg","version":"1.0"},{"name":"tinypkg","version":"0.4.2"}]' "installed packages"
assert_eq "$("$ROAR" env --json @2 | jq -c '[.python[0].packages[].name]')" '["tinypkg"]' "imported packages"

check "run.capture_environment = false records no environment, and roar env says so"
"$ROAR" config set run.capture_environment false >/dev/null
"$ROAR" run -q "$VPY" -c 'import tinypkg; print(1)' >/dev/null
expect_failure "$ROAR" env @3
assert_contains "$ERR_OUT" "has no environment record" "message"
assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "one line"
echo ok
