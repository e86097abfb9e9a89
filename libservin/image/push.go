package image

import (
	"context"
	"fmt"
	"strings"

	"github.com/containers/ocicrypt/helpers"
	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/servin/servin/libservin/errdefs"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/compression"
	storagetransport "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// PushOptions tune Push.
type PushOptions struct {
	RemoteOptions
	// RetryOptions retry a push to a registry that failed transiently.
	RetryOptions
	// Format forces the manifest type: "oci", "v2s2" (docker); "" keeps
	// the stored one where the destination accepts it.
	Format string
	// CompressionFormat is "gzip", "zstd" or "" (keep).
	CompressionFormat string
	// RemoveSignatures drops the stored signatures.
	RemoveSignatures bool
	// SignBy is a GPG key ID. servin is built with the pure-Go OpenPGP
	// implementation, which verifies but cannot sign: Push refuses it.
	SignBy string
	// SignBySigstoreKey is a sigstore (cosign-format) private key file,
	// unlocked with SigstorePassphrase.
	SignBySigstoreKey  string
	SigstorePassphrase []byte
	// EncryptionKeys are ocicrypt recipients ("jwe:pubkey.pem", ...);
	// EncryptLayers selects the layers (negative counts from the end; nil
	// means all).
	EncryptionKeys []string
	EncryptLayers  []int
}

// Push copies a stored image to dest: a registry ("docker://host/repo:tag"
// or "host/repo:tag"), or a local transport ("oci-archive:/x.tar",
// "oci:/dir", "dir:/dir", "docker-archive:/x.tar"). An empty dest means
// the image's own name. It returns the digest of the pushed manifest.
func (s *Store) Push(ctx context.Context, source, dest string, o PushOptions) (digest.Digest, error) {
	img, matched, err := s.resolve(source)
	if err != nil {
		return "", err
	}
	if dest == "" {
		dest = matched
		if dest == "" {
			if len(img.Names) == 0 {
				return "", classed(errdefs.ErrInvalidArgument, "push: image %s has no name: give a destination", source)
			}
			dest = img.Names[0]
		}
	}
	destRef, err := pushDestination(dest)
	if err != nil {
		return "", err
	}
	sys, err := s.remoteContext(&o.RemoteOptions)
	if err != nil {
		return "", err
	}
	copts, err := pushCopyOptions(sys, &o)
	if err != nil {
		return "", err
	}
	srcRef, err := storagetransport.Transport.NewStoreReference(s.store, nil, img.ID)
	if err != nil {
		return "", err
	}
	// Trust is checked where images come in (pull); what servin pushes is
	// its own.
	policy, err := policyContext()
	if err != nil {
		return "", err
	}
	defer policy.Destroy()
	raw, err := withRetry(ctx, o.RetryOptions, func() ([]byte, error) {
		return copy.Image(ctx, policy, destRef, srcRef, copts)
	})
	if err != nil {
		return "", pushError(dest, err)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return "", err
	}
	return d, nil
}

// pushDestination parses where to push.
func pushDestination(dest string) (types.ImageReference, error) {
	for _, t := range localTransports {
		if strings.HasPrefix(dest, t) {
			ref, err := parseLocalTransport(dest)
			if err != nil {
				return nil, classed(errdefs.ErrInvalidArgument, "invalid destination %q: %v", dest, err)
			}
			return ref, nil
		}
	}
	name := strings.TrimPrefix(dest, dockerPrefix)
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid destination %q: %v", dest, err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "invalid destination %q: %v", dest, err)
	}
	return ref, nil
}

func pushCopyOptions(sys *types.SystemContext, o *PushOptions) (*copy.Options, error) {
	copts := &copy.Options{
		SourceCtx:                        sys,
		DestinationCtx:                   sys,
		ReportWriter:                     o.ReportWriter,
		RemoveSignatures:                 o.RemoveSignatures,
		SignBySigstorePrivateKeyFile:     o.SignBySigstoreKey,
		SignSigstorePrivateKeyPassphrase: o.SigstorePassphrase,
		MaxParallelDownloads:             8,
	}
	if o.SignBy != "" {
		return nil, classed(errdefs.ErrNotImplemented,
			"--sign-by: GPG signing is not available in this build of servin (it verifies GPG signatures but cannot create them); use --sign-by-sigstore-private-key")
	}
	switch o.Format {
	case "":
	case "oci":
		copts.ForceManifestMIMEType = v1.MediaTypeImageManifest
	case "v2s2", "docker":
		copts.ForceManifestMIMEType = manifest.DockerV2Schema2MediaType
	default:
		return nil, classed(errdefs.ErrInvalidArgument, "unknown manifest format %q (oci, v2s2)", o.Format)
	}
	if o.CompressionFormat != "" {
		algo, err := compression.AlgorithmByName(o.CompressionFormat)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "--compression-format: %v", err)
		}
		sys.CompressionFormat = &algo
		copts.ForceCompressionFormat = true
	}
	if len(o.EncryptionKeys) > 0 {
		cc, err := helpers.CreateCryptoConfig(o.EncryptionKeys, nil)
		if err != nil {
			return nil, classed(errdefs.ErrInvalidArgument, "--encryption-key: %v", err)
		}
		copts.OciEncryptConfig = cc.EncryptConfig
		layers := o.EncryptLayers
		copts.OciEncryptLayers = &layers
		if layers == nil {
			copts.OciEncryptLayers = &[]int{}
		}
		// Encrypted layers exist only in OCI manifests.
		copts.ForceManifestMIMEType = v1.MediaTypeImageManifest
	}
	return copts, nil
}

func pushError(dest string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "http: server gave HTTP response to HTTPS client") {
		msg += " (use --tls-verify=false or mark the registry insecure in registries.conf)"
	}
	return newCauseError(fmt.Sprintf("pushing image to %s: %s", dest, msg), err)
}
