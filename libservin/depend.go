package libservin

import (
	"context"
	"errors"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
)

// joinedContainers lists the IDs of the containers whose namespaces c
// joins (--network, --pid, --ipc or --uts container:ID): c depends on them.
func joinedContainers(c *Container) []string {
	var ids []string
	for _, mode := range []string{c.Config.NetworkMode, c.Config.Security.PidMode, c.Config.Security.IpcMode, c.Config.Security.UTSMode} {
		if id, ok := strings.CutPrefix(mode, "container:"); ok && id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// directDependents returns the containers that join a namespace of id.
func (r *Runtime) directDependents(ctx context.Context, id string) ([]*Container, error) {
	recs, err := r.db.ContainersWithConfigText(ctx, "container:"+id)
	if err != nil {
		return nil, err
	}
	var out []*Container
	for _, rec := range recs {
		c, err := fromRecord(rec)
		if err != nil || c.ID == id {
			continue
		}
		for _, j := range joinedContainers(c) {
			if j == id {
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
}

// Dependents returns every container that depends on nameOrID, directly
// or through another, those that depend on others first: the order in
// which rm --depend removes them.
func (r *Runtime) Dependents(ctx context.Context, nameOrID string) ([]*Container, error) {
	rec, err := r.db.GetContainer(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	var out []*Container
	seen := map[string]bool{rec.ID: true}
	var walk func(id string) error
	walk = func(id string) error {
		deps, err := r.directDependents(ctx, id)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			if err := walk(d.ID); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	}
	return out, walk(rec.ID)
}

// removeDependents is Remove's first step: a container others depend on
// is removed only after them, with o.Depend, and otherwise not at all
// (podman's message and class).
func (r *Runtime) removeDependents(ctx context.Context, nameOrID string, o RemoveOptions) error {
	rec, err := r.db.GetContainer(ctx, nameOrID)
	if err != nil {
		return nil // Remove reports it
	}
	deps, err := r.directDependents(ctx, rec.ID)
	if err != nil || len(deps) == 0 {
		return err
	}
	if !o.Depend {
		ids := make([]string, len(deps))
		for i, d := range deps {
			ids[i] = d.ID
		}
		return errdefs.Worded(errdefs.ErrAlreadyExists, "container %s has dependent containers which must be removed before it: %s: container already exists", rec.ID, strings.Join(ids, ","))
	}
	for _, d := range deps {
		if _, err := r.Remove(ctx, d.ID, o); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return err
		}
	}
	return nil
}
