package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/manifest"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
)

// Image is a stored image as servin shows it.
type Image struct {
	ID    string
	Names []string // full names, e.g. "localhost/busybox:latest"
	// History lists every name the image has had, the latest first.
	History []string
	Digest  string // manifest digest, "sha256:..."
	Created time.Time
	Size    int64
	Config  *v1.Image // OCI image config (a docker config is converted)
	// Comment is the docker config's comment (commit --message).
	Comment string
	// Healthcheck is the docker config's HEALTHCHECK (nil: none).
	Healthcheck *manifest.Schema2HealthConfig
	TopLayer    string
}

// Images lists all stored images, newest first.
func (s *Store) Images(ctx context.Context) ([]*Image, error) {
	stored, err := s.store.Images()
	if err != nil {
		return nil, err
	}
	out := make([]*Image, 0, len(stored))
	for i := range stored {
		img, err := s.toImage(ctx, &stored[i])
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	slices.SortStableFunc(out, func(a, b *Image) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// Lookup finds an image by full ID, unique ID prefix, "sha256:ID", full
// name, or short name ("busybox" finds "localhost/busybox:latest" or
// "docker.io/library/busybox:latest"; a missing tag means ":latest").
// A missing image is errdefs.ErrNotFound with podman's "NAME: image not known".
func (s *Store) Lookup(ctx context.Context, nameOrID string) (*Image, error) {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return nil, err
	}
	return s.toImage(ctx, img)
}

// Exists reports whether Lookup would find nameOrID.
func (s *Store) Exists(ctx context.Context, nameOrID string) (bool, error) {
	_, _, err := s.resolve(nameOrID)
	if errors.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// toImage reads the image's config through containers/image, which also
// understands docker schema2 configs.
func (s *Store) toImage(ctx context.Context, img *storage.Image) (*Image, error) {
	out := &Image{
		ID:       img.ID,
		Names:    slices.Clone(img.Names),
		History:  slices.Clone(img.NamesHistory),
		Digest:   img.Digest.String(),
		Created:  img.Created,
		TopLayer: img.TopLayer,
	}
	cfg, extra, err := s.imageConfig(ctx, img.ID)
	if err != nil {
		return nil, fmt.Errorf("reading config of image %s: %w", img.ID, err)
	}
	out.Config, out.Healthcheck, out.Comment = cfg, extra.Config.Healthcheck, extra.Comment
	if cfg.Created != nil && !cfg.Created.IsZero() {
		out.Created = *cfg.Created
	}
	if size, err := s.store.ImageSize(img.ID); err == nil {
		out.Size = size
	}
	return out, nil
}

// dockerConfig is what only docker-format configs carry (OCI has no field
// for them).
type dockerConfig struct {
	Comment string `json:"comment"`
	Config  struct {
		Healthcheck *manifest.Schema2HealthConfig `json:"Healthcheck"`
	} `json:"config"`
}

// imageConfig returns the image's config and its docker-only fields.
func (s *Store) imageConfig(ctx context.Context, id string) (*v1.Image, dockerConfig, error) {
	var raw dockerConfig
	ref, err := storagetransport.Transport.NewStoreReference(s.store, nil, id)
	if err != nil {
		return nil, raw, err
	}
	src, err := ref.NewImage(ctx, nil)
	if err != nil {
		return nil, raw, err
	}
	defer src.Close()
	cfg, err := src.OCIConfig(ctx)
	if err != nil {
		return nil, raw, err
	}
	if blob, err := src.ConfigBlob(ctx); err == nil && (bytes.Contains(blob, []byte(`"Healthcheck"`)) || bytes.Contains(blob, []byte(`"comment"`))) {
		_ = json.Unmarshal(blob, &raw)
	}
	return cfg, raw, nil
}

// Tag adds newName (normalized, see NormalizeName) to the image. A name
// held by another image moves to this one, as with podman.
func (s *Store) Tag(ctx context.Context, nameOrID, newName string) error {
	name, err := NormalizeName(newName)
	if err != nil {
		return err
	}
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return err
	}
	return s.store.AddNames(img.ID, []string{name})
}

// Remove implements podman rmi for one image.
//
// An image referenced by name that has other names only loses that name
// (untagged). Otherwise the image is deleted and all its names are reported
// untagged. Deletion is refused with errdefs.ErrInUse when containers use
// the image: those reported by inUse (servin's own containers; may be nil)
// and those in the storage itself. With force, servin's containers are
// expected to be gone already (the caller removes them), and storage
// containers still using the image are deleted with it. Deleting by ID an
// image with several names also needs force.
func (s *Store) Remove(ctx context.Context, nameOrID string, force bool, inUse func(ctx context.Context, imageID string) ([]string, error)) (untagged, deleted []string, err error) {
	// Containers being created cannot appear between the check of the
	// image's users and its removal (see ctrlayer.go).
	unlock, err := s.layersLock(true)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	img, matched, err := s.resolve(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	if matched != "" && len(img.Names) > 1 {
		if err := s.store.RemoveNames(img.ID, []string{matched}); err != nil {
			return nil, nil, err
		}
		return []string{matched}, nil, nil
	}
	if matched == "" && len(img.Names) > 1 && !force {
		return nil, nil, classed(errdefs.ErrFailedPrecondition,
			"unable to delete image %q by ID with more than one tag (%v): please force removal", img.ID, img.Names)
	}
	users, err := s.imageUsers(ctx, img.ID, inUse)
	if err != nil {
		return nil, nil, err
	}
	if len(users) > 0 && !force {
		return nil, nil, errImageInUse(img.ID)
	}
	if err := s.deleteStorageContainersOf(img.ID); err != nil {
		return nil, nil, err
	}
	if _, err := s.store.DeleteImage(img.ID, true); err != nil {
		if errors.Is(err, storage.ErrImageUsedByContainer) {
			return nil, nil, errImageInUse(img.ID)
		}
		return nil, nil, fmt.Errorf("deleting image %s: %w", img.ID, err)
	}
	return slices.Clone(img.Names), []string{img.ID}, nil
}

// imageUsers lists the containers using image id: servin's (inUse) and the
// storage's own container records.
func (s *Store) imageUsers(ctx context.Context, id string, inUse func(context.Context, string) ([]string, error)) ([]string, error) {
	var users []string
	if inUse != nil {
		ids, err := inUse(ctx, id)
		if err != nil {
			return nil, err
		}
		users = append(users, ids...)
	}
	ctrs, err := s.store.Containers()
	if err != nil {
		return nil, err
	}
	for _, c := range ctrs {
		if c.ImageID == id && !slices.Contains(users, c.ID) {
			users = append(users, c.ID)
		}
	}
	return users, nil
}

func (s *Store) deleteStorageContainersOf(imageID string) error {
	ctrs, err := s.store.Containers()
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if c.ImageID != imageID {
			continue
		}
		if err := s.DeleteContainer(c.ID); err != nil {
			return err
		}
	}
	return nil
}

// ManifestType is the media type of the image's manifest (OCI or docker
// schema2), "" when it cannot be read.
func (s *Store) ManifestType(id string) string {
	b, err := s.store.ImageBigData(id, storage.ImageDigestBigDataKey)
	if err != nil {
		return ""
	}
	return manifest.GuessMIMEType(b)
}
