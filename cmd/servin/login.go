package main

// login and logout: registry credentials.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

func loginCommand() *cli.Command {
	flags := append(remoteFlags(),
		&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user name"},
		&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password (prefer --password-stdin)"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		&cli.BoolFlag{Name: "get-login", Usage: "print the user name stored for the registry"},
	)
	return &cli.Command{
		Name:      "login",
		Usage:     "log in to a registry",
		ArgsUsage: "REGISTRY",
		Flags:     flags,
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			if c.NArg() != 1 {
				return fmt.Errorf("login requires exactly one registry: usage: servin login [OPTIONS] REGISTRY: %w", errdefs.ErrInvalidArgument)
			}
			key := c.Args().First()
			ro, err := remoteOptions(c)
			if err != nil {
				return err
			}
			ro.Creds = ""
			if c.Bool("get-login") {
				user, err := rt.LoginUser(key, ro)
				if err != nil {
					return err
				}
				fmt.Println(user)
				return nil
			}
			user, pass, err := loginCredentials(c)
			if err != nil {
				return err
			}
			if _, err := rt.Login(c.Context, key, user, pass, ro); err != nil {
				return err
			}
			fmt.Println("Login Succeeded!")
			return nil
		}),
	}
}

// loginCredentials takes the user name and password from the flags, from
// standard input (--password-stdin) or, on a terminal only, from prompts.
func loginCredentials(c *cli.Context) (user, pass string, err error) {
	user, pass = c.String("username"), c.String("password")
	if c.Bool("password-stdin") {
		if pass != "" {
			return "", "", fmt.Errorf("--password and --password-stdin are mutually exclusive: %w", errdefs.ErrInvalidArgument)
		}
		if user == "" {
			return "", "", fmt.Errorf("--password-stdin needs --username: %w", errdefs.ErrInvalidArgument)
		}
		data, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
		if err != nil {
			return "", "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		pass = strings.TrimRight(string(data), "\r\n")
	}
	interactive := term.IsTerminal(int(os.Stdin.Fd()))
	if user == "" {
		if !interactive {
			return "", "", fmt.Errorf("a user name is required: use --username: %w", errdefs.ErrInvalidArgument)
		}
		fmt.Fprint(os.Stderr, "Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return "", "", err
		}
		user = strings.TrimSpace(line)
	}
	if pass == "" {
		if !interactive {
			return "", "", fmt.Errorf("a password is required: use --password-stdin: %w", errdefs.ErrInvalidArgument)
		}
		fmt.Fprint(os.Stderr, "Password: ")
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", "", err
		}
		pass = string(b)
	}
	return user, pass, nil
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "remove stored registry credentials",
		ArgsUsage: "REGISTRY",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "authfile", Usage: "credentials file (default /run/servin/auth.json, or $REGISTRY_AUTH_FILE)"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove the credentials of every registry"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			all := c.Bool("all")
			if all == (c.NArg() == 1) || c.NArg() > 1 {
				return fmt.Errorf("logout requires one registry, or --all: %w", errdefs.ErrInvalidArgument)
			}
			key := c.Args().First()
			if err := checkAuthFile(c.String("authfile")); err != nil {
				return err
			}
			if err := rt.Logout(key, all, libservin.RemoteOptions{AuthFile: c.String("authfile")}); err != nil {
				return err
			}
			if all {
				fmt.Println("Removed login credentials for all registries")
			} else {
				fmt.Printf("Removed login credentials for %s\n", key)
			}
			return nil
		}),
	}
}
