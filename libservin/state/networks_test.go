package state

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

func TestNetworkRecords(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	n := &Network{Name: "net1", ID: "abcdef0123", Created: time.Unix(1700000000, 0), Config: json.RawMessage(`{"driver":"bridge"}`)}
	if err := d.AddNetwork(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := d.AddNetwork(ctx, &Network{Name: "net1", ID: "ffff"}); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate name: %v", err)
	}
	for _, ref := range []string{"net1", "abcdef0123", "abcd"} {
		if got, err := d.GetNetwork(ctx, ref); err != nil || got.Name != "net1" || string(got.Config) != `{"driver":"bridge"}` {
			t.Errorf("GetNetwork(%q) = %+v, %v", ref, got, err)
		}
	}
	if _, err := d.GetNetwork(ctx, "nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if err := d.AddContainer(ctx, &Container{ID: "c1", Name: "one", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddEndpoint(ctx, "net1", "c1", json.RawMessage(`{"ifname":"eth0"}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.AddEndpoint(ctx, "net1", "c1", nil); !errors.Is(err, errdefs.ErrAlreadyExists) {
		t.Errorf("duplicate endpoint: %v", err)
	}
	if err := d.AddEndpoint(ctx, "nonet", "c1", nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("endpoint on a missing network: %v", err)
	}
	if eps, err := d.AttachedEndpoints(ctx, "net1"); err != nil || len(eps) != 0 {
		t.Errorf("attached before any state: %v %v", eps, err)
	}
	if err := d.SetEndpointStates(ctx, "c1", map[string]json.RawMessage{"net1": json.RawMessage(`{"ips":[]}`)}); err != nil {
		t.Fatal(err)
	}
	eps, err := d.AttachedEndpoints(ctx, "net1")
	if err != nil || len(eps) != 1 || eps[0].ContainerName != "one" || string(eps[0].State) != `{"ips":[]}` {
		t.Errorf("attached: %+v %v", eps, err)
	}
	if err := d.RemoveNetwork(ctx, "net1"); !errors.Is(err, errdefs.ErrInUse) {
		t.Errorf("removing a used network: %v", err)
	}
	if nets, err := d.ClearEndpointStates(ctx, "c1"); err != nil || len(nets) != 1 || nets[0] != "net1" {
		t.Errorf("clear: %v %v", nets, err)
	}
	if counts, _ := d.EndpointCounts(ctx); counts["net1"] != 1 {
		t.Errorf("counts: %v", counts)
	}
	// Removing the container removes its memberships.
	if err := d.RemoveContainer(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveNetwork(ctx, "net1"); err != nil {
		t.Errorf("removing an unused network: %v", err)
	}
	if list, _ := d.ListNetworks(ctx); len(list) != 0 {
		t.Errorf("networks left: %v", list)
	}
}
