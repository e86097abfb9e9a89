package e2e

// cp as podman's system tests (test/system/065-cp.bats) check it: paths
// relative to the container's working directory, symlinks followed inside
// the container, --overwrite, podman's error messages, tar streams on
// stdin and stdout, and containers created, running or exited, with
// volumes, bind mounts and tmpfs.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// tarOwners lists a tar stream's entries as "name uid:gid" lines, sorted.
func tarOwners(t *testing.T, r result) string {
	t.Helper()
	if r.exit != 0 {
		t.Errorf("%s", r)
		return ""
	}
	var lines []string
	tr := tar.NewReader(strings.NewReader(r.stdout))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("reading tar: %v", err)
			break
		}
		lines = append(lines, fmt.Sprintf("%s %d:%d", strings.TrimPrefix(h.Name, "./"), h.Uid, h.Gid))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func h8Write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// h8Read returns a host file's content, or the error's text.
func h8Read(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// h8Image commits what script leaves in a busybox container as an image of
// the test's own, removed when the test ends: created containers of it
// start with those files, as podman's tests use `podman commit`.
func h8Image(t *testing.T, s *servin, script string) string {
	t.Helper()
	img, ctr := s.name("img"), s.name("imgsrc")
	s.mustRun("run", "--name", ctr, "--network", "none", busybox, "sh", "-c", script)
	s.mustRun("commit", "-q", ctr, img)
	s.mustRun("rm", ctr)
	t.Cleanup(func() { s.run("rmi", "-f", img) })
	return img
}

// TestH8CpRelativePaths: a container path without a leading "/" is
// relative to the container's working directory, on both sides of cp, for
// running and created containers (and the table of podman's "cp file from
// host to container" test).
func TestH8CpRelativePaths(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	img := h8Image(t, s, "mkdir -p /srv/subdir && echo one >/srv/file1 && echo two >/srv/subdir/file2")
	host := t.TempDir()
	h8Write(t, filepath.Join(host, "dotfile."), "dotted\n")
	// Each case copies a file of its own, named in full.
	dests := []struct{ dest, full string }{
		{"/", "/hf0"},
		{"/anotherbase.txt", "/anotherbase.txt"},
		{"/tmp", "/tmp/hf2"},
		{"/tmp/", "/tmp/hf3"},
		{"/tmp/.", "/tmp/hf4"},
		{".", "/srv/hf5"},
		{"./", "/srv/hf6"},
		{"anotherbase.txt", "/srv/anotherbase.txt"},
		{"subdir", "/srv/subdir/hf8"},
		{"subdir/../subdir/./new", "/srv/subdir/new"},
		{"/tmp/dotfile.", "/tmp/dotfile."},
	}
	srcOf := func(i int) (string, string) {
		if i == len(dests)-1 {
			// Dots are special for directories, not for files.
			return filepath.Join(host, "dotfile."), "dotted"
		}
		p := filepath.Join(host, fmt.Sprintf("hf%d", i))
		h8Write(t, p, fmt.Sprintf("content %d\n", i))
		return p, fmt.Sprintf("content %d", i)
	}
	running, created := s.name("running"), s.name("created")
	s.runDetached(running, "--workdir=/srv", img, "sleep", "100")
	s.mustRun("create", "--name", created, "--network", "none", "--workdir=/srv", img, "sleep", "100")
	for i, d := range dests {
		src, want := srcOf(i)
		s.mustRun("cp", src, running+":"+d.dest)
		if got := s.mustRun("exec", running, "cat", d.full); got != want {
			t.Errorf("cp to running:%s: %s holds %q", d.dest, d.full, got)
		}
		s.mustRun("cp", src, created+":"+d.dest)
	}
	s.mustRun("start", created)
	s.waitStatus(created, "running")
	for i, d := range dests {
		_, want := srcOf(i)
		if got := s.mustRun("exec", created, "cat", d.full); got != want {
			t.Errorf("cp to created:%s, then started: %s holds %q", d.dest, d.full, got)
		}
	}

	// Out of the container, relative sources, to the host and to another
	// container's working directory.
	other := s.name("other")
	s.runDetached(other, "--workdir=/home", busybox, "sleep", "100")
	for _, ctr := range []string{running, created} {
		out := t.TempDir()
		s.mustRun("cp", ctr+":file1", out)
		s.mustRun("cp", ctr+":subdir/file2", out+"/")
		s.mustRun("cp", ctr+":./file1", out+"/renamed")
		for name, want := range map[string]string{"file1": "one\n", "file2": "two\n", "renamed": "one\n"} {
			if got := h8Read(filepath.Join(out, name)); got != want {
				t.Errorf("cp from %s: %s holds %q", ctr, name, got)
			}
		}
		s.mustRun("cp", ctr+":subdir", other+":.")
		s.mustRun("cp", ctr+":file1", other+":from-"+ctr)
	}
	if got := s.mustRun("exec", other, "sh", "-c", "cat /home/subdir/file2 /home/from-"+running+" /home/from-"+created); got != "two\none\none" {
		t.Errorf("relative paths between containers: %q", got)
	}
	// A relative source that is not there names the path as given.
	s.expectError(s.run("cp", running+":nosuch", t.TempDir()), `"nosuch" could not be found on container `+running+": no such file or directory")
}

// TestH8CpDirectories: podman's table of directory copies: "dir", "dir/",
// "dir/." and "dir." into existing directories and as new names, both
// ways, and a directory never lands on a file.
func TestH8CpDirectories(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	host := t.TempDir()
	for _, d := range []string{"dir", "dir."} {
		h8Write(t, filepath.Join(host, d, "sub", "f0"), "zero\n")
		h8Write(t, filepath.Join(host, d, "sub", "f1"), "one\n")
	}
	ctr := s.name("c")
	s.runDetached(ctr, "--workdir=/home", busybox, "sleep", "100")
	s.mustRun("exec", ctr, "mkdir", "/home/subdir")
	for _, c := range []struct{ src, dest, full string }{
		{"dir", "/", "/dir/sub"},
		{"dir.", "/", "/dir./sub"},
		{"dir/", "/tmp", "/tmp/dir/sub"},
		{"dir/.", "/usr/", "/usr/sub"},
		{"dir/sub", ".", "/home/sub"},
		{"dir/sub/.", "subdir/.", "/home/subdir"},
		{"dir", "/newdir1", "/newdir1/sub"},
		{"dir/", "/newdir2", "/newdir2/sub"},
		{"dir/.", "/newdir3", "/newdir3/sub"},
	} {
		s.mustRun("cp", host+"/"+c.src, ctr+":"+c.dest)
		if got := s.mustRun("exec", ctr, "cat", c.full+"/f0", c.full+"/f1"); got != "zero\none" {
			t.Errorf("cp %s %s: %s holds %q", c.src, c.dest, c.full, got)
		}
	}
	// "test1." is a directory's name, not "test1/.".
	s.mustRun("cp", filepath.Join(host, "dir."), ctr+":/dotted")
	if got := s.mustRun("exec", ctr, "ls", "/dotted"); got != "sub" {
		t.Errorf("cp dir. to a new name: %q", got)
	}

	// Out of the container, same rules.
	for _, c := range []struct{ src, dest, full string }{
		{"/home", "", "/home/subdir"},
		{"/home", "/newdir", "/newdir/subdir"},
		{"/home/", "", "/home/subdir"},
		{"/home/.", "", "/subdir"},
		{"/home/.", "/newdir", "/newdir/subdir"},
		{"/home/subdir/.", "", ""},
		{"/dir.", "", "/dir./sub"},
	} {
		out := t.TempDir()
		s.mustRun("cp", ctr+":"+c.src, out+c.dest)
		if c.full == "" {
			c.full = "/"
		}
		if c.src == "/dir." {
			if got := h8Read(filepath.Join(out, c.full, "f0")); got != "zero\n" {
				t.Errorf("cp %s %s: %q", c.src, c.dest, got)
			}
			continue
		}
		if got := h8Read(filepath.Join(out, c.full, "f0")) + h8Read(filepath.Join(out, c.full, "f1")); got != "zero\none\n" {
			t.Errorf("cp %s to host%s: %s holds %q", c.src, c.dest, c.full, got)
		}
	}

	// A directory onto a file, either way.
	file := filepath.Join(t.TempDir(), "file")
	h8Write(t, file, "x")
	s.expectError(s.run("cp", host, ctr+":/etc/passwd"), "destination must be a directory when copying a directory")
	s.expectError(s.run("cp", ctr+":/etc/", file), "destination must be a directory when copying a directory")
	s.expectError(s.run("cp", ctr+":/etc", ctr+":/etc/passwd"), "destination must be a directory when copying a directory")
	if got := h8Read(file); got != "x" {
		t.Errorf("the file was changed: %q", got)
	}
}

// TestH8CpSymlinks: symlinks in container paths are followed inside the
// container, the last one too: a source link is copied as what it points
// to, a copy to a link lands where it points, even where that is missing.
func TestH8CpSymlinks(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	host := t.TempDir()
	h8Write(t, filepath.Join(host, "target"), "host target\n")
	if err := os.Symlink("target", filepath.Join(host, "hlink")); err != nil {
		t.Fatal(err)
	}
	setup := "echo zero >/tmp/f0 && echo one >/tmp/f1 && mkdir /tmp/sub && ln -s .. /tmp/sub/weirdlink && " +
		"echo ctarget >/etc/ctarget && ln -s /etc/ctarget /clink && mkdir -p /d/sub && ln -s /d /dlink && " +
		"mkdir /tmp/d1 /tmp/d2 /tmp/d3 && ln -s /tmp/nonesuch1 /tmp/d1/x && ln -s /tmp/nonesuch2 /tmp/d2/x && " +
		"ln -s ../../../../../../etc /home/up"
	running, exited := s.name("running"), s.name("exited")
	s.runDetached(running, busybox, "sh", "-c", setup+" && sleep 100")
	s.mustRun("run", "--name", exited, "--network", "none", busybox, "sh", "-c", setup)
	for _, ctr := range []string{running, exited} {
		// A link to a directory: its content, under the new name.
		out := t.TempDir()
		s.mustRun("cp", ctr+":/tmp/sub/weirdlink", out+"/dest")
		if got := h8Read(out+"/dest/f0") + h8Read(out+"/dest/f1"); got != "zero\none\n" {
			t.Errorf("%s: cp of a link to ..: %q", ctr, got)
		}
		// A link to a file, into a directory: named after its target.
		s.mustRun("cp", ctr+":/clink", out)
		if fi, err := os.Lstat(out + "/ctarget"); err != nil || !fi.Mode().IsRegular() || h8Read(out+"/ctarget") != "ctarget\n" {
			t.Errorf("%s: cp of a link to a file: %v %v", ctr, fi, err)
		}
		s.mustRun("cp", ctr+":/dlink", out)
		if fi, err := os.Stat(out + "/d/sub"); err != nil || !fi.IsDir() {
			t.Errorf("%s: cp of a link to a directory: %v", ctr, err)
		}
		// ".." in a link stays at the container's root.
		s.mustRun("cp", ctr+":/home/up/ctarget", out+"/viaup")
		if got := h8Read(out + "/viaup"); got != "ctarget\n" {
			t.Errorf("%s: through ../../..: %q", ctr, got)
		}
		// Copies into the container follow its links.
		s.mustRun("cp", filepath.Join(host, "target"), ctr+":/clink")
		s.mustRun("cp", filepath.Join(host, "target"), ctr+":/dlink")
		s.mustRun("cp", filepath.Join(host, "target"), ctr+":/home/up/viaup")
		// A host link is copied as what it points to, under its own name.
		s.mustRun("cp", filepath.Join(host, "hlink"), ctr+":/tmp/")
		// Podman's "weird symlink expansion": a dangling link is written
		// through, unless a trailing / asks for a directory.
		s.mustRun("cp", filepath.Join(host, "target"), ctr+":/tmp/d1/x")
		s.expectError(s.run("cp", filepath.Join(host, "target"), ctr+":/tmp/d2/x/"),
			`"/tmp/d2/x/" could not be found on container `+ctr+": no such file or directory")
		s.mustRun("cp", filepath.Join(host, "target"), ctr+":/tmp/d3/x")

		// Where the copies landed, read back through cp.
		for _, p := range []string{"/etc/ctarget", "/d/target", "/etc/viaup", "/tmp/hlink", "/tmp/nonesuch1", "/tmp/d3/x"} {
			s.mustRun("cp", ctr+":"+p, out+"/back")
			if got := h8Read(out + "/back"); got != "host target\n" {
				t.Errorf("%s: %s holds %q", ctr, p, got)
			}
		}
		s.expectError(s.run("cp", ctr+":/tmp/nonesuch2", out), "could not be found")
		// The links are still links.
		r := s.run("cp", ctr+":/tmp/d1", "-")
		s.expectExit(r, 0)
		if !strings.Contains(r.stdout, "/tmp/nonesuch1") {
			t.Errorf("%s: /tmp/d1/x is no longer a link", ctr)
		}
	}
	if got := s.mustRun("exec", running, "sh", "-c", "readlink /clink && readlink /tmp/d1/x && cat /etc/ctarget /tmp/nonesuch1"); got != "/etc/ctarget\n/tmp/nonesuch1\nhost target\nhost target" {
		t.Errorf("links or targets after the copies: %q", got)
	}
}

// TestH8CpNoEscape: symlinks a container plants, to host paths, absolute
// or with "..", lead nowhere outside it, for running and stopped
// containers, a volume's symlinks included: a copy out reads the
// container's files or fails, a copy in writes inside the container or
// fails, never the host.
func TestH8CpNoEscape(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	hostDir := t.TempDir()
	h8Write(t, filepath.Join(hostDir, "secret"), "host secret\n")
	src := filepath.Join(t.TempDir(), "payload")
	h8Write(t, src, "payload\n")
	vol := s.name("vol")
	plant := "ln -s " + hostDir + " /esc && ln -s " + hostDir + "/secret /secretlink && ln -s '*' /tmp/star && " +
		"ln -s ../../../../.." + hostDir + " /rel && ln -s /etc /data/etc && ln -s ../../../../.. /data/up && ln -s " + hostDir + " /data/esc"
	running, exited := s.name("running"), s.name("exited")
	s.runDetached(running, "-v", vol+":/data", busybox, "sh", "-c", plant+" && sleep 100")
	s.mustRun("run", "--name", exited, "--network", "none", "-v", vol+":/data", busybox, "sh", "-c", "rm -f /data/* ; "+plant)
	for _, ctr := range []string{running, exited} {
		out := t.TempDir()
		for _, p := range []string{"/esc/secret", "/secretlink", "/rel/secret", "/data/esc/secret", "/data/up" + hostDir + "/secret", "/tmp/*", "/tmp/star"} {
			r := s.run("cp", ctr+":"+p, out+"/got")
			s.expectExit(r, 125)
			if !strings.Contains(r.stderr, "could not be found on container "+ctr) {
				t.Errorf("%s: cp of %s: %s", ctr, p, r)
			}
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%s: a copy out through a link wrote %v", ctr, entries)
		}
		// The volume's links resolve in the container: /data/etc is the
		// container's /etc, /data/up its root.
		s.mustRun("cp", ctr+":/data/etc/passwd", out+"/passwd")
		s.mustRun("cp", ctr+":/data/up/etc/group", out+"/group")
		if !strings.HasPrefix(h8Read(out+"/passwd"), "root:") || !strings.HasPrefix(h8Read(out+"/group"), "root:") {
			t.Errorf("%s: through the volume's links: %q %q", ctr, h8Read(out+"/passwd"), h8Read(out+"/group"))
		}
		// Into the container through the same links: the container has
		// no such directory, so the copy fails, or lands inside it.
		for _, p := range []string{"/esc/x", "/rel/x", "/data/esc/x", "/secretlink", "/data/up" + hostDir + "/x"} {
			r := s.run("cp", src, ctr+":"+p)
			t.Logf("%s: cp to %s: exit %d %s", ctr, p, r.exit, strings.TrimSpace(r.stderr))
		}
		s.mustRun("cp", src, ctr+":/data/etc/from-volume-link")
	}
	entries, _ := os.ReadDir(hostDir)
	if len(entries) != 1 || h8Read(filepath.Join(hostDir, "secret")) != "host secret\n" {
		t.Errorf("the host directory changed: %v", entries)
	}
	// The copies through the volume's link to /etc landed in each
	// container's /etc (the volume holds a symlink there, to the host's
	// /etc from the host's point of view: untouched).
	if got := s.mustRun("exec", running, "cat", "/etc/from-volume-link"); got != "payload" {
		t.Errorf("through /data/etc: %q", got)
	}
	out := t.TempDir()
	s.mustRun("cp", exited+":/etc/from-volume-link", out+"/fv")
	if got := h8Read(out + "/fv"); got != "payload\n" {
		t.Errorf("through /data/etc of a stopped container: %q", got)
	}
	if _, err := os.Lstat("/etc/from-volume-link"); err == nil {
		t.Errorf("cp wrote /etc/from-volume-link on the host")
	}
	// The secret link itself is the container's: copying it somewhere the
	// container has that path gives the container's file.
	s.mustRun("exec", running, "sh", "-c", "mkdir -p "+hostDir+" && echo container file >"+hostDir+"/secret")
	s.mustRun("cp", running+":/secretlink", out+"/got")
	if got := h8Read(out + "/got"); got != "container file\n" {
		t.Errorf("a link to a host path read %q", got)
	}
}

// TestH8CpOverwrite: a file and a directory do not replace each other
// unless --overwrite, between host and container either way and between
// containers (podman's "cp --overwrite" tests).
func TestH8CpOverwrite(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctrfile, ctrdir := s.name("file"), s.name("dir")
	s.runDetached(ctrfile, busybox, "sh", "-c", "echo file content >/tmp/foo && sleep 100")
	s.runDetached(ctrdir, busybox, "sh", "-c", "mkdir /tmp/foo && echo dir content >/tmp/foo/file.txt && sleep 100")
	reset := func() {
		s.mustRun("exec", ctrfile, "sh", "-c", "rm -rf /tmp/foo && echo file content >/tmp/foo")
		s.mustRun("exec", ctrdir, "sh", "-c", "rm -rf /tmp/foo && mkdir /tmp/foo && echo dir content >/tmp/foo/file.txt")
	}
	conflict := func(r result, shown string) {
		t.Helper()
		s.expectExit(r, 125)
		if !strings.Contains(r.stderr, ` error creating "`+shown+`": `) || !strings.Contains(r.stderr, ": file exists") {
			t.Errorf("want podman's error creating %q ... file exists:\n%s", shown, r)
		}
	}

	// Container to container.
	conflict(s.run("cp", ctrfile+":/tmp/foo", ctrdir+":/tmp"), "/tmp/foo")
	if got := s.mustRun("exec", ctrdir, "cat", "/tmp/foo/file.txt"); got != "dir content" {
		t.Errorf("the refused copy changed the directory: %q", got)
	}
	s.mustRun("cp", "--overwrite", ctrfile+":/tmp/foo", ctrdir+":/tmp")
	if got := s.mustRun("exec", ctrdir, "cat", "/tmp/foo"); got != "file content" {
		t.Errorf("file over directory: %q", got)
	}
	reset()
	conflict(s.run("cp", ctrdir+":/tmp/foo", ctrfile+":/tmp"), "/tmp/foo")
	s.mustRun("cp", "--overwrite", ctrdir+":/tmp/foo", ctrfile+":/tmp")
	if got := s.mustRun("exec", ctrfile, "cat", "/tmp/foo/file.txt"); got != "dir content" {
		t.Errorf("directory over file: %q", got)
	}
	reset()

	// Container to host: podman names the entry inside the directory.
	host := t.TempDir()
	if err := os.Mkdir(filepath.Join(host, "foo"), 0o755); err != nil {
		t.Fatal(err)
	}
	h8Write(t, filepath.Join(host, "foo", "keep"), "kept")
	conflict(s.run("cp", ctrfile+":/tmp/foo", host), "/foo")
	if got := h8Read(filepath.Join(host, "foo", "keep")); got != "kept" {
		t.Errorf("the refused copy changed the host directory: %q", got)
	}
	s.mustRun("cp", "--overwrite", ctrfile+":/tmp/foo", host)
	if got := h8Read(filepath.Join(host, "foo")); got != "file content\n" {
		t.Errorf("file over host directory: %q", got)
	}
	conflict(s.run("cp", ctrdir+":/tmp/foo", host), "/foo")
	s.mustRun("cp", "--overwrite", ctrdir+":/tmp/foo", host)
	if got := h8Read(filepath.Join(host, "foo", "file.txt")); got != "dir content\n" {
		t.Errorf("directory over host file: %q", got)
	}

	// Host to container.
	hostfile := filepath.Join(t.TempDir(), "foo")
	h8Write(t, hostfile, "host file\n")
	conflict(s.run("cp", hostfile, ctrdir+":/tmp"), "/tmp/foo")
	s.mustRun("cp", "--overwrite", hostfile, ctrdir+":/tmp")
	if got := s.mustRun("exec", ctrdir, "cat", "/tmp/foo"); got != "host file" {
		t.Errorf("host file over directory: %q", got)
	}
	conflict(s.run("cp", filepath.Join(host, "foo"), ctrfile+":/tmp"), "/tmp/foo")
	s.mustRun("cp", "--overwrite", filepath.Join(host, "foo"), ctrfile+":/tmp")
	if got := s.mustRun("exec", ctrfile, "cat", "/tmp/foo/file.txt"); got != "dir content" {
		t.Errorf("host directory over file: %q", got)
	}
	// A file over a file and a directory into a directory need nothing.
	s.mustRun("cp", hostfile, ctrdir+":/tmp")
	s.mustRun("cp", filepath.Join(host, "foo"), ctrfile+":/tmp")
}

// TestH8CpErrors: podman's messages and exit code 125 for what cannot be
// copied.
func TestH8CpErrors(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.runDetached(ctr, busybox, "sleep", "100")
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	h8Write(t, file, "x")
	missing := filepath.Join(dir, "IdoNotExist")
	// Neither a directory nor a regular file, like /dev/stdout on a pipe
	// (made here: a cp that wrongly replaced it must not hurt the host, as
	// it would /dev/null).
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	nosuch := s.name("nosuch")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{missing, ctr + ":/tmp"}, `Error: "` + missing + `" could not be found on the host: no such file or directory`},
		{[]string{file, ctr + ":/IdoNotExist/"}, `Error: "/IdoNotExist/" could not be found on container ` + ctr + ": no such file or directory"},
		{[]string{file, ctr + ":/IdoNotExist/file"}, `Error: "/IdoNotExist/file" could not be found on container ` + ctr + ": no such file or directory"},
		{[]string{file, ctr + ":/etc/passwd/"}, `Error: "/etc/passwd/" could not be found on container ` + ctr + ": not a directory"},
		{[]string{ctr + ":/IdoNotExist", dir}, `Error: "/IdoNotExist" could not be found on container ` + ctr + ": no such file or directory"},
		{[]string{ctr + ":/etc/passwd/.", dir}, `Error: "/etc/passwd/." could not be found on container ` + ctr + ": not a directory"},
		{[]string{ctr + ":/etc/passwd", missing + "/"}, `Error: "` + missing + `/" could not be found on the host: no such file or directory`},
		{[]string{ctr + ":/etc/passwd", missing + "/deeper"}, `Error: "` + missing + `/deeper" could not be found on the host: no such file or directory`},
		{[]string{ctr + ":/etc/passwd", fifo}, `Error: invalid destination: "` + fifo + `" must be a directory or a regular file`},
		{[]string{dir, ctr + ":/etc/passwd"}, "Error: destination must be a directory when copying a directory"},
		{[]string{ctr + ":/etc", file}, "Error: destination must be a directory when copying a directory"},
		{[]string{file, nosuch + ":/tmp"}, `Error: container "` + nosuch + `" does not exist`},
		{[]string{nosuch + ":/tmp", dir}, `Error: container "` + nosuch + `" does not exist`},
		{[]string{nosuch + ":/tmp", ctr + ":/tmp"}, `Error: container "` + nosuch + `" does not exist`},
		{[]string{ctr + ":/tmp", nosuch + ":/tmp"}, `Error: container "` + nosuch + `" does not exist`},
		{[]string{ctr + ":/tmp/*", dir}, `Error: "/tmp/*" could not be found on container ` + ctr + ": no such file or directory"},
		{[]string{file, dir}, "Error: name or ID cannot be empty"},
		{[]string{ctr + ":", dir}, "Error: invalid arguments"},
	} {
		r := s.run(append([]string{"cp"}, c.args...)...)
		s.expectExit(r, 125)
		if !strings.HasPrefix(strings.TrimSpace(r.stderr), c.want) {
			t.Errorf("cp %v: want %q:\n%s", c.args, c.want, r)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed copies wrote on the host: %v", entries)
	}
	if got := h8Read(file); got != "x" {
		t.Errorf("a failed copy changed %s: %q", file, got)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the fifo was replaced: %v %v", fi, err)
	}
}

