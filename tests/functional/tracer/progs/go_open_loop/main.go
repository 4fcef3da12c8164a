// open+close of one file N times (`go_open_loop FILE N`): the benchmark's
// Go workload (raw syscalls, several threads).
package main

import (
	"os"
	"strconv"
)

func main() {
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		os.Exit(2)
	}
	for i := 0; i < n; i++ {
		f, err := os.Open(os.Args[1])
		if err != nil {
			os.Exit(1)
		}
		f.Close()
	}
}
