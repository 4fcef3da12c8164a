// The file operations the tracer must see from a Go program (raw
// syscalls, no libc): `go_io DIR` reads in.txt, writes out.txt, writes
// tmp.txt and renames it to renamed.txt, truncates trunc.txt, deletes
// gone.txt, rewrites rmw.txt after reading it, and runs itself as
// `go_io DIR child`, which writes child.txt.
package main

import (
	"os"
	"os/exec"
)

func must(err error) {
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}

func main() {
	must(os.Chdir(os.Args[1]))
	if len(os.Args) > 2 && os.Args[2] == "child" {
		must(os.WriteFile("child.txt", []byte("from the Go child\n"), 0644))
		return
	}
	in, err := os.ReadFile("in.txt")
	must(err)
	must(os.WriteFile("out.txt", in, 0644))
	must(os.WriteFile("tmp.txt", []byte("renamed content\n"), 0644))
	must(os.Rename("tmp.txt", "renamed.txt"))
	must(os.Truncate("trunc.txt", 4))
	must(os.Remove("gone.txt"))
	_, err = os.ReadFile("rmw.txt")
	must(err)
	must(os.WriteFile("rmw.txt", []byte("rewritten\n"), 0644))
	self, err := os.Executable()
	must(err)
	cmd := exec.Command(self, ".", "child")
	cmd.Stderr = os.Stderr
	must(cmd.Run())
}
