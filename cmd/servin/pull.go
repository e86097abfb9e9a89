package main

// pull and push: moving images between servin and registries.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"golang.org/x/sys/unix"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// remoteFlags are the flags of every command that talks to a registry.
func remoteFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates (false allows plain http; default: registries.conf)"},
		&cli.StringFlag{Name: "cert-dir", Usage: "use certificates (*.crt, *.cert, *.key) in this directory for every registry"},
		&cli.StringFlag{Name: "authfile", Usage: "credentials file (default /run/servin/auth.json, or $REGISTRY_AUTH_FILE)"},
		&cli.StringFlag{Name: "creds", Usage: "USER[:PASSWORD] to use instead of stored credentials"},
	}
}

// checkAuthFile refuses an --authfile that does not exist, in podman's
// words, rather than going on without credentials.
func checkAuthFile(path string) error {
	if path == "" {
		return nil
	}
	if err := unix.Faccessat(unix.AT_FDCWD, path, unix.F_OK, 0); err != nil {
		return errdefs.Worded(errdefs.ErrInvalidArgument, "credential file is not accessible: faccessat %s: %s", path, err)
	}
	return nil
}

// remoteOptions maps remoteFlags (and the platform flags, if the command
// has them) onto options.
func remoteOptions(c *cli.Context) (libservin.RemoteOptions, error) {
	if c.Command.Name != "login" { // login creates the file
		if err := checkAuthFile(c.String("authfile")); err != nil {
			return libservin.RemoteOptions{}, err
		}
	}
	o := libservin.RemoteOptions{
		CertDir: c.String("cert-dir"), AuthFile: c.String("authfile"), Creds: c.String("creds"),
		SignaturePolicy: c.String("signature-policy"),
	}
	if c.IsSet("tls-verify") {
		v := c.Bool("tls-verify")
		o.TLSVerify = &v
	}
	if p := c.String("platform"); p != "" {
		parts := strings.Split(p, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return o, fmt.Errorf("invalid platform %q: want OS/ARCH[/VARIANT]: %w", p, errdefs.ErrInvalidArgument)
		}
		o.OS, o.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			o.Variant = parts[2]
		}
	}
	if v := c.String("os"); v != "" {
		o.OS = v
	}
	if v := c.String("arch"); v != "" {
		o.Arch = v
	}
	if v := c.String("variant"); v != "" {
		o.Variant = v
	}
	return o, nil
}

func platformFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "platform", Usage: "OS/ARCH[/VARIANT] of the image to pick from a multi-arch image"},
		&cli.StringFlag{Name: "os", Usage: "operating system of the image to pick (default: the host's)"},
		&cli.StringFlag{Name: "arch", Usage: "architecture of the image to pick (default: the host's)"},
		&cli.StringFlag{Name: "variant", Usage: "architecture variant of the image to pick"},
	}
}

// progressWriter is where copy progress goes: standard error (bars on a
// terminal, one line per blob otherwise), or nowhere with -q.
func progressWriter(c *cli.Context) io.Writer {
	if c.Bool("quiet") {
		return nil
	}
	return os.Stderr
}

// retryFlags are the flags of commands that retry a failed pull or push.
func retryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.UintFlag{Name: "retry", Value: 3, Usage: "number of times to retry after a transient network or registry error"},
		&cli.StringFlag{Name: "retry-delay", Usage: "delay between retries (default: 1s, then doubling)"},
	}
}

// pullOptions maps the remote, platform, retry and decryption flags of
// pull, run and create onto options.
func pullOptions(c *cli.Context) (libservin.PullOptions, error) {
	ro, err := remoteOptions(c)
	if err != nil {
		return libservin.PullOptions{}, err
	}
	ro.ReportWriter = progressWriter(c)
	o := libservin.PullOptions{RemoteOptions: ro, DecryptionKeys: c.StringSlice("decryption-key")}
	o.RetryOptions, err = retryOptions(c)
	return o, err
}

// retryOptions maps retryFlags onto options.
func retryOptions(c *cli.Context) (libservin.RetryOptions, error) {
	o := libservin.RetryOptions{Retries: c.Uint("retry")}
	if d := c.String("retry-delay"); d != "" {
		var err error
		if o.RetryDelay, err = time.ParseDuration(d); err != nil || o.RetryDelay < 0 {
			return o, fmt.Errorf("invalid --retry-delay %q: want a duration such as 2s: %w", d, errdefs.ErrInvalidArgument)
		}
	}
	return o, nil
}

