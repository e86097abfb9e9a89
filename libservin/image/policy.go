package image

import (
	"strings"

	"github.com/servin/servin/libservin/errdefs"
)

// PullPolicy says when an image is pulled for a new container
// (run/create --pull) or by pull --policy, with podman's meanings.
type PullPolicy string

const (
	// PullMissing pulls only when no local image has the name (the
	// default of run and create).
	PullMissing PullPolicy = "missing"
	// PullAlways pulls every time, failing when the pull fails.
	PullAlways PullPolicy = "always"
	// PullNever uses local images only.
	PullNever PullPolicy = "never"
	// PullNewer pulls when the registry's image differs from the local
	// one (by manifest digest); when the registry cannot be asked, the
	// local image is used.
	PullNewer PullPolicy = "newer"
)

// ParsePullPolicy accepts podman's spellings: always, missing, never,
// newer, their Kubernetes forms (IfMissing, IfNewer), and docker's
// true/false for always/missing. "" is def.
func ParsePullPolicy(s string, def PullPolicy) (PullPolicy, error) {
	switch strings.ToLower(s) {
	case "":
		return def, nil
	case "always", "true":
		return PullAlways, nil
	case "missing", "ifmissing", "ifnotpresent", "false":
		return PullMissing, nil
	case "never":
		return PullNever, nil
	case "newer", "ifnewer":
		return PullNewer, nil
	}
	return "", classed(errdefs.ErrInvalidArgument, "unsupported pull policy %q", s)
}

// LooksLikeID tells whether name can only be an image ID (64 hex digits,
// with or without "sha256:"): such names are never pulled.
func LooksLikeID(name string) bool {
	id, _ := strings.CutPrefix(name, "sha256:")
	return isFullID(id)
}
