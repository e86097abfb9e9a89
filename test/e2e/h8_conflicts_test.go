package e2e

import "testing"

// TestH8OptionConflicts follows podman's 620-option-conflicts test.
func TestH8OptionConflicts(t *testing.T) {
	s := newServin(t)
	t.Parallel()
	for _, c := range []struct {
		cmd        []string
		opt1, opt2 string
		args       []string
	}{
		{[]string{"create"}, "--cpu-period=1", "--cpus=2", []string{busybox}},
		{[]string{"run"}, "--cpu-quota=1", "--cpus=2", []string{busybox}},
		{[]string{"create"}, "--no-hosts", "--add-host=foo:1.1.1.1", []string{busybox}},
		{[]string{"container", "cleanup"}, "--all", "--exec=foo", nil},
		{[]string{"container", "cleanup"}, "--exec=foo", "--rmi", []string{"foo"}},
	} {
		want := "Error: " + flagName(c.opt1) + " and " + flagName(c.opt2) + " cannot be set together"
		for _, pair := range [][2]string{{c.opt1, c.opt2}, {c.opt2, c.opt1}} {
			args := append(append(append([]string{}, c.cmd...), pair[0], pair[1]), c.args...)
			s.expectStderr(s.run(args...), 125, want)
		}
	}
	for _, opt := range []string{"--arch=bar", "--os=bar"} {
		for _, cmd := range []string{"create", "pull"} {
			s.expectStderr(s.run(cmd, "--platform=foo", opt, "sdfsdf"), 125, "Error: --platform option can not be specified with --arch or --os")
		}
	}
}

func flagName(opt string) string {
	for i := range opt {
		if opt[i] == '=' {
			return opt[:i]
		}
	}
	return opt
}
