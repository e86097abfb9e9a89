package e2e

// Image command details podman's system tests (010-images, 060-mount,
// 110-history, 120-load) check word for word.

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestH7ImageCompat(t *testing.T) {
	t.Parallel()
	s := newIsolatedServin(t)
	s.importBusybox()

	// rmi --force passes over images that do not exist.
	s.expectExit(s.run("rmi", "--force", "bogus"), 0)
	s.mustRun("tag", busybox, "i_rr")
	if out := s.mustRun("image", "rm", "--force", "bogus", "i_rr"); out != "Untagged: localhost/i_rr:latest" {
		t.Errorf("rmi --force bogus i_rr printed %q", out)
	}

	// A filter without "=".
	s.expectStderr(s.run("image", "list", "-f", "json"), 125, `Error: invalid image filter "json": must be in the format "filter=value or filter!=value"`)

	// --sort repository orders by repository, then tag.
	for _, tag := range []string{"x:2", "x:3", "x:1"} {
		s.mustRun("tag", busybox, tag)
	}
	got := s.mustRun("images", "--sort", "repository", "--format", "{{.Repository}}:{{.Tag}}")
	if !strings.Contains(got, "localhost/x:1\nlocalhost/x:2\nlocalhost/x:3") {
		t.Errorf("images --sort repository:\n%s", got)
	}
	s.expectExit(s.run("images", "--sort", "bogus"), 125)

	// history: podman's JSON keys, and Tags as a list.
	var hist []map[string]any
	if err := json.Unmarshal([]byte(s.mustRun("history", "--format", "json", busybox)), &hist); err != nil || len(hist) == 0 {
		t.Fatalf("history json: %v", err)
	}
	for _, k := range []string{"id", "created", "size", "comment", "CreatedBy"} {
		if _, ok := hist[0][k]; !ok {
			t.Errorf("history json lacks %q: %v", k, hist[0])
		}
	}
	if out := s.mustRun("history", "--format", "{{.Tags}}", busybox); !regexp.MustCompile(`^\[.*\blocalhost/busybox:latest[] ]`).MatchString(out) {
		t.Errorf("history {{.Tags}}: %q", out)
	}

	// load of something that is not an image.
	junk := filepath.Join(t.TempDir(), "junk.tar")
	os.WriteFile(junk, []byte("junk"), 0o644)
	r := s.run("load", "-i", junk)
	s.expectExit(r, 125)
	if !strings.Contains(r.stderr, "payload does not match any of the supported image formats:") {
		t.Errorf("load of junk: %s", r.stderr)
	}

	// A container's exit does not undo a mount made meanwhile (060-mount).
	ctr := s.name("m")
	s.mustRun("run", "--name", ctr, "--network", "none", busybox, "sh", "-c", "echo hello > /tmp/f")
	mp := s.mustRun("mount", ctr)
	s.waitStatus(ctr, "exited")
	if data, err := os.ReadFile(filepath.Join(mp, "tmp/f")); err != nil || string(data) != "hello\n" {
		t.Errorf("mounted root after the container's exit: %q %v", data, err)
	}
	if out := s.mustRun("mount", "--notruncate"); !strings.Contains(out, mp) {
		t.Errorf("mount --notruncate: %q", out)
	}
	s.mustRun("umount", ctr)
	if _, err := os.Stat(filepath.Join(mp, "tmp/f")); err == nil {
		t.Errorf("still mounted after umount")
	}

	// image mount/umount as podman's 060-mount checks them.
	s.mustRun("image", "umount", "-a")
	iid0 := s.inspect(busybox, "{{.ID}}")
	imp := s.mustRun("image", "mount", busybox)
	if out := s.mustRun("image", "mount"); !regexp.MustCompile(`^localhost/\S+ +` + regexp.QuoteMeta(imp) + `$`).MatchString(out) {
		t.Errorf("image mount (list): %q", out)
	}
	if out := s.mustRun("image", "umount", "-f", busybox); out != iid0 {
		t.Errorf("image umount -f printed %q, want %s", out, iid0)
	}
	if out := s.mustRun("image", "umount", busybox); out != "" {
		t.Errorf("image umount of an unmounted image printed %q", out)
	}
	s.expectStderr(s.run("image", "umount", "no-such-image"), 125, "Error: no-such-image: image not known")
	if out := s.mustRun("image", "mount", "-a"); !regexp.MustCompile(`(?m)^localhost/\S+ ` + regexp.QuoteMeta(imp) + `$`).MatchString(out) {
		t.Errorf("image mount -a: %q", out)
	}
	if out := s.mustRun("image", "umount", "-a"); !strings.Contains(out, iid0) {
		t.Errorf("image umount -a: %q", out)
	}
	if out := s.mustRun("image", "mount"); out != "" {
		t.Errorf("image mount after umount -a: %q", out)
	}

	// system df --format '{{json .}}': one compact object per row.
	if out := s.mustRun("system", "df", "--format", "{{json .}}"); !regexp.MustCompile(`(?m)^\{"Type":"Local Volumes".*"Size":"0B"`).MatchString(out) || !strings.Contains(out, `"TotalCount":`) {
		t.Errorf("system df {{json .}}:\n%s", out)
	}

	// save --uncompressed keeps OCI layers as plain tars (120-load).
	oa := filepath.Join(t.TempDir(), "oa.tar")
	s.mustRun("save", "-o", oa, "--format", "oci-archive", "--uncompressed", busybox)
	tarLayers, gzLayers := 0, 0
	f, err := os.Open(oa)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if !strings.HasPrefix(h.Name, "blobs/sha256/") || h.Typeflag != tar.TypeReg {
			continue
		}
		head := make([]byte, 512)
		n, _ := io.ReadFull(tr, head)
		switch {
		case n >= 2 && head[0] == 0x1f && head[1] == 0x8b:
			gzLayers++
		case n == 512 && string(head[257:262]) == "ustar":
			tarLayers++
		}
	}
	f.Close()
	if tarLayers == 0 || gzLayers != 0 {
		t.Errorf("save --uncompressed: %d tar and %d gzip blobs", tarLayers, gzLayers)
	}

	// `container commit`, and the image ID in system df -v's container rows.
	if id := s.mustRun("container", "commit", "-q", ctr); !hexID.MatchString(id) {
		t.Errorf("container commit -q printed %q", id)
	}
	iid := s.inspect(busybox, "{{.ID}}")
	cid := s.inspect(ctr, "{{.ID}}")
	if df := s.mustRun("system", "df", "-v"); !regexp.MustCompile(`(?m)^` + cid[:12] + `\s+` + iid[:12] + `\s`).MatchString(df) {
		t.Errorf("system df -v: no row %s %s:\n%s", cid[:12], iid[:12], df)
	}
}
