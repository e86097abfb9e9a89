// Package testimage builds the small busybox image servin's tests run: a
// root filesystem tarball made from Debian's busybox-static (one static
// binary, no shared libraries), and docker-archive / oci-archive files of it
// for load tests. Nothing here needs root or an image store.
package testimage

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	ociarchive "go.podman.io/image/v5/oci/archive"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/tarball"
	"go.podman.io/image/v5/types"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// Passwd and Group are the image's /etc/passwd and /etc/group.
const (
	Passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	Group  = "root:x:0:\nnobody:x:65534:\nnogroup:x:65534:\n"
)

// mtime is fixed so that the tarball, hence the layer digest, is the same
// on every run.
var mtime = time.Unix(0, 0).UTC()

// RootfsTar writes the busybox root filesystem as an uncompressed tar:
// /bin/busybox with a symlink per applet in /bin (sh, echo, cat, ls, sleep,
// true, false, id, env, top, ps, ...), /usr/bin/env, /etc/passwd and
// /etc/group with root and nobody, /etc/hostname, a world-writable /tmp
// and the mount points a runtime expects.
func RootfsTar(w io.Writer) error {
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return fmt.Errorf("testimage needs busybox-static (apt-get install busybox-static): %w", err)
	}
	applets, err := applets()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	tw := tar.NewWriter(bw)
	for _, d := range []struct {
		name string
		mode int64
	}{
		{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"home", 0o755},
		{"proc", 0o555}, {"root", 0o700}, {"run", 0o755}, {"sys", 0o555},
		{"tmp", 0o1777}, {"usr", 0o755}, {"usr/bin", 0o755}, {"var", 0o755},
	} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name + "/", Mode: d.mode, ModTime: mtime}); err != nil {
			return err
		}
	}
	if err := addFile(tw, "bin/busybox", 0o755, bb); err != nil {
		return err
	}
	for _, a := range applets {
		if err := addSymlink(tw, "bin/"+a, "busybox"); err != nil {
			return err
		}
	}
	if err := addSymlink(tw, "usr/bin/env", "/bin/busybox"); err != nil {
		return err
	}
	for _, f := range []struct{ name, data string }{
		{"etc/group", Group},
		{"etc/hostname", "busybox\n"},
		{"etc/passwd", Passwd},
	} {
		if err := addFile(tw, f.name, 0o644, []byte(f.data)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteRootfsTar writes RootfsTar to a file.
func WriteRootfsTar(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := RootfsTar(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// applets lists busybox's applets, as the binary itself reports them.
func applets() ([]string, error) {
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", BusyboxPath, err)
	}
	var list []string
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return nil, errors.New("busybox lists no applets")
	}
	return list, nil
}

func addFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func addSymlink(tw *tar.Writer, name, target string) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: mtime})
}

// DockerArchive writes a docker-archive (as docker/podman save make) of
// the busybox image to path, tagged name ("busybox:1" is stored as
// docker.io/library/busybox:1); an empty name writes an untagged image.
func DockerArchive(path, name string) error {
	var tag reference.NamedTagged
	if name != "" {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return err
		}
		tag = reference.TagNameOnly(named).(reference.NamedTagged)
	}
	return writeArchive(path, func() (types.ImageReference, error) {
		return dockerarchive.NewReference(path, tag)
	})
}

// OCIArchive writes an oci-archive of the busybox image to path; name, if
// not empty, becomes its org.opencontainers.image.ref.name annotation.
func OCIArchive(path, name string) error {
	return writeArchive(path, func() (types.ImageReference, error) {
		return ociarchive.NewReference(path, name)
	})
}

// writeArchive builds the image from the rootfs tarball with the tarball
// transport and copies it to the destination.
func writeArchive(path string, dest func() (types.ImageReference, error)) error {
	dir, err := os.MkdirTemp("", "testimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := WriteRootfsTar(rootfs); err != nil {
		return err
	}
	src, err := tarball.NewReference([]string{rootfs}, nil)
	if err != nil {
		return err
	}
	created := mtime
	cfg := v1.Image{
		Created: &created,
		Config:  v1.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	}
	if err := src.(tarball.ConfigUpdater).ConfigUpdate(cfg, nil); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dst, err := dest()
	if err != nil {
		return err
	}
	policy, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return err
	}
	defer policy.Destroy()
	sys := &types.SystemContext{BigFilesTemporaryDir: dir, BlobInfoCacheDir: dir}
	_, err = copy.Image(context.Background(), policy, dst, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	return err
}

// Applets returns busybox's applet names (without "busybox"); handy for
// tests that check a command exists in the image.
func Applets() ([]string, error) { return applets() }
