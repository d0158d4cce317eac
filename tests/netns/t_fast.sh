#!/usr/bin/env bash
# The eBPF fast path inside tcpmigd (fast-path on): established flows are offloaded to the tc
# program, taken back into the slow path for a handoff, offloaded again with the new translation.
#
#   c1 ──── gw (tcpmigd, fast-path on) ──┬── s1  demo_server "server1" :11111, --source :11112
#                                        └── s2  demo_server "server2" :11111, --source :11112
# Issue 5 (docs/fastpath.md, tcpmigd(8) "Fast path").  Asserts: the filter sits on every gateway
# interface; a request/response flow shows path "fast" and its packets are translated in the
# kernel, not queued; s1 -> s2 -> s1 handoffs of an offloaded flow commit and the replies prove
# who answers; a download handed over twice mid-stream is byte-exact while the slow path
# sees only a small part of its packets; FIN goes back to the slow path (flow CLOSED); pinned
# maps carry an offloaded flow across kill -9 and SIGTERM; with no daemon the kernel translates a
# migrated flow's FINs itself (clean close, no RST); a clean stop removes the filters.
source "$(dirname "$0")/lib.sh"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
SOURCE=209715200 # 200 MiB
for k in 1 2; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11112 --source "$SOURCE" --quiet
done
TCPMIG_FASTPATH= gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111
service $S1:11112
	backend $S1:11112
	backend $S2:11112
fast-path on"
sleep 0.3

check "the log says the fast path is on" grep -q "fast path on" "$T/gw.log"
nifs=$(nsx gw ls /sys/class/net | grep -vc '^lo$')
is "tcpmig_fast attached to every gateway interface ($nifs)" \
	"$(for i in $(nsx gw ls /sys/class/net | grep -v '^lo$'); do nsx gw tc filter show dev "$i" ingress; done | grep -c 'tcpmig_fast')" "$nifs"

# mig REF TO: a handoff; on failure its answer goes to the TAP output.
mig() {
	local out
	out=$(ctl -t 10 migrate "$1" --to "$2" 2>&1) && return 0
	diag "migrate $1 --to $2: $out"
	diag "$(ctl -j flow "$1")"
	return 1
}
flow_path() { jget "$(ctl -j flow "$1")" "d['flow']['path']"; }
# wait_path REF PATH: up to 2 s for the flow to be on PATH.
wait_path() {
	for _ in $(seq 40); do
		[[ $(flow_path "$1" 2>/dev/null) == "$2" ]] && return 0
		sleep 0.05
	done
	return 1
}

# --- request/response, offloaded, handed s1 -> s2 -> s1 -----------------------------------------
nsx c1 "$DEMO_CLIENT" --count 40 --interval 100 --message fast "$S1" 11111 >"$T/rr.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
ref="$C1:$port"
check "rr: the flow is offloaded (path fast)" wait_path "$ref" fast
sleep 0.5
q0=$(stat_of pkts_c2s)
x0=$(stat_of fast_translated)
sleep 0.5
q1=$(stat_of pkts_c2s)
x1=$(stat_of fast_translated)
is "rr: while offloaded no client packet reaches the slow path" "$((q1 - q0))" 0
check "rr: the kernel translated its packets ($((x1 - x0)) in 0.5 s)" test $((x1 - x0)) -ge 8
check "rr: migrate s1->s2 of the offloaded flow exits 0" mig "$ref" "$S2:11111"
check "rr: offloaded again after the handoff" wait_path "$ref" fast
sleep 0.5
check "rr: migrate s2->s1 exits 0" mig "$ref" "$S1:11111"
check "rr: offloaded again" wait_path "$ref" fast
wait $cl
is "rr: client got all 40 replies (exit 0)" "$?" 0
is "rr: replies came from server1, server2, server1 in order" \
	"$(grep -oE '^server[0-9]' "$T/rr.out" | uniq | tr '\n' ' ')" "server1 server2 server1 "
is "rr: every request answered once, in order" \
	"$(grep -oE 'fast [0-9]+' "$T/rr.out" | awk '{print $2}' | tr '\n' ' ')" "$(seq -s ' ' 1 40) "
