#!/usr/bin/env bash
# Capture real Linux TCP exchanges as known-good test vectors (tests/vectors/pcap/*.pcap).
# Not run by `make test`: it documents where the captured bytes in tests/unit/vec_real.h come from.
#
#   [ns tmvecC<pid>: client]  vethc 10.99.0.1/24 fd99::1/64
#            |   (tcpdump here; checksum offload off on both ends, so checksums are complete)
#   [ns tmvecS<pid>: server]  veths 10.99.0.2/24 fd99::2/64   (iptables drops first copies: SACK)
#
# Then: tests/vectors/gen_vectors.py  (turns the pcaps and scapy-crafted packets into C headers)
set -euo pipefail
cd "$(dirname "$0")"
[[ $(id -u) == 0 ]] || { echo "capture.sh: run as root (network namespaces)" >&2; exit 1; }

C=tmvecC$$ S=tmvecS$$
PEER=$PWD/tcp_peer.py
OUT=$PWD/pcap
tcpdump_pid=

cleanup() {
	[[ -n $tcpdump_pid ]] && kill "$tcpdump_pid" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	ip netns del "$S" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$C"
ip netns add "$S"
ip -n "$C" link add vethc type veth peer name veths netns "$S"
for ns in "$C" "$S"; do ip -n "$ns" link set lo up; done
ip -n "$C" addr add 10.99.0.1/24 dev vethc
ip -n "$S" addr add 10.99.0.2/24 dev veths
ip -n "$C" addr add fd99::1/64 dev vethc nodad
ip -n "$S" addr add fd99::2/64 dev veths nodad
ip -n "$C" link set vethc up
ip -n "$S" link set veths up
ip netns exec "$C" ethtool -K vethc tx off rx off >/dev/null
ip netns exec "$S" ethtool -K veths tx off rx off >/dev/null
sleep 0.5

# For 400 ms: the server drops every copy of the client segments carrying marker DROPn (n in
# $3...), and the client drops every non-SYN segment of the server.  The client keeps sending
# (it sees no dupacks), so the server's SACK blocks pile up; then the retransmissions get through.
lossy() {
	local cmd=$1 port=$2 n
	shift 2
	for n in "$@"; do
		ip netns exec "$S" "$cmd" -A INPUT -p tcp --dport "$port" -m string --algo bm \
			--string "DROP$n-" -j DROP
	done
	ip netns exec "$C" "$cmd" -A INPUT -p tcp --sport "$port" --tcp-flags SYN NONE -j DROP
	(sleep 0.4 && ip netns exec "$S" "$cmd" -F INPUT && ip netns exec "$C" "$cmd" -F INPUT) &
}

# run NAME ADDR PORT SCENARIO [LOSSY-ARGS]: one connection, captured at the client's veth.
run() {
	local name=$1 addr=$2 port=$3 scen=$4 spid
	shift 4
	rm -f "$OUT/.tcpdump.err"
	ip netns exec "$C" tcpdump -i vethc --immediate-mode -U -s 0 -w "$OUT/$name.pcap" "tcp or ip6" 2>"$OUT/.tcpdump.err" &
	tcpdump_pid=$!
	for _ in $(seq 50); do grep -q listening "$OUT/.tcpdump.err" 2>/dev/null && break; sleep 0.1; done
	ip netns exec "$S" python3 "$PEER" server "$addr" "$port" "$scen" >/dev/null &
	spid=$!
	sleep 0.3
	[[ $# -gt 0 ]] && lossy "$@"
	ip netns exec "$C" python3 "$PEER" client "$addr" "$port" "$scen"
	wait "$spid"
	sleep 0.3
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || true
	tcpdump_pid=
	echo "captured $name"
}

mkdir -p "$OUT"
run v4_basic 10.99.0.2 5001 basic
run v4_ipopt 10.99.0.2 5002 ipopt
run v6_basic fd99::2 5003 basic
run v6_exthdr fd99::2 5004 exthdr
run v4_sack_ts 10.99.0.2 5005 burst iptables 5005 2 4 6
run v6_sack_ts fd99::2 5007 burst ip6tables 5007 3
# TCP Fast Open: the first connection fetches a cookie (option kind 34 in SYN and SYN-ACK), the
# second carries its request in the SYN.
ip netns exec "$C" sysctl -qw net.ipv4.tcp_fastopen=3
ip netns exec "$S" sysctl -qw net.ipv4.tcp_fastopen=3
run v4_tfo_cookie 10.99.0.2 5009 tfo
run v4_tfo_data 10.99.0.2 5010 tfo
# Without timestamps a SACK option has room for 4 blocks.
ip netns exec "$C" sysctl -qw net.ipv4.tcp_timestamps=0
run v4_sack_nots 10.99.0.2 5006 burst iptables 5006 2 4 6 8
# A SYN with nothing but MSS.
ip netns exec "$C" sysctl -qw net.ipv4.tcp_sack=0 net.ipv4.tcp_window_scaling=0
run v4_mss_only 10.99.0.2 5008 basic
rm -f "$OUT/.tcpdump.err"