func pullCommand() *cli.Command {
	flags := append(remoteFlags(), platformFlags()...)
	flags = append(flags, retryFlags()...)
	flags = append(flags,
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image ID"},
		&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "pull every tagged image of the repository"},
		&cli.StringFlag{Name: "policy", Value: "always", Usage: "pull policy: always, missing, newer or never"},
		&cli.StringSliceFlag{Name: "decryption-key", Usage: "KEY[:PASSPHRASE] to decrypt encrypted layers"},
		&cli.StringFlag{Name: "signature-policy", Usage: "signature policy file (default /etc/servin/policy.json)", Hidden: true},
	)
	return &cli.Command{
		Name:      "pull",
		Usage:     "copy images from a registry into local storage",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if err := requireArgs(c, 1, "pull IMAGE [IMAGE...]"); err != nil {
				return err
			}
			if err := platformConflict(c); err != nil { // ctrflags.go
				return err
			}
			o, err := pullOptions(c)
			if err != nil {
				return err
			}
			policy, err := libservin.ParsePullPolicy(c.String("policy"), libservin.PullAlways)
			if err != nil {
				return err
			}
			for _, name := range c.Args().Slice() {
				if err := pullOne(c, rt, name, policy, o); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

// pullOne pulls one image (or, with --all-tags, every tag of one
// repository) and prints the IDs of the images pulled.
func pullOne(c *cli.Context, rt *libservin.Runtime, name string, policy libservin.PullPolicy, o libservin.PullOptions) error {
	if c.Bool("all-tags") {
		if policy != libservin.PullAlways {
			return fmt.Errorf("--all-tags only works with the pull policy always: %w", errdefs.ErrInvalidArgument)
		}
		images, err := rt.PullAllTags(c.Context, name, o)
		for _, img := range images {
			fmt.Println(img.ID)
		}
		return err
	}
	img, err := rt.ImageWithPolicy(c.Context, name, policy, o)
	if err != nil {
		return err
	}
	fmt.Println(img.ID)
	return nil
}

// createPullFlags are the flags of run and create that say when and how
// to pull the container's image.
func createPullFlags() []cli.Flag {
	flags := append(platformFlags(), retryFlags()...)
	return append(flags,
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull the image: always, missing (when not stored), newer or never"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no pull progress"},
		&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates when pulling (default: registries.conf)"},
		&cli.StringFlag{Name: "authfile", Usage: "credentials file for pulling (default /run/servin/auth.json, or $REGISTRY_AUTH_FILE)"},
		&cli.StringSliceFlag{Name: "decryption-key", Usage: "KEY[:PASSPHRASE] to decrypt encrypted layers of a pulled image"},
	)
}

// createPullOptions fills the pull policy and pull options of run/create.
// Pull progress goes to standard error so that standard output carries
// only the container's ID or output.
func createPullOptions(c *cli.Context, o *libservin.CreateOptions) error {
	policy, err := libservin.ParsePullPolicy(c.String("pull"), libservin.PullMissing)
	if err != nil {
		return err
	}
	po, err := pullOptions(c)
	if err != nil {
		return err
	}
	o.Pull, o.PullOptions = policy, po
	return nil
}

func pushCommand() *cli.Command {
	flags := append(remoteFlags(),
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "manifest type: oci or v2s2 (default: keep)"},
		&cli.StringFlag{Name: "compression-format", Usage: "layer compression: gzip or zstd (default: keep)"},
		&cli.BoolFlag{Name: "remove-signatures", Usage: "do not copy signatures"},
		&cli.StringFlag{Name: "sign-by", Usage: "sign with this GPG key (not available in this build)"},
		&cli.StringFlag{Name: "sign-by-sigstore-private-key", Usage: "sign with this sigstore private key file"},
		&cli.StringFlag{Name: "sign-passphrase-file", Usage: "file holding the passphrase of the signing key"},
		&cli.StringSliceFlag{Name: "encryption-key", Usage: "encrypt layers for this recipient (jwe:pub.pem, pkcs7:cert.pem, ...)"},
		&cli.IntSliceFlag{Name: "encrypt-layer", Usage: "index of a layer to encrypt (negative counts from the top; default all)"},
		&cli.StringFlag{Name: "digestfile", Usage: "write the digest of the pushed manifest to this file"},
	)
	flags = append(flags, retryFlags()...)
	return &cli.Command{
		Name:      "push",
		Usage:     "copy an image from local storage to a registry",
		ArgsUsage: "IMAGE [DESTINATION]",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("push requires an image and optionally a destination: usage: servin push IMAGE [DESTINATION]: %w", errdefs.ErrInvalidArgument)
			}
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			ro.ReportWriter = progressWriter(c)
			o := libservin.PushOptions{
				RemoteOptions: ro, Format: c.String("format"), CompressionFormat: c.String("compression-format"),
				RemoveSignatures: c.Bool("remove-signatures"), SignBy: c.String("sign-by"),
				SignBySigstoreKey: c.String("sign-by-sigstore-private-key"),
				EncryptionKeys:    c.StringSlice("encryption-key"), EncryptLayers: c.IntSlice("encrypt-layer"),
			}
			if o.RetryOptions, err = retryOptions(c); err != nil {
				return err
			}
			if f := c.String("sign-passphrase-file"); f != "" {
				data, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("reading the signing passphrase: %w", err)
				}
				o.SigstorePassphrase = []byte(strings.TrimRight(string(data), "\r\n"))
			}
			d, err := rt.Push(c.Context, c.Args().Get(0), c.Args().Get(1), o)
			if err != nil {
				return err
			}
			if f := c.String("digestfile"); f != "" {
				if err := os.WriteFile(f, []byte(d.String()), 0o644); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

// applyLogLevel applies --log-level to the libraries servin uses
// (containers/image and storage log through logrus): by default only
// warnings and errors reach standard error.
func applyLogLevel(c *cli.Context) error {
	lvl, err := logrus.ParseLevel(c.String("log-level"))
	if err != nil {
		return fmt.Errorf("invalid --log-level %q: %w", c.String("log-level"), errdefs.ErrInvalidArgument)
	}
	logrus.SetLevel(lvl)
	return nil
}
