package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/servin/servin/libservin/errdefs"
)

// Network is the database record of a network. Its definition (driver,
// subnets, options) is JSON owned by libservin/network; the database only
// indexes the name and ID.
type Network struct {
	Name    string
	ID      string // 64 hex characters
	Created time.Time
	Config  json.RawMessage
}

// Endpoint links a container to a network it is a member of. Config holds
// what the user asked for (aliases, static address, interface name) and
// lives as long as the membership; State holds the live attachment
// (addresses, MAC) while the container runs and is empty otherwise. The
// DNS responder of a network answers from the endpoints with a State.
type Endpoint struct {
	Network       string
	ContainerID   string
	ContainerName string // joined from containers
	Config        json.RawMessage
	State         json.RawMessage // nil when not attached
}

const networkColumns = "name, id, created, config"

// AddNetwork records a new network. It fails with errdefs.ErrAlreadyExists
// when the name (or the ID) is taken.
func (d *DB) AddNetwork(ctx context.Context, n *Network) error {
	if n.Name == "" || n.ID == "" {
		return fmt.Errorf("network needs a name and an ID: %w", errdefs.ErrInvalidArgument)
	}
	cfg := string(n.Config)
	if cfg == "" {
		cfg = "{}"
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		var count int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM networks WHERE name = ? OR id = ?", n.Name, n.ID).Scan(&count); err != nil {
			return err
		}
		if count > 0 {
			return fmt.Errorf("network name %s already used: %w", n.Name, errdefs.ErrAlreadyExists)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO networks ("+networkColumns+") VALUES (?, ?, ?, ?)",
			n.Name, n.ID, n.Created.UnixNano(), cfg)
		return err
	})
}

// GetNetwork finds a network by exact name, exact ID or unique ID prefix.
// No match is errdefs.ErrNotFound, an ambiguous prefix
// errdefs.ErrInvalidArgument.
func (d *DB) GetNetwork(ctx context.Context, nameOrID string) (*Network, error) {
	if nameOrID == "" {
		return nil, fmt.Errorf("empty network name or ID: %w", errdefs.ErrInvalidArgument)
	}
	rows, err := d.db.QueryContext(ctx,
		"SELECT "+networkColumns+", name = ?1 OR id = ?1 FROM networks"+
			" WHERE name = ?1 OR id = ?1 OR substr(id, 1, length(?1)) = ?1"+
			" ORDER BY name = ?1 DESC, id = ?1 DESC LIMIT 2", nameOrID)
	if err != nil {
		return nil, err
	}
	found, n, err := pickOne(rows, scanNetwork)
	switch {
	case err != nil:
		return nil, err
	case n == 0:
		return nil, errdefs.Worded(errdefs.ErrNotFound, "unable to find network with name or ID %s: network not found", nameOrID)
	case n > 1:
		return nil, fmt.Errorf("more than one network matches ID prefix %q: %w", nameOrID, errdefs.ErrInvalidArgument)
	}
	return found, nil
}

// ListNetworks returns all networks, by name.
func (d *DB) ListNetworks(ctx context.Context) ([]*Network, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+networkColumns+" FROM networks ORDER BY name")
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanNetwork)
}

func scanNetwork(rows *sql.Rows, extra ...any) (*Network, error) {
	var (
		n       Network
		created int64
		cfg     []byte
	)
	if err := rows.Scan(append([]any{&n.Name, &n.ID, &created, &cfg}, extra...)...); err != nil {
		return nil, err
	}
	n.Created = time.Unix(0, created)
	n.Config = json.RawMessage(cfg)
	return &n, nil
}

// RemoveNetwork deletes the record of network name. It fails with
// errdefs.ErrInUse, naming the containers, while any container is a member.
func (d *DB) RemoveNetwork(ctx context.Context, name string) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		users, err := endpointsOf(ctx, tx, name)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			names := make([]string, len(users))
			for i, e := range users {
				names[i] = e.ContainerName
			}
			return fmt.Errorf("%q has associated containers with it (%s). Use -f to forcibly delete containers: network is being used: %w",
				name, strings.Join(names, ", "), errdefs.ErrInUse)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM networks WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = errdefs.Worded(errdefs.ErrNotFound, "unable to find network with name or ID %s: network not found", name)
			}
			return err
		}
		return nil
	})
}

// AddEndpoint makes container containerID a member of network. It fails
// with errdefs.ErrAlreadyExists when it is one already and with
// errdefs.ErrNotFound when either is gone.
func (d *DB) AddEndpoint(ctx context.Context, network, containerID string, cfg json.RawMessage) error {
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM network_endpoints WHERE network = ? AND container = ?", network, containerID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("container %s is already connected to network %s: %w", containerID, network, errdefs.ErrAlreadyExists)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO network_endpoints (network, container, config) VALUES (?, ?, ?)",
			network, containerID, string(cfg))
		if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
			return fmt.Errorf("network %s or container %s no longer exists: %w", network, containerID, errdefs.ErrNotFound)
		}
		return err
	})
}

