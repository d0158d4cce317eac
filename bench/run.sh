#!/usr/bin/env bash
# make bench: the lab gateway's data paths side by side, as ratios against plain kernel
# forwarding (the limit) and HAProxy in TCP mode (what users pick instead), all measured in this
# one run; plus handoff latency, first-request latency, memory per flow, a mass handoff and the
# analyzer's throughput.  Results: build/bench/results.md (bench/report.py writes the tables).
#
#   client c1 ── gw ── s1, s2        (lab/tcpmig-lab, prefix bench$$)
#
#   path:      plain kernel forwarding | HAProxy (gw) | tcpmigd slow path | tcpmigd fast path
#   bulk       1 and BENCH_STREAMS streams, managed and spliced (migrated) flows  bench/bulk.py
#   small      BENCH_MSG-byte messages, TCP_NODELAY, messages/s and segments/s   bench/pktrate
#   conns      short request/reply connections per second, BENCH_CONC in flight bench/connrate
#   fast path: BENCH_FLOWS idle connections: memory per flow, then all handed to s2 at once
#              over BENCH_MIG_CONC control connections                bench/connrate --hold,
#                                                                     bench/migrate_many
#   slow path: handoff latency (BENCH_HANDOFFS handoffs), first-request latency
#
# Knobs: BENCH_SECS (5, whole seconds per timed run), BENCH_STREAMS (8), BENCH_MSG (64),
# BENCH_CONC (128), BENCH_HANDOFFS (1000), BENCH_FLOWS (10000), BENCH_MIG_CONC (8).
# A short check: BENCH_SECS=1 BENCH_HANDOFFS=50 BENCH_FLOWS=1000 make bench
#
# Namespace-local settings only: c1 and gw get a wide local port range and tcp_tw_reuse=1
# (connections/s would otherwise run out of ports); nothing on the host is touched.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
LAB=$ROOT/lab/tcpmig-lab
SECS=${BENCH_SECS:-5}
NHO=${BENCH_HANDOFFS:-1000}
NSTREAMS=${BENCH_STREAMS:-8}
MSG=${BENCH_MSG:-64}
CONC=${BENCH_CONC:-128}
NFLOWS=${BENCH_FLOWS:-10000}
MIGCONC=${BENCH_MIG_CONC:-8}
CMDLINE="BENCH_SECS=$SECS BENCH_STREAMS=$NSTREAMS BENCH_MSG=$MSG BENCH_CONC=$CONC BENCH_HANDOFFS=$NHO BENCH_FLOWS=$NFLOWS BENCH_MIG_CONC=$MIGCONC make bench"
P="bench$$"
T=$(mktemp -d /tmp/tcpmig-bench.XXXXXX)
OUT=$BUILD/bench/results.md
REC=$T/rec.tsv
mkdir -p "$BUILD/bench"
pids=()
GWPID='' HAPID='' HOLDPIDS='' OFFLOADED=''

for v in SECS NHO NSTREAMS MSG CONC NFLOWS MIGCONC; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v must be a positive integer, got '${!v}'" >&2; exit 2; }
done
((NFLOWS >= 2)) || { echo "bench: BENCH_FLOWS must be at least 2" >&2; exit 2; }

cleanup() {
	for p in $HOLDPIDS $GWPID $HAPID "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	cp "$T/gw.log" "$BUILD/bench/tcpmigd.log" 2>/dev/null # what the daemons said, for a look afterwards
	"$LAB" down --prefix "$P" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Held connections need a descriptor each, in the client and in the server; HAProxy wants two per
# connection of its maxconn (sized from the limit below).
want_fds=$((NFLOWS + 1024))
if [[ $(ulimit -Hn) != unlimited ]] && (($(ulimit -Hn) < want_fds)); then
	ulimit -Hn "$want_fds" 2>/dev/null ||
		echo "bench: RLIMIT_NOFILE is $(ulimit -Hn) and cannot be raised: fewer than $NFLOWS connections may open" >&2
fi
ulimit -Sn "$(ulimit -Hn)"
FDS=$(ulimit -Sn)
[[ $FDS == unlimited ]] && FDS=1048576
HAP_MAXCONN=$(((FDS - 1000) / 2 > 20000 ? 20000 : (FDS - 1000) / 2))

"$LAB" up --prefix "$P" --servers 2 >/dev/null || exit 1
eval "$("$LAB" env --prefix "$P")"
# nsx HOST CMD...: CMD in the host's namespace.  A process whose pid is kept to be signalled is
# started with ip netns exec itself (it execs CMD, so $! is CMD), not through this function
# (whose $! would be a subshell: killing it would leave CMD running).
nsx() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }
rec() { printf '%s\t%s\n' "$1" "$2" >>"$REC"; }
for h in c1 gw; do
	nsx "$h" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
