package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// CommitOptions tune Commit.
type CommitOptions struct {
	// Reference names the new image ("" leaves it unnamed).
	Reference string
	// Changes are Dockerfile-style instructions applied to the config.
	Changes []string
	// Message and Author are recorded in the history and config.
	Message, Author string
	// ImageID is the container's image, the base of the new one.
	ImageID string
	// Config is the container's effective configuration (command,
	// environment, ...), which becomes the image's; nil keeps the base
	// image's configuration.
	Config *v1.ImageConfig
	// Docker makes a docker schema2 image (manifest and config media
	// types, and the config's comment) instead of an OCI one.
	Docker bool
}

// Commit makes a new image from a container: the base image's layers plus
// one layer holding the container's changes. The container should be
// stopped or paused so that the layer is consistent.
func (s *Store) Commit(ctx context.Context, containerID string, o CommitOptions) (*Image, error) {
	var named reference.Named
	if o.Reference != "" {
		n, err := normalizeNamed(o.Reference)
		if err != nil {
			return nil, err
		}
		named = n
	}
	baseID := o.ImageID
	if ctr, err := s.store.Container(containerID); err == nil {
		baseID = ctr.ImageID // a storage container records its image
	}
	if baseID == "" {
		return nil, classed(errdefs.ErrFailedPrecondition, "committing container %s: it has no base image", containerID)
	}
	diff, err := s.containerDiff(containerID, baseID)
	if err != nil {
		return nil, fmt.Errorf("reading the changes of container %s: %w", containerID, err)
	}
	tmp, err := s.tmpDir()
	if err != nil {
		diff.Close()
		return nil, err
	}
	layer, err := stageLayer(diff, tmp)
	diff.Close()
	if err != nil {
		return nil, fmt.Errorf("committing container %s: %w", containerID, err)
	}
	defer os.Remove(layer.path)

	sys, err := s.systemContext()
	if err != nil {
		return nil, err
	}
	baseRef, err := storagetransport.Transport.NewStoreReference(s.store, nil, baseID)
	if err != nil {
		return nil, err
	}
	base, err := baseRef.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("opening base image %s: %w", baseID, err)
	}
	defer base.Close()
	src, err := newCommitSource(ctx, s, base, baseID, layer, o)
	if err != nil {
		return nil, err
	}
	dest, err := storagetransport.Transport.NewStoreReference(s.store, named, src.id)
	if err != nil {
		return nil, err
	}
	if err := s.copyImage(ctx, sys, dest, &importReference{src: nil, commit: src}); err != nil {
		return nil, fmt.Errorf("committing container %s: %w", containerID, err)
	}
	img, _, err := s.byID(src.id, src.id)
	if err != nil {
		return nil, err
	}
	return s.toImage(ctx, img)
}

func ptr[T any](v T) *T { return &v }

// commitSource serves the committed image: a new config and manifest, the
// base image's layers from storage, and the staged change layer.
type commitSource struct {
	base     types.ImageSource
	layer    stagedLayer
	config   []byte
	configID digest.Digest
	manifest []byte
	// manifestType is the manifest's media type (OCI or docker schema2).
	manifestType string
	id           string
	ref          types.ImageReference
}

func newCommitSource(ctx context.Context, s *Store, base types.ImageSource, baseID string, layer stagedLayer, o CommitOptions) (*commitSource, error) {
	cfg, _, err := s.imageConfig(ctx, baseID)
	if err != nil {
		return nil, fmt.Errorf("reading base image config: %w", err)
	}
	// The storage source reports its layers as stored (uncompressed), with
	// the digests it can serve them by.
	baseLayers, err := base.LayerInfosForCopy(ctx, nil)
	if err != nil {
		return nil, err
	}
	if baseLayers == nil {
		return nil, errors.New("base image lists no layers")
	}
	now := time.Now().UTC()
	if o.Config != nil {
		cfg.Config = *o.Config
	}
	if err := ApplyChanges(&cfg.Config, o.Changes); err != nil {
		return nil, err
	}
	cfg.Created = &now
	if o.Author != "" {
		cfg.Author = o.Author
	}
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, layer.diffID)
	cfg.History = append(cfg.History, v1.History{Created: &now, CreatedBy: "servin commit", Author: o.Author, Comment: o.Message})
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	manifestType, configType, layerType := v1.MediaTypeImageManifest, v1.MediaTypeImageConfig, v1.MediaTypeImageLayer
	if o.Docker {
		manifestType, configType, layerType = manifest.DockerV2Schema2MediaType, manifest.DockerV2Schema2ConfigMediaType, manifest.DockerV2SchemaLayerMediaTypeUncompressed
		if o.Message != "" {
			// docker's config has the message at the top too.
			var doc map[string]any
			if err := json.Unmarshal(config, &doc); err != nil {
				return nil, err
			}
			doc["comment"] = o.Message
			if config, err = json.Marshal(doc); err != nil {
				return nil, err
			}
		}
	}
	configID := digest.Canonical.FromBytes(config)
	m := v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: manifestType,
		Config:    v1.Descriptor{MediaType: configType, Digest: configID, Size: int64(len(config))},
	}
	for _, l := range baseLayers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: layerType, Digest: l.Digest, Size: l.Size})
	}
	m.Layers = append(m.Layers, v1.Descriptor{MediaType: layerType, Digest: layer.diffID, Size: layer.size})
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return &commitSource{base: base, layer: layer, config: config, configID: configID, manifest: raw, manifestType: manifestType, id: configID.Encoded()}, nil
}

func (c *commitSource) Reference() types.ImageReference { return c.ref }
func (c *commitSource) Close() error                    { return nil }
func (c *commitSource) HasThreadSafeGetBlob() bool      { return false }

func (c *commitSource) GetManifest(ctx context.Context, instance *digest.Digest) ([]byte, string, error) {
	if instance != nil {
		return nil, "", errors.New("commit source has no manifest list")
	}
	return c.manifest, c.manifestType, nil
}

func (c *commitSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	switch info.Digest {
	case c.configID:
		return io.NopCloser(bytes.NewReader(c.config)), int64(len(c.config)), nil
	case c.layer.diffID:
		f, err := os.Open(c.layer.path)
		if err != nil {
			return nil, 0, err
		}
		return f, c.layer.size, nil
	}
	return c.base.GetBlob(ctx, info, cache)
}

func (c *commitSource) GetSignatures(ctx context.Context, instance *digest.Digest) ([][]byte, error) {
	return nil, nil
}

func (c *commitSource) LayerInfosForCopy(ctx context.Context, instance *digest.Digest) ([]types.BlobInfo, error) {
	return nil, nil
}
