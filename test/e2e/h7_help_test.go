package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// helpCommands lists the commands `servin help ARGS...` shows under
// "Available Commands:".
func helpCommands(s *servin, args ...string) []string {
	out := s.mustRun(append([]string{"help"}, args...)...)
	var cmds []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Available Commands:"):
			in = true
		case strings.HasPrefix(line, "Options:"):
			in = false
		case in && strings.TrimSpace(line) != "":
			cmds = append(cmds, strings.Fields(line)[0])
		}
	}
	return cmds
}

var (
	noArgsErr   = regexp.MustCompile(`^Error: .*takes no arguments`)
	needArgsErr = regexp.MustCompile(`Error:.* (require|specif|must|provide|need|choose|accepts)`)
)

// TestH7HelpLayout walks every command as podman's 015-help system test
// walks podman's: each has "Usage:" naming it, "[options]" exactly when
// there is an "Options:" section, upper-case argument names, and refuses
// argument counts its usage line rules out (exit 125).
func TestH7HelpLayout(t *testing.T) {
	if suite.podman {
		t.Skip("podman's own layout is checked by its own tests")
	}
	t.Parallel()
	s := newIsolatedServin(t)
	checked := 0
	var walk func(path ...string)
	walk = func(path ...string) {
		cmds := helpCommands(s, path...)
		if len(cmds) == 0 {
			t.Fatalf("servin help %s lists no commands", strings.Join(path, " "))
		}
		for _, cmd := range cmds {
			full := append(append([]string{}, path...), cmd)
			name := "servin " + strings.Join(full, " ")
			help := s.mustRun(append(full, "--help")...)
			lines := strings.Split(help, "\n")
			usage := ""
			for i, l := range lines {
				if l == "Usage:" && i+1 < len(lines) {
					usage = lines[i+1]
				}
			}
			if !strings.HasPrefix(usage+" ", "  "+name+" ") {
				t.Errorf("%s --help: usage line %q", name, usage)
				continue
			}
			rest := strings.TrimSpace(strings.TrimPrefix(usage, "  "+name))
			if strings.HasPrefix(rest, "[command]") {
				if cmd != "help" {
					walk(full...)
				}
				continue
			}
			hasOptions := strings.HasPrefix(rest, "[options]")
			rest = strings.TrimSpace(strings.TrimPrefix(rest, "[options]"))
			if hasOptions != strings.Contains(help, "\nOptions:") {
				t.Errorf("%s: [options] in usage %v, Options: section %v", name, hasOptions, !hasOptions)
			}
			if strings.ToUpper(rest) != rest {
				t.Errorf("%s: argument names must be upper case: %q", name, rest)
			}
			if rest == "" {
				r := s.runWithStdin(strings.NewReader(""), append(full, "invalid-arg")...)
				if r.exit != 125 || !noArgsErr.MatchString(r.stderr) {
					t.Errorf("%s invalid-arg: exit %d, %q", name, r.exit, r.stderr)
				}
			}
			if rest != "" && rest[0] != '[' && !strings.Contains(rest, "[options]") {
				r := s.runWithStdin(strings.NewReader(""), full...)
				if r.exit != 125 || !needArgsErr.MatchString(r.stderr) {
					t.Errorf("%s without arguments: exit %d, %q", name, r.exit, r.stderr)
				}
			}
			if !strings.Contains(rest, "...") {
				n := len(strings.Fields(rest))
				args := append([]string{}, full...)
				for i := 0; i <= n; i++ {
					args = append(args, fmt.Sprintf("x%d", i))
				}
				r := s.runWithStdin(strings.NewReader(""), args...)
				if r.exit != 125 || !strings.HasPrefix(r.stderr, "Error:") {
					t.Errorf("%s with %d arguments (at most %d): exit %d, %q", name, n+1, n, r.exit, r.stderr)
				}
			}
			checked++
		}
		// A group without a subcommand, and with one it does not have.
		if len(path) > 0 {
			s.expectExit(s.run(path...), 125)
			r := s.run(append(path, "NoSuchCommand")...)
			if r.exit != 125 || !strings.Contains(r.stderr, "unrecognized command") {
				t.Errorf("servin %s NoSuchCommand: exit %d, %q", strings.Join(path, " "), r.exit, r.stderr)
			}
		}
	}
	walk()
	if checked < 50 {
		t.Errorf("only %d commands checked", checked)
	}
	for _, h := range []string{"help", "--help", "-h"} {
		if out := s.mustRun(h); !strings.HasPrefix(out, "manage containers and images") {
			t.Errorf("servin %s: %q", h, strings.SplitN(out, "\n", 2)[0])
		}
	}
}
