# `roar proxy` status, enable/disable, and the standalone daemon: start
# prints "Proxy daemon started (pid=…, port=…)." on proxy.port, serves
# /_roar/health, shows up in the status, and stop ends it.
source "$(dirname "$0")/lib_s3.sh"
"$ROAR" proxy --help >/dev/null 2>&1 || skip "'roar proxy' is not wired into the CLI yet"
new_project
export AWS_ACCESS_KEY_ID=AKIAROARDAEMON AWS_SECRET_ACCESS_KEY=secret
status=$("$ROAR" proxy)
assert_contains "$status" "enabled:  no" "status before enable"
assert_contains "$status" "daemon:   not running" "status before start"
"$ROAR" proxy enable >/dev/null
assert_contains "$("$ROAR" proxy)" "enabled:  yes" "status after enable"
port=$(free_port)
"$ROAR" config set proxy.port "$port" >/dev/null
out=$("$ROAR" proxy start)
[[ "$out" =~ ^Proxy\ daemon\ started\ \(pid=([0-9]+),\ port=$port\)\.$ ]] || fail "unexpected: $out"
pid=${BASH_REMATCH[1]}
on_exit "kill $pid 2>/dev/null"
assert_eq "$(curl -fsS "http://127.0.0.1:$port/_roar/health")" ok "daemon health"
assert_contains "$("$ROAR" proxy)" "daemon:   running (pid=$pid, port=$port)" "status while running"
expect_failure "$ROAR" proxy start
assert_contains "$ERR_OUT" "already running" "second start"
assert_contains "$("$ROAR" proxy stop)" "Proxy daemon stopped (pid=$pid)" "stop"
kill -0 "$pid" 2>/dev/null && fail "daemon still running after stop"
assert_contains "$("$ROAR" proxy)" "daemon:   not running" "status after stop"
"$ROAR" proxy disable >/dev/null
assert_eq "$("$ROAR" config get proxy.enabled)" false "proxy.enabled after disable"
echo ok
