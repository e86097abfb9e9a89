package image

import (
	"fmt"

	"github.com/servin/servin/libservin/errdefs"
)

// classedError carries podman's exact wording while still matching an
// errdefs class with errors.Is.
type classedError struct {
	msg   string
	class error
}

func (e *classedError) Error() string { return e.msg }
func (e *classedError) Unwrap() error { return e.class }

func classed(class error, format string, args ...any) error {
	return &classedError{msg: fmt.Sprintf(format, args...), class: class}
}

// errImageNotKnown is podman's "NAME: image not known".
func errImageNotKnown(name string) error {
	return classed(errdefs.ErrNotFound, "%s: image not known", name)
}

// errImageInUse is podman's refusal to remove an image that containers use.
func errImageInUse(id string) error {
	return classed(errdefs.ErrInUse,
		"image used by %s: image is in use by a container: consider listing external containers and force-removing image", id)
}

// causeError is a message of servin's own that still matches, with
// errors.Is and errors.As, the errors it was made from.
type causeError struct {
	msg    string
	causes []error
}

func (e *causeError) Error() string   { return e.msg }
func (e *causeError) Unwrap() []error { return e.causes }

func newCauseError(msg string, causes ...error) error {
	e := &causeError{msg: msg}
	for _, c := range causes {
		if c != nil {
			e.causes = append(e.causes, c)
		}
	}
	return e
}
