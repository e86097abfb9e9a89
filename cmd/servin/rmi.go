package main

import (
	"context"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
)

// rmiOptions maps --rmi: it implies --rm, and contradicts --rm=false.
func rmiOptions(c *cli.Context, o *libservin.CreateOptions) error {
	if !c.Bool("rmi") {
		return nil
	}
	if c.IsSet("rm") && !c.Bool("rm") {
		return usageErr{"the --rmi option does not work without --rm"} // main.go
	}
	o.AutoRemove, o.AutoRemoveImage = true, true
	return nil
}

// removeImageOf removes a --rmi container's image once the container is
// gone; an image still in use stays, with a warning.
func removeImageOf(rt *libservin.Runtime, ctr *libservin.Container) {
	if err := rt.RemoveImageOf(context.Background(), ctr); err != nil {
		logrus.Warnf("failed to remove image %s: %v", ctr.ImageName, err)
	}
}
