package libservin

import (
	"path/filepath"
)

// systemdMode decides --systemd: "always" runs the container in systemd
// mode, "false" never, and "true" (the default) when the command is
// systemd or an init that is systemd on most distributions, as podman
// decides.
func systemdMode(opt string, args []string) (bool, error) {
	switch opt {
	case "always":
		return true, nil
	case "false":
		return false, nil
	case "", "true":
	default:
		return false, invalidWorded("invalid value %q for --systemd: use true, false or always", opt)
	}
	if len(args) == 0 {
		return false, nil
	}
	switch args[0] {
	case "/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init":
		return true, nil
	}
	return filepath.Base(args[0]) == "systemd", nil
}

// systemdStopSignal is what stops systemd cleanly (SIGRTMIN+3).
const systemdStopSignal = "SIGRTMIN+3"
