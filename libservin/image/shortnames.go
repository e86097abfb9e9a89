package image

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/types"
)

// pullCandidates turns what the user typed into the fully-qualified
// references to try, in order, following registries.conf:
//
//   - a name with a registry ("quay.io/x", "localhost:5000/x") is itself;
//   - a short name with an alias uses the alias;
//   - otherwise it is tried on each unqualified-search registry. With
//     several registries and short-name-mode "enforcing" (the default) the
//     name is ambiguous and refused: servin never prompts. "permissive"
//     and "disabled" try the registries in order.
//
// A missing tag becomes ":latest".
func pullCandidates(sys *types.SystemContext, input string) ([]reference.Named, error) {
	ref, err := reference.Parse(input)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: %v", input, err)
	}
	named, ok := ref.(reference.Named)
	if !ok {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: not a named reference", input)
	}
	if hasDomain(input) {
		full, err := reference.ParseNormalizedNamed(input)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: %v", input, err)
		}
		return []reference.Named{reference.TagNameOnly(full)}, nil
	}

	repo := reference.TrimNamed(named)
	alias, _, err := sysregistriesv2.ResolveShortNameAlias(sys, repo.String())
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "short-name %q: %v", input, err)
	}
	if alias != nil {
		full, err := withTagOrDigest(alias, named)
		if err != nil {
			return nil, err
		}
		return []reference.Named{full}, nil
	}

	search, origin, err := sysregistriesv2.UnqualifiedSearchRegistriesWithOrigin(sys)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "registries configuration: %v", err)
	}
	if len(search) == 0 {
		return nil, classed(errdefs.ErrInvalidArgument,
			"short-name %q did not resolve to an alias and no unqualified-search registries are defined in %s: use a fully-qualified name", input, origin)
	}
	var out []reference.Named
	for _, reg := range search {
		full, err := reference.ParseNormalizedNamed(reg + "/" + input)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q on unqualified-search registry %q: %v", input, reg, err)
		}
		out = append(out, reference.TagNameOnly(full))
	}
	if len(out) == 1 {
		return out, nil
	}
	mode, err := shortNameMode(sys)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "registries configuration: %v", err)
	}
	if mode == types.ShortNameModeEnforcing {
		names := make([]string, len(out))
		for i, n := range out {
			names[i] = n.String()
		}
		return nil, classed(errdefs.ErrInvalidArgument,
			"short-name %q is ambiguous: it may be any of %s (unqualified-search registries in %s); use a fully-qualified name or add an alias under [aliases]",
			input, strings.Join(names, ", "), origin)
	}
	return out, nil
}

// withTagOrDigest puts the tag or digest the user gave on alias.
func withTagOrDigest(alias reference.Named, user reference.Named) (reference.Named, error) {
	out := alias
	var err error
	if t, ok := user.(reference.NamedTagged); ok {
		if out, err = reference.WithTag(out, t.Tag()); err != nil {
			return nil, fmt.Errorf("applying tag to alias %s: %w", alias, err)
		}
	}
	if d, ok := user.(reference.Digested); ok {
		if out, err = reference.WithDigest(out, d.Digest()); err != nil {
			return nil, fmt.Errorf("applying digest to alias %s: %w", alias, err)
		}
	}
	return reference.TagNameOnly(out), nil
}

// searchRegistries are the unqualified-search registries and the file
// that set them.
func searchRegistries(sys *types.SystemContext) ([]string, string, error) {
	regs, origin, err := sysregistriesv2.UnqualifiedSearchRegistriesWithOrigin(sys)
	if err != nil {
		return nil, "", classed(errdefs.ErrInvalidArgument, "registries configuration: %v", err)
	}
	return regs, origin, nil
}

// shortNameMode is the configured short-name-mode, "enforcing" when no
// file sets one (containers/image would default to "permissive", which
// silently tries every registry in turn: servin reports the ambiguity).
func shortNameMode(sys *types.SystemContext) (types.ShortNameMode, error) {
	files := []string{sys.SystemRegistriesConfPath}
	if drop, err := filepath.Glob(filepath.Join(sys.SystemRegistriesConfDirPath, "*.conf")); err == nil {
		files = append(files, drop...)
	}
	for _, f := range files {
		var conf map[string]any
		if _, err := toml.DecodeFile(f, &conf); err != nil {
			continue // containers/image reports unreadable files itself
		}
		if _, ok := conf["short-name-mode"]; ok {
			return sysregistriesv2.GetShortNameMode(sys)
		}
	}
	return types.ShortNameModeEnforcing, nil
}
