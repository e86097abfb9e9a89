package libservin

import (
	"context"
	"fmt"
	"maps"
	"slices"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/servin/servin/libservin/image"
)

// Image housekeeping and building: save, history, untag, prune, tree,
// mount, search, commit and manifest lists.

// Type aliases for the image package's results and options.
type (
	HistoryEntry       = image.HistoryEntry
	TreeLayer          = image.TreeLayer
	SearchResult       = image.SearchResult
	ManifestAddOptions = image.ManifestAddOptions
)

// withStore runs fn on the image store.
func withStore[T any](r *Runtime, fn func(s *image.Store) (T, error)) (T, error) {
	s, err := r.Store()
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(s)
}

// Save writes images to an archive or directory (see image.Store.Save).
func (r *Runtime) Save(ctx context.Context, names []string, format, path string) error {
	return r.SaveWith(ctx, names, format, path, SaveOptions{})
}

// SaveOptions tune SaveWith.
type SaveOptions = image.SaveOptions

// SaveWith is Save with options.
func (r *Runtime) SaveWith(ctx context.Context, names []string, format, path string, o SaveOptions) error {
	s, err := r.Store()
	if err != nil {
		return err
	}
	if err := s.SaveWith(ctx, names, format, path, o); err != nil {
		return err
	}
	for _, n := range names {
		if img, err := s.Lookup(ctx, n); err == nil {
			r.imageEvent(ctx, "save", img.ID, path)
		}
	}
	return nil
}

// History lists an image's build steps, newest first.
func (r *Runtime) History(ctx context.Context, nameOrID string) ([]HistoryEntry, error) {
	return withStore(r, func(s *image.Store) ([]HistoryEntry, error) { return s.History(ctx, nameOrID) })
}

// Untag removes names (all without names) from an image.
func (r *Runtime) Untag(ctx context.Context, nameOrID string, names []string) error {
	img, err := r.Image(ctx, nameOrID)
	if err != nil {
		return err
	}
	removed, err := withStore(r, func(s *image.Store) ([]string, error) { return s.Untag(ctx, nameOrID, names) })
	for _, n := range removed {
		r.event(ctx, "image", "untag", img.ID, n, nil)
	}
	return err
}

// PruneImages removes unused dangling images (all unused ones with all).
func (r *Runtime) PruneImages(ctx context.Context, all bool, filter func(*Image) bool) ([]string, error) {
	ids, err := withStore(r, func(s *image.Store) ([]string, error) {
		return s.Prune(ctx, image.PruneOptions{All: all, Filter: filter, InUse: r.db.ContainersUsingImage})
	})
	for _, id := range ids {
		r.event(ctx, "image", "remove", id, id, nil)
	}
	return ids, err
}

// ImageTree returns an image and its layers, base first.
func (r *Runtime) ImageTree(ctx context.Context, nameOrID string) (*Image, []TreeLayer, error) {
	s, err := r.Store()
	if err != nil {
		return nil, nil, err
	}
	return s.Tree(ctx, nameOrID)
}

// MountImage mounts an image read-only and returns the mount point.
func (r *Runtime) MountImage(ctx context.Context, nameOrID string) (string, error) {
	return withStore(r, func(s *image.Store) (string, error) { return s.MountImage(nameOrID) })
}

// UnmountImage unmounts an image.
func (r *Runtime) UnmountImage(ctx context.Context, nameOrID string, force bool) error {
	_, err := withStore(r, func(s *image.Store) (struct{}, error) { return struct{}{}, s.UnmountImage(nameOrID, force) })
	return err
}

// MountedImages maps mounted image IDs to their mount points.
func (r *Runtime) MountedImages(ctx context.Context) (map[string]string, error) {
	return withStore(r, func(s *image.Store) (map[string]string, error) { return s.MountedImages() })
}

// Search asks registries for repositories matching term.
func (r *Runtime) Search(ctx context.Context, term string, limit int, o RemoteOptions) ([]SearchResult, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) ([]SearchResult, error) { return s.Search(ctx, term, limit, o) })
}

// ListTags lists a repository's tags in a registry.
func (r *Runtime) ListTags(ctx context.Context, repo string, o RemoteOptions) ([]string, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) ([]string, error) { return s.ListTags(ctx, repo, o) })
}

// CommitOptions control Commit.
type CommitOptions struct {
	Reference       string
	Changes         []string
	Message, Author string
	// Pause freezes a running container while its layer is read.
	Pause bool
	// Format is "oci" (the default) or "docker"; only docker images
	// carry a commit message.
	Format string
}

