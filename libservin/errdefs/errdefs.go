// Package errdefs defines the error classes servin returns and the single
// table that maps them to CLI exit codes (and, later, HTTP and gRPC codes).
//
// Call sites wrap a class with context:
//
//	fmt.Errorf("container %q: %w", name, errdefs.ErrNotFound)
//
// and callers test with errors.Is, never by matching strings.
package errdefs

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound: the named object does not exist.
	ErrNotFound = errors.New("no such object")
	// ErrAlreadyExists: an object with that name or ID exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument: the request itself is malformed.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrFailedPrecondition: the object is in a state that forbids the
	// operation (removing a running container, starting a paused one...).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrInUse: the object is used by another object (an image by a container).
	ErrInUse = errors.New("in use")
	// ErrCommandNotFound: the container's command does not exist (exit 127).
	ErrCommandNotFound = errors.New("command not found")
	// ErrCannotInvoke: the container's command exists but cannot be run (exit 126).
	ErrCannotInvoke = errors.New("permission denied")
	// ErrNotImplemented: the operation is not supported here.
	ErrNotImplemented = errors.New("not implemented")
)

// Exit codes used by the CLI, matching podman and docker.
const (
	ExitServinError     = 125
	ExitCannotInvoke    = 126
	ExitCommandNotFound = 127
)

// ExitCode maps an error to the exit code the CLI returns for it.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrCommandNotFound):
		return ExitCommandNotFound
	case errors.Is(err, ErrCannotInvoke):
		return ExitCannotInvoke
	default:
		return ExitServinError
	}
}

// ClassifyStartError turns the text of an OCI runtime start failure into a
// typed error, so that "executable file not found" exits 127 and
// "permission denied" on the command exits 126, as with podman.
func ClassifyStartError(msg string) error {
	msg = strings.TrimSpace(msg)
	for strings.HasPrefix(msg, "Error: ") {
		msg = strings.TrimPrefix(msg, "Error: ")
	}
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "executable file not found"),
		strings.Contains(m, "no such file or directory") && strings.Contains(m, "exec"):
		return wrap(msg+": OCI runtime attempted to invoke a command that was not found", ErrCommandNotFound)
	case strings.Contains(m, "permission denied") && strings.Contains(m, "exec"),
		strings.Contains(m, "is a directory"),
		strings.Contains(m, "exec format error"):
		return wrap(msg+": OCI permission denied", ErrCannotInvoke)
	}
	return errors.New(msg)
}

type classed struct {
	msg   string
	class error
}

func (c *classed) Error() string { return c.msg }
func (c *classed) Unwrap() error { return c.class }

func wrap(msg string, class error) error { return &classed{msg: msg, class: class} }

// Worded is an error of class whose message is exactly the given text, not
// followed by the class's name: for messages worded as podman's, which
// scripts and tests match ("...: no such container").
func Worded(class error, format string, args ...any) error {
	return wrap(fmt.Sprintf(format, args...), class)
}
