package libservin

import "github.com/servin/servin/libservin/errdefs"

// errCtrStateImproper ends the messages of operations a container's state
// forbids, in podman's words ("...: container state improper").
var errCtrStateImproper = errdefs.Worded(errdefs.ErrFailedPrecondition, "container state improper")
