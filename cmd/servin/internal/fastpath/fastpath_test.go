package fastpath

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"
)

func TestBuild(t *testing.T) {
	v := Build()
	if v.Version != Version || v.APIVersion != Version || !strings.HasPrefix(v.GoVersion, "go") || v.OsArch == "" || v.Built == 0 {
		t.Fatalf("Build: %+v", v)
	}
	if v.BuiltTime != time.Unix(v.Built, 0).Format(time.ANSIC) {
		t.Errorf("BuiltTime %q for %d", v.BuiltTime, v.Built)
	}

	old := BuildTime
	defer func() { BuildTime = old }()
	BuildTime = "86400"
	if v := Build(); v.Built != 86400 {
		t.Errorf("link-time BuildTime ignored: %+v", v)
	}
}

// TestText pins the layout to what a tab writer makes of podman's
// template (minimum width 12, padding 2), with and without a commit.
func TestText(t *testing.T) {
	for _, commit := range []string{"", "0123abc"} {
		v := Info{Version: "1.2.3", APIVersion: "1.2.3", GoVersion: "go1.26.8", GitCommit: commit, BuiltTime: "Thu Jan  1 00:00:00 1970", OsArch: "linux/amd64"}
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 12, 2, 2, ' ', 0)
		tw.Write([]byte("Client:\tServin Engine\nVersion:\t1.2.3\nAPI Version:\t1.2.3\nGo Version:\tgo1.26.8\n"))
		if commit != "" {
			tw.Write([]byte("Git Commit:\t" + commit + "\n"))
		}
		tw.Write([]byte("Built:\tThu Jan  1 00:00:00 1970\nOS/Arch:\tlinux/amd64\n"))
		tw.Flush()
		if got := Text(v); got != b.String() {
			t.Errorf("Text:\n%s\nwant:\n%s", got, b.String())
		}
	}
}

func TestAnswer(t *testing.T) {
	text := Text(Build())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"servin", "version"}, text},
		{[]string{"/usr/bin/servin", "--root", "/r", "--runroot=/rr", "--storage-driver", "vfs", "--storage-opt", "o=1", "--config", "/c", "--monitor-path=/m", "version"}, text},
		{[]string{"servin", "--version"}, "servin version " + Version + "\n"},
		{[]string{"servin", "-v"}, "servin version " + Version + "\n"},
		{[]string{"servin", "--root", "/r", "--version"}, "servin version " + Version + "\n"},
		{[]string{"servin", "version", "--version"}, ""},
		// Everything else is the full program's.
		{[]string{"servin"}, ""},
		{[]string{"servin", "version", "--format", "json"}, ""},
		{[]string{"servin", "version", "-h"}, ""},
		{[]string{"servin", "--log-level=debug", "version"}, ""},
		{[]string{"servin", "-D", "version"}, ""},
		{[]string{"servin", "--out", "/tmp/f", "version"}, ""},
		{[]string{"servin", "--root"}, ""},
		{[]string{"servin", "--root", "version"}, ""},
		{[]string{"servin", "ps", "version"}, ""},
		{[]string{"servin", "run", "img", "version"}, ""},
		{[]string{"servin", "--version", "ps"}, ""},
		{nil, ""},
	} {
		if got := Answer(c.args); got != c.want {
			t.Errorf("Answer(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestRecordInherited(t *testing.T) {
	// The test binary ran the init: whatever it inherited is recorded and
	// no longer passed on to children.
	for fd := range Inherited {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			t.Errorf("inherited fd %d is not close-on-exec", fd)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), syscall.F_SETFD, 0) // as a shell leaves it
	Inherited = map[int]bool{}
	recordInherited()
	if !Inherited[int(w.Fd())] {
		t.Fatalf("fd %d not recorded: %v", w.Fd(), Inherited)
	}
	flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, w.Fd(), syscall.F_GETFD, 0)
	if flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("fd %d left inheritable", w.Fd())
	}
}
