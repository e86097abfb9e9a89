package libservin

import (
	"errors"
	"slices"
	"syscall"
	"testing"

	"github.com/servin/servin/libservin/errdefs"
)

func TestParseRestartPolicy(t *testing.T) {
	good := map[string][2]any{
		"": {"", 0}, "no": {"", 0}, "always": {"always", 0}, "unless-stopped": {"unless-stopped", 0},
		"on-failure": {"on-failure", 0}, "on-failure:3": {"on-failure", 3},
	}
	for in, want := range good {
		name, n, err := ParseRestartPolicy(in)
		if err != nil || name != want[0] || n != want[1] {
			t.Errorf("%q -> %q %d %v", in, name, n, err)
		}
	}
	for _, bad := range []string{"sometimes", "always:3", "on-failure:x", "on-failure:-1"} {
		if _, _, err := ParseRestartPolicy(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: want invalid argument, got %v", bad, err)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigkill": syscall.SIGKILL, "9": syscall.SIGKILL, "SIGUSR1": syscall.SIGUSR1, "RTMIN+1": 35} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("%q -> %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"NOPE", "0", "99", ""} {
		if _, err := ParseSignal(bad); err == nil {
			t.Errorf("%q must fail", bad)
		}
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "A=1"}, []string{"A=2", "B=3"})
	if !slices.Equal(got, []string{"PATH=/bin", "A=2", "B=3"}) {
		t.Errorf("got %v", got)
	}
}

func TestParseSize(t *testing.T) {
	if n, err := ParseSize("1k"); err != nil || n != 1024 {
		t.Errorf("1k -> %d %v", n, err)
	}
	if _, err := ParseSize("lots"); err == nil {
		t.Error("bad size must fail")
	}
}
