// Package e2e owns servin's end-to-end tests: they drive a built servin
// binary (named by $SERVIN_BINARY, with the monitor from $SERVIN_MONITOR)
// exactly as a user would, against throw-away storage roots, and check the
// podman-compatible behaviour of every command: output, exit codes and state.
//
// The same tests run against podman (SERVIN_BINARY=podman) to check that the
// expectations themselves are podman's.
//
// All the code lives in _test.go files; this file only gives the package a
// non-test file so that tools listing packages see it.
package e2e
