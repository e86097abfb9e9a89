package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// newVolumeServin is newServin for tests that make volumes: its cleanup
// removes the test's containers with their anonymous volumes (rm -v), then
// the named volumes whose names start with the test's prefix.
func newVolumeServin(t *testing.T) *servin {
	t.Helper()
	s := newServin(t)
	t.Cleanup(func() { s.removeOwnVolumes() })
	return s
}

func (s *servin) removeOwnVolumes() {
	if r := s.run("ps", "-a", "--format", "{{.Names}}"); r.exit == 0 {
		var mine []string
		for _, n := range r.lines() {
			if strings.HasPrefix(n, s.prefix) {
				mine = append(mine, n)
			}
		}
		if len(mine) > 0 {
			s.run(append([]string{"rm", "-f", "-v", "-t", "0"}, mine...)...)
		}
	}
	r := s.run("volume", "ls", "-q", "--filter", "name=^"+s.prefix)
	if vols := r.lines(); r.exit == 0 && len(vols) > 0 {
		if r := s.run(append([]string{"volume", "rm", "-f"}, vols...)...); r.exit != 0 {
			s.t.Errorf("cleanup: %s", r)
		}
	}
}

// expectError checks a failure of servin itself: exit 125 and a message
// that names the problem.
func (s *servin) expectError(r result, mention string) {
	s.t.Helper()
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, mention) {
		s.t.Errorf("the error should mention %q:\n%s", mention, r)
	}
}

// expectVolumeInUse: volume rm of a volume in use exits 2, as podman's.
func (s *servin) expectVolumeInUse(r result, mention string) {
	s.t.Helper()
	s.expectExit(r, 2)
	if !strings.Contains(r.stderr, mention) {
		s.t.Errorf("the error should mention %q:\n%s", mention, r)
	}
}

type volumeJSON struct {
	Name        string
	Driver      string
	Mountpoint  string
	CreatedAt   string
	Labels      map[string]string
	Scope       string
	Options     map[string]string
	Anonymous   bool
	MountCount  int
	NeedsCopyUp bool
}

func (s *servin) volumeInspect(name string) volumeJSON {
	s.t.Helper()
	var vs []volumeJSON
	if err := json.Unmarshal([]byte(s.mustRun("volume", "inspect", name)), &vs); err != nil || len(vs) != 1 {
		s.t.Fatalf("volume inspect %s: %v %v", name, vs, err)
	}
	return vs[0]
}

func TestVolumeCRUD(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	name := s.name("vol")
	if out := s.mustRun("volume", "create", "--label", "team=a", "--label", "tier", name); out != name {
		t.Errorf("volume create printed %q, want the name", out)
	}
	v := s.volumeInspect(name)
	if v.Name != name || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "a" ||
		v.Mountpoint != filepath.Join(s.st.root, "volumes", name, "_data") || v.CreatedAt == "" || !v.NeedsCopyUp {
		t.Errorf("inspect: %+v", v)
	}
	if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
		t.Errorf("the mountpoint does not exist: %v", err)
	}
	s.expectExit(s.run("volume", "exists", name), 0)
	s.expectExit(s.run("volume", "exists", s.name("missing")), 1)
	s.expectError(s.run("volume", "create", name), "already exists")
	if out := s.mustRun("volume", "create", "--ignore", name); out != name {
		t.Errorf("create --ignore printed %q", out)
	}
	s.expectError(s.run("volume", "create", "bad/name"), "invalid volume name")
	s.expectError(s.run("volume", "create", "-o", "colour=blue", s.name("opt")), "colour")
	s.expectError(s.run("volume", "create", "-d", "nfs", s.name("drv")), `volume driver "nfs" not found`)

	if got := s.mustRun("volume", "inspect", "--format", "{{.Name}} {{.Labels.team}}", name); got != name+" a" {
		t.Errorf("inspect --format: %q", got)
	}
	if out := s.mustRun("volume", "rm", name); out != name {
		t.Errorf("volume rm printed %q", out)
	}
	s.expectExit(s.run("volume", "exists", name), 1)
	if _, err := os.Stat(filepath.Dir(v.Mountpoint)); !os.IsNotExist(err) {
		t.Errorf("volume directory left behind: %v", err)
	}
	r := s.run("volume", "rm", name)
	s.expectExit(r, 1) // podman's code for a missing volume
	if !strings.Contains(r.stderr, `no volume with name "`+name+`" found: no such volume`) {
		t.Errorf("volume rm of a missing volume: %s", r.stderr)
	}
	s.expectExit(s.run("volume", "rm", "-f", name), 0)
	s.expectError(s.run("volume", "inspect", name), "no volume with name")
}

