package e2e

// Layers pulled from a registry are unpacked in servin's own process,
// confined to the layer's directory. These tests push hand-made layers
// straight to the registry's HTTP API and check what a pull makes of them.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// tarEntry is one entry of a hand-made layer.
type tarEntry struct {
	name, data, link string
	typ              byte
}

func makeLayer(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		switch e.typ {
		case tar.TypeDir:
			h.Mode = 0o755
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pushRaw stores an OCI image of uncompressed layers in the registry as
// repo:tag, through the distribution API (monolithic blob uploads).
func pushRaw(t *testing.T, reg *regServer, repo, tag string, layers ...[]byte) {
	t.Helper()
	upload := func(data []byte) {
		t.Helper()
		resp, err := http.Post("http://"+reg.addr+"/v2/"+repo+"/blobs/uploads/", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusAccepted || loc == "" {
			t.Fatalf("starting a blob upload: %s", resp.Status)
		}
		if !strings.HasPrefix(loc, "http") {
			loc = "http://" + reg.addr + loc
		}
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+sha(data), bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("uploading a blob: %s", resp.Status)
		}
	}
	var diffIDs []string
	var descs []map[string]any
	for _, l := range layers {
		upload(l)
		diffIDs = append(diffIDs, sha(l))
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(l), "size": len(l)})
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Cmd": []string{"/bin/sh"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	upload(config)
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
		"layers":        descs,
	})
	req, _ := http.NewRequest(http.MethodPut, "http://"+reg.addr+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(manifest))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("putting the manifest: %s", resp.Status)
	}
}

