//go:build linux && cgo && seccomp

package scmpcache

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// build makes a filter shaped like libcontainer's: arches and attributes
// first, then the rules.
func build(t *testing.T, names []string, withArg bool) *libseccomp.ScmpFilter {
	t.Helper()
	f, err := libseccomp.NewFilter(libseccomp.ActErrno.SetReturnCode(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []libseccomp.ScmpArch{libseccomp.ArchX86, libseccomp.ArchX32} {
		if err := f.AddArch(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetOptimize(2); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		sc, err := libseccomp.GetSyscallFromName(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddRule(sc, libseccomp.ActAllow); err != nil {
			t.Fatal(err)
		}
	}
	if withArg {
		sc, _ := libseccomp.GetSyscallFromName("personality")
		cond, err := libseccomp.MakeCondition(0, libseccomp.CompareEqual, 0xffffffff)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddRuleConditional(sc, libseccomp.ActAllow, []libseccomp.ScmpCondition{cond}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func export(t *testing.T, f *libseccomp.ScmpFilter) []byte {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "bpf")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	if err := f.ExportBPF(tmp); err != nil {
		t.Fatalf("export: %v", err)
	}
	b, err := io.ReadAll(io.NewSectionReader(tmp, 0, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	return b
}

var rules = []string{"read", "write", "openat", "close", "exit_group", "mmap", "brk"}

func TestCacheServesTheSameProgram(t *testing.T) {
	disable()
	want := export(t, build(t, rules, true))

	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Enable(dir); err != nil {
		t.Fatal(err)
	}
	defer disable()

	if got := export(t, build(t, rules, true)); !bytes.Equal(got, want) {
		t.Fatalf("program on a miss differs from libseccomp's (%d vs %d bytes)", len(got), len(want))
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.bpf"))
	if len(entries) != 1 {
		t.Fatalf("want one cache entry, have %v", entries)
	}

	// A hit is served from the entry: mark the entry's program and see the
	// mark come back.
	entry, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	marked := append(bytes.Clone(entry[:len(entry)-len(want)]), bytes.Repeat([]byte{0xAB}, 8)...)
	if err := os.WriteFile(entries[0], marked, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := export(t, build(t, rules, true)); !bytes.Equal(got, bytes.Repeat([]byte{0xAB}, 8)) {
		t.Fatalf("hit not served from the cache entry")
	}
	if err := os.WriteFile(entries[0], entry, 0o600); err != nil {
		t.Fatal(err)
	}

	// Another rule set is another key: compiled, not confused with the first.
	other := append(rules[:len(rules):len(rules)], "getpid")
	disable()
	wantOther := export(t, build(t, other, false))
	if err := Enable(dir); err != nil {
		t.Fatal(err)
	}
	if got := export(t, build(t, other, false)); !bytes.Equal(got, wantOther) {
		t.Fatal("second rule set got a wrong program")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*.bpf")); len(entries) != 2 {
		t.Fatalf("want two cache entries, have %v", entries)
	}
}

func TestCacheKeepsLibseccompErrors(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	defer disable()
	disable()
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := libseccomp.GetSyscallFromName("getpid")
	if err := f.AddRule(sc, libseccomp.ActAllow); err == nil {
		t.Skip("this libseccomp accepts rules with the default action")
	}
	f.Release()
	if err := Enable(dir); err != nil {
		t.Fatal(err)
	}
	f, err = libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	// A rule whose action is the default action is refused by libseccomp.
	// Deferred, the refusal surfaces on export, and nothing is cached.
	if err := f.AddRule(sc, libseccomp.ActAllow); err != nil {
		t.Fatalf("rule not deferred: %v", err)
	}
	tmp, _ := os.CreateTemp(dir, "x")
	defer tmp.Close()
	if err := f.ExportBPF(tmp); err == nil {
		t.Fatal("export of a filter with an invalid rule succeeded")
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*.bpf")); len(entries) != 0 {
		t.Fatalf("failed filter was cached: %v", entries)
	}
}

func TestEnableRefusesOpenDirectories(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	if err := Enable(dir); err == nil {
		disable()
		t.Fatal("Enable accepted a world-writable directory")
	}
	if err := Enable(filepath.Join(dir, "missing")); err == nil {
		disable()
		t.Fatal("Enable accepted a missing directory")
	}
}

// A filter of the size of docker's default profile: ~350 plain rules on
// three architectures.
func bigFilter(b *testing.B) *libseccomp.ScmpFilter {
	f, err := libseccomp.NewFilter(libseccomp.ActErrno.SetReturnCode(1))
	if err != nil {
		b.Fatal(err)
	}
	f.AddArch(libseccomp.ArchX86)
	f.AddArch(libseccomp.ArchX32)
	f.SetOptimize(2)
	for nr := 0; nr < 350; nr++ {
		if _, err := libseccomp.ScmpSyscall(nr).GetName(); err != nil {
			continue
		}
		f.AddRule(libseccomp.ScmpSyscall(nr), libseccomp.ActAllow)
	}
	return f
}

func benchExport(b *testing.B, cached bool) {
	disable()
	if cached {
		dir := b.TempDir()
		os.Chmod(dir, 0o700)
		if err := Enable(dir); err != nil {
			b.Fatal(err)
		}
		defer disable()
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	for b.Loop() {
		f := bigFilter(b)
		if err := f.ExportBPF(devnull); err != nil {
			b.Fatal(err)
		}
		f.Release()
	}
}

// go test -tags seccomp -bench Export ./libservin/oci/scmpcache
func BenchmarkExportCompiled(b *testing.B) { benchExport(b, false) }
func BenchmarkExportCached(b *testing.B)   { benchExport(b, true) }
