package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// PullAllTags pulls every tag of a repository (pull --all-tags), in the
// order the registry lists them, and returns the images in that order.
// name names the repository only: a tag or digest is refused, as docker
// does. A short name tries each candidate registry (see pullCandidates)
// until one lists the repository's tags.
func (s *Store) PullAllTags(ctx context.Context, name string, o PullOptions) ([]*Image, error) {
	input := strings.TrimPrefix(name, dockerPrefix)
	ref, err := reference.Parse(input)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid reference %q: %v", input, err)
	}
	if _, tagged := ref.(reference.Tagged); tagged {
		return nil, classed(errdefs.ErrInvalidArgument, "tag can't be used with --all-tags/-a")
	}
	if _, digested := ref.(reference.Digested); digested {
		return nil, classed(errdefs.ErrInvalidArgument, "digest can't be used with --all-tags/-a")
	}
	sys, err := s.remoteContext(&o.RemoteOptions)
	if err != nil {
		return nil, err
	}
	cands, err := pullCandidates(sys, input)
	if err != nil {
		return nil, err
	}
	repo, tags, err := listTags(ctx, sys, cands, o.RetryOptions)
	if err != nil {
		return nil, err
	}
	var images []*Image
	for _, tag := range tags {
		tagged, err := reference.WithTag(repo, tag)
		if err != nil {
			return images, classed(errdefs.ErrInvalidArgument, "the registry lists an invalid tag %q of %s: %v", tag, repo, err)
		}
		if o.ReportWriter != nil {
			fmt.Fprintf(o.ReportWriter, "Trying to pull %s...\n", tagged)
		}
		img, err := s.Pull(ctx, tagged.String(), o)
		if err != nil {
			return images, err
		}
		images = append(images, img)
	}
	return images, nil
}

// listTags lists the tags of the first candidate repository that answers.
func listTags(ctx context.Context, sys *types.SystemContext, cands []reference.Named, ro RetryOptions) (reference.Named, []string, error) {
	var errs []string
	for _, cand := range cands {
		repo := reference.TrimNamed(cand)
		tags, err := withRetry(ctx, ro, func() ([]string, error) {
			ref, err := docker.NewReference(reference.TagNameOnly(repo))
			if err != nil {
				return nil, err
			}
			return docker.GetRepositoryTags(ctx, sys, ref)
		})
		if err == nil {
			if len(tags) == 0 {
				return nil, nil, classed(errdefs.ErrNotFound, "repository %s has no tags", repo)
			}
			return repo, tags, nil
		}
		if len(cands) == 1 {
			return nil, nil, pullError(repo.String(), fmt.Errorf("listing tags: %w", err))
		}
		errs = append(errs, fmt.Sprintf("%s: %v", repo, err))
	}
	return nil, nil, fmt.Errorf("listing the tags of %q: every candidate failed:\n  %s", cands[0].Name(), strings.Join(errs, "\n  "))
}
