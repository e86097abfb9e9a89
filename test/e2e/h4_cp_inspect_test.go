package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCpBetweenContainers copies CTR1:SRC CTR2:DST in every combination of
// running and stopped containers, with the rules of the host copies:
// directories land under their name, "dir/." copies the content, the
// default gives the copy to the destination's user and --archive=false
// keeps the owners; paths resolve inside each container.
func TestCpBetweenContainers(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	src, src2 := s.name("src"), s.name("src2")
	user, vol := s.name("user"), s.name("vol")
	s.runDetached(src, busybox, "sleep", "100")
	s.mustRun("exec", src, "sh", "-c",
		"mkdir -p /tree/sub && echo one >/tree/a && echo two >/tree/sub/b && chown 123:456 /tree/a && chmod 600 /tree/a && ln -s /etc/passwd /tree/link")
	// A stopped source: the tree is in its root filesystem.
	s.mustRun("run", "--name", src2, busybox, "sh", "-c", "mkdir /from-stopped && echo three >/from-stopped/c")
	// A stopped destination with a user of its own and a volume.
	s.mustRun("create", "--name", user, "--user", "1000:1001", "-v", vol+":/data", busybox, "true")

	out := func(ctr, p string) string {
		t.Helper()
		dir := t.TempDir()
		s.mustRun("cp", ctr+":"+p, dir)
		return filepath.Join(dir, filepath.Base(p))
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}

	// running -> stopped: the copy belongs to the destination's user.
	s.mustRun("cp", src+":/tree", user+":/tmp")
	got := out(user, "/tmp/tree")
	if read(filepath.Join(got, "a")) != "one\n" || read(filepath.Join(got, "sub", "b")) != "two\n" {
		t.Errorf("running -> stopped: wrong content in %s", got)
	}
	// The owners in the container show in a tar stream of it.
	if owners := tarOwners(t, s.run("cp", user+":/tmp/tree/a", "-")); owners != "a 1000:1001" {
		t.Errorf("running -> stopped: a owned as %q", owners)
	}
	if owners := tarOwners(t, s.run("cp", user+":/tmp/tree/sub", "-")); owners != "sub/ 1000:1001\nsub/b 1000:1001" {
		t.Errorf("running -> stopped: sub owned as %q", owners)
	}
	if l, err := os.Readlink(filepath.Join(got, "link")); err != nil || l != "/etc/passwd" {
		t.Errorf("symlink copied as %q %v", l, err)
	}
	// --archive=false keeps the owners and modes of the source.
	s.mustRun("cp", "--archive=false", src+":/tree/a", user+":/kept")
	got = out(user, "/kept")
	if owners := tarOwners(t, s.run("cp", user+":/kept", "-")); owners != "kept 123:456" {
		t.Errorf("--archive=false: kept owned as %q", owners)
	}
	if fi, err := os.Stat(got); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode not kept: %v %v", fi, err)
	}
	// "dir/." into a stopped container's volume: its host directory.
	s.mustRun("cp", src+":/tree/sub/.", user+":/data")
	if b, err := os.ReadFile(filepath.Join(s.volumeInspect(vol).Mountpoint, "b")); err != nil || string(b) != "two\n" {
		t.Errorf("copy into the volume: %q %v", b, err)
	}
	// stopped -> running, to a new name.
	s.mustRun("cp", src2+":/from-stopped", src+":/renamed")
	if got := s.mustRun("exec", src, "cat", "/renamed/c"); got != "three" {
		t.Errorf("stopped -> running: %q", got)
	}
	// stopped -> stopped, and within one container.
	s.mustRun("cp", src2+":/from-stopped/c", user+":/c-file")
	if got := read(out(user, "/c-file")); got != "three\n" {
		t.Errorf("stopped -> stopped: %q", got)
	}
	s.mustRun("cp", src+":/tree/a", src+":/tmp/a-copy")
	if got := s.mustRun("exec", src, "cat", "/tmp/a-copy"); got != "one" {
		t.Errorf("within one container: %q", got)
	}

	// Errors, as for host copies; two host paths is podman's error.
	s.expectError(s.run("cp", "/etc/hostname", filepath.Join(t.TempDir(), "x")), "name or ID cannot be empty")
	s.expectError(s.run("cp", src+":/nosuchfile", user+":/tmp"), "nosuchfile")
	s.expectError(s.run("cp", src+":/tree", s.name("nosuch")+":/tmp"), `container "`+s.name("nosuch")+`" does not exist`)
	s.expectError(s.run("cp", s.name("nosuch")+":/tree", user+":/tmp"), `container "`+s.name("nosuch")+`" does not exist`)
	s.expectError(s.run("cp", src+":/tree", user+":/no/such/dir"), "no such file or directory")
	s.expectError(s.run("cp", src+":/tree", user+":/c-file"), "destination must be a directory when copying a directory")
}