// RemoveEndpoint ends the membership of containerID in network. A missing
// membership is errdefs.ErrNotFound.
func (d *DB) RemoveEndpoint(ctx context.Context, network, containerID string) error {
	return d.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM network_endpoints WHERE network = ? AND container = ?", network, containerID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = fmt.Errorf("container %s is not connected to network %s: %w", containerID, network, errdefs.ErrNotFound)
			}
			return err
		}
		return nil
	})
}

// SetEndpointStates records the live attachments of a container: each key
// of states is a network; a nil value clears that network's state. All of
// it is one transaction, so the DNS responders see a container's networks
// change at once.
func (d *DB) SetEndpointStates(ctx context.Context, containerID string, states map[string]json.RawMessage) error {
	if len(states) == 0 {
		return nil
	}
	return d.withTx(ctx, func(tx *sql.Tx) error {
		for network, st := range states {
			var v any
			if st != nil {
				v = string(st)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE network_endpoints SET state = ? WHERE network = ? AND container = ?",
				v, network, containerID); err != nil {
				return err
			}
		}
		return nil
	})
}

// ClearEndpointStates forgets every live attachment of a container and
// returns the networks that had one.
func (d *DB) ClearEndpointStates(ctx context.Context, containerID string) ([]string, error) {
	var nets []string
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		nets = nets[:0]
		rows, err := tx.QueryContext(ctx, "SELECT network FROM network_endpoints WHERE container = ? AND state IS NOT NULL", containerID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			nets = append(nets, n)
		}
		rows.Close()
		if len(nets) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE network_endpoints SET state = NULL WHERE container = ?", containerID)
		return err
	})
	return nets, err
}

// ContainerEndpoints returns the memberships of a container, in the order
// they were made (the first is the container's primary network).
func (d *DB) ContainerEndpoints(ctx context.Context, containerID string) ([]*Endpoint, error) {
	return d.queryEndpoints(ctx, "e.container = ?", containerID)
}

// NetworkEndpoints returns the members of a network, in the order they
// joined.
func (d *DB) NetworkEndpoints(ctx context.Context, network string) ([]*Endpoint, error) {
	return d.queryEndpoints(ctx, "e.network = ?", network)
}

// AttachedEndpoints returns the members of a network that are attached
// now (have a live state): what its DNS responder answers from.
func (d *DB) AttachedEndpoints(ctx context.Context, network string) ([]*Endpoint, error) {
	return d.queryEndpoints(ctx, "e.network = ? AND e.state IS NOT NULL", network)
}

// EndpointCounts returns how many containers are members of each network
// with members.
func (d *DB) EndpointCounts(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT network, count(*) FROM network_endpoints GROUP BY network")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			name string
			n    int
		)
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

const endpointQuery = "SELECT e.network, e.container, c.name, e.config, e.state FROM network_endpoints e" +
	" JOIN containers c ON c.id = e.container WHERE "

func (d *DB) queryEndpoints(ctx context.Context, where string, arg string) ([]*Endpoint, error) {
	rows, err := d.db.QueryContext(ctx, endpointQuery+where+" ORDER BY e.rowid", arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanEndpoints(rows)
}

func endpointsOf(ctx context.Context, tx *sql.Tx, network string) ([]*Endpoint, error) {
	rows, err := tx.QueryContext(ctx, endpointQuery+"e.network = ? ORDER BY e.rowid", network)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanEndpoints(rows)
}

func scanEndpoints(rows *sql.Rows) ([]*Endpoint, error) {
	var out []*Endpoint
	for rows.Next() {
		var (
			e   Endpoint
			cfg []byte
			st  sql.NullString
		)
		if err := rows.Scan(&e.Network, &e.ContainerID, &e.ContainerName, &cfg, &st); err != nil {
			return nil, err
		}
		e.Config = json.RawMessage(cfg)
		if st.Valid {
			e.State = json.RawMessage(st.String)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

// LockNetwork takes the exclusive lock of network name (an flock on
// lockDir/networks/<name>.lock). It serialises the transitions of a
// network's shared resources: its first member attaching (bridge, firewall
// rules, DNS responder) and its last one leaving, and its removal.
func LockNetwork(lockDir, name string) (unlock func(), err error) {
	unlock, err = LockContainer(filepath.Join(lockDir, "networks"), name)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", name, err)
	}
	return unlock, nil
}

// RemoveNetworkLock deletes the lock file of a removed network. Call it
// while holding the lock.
func RemoveNetworkLock(lockDir, name string) error {
	err := RemoveLock(filepath.Join(lockDir, "networks"), name)
	if errors.Is(err, errdefs.ErrInvalidArgument) {
		return nil
	}
	return err
}