func TestVolumeListFilters(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("volume", "create", "--label", "keep=yes", "alpha")
	s.mustRun("volume", "create", "beta")
	s.mustRun("volume", "create", "-o", "type=tmpfs", "-o", "o=size=1m", "gamma")
	s.mustRun("create", "--name", "user", "-v", "beta:/data", busybox, "true")
	anon := s.mustRun("volume", "create")
	if !fullID.MatchString(anon) {
		t.Errorf("a volume created without a name is named %q, want 64 hex digits", anon)
	}

	lines := s.run("volume", "ls", "--filter", "name=^(alpha|beta)$").lines()
	if len(lines) != 3 || !regexp.MustCompile(`^DRIVER\s+VOLUME NAME$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^local\s+alpha$`).MatchString(lines[1]) {
		t.Errorf("volume ls:\n%s", strings.Join(lines, "\n"))
	}
	cases := map[string]string{
		"label=keep":       "alpha",
		"label=keep=yes":   "alpha",
		"dangling=false":   "beta",
		"name=^gam":        "gamma",
		"opt=type=tmpfs":   "gamma",
		"driver=local":     anon + " alpha beta gamma",
		"dangling=true":    anon + " alpha gamma",
		"label!=keep":      anon + " beta gamma",
		"until=2000-01-01": "",
		"until=2999-01-01": anon + " alpha beta gamma",
	}
	sorted := func(s string) string {
		f := strings.Fields(s)
		sort.Strings(f)
		return strings.Join(f, " ")
	}
	for f, want := range cases {
		got := sorted(s.mustRun("volume", "ls", "-q", "--filter", f))
		if want = sorted(want); got != want {
			t.Errorf("volume ls --filter %s: %q, want %q", f, got, want)
		}
	}
	s.expectError(s.run("volume", "ls", "--filter", "colour=red"), "colour")
	if got := s.mustRun("volume", "ls", "--noheading", "--format", "{{.Name}}:{{.Driver}}:{{.Scope}}", "--filter", "name=alpha"); got != "alpha:local:local" {
		t.Errorf("--format: %q", got)
	}
	var vs []volumeJSON
	if err := json.Unmarshal([]byte(s.mustRun("volume", "ls", "--format", "json")), &vs); err != nil || len(vs) != 4 {
		t.Errorf("ls --format json: %v %v", vs, err)
	}
}

func TestVolumeNamedPersists(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	vol := s.name("data")
	// run creates a missing named volume, as docker does.
	s.mustRun("run", "--rm", "-v", vol+":/data", busybox, "sh", "-c", "echo persisted > /data/f")
	if got := s.mustRun("run", "--rm", "-v", vol+":/other", busybox, "cat", "/other/f"); got != "persisted" {
		t.Errorf("a second container reads %q", got)
	}
	// Two containers share it live.
	a := s.name("a")
	s.runDetached(a, "-v", vol+":/data", busybox, "sleep", "100")
	s.mustRun("run", "--rm", "-v", vol+":/data", busybox, "sh", "-c", "echo from-b > /data/g")
	if got := s.mustRun("exec", a, "cat", "/data/g"); got != "from-b" {
		t.Errorf("a running container sees %q", got)
	}
	// rm -v leaves named volumes alone.
	s.mustRun("rm", "-f", "-v", a)
	s.expectExit(s.run("volume", "exists", vol), 0)
}

func TestVolumeInUse(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	vol, ctr := s.name("vol"), s.name("user")
	s.mustRun("volume", "create", vol)
	s.runDetached(ctr, "-v", vol+":/data", busybox, "sleep", "100")
	s.expectVolumeInUse(s.run("volume", "rm", vol), "is being used by the following container(s)")
	s.mustRun("stop", "-t", "0", ctr)
	// A stopped user still holds it; -f removes the container first.
	s.expectVolumeInUse(s.run("volume", "rm", vol), "being used")
	s.mustRun("volume", "rm", "-f", vol)
	if s.exists(ctr) {
		t.Error("volume rm -f left the container that used the volume")
	}
	s.expectExit(s.run("volume", "exists", vol), 1)
	// A running user is stopped and removed too, as podman does.
	vol2, ctr2 := s.name("vol2"), s.name("user2")
	s.runDetached(ctr2, "-v", vol2+":/data", busybox, "sleep", "100")
	if out := s.mustRun("volume", "rm", "-f", "-t", "0", vol2); out != vol2 {
		t.Errorf("volume rm -f of a volume a running container uses printed %q", out)
	}
	if s.exists(ctr2) {
		t.Error("volume rm -f left the running container that used the volume")
	}
	s.expectExit(s.run("volume", "exists", vol2), 1)
}

