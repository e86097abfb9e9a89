package errdefs

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	cases := map[string]int{
		`Error: unable to start container process: exec: "nosuch": executable file not found in $PATH`: 127,
		`unable to start container process: exec: "/etc": is a directory`:                              126,
		`exec: "/x": permission denied`: 126,
		`cgroup setup failed`:           125,
	}
	for msg, want := range cases {
		err := ClassifyStartError(msg)
		if got := ExitCode(err); got != want {
			t.Errorf("%q: exit %d, want %d", msg, got, want)
		}
		if strings.HasPrefix(err.Error(), "Error:") {
			t.Errorf("%q: the CLI adds the Error: prefix itself", err)
		}
	}
	if ExitCode(fmt.Errorf("ctr: %w", ErrNotFound)) != 125 || ExitCode(nil) != 0 {
		t.Error("servin errors exit 125, success 0")
	}
	if !errors.Is(fmt.Errorf("x: %w", ClassifyStartError("executable file not found")), ErrCommandNotFound) {
		t.Error("class must survive wrapping")
	}
}
