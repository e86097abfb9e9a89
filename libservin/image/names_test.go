package image

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                   "localhost/busybox:latest",
		"busybox:1.36":              "localhost/busybox:1.36",
		"foo/bar":                   "localhost/foo/bar:latest",
		"localhost/busybox":         "localhost/busybox:latest",
		"localhost:5000/busybox":    "localhost:5000/busybox:latest",
		"quay.io/x/y:z":             "quay.io/x/y:z",
		"docker.io/busybox":         "docker.io/library/busybox:latest",
		"index.docker.io/foo/bar:1": "docker.io/foo/bar:1",
		"busybox@sha256:" + strings.Repeat("a", 64): "localhost/busybox@sha256:" + strings.Repeat("a", 64),
	} {
		got, err := NormalizeName(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeNameInvalid(t *testing.T) {
	for _, in := range []string{"", "Busybox", "foo:bar:baz", "a b", "foo/", "-x", "busybox:" + strings.Repeat("t", 200)} {
		_, err := NormalizeName(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: %v is not ErrInvalidArgument", in, err)
		}
		if !strings.Contains(err.Error(), "\""+in+"\"") {
			t.Errorf("%q: error %q does not name the reference", in, err)
		}
	}
}

func TestNameCandidates(t *testing.T) {
	for in, want := range map[string][]string{
		"busybox":           {"localhost/busybox:latest", "docker.io/library/busybox:latest"},
		"busybox:1":         {"localhost/busybox:1", "docker.io/library/busybox:1"},
		"foo/bar":           {"localhost/foo/bar:latest", "docker.io/foo/bar:latest"},
		"quay.io/foo/bar":   {"quay.io/foo/bar:latest"},
		"localhost/busybox": {"localhost/busybox:latest"},
		"Busybox":           nil,
	} {
		if got := nameCandidates(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

func TestHasDomain(t *testing.T) {
	for in, want := range map[string]bool{
		"busybox": false, "foo/bar": false, "localhost/x": true, "quay.io/x": true,
		"host:5000/x": true, "localhost": false, "sha256:abc": false,
	} {
		if got := hasDomain(in); got != want {
			t.Errorf("%q: got %v", in, got)
		}
	}
}
