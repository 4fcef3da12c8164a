# Secrets never reach the record: values of secret-looking environment
# variables, and secrets on command lines (option values, URL passwords,
# signed query parameters, bearer tokens, program-specific -p options, in
# the job's own argv and in every child process's), are replaced by
# <redacted> before anything is stored or printed; roar.toml's
# redact.extra_patterns adds more. Every secret below contains "sekrit-".
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >in.txt
write_copy_script copy.py

# no_secret_anywhere WHAT: nothing of any secret in .roar (database, WAL,
# logs) nor in what the read commands print.
no_secret_anywhere() {
  if grep -r -a -l "sekrit-" .roar; then
    fail "$1: a secret value reached .roar"
  fi
  local out
  for out in "$("$ROAR" show --json @1)" "$("$ROAR" show @1)" "$("$ROAR" log)" "$("$ROAR" log --json)" \
    "$("$ROAR" dag --json)" "$("$ROAR" dag)"; do
    assert_not_contains "$out" "sekrit-" "$1: roar show/log/dag output"
  done
}

check "secret-named environment variables are recorded as <redacted>"
MY_API_KEY=sekrit-key-4711 AWS_SECRET_ACCESS_KEY=sekrit-secret-4711 GITHUB_TOKEN=sekrit-token-4711 \
  DB_PASSWORD=sekrit-password-4711 gcp_credentials_json=sekrit-credential-4711 MYSQL_PWD=sekrit-pwd-4711 \
  DATABASE_URL=postgres://app:sekrit-dburl-4711@db.invalid/x \
  "$ROAR" run -q "$PY" copy.py in.txt out.txt
j=$(show_json @1)
for name in MY_API_KEY AWS_SECRET_ACCESS_KEY GITHUB_TOKEN DB_PASSWORD gcp_credentials_json MYSQL_PWD; do
  assert_eq "$(jq -r --arg n "$name" '.env[$n]' <<<"$j")" "<redacted>" "$name"
done
assert_eq "$(jq -r '.env.DATABASE_URL' <<<"$j")" "postgres://app:<redacted>@db.invalid/x" "DATABASE_URL"
assert_eq "$(jq -r '.env.PATH' <<<"$j")" "$PATH" "a harmless variable is kept"
text=$("$ROAR" show @1)
assert_contains "$text" "MY_API_KEY=<redacted>" "show text"
no_secret_anywhere "environment"

check "secrets on the job's command line and its children's are redacted by shape"
ln -s /bin/true mysql
cat >job.sh <<'SH'
cp in.txt out2.txt
./mysql -uroot -psekrit-mysql-4711 db
/bin/true --token sekrit-tok-4711 "Authorization: Bearer sekrit-bearer-4711" db.password=sekrit-hydra-4711
SH
"$ROAR" run -q sh job.sh --password=sekrit-pw-4711 "https://user:sekrit-url-4711@example.invalid/repo.git" \
  "https://example.invalid/f?access_token=sekrit-qs-4711&page=2"
j=$(last_job)
assert_eq "$(jq -c '.argv' <<<"$j")" \
  '["sh","job.sh","--password=<redacted>","https://user:<redacted>@example.invalid/repo.git","https://example.invalid/f?access_token=<redacted>&page=2"]' \
  "the job's argv keeps its shape"
procs=$(jq -c '[.processes[].argv]' <<<"$j")
assert_contains "$procs" '["./mysql","-uroot","-p<redacted>","db"]' "mysql -p in a child process"
assert_contains "$procs" '["/bin/true","--token","<redacted>","Authorization: Bearer <redacted>","db.password=<redacted>"]' \
  "options, headers and assignments in a child process"
assert_eq "$(cat out2.txt)" "a" "the job itself saw its arguments"
no_secret_anywhere "command lines"

check "a shell command in one argument is redacted word by word"
"$ROAR" run -q sh -c 'cp in.txt out3.txt; : curl -u alice:sekrit-curl-4711 --api-key=sekrit-api-4711' \
  sh
j=$(last_job)
assert_contains "$(jq -r '.argv[2]' <<<"$j")" "--api-key=<redacted>" "sh -c text"
no_secret_anywhere "shell text"

check "re-running a step whose command had secrets redacted is refused unless they are given again"
step=$(jq -r '.step' <<<"$(show_json "$(jq -r '.[1].job_id' <<<"$("$ROAR" log --json)")")")
expect_failure "$ROAR" run "@$step"
assert_contains "$ERR_OUT" "secrets redacted" "the refusal says why"

check "redact.extra_patterns adds project-specific secrets"
"$ROAR" config set redact.extra_patterns '["corp_[a-z0-9]{8}", "--vault-role[= ]([^ ]+)"]' >/dev/null
"$ROAR" run -q /bin/true id:corp_sekrit01 --vault-role sekrit-role-4711
j=$(last_job)
assert_eq "$(jq -c '.argv' <<<"$j")" '["/bin/true","id:<redacted>","--vault-role","<redacted>"]' "extra patterns"
no_secret_anywhere "extra patterns"

check "an invalid extra pattern is rejected with the pattern named"
expect_failure "$ROAR" config set redact.extra_patterns '["([unclosed"]'
assert_contains "$ERR_OUT" "([unclosed" "config set names the bad pattern"
echo ok
