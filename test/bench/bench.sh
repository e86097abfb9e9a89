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
#        other binaries.
set -euo pipefail

cd "$(dirname "$0")/../.."
repo=$PWD

runs=${BENCH_RUNS:-20}
containers=${BENCH_CONTAINERS:-500}
parallel=${BENCH_PARALLEL:-50}
versions=${BENCH_VERSIONS:-50}
want_podman=${BENCH_PODMAN:-1}
tags="seccomp containers_image_openpgp exclude_graphdriver_btrfs"

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

log "version (median of $versions)"
s=$(median_ms "$versions" sv version)
p=$(podman_or_na median_ms "$versions" pm version)
row "version" "$s" "$p" n/a 0.50 ms

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

echo
printf '%-38s %10s %10s %10s %7s %8s %4s\n' benchmark servin podman runc ratio goal met
for r in "${rows[@]}"; do echo "$r"; done
if [[ $run_servin != FAIL && $run_runc != n/a && $run_runc != FAIL ]]; then
	echo "servin run overhead over bare runc: $(awk -v s="$run_servin" -v r="$run_runc" 'BEGIN {printf "%.1fms (%.1fx)", s - r, s / r}')"
fi
echo "parallel run -d failures: servin $s_fail (running afterwards: $running of $parallel), podman $p_fail"
if [[ $s_fail != 0 ]]; then
	echo "servin failures:"
	head -n 5 "$tmp/fail-sv.log"
fi
