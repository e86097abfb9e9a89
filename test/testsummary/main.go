// Command testsummary turns the `go test -json` stream on its standard input
// into a short report: build errors, package result lines, the full output of
// every failed test, one line per skipped top-level test, and a closing
// "LABEL: N passed, N failed, N skipped" line. It exits 1 if anything failed.
//
// It keeps `make test` readable: plain `go test` hides why tests skipped,
// and `go test -v` buries failures in the output of passing tests.
//
// Usage: go test -json ./... | go run ./test/testsummary LABEL
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json output.
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// summary accumulates the outcome of a test run.
type summary struct {
	out       io.Writer
	buffered  map[string][]string            // output of tests still running, by package+test
	skips     map[string]map[string][]string // package -> reason -> skipped top-level tests
	passed    int
	failed    int
	skipped   int
	pkgFailed bool
}

func main() {
	label := "tests"
	if len(os.Args) > 1 {
		label = os.Args[1]
	}
	s := &summary{out: os.Stdout, buffered: map[string][]string{}, skips: map[string]map[string][]string{}}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		os.Exit(2)
	}
	s.finish(label)
	if s.failed > 0 || s.pkgFailed {
		os.Exit(1)
	}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not test2json: pass it through (go vet or linker messages).
			fmt.Fprintln(s.out, string(line))
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Action == "build-fail":
		s.pkgFailed = true
	case e.Test == "" && e.Action == "output":
		if e.Output != "PASS\n" {
			fmt.Fprint(s.out, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		s.pkgFailed = true
		s.printSkips(e.Package)
	case e.Test == "" && (e.Action == "pass" || e.Action == "skip"):
		s.printSkips(e.Package)
	case e.Test == "":
	case e.Action == "output":
		s.buffered[key] = append(s.buffered[key], e.Output)
	case e.Action == "pass":
		s.passed++
		delete(s.buffered, key)
	case e.Action == "skip":
		s.skipped++
		if !strings.Contains(e.Test, "/") {
			s.addSkip(e.Package, e.Test, skipReason(s.buffered[key]))
		}
		delete(s.buffered, key)
	case e.Action == "fail":
		s.failed++
		s.printTest(s.buffered[key])
		delete(s.buffered, key)
	}
}

// skipReason is the last line the test logged before skipping, without its
// "file_test.go:NN: " prefix so that equal reasons group together.
func skipReason(lines []string) string {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "--- SKIP") || strings.HasPrefix(l, "=== ") {
			continue
		}
		if file, rest, ok := strings.Cut(l, ": "); ok && strings.Contains(file, ".go:") {
			return rest
		}
		return l
	}
	return "(no reason given)"
}

func (s *summary) addSkip(pkg, test, reason string) {
	if s.skips[pkg] == nil {
		s.skips[pkg] = map[string][]string{}
	}
	s.skips[pkg][reason] = append(s.skips[pkg][reason], test)
}

// printSkips prints one line per distinct skip reason of a finished package.
func (s *summary) printSkips(pkg string) {
	reasons := make([]string, 0, len(s.skips[pkg]))
	for r := range s.skips[pkg] {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		tests := s.skips[pkg][r]
		what := strings.Join(tests, ", ")
		if len(tests) > 3 {
			what = fmt.Sprintf("%d tests", len(tests))
		}
		fmt.Fprintf(s.out, "--- SKIP: %s: %s: %s\n", pkg, what, r)
	}
	delete(s.skips, pkg)
}

func (s *summary) printTest(lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "=== ") {
			continue
		}
		fmt.Fprint(s.out, l)
	}
}

// finish reports tests that never ended (a panic or the -timeout killed the
// test binary) and prints the closing line.
func (s *summary) finish(label string) {
	keys := make([]string, 0, len(s.buffered))
	for k := range s.buffered {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(s.out, "--- UNFINISHED: %s\n", k)
		s.printTest(s.buffered[k])
		s.failed++
	}
	fmt.Fprintf(s.out, "%s: %d passed, %d failed, %d skipped\n", label, s.passed, s.failed, s.skipped)
}
