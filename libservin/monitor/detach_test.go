package monitor

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseDetachKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
	}{
		{"ctrl-p,ctrl-q", []byte{0x10, 0x11}},
		{"ctrl-a", []byte{1}},
		{"CTRL-Z,x", []byte{26, 'x'}},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 27, 28, 29, 30, 31}},
		{"", nil},
	} {
		got, err := ParseDetachKeys(tc.in)
		if err != nil || string(got) != string(tc.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"ctrl-", "ctrl-1", "ab", "ctrl-p,,ctrl-q", "alt-x"} {
		if _, err := ParseDetachKeys(bad); err == nil {
			t.Errorf("ParseDetachKeys(%q) accepted", bad)
		}
	}
}

// readAll reads r to the end and reports the terminating error.
func readAll(r io.Reader) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 3)
	for {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String(), err
		}
	}
}

func TestDetachReader(t *testing.T) {
	keys := DefaultDetachKeys
	for _, tc := range []struct {
		name, in, want string
		detach         bool
	}{
		{"plain", "hello", "hello", false},
		{"detach", "ab\x10\x11cd", "ab", true},
		{"held then released", "a\x10b", "a\x10b", false},
		{"double prefix", "\x10\x10\x11rest", "\x10", true},
		{"prefix at EOF", "abc\x10", "abc\x10", false},
		{"only sequence", "\x10\x11", "", true},
	} {
		for _, oneByte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.in)
			if oneByte { // the sequence split across reads
				src = iotest.OneByteReader(src)
			}
			got, err := readAll(DetachReader(src, keys))
			if got != tc.want || errors.Is(err, ErrDetach) != tc.detach {
				t.Errorf("%s (oneByte=%v): got %q, %v; want %q detach=%v", tc.name, oneByte, got, err, tc.want, tc.detach)
			}
			if !tc.detach && err != io.EOF {
				t.Errorf("%s: err = %v, want EOF", tc.name, err)
			}
		}
	}
	if r := strings.NewReader("x"); DetachReader(r, nil) != io.Reader(r) {
		t.Error("empty keys should return the reader itself")
	}
}