func TestVolumeAnonymous(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	ctr := s.name("anon")
	s.mustRun("run", "--name", ctr, "-v", "/scratch", busybox, "sh", "-c", "echo x > /scratch/f")
	var mounts []struct{ Type, Name, Source, Destination string }
	if err := json.Unmarshal([]byte(s.inspect(ctr, "{{json .Mounts}}")), &mounts); err != nil || len(mounts) != 1 {
		t.Fatalf("Mounts: %v %v", mounts, err)
	}
	m := mounts[0]
	if m.Type != "volume" || !fullID.MatchString(m.Name) || m.Destination != "/scratch" || !strings.HasSuffix(m.Source, "/"+m.Name+"/_data") {
		t.Errorf("mount %+v", m)
	}
	if v := s.volumeInspect(m.Name); !v.Anonymous {
		t.Errorf("the volume of -v /scratch is not anonymous: %+v", v)
	}
	if b, err := os.ReadFile(filepath.Join(m.Source, "f")); err != nil || string(b) != "x\n" {
		t.Errorf("volume content %q %v", b, err)
	}
	s.mustRun("rm", "-v", ctr)
	s.expectExit(s.run("volume", "exists", m.Name), 1)

	// Without -v the anonymous volume stays.
	s.mustRun("run", "--name", ctr, "-v", "/scratch", busybox, "true")
	name := s.inspect(ctr, "{{range .Mounts}}{{.Name}}{{end}}")
	s.mustRun("rm", ctr)
	s.expectExit(s.run("volume", "exists", name), 0)
	s.mustRun("volume", "rm", name)

	// run --rm removes its anonymous volumes when the container exits.
	rm := s.name("rm")
	s.runDetached(rm, "--rm", "-v", "/scratch", "--mount", "type=volume,dst=/other", busybox, "sleep", "1")
	vols := strings.Fields(s.inspect(rm, "{{range .Mounts}}{{.Name}} {{end}}"))
	if len(vols) != 2 {
		t.Fatalf("run --rm with two anonymous volumes has mounts %v", vols)
	}
	waitFor(t, waitTimeout, "the --rm container to be removed", func() bool { return !s.exists(rm) }, nil)
	for _, v := range vols {
		s.expectExit(s.run("volume", "exists", v), 1)
	}
}

// TestVolumeImageVolumes: an image's VOLUMEs become anonymous volumes
// holding the image's content there (copy-up), unless --image-volume says
// otherwise.
func TestVolumeImageVolumes(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.mustRun("import", "--change", "VOLUME /etc", "--change", `CMD ["sh"]`, suite.rootfsTar, "volimg")
	out := s.mustRun("run", "--name", "c1", "volimg", "sh", "-c", "cat /etc/hostname; echo new > /etc/added; grep -c ' /etc ' /proc/self/mountinfo")
	if !strings.HasSuffix(out, "1") {
		t.Errorf("/etc is not a mount of its own:\n%s", out)
	}
	name := s.inspect("c1", "{{range .Mounts}}{{.Name}}{{end}}")
	v := s.volumeInspect(name)
	if !v.Anonymous || v.NeedsCopyUp {
		t.Errorf("image volume: %+v", v)
	}
	for _, f := range []string{"passwd", "group", "added"} {
		if _, err := os.Stat(filepath.Join(v.Mountpoint, f)); err != nil {
			t.Errorf("the image volume lacks %s: %v", f, err)
		}
	}
	s.mustRun("rm", "-v", "c1")
	s.expectExit(s.run("volume", "exists", name), 1)

	if got := s.mustRun("run", "--rm", "--image-volume", "tmpfs", "volimg", "sh", "-c", "grep ' /etc ' /proc/self/mountinfo | grep -c tmpfs; cat /etc/passwd | head -1"); got != "1\nroot:x:0:0:root:/root:/bin/sh" {
		t.Errorf("--image-volume tmpfs: %q", got)
	}
	if got := s.mustRun("run", "--rm", "--image-volume", "ignore", "volimg", "sh", "-c", "grep -c ' /etc ' /proc/self/mountinfo || true"); got != "0" {
		t.Errorf("--image-volume ignore: %q", got)
	}
	if got := s.mustRun("volume", "ls", "-q"); got != "" {
		t.Errorf("volumes left: %q", got)
	}
	s.expectError(s.run("create", "--image-volume", "bogus", "volimg"), "--image-volume")
}

