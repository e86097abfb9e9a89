package libservin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
)

func invalidWorded(format string, args ...any) error {
	return errdefs.Worded(errdefs.ErrInvalidArgument, format, args...)
}

// normalizeDeviceCgroupRule checks a --device-cgroup-rule ("TYPE
// MAJOR[:MINOR] ACCESS") with podman's messages, and returns it with the
// minor spelled out ("a 7 rmw" is "a 7:* rmw").
func normalizeDeviceCgroupRule(rule string) (string, error) {
	f := strings.Fields(rule)
	if len(f) != 3 {
		return "", invalidWorded("invalid device cgroup rule requires type, major:Minor, and access rules: %q", rule)
	}
	switch f[0] {
	case "a", "b", "c":
	default:
		return "", invalidWorded("invalid device type in device-access-add: %s", f[0])
	}
	major, minor, ok := strings.Cut(f[1], ":")
	if !ok {
		minor = "*"
	}
	for _, n := range []string{major, minor} {
		if n == "*" {
			continue
		}
		if _, err := strconv.ParseUint(n, 10, 64); err != nil {
			return "", invalidWorded("%v", err)
		}
	}
	for _, c := range f[2] {
		if c != 'r' && c != 'w' && c != 'm' {
			return "", invalidWorded("invalid device access in device-access-add: %c", c)
		}
	}
	return fmt.Sprintf("%s %s:%s %s", f[0], major, minor, f[2]), nil
}

// podmanLimit prints a ulimit value as podman's messages do: "-1
// (unlimited)" or the number.
func podmanLimit(v int64) string {
	if v < 0 {
		return "-1 (unlimited)"
	}
	return strconv.FormatInt(v, 10)
}

// nameInUse words a name clash at create as podman does, with its hint.
func nameInUse(err error) error {
	if !errors.Is(err, errdefs.ErrAlreadyExists) {
		return err
	}
	return errdefs.Worded(errdefs.ErrAlreadyExists, "creating container: %v, or use --replace to instruct servin to do so.", err)
}

// errCtrStateImproper ends the messages of operations a container's state
// forbids, in podman's words ("...: container state improper").
var errCtrStateImproper = errdefs.Worded(errdefs.ErrFailedPrecondition, "container state improper")
