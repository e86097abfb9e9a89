package image

import (
	"errors"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage"
)

// NormalizeName turns a user-given image name into the full name servin
// stores, as podman does for import and tag: a name without a registry is
// put under "localhost/", "docker.io/x" becomes "docker.io/library/x", and a
// missing tag becomes ":latest" (a digest is kept as is). A malformed
// reference is an errdefs.ErrInvalidArgument naming it.
func NormalizeName(name string) (string, error) {
	named, err := normalizeNamed(name)
	if err != nil {
		return "", err
	}
	return named.String(), nil
}

func normalizeNamed(name string) (reference.Named, error) {
	if name == "" {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: empty name", name)
	}
	qualified := name
	if !hasDomain(name) {
		qualified = "localhost/" + name
	}
	named, err := reference.ParseNormalizedNamed(qualified)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: %v", name, err)
	}
	return reference.TagNameOnly(named), nil
}

// hasDomain reports whether name starts with a registry, using docker's
// rule: the first path component is a registry if it contains "." or ":"
// or is "localhost".
func hasDomain(name string) bool {
	first, _, found := strings.Cut(name, "/")
	if !found {
		return false
	}
	return strings.ContainsAny(first, ".:") || first == "localhost"
}

// isFullID reports whether s is a 64-hex-digit image ID.
func isFullID(s string) bool {
	return reference.IsFullIdentifier(s)
}

// nameCandidates lists the stored names a user-given name may stand for, in
// podman's order: a short name is first looked up under localhost/, then
// under docker.io (docker compatibility). Unparsable names have none.
func nameCandidates(name string) []string {
	if hasDomain(name) {
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			return nil
		}
		return []string{reference.TagNameOnly(named).String()}
	}
	var out []string
	if named, err := reference.ParseNormalizedNamed("localhost/" + name); err == nil {
		out = append(out, reference.TagNameOnly(named).String())
	}
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		out = append(out, reference.TagNameOnly(named).String())
	}
	return out
}

// resolve finds the stored image for a user-given name or ID, following
// podman's lookup order:
//
//  1. "sha256:ID" or a full 64-hex ID: by ID only;
//  2. the name's candidates (localhost/NAME:TAG, docker.io/library/NAME:TAG);
//  3. a unique ID prefix;
//  4. a short name matching the last components of any stored name
//     ("busybox" finds "quay.io/foo/busybox:latest").
//
// matched is the full stored name when the image was found by name, "" when
// it was found by ID.
func (s *Store) resolve(name string) (img *storage.Image, matched string, err error) {
	if name == "" {
		return nil, "", classed(errdefs.ErrInvalidArgument, "image name or ID must not be empty")
	}
	if id, ok := strings.CutPrefix(name, "sha256:"); ok {
		if !isFullID(id) {
			return nil, "", errImageNotKnown(name)
		}
		return s.byID(name, id)
	}
	if isFullID(name) {
		return s.byID(name, name)
	}
	for _, cand := range nameCandidates(name) {
		img, err := s.store.Image(cand)
		if err == nil && containsName(img, cand) {
			return img, cand, nil
		}
		if err != nil && !errors.Is(err, storage.ErrImageUnknown) {
			return nil, "", err
		}
	}
	// storage's Image also accepts any unique ID prefix.
	if img, err := s.store.Image(name); err == nil && strings.HasPrefix(img.ID, name) {
		return img, "", nil
	}
	return s.bySuffix(name)
}

func (s *Store) byID(name, id string) (*storage.Image, string, error) {
	img, err := s.store.Image(id)
	if err != nil {
		if errors.Is(err, storage.ErrImageUnknown) {
			return nil, "", errImageNotKnown(name)
		}
		return nil, "", err
	}
	if img.ID != id {
		return nil, "", errImageNotKnown(name)
	}
	return img, "", nil
}

func containsName(img *storage.Image, name string) bool {
	for _, n := range img.Names {
		if n == name {
			return true
		}
	}
	return false
}

// bySuffix matches a short name ("busybox", "foo/busybox:1") against the
// repository paths of all stored names, the way podman matches short names
// that are not under localhost/ or docker.io.
func (s *Store) bySuffix(name string) (*storage.Image, string, error) {
	if hasDomain(name) {
		return nil, "", errImageNotKnown(name)
	}
	short, err := reference.ParseNormalizedNamed("localhost/" + name)
	if err != nil {
		return nil, "", errImageNotKnown(name)
	}
	if _, digested := short.(reference.Digested); digested {
		return nil, "", errImageNotKnown(name)
	}
	tagged := reference.TagNameOnly(short).(reference.NamedTagged)
	suffix := "/" + reference.Path(tagged)
	images, err := s.store.Images()
	if err != nil {
		return nil, "", err
	}
	for i := range images {
		for _, n := range images[i].Names {
			named, err := reference.ParseNormalizedNamed(n)
			if err != nil {
				continue
			}
			t, ok := named.(reference.NamedTagged)
			if ok && t.Tag() == tagged.Tag() && strings.HasSuffix(named.Name(), suffix) {
				return &images[i], n, nil
			}
		}
	}
	return nil, "", errImageNotKnown(name)
}
