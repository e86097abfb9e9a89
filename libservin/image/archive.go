package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/directory"
	dockerarchive "go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	ocilayout "go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/pkg/compression"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/archive"
)

// Archive formats understood by Load and written by Save.
const (
	FormatDockerArchive = "docker-archive"
	FormatOCIArchive    = "oci-archive"
	FormatOCIDir        = "oci-dir"
	FormatDockerDir     = "docker-dir"
)

// Load stores every image of a docker-archive (docker/podman save) or
// oci-archive file, possibly compressed, and returns what was loaded: the
// images' names, or "sha256:ID" for an image without a name.
//
// docker-archive names come from RepoTags (docker normalization, so
// "busybox:latest" is docker.io/library/busybox:latest). oci-archive names
// come from the org.opencontainers.image.ref.name annotation, normalized
// like podman (a name without registry goes under localhost/). An archive
// that has both a manifest.json and an OCI layout (docker 25+ save) is read
// as docker-archive, whose RepoTags are full names.
func (s *Store) Load(ctx context.Context, path string) ([]string, error) {
	format, err := detectArchive(path)
	if err != nil {
		return nil, err
	}
	sys, err := s.systemContext()
	if err != nil {
		return nil, err
	}
	if format == FormatDockerArchive {
		return s.loadDockerArchive(ctx, sys, path)
	}
	return s.loadOCIArchive(ctx, sys, path)
}

// detectArchive looks at the names in the (possibly compressed) tar.
func detectArchive(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", fmt.Errorf("loading image archive: %w", err)
	}
	defer f.Close()
	notArchive := func(why error) error {
		return classed(errdefs.ErrInvalidArgument,
			"payload does not match any of the supported image formats: %s is neither a docker-archive nor an oci-archive: %v", file, why)
	}
	plain, _, err := compression.AutoDecompress(f)
	if err != nil {
		return "", notArchive(err)
	}
	defer plain.Close()
	var docker, oci bool
	tr := tar.NewReader(plain)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", notArchive(err)
		}
		switch path.Clean(hdr.Name) {
		case "manifest.json":
			docker = true
		case v1.ImageLayoutFile, v1.ImageIndexFile:
			oci = true
		}
	}
	switch {
	case docker:
		return FormatDockerArchive, nil
	case oci:
		return FormatOCIArchive, nil
	}
	return "", notArchive(errors.New("no manifest.json or index.json"))
}

func (s *Store) loadDockerArchive(ctx context.Context, sys *types.SystemContext, file string) ([]string, error) {
	reader, err := dockerarchive.NewReader(sys, file)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %s: %w", file, err)
	}
	defer reader.Close()
	groups, err := reader.List()
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %s: %w", file, err)
	}
	var loaded []string
	for _, refs := range groups {
		var names []string
		for _, ref := range refs {
			if named := ref.DockerReference(); named != nil {
				names = append(names, named.String())
			}
		}
		got, err := s.copyIn(ctx, sys, refs[0], names)
		if err != nil {
			return loaded, err
		}
		loaded = append(loaded, got...)
	}
	return loaded, nil
}

func (s *Store) loadOCIArchive(ctx context.Context, sys *types.SystemContext, file string) ([]string, error) {
	dir, err := os.MkdirTemp(sys.BigFilesTemporaryDir, "oci-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	err = archive.Untar(f, dir, &archive.TarOptions{NoLchown: true})
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("unpacking oci archive %s: %w", file, err)
	}
	index, err := readOCIIndex(dir)
	if err != nil {
		return nil, fmt.Errorf("reading oci archive %s: %w", file, err)
	}
	var loaded []string
	for i, desc := range index.Manifests {
		ref, err := ocilayout.NewIndexReference(dir, i)
		if err != nil {
			return loaded, err
		}
		var names []string
		if n := desc.Annotations[v1.AnnotationRefName]; n != "" {
			name, err := NormalizeName(n)
			if err != nil {
				return loaded, err
			}
			names = []string{name}
		}
		got, err := s.copyIn(ctx, sys, ref, names)
		if err != nil {
			return loaded, err
		}
		loaded = append(loaded, got...)
	}
	return loaded, nil
}

func readOCIIndex(dir string) (*v1.Index, error) {
	data, err := os.ReadFile(filepath.Join(dir, v1.ImageIndexFile))
	if err != nil {
		return nil, err
	}
	var index v1.Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, err
	}
	if len(index.Manifests) == 0 {
		return nil, errors.New("index.json lists no image")
	}
	return &index, nil
}