done

S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 GW=$LAB_GW_IP4_C
# Sinks (bulk 13000, small messages 13001) and line servers (11111) on both servers.
for k in 1 2; do
	ip=LAB_S${k}_IP4
	nsx "s$k" python3 "$ROOT/bench/bulk.py" serve "${!ip}" 13000 >"$T/sink$k.log" 2>&1 &
	pids+=($!)
	nsx "s$k" "$BUILD/bench/pktrate" sink "${!ip}" 13001 >"$T/small$k.log" 2>&1 &
	pids+=($!)
	nsx "s$k" "$BUILD/lab/demo_server" --name "server$k" --listen "${!ip}" --port 11111 --quiet >/dev/null 2>&1 &
	pids+=($!)
done
sleep 0.5

# --- tcpmigd --------------------------------------------------------------------------------------
cat >"$T/base.conf" <<CONF
service $S1:13000
	backend $S1:13000
	backend $S2:13000
service $S1:13001
	backend $S1:13001
	backend $S2:13001
service $S1:11111
	backend $S1:11111
	backend $S2:11111
CONF
# The fast path as deployed: maps pinned (its default), here in a bpffs of the daemon's own mount
# namespace (ip netns exec gives it a fresh /sys), which goes away with the daemon.
mkdir -p "$T/bpffs"
{ cat "$T/base.conf"; printf 'fast-path on\nfast-path-pin %s/bpffs/tcpmig\n' "$T"; } >"$T/fast.conf"
FAST=0
# gw_on slow|fast
gw_on() {
	if [[ $1 == fast ]]; then
		FAST=1
		cp "$T/fast.conf" "$T/tcpmigd.conf"
		# shellcheck disable=SC2016 # for the inner sh
		ip netns exec "$P-gw" sh -c 'mount -t bpf bpf "$1" && shift && exec "$@"' sh "$T/bpffs" \
			"$BUILD/tcpmigd" -c "$T/tcpmigd.conf" -S "$T/ctl.sock" >>"$T/gw.log" 2>&1 &
	else
		FAST=0
		cp "$T/base.conf" "$T/tcpmigd.conf"
		ip netns exec "$P-gw" "$BUILD/tcpmigd" -c "$T/tcpmigd.conf" -S "$T/ctl.sock" >>"$T/gw.log" 2>&1 &
	fi
	GWPID=$!
	for _ in $(seq 100); do [[ -S $T/ctl.sock ]] && break; sleep 0.05; done
	[[ -S $T/ctl.sock ]] || { echo "bench: tcpmigd did not start:" >&2; tail -5 "$T/gw.log" >&2; }
}
gw_off() {
	kill "$GWPID" 2>/dev/null
	wait "$GWPID" 2>/dev/null
	GWPID=
	rm -f "$T/ctl.sock"
}
ctl() { "$BUILD/tcpmigctl" -S "$T/ctl.sock" "$@"; }
stats() { ctl -j stats 2>/dev/null || echo '{}'; }
# sdelta BEFORE_JSON AFTER_JSON NAME...: the counters' increase, one per line.
sdelta() {
	python3 -c '
import json, sys
a, b = (json.loads(x).get("stats", {}) for x in sys.argv[1:3])
for k in sys.argv[3:]:
    print(b.get(k, 0) - a.get(k, 0))' "$@"
}
stat_of() { stats | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stats",{}).get(sys.argv[1],0))' "$1"; }
# wait_fast CLIENT: with the fast path on, up to 2 s for the flow to be offloaded.
wait_fast() {
	((FAST)) || return 0
	for _ in $(seq 40); do
		ctl -j flow "$1" 2>/dev/null | grep -q '"path":"fast"' && return 0
		sleep 0.05
	done
	echo "bench: flow $1 is not offloaded" >&2
	return 1
}
# path_note RUN BEFORE AFTER: what the kernel translated and what went through the queue.
path_note() {
	local d
	d=$(sdelta "$2" "$3" fast_translated pkts_in flows_table_full fast_offload_errors | tr '\n' ' ')
	read -r xl q tf oe <<<"$d"
	rec "path.$1" "$xl $q $tf $oe"
	echo "    ($1: kernel translated $xl, queue saw $q packets; table-full $tf, offload errors $oe)" >&2
}

wait_port() { # wait_port FILE: the "port N" line a sender prints once connected
	local port
	for _ in $(seq 200); do
		port=$(awk '/^port/{print $2}' "$1" 2>/dev/null) # the file may not exist yet
		[[ -n $port ]] && { echo "$port"; return 0; }
		sleep 0.05
	done
	return 1
}

# --- the loads ------------------------------------------------------------------------------------
# sink_total LOG...: bytes of every connection the sinks on both servers logged so far (one line
# "bytes seconds ..." per connection at its EOF; a reset connection, e.g. the first backend's half
# of a migrated one, logs nothing).
sink_total() { cat "$@" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && NF >= 2 {b += $1} END {printf "%.0f\n", b}'; }
# check_bytes NAME SENT BEFORE LOG...: the sinks must have received what the senders sent.
check_bytes() {
	local got=$(($(sink_total "${@:4}") - $3))
	rec "check.$1" "$2 $got"
	[[ $got == "$2" ]] || echo "bench: $1: the senders sent $2 bytes, the sinks received $got" >&2
}
# run_bulk NAME DEST STREAMS [MIGRATE_TO]: STREAMS senders (bench/bulk.py) started together once
# all are connected (and handed to MIGRATE_TO while idle); prints the aggregate Gbit/s: all bytes
# over the longest sender's time (each runs from its first write to the sink's EOF).
run_bulk() {
	local name=$1 dst=$2 n=$3 to=${4:-} i port cps=() s0 s1 r0
	rm -f "$T/go" "$T/$name".[0-9]*.out
	r0=$(sink_total "$T"/sink[12].log)
	for ((i = 0; i < n; i++)); do
		nsx c1 python3 "$ROOT/bench/bulk.py" send "$dst" 13000 0 --wait-file "$T/go" --secs "$SECS" >"$T/$name.$i.out" 2>&1 &
		cps+=($!)
	done
	for ((i = 0; i < n; i++)); do
		port=$(wait_port "$T/$name.$i.out") || { echo "bench: $name sender $i did not connect" >&2; continue; }
		if [[ -n $to ]]; then
			ctl migrate "$LAB_C1_IP4:$port" --to "$to:13000" >/dev/null ||
				echo "bench: handoff before $name failed" >&2
		fi
		wait_fast "$LAB_C1_IP4:$port"
	done
	[[ -n $GWPID ]] && s0=$(stats)
	touch "$T/go"
	wait "${cps[@]}"
	[[ -n $GWPID ]] && { s1=$(stats); path_note "$name" "$s0" "$s1"; }
	check_bytes "$name" "$(awk 'NF == 3 && $1 !~ /port/ {b += $1} END {printf "%.0f\n", b}' \
		"$T/$name".[0-9]*.out)" "$r0" "$T"/sink[12].log
	awk -v n="$n" 'NF == 3 && $1 !~ /port/ {b += $1; if ($2 > t) t = $2; k++}
		END {if (k == n && t > 0) printf "%.3f\n", b * 8 / t / 1e9}' "$T/$name".[0-9]*.out
}

# tcp_out: segments the client sent (not counting retransmissions), from c1's /proc/net/snmp.
tcp_out() {
	nsx c1 awk '/^Tcp:/ {if (!h) {for (i = 1; i <= NF; i++) k[i] = $i; h = 1}
		else for (i = 1; i <= NF; i++) v[k[i]] = $i} END {print v["OutSegs"] - v["RetransSegs"]}' /proc/net/snmp
}
# run_small NAME DEST: one flow of MSG-byte messages for SECS seconds; prints JSON: messages/s
# (first write to the sink's EOF), client segments/s and bytes per segment.
run_small() {
	local name=$1 dst=$2 port o0 o1 cp s0 s1 r0
	rm -f "$T/go"
	r0=$(sink_total "$T"/small[12].log)
	nsx c1 "$BUILD/bench/pktrate" send "$dst" 13001 -s "$MSG" -t "$SECS" -w "$T/go" >"$T/$name.out" 2>&1 &
	cp=$!
	port=$(wait_port "$T/$name.out") && wait_fast "$LAB_C1_IP4:$port"
	[[ -n $GWPID ]] && s0=$(stats)
	o0=$(tcp_out)
	touch "$T/go"
	wait "$cp"
	o1=$(tcp_out)
	[[ -n $GWPID ]] && { s1=$(stats); path_note "$name" "$s0" "$s1"; }
	check_bytes "$name" "$(jf "$(tail -1 "$T/$name.out")" bytes)" "$r0" "$T"/small[12].log
	python3 -c '
import json, sys
try:
    d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
except (ValueError, IndexError):
    sys.exit(0)
segs = int(sys.argv[3]) - int(sys.argv[2])
print(json.dumps({"msgs_per_s": d["msgs_per_s"], "segs_per_s": round(segs / d["secs"]),
                  "bytes_per_seg": round(d["bytes"] / segs, 1) if segs else 0}))' "$T/$name.out" "$o0" "$o1"
}
# run_conns NAME DEST: bench/connrate for SECS seconds; prints its JSON line.
run_conns() {
	local s0 s1
	[[ -n $GWPID ]] && s0=$(stats)
	nsx c1 "$BUILD/bench/connrate" "$2" 11111 -t "$SECS" -c "$CONC" 2>>"$T/connrate.err" | tail -1
	[[ -n $GWPID ]] && { s1=$(stats); path_note "$1" "$s0" "$s1"; }
}
# jf JSON KEY: one field (objects as JSON).
jf() {
	python3 -c '
import json, sys
v = json.loads(sys.argv[1] or "{}").get(sys.argv[2], "")
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2" 2>/dev/null
}
# measure PATHNAME DEST: bulk with 1 and NSTREAMS streams, small messages, connections/s.
measure() {
	local p=$1 dst=$2 v
	v=$(run_bulk "${p}_1" "$dst" 1); rec "bulk1.$p" "$v"
	echo "  $p: bulk, 1 stream            $v Gbit/s" >&2
	v=$(run_bulk "${p}_n" "$dst" "$NSTREAMS"); rec "bulkn.$p" "$v"
	echo "  $p: bulk, $NSTREAMS streams           $v Gbit/s" >&2
	v=$(run_small "${p}_small" "$dst"); rec "small.$p" "$v"
	echo "  $p: $MSG-byte messages        $(jf "$v" msgs_per_s) msgs/s, $(jf "$v" segs_per_s) segments/s" >&2
	v=$(run_conns "${p}_conns" "$dst"); rec "conns.$p" "$v"
	echo "  $p: connections             $(jf "$v" conns_per_s)/s, $(jf "$v" failures) failed $(jf "$v" last_error)" >&2
}
# spliced PATHNAME: bulk over flows handed to server 2 before the transfer.
spliced() {
	local v
	v=$(run_bulk "${1}_spl1" "$S1" 1 "$S2"); rec "bulk1.$1_spliced" "$v"
	echo "  $1: bulk, 1 spliced stream    $v Gbit/s (migrated to server 2 before the transfer)" >&2
	v=$(run_bulk "${1}_spln" "$S1" "$NSTREAMS" "$S2"); rec "bulkn.$1_spliced" "$v"
	echo "  $1: bulk, $NSTREAMS spliced streams   $v Gbit/s" >&2
}

echo "bench: $SECS s per timed run, lab $P; $CMDLINE" >&2
echo "bench: plain kernel forwarding" >&2
measure kernel "$S1"

cat >"$T/haproxy.cfg" <<CFG
global
	maxconn $HAP_MAXCONN
defaults
	mode tcp
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend bulk
	bind $GW:13000
	default_backend bulk
backend bulk
	server s1 $S1:13000
frontend small
	bind $GW:13001
	default_backend small
backend small
	server s1 $S1:13001
frontend rr
	bind $GW:11111
	default_backend rr
backend rr
	server s1 $S1:11111
CFG
echo "bench: $(haproxy -v 2>/dev/null | head -1 | awk '{print "HAProxy", $3}') (TCP mode, on the gateway)" >&2
rec haproxy_version "$(haproxy -v 2>/dev/null | head -1 | awk '{print $3}' | cut -d- -f1)"
ip netns exec "$P-gw" haproxy -f "$T/haproxy.cfg" -db >"$T/haproxy.log" 2>&1 &
HAPID=$!
sleep 0.5
kill -0 "$HAPID" 2>/dev/null || { echo "bench: haproxy did not start:" >&2; cat "$T/haproxy.log" >&2; }
measure haproxy "$GW"
kill "$HAPID"; wait "$HAPID" 2>/dev/null; HAPID=

echo "bench: tcpmigd slow path (NFQUEUE)" >&2
gw_on slow
v=$(run_bulk slow_1 "$S1" 1); rec bulk1.slow "$v"
echo "  slow: bulk, 1 stream            $v Gbit/s (managed, not migrated)" >&2
spliced slow
v=$(run_bulk slow_n "$S1" "$NSTREAMS"); rec bulkn.slow "$v"
echo "  slow: bulk, $NSTREAMS streams           $v Gbit/s" >&2
v=$(run_small slow_small "$S1"); rec small.slow "$v"
echo "  slow: $MSG-byte messages        $(jf "$v" msgs_per_s) msgs/s, $(jf "$v" segs_per_s) segments/s" >&2

echo "bench: first-request latency (200 connections each): no rules / rule match / no match" >&2
fr_plain=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 hello)
cat >"$T/seed.rules" <<'RULES'
alert tcp any -> 10.0.0.1 any(msg:"FORWARD"; flags:PA; content:"forward"; classtype:connection-migration; sid:1000001;)
alert tcp any -> 10.0.0.1 any(msg:"MIGRATE"; flags:PA; content:"migrate"; classtype:connection-migration; sid:1000002;)
RULES
printf 'rules seed.rules\non sid 1000001 forward\non sid 1000002 migrate %s:11111\n' "$S2" >>"$T/tcpmigd.conf"
ctl reload >/dev/null || echo "bench: reload failed" >&2
fr_fwd=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 forward)
fr_mig=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 migrate)
fr_none=$(nsx c1 python3 "$ROOT/bench/first_request.py" "$S1" 11111 200 hello)
cp "$T/base.conf" "$T/tcpmigd.conf"
ctl reload >/dev/null || echo "bench: reload failed" >&2
echo "  plain $fr_plain / forward rule $fr_fwd / migrate rule $fr_mig / no match $fr_none" >&2
rec fr.plain "$fr_plain"; rec fr.forward "$fr_fwd"; rec fr.migrate "$fr_mig"; rec fr.none "$fr_none"

