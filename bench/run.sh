#!/usr/bin/env bash
# make bench: throughput through the lab gateway as ratios against plain kernel forwarding and
# HAProxy (TCP mode), all measured in this one run, plus handoff latency over many handoffs.
#
#   client c1 ── gw ── s1, s2        (lab/tcpmig-lab; one stream each, bench/bulk.py as load)
#
# BENCH_SECS (default 5) per throughput run, BENCH_HANDOFFS (default 1000).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
LAB=$ROOT/lab/tcpmig-lab
SECS=${BENCH_SECS:-5}
NHO=${BENCH_HANDOFFS:-1000}
P="bench$$"
T=$(mktemp -d /tmp/tcpmig-bench.XXXXXX)
OUT=$BUILD/bench/results.md
mkdir -p "$BUILD/bench"
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$LAB" down --prefix "$P" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LAB" up --prefix "$P" --servers 2 >/dev/null || exit 1
eval "$("$LAB" env --prefix "$P")"
nsx() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }

# Sinks on both servers; a request/response server for the latency run.
for k in 1 2; do
	ip=LAB_S${k}_IP4
	nsx "s$k" python3 "$ROOT/bench/bulk.py" serve "${!ip}" 13000 >"$T/sink$k.log" 2>&1 &
	pids+=($!)
	nsx "s$k" "$BUILD/lab/demo_server" --name "server$k" --listen "${!ip}" --port 11111 >/dev/null 2>&1 &
	pids+=($!)
done
sleep 0.5

S1=$LAB_S1_IP4 S2=$LAB_S2_IP4
cat >"$T/tcpmigd.conf" <<CONF
service $S1:13000
	backend $S1:13000
	backend $S2:13000
service $S1:11111
	backend $S1:11111
	backend $S2:11111
CONF
gw_on() {
	nsx gw "$BUILD/tcpmigd" -c "$T/tcpmigd.conf" -S "$T/ctl.sock" >>"$T/gw.log" 2>&1 &
	GWPID=$!
	for _ in $(seq 100); do [[ -S $T/ctl.sock ]] && break; sleep 0.05; done
}
gw_off() {
	kill "$GWPID" 2>/dev/null
	wait "$GWPID" 2>/dev/null
}

# run_bulk NAME DEST [migrate-to]: one stream for SECS seconds; prints Gbit/s (sender's view).
run_bulk() {
	local name=$1 dst=$2 to=${3:-} port
	rm -f "$T/go"
	nsx c1 python3 "$ROOT/bench/bulk.py" send "$dst" 13000 0 --wait-file "$T/go" --secs "$SECS" >"$T/$name.out" 2>&1 &
	local cp=$!
	for _ in $(seq 100); do port=$(awk '/^port/{print $2}' "$T/$name.out"); [[ -n $port ]] && break; sleep 0.05; done
	if [[ -n $to ]]; then
		"$BUILD/tcpmigctl" -S "$T/ctl.sock" migrate "$LAB_C1_IP4:$port" --to "$to:13000" >/dev/null ||
			echo "bench: handoff before $name failed" >&2
	fi
	touch "$T/go"
	wait "$cp"
	awk 'NF==3 && $1 !~ /port/ {print $3}' "$T/$name.out" | tail -1
}

echo "bench: $SECS s per run, one TCP stream, lab $P" >&2
kern=$(run_bulk kernel "$S1")
echo "  kernel forwarding      $kern Gbit/s" >&2

cat >"$T/haproxy.cfg" <<CFG
global
	maxconn 4000
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend fe
	bind $LAB_GW_IP4_C:13000
	default_backend be
backend be
	server s1 $S1:13000
CFG
nsx gw haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
HAPID=$!
sleep 0.5
kill -0 "$HAPID" 2>/dev/null || { echo "bench: haproxy did not start:" >&2; cat "$T/haproxy.log" >&2; }
hap=$(run_bulk haproxy "$LAB_GW_IP4_C")
kill "$HAPID"; wait "$HAPID" 2>/dev/null
echo "  haproxy (tcp mode)     $hap Gbit/s" >&2

gw_on
slow=$(run_bulk slow "$S1")
echo "  tcpmigd slow path      $slow Gbit/s (managed, not migrated)" >&2
spl=$(run_bulk spliced "$S1" "$S2")
echo "  tcpmigd spliced        $spl Gbit/s (migrated to server 2 before the transfer)" >&2

echo "bench: $NHO handoffs, one per request/response connection" >&2
lat=$(nsx c1 python3 "$ROOT/bench/handoff_latency.py" "$S1" 11111 "$T/ctl.sock" "$S1:11111" "$S2:11111" "$NHO")
echo "  $lat" >&2
gw_off

ratio() { python3 -c "import sys; a,b=float(sys.argv[1] or 0),float(sys.argv[2] or 0); print('%.2f' % (a/b) if b else 'n/a')" "$1" "$2"; }
j() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print('%.0f' % eval(sys.argv[2]))" "$lat" "$1"; }
{
	echo "| path | Gbit/s | vs kernel forwarding | vs HAProxy |"
	echo "|---|---|---|---|"
	echo "| plain kernel forwarding | $kern | 1.00 | $(ratio "$kern" "$hap") |"
	echo "| HAProxy 2.6 TCP mode | $hap | $(ratio "$hap" "$kern") | 1.00 |"
	echo "| tcpmigd slow path, managed flow | $slow | $(ratio "$slow" "$kern") | $(ratio "$slow" "$hap") |"
	echo "| tcpmigd slow path, spliced (migrated) flow | $spl | $(ratio "$spl" "$kern") | $(ratio "$spl" "$hap") |"
	echo
	echo "| handoff latency over $NHO handoffs (µs) | median | p99 |"
	echo "|---|---|---|"
	echo "| request/response without a handoff | $(j 'd["rr_plain_us"]["median"]') | $(j 'd["rr_plain_us"]["p99"]') |"
	echo "| first request/response after a handoff | $(j 'd["rr_after_handoff_us"]["median"]') | $(j 'd["rr_after_handoff_us"]["p99"]') |"
	echo "| extra time to the first response | $(j 'd["extra_first_response_us"]["median"]') | $(j 'd["extra_first_response_us"]["p99"]') |"
	echo "| handoff in the daemon (command to commit) | $(j 'd["handoff_daemon_us"]["median"]') | $(j 'd["handoff_daemon_us"]["p99"]') |"
	echo "| tcpmigctl-style command round trip | $(j 'd["handoff_command_us"]["median"]') | $(j 'd["handoff_command_us"]["p99"]') |"
	echo
	echo "handoff failures: $(j 'd["handoff_failures"]')"
} | tee "$OUT"
echo "bench: results in $OUT" >&2
