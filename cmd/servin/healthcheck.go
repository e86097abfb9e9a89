package main

// Healthcheck flags of create and run, and `servin healthcheck run`.

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
)

func healthFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "health-cmd", Usage: "command to check the container's health: a shell command, a JSON array, or none"},
		&cli.StringFlag{Name: "health-interval", Value: "30s", Usage: "time between healthchecks (\"disable\": none run on their own)"},
		&cli.UintFlag{Name: "health-retries", Value: 3, Usage: "failures in a row before the container is unhealthy"},
		&cli.StringFlag{Name: "health-timeout", Value: "30s", Usage: "time a healthcheck may take before it is killed and counted as failed"},
		&cli.StringFlag{Name: "health-start-period", Value: "0s", Usage: "time after start during which failures do not count"},
		&cli.StringFlag{Name: "health-on-failure", Value: "none", Usage: "action when the container turns unhealthy: none, kill, restart or stop"},
		&cli.BoolFlag{Name: "no-healthcheck", Usage: "disable the image's healthcheck"},
		&cli.StringFlag{Name: "health-log-destination", Value: "local", Usage: "where results are kept: local, events_logger or a directory"},
		&cli.UintFlag{Name: "health-max-log-count", Value: libservin.DefaultHealthMaxLogCount, Usage: "results kept (0: all)"},
		&cli.UintFlag{Name: "health-max-log-size", Value: libservin.DefaultHealthMaxLogSize, Usage: "bytes of output kept per result (0: all)"},
		&cli.StringFlag{Name: "health-startup-cmd", Usage: "startup healthcheck: runs instead of the regular one until it passes"},
		&cli.StringFlag{Name: "health-startup-interval", Value: "30s", Usage: "time between startup healthchecks"},
		&cli.UintFlag{Name: "health-startup-retries", Usage: "startup healthcheck failures in a row that restart the container (0: no limit)"},
		&cli.UintFlag{Name: "health-startup-success", Usage: "startup healthcheck successes in a row for it to pass (0: one)"},
		&cli.StringFlag{Name: "health-startup-timeout", Value: "30s", Usage: "time a startup healthcheck may take"},
	}
}

// healthOptions maps the healthcheck flags; flags left unset keep the
// image's healthcheck settings.
func healthOptions(c *cli.Context) libservin.HealthOptions {
	set := func(name string) string {
		if c.IsSet(name) {
			return c.String(name)
		}
		return ""
	}
	o := libservin.HealthOptions{
		Cmd: set("health-cmd"), Interval: set("health-interval"), Timeout: set("health-timeout"),
		StartPeriod: set("health-start-period"), OnFailure: c.String("health-on-failure"),
		Disable: c.Bool("no-healthcheck"), LogDestination: c.String("health-log-destination"),
		StartupCmd: c.String("health-startup-cmd"), StartupInterval: c.String("health-startup-interval"),
		StartupTimeout: c.String("health-startup-timeout"),
	}
	retries, successes := c.Uint("health-startup-retries"), c.Uint("health-startup-success")
	o.StartupRetries, o.StartupSuccesses = &retries, &successes
	if c.IsSet("health-retries") {
		n := c.Uint("health-retries")
		o.Retries = &n
	}
	count, size := c.Uint("health-max-log-count"), c.Uint("health-max-log-size")
	o.MaxLogCount, o.MaxLogSize = &count, &size
	return o
}

// healthUpdateOptions maps the healthcheck flags of update: only those
// given change anything.
func healthUpdateOptions(c *cli.Context) libservin.HealthOptions {
	str := func(name string) string {
		if c.IsSet(name) {
			return c.String(name)
		}
		return ""
	}
	num := func(name string) *uint {
		if !c.IsSet(name) {
			return nil
		}
		n := c.Uint(name)
		return &n
	}
	return libservin.HealthOptions{
		Cmd: str("health-cmd"), Interval: str("health-interval"), Retries: num("health-retries"),
		Timeout: str("health-timeout"), StartPeriod: str("health-start-period"), OnFailure: str("health-on-failure"),
		Disable: c.Bool("no-healthcheck"), LogDestination: str("health-log-destination"),
		MaxLogCount: num("health-max-log-count"), MaxLogSize: num("health-max-log-size"),
		StartupCmd: str("health-startup-cmd"), StartupInterval: str("health-startup-interval"),
		StartupRetries: num("health-startup-retries"), StartupSuccesses: num("health-startup-success"),
		StartupTimeout: str("health-startup-timeout"),
	}
}

func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:  "healthcheck",
		Usage: "manage container healthchecks",
		Subcommands: []*cli.Command{{
			Name:      "run",
			Usage:     "run a container's healthcheck once",
			ArgsUsage: "CONTAINER",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "ignore-result", Usage: "exit 0 whatever the result (errors still fail)"},
			},
			Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
				if err := requireArgs(c, 1, "healthcheck run CONTAINER"); err != nil {
					return err
				}
				status, err := rt.Healthcheck(c.Context, c.Args().First())
				if err != nil {
					return err
				}
				if status == libservin.HealthHealthy {
					return nil
				}
				fmt.Println(status)
				if c.Bool("ignore-result") {
					return nil
				}
				return exitError{1}
			}),
		}},
	}
}