echo "bench: $NHO handoffs, one per request/response connection" >&2
lat=$(nsx c1 python3 "$ROOT/bench/handoff_latency.py" "$S1" 11111 "$T/ctl.sock" "$S1:11111" "$S2:11111" "$NHO")
echo "  $lat" >&2
rec latency "$lat"

# Last on this daemon: closed flows linger (closed-linger) in its table.
v=$(run_conns slow_conns "$S1"); rec conns.slow "$v"
echo "  slow: connections             $(jf "$v" conns_per_s)/s, $(jf "$v" failures) failed $(jf "$v" last_error)" >&2
gw_off

echo "bench: tcpmigd fast path (fast-path on)" >&2
gw_on fast
grep -q "fast path: attached" "$T/gw.log" || echo "bench: the fast path did not attach (see below)" >&2
measure fast "$S1"
spliced fast
gw_off

. "$ROOT/bench/flows.sh"
echo "bench: $NFLOWS idle connections with the fast path: memory per flow, then all handed to server 2" >&2
flows_phase

[[ -s $T/connrate.err ]] && { echo "bench: connrate said:" >&2; sort "$T/connrate.err" | uniq -c | head -5 >&2; }
grep -iE "warn|error|refused" "$T/gw.log" | sort | uniq -c | sort -rn | head -8 | sed 's/^/bench: tcpmigd log: /' >&2
{
	python3 "$ROOT/bench/report.py" "$REC" "$CMDLINE" "$NSTREAMS" "$MSG" "$NHO"
	echo
	"$BUILD/bench/rules_bench"
} | tee "$OUT"
echo "bench: results in $OUT" >&2