check "rr: two takebacks for the two handoffs (and the FIN)" test "$(stat_of fast_takebacks)" -ge 2
sleep 0.3
is "rr: after the FIN the flow is back in the slow path" "$(flow_path "$ref")" slow
check "rr: ... and closing or closed" grep -qE '^(fin-wait|closing|closed)$' <<<"$(jget "$(ctl -j flow "$ref")" "d['flow']['state']")"

# --- 200 MiB download, handed over twice mid-stream --------------------------------------------
pin0=$(stat_of pkts_in)
xt0=$(stat_of fast_translated)
# 40 MiB/s: long enough for two handoffs while data flows.  A new backend's stream starts at its
# offset 0: the client must get a prefix of server1's, of server2's, then all of server1's.
nsx c1 timeout 60 python3 "$ROOT/tests/tools/paced.py" recv "$S1" 11112 "$T/dl.bin" 40M >"$T/dl.out" 2>&1 &
cl=$!
port=$(client_port c1 11112)
ref="$C1:$port"
sleep 0.4
check "dl: offloaded" wait_path "$ref" fast
check "dl: migrate s1->s2 mid-stream exits 0" mig "$ref" "$S2:11112"
sleep 0.4
check "dl: offloaded again" wait_path "$ref" fast
check "dl: migrate s2->s1 mid-stream exits 0" mig "$ref" "$S1:11112"
wait $cl
is "dl: the client read to a clean EOF (exit 0)" "$?" 0
diag "$(cat "$T/dl.out")"
python3 "$ROOT/tests/tools/stream.py" check "$T/dl.bin" server1 server2 server1 --last-len "$SOURCE" \
	>"$T/check.out" 2>&1
is "dl: bytes are exactly prefixes of server1, server2 and all of server1" "$?" 0
sed 's/^/# /' "$T/check.out"
pin=$(($(stat_of pkts_in) - pin0))
xt=$(($(stat_of fast_translated) - xt0))
diag "dl: slow path saw $pin packets, the kernel translated $xt"
check "dl: the kernel translated most packets (slow path $pin < kernel $xt / 4)" test $((pin * 4)) -lt "$xt"

# --- daemon restarts: kill -9 and a clean stop while a migrated flow is offloaded --------------
# Maps pinned in a bpffs of this test's own (the gateway's /sys/fs/bpf, under ip netns exec, is a
# fresh sysfs, not a bpffs): the download must go on while no daemon runs, and each new daemon
# re-adopts the flow, which can then be handed back to server 1 and finishes byte-exact.
mkdir -p "$T/bpffs"
mount -t bpf bpf "$T/bpffs" || { echo "Bail out! cannot mount a bpffs"; exit 1; }
CONF="service $S1:11112
	backend $S1:11112
	backend $S2:11112
service $S1:11111
	backend $S1:11111
	backend $S2:11111
fast-path on
fast-path-pin $T/bpffs/tcpmig"
gw_stop
gw_start "$CONF"
check "pin: the maps are pinned" test -e "$T/bpffs/tcpmig/tm_fast_flows"
nsx c1 timeout 60 python3 "$ROOT/tests/tools/paced.py" recv "$S1" 11112 "$T/rs.bin" 20M >"$T/rs.out" 2>&1 &
cl=$!
port=$(client_port c1 11112)
ref="$C1:$port"
sleep 0.4
check "pin: migrate s1->s2 exits 0" mig "$ref" "$S2:11112"
check "pin: offloaded" wait_path "$ref" fast
gw_kill
b0=$(stat -c %s "$T/rs.bin")
sleep 1
b1=$(stat -c %s "$T/rs.bin")
check "pin: with tcpmigd killed (-9) the migrated flow goes on ($((b1 - b0)) bytes in 1 s)" test $((b1 - b0)) -gt 5000000
gw_restart kill "$CONF"
check "pin: the restarted daemon re-adopted the flow" grep -q "re-adopted 1 offloaded flow" "$T/gw.log"
is "pin: ... it shows on server 2, offloaded" \
	"$(jget "$(ctl -j flow "$ref")" "d['flow']['backend'] + ' ' + d['flow']['path']")" "$S2:11112 fast"