func TestVolumeCopyUp(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	fresh, full, nocopy := s.name("fresh"), s.name("full"), s.name("nocopy")
	// A fresh volume takes the image's content and the directory's mode.
	if got := s.mustRun("run", "--rm", "-v", fresh+":/etc", busybox, "sh", "-c", "cat /etc/hostname"); got == "" {
		t.Error("copy-up brought no /etc/hostname")
	}
	if got := s.mustRun("run", "--rm", "-v", fresh+":/tmp", busybox, "stat", "-c", "%a", "/tmp"); got != "755" {
		// The volume took /etc's mode at its first use; later uses keep it.
		t.Errorf("second use changed the volume root to %s", got)
	}
	tmpVol := s.name("tmp")
	if got := s.mustRun("run", "--rm", "-v", tmpVol+":/tmp", busybox, "stat", "-c", "%a", "/tmp"); got != "1777" {
		t.Errorf("a volume at /tmp has mode %s, want the image's 1777", got)
	}
	// A volume with content is not overwritten.
	s.mustRun("volume", "create", full)
	s.mustRun("run", "--rm", "-v", full+":/x", busybox, "sh", "-c", "echo mine > /x/only")
	// (hosts, hostname and resolv.conf are the runtime's mountpoints.)
	if got := s.mustRun("run", "--rm", "-v", full+":/etc", busybox, "ls", "/etc"); !strings.Contains(got, "only") || strings.Contains(got, "passwd") {
		t.Errorf("a used volume got image content: %q", got)
	}
	// nocopy.
	if got := s.mustRun("run", "--rm", "-v", nocopy+":/etc:nocopy", busybox, "ls", "-A", "/etc"); strings.Contains(got, "passwd") {
		t.Errorf("nocopy volume has %q", got)
	}
	// A non-root user can write to a fresh volume at a path the image lacks.
	if got := s.mustRun("run", "--rm", "-u", "1000:1000", "-v", s.name("user")+":/newdir", busybox, "sh", "-c", "touch /newdir/f && stat -c %u:%g /newdir"); got != "1000:1000" {
		t.Errorf("fresh volume for user 1000 owned by %q", got)
	}
}

func TestVolumeDriverOptions(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	tv := s.name("tmpfs")
	s.mustRun("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m,nodev", tv)
	a := s.name("a")
	s.runDetached(a, "-v", tv+":/t", busybox, "sleep", "100")
	if got := s.mustRun("exec", a, "sh", "-c", "grep ' /t ' /proc/self/mountinfo"); !strings.Contains(got, "tmpfs") || !strings.Contains(got, "size=2048k") {
		t.Errorf("tmpfs volume mount: %q", got)
	}
	s.mustRun("exec", a, "sh", "-c", "echo x > /t/f")
	// A second container shares the same tmpfs while the first runs.
	if got := s.mustRun("run", "--rm", "-v", tv+":/t", busybox, "cat", "/t/f"); got != "x" {
		t.Errorf("second container reads %q", got)
	}
	if v := s.volumeInspect(tv); v.MountCount != 1 || v.Options["type"] != "tmpfs" {
		t.Errorf("while one container runs: %+v", v)
	}
	mp := s.volumeInspect(tv).Mountpoint
	s.mustRun("rm", "-f", "-t", "0", a)
	if mounted(t, mp) {
		t.Errorf("the tmpfs volume is still mounted at %s after its last container stopped", mp)
	}

	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "hostfile"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	bv := s.name("bind")
	s.mustRun("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device="+host, bv)
	if got := s.mustRun("run", "--rm", "-v", bv+":/b", busybox, "cat", "/b/hostfile"); got != "from host" {
		t.Errorf("bind volume: %q", got)
	}
	s.mustRun("volume", "rm", bv)
	if _, err := os.Stat(filepath.Join(host, "hostfile")); err != nil {
		t.Errorf("removing a bind volume touched the host directory: %v", err)
	}
	s.expectError(s.run("volume", "create", "-o", "type=none", "-o", "device="+host, s.name("nobind")), "o=bind")
	s.expectError(s.run("volume", "create", "-o", "o=size=1m", s.name("quota")), "quota")
}

func mounted(t *testing.T, p string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && unescapeMountinfo(f[4]) == p {
			return true
		}
	}
	return false
}

