#!/usr/bin/env bash
# t_lab: the lab itself (TAP): topology, IPv4+IPv6 routing through the gateway, demo apps,
# a 20 MiB byte-exact transfer under 2% loss + 5% reordering by tcpmig-netem, clean teardown.
#
#   tlPID-c1 eth0 ── c1 ┐  tlPID-gw  ┌ s1 ── eth0 tlPID-s1  demo_server server1 (line, bulk sink)
#   10.0.1.1            │ (kernel    │                   10.0.0.1 / fd00::1
#   fd00:0:1::1         │ forwarding)└ s2 ── eth0 tlPID-s2  demo_server server2 (line, source)
#                       │  netem: egress of c1, s1, s2     10.0.0.2 / fd00::2
#
# Self-contained (no tcpmigd): if this fails, every other netns test's ground is broken.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${TCPMIG_BUILD:-$ROOT/build}
LAB="$ROOT/lab/tcpmig-lab"
SRV="$BUILD/lab/demo_server"
CLI="$BUILD/lab/demo_client"
NETEM="$BUILD/lab/tcpmig-netem"
P="tl$$"
T=$(mktemp -d /tmp/tcpmig-t_lab.XXXXXX)
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}

check() { # check "description" cmd...: one TAP line from the exit status, output as diagnostics on failure
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$d"
	else
		not_ok "$d"
		printf '%s\n' "$out" | tail -15 | sed 's/^/#   /'
	fi
}

cleanup() {
	"$LAB" down --prefix "$P" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $(id -u) -ne 0 ]]; then
	echo "1..0 # SKIP needs root (network namespaces)"
	exit 0
fi
for b in "$SRV" "$CLI" "$NETEM"; do
	[[ -x $b ]] || {
		echo "Bail out! $b not built (make all)"
		exit 1
	}
done

in_ns() { # in_ns HOST cmd...
	local h=$1
	shift
	ip netns exec "$P-$h" "$@"
}