gw_stop
check "pin: a clean stop leaves the offloaded flow to the kernel" \
	grep -q "left to the kernel" "$T/gw.log"
b0=$(stat -c %s "$T/rs.bin")
sleep 1
b1=$(stat -c %s "$T/rs.bin")
check "pin: with tcpmigd stopped (SIGTERM) the flow goes on ($((b1 - b0)) bytes in 1 s)" test $((b1 - b0)) -gt 5000000
gw_restart term "$CONF"
check "pin: re-adopted again" grep -q "re-adopted 1 offloaded flow" "$T/gw.log"
check "pin: the re-adopted flow is handed back to server 1" mig "$ref" "$S1:11112"
wait $cl
is "pin: the client read to a clean EOF (exit 0)" "$?" 0
diag "$(cat "$T/rs.out")"
python3 "$ROOT/tests/tools/stream.py" check "$T/rs.bin" server1 server2 server1 --last-len "$SOURCE" \
	>"$T/rcheck.out" 2>&1
is "pin: bytes are exactly prefixes of server1, server2 and all of server1" "$?" 0
sed 's/^/# /' "$T/rcheck.out"

# --- no daemon at the close: the kernel translates FIN and RST itself -------------------------
# A migrated, offloaded session ends (client FIN, server FIN) while tcpmigd is dead: with the
# daemon's heartbeat gone the program translates them (fast_translated_no_daemon); otherwise the
# FIN would reach server 1 untranslated and its reset the client.
nsx c1 tcpdump -i eth0 -nn -U -w "$T/orst.pcap" 'tcp port 11111 and tcp[tcpflags] & tcp-rst != 0' \
	2>"$T/otcpdump.err" &
td=$!
_bg_pids+=($td)
for _ in $(seq 50); do grep -qs listening "$T/otcpdump.err" && break; sleep 0.1; done
nsx c1 "$DEMO_CLIENT" --count 20 --interval 100 --message orphan "$S1" 11111 >"$T/orphan.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
ref="$C1:$port"
sleep 0.3
check "orphan: migrate s1->s2 exits 0" mig "$ref" "$S2:11111"
check "orphan: offloaded" wait_path "$ref" fast
nx0=$(stat_of fast_translated_no_daemon)
gw_kill
wait $cl
is "orphan: the client got all 20 replies and closed (exit 0)" "$?" 0
is "orphan: replies from server1, then server2" \
	"$(grep -oE '^server[0-9]' "$T/orphan.out" | uniq | tr '\n' ' ')" "server1 server2 "
sleep 0.5
# Server 2 is the passive closer: its socket is gone once the client acked its FIN (LAST-ACK
# while a FIN or that ACK is lost in translation).
is "orphan: server 2's side closed completely (no socket left for $ref, any state)" \
	"$(nsx s2 ss -tanH "sport = :11111" | awk '{print $5}' | grep -cE "$C1]?:$port\$")" 0
kill -INT $td 2>/dev/null
sleep 0.2
is "orphan: no RST reached the client" "$(tcpdump -nn -r "$T/orst.pcap" 2>/dev/null | wc -l)" 0
gw_restart orphan "$CONF"
check "orphan: the kernel translated the FINs (fast_translated_no_daemon +$(($(stat_of fast_translated_no_daemon) - nx0)))" \
	test $(($(stat_of fast_translated_no_daemon) - nx0)) -ge 2
is "orphan: the restarted daemon did not re-adopt the closed flow" "$(stat_of fast_readopt_closed)" 1

# --- counters, clean stop -------------------------------------------------------------------
is "no offload errors" "$(stat_of fast_offload_errors)" 0
is "no malformed or failed rewrites in the kernel" "$(stat_of fast_rewrite_failed_drop)" 0
gw_stop
is "a clean stop detaches the filters" \
	"$(for i in $(nsx gw ls /sys/class/net | grep -v '^lo$'); do nsx gw tc filter show dev "$i" ingress; done | grep -c 'tcpmig_fast')" 0
done_testing
