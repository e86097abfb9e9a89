package main

import (
	"slices"
	"testing"
)

func TestNormalizeArgs(t *testing.T) {
	app := newApp()
	cases := []struct{ in, want []string }{
		{[]string{"servin", "run", "-it", "--rm", "busybox", "sh", "-c", "x"},
			[]string{"servin", "run", "--interactive", "--tty", "--rm", "busybox", "sh", "-c", "x"}},
		{[]string{"servin", "run", "-e", "A=1", "--env", "B=2", "busybox", "env"},
			[]string{"servin", "run", "--env=A=1", "--env=B=2", "busybox", "env"}},
		{[]string{"servin", "run", "-eA=1", "-dit", "busybox", "ls", "-l"},
			[]string{"servin", "run", "--env=A=1", "--detach", "--interactive", "--tty", "busybox", "ls", "-l"}},
		{[]string{"servin", "--root", "/r", "rm", "ctr", "-f", "-t", "0"},
			[]string{"servin", "--root=/r", "rm", "--force", "--time=0", "ctr"}},
		// A value that looks like a flag stays the flag's value.
		{[]string{"servin", "logs", "--since", "-1s", "-f", "ctr"},
			[]string{"servin", "logs", "--since=-1s", "--follow", "ctr"}},
		{[]string{"servin", "container", "rm", "ctr", "-f"},
			[]string{"servin", "container", "rm", "--force", "ctr"}},
		{[]string{"servin", "exec", "-i", "ctr", "sh", "-e"},
			[]string{"servin", "exec", "--interactive", "ctr", "sh", "-e"}},
		{[]string{"servin", "run", "--net=host", "busybox"},
			[]string{"servin", "run", "--network=host", "busybox"}},
		{[]string{"servin", "run", "--bogus", "busybox"},
			[]string{"servin", "run", "--bogus", "busybox"}},
		// Global flags after the command name go before it.
		{[]string{"servin", "info", "--storage-opt=", "--root", "/r", "--format", "x"},
			[]string{"servin", "--storage-opt=", "--root=/r", "info", "--format=x"}},
		{[]string{"servin", "--runroot", "/rr", "run", "--rm", "--root", "/r", "busybox", "ls", "--root"},
			[]string{"servin", "--runroot=/rr", "--root=/r", "run", "--rm", "busybox", "ls", "--root"}},
		{[]string{"servin", "volume", "ls", "--log-level=debug"},
			[]string{"servin", "--log-level=debug", "volume", "ls"}},
	}
	for _, c := range cases {
		if got := normalizeArgs(app, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
