package libservin

import (
	"go.podman.io/image/v5/docker/reference"

	"github.com/servin/servin/libservin/image"
)

// createdImageName is the name a container records for its image: the
// stored name the user's reference stands for (an image with several tags
// is known by the one the user gave), else the image's first name.
func createdImageName(names []string, ref string) string {
	var candidates []string
	if n, err := image.NormalizeName(ref); err == nil {
		candidates = append(candidates, n) // short names live under localhost/
	}
	if named, err := reference.ParseNormalizedNamed(ref); err == nil {
		candidates = append(candidates, reference.TagNameOnly(named).String()) // docker.io/library/...
	}
	for _, c := range candidates {
		for _, n := range names {
			if n == c {
				return n
			}
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ref
}