// TestCpBetweenContainersSafety: neither container's symlinks lead the copy
// to host files, and a read-only destination is refused.
func TestCpBetweenContainersSafety(t *testing.T) {
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
	a, b, ro := s.name("a"), s.name("b"), s.name("ro")
	s.runDetached(a, busybox, "sleep", "100")
	s.runDetached(b, busybox, "sleep", "100")
	s.mustRun("exec", a, "sh", "-c", "echo payload >/payload && ln -s "+secret+" /secretlink")
	s.mustRun("exec", b, "sh", "-c", "mkdir -p "+hostDir+" && ln -s "+hostDir+" /abs && ln -s "+hostDir+"/victim /victimlink")
	for _, dst := range []string{"/abs/x", "/abs/", "/victimlink"} {
		r := s.run("cp", a+":/payload", b+":"+dst)
		t.Logf("cp to %s: exit %d %s", dst, r.exit, strings.TrimSpace(r.stderr))
	}
	// -L follows the source link inside the source container: there is
	// no such file there, and the host's is never read.
	r := s.run("cp", "-L", a+":/secretlink", b+":/got")
	if r.exit == 0 {
		if got := s.run("exec", b, "cat", "/got"); strings.Contains(got.stdout, "host secret") {
			t.Errorf("cp -L read a host file through a container symlink")
		}
	}
	entries, _ := os.ReadDir(hostDir)
	for _, e := range entries {
		if e.Name() != "victim" && e.Name() != "secret" {
			t.Errorf("cp wrote %s on the host", filepath.Join(hostDir, e.Name()))
		}
	}
	if data, _ := os.ReadFile(filepath.Join(hostDir, "victim")); string(data) != "original" {
		t.Errorf("host file changed to %q", data)
	}
	// The copies through b's symlinks landed inside b.
	if got := s.mustRun("exec", b, "cat", hostDir+"/x"); got != "payload" {
		t.Errorf("copy through an absolute symlink: %q", got)
	}
	s.mustRun("create", "--name", ro, "--read-only", busybox, "true")
	r = s.run("cp", a+":/payload", ro+":/etc/x")
	s.expectExit(r, 125)
	if !strings.Contains(strings.ToLower(r.stderr), "read-only") {
		t.Errorf("cp into a read-only root filesystem: %s", r)
	}
}

