package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The runtime helper runs twice per container start (as `oci create` and,
// re-executed by libcontainer, as the container's init): it must not link
// servin's image, storage or database layers, whose start-up cost is what
// it exists to avoid.
func TestRuntimeDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "seccomp containers_image_openpgp exclude_graphdriver_btrfs", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.podman.io/", "github.com/mattn/go-sqlite3", "github.com/urfave/cli",
			"github.com/servin/servin/libservin/state", "github.com/servin/servin/libservin/image"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("servin-runtime links %s", dep)
			}
		}
	}
}

func TestArgs(t *testing.T) {
	for _, args := range [][]string{
		{"oci"},
		{"--bogus", "x", "oci", "start", "id"},
		{"--runroot"},
		{"oci", "frobnicate", "id"},
		{"oci", "start"},
	} {
		if err := run(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}
