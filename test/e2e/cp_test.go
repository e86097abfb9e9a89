package e2e

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// makeHostTree makes dir/tree with a file, a subdirectory and a symlink.
func makeHostTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for _, d := range []string{tree, filepath.Join(tree, "sub")} {
		if err := os.Mkdir(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tree, "a"), []byte("file a"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "sub", "b"), []byte("file b"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(tree, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(tree, "a"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	return tree
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		names = append(names, strings.TrimPrefix(h.Name, "./"))
	}
	sort.Strings(names)
	return names
}

// TestCp copies in and out of a running and a stopped container with
// docker's rules for directories, "dir/." and existing destinations.
func TestCp(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	tree := makeHostTree(t)
	vol := s.name("vol")
	for _, running := range []bool{true, false} {
		ctr := s.name("running")
		if running {
			s.runDetached(ctr, "-v", vol+":/data", busybox, "sleep", "100")
		} else {
			ctr = s.name("stopped")
			s.mustRun("create", "--name", ctr, "-v", vol+":/data", busybox, "sleep", "100")
		}
		read := func(p string) string {
			t.Helper()
			out := filepath.Join(t.TempDir(), "out")
			s.mustRun("cp", ctr+":"+p, out)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		// A directory into an existing directory lands under its name;
		// "dir/." copies the content; a new name copies the directory as it.
		s.mustRun("cp", tree, ctr+":/root")
		s.mustRun("cp", tree+"/.", ctr+":/tmp")
		s.mustRun("cp", tree, ctr+":/newname")
		s.mustRun("cp", tree+"/a", ctr+":/etc/a-file")
		for _, p := range []string{"/root/tree/a", "/tmp/a", "/newname/a", "/etc/a-file"} {
			if got := read(p); got != "file a" {
				t.Errorf("running=%v: %s = %q", running, p, got)
			}
		}
		if got := read("/root/tree/sub/b"); got != "file b" {
			t.Errorf("running=%v: sub/b = %q", running, got)
		}
		// Into a volume: a stopped container's volume is its host directory.
		s.mustRun("cp", tree+"/a", ctr+":/data/in-volume")
		mp := s.volumeInspect(vol).Mountpoint
		if b, err := os.ReadFile(filepath.Join(mp, "in-volume")); err != nil || string(b) != "file a" {
			t.Errorf("running=%v: copy into the volume: %q %v", running, b, err)
		}
		// Archive mode (the default) gives files to the container's user;
		// --archive=false keeps the source's owner (a tar stream out of
		// the container shows the owners); copies to the host belong to
		// the caller, as with podman and docker.
		out := t.TempDir()
		s.mustRun("cp", ctr+":/root/tree", out)
		checkOwner(t, filepath.Join(out, "tree", "a"), 0, 0)
		s.mustRun("cp", "--archive=false", tree+"/a", ctr+":/kept-owner")
		if got := tarOwners(t, s.run("cp", ctr+":/kept-owner", "-")); got != "kept-owner 1234:5678" {
			t.Errorf("running=%v: --archive=false copy owned as %q", running, got)
		}
		s.mustRun("cp", ctr+":/kept-owner", out)
		checkOwner(t, filepath.Join(out, "kept-owner"), 0, 0)
		if l, err := os.Readlink(filepath.Join(out, "tree", "link")); err != nil || l != "/etc/passwd" {
			t.Errorf("symlink copied as %q %v", l, err)
		}
		if fi, err := os.Stat(filepath.Join(out, "tree", "sub", "b")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode not kept: %v %v", fi, err)
		}
		// Errors name the problem.
		s.expectError(s.run("cp", tree+"/a", ctr+":/no/such/dir/x"), "no such file or directory")
		s.expectError(s.run("cp", tree+"/a", ctr+":/nodir/"), `"/nodir/" could not be found on container `+ctr+": no such file or directory")
		s.expectError(s.run("cp", ctr+":/nosuchfile", out), "nosuchfile")
		s.expectError(s.run("cp", tree, ctr+":/etc/a-file"), "destination must be a directory when copying a directory")
		s.expectError(s.run("cp", filepath.Join(tree, "missing"), ctr+":/tmp"), "missing")
		s.mustRun("rm", "-f", "-t", "0", ctr)
	}
	s.expectError(s.run("cp", tree, "/tmp/x"), "must name a container")
	s.expectError(s.run("cp", tree, s.name("nosuch")+":/x"), `container "`+s.name("nosuch")+`" does not exist`)
}

func checkOwner(t *testing.T, p string, uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Error(err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != uid || st.Gid != gid {
		t.Errorf("%s owned by %d:%d, want %d:%d", p, st.Uid, st.Gid, uid, gid)
	}
}

func TestCpArchive(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.runDetached(ctr, busybox, "sleep", "100")
	tr := tarOf(t,
		&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "d/f", Uid: 42, Gid: 43}, "from tar",
	)
	s.expectExit(s.runWithStdin(bytes.NewReader(tr), "cp", "--archive=false", "-", ctr+":/tmp"), 0)
	if got := s.mustRun("exec", ctr, "stat", "-c", "%u:%g %n", "/tmp/d/f"); got != "42:43 /tmp/d/f" {
		t.Errorf("unpacked from stdin: %q", got)
	}
	r := s.run("cp", ctr+":/tmp/d", "-")
	s.expectExit(r, 0)
	if got := tarNames(t, []byte(r.stdout)); strings.Join(got, " ") != "d/ d/f" {
		t.Errorf("cp to stdout: %v", got)
	}
	r = s.run("cp", ctr+":/tmp/d/.", "-")
	if got := tarNames(t, []byte(r.stdout)); !contains(got, "f") || contains(got, "d/f") {
		t.Errorf("cp dir/. to stdout: %v", got)
	}
	s.expectError(s.runWithStdin(bytes.NewReader(tr), "cp", "-", ctr+":/etc/passwd"), "must be a directory")
}

// TestCpSafety: cp never writes (or reads) outside the container: symlinks
// the container plants, absolute or relative, resolve inside its root, and
// hostile tar entries stay in the destination.
func TestCpSafety(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "victim"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(hostDir, "secret")
	if err := os.WriteFile(secret, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(secret)
	src := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(src, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The container has its own directory at hostDir's path, so that the
	// copies have somewhere to land inside it.
	plant := "mkdir -p " + hostDir + " && ln -s " + hostDir + " /abs && ln -s ../../../../../../../.." + hostDir + " /rel && " +
		"ln -s " + hostDir + "/victim /victimlink && ln -s " + secret + " /secretlink && ln -s / /root/up"
	for _, running := range []bool{true, false} {
		ctr := s.name("stopped")
		if running {
			ctr = s.name("running")
			s.runDetached(ctr, busybox, "sleep", "100")
			s.mustRun("exec", ctr, "sh", "-c", plant)
		} else {
			s.mustRun("run", "--name", ctr, busybox, "sh", "-c", plant)
		}
		for _, dst := range []string{"/abs/x", "/rel/x", "/abs/", "/root/up" + hostDir + "/x"} {
			r := s.run("cp", src, ctr+":"+dst)
			t.Logf("cp to %s: exit %d %s", dst, r.exit, r.stderr)
		}
		s.run("cp", src, ctr+":/victimlink")
		// The copies landed inside the container, at the symlinks' targets
		// taken relative to its root.
		if got := s.mustRun("diff", ctr); !strings.Contains(got, "A "+hostDir+"/x") || !strings.Contains(got, "A "+hostDir+"/payload") {
			t.Errorf("cp through symlinks did not land inside the container:\n%s", got)
		}
		// Reading through a symlink to a host path never reads the host.
		out := filepath.Join(t.TempDir(), "out")
		r := s.run("cp", "-L", ctr+":/secretlink", out)
		if b, _ := os.ReadFile(out); strings.Contains(string(b), "host secret") {
			t.Errorf("cp -L read the host file through a container symlink: %s", r)
		}
		r = s.run("cp", ctr+":/secretlink", out+"2")
		if l, _ := os.Readlink(out + "2"); r.exit == 0 && l != secret {
			t.Errorf("a symlink was not copied as a symlink: %q", l)
		}
		// Hostile tars on stdin, into a directory and through a symlink.
		for name, data := range hostileTars(t, hostDir) {
			for _, dst := range []string{"/tmp", "/abs"} {
				r := s.runWithStdin(bytes.NewReader(data), "cp", "-", ctr+":"+dst)
				t.Logf("%s into %s: exit %d %s", name, dst, r.exit, strings.TrimSpace(r.stderr))
			}
		}
		entries, _ := os.ReadDir(hostDir)
		for _, e := range entries {
			if e.Name() != "victim" && e.Name() != "secret" {
				t.Errorf("running=%v: cp wrote %s on the host", running, filepath.Join(hostDir, e.Name()))
			}
		}
		if b, _ := os.ReadFile(filepath.Join(hostDir, "victim")); string(b) != "original" {
			t.Fatalf("running=%v: host file changed to %q", running, b)
		}
		s.mustRun("rm", "-f", "-t", "0", ctr)
	}
}

// TestCpReadOnly: cp cannot write to a read-only mount or root filesystem.
func TestCpReadOnly(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	host := t.TempDir()
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	running, stopped := s.name("running"), s.name("stopped")
	s.runDetached(running, "-v", host+":/ro:ro", "--read-only", busybox, "sleep", "100")
	s.mustRun("create", "--name", stopped, "-v", host+":/ro:ro", "--read-only", busybox, "true")
	for _, ctr := range []string{running, stopped} {
		for _, dst := range []string{"/ro/f", "/ro/", "/etc/f"} {
			r := s.run("cp", src, ctr+":"+dst)
			s.expectExit(r, 125)
			if !strings.Contains(strings.ToLower(r.stderr), "read-only") {
				t.Errorf("cp to %s:%s: %s", ctr, dst, r)
			}
		}
		r := s.runWithStdin(bytes.NewReader(tarOf(t, &tar.Header{Typeflag: tar.TypeReg, Name: "f"}, "x")), "cp", "-", ctr+":/ro")
		s.expectExit(r, 125)
	}
	if entries, _ := os.ReadDir(host); len(entries) != 0 {
		t.Errorf("cp wrote into a read-only mount: %v", entries)
	}
	// The writable tmpfs of --read-only is fine while running.
	s.mustRun("cp", src, running+":/tmp/ok")
}

func TestDiffExport(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	ctr := s.name("c")
	s.mustRun("run", "--name", ctr, "-v", s.name("v")+":/data", busybox, "sh", "-c",
		"echo new > /newfile && rm /etc/group && echo changed >> /etc/passwd && echo x > /data/in-volume")
	got := s.mustRun("diff", ctr)
	for _, want := range []string{"A /newfile", "D /etc/group", "C /etc/passwd", "C /etc"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).MatchString(got) {
			t.Errorf("diff lacks %q:\n%s", want, got)
		}
	}
	for _, hidden := range []string{"/data", "/etc/hosts", "/etc/resolv.conf"} {
		if regexp.MustCompile(`(?m)^A ` + regexp.QuoteMeta(hidden) + `$`).MatchString(got) {
			t.Errorf("diff shows the mountpoint %s:\n%s", hidden, got)
		}
	}
	if js := s.mustRun("diff", "--format", "json", ctr); !strings.Contains(js, `"added"`) || !strings.Contains(js, "/newfile") {
		t.Errorf("diff --format json: %s", js)
	}
	tarFile := filepath.Join(t.TempDir(), "export.tar")
	s.mustRun("export", "-o", tarFile, ctr)
	data, err := os.ReadFile(tarFile)
	if err != nil {
		t.Fatal(err)
	}
	names := tarNames(t, data)
	if !contains(names, "newfile") || !contains(names, "bin/busybox") || contains(names, "etc/group") || contains(names, "data/in-volume") {
		t.Errorf("export: %d entries; newfile %v, busybox %v, etc/group %v, data/in-volume %v", len(names),
			contains(names, "newfile"), contains(names, "bin/busybox"), contains(names, "etc/group"), contains(names, "data/in-volume"))
	}
	r := s.run("export", ctr)
	s.expectExit(r, 0)
	if len(r.stdout) != len(data) {
		t.Errorf("export to stdout: %d bytes, to a file %d", len(r.stdout), len(data))
	}
	s.expectError(s.run("diff", s.name("nosuch")), "no container")
}

func TestContainerMount(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.mustRun("create", "--name", ctr, busybox, "true")
	p := s.mustRun("container", "mount", ctr)
	if _, err := os.Stat(filepath.Join(p, "bin", "busybox")); err != nil {
		t.Fatalf("mount printed %q: %v", p, err)
	}
	if err := os.WriteFile(filepath.Join(p, "from-host"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := s.mustRun("mount"); !strings.Contains(out, p) {
		t.Errorf("mount lists %q, lacks %s", out, p)
	}
	s.mustRun("umount", ctr)
	if out := s.mustRun("mount"); strings.Contains(out, p) {
		t.Errorf("still listed after umount: %q", out)
	}
	s.mustRun("start", "--attach", ctr)
	if got := s.mustRun("diff", ctr); !strings.Contains(got, "A /from-host") {
		t.Errorf("a file written through the mount is not in the container: %q", got)
	}
}

func TestSystemDfPrune(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	s.mustRun("import", suite.rootfsTar, "spare")
	s.mustRun("volume", "create", "unused")
	s.mustRun("run", "--name", "user", "-v", "used:/u", busybox, "sh", "-c", "head -c 5000 /bin/busybox > /u/data")
	s.runDetached("runner", busybox, "sleep", "100")

	out := s.mustRun("system", "df")
	lines := strings.Split(out, "\n")
	if len(lines) != 4 || !regexp.MustCompile(`^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^Images\s+2\s+1\s`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^Containers\s+2\s+1\s`).MatchString(lines[2]) ||
		!regexp.MustCompile(`^Local Volumes\s+2\s+1\s+5kB\s+0B \(0%\)$`).MatchString(lines[3]) {
		t.Errorf("system df:\n%s", out)
	}
	if js := s.mustRun("system", "df", "--format", "json"); !strings.Contains(js, `"Type": "Local Volumes"`) {
		t.Errorf("system df --format json: %s", js)
	}
	if v := s.mustRun("system", "df", "-v"); !strings.Contains(v, "Local Volumes space usage:") || !regexp.MustCompile(`(?m)^used\s+1\s+5kB$`).MatchString(v) {
		t.Errorf("system df -v:\n%s", v)
	}

	// Plain prune: stopped containers and dangling images; volumes stay.
	out = s.mustRun("system", "prune", "-f")
	if !strings.Contains(out, "Deleted Containers") || !strings.Contains(out, "Total reclaimed space:") {
		t.Errorf("system prune:\n%s", out)
	}
	if got := s.mustRun("ps", "-a", "--format", "{{.Names}}"); got != "runner" {
		t.Errorf("after prune: %q", got)
	}
	if got := strings.Fields(s.mustRun("volume", "ls", "-q")); len(got) != 2 {
		t.Errorf("system prune without --volumes removed volumes: %v", got)
	}
	// --volumes --all: unused volumes and images no container uses go.
	out = s.mustRun("system", "prune", "-f", "--volumes", "--all")
	if !strings.Contains(out, "Deleted Volumes") || !strings.Contains(out, "Deleted Images") {
		t.Errorf("system prune --volumes --all:\n%s", out)
	}
	if got := s.mustRun("volume", "ls", "-q"); got != "" {
		t.Errorf("volumes left: %q", got)
	}
	s.expectExit(s.run("image", "exists", "spare"), 1)
	s.expectExit(s.run("image", "exists", busybox), 0)
}

// TestStorageDriverChoice: overlay is the default, vfs can be chosen (and
// is then remembered), and --storage-opt reaches the driver.
func TestStorageDriverChoice(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	if got := s.mustRun("info", "--format", "{{.Store.GraphDriverName}}"); got != "overlay" {
		t.Errorf("default driver %q", got)
	}
	s.expectError(s.run("--storage-driver", "vfs", "images"), "storage driver")

	v := newIsolatedServin(t)
	v.mustRun("--storage-driver", "vfs", "import", suite.rootfsTar, busybox)
	if got := v.mustRun("info", "--format", "{{.Store.GraphDriverName}}"); got != "vfs" {
		t.Errorf("driver after --storage-driver vfs: %q", got)
	}
	vol := "data"
	if got := v.mustRun("run", "--rm", "-v", vol+":/d", busybox, "sh", "-c", "echo ok > /d/f && cat /etc/hostname >/dev/null && echo ok"); got != "ok" {
		t.Errorf("run on vfs: %q", got)
	}
	ctr := "c"
	v.mustRun("create", "--name", ctr, busybox, "true")
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	v.mustRun("cp", src, ctr+":/f")
	if got := v.mustRun("diff", ctr); !strings.Contains(got, "A /f") {
		t.Errorf("diff on vfs: %q", got)
	}
	o := newIsolatedServin(t)
	o.mustRun("--storage-opt", "overlay.mountopt=nodev,noatime", "import", suite.rootfsTar, busybox)
	got := o.mustRun("--storage-opt", "overlay.mountopt=nodev,noatime", "run", "--rm", busybox, "sh", "-c", "grep ' / ' /proc/self/mountinfo | head -1")
	if !strings.Contains(got, "noatime") {
		t.Errorf("--storage-opt overlay.mountopt=nodev,noatime: root mount %q", got)
	}
}
