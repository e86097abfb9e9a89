package main

// system df: disk space used by images, containers and volumes.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/servin/servin/libservin"
	"github.com/servin/servin/libservin/errdefs"
)

// dfRow is one line of system df (podman's fields).
type dfRow struct {
	Type           string
	Total          int
	Active         int
	RawSize        int64
	RawReclaimable int64
	Size           string
	Reclaimable    string
	TotalCount     int
}

func newDfRow(typ string, total, active int, size, reclaimable int64) dfRow {
	pct := 0
	if size > 0 {
		pct = int(float64(reclaimable) * 100 / float64(size))
	}
	return dfRow{
		Type: typ, Total: total, Active: active, RawSize: size, RawReclaimable: reclaimable,
		Size: units.HumanSize(float64(size)), Reclaimable: fmt.Sprintf("%s (%d%%)", units.HumanSize(float64(reclaimable)), pct),
		TotalCount: total,
	}
}

func dfRows(du *libservin.DiskUsage) []dfRow {
	var iSize, iFree, cSize, cFree, vSize, vFree int64
	var iActive, cActive, vActive int
	for _, i := range du.Images {
		iSize += i.Size
		if i.Containers > 0 {
			iActive++
		} else {
			iFree += i.Size
		}
	}
	for _, c := range du.Containers {
		cSize += c.Size
		if c.Running {
			cActive++
		} else {
			cFree += c.Size
		}
	}
	for _, v := range du.Volumes {
		vSize += v.Size
		if v.Links > 0 {
			vActive++
		} else {
			vFree += v.Size
		}
	}
	return []dfRow{
		newDfRow("Images", len(du.Images), iActive, iSize, iFree),
		newDfRow("Containers", len(du.Containers), cActive, cSize, cFree),
		newDfRow("Local Volumes", len(du.Volumes), vActive, vSize, vFree),
	}
}

func systemDfCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "show disk space used by images, containers and volumes",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "Go template, or json"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "list every image, container and volume"},
		},
		Action: withRuntime(func(c *cli.Context, rt *libservin.Runtime) error {
			du, err := rt.DiskUsage(c.Context)
			if err != nil {
				return err
			}
			out := bufio.NewWriter(os.Stdout)
			defer out.Flush()
			if c.Bool("verbose") {
				return printDfVerbose(out, du, time.Now())
			}
			rows := dfRows(du)
			format := c.String("format")
			if isJSONFormat(format) {
				if strings.TrimSpace(format) != "json" {
					// {{json .}}: one compact object per row, as podman prints.
					for _, r := range rows {
						if err := writeJSON(out, r, "", false); err != nil {
							return err
						}
					}
					return nil
				}
				return writeJSON(out, rows, "    ", false)
			}
			if format == "" {
				format = "table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
			}
			p, err := newRowPrinter("system df", format, dfRow{}, nil)
			if err != nil {
				return err
			}
			anyRows := make([]any, len(rows))
			for i := range rows {
				anyRows[i] = rows[i]
			}
			return p.print(out, anyRows, false)
		}),
	}
}

func printDfVerbose(w io.Writer, du *libservin.DiskUsage, now time.Time) error {
	fmt.Fprint(w, "Images space usage:\n\n")
	tw := newTabWriter(w)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS")
	for _, i := range du.Images {
		repo, tag := "<none>", "<none>"
		if len(i.Names) > 0 {
			repo, tag = splitRepoTag(i.Names[0])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", repo, tag, shortID(i.ID), humanDuration(now, i.Created),
			units.HumanSize(float64(i.Size)), "0B", units.HumanSize(float64(i.Size)), i.Containers)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(w, "\nContainers space usage:\n\n")
	tw = newTabWriter(w)
	fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES")
	for _, c := range du.Containers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", shortID(c.ID), shortID(c.ImageID), strings.Join(c.Command, " "), c.Volumes,
			units.HumanSize(float64(c.Size)), humanDuration(now, c.Created), c.Status, c.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(w, "\nLocal Volumes space usage:\n\n")
	tw = newTabWriter(w)
	fmt.Fprintln(tw, "VOLUME NAME\tLINKS\tSIZE")
	for _, v := range du.Volumes {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", v.Name, v.Links, units.HumanSize(float64(v.Size)))
	}
	return tw.Flush()
}

// systemPrune is system prune.
func systemPrune(c *cli.Context, rt *libservin.Runtime) error {
	if c.NArg() > 0 {
		return fmt.Errorf("system prune takes no arguments: %w", errdefs.ErrInvalidArgument)
	}
	o := libservin.SystemPruneOptions{All: c.Bool("all"), Volumes: c.Bool("volumes")}
	what := "\t- all stopped containers\n\t- all networks not used by at least one container\n"
	if o.All {
		what += "\t- all images not used by at least one container\n"
	} else {
		what += "\t- all dangling images\n"
	}
	if o.Volumes {
		what += "\t- all volumes not used by at least one container\n"
	}
	if !c.Bool("force") && !confirm(os.Stdin, os.Stdout, "WARNING! This command removes:\n"+what+"\nAre you sure you want to continue? [y/N] ") {
		return nil
	}
	rep, err := rt.SystemPrune(c.Context, o)
	if rep == nil {
		return err
	}
	for _, sec := range []struct {
		title string
		ids   []string
	}{{"Deleted Containers", rep.Containers}, {"Deleted Networks", rep.Networks}, {"Deleted Images", rep.Images}, {"Deleted Volumes", rep.Volumes}} {
		if len(sec.ids) == 0 {
			continue
		}
		fmt.Println(sec.title)
		for _, id := range sec.ids {
			fmt.Println(id)
		}
	}
	fmt.Printf("Total reclaimed space: %s\n", units.HumanSize(float64(rep.Reclaimed)))
	return err
}
