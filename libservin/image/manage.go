package image

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// HistoryEntry is one step of an image's history, newest first.
type HistoryEntry struct {
	// ID is the image ID for the newest entry, "<missing>" for the others
	// (as podman shows them: intermediate images are not kept).
	ID        string
	Created   time.Time
	CreatedBy string
	Size      int64 // size of the layer this step made; 0 for empty layers
	Comment   string
	Tags      []string
	// EmptyLayer marks steps that changed only the configuration.
	EmptyLayer bool
}

// History lists the image's build steps from its config, with the size of
// the layer each step made.
func (s *Store) History(ctx context.Context, nameOrID string) ([]HistoryEntry, error) {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return nil, err
	}
	cfg, _, err := s.imageConfig(ctx, img.ID)
	if err != nil {
		return nil, err
	}
	sizes := s.layerSizes(img.TopLayer)
	var out []HistoryEntry
	layer := 0
	for _, h := range cfg.History {
		e := HistoryEntry{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer {
			if layer < len(sizes) {
				e.Size = sizes[layer]
			}
			layer++
		}
		out = append(out, e)
	}
	if len(out) == 0 { // an image without history: one entry per layer
		for _, size := range sizes {
			out = append(out, HistoryEntry{ID: "<missing>", Size: size})
		}
	}
	slices.Reverse(out)
	if len(out) > 0 {
		out[0].ID = img.ID
		out[0].Tags = slices.Clone(img.Names)
	}
	return out, nil
}

// layerSizes are the diff sizes of the layer chain ending at top, base first.
func (s *Store) layerSizes(top string) []int64 {
	var sizes []int64
	for id := top; id != ""; {
		l, err := s.store.Layer(id)
		if err != nil {
			break
		}
		sizes = append(sizes, max(l.UncompressedSize, 0))
		id = l.Parent
	}
	slices.Reverse(sizes)
	return sizes
}

// Untag removes names from an image; no names means all of them. The
// image itself stays (untagged images are what image prune removes).
func (s *Store) Untag(ctx context.Context, nameOrID string, names []string) ([]string, error) {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = slices.Clone(img.Names)
	}
	var full []string
	for _, n := range names {
		f, err := NormalizeName(n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(img.Names, f) {
			return nil, classed(errdefs.ErrNotFound, "%s: tag not known", n)
		}
		full = append(full, f)
	}
	if len(full) == 0 {
		return nil, nil
	}
	if err := s.store.RemoveNames(img.ID, full); err != nil {
		return nil, err
	}
	return full, nil
}

// PruneOptions select the images Prune removes.
type PruneOptions struct {
	// All removes every image no container uses, not only untagged ones.
	All bool
	// Filter keeps only images it accepts (nil: all).
	Filter func(*Image) bool
	// InUse lists servin's containers using an image.
	InUse func(ctx context.Context, imageID string) ([]string, error)
}

// Prune removes dangling (untagged) images, or with All every image, that
// no container uses. It returns the removed IDs.
func (s *Store) Prune(ctx context.Context, o PruneOptions) ([]string, error) {
	unlock, err := s.layersLock(true) // as in Remove
	if err != nil {
		return nil, err
	}
	defer unlock()
	var removed []string
	// Removing a top image may leave its parent image dangling (images
	// sharing layers): go round until nothing more goes.
	for {
		images, err := s.Images(ctx)
		if err != nil {
			return removed, err
		}
		n := len(removed)
		for _, img := range images {
			if len(img.Names) > 0 && !o.All {
				continue
			}
			if o.Filter != nil && !o.Filter(img) {
				continue
			}
			users, err := s.imageUsers(ctx, img.ID, o.InUse)
			if err != nil {
				return removed, err
			}
			if len(users) > 0 {
				continue
			}
			if _, err := s.store.DeleteImage(img.ID, true); err != nil {
				if errors.Is(err, storage.ErrImageUsedByContainer) || errors.Is(err, storage.ErrImageUnknown) {
					continue
				}
				return removed, fmt.Errorf("removing image %s: %w", img.ID, err)
			}
			removed = append(removed, img.ID)
		}
		if len(removed) == n {
			return removed, nil
		}
	}
}

// TreeLayer is one layer of an image's tree, base first.
type TreeLayer struct {
	ID     string
	Size   int64
	Images []string // names (or IDs) of images whose top layer this is
}