// TestInspectAnyObject: inspect without --type finds containers, images,
// volumes and networks, in podman's order; --type narrows the lookup; a
// name that matches nothing is podman's error.
func TestInspectAnyObject(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	vol, ctr, shared := s.name("vol"), s.name("ctr"), s.name("shared")
	s.mustRun("volume", "create", "--label", "k=v", vol)
	net := s.netCreate("net")
	s.mustRun("create", "--name", ctr, busybox, "true")

	// A volume: the same document as volume inspect.
	var viaInspect, viaVolume []map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("inspect", vol)), &viaInspect); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(s.mustRun("volume", "inspect", vol)), &viaVolume); err != nil {
		t.Fatal(err)
	}
	if len(viaInspect) != 1 || viaInspect[0]["Name"] != vol || viaInspect[0]["Driver"] != "local" || viaInspect[0]["Mountpoint"] == "" {
		t.Errorf("inspect of a volume: %v", viaInspect)
	}
	if a, b := jsonText(t, viaInspect), jsonText(t, viaVolume); a != b {
		t.Errorf("inspect and volume inspect differ:\n%s\n%s", a, b)
	}
	if got := s.mustRun("inspect", "--format", "{{.Name}} {{.Labels.k}}", vol); got != vol+" v" {
		t.Errorf("inspect --format of a volume: %q", got)
	}
	// A network.
	var nets []map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("inspect", net)), &nets); err != nil {
		t.Fatal(err)
	}
	if len(nets) != 1 || nets[0]["name"] != net || nets[0]["driver"] != "bridge" {
		t.Errorf("inspect of a network: %v", nets)
	}
	if got := s.mustRun("inspect", "--type", "network", "--format", "{{.Name}}", net); got != net {
		t.Errorf("inspect --type network: %q", got)
	}
	// Containers come first, then images, volumes, networks.
	s.mustRun("volume", "create", shared)
	s.mustRun("create", "--name", shared, busybox, "true")
	if got := s.mustRun("inspect", "--format", "{{.State.Status}}", shared); got != "created" {
		t.Errorf("a name of a container and a volume found %q, want the container", got)
	}
	if got := s.mustRun("inspect", "--type", "volume", "--format", "{{.Driver}}", shared); got != "local" {
		t.Errorf("--type volume: %q", got)
	}
	// Several kinds at once, in the order asked.
	var mixed []map[string]any
	r := s.run("inspect", ctr, busybox, vol, net)
	s.expectExit(r, 0)
	if err := json.Unmarshal([]byte(r.stdout), &mixed); err != nil || len(mixed) != 4 {
		t.Fatalf("inspect of four kinds: %v %v", err, r)
	}
	if mixed[0]["Name"] != ctr || mixed[1]["RepoTags"] == nil || mixed[2]["Name"] != vol || mixed[3]["name"] != net {
		t.Errorf("inspect of four kinds: %v", mixed)
	}

	// --type narrows the lookup: each kind misses the others.
	for typ, name := range map[string]string{"container": vol, "image": vol, "volume": net, "network": vol} {
		r := s.run("inspect", "--type", typ, name)
		s.expectExit(r, 125)
		if strings.TrimSpace(r.stdout) != "[]" {
			t.Errorf("--type %s %s printed %q", typ, name, r.stdout)
		}
	}
	// Nothing of that name: podman's error, an empty list, exit 125.
	missing := s.name("missing")
	r = s.run("inspect", missing)
	s.expectStderr(r, 125, `Error: no such object: "`+missing+`"`)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("inspect of a missing name printed %q", r.stdout)
	}
	// `container inspect` names the kind, as podman does.
	s.expectStderr(s.run("container", "inspect", missing), 125, `Error: no such container "`+missing+`"`)
	r = s.run("inspect", "--format", "{{.Name}}", vol, missing)
	s.expectError(r, missing)
	if r.out() != vol {
		t.Errorf("the found object is printed before the error: %q", r.stdout)
	}
	s.expectError(s.run("inspect", "--type", "bogus", vol), `invalid type "bogus"`)
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVolumeDriverFlag: run/create --volume-driver names the driver of the
// volumes the container creates; an unknown driver is refused before
// anything is made.
func TestVolumeDriverFlag(t *testing.T) {
	t.Parallel()
	s := newVolumeServin(t)
	vol, ctr := s.name("vol"), s.name("ctr")
	for _, cmd := range []string{"run", "create"} {
		r := s.run(cmd, "--rm", "--volume-driver", "nosuchdriver", "-v", vol+":/data", "-v", "/anon", busybox, "true")
		s.expectError(r, `"nosuchdriver"`)
		s.expectExit(s.run("volume", "exists", vol), 1)
	}
	s.expectError(s.run("create", "--name", ctr, "--volume-driver", "nosuchdriver", busybox, "true"), "nosuchdriver")
	if s.exists(ctr) {
		t.Errorf("a container was created with an unknown volume driver")
	}
	// The known driver makes the named and the anonymous volume.
	s.mustRun("create", "--name", ctr, "--volume-driver", "local", "-v", vol+":/data", "-v", "/anon", busybox, "true")
	if got := s.volumeInspect(vol).Driver; got != "local" {
		t.Errorf("named volume driver %q", got)
	}
	anon := s.inspect(ctr, `{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}`)
	if anon == "" {
		t.Fatalf("no anonymous volume at /anon")
	}
	if got := s.volumeInspect(anon).Driver; got != "local" {
		t.Errorf("anonymous volume driver %q", got)
	}
	// --mount's own volume-driver is checked the same way.
	s.expectError(s.run("run", "--rm", "--mount", "type=volume,source="+s.name("m")+",target=/m,volume-driver=nosuchdriver", busybox, "true"), "nosuchdriver")
}

