// Command mkrootfs writes the busybox test image's root filesystem tar (see
// package testimage) to the path given as its only argument, for `make demo`
// and the benchmarks to import with `servin import`.
package main

import (
	"fmt"
	"os"

	"github.com/servin/servin/test/testimage"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkrootfs OUT.tar")
		os.Exit(2)
	}
	if err := testimage.WriteRootfsTar(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkrootfs:", err)
		os.Exit(1)
	}
}