// copyIn copies one image into the store under names (full names) and
// returns what Load reports for it: the names, or "sha256:ID".
func (s *Store) copyIn(ctx context.Context, sys *types.SystemContext, src types.ImageReference, names []string) ([]string, error) {
	var (
		named reference.Named
		id    string
		err   error
	)
	if len(names) > 0 {
		if named, err = reference.ParseNormalizedNamed(names[0]); err != nil {
			return nil, err
		}
	} else if id, err = configID(ctx, sys, src); err != nil {
		// Without a name, the image is found afterwards by its ID, which
		// storage derives from the config digest.
		return nil, err
	}
	if err := checkImageLayers(ctx, sys, src); err != nil {
		return nil, fmt.Errorf("loading image: %w", err)
	}
	dest, err := storagetransport.Transport.NewStoreReference(s.store, named, id)
	if err != nil {
		return nil, err
	}
	before, err := s.layerIDs()
	if err != nil {
		return nil, err
	}
	if err := s.copyImage(ctx, sys, dest, src); err != nil {
		s.removeNewLayers(before)
		return nil, fmt.Errorf("loading image: %w", err)
	}
	if named == nil {
		return []string{"sha256:" + id}, nil
	}
	if len(names) > 1 {
		img, err := s.store.Image(names[0])
		if err != nil {
			return nil, err
		}
		if err := s.store.AddNames(img.ID, names[1:]); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// configID returns the config digest of the image src stands for (the
// host platform's instance of a list), which storage uses as image ID.
func configID(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (string, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return "", err
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return "", err
	}
	if manifest.MIMETypeIsMultiImage(mime) {
		list, err := manifest.ListFromBlob(raw, mime)
		if err != nil {
			return "", err
		}
		instance, err := list.ChooseInstance(sys)
		if err != nil {
			return "", err
		}
		if raw, mime, err = src.GetManifest(ctx, &instance); err != nil {
			return "", err
		}
	}
	m, err := manifest.FromBlob(raw, mime)
	if err != nil {
		return "", err
	}
	return m.ConfigInfo().Digest.Encoded(), nil
}

// Save writes images to file in format, replacing it:
//
//   - docker-archive: one tar of any number of images (docker/podman save);
//   - oci-archive: a tar of an OCI image layout holding any number of images;
//   - oci-dir: the same layout as a directory;
//   - docker-dir: one image as a directory of blobs (the dir: transport).
//
// An image named by name is saved under that name, an image given by ID
// without names (as podman and docker save it). A failed save leaves no
// partial file or directory behind.
func (s *Store) Save(ctx context.Context, names []string, format, file string) error {
	return s.SaveWith(ctx, names, format, file, SaveOptions{})
}

// SaveOptions tune SaveWith.
type SaveOptions struct {
	// Uncompressed keeps the layers of the OCI formats as plain tars
	// (podman's --uncompressed); they are gzip-compressed otherwise.
	Uncompressed bool
}

// SaveWith is Save with options.
func (s *Store) SaveWith(ctx context.Context, names []string, format, file string, o SaveOptions) error {
	if len(names) == 0 {
		return classed(errdefs.ErrInvalidArgument, "save: no image given")
	}
	if format == "" {
		format = FormatDockerArchive
	}
	sys, err := s.systemContext()
	if err != nil {
		return err
	}
	sys.OCIAcceptUncompressedLayers = o.Uncompressed
	switch format {
	case FormatDockerArchive:
		return writeReplacing(file, func(tmp string) error { return s.saveDockerArchive(ctx, sys, names, tmp) })
	case FormatOCIArchive:
		return writeReplacing(file, func(tmp string) error { return s.saveOCIArchive(ctx, sys, names, tmp) })
	case FormatOCIDir:
		return writeDirReplacing(file, func(tmp string) error { return s.saveOCILayout(ctx, sys, names, tmp) })
	case FormatDockerDir:
		if len(names) > 1 {
			return classed(errdefs.ErrInvalidArgument, "save: docker-dir holds a single image, got %d", len(names))
		}
		return writeDirReplacing(file, func(tmp string) error {
			img, _, err := s.resolve(names[0])
			if err != nil {
				return err
			}
			return s.saveOne(ctx, sys, img.ID, func() (types.ImageReference, error) { return directory.NewReference(tmp) })
		})
	}
	return classed(errdefs.ErrInvalidArgument, "save: unsupported format %q (docker-archive, oci-archive, oci-dir, docker-dir)", format)
}

func (s *Store) saveDockerArchive(ctx context.Context, sys *types.SystemContext, names []string, file string) error {
	writer, err := dockerarchive.NewWriter(sys, file)
	if err != nil {
		return err
	}
	// An image goes into the archive once, with the names it was asked
	// by (none when asked by ID, as podman and docker save it): copying it
	// again for another name would reuse, hence lose, its config.
	var order []string
	tags := map[string][]reference.NamedTagged{}
	for _, name := range names {
		img, matched, err := s.resolve(name)
		if err != nil {
			writer.Close()
			return err
		}
		if _, seen := tags[img.ID]; !seen {
			order = append(order, img.ID)
			tags[img.ID] = nil
		}
		if matched != "" {
			for _, t := range savedTags(nil, matched) {
				if !slices.ContainsFunc(tags[img.ID], func(x reference.NamedTagged) bool { return x.String() == t.String() }) {
					tags[img.ID] = append(tags[img.ID], t)
				}
			}
		}
	}
	for _, id := range order {
		var first reference.NamedTagged
		isys := *sys
		if t := tags[id]; len(t) > 0 {
			first, isys.DockerArchiveAdditionalTags = t[0], t[1:]
		}
		err := s.saveOne(ctx, &isys, id, func() (types.ImageReference, error) { return writer.NewReference(first) })
		if err != nil {
			writer.Close()
			return err
		}
	}
	return writer.Close()
}

// saveOCIArchive builds the OCI layout in a directory next to the store
// and tars it: containers/image's oci-archive writer holds one image only.
func (s *Store) saveOCIArchive(ctx context.Context, sys *types.SystemContext, names []string, file string) error {
	dir, err := os.MkdirTemp(sys.BigFilesTemporaryDir, "oci-save-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := s.saveOCILayout(ctx, sys, names, dir); err != nil {
		return err
	}
	return tarDirectory(dir, file)
}

// saveOCILayout copies each image into the OCI layout dir, named (the
// org.opencontainers.image.ref.name annotation) by the name it was given
// as; blobs shared by several images are stored once.
func (s *Store) saveOCILayout(ctx context.Context, sys *types.SystemContext, names []string, dir string) error {
	for _, name := range names {
		img, matched, err := s.resolve(name)
		if err != nil {
			return err
		}
		err = s.saveOne(ctx, sys, img.ID, func() (types.ImageReference, error) { return ocilayout.NewReference(dir, matched) })
		if err != nil {
			return err
		}
	}
	return nil
}

// tarDirectory writes the files of dir (regular files and directories
// only, as an OCI layout has) into a tar file with stable metadata.
func tarDirectory(dir, file string) (retErr error) {
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	defer func() {
		if err := out.Close(); retErr == nil {
			retErr = err
		}
	}()
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: info.ModTime(), Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			return tw.WriteHeader(hdr)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("unexpected file %s in OCI layout", rel)
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// savedTags are the names written for an image: the one it was asked by,
// or all of them when asked by ID.
func savedTags(imageNames []string, matched string) []reference.NamedTagged {
	names := imageNames
	if matched != "" {
		names = []string{matched}
	}
	var tags []reference.NamedTagged
	for _, n := range names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		if t, ok := named.(reference.NamedTagged); ok {
			tags = append(tags, t)
		}
	}
	return tags
}

func (s *Store) saveOne(ctx context.Context, sys *types.SystemContext, id string, destRef func() (types.ImageReference, error)) error {
	src, err := storagetransport.Transport.NewStoreReference(s.store, nil, id)
	if err != nil {
		return err
	}
	dest, err := destRef()
	if err != nil {
		return err
	}
	if err := s.copyImage(ctx, sys, dest, src); err != nil {
		return fmt.Errorf("saving image %s: %w", id, err)
	}
	return nil
}

// writeReplacing runs write on a temporary file next to file and renames
// it over file on success, so a failed save leaves no half archive. A
// non-regular target (a pipe, /dev/stdout) is written directly.
func writeReplacing(file string, write func(tmp string) error) error {
	if st, err := os.Stat(file); err == nil && !st.Mode().IsRegular() {
		return write(file)
	}
	tmp := fmt.Sprintf("%s.servin-%d.tmp", file, os.Getpid())
	os.Remove(tmp)
	if err := write(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeDirReplacing is writeReplacing for a directory: write fills a fresh
// directory next to dir, which then replaces dir.
func writeDirReplacing(dir string, write func(tmp string) error) error {
	tmp := fmt.Sprintf("%s.servin-%d.tmp", strings.TrimRight(dir, "/"), os.Getpid())
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}
