package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	pimage "go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	ocilayout "go.podman.io/image/v5/oci/layout"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage/pkg/ioutils"
)

// Manifest lists (multi-arch images) are built locally with `manifest
// create/add` and published with `manifest push`. A list under
// construction is kept as an OCI index in a JSON file of its own under
// GraphRoot/manifest-lists/, with where each instance comes from: an image
// of the store or a registry. Instances are copied only at push time.

// ManifestAddOptions tune adding an image to a list.
type ManifestAddOptions struct {
	RemoteOptions
	// All adds every instance of a remote list instead of one.
	All bool
	// Platform overrides (empty: from the image's config or the list).
	OS, Arch, Variant, OSVersion string
	OSFeatures                   []string
	Annotations                  map[string]string
}

// storedList is a list under construction.
type storedList struct {
	Name  string   `json:"name"`
	Index v1.Index `json:"index"`
	// Sources maps an instance digest to "containers-storage:IMAGEID" or
	// "docker://REPO@DIGEST".
	Sources map[digest.Digest]string `json:"sources"`
}

const storageSourcePrefix = "containers-storage:"

// ListID is the ID a list goes by, as podman gives lists image IDs: the
// digest of its full name, which also names its file.
func ListID(fullName string) string { return digest.Canonical.FromString(fullName).Encoded() }

func (s *Store) listsDir() string { return filepath.Join(s.graphRoot, "manifest-lists") }

func (s *Store) listPath(name string) string {
	return filepath.Join(s.listsDir(), ListID(name)+".json")
}

// listPathByID finds the file of the list whose ID is id, or starts with
// it (unique prefix, "sha256:" allowed).
func (s *Store) listPathByID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) < 3 || len(id) > 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return ""
	}
	entries, _ := os.ReadDir(s.listsDir())
	found := ""
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), id) && strings.HasSuffix(e.Name(), ".json") {
			if found != "" {
				return "" // ambiguous
			}
			found = filepath.Join(s.listsDir(), e.Name())
		}
	}
	return found
}

// readList finds a list by name, ID or unique ID prefix.
func (s *Store) readList(name string) (*storedList, error) {
	var data []byte
	full, nerr := NormalizeName(name)
	err := nerr
	if nerr == nil {
		data, err = os.ReadFile(s.listPath(full))
	}
	if err != nil {
		if p := s.listPathByID(name); p != "" {
			data, err = os.ReadFile(p)
		}
	}
	if nerr != nil && err == nerr {
		return nil, nerr
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, classed(errdefs.ErrNotFound, "%s: manifest list not known", name)
	}
	if err != nil {
		return nil, err
	}
	return decodeList(name, data)
}

func decodeList(name string, data []byte) (*storedList, error) {
	var l storedList
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("reading manifest list %s: %w", name, err)
	}
	return &l, nil
}

func (s *Store) writeList(l *storedList) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	p := s.listPath(l.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return ioutils.AtomicWriteFile(p, data, 0o600)
}

// ListExists reports whether a local manifest list has this name.
func (s *Store) ListExists(name string) bool {
	_, err := s.readList(name)
	return err == nil
}

// CreateList makes a new, empty list (or, with amend, reuses one) and adds
// images to it. It returns the list's ID (ListID).
func (s *Store) CreateList(ctx context.Context, name string, images []string, amend bool, o ManifestAddOptions) (string, error) {
	full, err := NormalizeName(name)
	if err != nil {
		return "", err
	}
	l, err := s.readList(full)
	switch {
	case err == nil && !amend:
		return "", classed(errdefs.ErrAlreadyExists, "manifest list %s already exists (use --amend to add to it)", full)
	case errors.Is(err, errdefs.ErrNotFound):
		l = &storedList{Name: full, Sources: map[digest.Digest]string{}, Index: v1.Index{
			Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{},
		}}
	case err != nil:
		return "", err
	}
	for _, img := range images {
		if err := s.addToList(ctx, l, img, o); err != nil {
			return "", err
		}
	}
	if err := s.writeList(l); err != nil {
		return "", err
	}
	return ListID(full), nil
}

