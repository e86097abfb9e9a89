#!/usr/bin/env bash
# Benchmarks servin side by side with podman (Debian's, with runc) and, for
# container start-up, with bare runc as the floor. Prints one table row per
# benchmark: servin, podman and runc times, servin/podman ratio, the goal and
# whether servin meets it.
#
# Everything runs offline in private roots under a temp dir that is removed
# at the end (containers included); the machine's own stores are not touched.
#
# Usage: test/bench/bench.sh        (from the repo root, after `make build`)
# Knobs: BENCH_RUNS=20 BENCH_CONTAINERS=500 BENCH_PARALLEL=50 BENCH_VERSIONS=50
#        BENCH_PODMAN=0 to skip podman; SERVIN_BINARY / SERVIN_MONITOR to pick
#        other binaries; BENCH_CP_MB=200 BENCH_CP_RUNS=3 size the file-copy
#        benchmarks (0 MB skips them); BENCH_PULL_MB=100 BENCH_PULL_RUNS=5 size
#        the image pull benchmark (0 runs skips it).
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$PWD

runs=${BENCH_RUNS:-20}
containers=${BENCH_CONTAINERS:-500}
parallel=${BENCH_PARALLEL:-50}
versions=${BENCH_VERSIONS:-50}
want_podman=${BENCH_PODMAN:-1}
cp_mb=${BENCH_CP_MB:-200}
cp_runs=${BENCH_CP_RUNS:-3}
pull_runs=${BENCH_PULL_RUNS:-5}
pull_mb=${BENCH_PULL_MB:-100}
tags="seccomp containers_image_openpgp exclude_graphdriver_btrfs urfave_cli_no_docs"

servin_bin=${SERVIN_BINARY:-$repo/bin/servin}
export SERVIN_MONITOR=${SERVIN_MONITOR:-$repo/bin/servin-monitor}
[[ -x $servin_bin ]] || { echo "bench: $servin_bin missing: run make build" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "bench: needs root" >&2; exit 1; }

# A short path: unix socket paths below the run roots must stay < 108 bytes.
tmp=$(mktemp -d /tmp/sbench-XXXXXX)

sv() { "$servin_bin" --root "$tmp/servin/root" --runroot "$tmp/servin/run" "$@"; }
pm() { podman --root "$tmp/podman/root" --runroot "$tmp/podman/run" --tmpdir "$tmp/podman/tmp" --runtime runc "$@"; }
rc() { "$tmp/runc" --root "$tmp/runc-state" "$@"; }

have_podman=0
have_runc=0

cleanup() {
	set +e
	[[ -n ${registry_pid:-} ]] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	sv rm -a -f -t 0 >/dev/null 2>&1
	((have_podman)) && pm rm -a -f -t 0 >/dev/null 2>&1
	if ((have_runc)); then
		for id in $(rc list -q 2>/dev/null); do rc delete -f "$id" >/dev/null 2>&1; done
	fi
	# Whatever is still mounted below tmp (overlays of a failed removal).
	awk -v d="$tmp" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r mp; do umount -l "$mp" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# quiet cmd...: runs cmd, showing its output only if it fails.
quiet() {
	if ! "$@" >"$tmp/out" 2>&1; then
		cat "$tmp/out" >&2
		return 1
	fi
}

# median_ms N cmd...: runs cmd N times and prints the median wall time in
# milliseconds, or FAIL if a run failed.
median_ms() {
	local n=$1 i t0 t1
	shift
	local times=()
	for ((i = 0; i < n; i++)); do
		t0=${EPOCHREALTIME/./}
		if ! "$@" >/dev/null 2>"$tmp/err"; then
			log "failed: $* : $(tail -n 3 "$tmp/err")"
			echo FAIL
			return
		fi
		t1=${EPOCHREALTIME/./}
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000}'
}

# once_ms cmd...: wall time of one run in milliseconds, or FAIL.
once_ms() { median_ms 1 "$@"; }

# --- set-up -----------------------------------------------------------------

setup_podman() {
	((want_podman)) || return 0
	if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
		log "installing Debian's podman and runc for comparison"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >/dev/null 2>&1; } ||
			{ log "podman unavailable: its column shows n/a"; return 0; }
	fi
	mkdir -p "$tmp/podman/root" "$tmp/podman/run" "$tmp/podman/tmp"
	# podman's default ulimits exceed this machine's hard limits; logs and
	# events go to files in tmp so nothing shared is touched.
	cat >"$tmp/podman/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$tmp/podman/events.log"