// Tree returns the image's layers, base first, each with the images that
// end at it: what `image tree` draws.
func (s *Store) Tree(ctx context.Context, nameOrID string) (*Image, []TreeLayer, error) {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	full, err := s.toImage(ctx, img)
	if err != nil {
		return nil, nil, err
	}
	tops := map[string][]string{}
	if images, err := s.store.Images(); err == nil {
		for _, i := range images {
			label := strings.Join(i.Names, ", ")
			if label == "" {
				label = i.ID[:12]
			}
			tops[i.TopLayer] = append(tops[i.TopLayer], label)
		}
	}
	var layers []TreeLayer
	for id := img.TopLayer; id != ""; {
		l, err := s.store.Layer(id)
		if err != nil {
			return nil, nil, err
		}
		layers = append(layers, TreeLayer{ID: l.ID, Size: max(l.UncompressedSize, 0), Images: tops[l.ID]})
		id = l.Parent
	}
	slices.Reverse(layers)
	return full, layers, nil
}

// MountImage mounts the image's root filesystem read-only and returns
// its path; mounts are counted like container mounts.
func (s *Store) MountImage(nameOrID string) (string, error) {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return "", err
	}
	p, err := s.store.MountImage(img.ID, nil, "")
	if err != nil {
		return "", fmt.Errorf("mounting image %s: %w", nameOrID, err)
	}
	return p, nil
}

// UnmountImage drops one mount of the image (all with force).
func (s *Store) UnmountImage(nameOrID string, force bool) error {
	img, _, err := s.resolve(nameOrID)
	if err != nil {
		return err
	}
	if _, err := s.store.UnmountImage(img.ID, force); err != nil && !errors.Is(err, storage.ErrLayerNotMounted) {
		return fmt.Errorf("unmounting image %s: %w", nameOrID, err)
	}
	return nil
}

// MountedImages lists the mounted images with their mount points.
func (s *Store) MountedImages() (map[string]string, error) {
	images, err := s.store.Images()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, img := range images {
		if img.TopLayer == "" {
			continue
		}
		l, err := s.store.Layer(img.TopLayer)
		if err != nil || l.MountCount == 0 || l.MountPoint == "" {
			continue
		}
		out[img.ID] = l.MountPoint
	}
	return out, nil
}

// SearchResult is one repository a registry search found.
type SearchResult struct {
	Index       string // the registry
	Name        string // registry/repository
	Description string
	Stars       int
	Official    bool
	Automated   bool
}

// Search asks registries for repositories whose name contains term.
// "host/term" searches that registry; a bare term searches each
// unqualified-search registry of registries.conf. Registries without a
// search API are searched through their catalog (/v2/_catalog).
func (s *Store) Search(ctx context.Context, term string, limit int, o RemoteOptions) ([]SearchResult, error) {
	sys, err := s.remoteContext(&o)
	if err != nil {
		return nil, err
	}
	registries := []string{}
	if hasDomain(term) {
		host, rest, _ := strings.Cut(term, "/")
		registries, term = append(registries, host), rest
	} else {
		search, _, err := searchRegistries(sys)
		if err != nil {
			return nil, err
		}
		registries = search
	}
	var out []SearchResult
	var errs []string
	for _, reg := range registries {
		res, err := docker.SearchRegistry(ctx, sys, reg, term, limit)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", reg, err))
			continue
		}
		for _, r := range res {
			name := r.Name
			if !strings.HasPrefix(name, reg+"/") {
				name = reg + "/" + name
			}
			out = append(out, SearchResult{Index: reg, Name: name, Description: r.Description,
				Stars: r.StarCount, Official: r.IsOfficial, Automated: r.IsAutomated})
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, fmt.Errorf("searching for %q: %s", term, strings.Join(errs, "; "))
	}
	return out, nil
}

// ListTags lists the tags of a repository in a registry.
func (s *Store) ListTags(ctx context.Context, repo string, o RemoteOptions) ([]string, error) {
	sys, err := s.remoteContext(&o)
	if err != nil {
		return nil, err
	}
	named, err := reference.ParseNormalizedNamed(strings.TrimPrefix(repo, dockerPrefix))
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid repository %q: %v", repo, err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return nil, err
	}
	tags, err := docker.GetRepositoryTags(ctx, sys, ref)
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", named.Name(), err)
	}
	return tags, nil
}