// AddToList adds an image (a stored image, or "docker://..." / a
// registry reference not in the store) to the list and returns the
// digest of the instance added.
func (s *Store) AddToList(ctx context.Context, list, image string, o ManifestAddOptions) (digest.Digest, error) {
	l, err := s.readList(list)
	if err != nil {
		return "", err
	}
	n := len(l.Index.Manifests)
	if err := s.addToList(ctx, l, image, o); err != nil {
		return "", err
	}
	if err := s.writeList(l); err != nil {
		return "", err
	}
	if len(l.Index.Manifests) > n {
		return l.Index.Manifests[len(l.Index.Manifests)-1].Digest, nil
	}
	return "", nil
}

func (s *Store) addToList(ctx context.Context, l *storedList, image string, o ManifestAddOptions) error {
	if !strings.HasPrefix(image, dockerPrefix) {
		if img, _, err := s.resolve(image); err == nil {
			return s.addStoredInstance(ctx, l, img.ID, o)
		} else if !errors.Is(err, errdefs.ErrNotFound) {
			return err
		}
	}
	return s.addRemoteInstances(ctx, l, strings.TrimPrefix(image, dockerPrefix), o)
}

func (s *Store) addStoredInstance(ctx context.Context, l *storedList, id string, o ManifestAddOptions) error {
	ref, err := storagetransport.Transport.NewStoreReference(s.store, nil, id)
	if err != nil {
		return err
	}
	sys, err := s.systemContext()
	if err != nil {
		return err
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return err
	}
	cfg, _, err := s.imageConfig(ctx, id)
	if err != nil {
		return err
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return err
	}
	desc := v1.Descriptor{MediaType: mime, Digest: d, Size: int64(len(raw)),
		Platform: &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion, OSFeatures: cfg.OSFeatures}}
	l.put(desc, storageSourcePrefix+id, o)
	return nil
}

func (s *Store) addRemoteInstances(ctx context.Context, l *storedList, name string, o ManifestAddOptions) error {
	sys, err := s.remoteContext(&o.RemoteOptions)
	if err != nil {
		return err
	}
	cands, err := pullCandidates(sys, name)
	if err != nil {
		return err
	}
	named := cands[0]
	ref, err := docker.NewReference(named)
	if err != nil {
		return err
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return fmt.Errorf("adding %s: %w", named, err)
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return fmt.Errorf("adding %s: %w", named, err)
	}
	repo := named.Name()
	if !manifest.MIMETypeIsMultiImage(mime) {
		d, err := manifest.Digest(raw)
		if err != nil {
			return err
		}
		platform, err := remotePlatform(ctx, sys, src, nil)
		if err != nil {
			return fmt.Errorf("adding %s: %w", named, err)
		}
		l.put(v1.Descriptor{MediaType: mime, Digest: d, Size: int64(len(raw)), Platform: platform}, dockerPrefix+repo+"@"+d.String(), o)
		return nil
	}
	list, err := manifest.ListFromBlob(raw, mime)
	if err != nil {
		return err
	}
	var chosen []digest.Digest
	if o.All {
		chosen = list.Instances()
	} else {
		d, err := list.ChooseInstance(sys)
		if err != nil {
			return fmt.Errorf("adding %s: %w", named, err)
		}
		chosen = []digest.Digest{d}
	}
	for _, d := range chosen {
		info, err := list.Instance(d)
		if err != nil {
			return err
		}
		desc := v1.Descriptor{MediaType: info.MediaType, Digest: d, Size: info.Size, Platform: info.ReadOnly.Platform}
		l.put(desc, dockerPrefix+repo+"@"+d.String(), o)
	}
	return nil
}

