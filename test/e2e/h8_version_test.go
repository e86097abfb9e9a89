package e2e

import (
	"context"
	"strings"
	"testing"
)

// TestH8VersionFastPath checks that `servin version` answers before the
// library and its image, storage and network dependencies initialize (the
// start-up cost that made it slow), and that it prints exactly what the
// full program prints.
func TestH8VersionFastPath(t *testing.T) {
	if suite.podman {
		t.Skip("servin's own start-up path")
	}
	s := newServin(t)
	t.Parallel()
	initTrace := func(args ...string) (stdout, inits string) {
		t.Helper()
		cmd := s.st.command(context.Background(), args...)
		cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
		var errb strings.Builder
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("servin %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return string(out), errb.String()
	}
	heavy := []string{"init github.com/servin/servin/libservin ", "init github.com/distribution/reference ", "init go.podman.io/image/v5/docker/reference "}

	fast, fastInits := initTrace("version")
	// --log-level is the full program's to check, so this takes the usual
	// path through the CLI definitions.
	full, fullInits := initTrace("--log-level=warn", "version")
	for _, h := range heavy {
		if strings.Contains(fastInits, h) {
			t.Errorf("`servin version` ran %q: the fast path did not answer", strings.TrimSpace(h))
		}
		if !strings.Contains(fullInits, h) {
			t.Errorf("the full program never ran %q: this test no longer tells the two paths apart", strings.TrimSpace(h))
		}
	}
	if fast != full || !strings.HasPrefix(fast, "Client:       Servin Engine\nVersion:      ") || !strings.Contains(fast, "\nOS/Arch:      linux/") {
		t.Errorf("fast path printed\n%s\nthe full program printed\n%s", fast, full)
	}

	fastV, fastVInits := initTrace("--version")
	if strings.Contains(fastVInits, heavy[0]) || !strings.HasPrefix(fastV, "servin version ") {
		t.Errorf("--version printed %q after\n%s", fastV, fastVInits)
	}
}