EOF
	export CONTAINERS_CONF=$tmp/podman/containers.conf
	quiet pm import "$tmp/busybox.tar" busybox
	have_podman=1
}

# setup_runc builds runc v1.5.3 from the module cache with servin's own
# dependency versions (no network) and makes an OCI bundle equivalent to
# `run --rm --network none busybox true`.
setup_runc() {
	if ! (cd "$repo" && GOPROXY=off GOFLAGS=-mod=readonly go build -trimpath -tags seccomp -o "$tmp/runc" github.com/opencontainers/runc) 2>"$tmp/err"; then
		log "cannot build runc: $(tail -n 3 "$tmp/err"); its column shows n/a"
		return 0
	fi
	mkdir -p "$tmp/bundle/rootfs" "$tmp/runc-state"
	tar -C "$tmp/bundle/rootfs" -xf "$tmp/busybox.tar"
	(cd "$tmp/bundle" && "$tmp/runc" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\(\s*\)"sh"$/\1"true"/' "$tmp/bundle/config.json"
	have_runc=1
}

runc_true() {
	runc_seq=$((${runc_seq:-0} + 1))
	rc run --bundle "$tmp/bundle" "bench-$runc_seq" </dev/null
}

log "preparing the busybox image"
(cd "$repo" && go run -tags "$tags" ./test/mkrootfs "$tmp/busybox.tar")
setup_podman
setup_runc
mkdir -p "$tmp/servin/root" "$tmp/servin/run"
quiet sv import "$tmp/busybox.tar" busybox

# --- benchmarks -------------------------------------------------------------

rows=()
# row NAME SERVIN PODMAN RUNC GOAL_RATIO UNIT: GOAL_RATIO is the highest
# servin/podman ratio that meets the goal.
row() {
	local name=$1 s=$2 p=$3 r=$4 goal=$5 unit=$6 ratio=n/a met=n/a
	if [[ $s != FAIL && $s != n/a && $p != FAIL && $p != n/a ]]; then
		ratio=$(awk -v s="$s" -v p="$p" 'BEGIN {printf "%.2f", (p > 0) ? s / p : 0}')
		met=$(awk -v r="$ratio" -v g="$goal" 'BEGIN {print (r <= g) ? "yes" : "NO"}')
	fi
	rows+=("$(printf '%-38s %10s %10s %10s %7s %8s %4s' "$name" "$(with_unit "$s" "$unit")" "$(with_unit "$p" "$unit")" "$(with_unit "$r" "$unit")" "$ratio" "<=$goal" "$met")")
	printf '%s\n' "${rows[-1]}" >&2
}

podman_or_na() { if ((have_podman)); then "$@"; else echo n/a; fi; }
with_unit() { if [[ $1 == n/a || $1 == FAIL ]]; then echo "$1"; else echo "$1$2"; fi; }

log "run --rm --network none busybox true (median of $runs)"
s=$(median_ms "$runs" sv run --rm --network none busybox true)
p=$(podman_or_na median_ms "$runs" pm run --rm --network none busybox true)
r=n/a
((have_runc)) && r=$(median_ms "$runs" runc_true)
row "run --rm --network none true" "$s" "$p" "$r" 0.50 ms
run_servin=$s run_runc=$r

# Default networks: servin's `servin` bridge (CNI) against podman's own
# default network (netavark). Containers only talk to nothing here: true.
log "run --rm busybox true on the default network (median of $runs)"
s=$(median_ms "$runs" sv run --rm busybox true)
p=$(podman_or_na median_ms "$runs" pm run --rm busybox true)
row "run --rm true (default network)" "$s" "$p" n/a 0.40 ms
run_net_servin=$s
# net_phases_ms: median of servin's own network setup + teardown time, from
# its SERVIN_TRACE phase marks (setup: "network setup" to "network ready";
# teardown: "network teardown" to "network down").
net_phases_ms() {
	local i
	for ((i = 0; i < runs; i++)); do
		SERVIN_TRACE=1 sv run --rm busybox true 2>&1 >/dev/null |
			awk '/: network setup$/ {a = $2} /: network ready$/ {b = $2} /: network teardown$/ {c = $2} /: network down$/ {d = $2}
				END {sub("ms", "", a); sub("ms", "", b); sub("ms", "", c); sub("ms", "", d); printf "%.1f\n", (b - a) + (d - c)}'
	done | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}
net_ms=$(net_phases_ms)

log "version (median of $versions)"
s=$(median_ms "$versions" sv version)
p=$(podman_or_na median_ms "$versions" pm version)
row "version" "$s" "$p" n/a 0.50 ms
version_servin=$s

# create_many TOOL: creates $containers containers, 4 at a time.
create_many() {
	local tool=$1
	seq "$containers" | xargs -P 4 -I{} bash -c "$(declare -f sv pm); tmp='$tmp'; servin_bin='$servin_bin'; $tool create --network none --name c{} busybox true >/dev/null"
}

log "creating $containers containers in each store"
create_many sv
((have_podman)) && create_many pm
n=$(sv ps -a -q | wc -l)
[[ $n == "$containers" ]] || log "servin ps -a shows $n containers, want $containers"

log "ps -a with $containers containers (median of 10)"
s=$(median_ms 10 sv ps -a)
p=$(podman_or_na median_ms 10 pm ps -a)
row "ps -a ($containers containers)" "$s" "$p" n/a 0.10 ms

log "rm -af of $containers containers"
s=$(once_ms sv rm -a -f)
p=$(podman_or_na once_ms pm rm -a -f)
row "rm -af ($containers containers)" "$s" "$p" n/a 0.20 ms

# parallel_runs TOOL: starts $parallel detached containers at once; prints
# "wall_ms failures".
parallel_runs() {
	local tool=$1 i t0 t1
	: >"$tmp/fail-$tool"
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < parallel; i++)); do
		$tool run -d --network none --name "p$i" busybox sleep 60 >/dev/null 2>>"$tmp/fail-$tool.log" ||
			echo "$i" >>"$tmp/fail-$tool" &
	done
	wait
	t1=${EPOCHREALTIME/./}
	echo "$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.1f", d / 1000}') $(wc -l <"$tmp/fail-$tool")"
}