// remotePlatform reads the platform of one image from its config.
func remotePlatform(ctx context.Context, sys *types.SystemContext, src types.ImageSource, instance *digest.Digest) (*v1.Platform, error) {
	img, err := pimage.FromUnparsedImage(ctx, sys, pimage.UnparsedInstance(src, instance))
	if err != nil {
		return nil, err
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion, OSFeatures: cfg.OSFeatures}, nil
}

// put adds or replaces (same digest) an instance, applying the overrides.
func (l *storedList) put(desc v1.Descriptor, source string, o ManifestAddOptions) {
	if desc.Platform == nil {
		desc.Platform = &v1.Platform{}
	}
	p := desc.Platform
	for _, ov := range []struct {
		dst *string
		v   string
	}{{&p.OS, o.OS}, {&p.Architecture, o.Arch}, {&p.Variant, o.Variant}, {&p.OSVersion, o.OSVersion}} {
		if ov.v != "" {
			*ov.dst = ov.v
		}
	}
	if len(o.OSFeatures) > 0 {
		p.OSFeatures = o.OSFeatures
	}
	if len(o.Annotations) > 0 {
		desc.Annotations = o.Annotations
	}
	l.Index.Manifests = slices.DeleteFunc(l.Index.Manifests, func(d v1.Descriptor) bool { return d.Digest == desc.Digest })
	l.Index.Manifests = append(l.Index.Manifests, desc)
	if l.Sources == nil {
		l.Sources = map[digest.Digest]string{}
	}
	l.Sources[desc.Digest] = source
}

// RemoveFromList drops the instance with digest d from the list.
func (s *Store) RemoveFromList(list string, d digest.Digest) error {
	l, err := s.readList(list)
	if err != nil {
		return err
	}
	n := len(l.Index.Manifests)
	l.Index.Manifests = slices.DeleteFunc(l.Index.Manifests, func(desc v1.Descriptor) bool { return desc.Digest == d })
	if len(l.Index.Manifests) == n {
		return classed(errdefs.ErrNotFound, "manifest list %s has no instance %s", list, d)
	}
	delete(l.Sources, d)
	return s.writeList(l)
}

// ListImages describes the local manifest lists as images, as podman
// shows them: ID, name, when the list was last changed and the size of its
// index.
func (s *Store) ListImages() ([]*Image, error) {
	entries, err := os.ReadDir(s.listsDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Image
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.listsDir(), e.Name()))
		if err != nil {
			continue
		}
		l, err := decodeList(id, data)
		if err != nil {
			continue
		}
		index, err := json.Marshal(l.Index)
		if err != nil {
			continue
		}
		img := &Image{ID: ListID(l.Name), Names: []string{l.Name}, Digest: digest.FromBytes(index).String(), Size: int64(len(index))}
		if fi, err := e.Info(); err == nil {
			img.Created = fi.ModTime()
		}
		out = append(out, img)
	}
	return out, nil
}

// RemoveListImage removes a local list found by name or ID and returns
// its full name and ID.
func (s *Store) RemoveListImage(nameOrID string) (name, id string, err error) {
	l, err := s.readList(nameOrID)
	if err != nil {
		return "", "", err
	}
	if err := os.Remove(s.listPath(l.Name)); err != nil {
		return "", "", err
	}
	return l.Name, ListID(l.Name), nil
}

// DeleteList removes a local manifest list (not the images in it).
func (s *Store) DeleteList(name string) error {
	l, err := s.readList(name)
	if err != nil {
		return err
	}
	return os.Remove(s.listPath(l.Name))
}

// InspectList returns a local list as an OCI index document.
func (s *Store) InspectList(name string) ([]byte, error) {
	l, err := s.readList(name)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(l.Index, "", "    ")
}

// InspectRemoteManifest returns the manifest (or list) a registry serves
// for name.
func (s *Store) InspectRemoteManifest(ctx context.Context, name string, o RemoteOptions) ([]byte, error) {
	sys, err := s.remoteContext(&o)
	if err != nil {
		return nil, err
	}
	cands, err := pullCandidates(sys, strings.TrimPrefix(name, dockerPrefix))
	if err != nil {
		return nil, err
	}
	ref, err := docker.NewReference(cands[0])
	if err != nil {
		return nil, err
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", cands[0], err)
	}
	defer src.Close()
	raw, _, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", cands[0], err)
	}
	return raw, nil
}

