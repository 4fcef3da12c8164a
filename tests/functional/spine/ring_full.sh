# A full ring whose consumer is stalled never blocks the job for long:
# producers wait for space only while roar makes progress, and once roar
# has freed nothing for run.sync_timeout_ms they drop events and count
# them; the job record carries the count, and `roar show` warns about it.
. "$(dirname "$0")/../lib/common.sh"
need python3
new_project
"$ROAR" config set run.ring_size_mb 1 >/dev/null
"$ROAR" config set run.sync_timeout_ms 500 >/dev/null
echo data >f.txt
# roar is stopped while the job opens f.txt 300,000 times: the 1 MiB ring
# (16,384 slots) fills, its producers give up after 500 ms without
# progress, and the job must finish regardless. The opens are relative to
# a directory fd, which the shim's reopen cache never keeps back, so each
# one is a ring event.
"$ROAR" run -q "$PYTHON" -c '
import os
open("started", "w").close()
while open("f.txt").read() and not os.path.exists("resume"):
    pass
d = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
for _ in range(300000):
    os.close(os.open("f.txt", os.O_RDONLY, dir_fd=d))
open("done.txt", "w").write("finished\n")
' &
roar_pid=$!
for _ in $(seq 100); do [[ -e started ]] && break; sleep 0.1; done
kill -STOP "$roar_pid"
touch resume
for _ in $(seq 300); do [[ -e done.txt ]] && break; sleep 0.1; done
[[ -e done.txt ]] || { kill -CONT "$roar_pid"; fail "the job blocked while roar was stopped"; }
kill -CONT "$roar_pid"
wait "$roar_pid"
j=$(last_job)
dropped=$(jq -r .dropped_events <<<"$j")
[[ "$dropped" =~ ^[0-9]+$ && "$dropped" -gt 0 ]] || fail "expected dropped events, got '$dropped'"
assert_contains "$(jq -r '.notes | join(";")' <<<"$j")" "dropped because the event ring was full" "job note"
assert_contains "$(jq -r '.notes | join(";")' <<<"$j")" "for roar to drain a full event ring" "the wait is reported"
assert_contains "$("$ROAR" show "$(jq -r .job_id <<<"$j")")" "dropped" "show warns"
echo ok