log "$parallel parallel run -d sleep 60"
read -r s s_fail < <(parallel_runs sv)
p=n/a p_fail=n/a
((have_podman)) && read -r p p_fail < <(parallel_runs pm)
row "$parallel x parallel run -d (wall)" "$s" "$p" n/a 0.50 ms
running=$(sv ps -q | wc -l)
sv rm -a -f -t 0 >/dev/null
((have_podman)) && pm rm -a -f -t 0 >/dev/null

# --- image pull from a registry on 127.0.0.1 --------------------------------
# A ~100 MB image of 4 layers (busybox plus 3 layers of incompressible data)
# is pushed to servin's own registry, then pulled into an empty store by each
# tool, plain http. Goal: servin at least twice podman's throughput.

if ((pull_runs > 0)); then
	log "image pull: building a ${pull_mb} MB 4-layer image and serving it"
	"$servin_bin" registry serve --addr 127.0.0.1:0 --root "$tmp/registry" 2>"$tmp/registry.log" &
	registry_pid=$!
	for _ in $(seq 50); do grep -q 'listening on' "$tmp/registry.log" && break; sleep 0.1; done
	reg=$(sed -n 's|.*listening on http://\(127\.0\.0\.1:[0-9]*\).*|\1|p' "$tmp/registry.log")
	img=busybox
	for i in 1 2 3; do
		quiet sv run --name "layer$i" --network none "$img" sh -c "head -c $((pull_mb * 1024 * 1024 / 3)) /dev/urandom >/data$i"
		quiet sv commit -q "layer$i" "pull-layer$i"
		quiet sv rm "layer$i"
		img=pull-layer$i
	done
	quiet sv push -q --tls-verify=false "$img" "$reg/bench/pull:1"
	pull_ref=$reg/bench/pull:1
	pull_seq=0
	# pull_fresh TOOL: pulls into a new empty store (median_ms runs it in
	# one subshell, where pull_seq counts the runs: sv-1..N, pm-1..N).
	pull_fresh() {
		pull_seq=$((pull_seq + 1))
		local d=$tmp/pull/$1-$pull_seq
		if [[ $1 == sv ]]; then
			"$servin_bin" --root "$d/root" --runroot "$d/run" pull -q --tls-verify=false "$pull_ref"
		else
			podman --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp" --runtime runc pull -q --tls-verify=false "$pull_ref"
		fi
	}
	log "pull of $pull_ref into an empty store (median of $pull_runs)"
	s=$(median_ms "$pull_runs" pull_fresh sv)
	p=$(podman_or_na median_ms "$pull_runs" pull_fresh pm)
	row "pull ${pull_mb} MB 4 layers (empty store)" "$s" "$p" n/a 0.50 ms
	pull_servin=$s pull_podman=$p
	# Pulling again: every layer is present, one manifest round trip.
	s=$(median_ms "$pull_runs" "$servin_bin" --root "$tmp/pull/sv-1/root" --runroot "$tmp/pull/sv-1/run" pull -q --tls-verify=false "$pull_ref")
	p=$(podman_or_na median_ms "$pull_runs" podman --root "$tmp/pull/pm-1/root" --runroot "$tmp/pull/pm-1/run" --tmpdir "$tmp/pull/pm-1/tmp" --runtime runc pull -q --tls-verify=false "$pull_ref")
	row "pull again (all layers present)" "$s" "$p" n/a 0.50 ms
	rm -rf "$tmp/pull"
	kill "$registry_pid" 2>/dev/null
	wait "$registry_pid" 2>/dev/null
	registry_pid=