# A TCP listener is up in namespace HOST on PORT (so clients do not race the server start).
wait_listen() { # HOST PORT
	local i
	for ((i = 0; i < 100; i++)); do
		in_ns "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

counter() { # counter NS DEV NAME: one number from 'tcpmig-netem show'
	ip netns exec "$1" "$NETEM" show "$2" --egress | tr ' ' '\n' | grep -A1 -x "$3" | tail -1
}

# --- the injector on its own: BPF_PROG_TEST_RUN verdicts, seeding, GSO split, checksums ---------

selftest_out=$("$NETEM" selftest 2>&1)
selftest_rc=$?
if [[ $selftest_rc -eq 0 ]]; then
	ok "tcpmig-netem selftest ($(grep -c '^ok' <<<"$selftest_out") checks)"
else
	not_ok "tcpmig-netem selftest"
	grep -E '^not ok|^#' <<<"$selftest_out" | sed 's/^/#   /'
fi

# --- topology ------------------------------------------------------------------------------

if "$LAB" up --prefix "$P" --servers 2 --clients 1 >"$T/up.log" 2>&1; then
	ok "lab up --prefix $P --servers 2 --clients 1"
else
	not_ok "lab up --prefix $P"
	sed 's/^/#   /' "$T/up.log"
	echo "Bail out! no lab"
	exit 1
fi
eval "$("$LAB" env --prefix "$P")"
check "env names the namespaces and addresses" \
	test "$LAB_GW_NS/$LAB_S1_NS/$LAB_S2_IP4/$LAB_S2_IP6/$LAB_C1_IP4/$LAB_C1_IP6" == \
	"$P-gw/$P-s1/10.0.0.2/fd00::2/10.0.1.1/fd00:0:1::1"
up_again_refused() {
	local out
	out=$("$LAB" up --prefix "$P" 2>&1) && return 1
	grep -q 'already exists' <<<"$out"
}
check "up again fails clearly while the lab exists" up_again_refused
check "gateway forwards IPv4 and IPv6, rp_filter off" \
	test "$(in_ns gw sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter net.ipv4.conf.s1.rp_filter | tr '\n' ' ')" == "1 1 0 0 "
check "client and server keep TCP timestamps, SACK, window scaling" \
	test "$(in_ns c1 sysctl -n net.ipv4.tcp_timestamps net.ipv4.tcp_sack net.ipv4.tcp_window_scaling | tr '\n' ' ')" == "1 1 1 "
check "servers route any address via the gateway" \
	bash -c "ip netns exec $P-s1 ip route get 192.0.2.77 | grep -q 'via 10.0.0.254 dev eth0' &&
		 ip netns exec $P-s2 ip -6 route get 2001:db8::77 | grep -q 'via fd00::254 dev eth0'"

# --- demo apps, reachability ----------------------------------------------------------------

in_ns s1 "$SRV" --name server1 >"$T/s1.log" 2>&1 &
in_ns s1 "$SRV" --name server1 --port 11112 --bulk >"$T/s1-bulk.log" 2>&1 &
in_ns s2 "$SRV" --name server2 >"$T/s2.log" 2>&1 &
in_ns s2 "$SRV" --name server2 --port 11113 --source 20M >"$T/s2-src.log" 2>&1 &
servers_listening() {
	wait_listen s1 11111 && wait_listen s1 11112 && wait_listen s2 11111 && wait_listen s2 11113
}
check "demo servers listening" servers_listening

for dst in "s1 $LAB_S1_IP4 server1" "s1 $LAB_S1_IP6 server1" "s2 $LAB_S2_IP4 server2" "s2 $LAB_S2_IP6 server2"; do
	read -r h addr name <<<"$dst"
	out=$(in_ns c1 timeout 10 "$CLI" --count 1 --timeout 3000 "$addr" 2>&1)
	if [[ $out == "$name: hello 1 (#1)"* ]]; then
		ok "c1 reaches $h at $addr through the gateway"
	else
		not_ok "c1 reaches $h at $addr through the gateway"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
done
gw_fwd=$(in_ns gw cat /sys/class/net/s1/statistics/tx_packets)
check "the gateway carried that traffic (s1 tx_packets $gw_fwd > 0)" test "$gw_fwd" -gt 0

out=$(in_ns c1 timeout 20 "$CLI" --count 3 --interval 50 --message ping "$LAB_S1_IP4" 2>/dev/null)
want=$'server1: ping 1 (#1)\nserver1: ping 2 (#2)\nserver1: ping 3 (#3)'
if [[ $out == "$want" ]]; then
	ok "demo_client gets one reply per request, naming server1"
else
	not_ok "demo_client gets one reply per request, naming server1"
	printf '%s\n' "$out" | sed 's/^/#   got: /'
fi
check "the server log shows the client's real address (routed, not NATed)" \
	grep -q "server1: $LAB_C1_IP4:[0-9]*: accepted" "$T/s1.log"
check "demo_client fails (exit 1) when nobody listens" \
	bash -c "! ip netns exec $P-c1 '$CLI' --count 1 --timeout 2000 $LAB_S1_IP4 9 >/dev/null 2>&1"
out=$(in_ns c1 timeout 60 "$CLI" --conns 200 --count 3 --interval 20 --quiet "$LAB_S2_IP6" 2>&1)
check "200 concurrent connections all answered by server2 ($out)" \
	grep -q "conns 200: 200 ok, 0 failed; requests 600 sent, 600 answered; last reply from: server2=200" <<<"$out"

# --- loss + reordering -----------------------------------------------------------------------

check "netem: 2% loss + 5% reorder (5 ms) on the gateway's egress toward c1, s1, s2" bash -c "
	'$LAB' netem c1 --prefix $P --loss 2 --reorder 5 --delay-ms 5 --seed 42 &&
	'$LAB' netem s1 --prefix $P --loss 2 --reorder 5 --delay-ms 5 --seed 43 &&
	'$LAB' netem s2 --prefix $P --loss 2 --reorder 5 --delay-ms 5 --seed 44"
in_ns c1 nstat -n >/dev/null

out=$(in_ns c1 timeout 120 "$CLI" --bulk-send 20M --timeout 20000 "$LAB_S1_IP4" 11112 2>&1)
check "20 MiB client->server1 (IPv4) under loss+reorder: server's sha256 matches ($out)" \
	grep -q ': OK$' <<<"$out"

out=$(in_ns c1 timeout 120 "$CLI" --bulk-recv --seed server2 --expect-bytes 20M --timeout 20000 \
	"$LAB_S2_IP6" 11113 2>&1)
check "20 MiB server2->client (IPv6) under loss+reorder: every byte as sent ($out)" \
	grep -q "stream 'server2' matches, expected 20971520 bytes: OK" <<<"$out"

# The same with programs that are not ours: socat and sha256sum.
"$CLI" --gen 20M --seed socat >"$T/blob"
in_ns s1 timeout 120 socat -u TCP6-LISTEN:7000,reuseaddr OPEN:"$T/recv",creat,trunc &
sock_pid=$!
wait_listen s1 7000
in_ns c1 timeout 120 socat -u OPEN:"$T/blob" "TCP6:[$LAB_S1_IP6]:7000"
wait "$sock_pid"
sent_sum=$(sha256sum <"$T/blob" | cut -c1-64)
recv_sum=$(sha256sum <"$T/recv" 2>/dev/null | cut -c1-64)
check "20 MiB socat over IPv6 under loss+reorder: sha256 equal ($recv_sum)" test "$sent_sum" == "$recv_sum"

for dev in c1 s1; do
	d=$(counter "$P-gw" $dev dropped)
	l=$(counter "$P-gw" $dev delayed)
	r=$(counter "$P-gw" $dev reinjected)
	check "netem counters on gw/$dev: dropped $d, delayed $l, reinjected $r (all > 0)" \
		test "${d:-0}" -gt 0 -a "${l:-0}" -gt 0 -a "${r:-0}" -gt 0
done
retrans=$(in_ns c1 nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
ofo=$(in_ns s1 nstat -az TcpExtTCPOFOQueue | awk '/TcpExtTCPOFOQueue/ {print $2}')
check "the client retransmitted ($retrans segments) and server1 queued out-of-order data ($ofo)" \
	test "${retrans:-0}" -gt 0 -a "${ofo:-0}" -gt 0

check "netem off --all detaches every injector" bash -c "
	'$LAB' netem off --all --prefix $P >/dev/null &&
	! ip netns exec $P-gw tc filter show dev s1 egress | grep -q netem_tc &&
	! ip netns exec $P-gw tc filter show dev c1 egress | grep -q netem_tc"

# --- teardown ----------------------------------------------------------------------------------

check "lab down" "$LAB" down --prefix "$P"
left=$(ip netns list | awk '{print $1}' | grep -E "^$P-" | tr '\n' ' ')
check "no namespace with prefix $P left${left:+ ($left)}" test -z "$left"
check "no state left" bash -c "! ls /run/tcpmig-lab/$P.env /run/tcpmig-lab/netem/$P-* 2>/dev/null | grep -q ."

echo "1..$n"
[[ $failed -eq 0 ]]
