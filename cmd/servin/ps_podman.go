package main

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/servin/servin/libservin"
)

// idFilter is ps --filter id=V, as podman matches it: V is a regular
// expression anchored at the start of the ID ("^" is implied), and IDs
// match whatever the case of V's hex digits. A value that does not
// compile matches nothing.
func idFilter(v string) ctrMatcher {
	re, err := regexp.Compile("^(?i:" + strings.TrimPrefix(v, "^") + ")")
	return func(c *libservin.Container, _ []*libservin.Container) bool {
		return err == nil && re.MatchString(c.ID)
	}
}

// psLabels is ps's {{.Labels}}: "k1=v1,k2=v2" in key order, also in JSON
// (a string, not an object), as podman prints it.
type psLabels map[string]string

func (l psLabels) String() string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	return strings.Join(parts, ",")
}

func (l psLabels) MarshalJSON() ([]byte, error) { return json.Marshal(l.String()) }

// Label is ps's {{.Label "key"}}: one label's value ("" when unset).
func (r psRow) Label(key string) string { return r.Labels[key] }
