# Real-program matrix, what the shim cannot see is reported, never silent:
# glibc-static and musl-static binaries, a Go binary, and a setuid binary
# (owned by another user) are recorded as processes with a note.
. "$(dirname "$0")/preload_lib.bash"
new_project
# With the ptrace tracer off, what the shim cannot enter is noted, never
# silent (tests/functional/tracer/ covers tracing it, the default).
"$ROAR" config set run.tracer off >/dev/null
cat >writer.c <<'C'
#include <stdio.h>
int main(int argc, char **argv) { FILE *f = fopen(argv[1], "w"); fputs("x\n", f); return fclose(f); }
C
# unobserved BIN NOTE-SUBSTRING: run BIN from a shell; its process has
# observed == false and a note containing the substring.
unobserved() {
  job sh -c "$1 out-$(basename "$1").txt; echo seen > seen.txt"
  assert_io outputs seen.txt
  local notes
  notes=$(jq -r '[.processes[] | select(.observed == false) | .notes[]] | join(";")' <<<"$JOB")
  assert_contains "$notes" "$2" "note for $1"
}
if gcc -static -O1 -o static-glibc writer.c 2>/dev/null; then
  unobserved ./static-glibc "static"
fi
if command -v musl-gcc >/dev/null && musl-gcc -static -O1 -o static-musl writer.c 2>/dev/null; then
  unobserved ./static-musl "static"
fi
if command -v go >/dev/null; then
  # Pure Go: statically linked, so the shim never starts.
  mkdir gow gocgo
  printf 'package main\nimport "os"\nfunc main() { os.WriteFile(os.Args[1], []byte("go\\n"), 0644) }\n' >gow/main.go
  if (cd gow && GO111MODULE=off CGO_ENABLED=0 timeout 120 go build -o ../gowriter main.go) 2>/dev/null; then
    unobserved ./gowriter "not observed"
  fi
  # With cgo: dynamically linked, the shim loads, but Go's own file I/O
  # uses raw syscalls: the process must still carry a note naming Go.
  printf 'package main\n// int unused;\nimport "C"\nimport "os"\nfunc main() { os.WriteFile(os.Args[1], []byte("go\\n"), 0644) }\n' >gocgo/main.go
  if (cd gocgo && GO111MODULE=off CGO_ENABLED=1 timeout 200 go build -o ../gocgo-writer main.go) 2>/dev/null; then
    job sh -c "./gocgo-writer out-cgo.txt"
    notes=$(jq -r '[.processes[] | .notes[]] | join(";")' <<<"$JOB")
    assert_contains "$notes" "Go" "note for a cgo Go binary"
  fi
fi
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  gcc -O1 -o setuid-writer writer.c
  chown nobody setuid-writer
  chmod 4755 setuid-writer
  chmod 777 .
  unobserved ./setuid-writer "setuid"
fi
echo ok
