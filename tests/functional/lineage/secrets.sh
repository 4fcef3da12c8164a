# The job's environment is recorded with the values of secret-looking
# names (KEY, SECRET, TOKEN, PASSWORD, CREDENTIAL, any case) redacted, and
# the secret values never reach the database files.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >in.txt
write_copy_script copy.py
MY_API_KEY=sekrit-key-4711 AWS_SECRET_ACCESS_KEY=sekrit-secret-4711 GITHUB_TOKEN=sekrit-token-4711 \
  DB_PASSWORD=sekrit-password-4711 gcp_credentials_json=sekrit-credential-4711 \
  "$ROAR" run -q "$PY" copy.py in.txt out.txt
j=$(show_json @1)
for name in MY_API_KEY AWS_SECRET_ACCESS_KEY GITHUB_TOKEN DB_PASSWORD gcp_credentials_json; do
  assert_eq "$(jq -r --arg n "$name" '.env[$n]' <<<"$j")" "<redacted>" "$name"
done
assert_eq "$(jq -r '.env.PATH' <<<"$j")" "$PATH" "a harmless variable is kept"
text=$("$ROAR" show @1)
assert_contains "$text" "MY_API_KEY=<redacted>" "show text"
assert_not_contains "$text" "sekrit" "show text leaks nothing"
# Nothing of the secrets anywhere in .roar (database, WAL, logs).
if grep -r -a -l "sekrit-" .roar; then
  fail "a secret value reached .roar"
fi
echo ok