func TestVolumePrune(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("volume", "create", "--label", "keep=1", "kept")
	s.mustRun("volume", "create", "unused")
	s.mustRun("volume", "create", "used")
	s.mustRun("create", "--name", "c", "-v", "used:/u", busybox, "true")
	// Named volumes go only with --all (podman 5).
	if got := s.mustRun("volume", "prune", "-f"); got != "" {
		t.Errorf("prune without --all removed named volumes: %q", got)
	}
	if got := s.mustRun("volume", "prune", "-f", "-a", "--filter", "label!=keep"); got != "unused" {
		t.Errorf("prune printed %q, want unused", got)
	}
	if got := strings.Fields(s.mustRun("volume", "ls", "-q")); strings.Join(got, " ") != "kept used" {
		t.Errorf("after prune: %v", got)
	}
	s.expectError(s.run("volume", "prune", "--filter", "name=x"), "invalid volume prune filter")
	// Without -f, prune asks; "n" keeps everything.
	r := s.runWithStdin(strings.NewReader("n\n"), "volume", "prune", "--all")
	s.expectExit(r, 0)
	if !strings.Contains(r.stdout, "kept") {
		t.Errorf("the question should list the volumes: %q", r.stdout)
	}
	s.expectExit(s.run("volume", "exists", "kept"), 0)
}

// tarOf builds a tar archive from headers and contents.
func tarOf(t *testing.T, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		h := entries[i].(*tar.Header)
		body := entries[i+1].(string)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if body != "" {
			tw.Write([]byte(body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostileTars try to write outside their destination in every way a tar
// can, one way each (so that an early failure does not hide a later
// escape): "../" names, an absolute name, a symlink to a host path with a
// file written through it, and a hard link to a host file.
func hostileTars(t *testing.T, hostDir string) map[string][]byte {
	ok := []any{&tar.Header{Typeflag: tar.TypeReg, Name: "ok"}, "fine"}
	tars := map[string][]any{
		"dotdot":   {&tar.Header{Typeflag: tar.TypeReg, Name: "../../../../../../../../" + hostDir[1:] + "/dotdot"}, "escaped"},
		"absolute": {&tar.Header{Typeflag: tar.TypeReg, Name: hostDir + "/absolute"}, "escaped"},
		"symlink": {&tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: hostDir}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "link/through-symlink"}, "escaped"},
		"symlink-to-file": {&tar.Header{Typeflag: tar.TypeSymlink, Name: "flink", Linkname: hostDir + "/victim"}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "flink"}, "escaped"},
		"hardlink": {&tar.Header{Typeflag: tar.TypeLink, Name: "hard", Linkname: hostDir + "/victim"}, "",
			&tar.Header{Typeflag: tar.TypeReg, Name: "hard"}, "escaped"},
		"hardlink-dotdot": {&tar.Header{Typeflag: tar.TypeLink, Name: "hard2", Linkname: "../../../../../../../.." + hostDir + "/victim"}, ""},
	}
	out := map[string][]byte{}
	for name, entries := range tars {
		out[name] = tarOf(t, append(append([]any{}, ok...), entries...)...)
	}
	return out
}

// checkHostUntouched fails if anything but victim appeared in hostDir or
// victim changed.
func checkHostUntouched(t *testing.T, hostDir string) {
	t.Helper()
	entries, _ := os.ReadDir(hostDir)
	for _, e := range entries {
		if e.Name() != "victim" {
			t.Errorf("a hostile tar wrote %s outside its destination", filepath.Join(hostDir, e.Name()))
		}
	}
	if b, _ := os.ReadFile(filepath.Join(hostDir, "victim")); string(b) != "original" {
		t.Errorf("host file changed to %q", b)
	}
}

func TestVolumeExportImport(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	src, dst := s.name("src"), s.name("dst")
	s.mustRun("run", "--rm", "-v", src+":/d", busybox, "sh", "-c", "mkdir /d/sub && echo hello > /d/sub/f && ln -s /etc/passwd /d/abs")
	tarFile := filepath.Join(t.TempDir(), "vol.tar")
	s.mustRun("volume", "export", "-o", tarFile, src)
	f, err := os.Open(tarFile)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[strings.TrimPrefix(h.Name, "./")] = true
	}
	f.Close()
	if !names["sub/f"] || !names["abs"] {
		t.Errorf("export lacks entries: %v", names)
	}
	s.mustRun("volume", "create", dst)
	s.mustRun("volume", "import", dst, tarFile)
	if got := s.mustRun("run", "--rm", "-v", dst+":/d", busybox, "cat", "/d/sub/f"); got != "hello" {
		t.Errorf("imported volume has %q", got)
	}
	// stdin, and a stream export.
	r := s.run("volume", "export", src)
	s.expectExit(r, 0)
	s.expectExit(s.runWithStdin(strings.NewReader(r.stdout), "volume", "import", s.name("stdin"), "-"), 125) // no such volume
	s.mustRun("volume", "create", s.name("stdin"))
	s.expectExit(s.runWithStdin(strings.NewReader(r.stdout), "volume", "import", s.name("stdin"), "-"), 0)
}