// TestH8CpStreams: "-" is a tar stream: from stdin (compressed or not) into
// a directory only, and only a tar archive; to stdout, a file or a
// directory.
func TestH8CpStreams(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.runDetached(ctr, busybox, "sleep", "100")
	data := tarOf(t,
		&tar.Header{Typeflag: tar.TypeDir, Name: "srcdir/", Mode: 0o755}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "srcdir/file", Uid: 1042, Gid: 1043}, "in the archive\n",
	)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tarFile := filepath.Join(t.TempDir(), "archive.tar.gz")
	h8Write(t, tarFile, gz.String())

	// Gzip is detected; -a=false keeps the archive's owners.
	s.expectExit(s.runWithStdin(bytes.NewReader(gz.Bytes()), "cp", "-a=false", "-", ctr+":/tmp"), 0)
	if got := s.mustRun("exec", ctr, "stat", "-c", "%u:%g", "/tmp/srcdir/file"); got != "1042:1043" {
		t.Errorf("-a=false from stdin: %q", got)
	}
	s.mustRun("exec", ctr, "rm", "-rf", "/tmp/srcdir")
	// An archive file as stdin, through /dev/stdin too (copied as a file).
	f, err := os.Open(tarFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s.expectExit(s.runWithStdin(f, "cp", "-", ctr+":/tmp"), 0)
	if got := s.mustRun("exec", ctr, "sh", "-c", "cat /tmp/srcdir/file && stat -c %u:%g /tmp/srcdir/file"); got != "in the archive\n0:0" {
		t.Errorf("a gzip file on stdin: %q", got)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	s.expectExit(s.runWithStdin(f, "cp", "/dev/stdin", ctr+":/tmp"), 0)

	// Errors, in podman's order: the destination first, then the input.
	s.mustRun("exec", ctr, "touch", "/tmp/file.txt")
	for _, c := range []struct {
		input []byte
		dest  string
		want  string
	}{
		{[]byte("not an archive\n"), "/tmp", "Error: source must be a (compressed) tar archive when copying from stdin"},
		{nil, "/tmp", "Error: source must be a (compressed) tar archive when copying from stdin"},
		{gz.Bytes(), "/tmp/file.txt", "Error: destination must be a directory when copying from stdin"},
		{gz.Bytes(), "/tmp/IdoNotExist", "Error: destination must be a directory when copying from stdin"},
		{[]byte("not an archive\n"), "/tmp/IdoNotExist", "Error: destination must be a directory when copying from stdin"},
		{gz.Bytes(), "/IdoNotExist/", `Error: "/IdoNotExist/" could not be found on container ` + ctr + ": no such file or directory"},
	} {
		r := s.runWithStdin(bytes.NewReader(c.input), "cp", "-", ctr+":"+c.dest)
		s.expectExit(r, 125)
		if strings.TrimSpace(r.stderr) != c.want {
			t.Errorf("cp - %s with %d bytes: want %q:\n%s", c.dest, len(c.input), c.want, r)
		}
	}
	// A non-archive file as stdin is refused as well.
	notTar := filepath.Join(t.TempDir(), "plain")
	h8Write(t, notTar, strings.Repeat("plain text\n", 100))
	pf, err := os.Open(notTar)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	r := s.runWithStdin(pf, "cp", "-", ctr+":/tmp")
	s.expectError(r, "source must be a (compressed) tar archive when copying from stdin")

	// To stdout: a file, a directory (empty files too), "dir/." its content.
	s.mustRun("exec", ctr, "sh", "-c", "mkdir /tmp/out && echo content >/tmp/out/file.txt && touch /tmp/out/empty.txt")
	r = s.run("cp", ctr+":/tmp/out/file.txt", "-")
	s.expectExit(r, 0)
	if got := tarNames(t, []byte(r.stdout)); strings.Join(got, " ") != "file.txt" {
		t.Errorf("a file to stdout: %v", got)
	}
	r = s.run("cp", ctr+":/tmp/out", "-")
	s.expectExit(r, 0)
	if got := tarNames(t, []byte(r.stdout)); strings.Join(got, " ") != "out/ out/empty.txt out/file.txt" {
		t.Errorf("a directory to stdout: %v", got)
	}
	r = s.run("cp", ctr+":/tmp/out/.", "-")
	if got := tarNames(t, []byte(r.stdout)); strings.Join(got, " ") != "empty.txt file.txt" {
		t.Errorf("dir/. to stdout: %v", got)
	}
}

// TestH8CpMounts: copies into a created container's volumes, bind mounts
// and tmpfs land where the started container sees them: a volume mounted
// inside another gets the file, not the outer one; a tmpfs gets it when
// the container starts.
func TestH8CpMounts(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	src := filepath.Join(t.TempDir(), "hostfile")
	h8Write(t, src, "in the mount\n")
	vol1, vol2, vol3 := s.name("v1"), s.name("v2"), s.name("v3")
	bind := t.TempDir()
	// A bound file whose name on the host differs from the container's.
	bound := filepath.Join(t.TempDir(), "bound.conf")
	h8Write(t, bound, "old\n")
	for _, v := range []string{vol1, vol2, vol3} {
		s.mustRun("volume", "create", v)
	}
	ctr := s.name("created")
	s.mustRun("create", "--name", ctr, "--network", "none", "-v", vol1+":/tmp/volume", "-v", vol2+":/tmp/volume/sub-volume",
		"-v", vol3+":/srv/a/b", "-v", bind+":/tmp/volume/mount", "-v", bound+":/etc/app.conf", "--mount", "type=tmpfs,dst=/home", busybox, "sleep", "100")
	s.mustRun("cp", src, ctr+":/tmp/volume/sub-volume")
	s.mustRun("cp", src, ctr+":/tmp/volume/mount/")
	// /srv and /srv/a are not in the image: the runtime makes them for the
	// mount, and so may the copy.
	s.mustRun("cp", src, ctr+":/srv/a/b/deep")
	s.mustRun("cp", src, ctr+":/home")
	s.mustRun("cp", src, ctr+":/etc/app.conf")
	if got := h8Read(bound); got != "in the mount\n" {
		t.Errorf("bound file: %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Dir(bound)); len(entries) != 1 {
		t.Errorf("the copy to a bound file made %v", entries)
	}
	if got := h8Read(filepath.Join(s.volumeInspect(vol2).Mountpoint, "hostfile")); got != "in the mount\n" {
		t.Errorf("volume in a volume: %q", got)
	}
	if entries, _ := os.ReadDir(s.volumeInspect(vol1).Mountpoint); len(entries) != 0 {
		t.Errorf("the outer volume got %v", entries)
	}
	if got := h8Read(filepath.Join(bind, "hostfile")); got != "in the mount\n" {
		t.Errorf("bind mount in a volume: %q", got)
	}
	if got := h8Read(filepath.Join(s.volumeInspect(vol3).Mountpoint, "deep")); got != "in the mount\n" {
		t.Errorf("volume below missing directories: %q", got)
	}
	s.mustRun("start", ctr)
	s.waitStatus(ctr, "running")
	if got := s.mustRun("exec", ctr, "cat", "/tmp/volume/sub-volume/hostfile", "/tmp/volume/mount/hostfile", "/srv/a/b/deep", "/home/hostfile", "/etc/app.conf"); got != strings.TrimSpace(strings.Repeat("in the mount\n", 5)) {
		t.Errorf("the started container sees %q", got)
	}
	// Running: the copy goes through the container's own mounts.
	s.mustRun("cp", src, ctr+":/home/second")
	s.mustRun("cp", src, ctr+":/tmp/volume/second")
	if got := h8Read(filepath.Join(s.volumeInspect(vol1).Mountpoint, "second")); got != "in the mount\n" {
		t.Errorf("running container's volume: %q", got)
	}
	// A running container's mount points are not replaced from outside
	// (that would detach the mounts): podman's "device or resource busy".
	mnt := filepath.Join(t.TempDir(), "mount")
	h8Write(t, mnt, "a file named as the mount point\n")
	s.expectError(s.run("cp", src, ctr+":/etc/app.conf"), `error creating "/etc/app.conf": unlinkat /etc/app.conf: device or resource busy`)
	s.expectError(s.run("cp", "--overwrite", mnt, ctr+":/tmp/volume"), `error creating "/tmp/volume/mount": unlinkat /tmp/volume/mount: device or resource busy`)
	if got := s.mustRun("exec", ctr, "sh", "-c", "cat /etc/app.conf /tmp/volume/mount/hostfile"); got != "in the mount\nin the mount" {
		t.Errorf("the mounts changed: %q", got)
	}
	// Exited: the tmpfs is gone, the volume keeps the file.
	s.mustRun("stop", "-t", "0", ctr)
	out := t.TempDir()
	s.mustRun("cp", ctr+":/tmp/volume/sub-volume/hostfile", out)
	if got := h8Read(filepath.Join(out, "hostfile")); got != "in the mount\n" {
		t.Errorf("out of an exited container's volume: %q", got)
	}
}

// TestH8CpOwnership: --archive (the default) gives a copy into a
// container to the container's user; copies to the host belong to the
// caller.
func TestH8CpOwnership(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.runDetached(ctr, "--user", "1234:5678", busybox, "sleep", "100")
	src := filepath.Join(t.TempDir(), "hostfile")
	h8Write(t, src, "x")
	if err := os.Chown(src, 42, 43); err != nil {
		t.Fatal(err)
	}
	s.mustRun("cp", src, ctr+":/tmp/hostfile")
	s.mustRun("cp", "-a=false", src, ctr+":/tmp/kept")
	if got := s.mustRun("exec", ctr, "stat", "-c", "%u:%g", "/tmp/hostfile", "/tmp/kept"); got != "1234:5678\n42:43" {
		t.Errorf("owners in the container: %q", got)
	}
	out := t.TempDir()
	s.mustRun("cp", ctr+":/tmp/kept", out)
	checkOwner(t, filepath.Join(out, "kept"), uint32(os.Getuid()), uint32(os.Getgid()))
}
