#!/usr/bin/env bash
# Malformed and spoofed packets injected into a live flow's tuple while legitimate sessions run.
#
#   c1  demo_client A (the target flow) + B (a second flow)  ──── gw (tcpmigd) ──┬── s1 "server1"
#   c1  tests/tools/inject.py: raw IPv4/TCP via AF_PACKET to gw's MAC, A's tuple  └── s2 "server2"
# Issue 3, test i.  Every malformed packet must be dropped and counted under the right malformed_*
# counter, every spoofed one under pkts_dropped_spoofed; the daemon stays up, both sessions get
# every reply, A can still be handed to s2.  Then 1000 malformed packets at once: counted exactly,
# logged at most 10 a second plus one line for the rest.
source "$(dirname "$0")/lib.sh"

INJECT="$ROOT/tests/tools/inject.py"
BURST="$ROOT/tests/tools/inject_burst.py"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
for k in 1 2; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
done
gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111"
sleep 0.3
GWMAC=$(nsx gw cat /sys/class/net/c1/address)

nsx c1 "$DEMO_CLIENT" --count 40 --interval 200 --message alpha "$S1" 11111 >"$T/a.out" 2>&1 &
ca=$!
pa=$(client_port c1 11111)
nsx c1 "$DEMO_CLIENT" --count 40 --interval 200 --message beta "$S1" 11111 >"$T/b.out" 2>&1 &
cb=$!
for _ in $(seq 50); do
	pb=$(nsx c1 ss -tnH state established "dport = :11111" | awk '{n=split($3,a,":"); print a[n]}' |
		grep -vx "$pa" | head -1)
	[[ -n $pb ]] && break
	sleep 0.05
done
sleep 0.5

inject() { # inject KIND [SEQ ACK]: one packet on flow A's tuple, client -> service
	nsx c1 python3 "$INJECT" eth0 "$GWMAC" "$C1:$pa" "$S1:11111" "$@" >>"$T/inject.out" 2>&1
}
quiet() { "$@" >/dev/null 2>&1; }
declare -A before
snap() { for c in "$@"; do before[$c]=$(stat_of "$c"); done; }
delta() { echo $(($(stat_of "$1") - ${before[$1]})); }

# --- malformed: each kind once, each in its counter --------------------------------------------
snap pkts_dropped_malformed malformed_tcp_truncated malformed_tcp_data_offset malformed_tcp_options \
	pkts_dropped_spoofed
for kind in trunc-tcp doff-short doff-long opt-overrun opt-len0 opt-len1 sack-badlen; do
	check "inject.py $kind sent" inject "$kind"
done
sleep 0.3
is "trunc-tcp counted in malformed_tcp_truncated" "$(delta malformed_tcp_truncated)" 1
is "doff-short, doff-long counted in malformed_tcp_data_offset" "$(delta malformed_tcp_data_offset)" 2
is "opt-overrun, opt-len0, opt-len1, sack-badlen counted in malformed_tcp_options" \
	"$(delta malformed_tcp_options)" 4
is "7 packets in pkts_dropped_malformed" "$(delta pkts_dropped_malformed)" 7
is "none of them counted as spoofed" "$(delta pkts_dropped_spoofed)" 0
check "the log names the malformed packets (tcp-truncated, tcp-data-offset)" \
	grep -q "dropped malformed packet from $C1:$pa .*tcp-data-offset" "$T/gw.log"

# --- spoofed: well-formed but impossible in this flow ------------------------------------------
# With the fast path on (tests/run.sh: netns-fast/t_hostile) flow A is offloaded by now: the RST
# and the SYN are punted to the slow path, which drops them; the ACK of data never sent is
# dropped in the kernel (fast_implausible_ack_drop), as the slow path would.
flow=$(ctl -j flow "$C1:$pa")
c_nxt=$(jget "$flow" "d['flow']['c_nxt']")
s_nxt=$(jget "$flow" "d['flow']['s_nxt']")
FAST=${TCPMIG_FASTPATH:-off}
if [[ $FAST == on ]]; then
	is "fast path: flow A is offloaded" "$(jget "$flow" "d['flow']['path']")" fast
	snap fast_implausible_ack_drop
