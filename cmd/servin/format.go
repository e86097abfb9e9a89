package main

// Output helpers shared by the listing commands: podman-style --format
// templates (with the "table " prefix), JSON printing, human-readable
// durations and sizes, and --since/--until time parsing.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
	"unicode"

	units "github.com/docker/go-units"

	"github.com/servin/servin/libservin/errdefs"
)

// isJSONFormat reports whether --format asks for the command's JSON
// document rather than a template: podman treats "json" and "{{json .}}"
// alike.
func isJSONFormat(f string) bool {
	s := strings.TrimSpace(f)
	if s == "json" {
		return true
	}
	if !strings.HasPrefix(s, "{{") || !strings.HasSuffix(s, "}}") {
		return false
	}
	return strings.Join(strings.Fields(s[2:len(s)-2]), " ") == "json ."
}

// templateFuncs are the functions podman offers in --format templates.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		err := enc.Encode(v)
		return strings.TrimSuffix(buf.String(), "\n"), err
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"title": titleCase,
	"join":  strings.Join,
	"split": strings.Split,
	"trim":  strings.TrimSpace,
	"truncate": func(s string, n int) string {
		if n >= 0 && len(s) > n {
			return s[:n]
		}
		return s
	},
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
}

// titleCase upper-cases the first letter of each word (strings.Title's
// behaviour, which podman uses for statuses).
func titleCase(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		isStart := unicode.IsSpace(prev) || prev == '-' || prev == '_'
		prev = r
		if isStart {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// normalizeFormat turns a --format value into template text the way
// podman does: a "table " prefix makes a tab-separated table (every space
// outside {{ }} separates columns), the escapes \t and \n are expanded,
// and the result ends with a newline.
func normalizeFormat(format string) (text string, table bool) {
	if rest, ok := strings.CutPrefix(format, "table "); ok {
		format, table = rest, true
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(format); i++ {
		switch {
		case strings.HasPrefix(format[i:], "{{"):
			depth++
			b.WriteString("{{")
			i++
		case strings.HasPrefix(format[i:], "}}") && depth > 0:
			depth--
			b.WriteString("}}")
			i++
		case depth == 0 && strings.HasPrefix(format[i:], `\t`):
			b.WriteByte('\t')
			i++
		case depth == 0 && strings.HasPrefix(format[i:], `\n`):
			b.WriteByte('\n')
			i++
		case depth == 0 && table && format[i] == ' ':
			b.WriteByte('\t')
		default:
			b.WriteByte(format[i])
		}
	}
	text = b.String()
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text, table
}

// parseTemplate parses a normalized --format text.
func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(templateFuncs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, errdefs.ErrInvalidArgument)
	}
	return t, nil
}

// newTabWriter aligns table output like podman (minimum column width 12,
// two spaces between columns).
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 12, 2, 2, ' ', 0)
}

// rowPrinter prints rows through a --format template.
type rowPrinter struct {
	tmpl    *template.Template
	table   bool
	headers map[string]string
}

// newRowPrinter parses format for rows of the struct type of sample;
// headers overrides the column titles derived from field names.
func newRowPrinter(name, format string, sample any, headers map[string]string) (*rowPrinter, error) {
	text, table := normalizeFormat(format)
	tmpl, err := parseTemplate(name, text)
	if err != nil {
		return nil, err
	}
	return &rowPrinter{tmpl: tmpl, table: table, headers: headerMap(sample, headers)}, nil
}