// TestCpArchiveInPlace: a tar file given as stdin is unpacked in place
// (its data copied by the kernel), a piped one streamed: both give the
// same files, owners, modes and links.
func TestCpArchiveInPlace(t *testing.T) {
	t.Parallel()
	s := newServin(t)
	ctr := s.name("c")
	s.runDetached(ctr, busybox, "sleep", "100")
	big := strings.Repeat("0123456789abcdef", 1<<17) // 2 MiB: more than one read
	data := tarOf(t,
		&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o750, Uid: 5, Gid: 6}, "",
		&tar.Header{Typeflag: tar.TypeReg, Name: "d/small", Mode: 0o640, Uid: 7, Gid: 8}, "small file",
		&tar.Header{Typeflag: tar.TypeReg, Name: "d/big", Mode: 0o600}, big,
		&tar.Header{Typeflag: tar.TypeSymlink, Name: "d/link", Linkname: "small"}, "",
		&tar.Header{Typeflag: tar.TypeLink, Name: "d/hard", Linkname: "d/small"}, "",
	)
	file := filepath.Join(t.TempDir(), "in.tar")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, how := range []string{"file", "pipe"} {
		dst := "/in" + how
		s.mustRun("exec", ctr, "mkdir", dst)
		var r result
		if how == "file" {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			r = s.runWithStdin(f, "cp", "--archive=false", "-", ctr+":"+dst)
			f.Close()
		} else {
			// exec.Cmd copies a non-file reader through a pipe.
			r = s.runWithStdin(bytes.NewReader(data), "cp", "--archive=false", "-", ctr+":"+dst)
		}
		s.expectExit(r, 0)
		got := s.mustRun("exec", ctr, "sh", "-c", "cd "+dst+"/d && stat -c '%n %u:%g %a %h %s' small big hard && stat -c '%u:%g %a' . && readlink link && cat small")
		want := "small 7:8 640 2 10\nbig 0:0 600 1 2097152\nhard 7:8 640 2 10\n5:6 750\nsmall\nsmall file"
		if got != want {
			t.Errorf("%d %s: unpacked as\n%s\nwant\n%s", i, how, got, want)
		}
	}
	out := filepath.Join(t.TempDir(), "big")
	for _, dir := range []string{"/infile", "/inpipe"} {
		s.mustRun("cp", ctr+":"+dir+"/d/big", out)
		if b, err := os.ReadFile(out); err != nil || string(b) != big {
			t.Errorf("%s/d/big: %d bytes, not the archive's data (%v)", dir, len(b), err)
		}
	}
}
