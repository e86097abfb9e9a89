package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testVersionDoc() struct {
	Client versionInfo `json:"Client"`
} {
	return struct {
		Client versionInfo `json:"Client"`
	}{versionInfo{
		APIVersion: "1.2.3", Version: "1.2.3", GoVersion: "go1.26.8",
		BuiltTime: "Thu Jan  1 00:00:00 1970", OsArch: "linux/amd64", Os: "linux",
	}}
}

func TestPrintVersion(t *testing.T) {
	var b bytes.Buffer
	if err := printVersion(&b, "", testVersionDoc()); err != nil {
		t.Fatal(err)
	}
	want := "Client:       Servin Engine\n" +
		"Version:      1.2.3\n" +
		"API Version:  1.2.3\n" +
		"Go Version:   go1.26.8\n" +
		"Built:        Thu Jan  1 00:00:00 1970\n" +
		"OS/Arch:      linux/amd64\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	doc := testVersionDoc()
	doc.Client.GitCommit = "abc123"
	b.Reset()
	_ = printVersion(&b, "", doc)
	if !strings.Contains(b.String(), "Go Version:   go1.26.8\nGit Commit:   abc123\nBuilt:") {
		t.Errorf("git commit line missing:\n%s", b.String())
	}

	b.Reset()
	_ = printVersion(&b, "json", testVersionDoc())
	if got := b.String(); !strings.HasPrefix(got, `{"Client":{"APIVersion":"1.2.3","Version":"1.2.3","GoVersion":"go1.26.8","GitCommit":"","BuiltTime":`) {
		t.Errorf("json: %s", got)
	}

	b.Reset()
	_ = printVersion(&b, "{{.Client.Version}}", testVersionDoc())
	if b.String() != "1.2.3\n" {
		t.Errorf("template: %q", b.String())
	}
}

func TestPrintInfoYAML(t *testing.T) {
	info := &systemInfo{}
	info.Host.Arch = "amd64"
	info.Host.CgroupControllers = []string{"cpu", "memory"}
	info.Host.OCIRuntime = componentInfo{Name: "libcontainer", Version: "runc v1\nspec: 1.3.0"}
	info.Host.MemTotal = 25276026880
	info.Store.GraphStatus = map[string]string{"Supports d_type": "true"}
	info.Store.ContainerStore.Number = 3
	var b bytes.Buffer
	if err := printInfo(&b, "", info); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"host:\n  arch: amd64\n  cgroupControllers:\n  - cpu\n  - memory\n  cgroupManager:",
		"  memTotal: 25276026880\n",
		"    version: |-\n      runc v1\n      spec: 1.3.0\n",
		"    Supports d_type: \"true\"\n",
		"  containerStore:\n    number: 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}

	b.Reset()
	if err := printInfo(&b, "{{.Host.Arch}} {{.Store.ContainerStore.Number}}", info); err != nil {
		t.Fatal(err)
	}
	if b.String() != "amd64 3\n" {
		t.Errorf("template: %q", b.String())
	}
	b.Reset()
	_ = printInfo(&b, "json", info)
	if !strings.Contains(b.String(), "\n  \"host\": {\n    \"arch\": \"amd64\",") {
		t.Errorf("json: %s", b.String())
	}
}

func TestV1Controllers(t *testing.T) {
	proc := "#subsys_name\thierarchy\tnum_cgroups\tenabled\n" +
		"cpuset\t3\t7\t1\ncpu\t1\t7\t1\nnet_cls\t0\t6\t1\nmemory\t4\t93\t1\nhugetlb\t5\t1\t0\n"
	if got := strings.Join(v1Controllers(proc), ","); got != "cpuset,cpu,memory" {
		t.Errorf("got %s", got)
	}
}

func TestReadDistribution(t *testing.T) {
	p := filepath.Join(t.TempDir(), "os-release")
	os.WriteFile(p, []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n"), 0o644)
	d := readDistribution(p)
	if d != (distributionInfo{Distribution: "debian", Version: "12", Codename: "bookworm"}) {
		t.Errorf("got %+v", d)
	}
	if d := readDistribution(filepath.Join(t.TempDir(), "none")); d != (distributionInfo{}) {
		t.Errorf("missing file: %+v", d)
	}
}

func TestFormatUptime(t *testing.T) {
	for secs, want := range map[float64]string{
		912:     "0h 15m 12.00s",
		3661.25: "1h 1m 1.25s",
		90000:   "25h 0m 0.00s (Approximately 1.04 days)",
	} {
		if got := formatUptime(secs); got != want {
			t.Errorf("formatUptime(%v) = %q, want %q", secs, got, want)
		}
	}
}

func TestConfirm(t *testing.T) {
	var out bytes.Buffer
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, "n\n": false, "": false, "maybe\n": false} {
		if got := confirm(strings.NewReader(in), &out, "? "); got != want {
			t.Errorf("confirm(%q) = %v", in, got)
		}
	}
}