// listTree lists the files under dir as relative paths, directories with
// a trailing slash.
func listTree(dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

// TestH7PullWhiteouts: deletions in upper layers (whiteout files and
// opaque directories) hide what lower layers hold, in a pulled image.
func TestH7PullWhiteouts(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	reg := startRegistry(t, s)
	base := makeLayer(t,
		tarEntry{name: "d/", typ: tar.TypeDir},
		tarEntry{name: "d/gone", data: "lower\n", typ: tar.TypeReg},
		tarEntry{name: "d/kept", data: "lower\n", typ: tar.TypeReg},
		tarEntry{name: "o/", typ: tar.TypeDir},
		tarEntry{name: "o/old", data: "lower\n", typ: tar.TypeReg},
		tarEntry{name: "hard", data: "linked\n", typ: tar.TypeReg},
		tarEntry{name: "hardlink", link: "hard", typ: tar.TypeLink},
		tarEntry{name: "sym", link: "d/kept", typ: tar.TypeSymlink},
	)
	upper := makeLayer(t,
		tarEntry{name: "d/", typ: tar.TypeDir},
		tarEntry{name: "d/.wh.gone", typ: tar.TypeReg},
		tarEntry{name: "o/", typ: tar.TypeDir},
		tarEntry{name: "o/.wh..wh..opq", typ: tar.TypeReg},
		tarEntry{name: "o/new", data: "upper\n", typ: tar.TypeReg},
	)
	pushRaw(t, reg, "raw/whiteouts", "1", base, upper)
	ref := reg.ref("raw/whiteouts:1")
	s.mustRun("pull", "-q", "--tls-verify=false", ref)
	mnt := s.mustRun("image", "mount", ref)
	defer s.run("image", "unmount", ref)
	got := strings.Join(listTree(mnt), " ")
	want := "d/ d/kept hard hardlink o/ o/new sym"
	if got != want {
		t.Errorf("pulled image's files:\n got %s\nwant %s", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(mnt, "sym")); err != nil || string(data) != "lower\n" {
		t.Errorf("symlink in the pulled image reads %q, %v", data, err)
	}
	a, errA := os.Stat(filepath.Join(mnt, "hard"))
	b, errB := os.Stat(filepath.Join(mnt, "hardlink"))
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("hard link in the pulled image is not one file: %v %v", errA, errB)
	}
}

// TestH7PullLayerConfined: a layer cannot write outside its own directory,
// neither by "../" names nor through symlinks it plants (absolute or
// relative) and then writes through.
func TestH7PullLayerConfined(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	reg := startRegistry(t, s)
	outside := t.TempDir() // the host directory the layers aim at
	up := strings.Repeat("../", 30)
	cases := []struct {
		name   string
		layer  []byte
		refuse string // the entry named in the error, or "" when accepted
	}{
		{"dotdot", makeLayer(t, tarEntry{name: up + strings.TrimPrefix(outside, "/") + "/dotdot", data: "x", typ: tar.TypeReg}), "dotdot"},
		{"hardlink-out", makeLayer(t, tarEntry{name: "h", link: up + "etc/passwd", typ: tar.TypeLink}), "etc/passwd"},
		{"absolute", makeLayer(t, tarEntry{name: outside + "/abs", data: "x", typ: tar.TypeReg}), outside + "/abs"},
		// Symlinks to absolute or climbing paths are ordinary in images
		// (/etc/localtime); writing through them stays inside the layer.
		{"abs-symlink", makeLayer(t,
			tarEntry{name: "link", link: outside, typ: tar.TypeSymlink},
			tarEntry{name: "link/pwned-abs", data: "x", typ: tar.TypeReg}), ""},
		{"rel-symlink", makeLayer(t,
			tarEntry{name: "rlink", link: up + strings.TrimPrefix(outside, "/"), typ: tar.TypeSymlink},
			tarEntry{name: "rlink/pwned-rel", data: "x", typ: tar.TypeReg}), ""},
	}
	accepted := 0
	for _, c := range cases {
		ref := reg.ref("raw/" + c.name + ":1")
		pushRaw(t, reg, "raw/"+c.name, "1", c.layer)
		r := s.run("pull", "-q", "--tls-verify=false", ref)
		if c.refuse != "" {
			s.expectExit(r, 125)
			if !strings.Contains(r.stderr, c.refuse) {
				t.Errorf("%s: the error does not name the entry %q: %s", c.name, c.refuse, r.stderr)
			}
			if s.run("image", "exists", ref).exit == 0 {
				t.Errorf("%s: a refused image was stored", c.name)
			}
		} else {
			s.expectExit(r, 0)
			accepted++
			mnt := s.mustRun("image", "mount", ref)
			files := strings.Join(listTree(mnt), " ")
			s.run("image", "unmount", ref)
			if !strings.Contains(files, "pwned") {
				t.Errorf("%s: the file written through the symlink is not in the image: %s", c.name, files)
			}
		}
		if files := listTree(outside); len(files) != 0 {
			t.Fatalf("%s: a pulled layer wrote outside the store: %v", c.name, files)
		}
	}
	// Refused pulls leave nothing half-stored.
	if n := storedLayers(t, s); n != accepted {
		t.Errorf("%d layers stored, want %d: refused layers were kept", n, accepted)
	}
}

// TestH7ManifestListAsImage: as in podman, a manifest list has an image
// ID (printed by `manifest create`), is shown by `images`, exists as an
// image and is removed by rmi (podman's 012-manifest "bare manifest list").
func TestH7ManifestListAsImage(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()
	iid := s.inspect(busybox, "{{.ID}}")
	name := s.name("m") + ":1.0"
	mid := s.mustRun("manifest", "create", name)
	if !hexID.MatchString(mid) {
		t.Fatalf("manifest create printed %q, want an ID", mid)
	}
	for _, flag := range []string{"--verbose", "-v"} {
		if out := s.mustRun("manifest", "inspect", flag, mid); !strings.Contains(out, `"schemaVersion": 2`) {
			t.Errorf("manifest inspect %s ID: %s", flag, out)
		}
	}
	ids := s.mustRun("images", "--format", "{{.ID}}", "--no-trunc")
	for _, want := range []string{"sha256:" + iid, "sha256:" + mid} {
		if !strings.Contains(ids, want) {
			t.Errorf("images lacks %s:\n%s", want, ids)
		}
	}
	if out := s.mustRun("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, "localhost/"+name) {
		t.Errorf("images lacks the list's name:\n%s", out)
	}
	s.expectExit(s.run("image", "exists", name), 0)
	out := s.mustRun("rmi", name)
	if !strings.Contains(out, "Untagged: localhost/"+name) || !strings.Contains(out, "Deleted: "+mid) {
		t.Errorf("rmi of the list printed %q", out)
	}
	s.expectExit(s.run("manifest", "exists", name), 1)
	s.expectExit(s.run("image", "exists", name), 1)
	s.expectExit(s.run("rmi", name), 1)
	if ids := s.mustRun("images", "-q", "--no-trunc"); strings.Contains(ids, mid) {
		t.Errorf("the removed list is still listed: %s", ids)
	}
}