fi

# --- file copies: servin cp against cp -a and tar on the same disk ---------
#
# Two references for each copy: the plain tool on the same container root
# filesystem (through the same overlay mount: the goal, servin <= 1.5x), and
# the plain tool between ordinary directories of the same disk (shown, since
# creating files through overlayfs costs more than on the bare filesystem).

cprows=()
# cprow NAME SERVIN_MS SAMEFS_MS PLAIN_MS
cprow() {
	local name=$1 s=$2 same=$3 plain=$4 ratio=n/a ratio2=n/a met=n/a
	if [[ $s != FAIL && $same != FAIL ]]; then
		ratio=$(awk -v s="$s" -v r="$same" 'BEGIN {printf "%.2f", (r > 0) ? s / r : 0}')
		met=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.5) ? "yes" : "NO"}')
	fi
	if [[ $s != FAIL && $plain != FAIL ]]; then
		ratio2=$(awk -v s="$s" -v r="$plain" 'BEGIN {printf "%.2f", (r > 0) ? s / r : 0}')
	fi
	cprows+=("$(printf '%-32s %10s %12s %12s %7s %7s %6s %4s' "$name" "$(with_unit "$s" ms)" "$(with_unit "$same" ms)" "$(with_unit "$plain" ms)" "$ratio" "$ratio2" "<=1.5" "$met")")
	printf '%s\n' "${cprows[-1]}" >&2
}

# make_tree DIR MB: MB megabytes in 20 directories, 80% in 1 MB files and
# 20% in 20 kB files, each file different.
make_tree() {
	local dir=$1 mb=$2 d f
	local big=$((mb * 8 / 10 / 20)) small=$((mb * 2 * 1024 / 10 / 20 / 20))
	head -c $((1024 * 1024)) /dev/urandom >"$tmp/blob"
	for d in $(seq 1 20); do
		mkdir -p "$dir/d$d"
		for f in $(seq 1 "$big"); do cp "$tmp/blob" "$dir/d$d/big$f"; printf '%d' "$d$f" >>"$dir/d$d/big$f"; done
		for f in $(seq 1 "$small"); do head -c 20480 "$tmp/blob" >"$dir/d$d/small$f"; printf '%d' "$d$f" >>"$dir/d$d/small$f"; done
	done
}

# cp_median N CLEAN CMD...: median wall time in ms of N runs of CMD, the
# shell command CLEAN (removing the previous run's result) before each.
cp_median() {
	local n=$1 clean=$2 i t0 t1
	shift 2
	local times=()
	for ((i = 0; i < n; i++)); do
		eval "$clean" >/dev/null 2>&1 || true
		sync
		t0=${EPOCHREALTIME/./}
		if ! "$@" >/dev/null 2>"$tmp/err"; then
			log "failed: $* : $(tail -n 3 "$tmp/err")"
			echo FAIL
			return
		fi
		t1=${EPOCHREALTIME/./}
		times+=($((t1 - t0)))
	done
	printf '%s\n' "${times[@]}" | sort -n |
		awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f\n", m / 1000}'
}

