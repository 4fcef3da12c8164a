# The exec probe flags targets the shim cannot enter, on the EXEC event,
# and indeed no PROC_START follows from them: glibc and musl static
# binaries (STATIC), Go (GO), setuid to another user (SETID), file
# capabilities (FILECAPS); scripts are NOT_ELF and inherit their
# interpreter's flags.
. "$(dirname "$0")/preload_lib.bash"
cat >hello.c <<'C'
#include <stdio.h>
int main(void) { FILE *f = fopen("hello.out", "w"); fputs("hi\n", f); return fclose(f); }
C
# probe_case NAME BINARY FLAGS-EXPECTED STARTS(yes|no)
probe_case() {
  local name=$1 bin=$2 want=$3 starts=$4
  trace sh -c "exec $bin"
  local pid flags
  pid=$(qr '[.[] | select(.op == "exec" and .argv[0] == "'"$bin"'")][0].pid // 0')
  [[ $pid -gt 0 ]] || fail "$name: no EXEC seen"
  flags=$(qr '[.[] | select(.op == "exec" and .argv[0] == "'"$bin"'")][0].flags')
  assert_eq "$flags" "$want" "$name: EXEC flags"
  local idx after
  idx=$(qr '[.[] | select(.op == "exec" and .argv[0] == "'"$bin"'")][0].index')
  after=$(count ".op == \"proc_start\" and .pid == $pid and .index > $idx")
  if [[ $starts == yes ]]; then
    assert_eq "$after" 1 "$name: the shim started in it"
  else
    assert_eq "$after" 0 "$name: the shim cannot start in it"
  fi
}

gcc -O1 -o dyn hello.c
probe_case dynamic ./dyn 0 yes
if gcc -static -O1 -o static-glibc hello.c 2>/dev/null; then
  probe_case "glibc static" ./static-glibc 1 no
  printf '#!%s\n' "$WORK/static-glibc" >static-script
  chmod +x static-script
  probe_case "script with a static interpreter" ./static-script $((0x10 | 0x1)) no
fi
if command -v musl-gcc >/dev/null && musl-gcc -static -O1 -o static-musl hello.c 2>/dev/null; then
  probe_case "musl static" ./static-musl 1 no
fi
printf '#!/bin/sh\necho script\n' >script.sh
chmod +x script.sh
probe_case script ./script.sh 16 yes
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  cp dyn setuid-other
  chown nobody setuid-other
  chmod 4755 setuid-other
  chmod 777 .
  probe_case "setuid to another user" ./setuid-other 2 no
fi
if command -v setcap >/dev/null && cp dyn caps && setcap cap_net_bind_service+ep caps 2>/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    probe_case "file capabilities" ./caps 4 no
  else
    # root already holds the capability: the loader stays in normal mode.
    trace sh -c 'exec ./caps'
    assert_eq "$(qr '[.[] | select(.op == "exec" and .argv[0] == "./caps")][0].flags')" 4 "file caps flagged"
  fi
fi
if command -v go >/dev/null; then
  mkdir -p gohello
  printf 'package main\nimport "os"\nfunc main() { os.WriteFile("go.out", []byte("go\\n"), 0644) }\n' >gohello/main.go
  if (cd gohello && GO111MODULE=off GOCACHE=$TEST_TMP/gocache CGO_ENABLED=0 timeout 120 go build -o ../gobin main.go) 2>/dev/null; then
    probe_case "Go (static)" ./gobin $((0x8 | 0x1)) no
  fi
fi
echo ok
