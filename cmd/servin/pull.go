package main

// pull and push: moving images between servin and registries.

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

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

// remoteOptions maps remoteFlags (and the platform flags, if the command
// has them) onto options.
func remoteOptions(c *cli.Context) (libservin.RemoteOptions, error) {
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

func pullCommand() *cli.Command {
	flags := append(remoteFlags(), platformFlags()...)
	flags = append(flags,
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image ID"},
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
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			ro.ReportWriter = progressWriter(c)
			o := libservin.PullOptions{RemoteOptions: ro, DecryptionKeys: c.StringSlice("decryption-key")}
			for _, name := range c.Args().Slice() {
				img, err := rt.Pull(c.Context, name, o)
				if err != nil {
					return err
				}
				fmt.Println(img.ID)
			}
			return nil
		}),
	}
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
	return &cli.Command{
		Name:      "push",
		Usage:     "copy an image from local storage to a registry",
		ArgsUsage: "IMAGE [DESTINATION]",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("push takes an image and optionally a destination: usage: servin push IMAGE [DESTINATION]: %w", errdefs.ErrInvalidArgument)
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
