package libservin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
)

// Image is an image in servin's store.
type Image = image.Image

// ImportOptions control Import.
type ImportOptions = image.ImportOptions

// Images lists all images.
func (r *Runtime) Images(ctx context.Context) ([]*Image, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	return s.Images(ctx)
}

// ImageManifestType is the media type of an image's manifest.
func (r *Runtime) ImageManifestType(id string) string {
	s, err := r.Store()
	if err != nil {
		return ""
	}
	return s.ManifestType(id)
}

// Image looks an image up by name, ID or ID prefix.
func (r *Runtime) Image(ctx context.Context, nameOrID string) (*Image, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	return s.Lookup(ctx, nameOrID)
}

// ImageExists reports whether the image is present.
func (r *Runtime) ImageExists(ctx context.Context, nameOrID string) (bool, error) {
	s, err := r.Store()
	if err != nil {
		return false, err
	}
	return s.Exists(ctx, nameOrID)
}

// Import makes a single-layer image from a root filesystem tarball.
func (r *Runtime) Import(ctx context.Context, src io.Reader, o ImportOptions) (*Image, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	img, err := s.Import(ctx, src, o)
	if err == nil {
		r.event(ctx, "image", "import", img.ID, o.Reference, nil)
	}
	return img, err
}

// Load reads images from a docker-archive or oci-archive file.
func (r *Runtime) Load(ctx context.Context, path string) ([]string, error) {
	s, err := r.Store()
	if err != nil {
		return nil, err
	}
	names, err := s.Load(ctx, path)
	for _, n := range names {
		// podman's loadfromarchive: the image's ID and the archive's path.
		id := n
		if img, lerr := s.Lookup(ctx, n); lerr == nil {
			id = img.ID
		}
		r.imageEvent(ctx, "loadfromarchive", id, path)
	}
	return names, err
}

// Tag adds a name to an image.
func (r *Runtime) Tag(ctx context.Context, nameOrID, newName string) error {
	s, err := r.Store()
	if err != nil {
		return err
	}
	img, err := s.Lookup(ctx, nameOrID)
	if err != nil {
		return err
	}
	if err := s.Tag(ctx, img.ID, newName); err != nil {
		return err
	}
	r.event(ctx, "image", "tag", img.ID, newName, nil)
	return nil
}

// RemoveImage removes (or untags) an image. With force, containers using it
// are removed first.
func (r *Runtime) RemoveImage(ctx context.Context, nameOrID string, force bool) (untagged, deleted []string, err error) {
	s, err := r.Store()
	if err != nil {
		return nil, nil, err
	}
	img, err := s.Lookup(ctx, nameOrID)
	if err != nil {
		return nil, nil, err
	}
	users, err := r.db.ContainersUsingImage(ctx, img.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(users) > 0 && force {
		for _, id := range users {
			if _, err := r.Remove(ctx, id, RemoveOptions{Force: true}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				return nil, nil, fmt.Errorf("removing container %s that uses image %s: %w", id, nameOrID, err)
			}
		}
	}
	untagged, deleted, err = s.Remove(ctx, nameOrID, force, r.db.ContainersUsingImage)
	// As in podman, an image loses its names before it goes.
	for _, u := range untagged {
		r.imageEvent(ctx, "untag", img.ID, u)
	}
	for _, d := range deleted {
		r.imageEvent(ctx, "remove", d, nameOrID)
	}
	return untagged, deleted, err
}
