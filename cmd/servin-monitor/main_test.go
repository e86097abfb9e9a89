package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMonitorDeps keeps the monitor binary small: it may link only the
// standard library and golang.org/x/sys (one monitor runs per container).
func TestMonitorDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not found")
	}
	out, err := exec.Command("go", "list", "-deps",
		"-tags", "seccomp containers_image_openpgp exclude_graphdriver_btrfs",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/servin/servin/cmd/servin-monitor": true,
		"github.com/servin/servin/libservin/monitor":  true,
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		if allowed[pkg] || pkg == "golang.org/x/sys" || strings.HasPrefix(pkg, "golang.org/x/sys/") {
			continue
		}
		bad = append(bad, pkg)
	}
	if len(bad) > 0 {
		t.Errorf("servin-monitor links packages beyond the standard library and golang.org/x/sys:\n  %s", strings.Join(bad, "\n  "))
	}
	// fmt and encoding/json are standard but cost the monitor about half a
	// megabyte of RSS; the package has its own small JSON codec instead.
	std, err := exec.Command("go", "list", "-deps",
		"-tags", "seccomp containers_image_openpgp exclude_graphdriver_btrfs", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, std)
	}
	for _, pkg := range strings.Fields(string(std)) {
		switch pkg {
		case "fmt", "encoding/json", "net", "os/exec":
			t.Errorf("servin-monitor links %s (heavy; see libservin/monitor/json.go)", pkg)
		}
	}
}
