package image

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"golang.org/x/sys/unix"
)

// ApplyChanges applies Dockerfile-style instructions (podman import/commit
// --change) to cfg, in order. Supported: CMD, ENTRYPOINT, ENV, LABEL,
// EXPOSE, VOLUME, WORKDIR, USER, STOPSIGNAL. The instruction and its value
// are separated by whitespace or "=" ("CMD sh" or "CMD=sh"). CMD and
// ENTRYPOINT take a JSON array or a shell string run with /bin/sh -c.
// A bad instruction is errdefs.ErrInvalidArgument naming it.
func ApplyChanges(cfg *v1.ImageConfig, changes []string) error {
	for _, change := range changes {
		if err := applyChange(cfg, change); err != nil {
			return classed(errdefs.ErrInvalidArgument, "invalid change %q: %v", change, err)
		}
	}
	return nil
}

func applyChange(cfg *v1.ImageConfig, change string) error {
	change = strings.TrimSpace(change)
	instr, value := change, ""
	if cut := strings.IndexAny(change, " \t="); cut >= 0 {
		instr, value = change[:cut], strings.TrimSpace(change[cut+1:])
	}
	instr = strings.ToUpper(instr)
	switch instr {
	case "CMD":
		cmd, err := commandValue(value)
		if err != nil {
			return err
		}
		cfg.Cmd = cmd
	case "ENTRYPOINT":
		// An empty ENTRYPOINT clears it, as in a Dockerfile.
		if value == "" {
			cfg.Entrypoint = nil
			return nil
		}
		ep, err := commandValue(value)
		if err != nil {
			return err
		}
		cfg.Entrypoint = ep
	case "ENV":
		return applyEnv(cfg, value)
	case "LABEL":
		return applyLabels(cfg, value)
	case "EXPOSE":
		return applyExpose(cfg, value)
	case "VOLUME":
		return applyVolumes(cfg, value)
	case "WORKDIR":
		if value == "" {
			return fmt.Errorf("WORKDIR needs a path")
		}
		if !path.IsAbs(value) {
			base := cfg.WorkingDir
			if base == "" {
				base = "/"
			}
			value = path.Join(base, value)
		}
		cfg.WorkingDir = path.Clean(value)
	case "USER":
		if value == "" {
			return fmt.Errorf("USER needs a user")
		}
		cfg.User = value
	case "STOPSIGNAL":
		if err := checkSignal(value); err != nil {
			return err
		}
		cfg.StopSignal = value
	default:
		return fmt.Errorf("unknown instruction %s", instr)
	}
	return nil
}

// commandValue parses the exec form (a JSON array of strings) or the shell
// form, which runs through /bin/sh -c like a Dockerfile.
func commandValue(value string) ([]string, error) {
	if value == "" {
		return nil, fmt.Errorf("needs a command")
	}
	if strings.HasPrefix(value, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(value), &argv); err == nil {
			return argv, nil
		}
		// Not valid JSON: docker treats it as a shell command too.
	}
	return []string{"/bin/sh", "-c", value}, nil
}

// applyEnv accepts "KEY=VALUE ..." (quotes group words) and the legacy
// "KEY VALUE" form. A key set again replaces the old value.
func applyEnv(cfg *v1.ImageConfig, value string) error {
	pairs, err := keyValues(value, true)
	if err != nil {
		return err
	}
	for _, kv := range pairs {
		setEnv(cfg, kv[0], kv[1])
	}
	return nil
}

func setEnv(cfg *v1.ImageConfig, key, val string) {
	entry := key + "=" + val
	for i, e := range cfg.Env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			cfg.Env[i] = entry
			return
		}
	}
	cfg.Env = append(cfg.Env, entry)
}

func applyLabels(cfg *v1.ImageConfig, value string) error {
	pairs, err := keyValues(value, false)
	if err != nil {
		return err
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	for _, kv := range pairs {
		cfg.Labels[kv[0]] = kv[1]
	}
	return nil
}

// keyValues parses "k=v k2='v 2'"; with legacy set, "KEY rest of line" is
// accepted too (ENV's old form).
func keyValues(value string, legacy bool) ([][2]string, error) {
	words, err := splitWords(value)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("needs KEY=VALUE")
	}
	if legacy && !strings.Contains(words[0], "=") {
		key, rest, _ := strings.Cut(value, " ")
		rest = strings.TrimSpace(rest)
		if unq, err := splitWords(rest); err == nil && len(unq) == 1 {
			rest = unq[0]
		}
		return [][2]string{{key, rest}}, nil
	}
	var out [][2]string
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not KEY=VALUE", w)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// splitWords splits on unquoted whitespace, removing quotes; a backslash
// escapes the next character outside single quotes.
func splitWords(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// applyExpose accepts "80", "80/tcp", "53/udp", "8000-8002/tcp".
func applyExpose(cfg *v1.ImageConfig, value string) error {
	fields := strings.Fields(value)
	if len(fields) == 0 {
		return fmt.Errorf("EXPOSE needs a port")
	}
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, f := range fields {
		ports, proto, _ := strings.Cut(f, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("invalid protocol %q in %q", proto, f)
		}
		lo, hi, err := portRange(ports)
		if err != nil {
			return fmt.Errorf("invalid port %q: %v", f, err)
		}
		for p := lo; p <= hi; p++ {
			cfg.ExposedPorts[strconv.Itoa(p)+"/"+proto] = struct{}{}
		}
	}
	return nil
}

func portRange(s string) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 1 || lo > 65535 {
		return 0, 0, fmt.Errorf("must be 1-65535")
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err := strconv.Atoi(b)
	if err != nil || hi < lo || hi > 65535 {
		return 0, 0, fmt.Errorf("bad range")
	}
	return lo, hi, nil
}

// applyVolumes accepts a JSON array or space-separated paths.
func applyVolumes(cfg *v1.ImageConfig, value string) error {
	var vols []string
	if strings.HasPrefix(value, "[") {
		if err := json.Unmarshal([]byte(value), &vols); err != nil {
			return fmt.Errorf("VOLUME: %v", err)
		}
	} else {
		vols = strings.Fields(value)
	}
	if len(vols) == 0 {
		return fmt.Errorf("VOLUME needs a path")
	}
	if cfg.Volumes == nil {
		cfg.Volumes = map[string]struct{}{}
	}
	for _, v := range vols {
		if v == "" {
			return fmt.Errorf("VOLUME path must not be empty")
		}
		cfg.Volumes[v] = struct{}{}
	}
	return nil
}

// checkSignal accepts a signal number or name ("9", "KILL", "SIGKILL").
func checkSignal(s string) error {
	if s == "" {
		return fmt.Errorf("STOPSIGNAL needs a signal")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > 64 {
			return fmt.Errorf("invalid signal %q", s)
		}
		return nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if unix.SignalNum(name) == 0 && !strings.HasPrefix(name, "SIGRTM") {
		return fmt.Errorf("invalid signal %q", s)
	}
	return nil
}