// Commit makes an image from a container's filesystem changes; the
// image's configuration is the container's (command, environment,
// working directory, user, labels, stop signal) with Changes applied.
func (r *Runtime) Commit(ctx context.Context, nameOrID string, o CommitOptions) (*Image, error) {
	switch o.Format {
	case "", "oci":
		if o.Message != "" {
			return nil, invalidWorded("messages are only compatible with the docker image format (-f docker)")
		}
	case "docker":
	default:
		return nil, invalidWorded("unrecognized image type %q", o.Format)
	}
	c, err := r.Container(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if o.Pause && c.State.Status == StatusRunning {
		if _, err := r.Pause(ctx, c.ID); err != nil {
			return nil, fmt.Errorf("pausing %s for commit: %w", c.Name, err)
		}
		defer func() { _, _ = r.Unpause(context.WithoutCancel(ctx), c.ID) }()
	}
	base, err := r.Image(ctx, c.ImageID)
	if err != nil {
		return nil, err
	}
	cfg := commitConfig(base, &c.Config)
	img, err := withStore(r, func(s *image.Store) (*Image, error) {
		return s.Commit(ctx, c.ID, image.CommitOptions{
			Reference: o.Reference, Changes: o.Changes, Message: o.Message, Author: o.Author, Config: cfg, ImageID: c.ImageID,
			Docker: o.Format == "docker",
		})
	})
	if err == nil {
		r.event(ctx, "image", "commit", img.ID, o.Reference, map[string]string{"container": c.ID})
	}
	return img, err
}

// commitConfig is the base image's config updated with what the container
// was created with.
func commitConfig(base *Image, cc *ContainerConfig) *v1.ImageConfig {
	var cfg v1.ImageConfig
	if base.Config != nil {
		cfg = base.Config.Config
	}
	cfg.Entrypoint = slices.Clone(cc.Entrypoint)
	cfg.Cmd = slices.Clone(cc.Cmd)
	if len(cc.Env) > 0 {
		cfg.Env = slices.Clone(cc.Env)
	}
	if cc.WorkingDir != "" {
		cfg.WorkingDir = cc.WorkingDir
	}
	if cc.User != "" {
		cfg.User = cc.User
	}
	if len(cc.Labels) > 0 {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		maps.Copy(cfg.Labels, cc.Labels)
	}
	if cc.StopSignal != "" {
		cfg.StopSignal = cc.StopSignal
	}
	return &cfg
}

// CreateManifestList makes a local manifest list from images.
func (r *Runtime) CreateManifestList(ctx context.Context, name string, images []string, amend bool, o ManifestAddOptions) (string, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) (string, error) { return s.CreateList(ctx, name, images, amend, o) })
}

// AddToManifestList adds an image to a local list.
func (r *Runtime) AddToManifestList(ctx context.Context, list, img string, o ManifestAddOptions) (digest.Digest, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) (digest.Digest, error) { return s.AddToList(ctx, list, img, o) })
}

// RemoveFromManifestList drops an instance from a local list.
func (r *Runtime) RemoveFromManifestList(ctx context.Context, list string, d digest.Digest) error {
	_, err := withStore(r, func(s *image.Store) (struct{}, error) { return struct{}{}, s.RemoveFromList(list, d) })
	return err
}

// DeleteManifestList removes a local list.
func (r *Runtime) DeleteManifestList(ctx context.Context, list string) error {
	_, err := withStore(r, func(s *image.Store) (struct{}, error) { return struct{}{}, s.DeleteList(list) })
	return err
}

// RemoveManifestListImage removes a local list the way rmi removes an
// image, returning its name (untagged) and ID (deleted).
func (r *Runtime) RemoveManifestListImage(ctx context.Context, list string) (name, id string, err error) {
	_, err = withStore(r, func(s *image.Store) (struct{}, error) {
		name, id, err = s.RemoveListImage(list)
		return struct{}{}, err
	})
	if err == nil {
		r.event(ctx, "image", "remove", id, name, nil)
	}
	return name, id, err
}

// ManifestListImages describes the local manifest lists as images (what
// `images` shows besides stored images, as podman does).
func (r *Runtime) ManifestListImages(ctx context.Context) ([]*Image, error) {
	return withStore(r, func(s *image.Store) ([]*Image, error) { return s.ListImages() })
}

// InspectManifest returns a local list as JSON or, when there is no such
// list, the manifest a registry serves for name.
func (r *Runtime) InspectManifest(ctx context.Context, name string, o RemoteOptions) ([]byte, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) ([]byte, error) {
		if s.ListExists(name) {
			return s.InspectList(name)
		}
		return s.InspectRemoteManifest(ctx, name, o)
	})
}

// PushManifestList publishes a local list and its instances.
func (r *Runtime) PushManifestList(ctx context.Context, list, dest string, o PushOptions) (digest.Digest, error) {
	o.Config = r.RegistryConfig()
	return withStore(r, func(s *image.Store) (digest.Digest, error) { return s.PushList(ctx, list, dest, o) })
}

// ManifestListExists reports whether a local manifest list has this name.
func (r *Runtime) ManifestListExists(name string) (bool, error) {
	return withStore(r, func(s *image.Store) (bool, error) { return s.ListExists(name), nil })
}
