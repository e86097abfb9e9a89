package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// waitStates are wait --condition's values, as podman names container
// states; healthy and unhealthy are a healthcheck's statuses.
var waitStates = []string{"configured", "created", "exited", "healthy", "initialized", "paused", "removing", "running", "stopped", "stopping", "unhealthy"}

// checkWaitConditions validates wait's --condition values.
func checkWaitConditions(conds []string) error {
	for _, c := range conds {
		if !slices.Contains(waitStates, c) {
			return fmt.Errorf("unknown condition %q: must be one of %v: %w", c, waitStates, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// waitForConditions is wait with --condition: it polls the container until
// its state is one of conds. It prints the exit code when the condition is
// its exit (exited, stopped, or removing once it is gone) and -1 for the
// other states, as podman does.
func waitForConditions(ctx context.Context, rt *libservin.Runtime, name string, conds []string) (string, error) {
	exitConds := slices.Contains(conds, "exited") || slices.Contains(conds, "stopped")
	lastCode := "-1"
	for first := true; ; first = false {
		ctr, err := rt.Container(ctx, name)
		if errors.Is(err, errdefs.ErrNotFound) && slices.Contains(conds, "removing") && !first {
			return lastCode, nil
		}
		if err != nil {
			return "", err
		}
		for _, c := range conds {
			if (c == "healthy" || c == "unhealthy") && ctr.Config.Healthcheck == nil {
				return "", fmt.Errorf("cannot use condition %q: container %s has no healthcheck: %w", c, ctr.ID, errdefs.ErrInvalidArgument)
			}
		}
		st := ctr.State.Status
		if !ctr.Running() && st != libservin.StatusCreated {
			lastCode = fmt.Sprint(ctr.State.ExitCode)
			if exitConds {
				return lastCode, nil
			}
		}
		for _, c := range conds {
			switch {
			case c == st, c == ctr.Health,
				(c == "configured" || c == "created" || c == "initialized") && st == libservin.StatusCreated,
				c == "initialized" && ctr.Running():
				return "-1", nil
			}
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
