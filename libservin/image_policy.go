package libservin

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/servin/servin/libservin/errdefs"
	"github.com/servin/servin/libservin/image"
)

// PullPolicy says when run, create and pull --policy go to the registry.
type PullPolicy = image.PullPolicy

// The pull policies; see the image package.
const (
	PullMissing = image.PullMissing
	PullAlways  = image.PullAlways
	PullNever   = image.PullNever
	PullNewer   = image.PullNewer
)

// ParsePullPolicy parses --pull and --policy values; "" is def.
func ParsePullPolicy(s string, def PullPolicy) (PullPolicy, error) {
	return image.ParsePullPolicy(s, def)
}

// ImageWithPolicy returns the image called name, pulling it as policy
// says ("" is PullMissing). A name that is an image ID is never pulled.
// With PullMissing, a local image whose platform differs from the one
// o asks for (--platform, --arch, --os) counts as missing, as in podman.
func (r *Runtime) ImageWithPolicy(ctx context.Context, name string, policy PullPolicy, o PullOptions) (*Image, error) {
	if policy == "" {
		policy = PullMissing
	}
	if image.LooksLikeID(name) {
		if policy == PullAlways {
			return nil, fmt.Errorf("pull policy is always but image has been referred to by ID (%s): %w", name, errdefs.ErrInvalidArgument)
		}
		return r.Image(ctx, name)
	}
	if policy == PullAlways {
		return r.Pull(ctx, name, o)
	}
	local, err := r.Image(ctx, name)
	if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
		return nil, err
	}
	switch {
	case policy == PullNever:
		return local, err
	case local == nil:
		return r.Pull(ctx, name, o)
	case policy == PullMissing:
		if platformMatches(local, o.RemoteOptions) {
			return local, nil
		}
		return r.Pull(ctx, name, o)
	}
	// PullNewer: the pull costs one manifest request when nothing
	// changed; when it fails the local image serves.
	img, err := r.Pull(ctx, name, o)
	if err != nil {
		logrus.Debugf("pull policy newer: using the local image of %s: %v", name, err)
		return local, nil
	}
	return img, nil
}

// platformMatches tells whether the image is of the platform o asks for
// (any, when o asks for none).
func platformMatches(img *Image, o RemoteOptions) bool {
	cfg := img.Config
	if cfg == nil {
		return true
	}
	return (o.OS == "" || o.OS == cfg.OS) &&
		(o.Arch == "" || o.Arch == cfg.Architecture) &&
		(o.Variant == "" || o.Variant == cfg.Variant)
}

// PullAllTags pulls every tag of a repository.
func (r *Runtime) PullAllTags(ctx context.Context, name string, o PullOptions) ([]*Image, error) {
	s, err := r.pullStore(&o) // image_registry.go
	if err != nil {
		return nil, err
	}
	images, err := s.PullAllTags(ctx, name, o)
	for _, img := range images {
		r.imageEvent(ctx, "pull", img.ID, name)
	}
	if err != nil {
		r.pullErrorEvent(ctx, name, err)
	}
	return images, err
}
