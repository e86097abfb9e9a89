package main

import (
	"os"

	_ "github.com/opencontainers/cgroups/devices" // device cgroup rules for libcontainer
	"github.com/opencontainers/runc/libcontainer"
	_ "github.com/opencontainers/runc/libcontainer/nsenter"
)

// libcontainer re-executes this binary as "servin init" inside the new
// namespaces; nsenter's C constructor has already run by the time Go starts.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
}