// print writes the rows (and, for a table, a header line first unless
// noHeading). Output written before a template error is kept, as podman does.
func (p *rowPrinter) print(w io.Writer, rows []any, noHeading bool) error {
	var out io.Writer = w
	var tw *tabwriter.Writer
	if p.table {
		tw = newTabWriter(w)
		out = tw
		if !noHeading {
			// The header is the template run over the column titles; a
			// template that cannot run on them (.Labels.key) gets none.
			var hb bytes.Buffer
			if err := p.tmpl.Execute(&hb, p.headers); err == nil {
				out.Write(hb.Bytes())
			}
		}
	}
	var err error
	for _, r := range rows {
		if err = p.tmpl.Execute(out, r); err != nil {
			break
		}
	}
	if tw != nil {
		if ferr := tw.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// headerMap maps each field of sample's struct type to its column title:
// "CreatedAt" -> "CREATED AT", with overrides.
func headerMap(sample any, overrides map[string]string) map[string]string {
	m := map[string]string{}
	if sample != nil {
		t := reflect.TypeOf(sample)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() == reflect.Struct {
			// Promoted fields of embedded structs are columns too.
			for _, f := range reflect.VisibleFields(t) {
				if f.IsExported() && !f.Anonymous {
					m[f.Name] = camelToHeader(f.Name)
				}
			}
		}
	}
	for k, v := range overrides {
		m[k] = v
	}
	return m
}

// camelToHeader splits a Go field name into upper-case words, keeping
// acronyms together: "ImageID" -> "IMAGE ID", "ExitCode" -> "EXIT CODE".
func camelToHeader(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if i > 0 && unicode.IsUpper(c) {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte(' ')
			}
		}
		b.WriteRune(unicode.ToUpper(c))
	}
	return b.String()
}

// writeJSON prints v as indented JSON (compact when indent is "")
// followed by a newline. Podman escapes <, > and & in some documents (ps,
// images, events) and not in others (inspect), hence escapeHTML.
func writeJSON(w io.Writer, v any, indent string, escapeHTML bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// humanDuration is how long ago t was, as podman says it: "3 seconds ago",
// "Less than a second ago", "About a minute ago".
func humanDuration(now, t time.Time) string {
	return units.HumanDuration(now.Sub(t)) + " ago"
}

// humanSize formats bytes like podman's images: three significant digits,
// decimal units, a space before the unit ("2 MB", "1.23 GB", "999 B").
func humanSize(n int64) string {
	s := units.HumanSizeWithPrecision(float64(n), 3)
	i := strings.LastIndexFunc(s, unicode.IsDigit)
	return s[:i+1] + " " + s[i+1:]
}

// timeLayouts are the absolute forms --since and --until accept.
var timeLayouts = []string{
	time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999",
	"2006-01-02Z07:00", "2006-01-02",
}

// parseTimeFlag reads a --since/--until value as podman does: an RFC 3339
// time or date, a Unix timestamp (fractions allowed), or a Go duration
// counted back from now for --since and forward from now for --until.
func parseTimeFlag(value string, since bool, now time.Time) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, value); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	if d, err := time.ParseDuration(value); err == nil {
		if since {
			return now.Add(-d), nil
		}
		return now.Add(d), nil
	}
	return time.Time{}, fmt.Errorf("unable to interpret time value: %w", errdefs.ErrInvalidArgument)
}

// timeFlags parses the --since and --until flags of a command.
func timeFlags(since, until string, now time.Time) (s, u time.Time, err error) {
	if since != "" {
		if s, err = parseTimeFlag(since, true, now); err != nil {
			return s, u, fmt.Errorf("parsing --since %q: %w", since, err)
		}
	}
	if until != "" {
		if u, err = parseTimeFlag(until, false, now); err != nil {
			return s, u, fmt.Errorf("parsing --until %q: %w", until, err)
		}
	}
	return s, u, nil
}

// parseFilters splits repeated --filter key=value flags into key -> values.
func parseFilters(flags []string) (map[string][]string, error) {
	m := map[string][]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid filter %q: must be in the format \"filter=value\": %w", f, errdefs.ErrInvalidArgument)
		}
		m[k] = append(m[k], v)
	}
	return m, nil
}

// matchLabel reports whether labels satisfy a label filter value "key" or
// "key=value".
func matchLabel(labels map[string]string, filter string) bool {
	k, v, hasValue := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == v)
}

// shortID is the 12-character form of an ID.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