if ((cp_mb > 0)); then
	log "file copies: a ${cp_mb} MB tree, median of $cp_runs"
	c=$tmp/cp
	mkdir -p "$c"
	make_tree "$c/tree" "$cp_mb"
	log "tree: $(du -sh "$c/tree" | cut -f1) in $(find "$c/tree" -type f | wc -l) files"
	sv_cmd="'$servin_bin' --root '$tmp/servin/root' --runroot '$tmp/servin/run'" # sv, for sh -c
	sv create --name cpstopped busybox true >/dev/null
	sv create --name cpcold busybox true >/dev/null # stopped and not mounted: servin's target
	sv run -d --network none --name cprunning busybox sleep 100000 >/dev/null
	# The stopped container's root filesystem, mounted for the references.
	rootfs=$(sv mount cpstopped)
	mkdir -p "$rootfs/ref"
	cp -a "$c/tree" "$rootfs/ref/src" # a tree to copy out with the plain tools
	cat "$c/tree"/*/* "$rootfs/ref/src"/*/* >/dev/null # warm the page cache for every tool alike

	same=$(cp_median "$cp_runs" "rm -rf '$rootfs/ref/in'" cp -a "$c/tree" "$rootfs/ref/in")
	plain=$(cp_median "$cp_runs" "rm -rf '$c/plain'" cp -a "$c/tree" "$c/plain")
	s=$(cp_median "$cp_runs" "sv exec cprunning rm -rf /root/tree" sv cp "$c/tree" cprunning:/root/)
	cprow "cp DIR ctr: (running)" "$s" "$same" "$plain"
	s=$(cp_median "$cp_runs" "rm -rf \"\$(sv mount cpcold)/root/tree\"; sv umount cpcold" sv cp "$c/tree" cpcold:/root/)
	cprow "cp DIR ctr: (stopped)" "$s" "$same" "$plain"

	same=$(cp_median "$cp_runs" "rm -rf '$c/out'" cp -a "$rootfs/ref/src" "$c/out")
	plain=$(cp_median "$cp_runs" "rm -rf '$c/out'" cp -a "$c/plain" "$c/out")
	s=$(cp_median "$cp_runs" "rm -rf '$c/out'" sv cp cprunning:/root/tree "$c/out")
	cprow "cp ctr:DIR host (running)" "$s" "$same" "$plain"
	s=$(cp_median "$cp_runs" "rm -rf '$c/out'" sv cp cpcold:/root/tree "$c/out")
	cprow "cp ctr:DIR host (stopped)" "$s" "$same" "$plain"

	tar -C "$c" -cf "$c/tree.tar" tree
	same=$(cp_median "$cp_runs" "rm -rf '$rootfs/ref/untar'; mkdir -p '$rootfs/ref/untar'" tar -C "$rootfs/ref/untar" -xf "$c/tree.tar")
	plain=$(cp_median "$cp_runs" "rm -rf '$c/untar'; mkdir -p '$c/untar'" tar -C "$c/untar" -xf "$c/tree.tar")
	s=$(cp_median "$cp_runs" "sv exec cprunning rm -rf /root/tree" sh -c "$sv_cmd cp - cprunning:/root <'$c/tree.tar'")
	cprow "cp - ctr: (tar in, running)" "$s" "$same" "$plain"

	same=$(cp_median "$cp_runs" ":" sh -c "tar -C '$rootfs/ref' -cf - src >'$c/out.tar'")
	plain=$(cp_median "$cp_runs" ":" sh -c "tar -C '$c' -cf - plain >'$c/out.tar'")
	s=$(cp_median "$cp_runs" ":" sh -c "$sv_cmd cp cprunning:/root/tree - >'$c/out.tar'")
	cprow "cp ctr:DIR - (tar out, running)" "$s" "$same" "$plain"

	sv umount cpstopped >/dev/null
	sv rm -f -t 0 cpstopped cpcold cprunning >/dev/null
	rm -rf "$c"
fi

echo
printf '%-38s %10s %10s %10s %7s %8s %4s\n' benchmark servin podman runc ratio goal met
for r in "${rows[@]}"; do echo "$r"; done
if [[ $run_servin != FAIL && $run_runc != n/a && $run_runc != FAIL ]]; then
	echo "servin run overhead over bare runc: $(awk -v s="$run_servin" -v r="$run_runc" 'BEGIN {printf "%.1fms (%.1fx)", s - r, s / r}')"
fi
echo "servin network setup + teardown (default network, median): ${net_ms}ms (goal < 60ms); run --rm default network minus --network none: $(awk -v a="$run_net_servin" -v b="$run_servin" 'BEGIN {printf "%.1fms", a - b}')"
echo "servin version: ${version_servin}ms (the goal is also absolute, <= 15ms: $(awk -v v="$version_servin" 'BEGIN {print (v <= 15) ? "yes" : "NO"}'))"
echo "parallel run -d failures: servin $s_fail (running afterwards: $running of $parallel), podman $p_fail"
if ((${#cprows[@]} > 0)); then
	echo
	printf '%-32s %10s %12s %12s %7s %7s %6s %4s\n' "file copy (${cp_mb} MB tree)" servin "same-fs ref" "plain ref" ratio "/plain" goal met
	for r in "${cprows[@]}"; do echo "$r"; done
fi
if [[ $s_fail != 0 ]]; then
	echo "servin failures:"
	head -n 5 "$tmp/fail-sv.log"
fi
