package main

import (
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// startTargets is what start acts on: the arguments, or with --all every
// container that is not running, narrowed by --filter (which, alone,
// picks among all containers). Arguments print as given, the rest as IDs.
func startTargets(c *cli.Context, rt *libservin.Runtime) ([]string, error) {
	if c.Bool("latest") {
		return latestOrArgs(c, rt) // ctrflags.go
	}
	if c.Bool("all") && c.NArg() > 0 {
		return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "either start all containers or the container(s) provided in the arguments")
	}
	filters, err := parseFilters(c.StringSlice("filter")) // format.go
	if err != nil {
		return nil, err
	}
	if !c.Bool("all") && len(filters) == 0 {
		if err := requireArgs(c, 1, "start CONTAINER"); err != nil {
			return nil, err
		}
		return c.Args().Slice(), nil
	}
	match, err := startFilter(filters)
	if err != nil {
		return nil, err
	}
	all, err := rt.Containers(c.Context)
	if err != nil {
		return nil, err
	}
	if c.NArg() > 0 {
		var names []string
		for _, n := range c.Args().Slice() {
			ctr, err := rt.Container(c.Context, n)
			if err != nil {
				return nil, err
			}
			if match(ctr, all) {
				names = append(names, n)
			}
		}
		return names, nil
	}
	var ids []string
	for _, ctr := range all {
		if !ctr.Running() && match(ctr, all) {
			ids = append(ids, ctr.ID)
		}
	}
	return ids, nil
}

// startFilter compiles start's --filter: ps's keys plus restart-policy.
func startFilter(filters map[string][]string) (ctrMatcher, error) {
	policies := filters["restart-policy"]
	delete(filters, "restart-policy")
	match, err := psFilter(filters) // ps.go
	if err != nil {
		return nil, err
	}
	for _, p := range policies {
		switch p {
		case "", "no", "none", "always", "on-failure", "unless-stopped":
		default:
			return nil, errdefs.Worded(errdefs.ErrInvalidArgument, "%s invalid restart policy", p)
		}
	}
	return func(ctr *libservin.Container, all []*libservin.Container) bool {
		if !match(ctr, all) {
			return false
		}
		if len(policies) == 0 {
			return true
		}
		for _, p := range policies {
			if samePolicy(ctr.Config.RestartPolicy, p) {
				return true
			}
		}
		return false
	}, nil
}

// samePolicy compares restart policies, where "", "no" and "none" all
// mean that the container is never restarted.
func samePolicy(have, want string) bool {
	none := func(s string) bool { return s == "" || s == "no" || s == "none" }
	return have == want || none(have) && none(want)
}
