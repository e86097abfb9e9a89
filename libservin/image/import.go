package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/compression"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// Reference optionally names the image; it is normalized like podman
	// import does ("foo" -> "localhost/foo:latest").
	Reference string
	// Changes are Dockerfile-style instructions, see ApplyChanges.
	Changes []string
	// Message is recorded as the comment of the image's history entry.
	Message string
	// OS and Arch default to the host's.
	OS, Arch string
}

// Import stores a root filesystem tarball (plain, gzip, bzip2, xz or zstd)
// as a single-layer image and returns it. The tarball is checked and staged
// uncompressed first, so bad input stores nothing; then the image (OCI
// manifest, config, layer) is copied into the store through containers/image
// like any other image, so it can later be saved or pushed.
func (s *Store) Import(ctx context.Context, src io.Reader, opts ImportOptions) (*Image, error) {
	var named reference.Named
	if opts.Reference != "" {
		n, err := normalizeNamed(opts.Reference)
		if err != nil {
			return nil, err
		}
		named = n
	}
	var cfg v1.ImageConfig
	if err := ApplyChanges(&cfg, opts.Changes); err != nil {
		return nil, err
	}

	tmp, err := s.tmpDir()
	if err != nil {
		return nil, err
	}
	layer, err := stageLayer(src, tmp)
	if err != nil {
		return nil, err
	}
	defer os.Remove(layer.path)

	isrc, err := newImportSource(layer, cfg, opts)
	if err != nil {
		return nil, err
	}
	dest, err := storagetransport.Transport.NewStoreReference(s.store, named, isrc.id)
	if err != nil {
		return nil, err
	}
	sys, err := s.systemContext()
	if err != nil {
		return nil, err
	}
	if err := s.copyImage(ctx, sys, dest, &importReference{src: isrc}); err != nil {
		return nil, fmt.Errorf("importing image: %w", err)
	}
	img, _, err := s.byID(isrc.id, isrc.id)
	if err != nil {
		return nil, err
	}
	return s.toImage(ctx, img)
}

// copyImage copies one image with servin's policy.
func (s *Store) copyImage(ctx context.Context, sys *types.SystemContext, dest, src types.ImageReference) error {
	policy, err := policyContext()
	if err != nil {
		return err
	}
	defer policy.Destroy()
	_, err = copy.Image(ctx, policy, dest, src, &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	return err
}

// stagedLayer is an uncompressed layer tarball on disk.
type stagedLayer struct {
	path   string
	diffID digest.Digest
	size   int64
}

// stageLayer decompresses src into a file under dir while checking that it
// is a tar archive and computing its digest (the layer's diffID).
func stageLayer(src io.Reader, dir string) (_ stagedLayer, retErr error) {
	f, err := os.CreateTemp(dir, "import-*.tar")
	if err != nil {
		return stagedLayer{}, err
	}
	defer func() {
		f.Close()
		if retErr != nil {
			os.Remove(f.Name())
		}
	}()
	plain, _, err := compression.AutoDecompress(src)
	if err != nil {
		return stagedLayer{}, classed(errdefs.ErrInvalidArgument, "reading import data: %v", err)
	}
	defer plain.Close()

	digester := digest.Canonical.Digester()
	counter := &countWriter{}
	tee := io.TeeReader(plain, io.MultiWriter(f, digester.Hash(), counter))
	if err := checkTar(tee); err != nil {
		return stagedLayer{}, err
	}
	// Keep the end-of-archive padding too: the layer is the exact input.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return stagedLayer{}, classed(errdefs.ErrInvalidArgument, "reading import data: %v", err)
	}
	if counter.n == 0 {
		return stagedLayer{}, classed(errdefs.ErrInvalidArgument, "import data is empty: expected a tar archive")
	}
	if err := f.Close(); err != nil {
		return stagedLayer{}, err
	}
	return stagedLayer{path: f.Name(), diffID: digester.Digest(), size: counter.n}, nil
}

// checkTar reads every header of a tar stream, so that garbage and
// entries escaping the root are refused before anything is stored.
func checkTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return classed(errdefs.ErrInvalidArgument, "import data is not a valid tar archive: %v", err)
		}
		if err := checkEntryName(hdr); err != nil {
			return classed(errdefs.ErrInvalidArgument, "import data is refused: %v", err)
		}
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// importSource is a containers/image ImageSource serving one staged layer
// with a config and an OCI manifest built in memory.
type importSource struct {
	layer    stagedLayer
	config   []byte
	configID digest.Digest
	manifest []byte
	id       string // image ID = hex of the config digest, as storage computes it
	ref      *importReference
}