// TestVolumeImportHostile: volume import never writes outside the volume.
func TestVolumeImportHostile(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "victim"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	vol := s.name("hostile")
	s.mustRun("volume", "create", vol)
	for name, data := range hostileTars(t, hostDir) {
		r := s.runWithStdin(bytes.NewReader(data), "volume", "import", vol, "-")
		t.Logf("%s: exit %d %s", name, r.exit, strings.TrimSpace(r.stderr))
		checkHostUntouched(t, hostDir)
	}
	mp := s.volumeInspect(vol).Mountpoint
	if b, err := os.ReadFile(filepath.Join(mp, "ok")); err != nil || string(b) != "fine" {
		t.Errorf("the harmless entry was not imported: %v", err)
	}
}

func TestMountBind(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "f"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := s.mustRun("run", "--rm", "-v", host+":/h", busybox, "sh", "-c", "cat /h/f; echo c > /h/new"); got != "host" {
		t.Errorf("bind: %q", got)
	}
	if _, err := os.Stat(filepath.Join(host, "new")); err != nil {
		t.Errorf("a write through a rw bind did not reach the host: %v", err)
	}
	// docker's -v creates a missing source; --mount refuses it.
	missing := filepath.Join(t.TempDir(), "a", "b")
	s.mustRun("run", "--rm", "-v", missing+":/m", busybox, "true")
	if fi, err := os.Stat(missing); err != nil || !fi.IsDir() {
		t.Errorf("-v did not create the missing source: %v", err)
	}
	missing2 := filepath.Join(t.TempDir(), "nope")
	s.expectError(s.run("run", "--rm", "--mount", "type=bind,src="+missing2+",dst=/m", busybox, "true"), "statfs "+missing2+": no such file or directory")
	if _, err := os.Stat(missing2); !os.IsNotExist(err) {
		t.Error("--mount created the missing source")
	}
	s.expectError(s.run("run", "--rm", "-v", host+":relative", busybox, "true"), `"relative"`)
	s.expectError(s.run("run", "--rm", "-v", host+":/h:bogus", busybox, "true"), `"bogus"`)
	s.expectError(s.run("run", "--rm", "--mount", "type=bind,src="+host+",dst=/h,frobnicate", busybox, "true"), `"frobnicate"`)
	s.expectError(s.run("run", "--rm", "--mount", "type=bind,src="+host, busybox, "true"), "destination")
	s.expectError(s.run("run", "--rm", "-v", host+":/h", "--tmpfs", "/h", busybox, "true"), "/h: duplicate mount destination")
	// z and Z are accepted (SELinux is off here, or the source is relabelled).
	s.mustRun("run", "--rm", "-v", host+":/h:z", "-v", host+":/h2:Z", busybox, "true")
	// Failed creates leave no container behind.
	if out := s.mustRun("ps", "-a", "--format", "{{.Names}}", "--filter", "name="+s.prefix); out != "" {
		t.Errorf("failed creates left containers: %q", out)
	}
}