fi
snap pkts_dropped_spoofed pkts_dropped_malformed
check "inject.py rst-outside sent (seq c_nxt + 2^31)" inject rst-outside $(((c_nxt + 2 ** 31) % 2 ** 32)) 0
check "inject.py syn-in-flow sent" inject syn-in-flow "$c_nxt" 0
check "inject.py ack-future sent (seq c_nxt, ack s_nxt + 2^30, 5 bytes)" \
	inject ack-future "$c_nxt" $(((s_nxt + 2 ** 30) % 2 ** 32))
sleep 0.3
if [[ $FAST == on ]]; then
	is "rst-outside, syn-in-flow counted in pkts_dropped_spoofed" "$(delta pkts_dropped_spoofed)" 2
	is "ack-future dropped in the kernel (fast_implausible_ack_drop)" \
		"$(delta fast_implausible_ack_drop)" 1
else
	is "rst-outside, syn-in-flow, ack-future counted in pkts_dropped_spoofed" \
		"$(delta pkts_dropped_spoofed)" 3
fi
is "... and not as malformed" "$(delta pkts_dropped_malformed)" 0

# --- still working -------------------------------------------------------------------------------
check "daemon alive: tcpmigctl version" quiet ctl version
ctl migrate "$C1:$pa" --to "$S2:11111" >"$T/m.out" 2>&1
is "flow A handed to s2 after all that (migrate exits 0)" "$?" 0
grep -v "^migrated" "$T/m.out" | sed 's/^/# /'

# --- a burst of 1000 malformed packets -----------------------------------------------------------
sleep 1.1 # a fresh one-second log window
snap pkts_dropped_malformed malformed_tcp_options
lines0=$(grep -c "dropped malformed packet" "$T/gw.log")
check "inject_burst.py: 1000 x opt-len0 sent" \
	quiet nsx c1 python3 "$BURST" 1000 eth0 "$GWMAC" "$C1:$pa" "$S1:11111" opt-len0
for _ in $(seq 50); do
	[[ $(delta pkts_dropped_malformed) -ge 1000 ]] && break
	sleep 0.1
done
is "burst: exactly 1000 more in pkts_dropped_malformed" "$(delta pkts_dropped_malformed)" 1000
is "burst: exactly 1000 more in malformed_tcp_options" "$(delta malformed_tcp_options)" 1000
check "burst: daemon alive" quiet ctl version
is "burst: 10 log lines for 1000 packets in one second" \
	$(($(grep -c "dropped malformed packet" "$T/gw.log") - lines0)) 10
sleep 1.1
inject opt-len1 # the next malformed packet closes the window: one line for the rest
sleep 0.3
check "burst: one line for the 990 not logged" \
	grep -q "990 more malformed packet(s) dropped without a log line" "$T/gw.log"

wait $ca
is "session A got all 40 replies (exit 0)" "$?" 0
is "session A: replies from server1, then server2" \
	"$(grep -oE '^server[0-9]' "$T/a.out" | uniq | tr '\n' ' ')" "server1 server2 "
is "session A: requests answered in order, nothing injected reached a server" \
	"$(grep -oE '^server[0-9]: [a-z]+ [0-9]+' "$T/a.out" | awk '{print $2 $3}' | tr '\n' ' ')" \
	"$(for i in $(seq 40); do echo -n "alpha$i "; done)"
wait $cb
is "session B got all 40 replies (exit 0)" "$?" 0
is "session B: every reply from server1" "$(grep -oE '^server[0-9]' "$T/b.out" | sort -u | tr '\n' ' ')" "server1 "
is "session B flow untouched (no migration, no rollback)" \
	"$(jget "$(ctl -j flow "$C1:$pb")" "str(d['flow']['migrations']) + '/' + str(d['flow']['rollbacks'])")" "0/0"
done_testing
