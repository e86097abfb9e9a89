package libservin

import (
	"errors"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

func TestParseNetworkMode(t *testing.T) {
	for in, want := range map[string]string{
		"": NetModeBridge, "bridge": NetModeBridge, "mynet": NetModeBridge, "a,b": NetModeBridge,
		"none": NetModeNone, "private": NetModeNone, "host": NetModeHost,
		"container:web": "container:web", "ns:/run/netns/x": "ns:/run/netns/x",
	} {
		if got, err := parseNetworkMode(in); err != nil || got != want {
			t.Errorf("parseNetworkMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"container:", "ns:relative", "slirp4netns:x", "a/b"} {
		if _, err := parseNetworkMode(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseNetworkMode(%q): want invalid argument, got %v", bad, err)
		}
	}
}