func newImportSource(layer stagedLayer, ic v1.ImageConfig, opts ImportOptions) (*importSource, error) {
	now := time.Now().UTC()
	comment := opts.Message
	if comment == "" {
		comment = "imported from tarball"
	}
	cfg := v1.Image{
		Created: &now,
		Platform: v1.Platform{
			OS:           orDefault(opts.OS, runtime.GOOS),
			Architecture: orDefault(opts.Arch, runtime.GOARCH),
		},
		Config: ic,
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer.diffID}},
		History: []v1.History{{
			Created:   &now,
			CreatedBy: fmt.Sprintf("/bin/sh -c #(nop) ADD file:%s in / ", layer.diffID.Encoded()),
			Comment:   comment,
		}},
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	configID := digest.Canonical.FromBytes(config)
	manifest, err := json.Marshal(v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageManifest,
		Config:    v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: configID, Size: int64(len(config))},
		Layers:    []v1.Descriptor{{MediaType: v1.MediaTypeImageLayer, Digest: layer.diffID, Size: layer.size}},
	})
	if err != nil {
		return nil, err
	}
	return &importSource{
		layer:    layer,
		config:   config,
		configID: configID,
		manifest: manifest,
		id:       configID.Encoded(),
	}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (i *importSource) Reference() types.ImageReference { return i.ref }
func (i *importSource) Close() error                    { return nil }
func (i *importSource) HasThreadSafeGetBlob() bool      { return false }

func (i *importSource) GetManifest(ctx context.Context, instance *digest.Digest) ([]byte, string, error) {
	if instance != nil {
		return nil, "", errors.New("import source has no manifest list")
	}
	return i.manifest, v1.MediaTypeImageManifest, nil
}

func (i *importSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	switch info.Digest {
	case i.configID:
		return io.NopCloser(bytes.NewReader(i.config)), int64(len(i.config)), nil
	case i.layer.diffID:
		f, err := os.Open(i.layer.path)
		if err != nil {
			return nil, 0, err
		}
		return f, i.layer.size, nil
	}
	return nil, 0, fmt.Errorf("import source has no blob %s", info.Digest)
}

func (i *importSource) GetSignatures(ctx context.Context, instance *digest.Digest) ([][]byte, error) {
	return nil, nil
}

func (i *importSource) LayerInfosForCopy(ctx context.Context, instance *digest.Digest) ([]types.BlobInfo, error) {
	return nil, nil // use the manifest's layers as they are
}

// importReference and importTransport exist only because containers/image
// copies from references; they are never parsed from strings. A reference
// serves either an import (src) or a commit (commit).
type importReference struct {
	src    *importSource
	commit *commitSource
}

func (r *importReference) Transport() types.ImageTransport { return importTransport{} }
func (r *importReference) StringWithinTransport() string {
	if r.commit != nil {
		return "commit:" + r.commit.id
	}
	return r.src.layer.path
}
func (r *importReference) DockerReference() reference.Named    { return nil }
func (r *importReference) PolicyConfigurationIdentity() string { return "" }
func (r *importReference) PolicyConfigurationNamespaces() []string {
	return nil
}

func (r *importReference) NewImage(ctx context.Context, sys *types.SystemContext) (types.ImageCloser, error) {
	return nil, errors.New("servin-import: NewImage is not supported")
}

func (r *importReference) NewImageSource(ctx context.Context, sys *types.SystemContext) (types.ImageSource, error) {
	if r.commit != nil {
		r.commit.ref = r
		return r.commit, nil
	}
	r.src.ref = r
	return r.src, nil
}

func (r *importReference) NewImageDestination(ctx context.Context, sys *types.SystemContext) (types.ImageDestination, error) {
	return nil, errors.New("servin-import: cannot write")
}

func (r *importReference) DeleteImage(ctx context.Context, sys *types.SystemContext) error {
	return errors.New("servin-import: cannot delete")
}

type importTransport struct{}

func (importTransport) Name() string { return "servin-import" }
func (importTransport) ParseReference(string) (types.ImageReference, error) {
	return nil, errors.New("servin-import references cannot be parsed")
}
func (importTransport) ValidatePolicyConfigurationScope(string) error {
	return errors.New("servin-import has no policy scopes")
}
