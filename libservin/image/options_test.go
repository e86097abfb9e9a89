package image

import (
	"slices"
	"testing"
)

func TestDriverOptions(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{nil, []string{"overlay.mountopt=nodev"}},
		{[]string{"overlay.mountopt=nodev,metacopy=on"}, []string{"overlay.mountopt=nodev,metacopy=on"}},
		{[]string{"overlay.imagestore=/s"}, []string{"overlay.imagestore=/s", "overlay.mountopt=nodev"}},
		// --storage-opt="": only what was given, no defaults.
		{[]string{""}, []string{}},
		{[]string{"", "overlay.imagestore=/s"}, []string{"overlay.imagestore=/s"}},
	} {
		if got := driverOptions(c.in); !slices.Equal(got, c.want) {
			t.Errorf("driverOptions(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