// TestMountReadOnly: a read-only mount stays read-only, also through
// symlinks, remounts and submounts.
func TestMountReadOnly(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "f"), []byte("orig"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A mount below the bind source: ro must cover it too (recursive).
	sub := filepath.Join(host, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
	vol := s.name("ro")
	for _, args := range [][]string{
		{"-v", host + ":/h:ro"},
		{"--mount", "type=bind,src=" + host + ",dst=/h,readonly"},
		{"-v", vol + ":/h:ro"},
	} {
		script := `echo x > /h/f && echo WROTE; ln -s /h/f /tmp/l; echo x > /tmp/l && echo WROTE-LINK;` +
			`echo x > /h/sub/x && echo WROTE-SUBMOUNT;` +
			`mount -o remount,rw /h 2>/dev/null && echo REMOUNTED; echo x > /h/f && echo WROTE-AFTER-REMOUNT;` +
			`mount -o remount,rw,bind /h 2>/dev/null; echo x > /h/f && echo WROTE-AFTER-BIND-REMOUNT; true`
		r := s.run(append(append([]string{"run", "--rm"}, args...), busybox, "sh", "-c", script)...)
		s.expectExit(r, 0)
		if strings.Contains(r.stdout, "WROTE") || strings.Contains(r.stdout, "REMOUNTED") {
			t.Errorf("%v: a read-only mount was written:\n%s", args, r)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(host, "f")); string(b) != "orig" {
		t.Errorf("host file changed to %q", b)
	}
	if got := s.mustRun("run", "--rm", "-v", host+":/h:ro", busybox, "sh", "-c", "grep ' /h ' /proc/self/mountinfo | cut -d' ' -f6"); !strings.HasPrefix(got, "ro") {
		t.Errorf("mount options of /h: %q", got)
	}
}

func TestMountTmpfsAndImage(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	got := s.mustRun("run", "--rm", "--tmpfs", "/scratch:size=1m,mode=1770", busybox, "sh", "-c",
		"grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch")
	if !strings.Contains(got, "tmpfs") || !strings.Contains(got, "size=1024k") || !strings.Contains(got, "noexec") || !strings.HasSuffix(got, "1770") {
		t.Errorf("--tmpfs: %q", got)
	}
	got = s.mustRun("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=2m", busybox, "sh", "-c", "grep ' /t ' /proc/self/mountinfo")
	if !strings.Contains(got, "size=2048k") {
		t.Errorf("--mount type=tmpfs: %q", got)
	}
	// tmpfs starts with the image's content at its destination (tmpcopyup).
	if got := s.mustRun("run", "--rm", "--tmpfs", "/etc", busybox, "cat", "/etc/hostname"); got == "" {
		t.Error("--tmpfs /etc hides the image's /etc content")
	}
	s.expectError(s.run("run", "--rm", "--tmpfs", "/t:colour=red", busybox, "true"), "colour")
	// An image mount is read-only by default.
	got = s.mustRun("run", "--rm", "--mount", "type=image,src="+busybox+",dst=/img", busybox, "sh", "-c", "cat /img/etc/hostname >/dev/null && echo READ; touch /img/x 2>/dev/null && echo WROTE; true")
	if got != "READ" {
		t.Errorf("image mount: %q", got)
	}
	if got := s.mustRun("run", "--rm", "--mount", "type=image,src="+busybox+",dst=/img,subpath=etc", busybox, "ls", "/img/passwd"); got != "/img/passwd" {
		t.Errorf("image mount subpath: %q", got)
	}
	s.expectError(s.run("run", "--rm", "--mount", "type=image,src=nosuchimage,dst=/img", busybox, "true"), "nosuchimage")
	// Volume subpath.
	vol := s.name("sub")
	s.mustRun("run", "--rm", "-v", vol+":/v", busybox, "sh", "-c", "mkdir -p /v/inner && echo deep > /v/inner/f")
	if got := s.mustRun("run", "--rm", "--mount", "type=volume,src="+vol+",dst=/d,subpath=inner", busybox, "cat", "/d/f"); got != "deep" {
		t.Errorf("volume subpath: %q", got)
	}
}

func TestMountInspect(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host, vol, ctr := t.TempDir(), s.name("vol"), s.name("c")
	s.mustRun("create", "--name", ctr, "-v", host+":/h:ro,rslave", "-v", vol+":/v", "--tmpfs", "/t:size=1m", busybox, "true")
	var ics []struct {
		Mounts []struct {
			Type, Name, Source, Destination, Driver, Propagation string
			RW                                                   bool
			Options                                              []string
		}
		HostConfig struct {
			Binds []string
			Tmpfs map[string]string
		}
	}
	if err := json.Unmarshal([]byte(s.mustRun("inspect", ctr)), &ics); err != nil || len(ics) != 1 {
		t.Fatal(ics, err)
	}
	ic := ics[0]
	if len(ic.Mounts) != 3 {
		t.Fatalf("Mounts: %+v", ic.Mounts)
	}
	b, v := ic.Mounts[0], ic.Mounts[1]
	if b.Type != "bind" || b.Source != host || b.Destination != "/h" || b.RW || b.Propagation != "rslave" {
		t.Errorf("bind mount: %+v", b)
	}
	if v.Type != "volume" || v.Name != vol || v.Driver != "local" || !v.RW || !strings.HasSuffix(v.Source, "/volumes/"+vol+"/_data") {
		t.Errorf("volume mount: %+v", v)
	}
	if len(ic.HostConfig.Binds) != 2 || !strings.HasPrefix(ic.HostConfig.Binds[0], host+":/h:ro") || ic.HostConfig.Tmpfs["/t"] == "" {
		t.Errorf("HostConfig: %+v", ic.HostConfig)
	}
}

func TestVolumesFrom(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host, vol, src := t.TempDir(), s.name("shared"), s.name("src")
	s.mustRun("create", "--name", src, "-v", vol+":/data", "-v", host+":/h", "-v", "/anon", "--tmpfs", "/t", busybox, "true")
	got := s.mustRun("run", "--rm", "--volumes-from", src, busybox, "sh", "-c",
		"echo v > /data/f && echo h > /h/f && echo a > /anon/f && echo OK; grep -c ' /t ' /proc/self/mountinfo || true")
	if got != "OK\n0" {
		t.Errorf("--volumes-from (tmpfs is not inherited): %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(host, "f")); string(b) != "h\n" {
		t.Errorf("bind through --volumes-from: %q", b)
	}
	got = s.mustRun("run", "--rm", "--volumes-from", src+":ro", busybox, "sh", "-c",
		"cat /data/f; echo x > /data/f 2>/dev/null && echo WROTE; echo x > /h/f 2>/dev/null && echo WROTE; true")
	if got != "v" {
		t.Errorf("--volumes-from :ro: %q", got)
	}
	// The anonymous volume belongs to src: rm -v of a borrower keeps it.
	anon := s.inspect(src, `{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}`)
	b := s.name("borrower")
	s.mustRun("create", "--name", b, "--volumes-from", src, busybox, "true")
	s.mustRun("rm", "-v", b)
	s.expectExit(s.run("volume", "exists", anon), 0)
	// Removing src with -v while nothing else uses it removes it.
	s.mustRun("rm", "-v", src)
	s.expectExit(s.run("volume", "exists", anon), 1)
	s.expectError(s.run("run", "--rm", "--volumes-from", s.name("nosuch"), busybox, "true"), "nosuch")
}

func TestMountReadOnlyRootfs(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	vol := s.name("v")
	got := s.mustRun("run", "--rm", "--read-only", "-v", vol+":/tmp/vol", busybox, "sh", "-c",
		"touch /etc/x 2>/dev/null && echo ROOT-WRITABLE; touch /tmp/a /run/b /var/tmp/c /tmp/vol/d && echo TMP-OK; ls /tmp/vol")
	if got != "TMP-OK\nd" {
		t.Errorf("--read-only with a volume below /tmp: %q", got)
	}
	got = s.mustRun("run", "--rm", "--read-only", "--read-only-tmpfs=false", busybox, "sh", "-c",
		"touch /tmp/a 2>/dev/null && echo TMP-WRITABLE; true")
	if got != "" {
		t.Errorf("--read-only-tmpfs=false: %q", got)
	}
}

func TestMountPropagationAndChown(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"private", "rprivate", "shared", "rshared", "slave", "rslave"} {
		got := s.mustRun("run", "--rm", "-v", host+":/h:"+p, busybox, "sh", "-c", "grep ' /h ' /proc/self/mountinfo")
		isShared := strings.Contains(got, "shared:")
		if (p == "shared" || p == "rshared") != isShared {
			t.Errorf("propagation %s: %q", p, got)
		}
	}
	// U gives the source to the container's user.
	if got := s.mustRun("run", "--rm", "-u", "1000:1001", "-v", host+":/h:U", busybox, "stat", "-c", "%u:%g", "/h", "/h/f"); got != "1000:1001\n1000:1001" {
		t.Errorf("U: %q", got)
	}
	vol := s.name("u")
	if got := s.mustRun("run", "--rm", "-u", "nobody", "--mount", "type=volume,src="+vol+",dst=/v,U", busybox, "sh", "-c", "touch /v/f && stat -c %u /v/f"); got != "65534" {
		t.Errorf("U on a volume: %q", got)
	}
}

// TestVolumeUserNS: in a user namespace, a fresh volume, U and cp give
// files to the container's root as the host maps it.
func TestVolumeUserNS(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	allowTraversal(t, s)
	userns := []string{"--network", "none", "--uidmap", "0:200000:65536", "--gidmap", "0:200000:65536"}
	vol, host := s.name("v"), t.TempDir()
	args := append(append([]string{"run", "--rm"}, userns...), "-v", vol+":/data", "-v", host+":/h:U", busybox,
		"sh", "-c", "touch /data/f /h/f && stat -c %u:%g /data/f /h/f")
	if got := s.mustRun(args...); got != "0:0\n0:0" {
		t.Errorf("inside the namespace: %q", got)
	}
	checkOwner(t, filepath.Join(s.volumeInspect(vol).Mountpoint, "f"), 200000, 200000)
	checkOwner(t, host, 200000, 200000)
	ctr := s.name("c")
	s.mustRun(append(append([]string{"create", "--name", ctr}, userns...), busybox, "true")...)
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s.mustRun("cp", src, ctr+":/copied")
	p := s.mustRun("container", "mount", ctr)
	defer s.run("umount", ctr)
	checkOwner(t, filepath.Join(p, "copied"), 200000, 200000)
}