// PushList publishes a list and all its instances to dest (a registry
// reference). The instances are first gathered into an OCI layout next to
// the store, where stored images get the manifests they will have in the
// registry; the index is then written there and the whole layout copied.
func (s *Store) PushList(ctx context.Context, list, dest string, o PushOptions) (digest.Digest, error) {
	l, err := s.readList(list)
	if err != nil {
		return "", err
	}
	if len(l.Index.Manifests) == 0 {
		return "", classed(errdefs.ErrFailedPrecondition, "manifest list %s is empty", list)
	}
	if dest == "" {
		dest = l.Name
	}
	destRef, err := pushDestination(dest)
	if err != nil {
		return "", err
	}
	sys, err := s.remoteContext(&o.RemoteOptions)
	if err != nil {
		return "", err
	}
	policy, err := policyContext()
	if err != nil {
		return "", err
	}
	defer policy.Destroy()
	dir, err := os.MkdirTemp(sys.BigFilesTemporaryDir, "manifest-push-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)

	index := l.Index
	index.Manifests = nil
	for i, desc := range l.Index.Manifests {
		staged, err := s.stageInstance(ctx, sys, dir, fmt.Sprintf("instance-%d", i), l.Sources[desc.Digest])
		if err != nil {
			return "", fmt.Errorf("pushing manifest list %s: instance %s: %w", list, desc.Digest, err)
		}
		staged.Platform, staged.Annotations = desc.Platform, desc.Annotations
		index.Manifests = append(index.Manifests, staged)
	}
	if err := writeLayoutIndex(dir, &index); err != nil {
		return "", err
	}
	srcRef, err := ocilayout.NewReference(dir, "")
	if err != nil {
		return "", err
	}
	copts, err := pushCopyOptions(sys, &o)
	if err != nil {
		return "", err
	}
	copts.ImageListSelection = copy.CopyAllImages
	raw, err := copy.Image(ctx, policy, destRef, srcRef, copts)
	if err != nil {
		return "", pushError(dest, err)
	}
	return manifest.Digest(raw)
}

// stageInstance copies one instance into the OCI layout dir and returns
// its descriptor there.
func (s *Store) stageInstance(ctx context.Context, sys *types.SystemContext, dir, name, source string) (v1.Descriptor, error) {
	var srcRef types.ImageReference
	var err error
	switch {
	case strings.HasPrefix(source, storageSourcePrefix):
		srcRef, err = storagetransport.Transport.NewStoreReference(s.store, nil, strings.TrimPrefix(source, storageSourcePrefix))
	case strings.HasPrefix(source, dockerPrefix):
		srcRef, err = pushDestination(source)
	default:
		err = fmt.Errorf("unknown instance source %q", source)
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	destRef, err := ocilayout.NewReference(dir, name)
	if err != nil {
		return v1.Descriptor{}, err
	}
	pc, err := policyContext()
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer pc.Destroy()
	raw, err := copy.Image(ctx, pc, destRef, srcRef, &copy.Options{SourceCtx: sys, DestinationCtx: sys})
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: manifest.GuessMIMEType(raw), Digest: d, Size: int64(len(raw))}, nil
}

// writeLayoutIndex stores index as a blob of the layout and makes it the
// layout's only entry.
func writeLayoutIndex(dir string, index *v1.Index) error {
	raw, err := json.Marshal(index)
	if err != nil {
		return err
	}
	d := digest.Canonical.FromBytes(raw)
	if err := os.WriteFile(filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded()), raw, 0o644); err != nil {
		return err
	}
	top := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{{MediaType: v1.MediaTypeImageIndex, Digest: d, Size: int64(len(raw))}}}
	data, err := json.Marshal(top)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, v1.ImageIndexFile), data, 0o644)
}
