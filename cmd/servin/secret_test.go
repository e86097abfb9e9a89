package main

import (
	"reflect"
	"testing"

	"github.com/servin/servin/libservin"
)

func TestParseDriverOpts(t *testing.T) {
	got, err := parseDriverOpts([]string{"path=/a,x=1", "y=2"})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"path": "/a", "x": "1", "y": "2"}) {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := parseDriverOpts([]string{"path=/a,bad"}); err == nil {
		t.Error("a pair without = was accepted")
	}
}

func TestSecretFilter(t *testing.T) {
	a := &libservin.Secret{ID: "abc123", Name: "alpha"}
	b := &libservin.Secret{ID: "def456", Name: "beta"}
	for _, tc := range []struct {
		filters []string
		a, b    bool
	}{
		{nil, true, true},
		{[]string{"name=^al"}, true, false},
		{[]string{"name=ph", "name=^b"}, true, true}, // one key: ORed
		{[]string{"name=a", "id=^def"}, false, true}, // keys: ANDed
		{[]string{"id=c1"}, true, false},             // unanchored, as podman's
		{[]string{"name=["}, false, false},           // a bad expression matches nothing
	} {
		match, err := secretFilter(tc.filters)
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		if match(a) != tc.a || match(b) != tc.b {
			t.Errorf("%v: alpha %v beta %v, want %v %v", tc.filters, match(a), match(b), tc.a, tc.b)
		}
	}
	if _, err := secretFilter([]string{"label=x"}); err == nil || err.Error() != `invalid filter "label"` {
		t.Errorf("unknown filter: %v", err)
	}
}
