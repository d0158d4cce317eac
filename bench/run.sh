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

echo "bench: first-request latency (200 connections each): no rules / rule match / no match" >&2
fr_plain=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 hello)
cat >"$T/seed.rules" <<'RULES'
alert tcp any -> 10.0.0.1 any(msg:"FORWARD"; flags:PA; content:"forward"; classtype:connection-migration; sid:1000001;)
alert tcp any -> 10.0.0.1 any(msg:"MIGRATE"; flags:PA; content:"migrate"; classtype:connection-migration; sid:1000002;)
RULES
cp "$T/tcpmigd.conf" "$T/tcpmigd.conf.norules"
printf 'rules seed.rules\non sid 1000001 forward\non sid 1000002 migrate %s:11111\n' "$S2" >>"$T/tcpmigd.conf"
"$BUILD/tcpmigctl" -S "$T/ctl.sock" reload >/dev/null || echo "bench: reload failed" >&2
fr_fwd=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 forward)
fr_mig=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 migrate)
fr_none=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 hello)
cp "$T/tcpmigd.conf.norules" "$T/tcpmigd.conf"
"$BUILD/tcpmigctl" -S "$T/ctl.sock" reload >/dev/null || echo "bench: reload failed" >&2
echo "  plain $fr_plain / forward rule $fr_fwd / migrate rule $fr_mig / no match $fr_none" >&2

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
	fr() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print('%.0f | %.0f' % (d['median_us'], d['p99_us']))" "$1"; }
	echo
	echo "| first request (200 connections, µs from request to reply) | median | p99 |"
	echo "|---|---|---|"
	echo "| managed flow, no rules loaded | $(fr "$fr_plain") |"
	echo "| seed 000 rules, FORWARD matches (held, decided at once) | $(fr "$fr_fwd") |"
	echo "| seed 000 rules, MIGRATE matches (held, handed to server 2) | $(fr "$fr_mig") |"
	echo "| seed 000 rules, nothing matches (held for inspect-wait, 100 ms) | $(fr "$fr_none") |"
	echo
	"$BUILD/bench/rules_bench"
} | tee "$OUT"
echo "bench: results in $OUT" >&2
