// Package state owns servin's persistent state: the SQLite database that
// records containers, events and a few global settings, and the per-container
// lock files that serialise work on one container across servin processes.
//
// servin has no daemon. Every CLI invocation is a separate process that opens
// the database, does its work and exits, and dozens of them may run at once.
// The database is therefore opened in WAL mode (readers never block the
// writer), every write runs in a BEGIN IMMEDIATE transaction (so a writer
// waits for the write lock up front instead of failing half-way with
// SQLITE_BUSY), and a 30s busy timeout makes waiting the normal outcome of
// contention, never a "database is locked" error. Writers of all processes
// first queue on a blocking flock of servin.db.lock, which hands the write
// lock over the moment it is free (SQLite's busy handler polls with sleeps
// of up to 100 ms), and the WAL is kept between opens (SQLITE_FCNTL_PERSIST_WAL).
//
// # On-disk layout
//
//	/var/lib/servin/                     persistent state (root)
//	├── servin.db                        this database (+ servin.db-wal, servin.db-shm)
//	├── servin.db.lock                   flock queueing the database's writers
//	├── storage/                         containers/storage graph root (layers, images)
//	├── containers/<ID>/ctr.log          container log
//	└── volumes/<NAME>/_data             a local volume's data (or its mountpoint)
//
//	/run/servin/                         runtime state (tmpfs, gone after reboot)
//	├── storage/                         containers/storage run root
//	├── runc/<ID>/                       libcontainer state
//	├── locks/<ID>.lock                  per-container flock (see below)
//	├── locks/volumes/<NAME>.lock        per-volume flock (see below)
//	├── locks/networks/<NAME>.lock       per-network flock: first attach, last detach, removal
//	├── netns/<ID>                       a container's network namespace (bind mount)
//	├── netns/<ID>.json                  what its network setup did, for teardown
//	├── cni/                             libcni cache, host-local leases (ipam/), firewall markers
//	├── networks/dns/<NAME>.pid          a network's DNS responder
//	└── containers/<ID>/                 the bundle
//	    ├── config.json                  OCI runtime spec
//	    ├── monitor.json                 how the monitor process runs the container
//	    ├── status.json                  written by the monitor (exit code, OOM...)
//	    ├── attach.sock                  monitor's attach socket
//	    └── hosts, hostname, resolv.conf bind-mounted into the container
//
// # Schema
//
// The schema version is kept in PRAGMA user_version; the migrations slice in
// schema.go holds one SQL step per version, each applied in its own
// transaction. A database written by a newer servin is refused.
//
//	containers                           one row per container
//	├── id          TEXT PRIMARY KEY     64 hex characters
//	├── name        TEXT UNIQUE
//	├── image_id    TEXT   (indexed)     image the rootfs was created from
//	├── image_name  TEXT                 image reference as the user typed it
//	├── created     INTEGER (indexed)    Unix nanoseconds
//	├── config      TEXT                 creation config, JSON, owned by libservin
//	├── status      TEXT   (indexed)     copy of state.status, for filtering
//	└── state       TEXT                 ContainerState as JSON
//
//	events                               audit log, newest ~10000 rows kept
//	├── id          INTEGER PRIMARY KEY AUTOINCREMENT (never reused: follow cursor)
//	├── time        INTEGER (indexed)    Unix nanoseconds
//	├── type        TEXT                 container|image|volume|network|system
//	├── action      TEXT                 create|start|died|stop|remove|...
//	├── actor_id    TEXT
//	├── name        TEXT
//	└── attributes  TEXT                 JSON object of strings
//
//	meta                                 global settings (e.g. the storage driver)
//	├── k           TEXT PRIMARY KEY
//	└── v           TEXT
//
//	volumes                              one row per volume (version 2)
//	├── name        TEXT PRIMARY KEY
//	├── driver      TEXT                 volume driver ("local")
//	├── mountpoint  TEXT                 host path of the data as the driver reported it
//	├── created     INTEGER              Unix nanoseconds
//	├── anonymous   INTEGER              1: made for one container (-v /path, image VOLUME)
//	├── labels      TEXT                 JSON object of strings
//	├── options     TEXT                 driver options, JSON object of strings
//	└── state       TEXT                 VolumeState as JSON (copy-up pending, mount holders)
//
//	volume_users                         which container uses which volume (version 2)
//	├── volume      TEXT → volumes(name)   ON DELETE RESTRICT: a used volume stays
//	├── container   TEXT → containers(id)  ON DELETE CASCADE (indexed)
//	└── PRIMARY KEY (volume, container)
//
//	networks                             one row per network (version 3)
//	├── name        TEXT PRIMARY KEY
//	├── id          TEXT UNIQUE          64 hex characters
//	├── created     INTEGER              Unix nanoseconds
//	└── config      TEXT                 definition, JSON, owned by libservin/network
//
//	network_endpoints                    which container is a member of which network (version 3)
//	├── network     TEXT → networks(name)  ON DELETE RESTRICT: a used network stays
//	├── container   TEXT → containers(id)  ON DELETE CASCADE (indexed)
//	├── config      TEXT                 what the container asked for: ifname, aliases, static IPs, MAC
//	├── state       TEXT NULL            live attachment (addresses, MAC) while the container
//	│                                    runs; the network's DNS responder answers from these
//	└── PRIMARY KEY (network, container)
//
// # Lock rules
//
// The database row of a container is only a cache of the truth held by the
// runtime (the monitor's status.json, libcontainer state). Any command that
// acts on a container follows four steps, lock -> sync -> act -> save:
//
//  1. lock: take LockContainer(/run/servin/locks, ID) (exclusive) or
//     LockContainerShared for read-only work such as inspect or logs;
//  2. sync: re-read the row with GetContainer and refresh its state from the
//     runtime, because another process may have changed it before the lock
//     was granted (or removed the container: then report not found);
//  3. act: start, stop, kill... while holding the lock;
//  4. save: SaveState, then unlock.
//
// Database transactions are short and never span the act step, so the
// per-container flock, not SQLite, is what serialises work on a container.
// Listing containers takes no lock. RemoveLock is called by `rm` while it
// still holds the exclusive lock, after the row is gone; a process that was
// waiting on the removed file notices and retries on a fresh one, then finds
// the container gone at its sync step (and should RemoveLock the file it
// recreated).
//
// Volumes follow the same pattern with their own flock,
// /run/servin/locks/volumes/<NAME>.lock. Changing a volume (remove, mount
// or unmount through its driver, copy-up) takes it exclusively. Creating a
// container takes the locks of its volumes shared from the moment it
// resolves them until the volume_users rows exist, so a volume cannot be
// removed between the two; after that the foreign key keeps a used volume's
// row in place. The order is container lock, then volume lock: nothing that
// holds a volume lock waits for a container lock.
package state
