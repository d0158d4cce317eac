#!/usr/bin/env bash
# Handoffs to servers whose TCP settings differ from the first one's: no timestamps (must roll back),
# another window scale and a smaller MSS (must commit, then bulk both ways byte-exact).
#
#   c1 ──── gw (tcpmigd) ──┬── s1  defaults                     :11111 lines  :11121 sink  :11122 source
#                          ├── s2  net.ipv4.tcp_timestamps=0    :11111 lines
#                          ├── s3  tcp_rmem max 1 MiB (wscale)  :11111 lines  :11121 sink  :11122 source
#                          └── s4  route advmss 1000 (MSS)      :11111 lines  :11121 sink  :11122 source
# Issue 3, test h.  Sinks write what they receive per connection to files (the files in time order
# must have the source's sha256); sources send the lab stream seeded with the server's name (the
# client must get prefix(server1) + all of the new server's stream, tests/tools/stream.py).
source "$(dirname "$0")/lib.sh"

SIZE=25165824 # 24 MiB per bulk transfer, ~1 s each at the paced rate
RATE=24M
TOOLS="$ROOT/tests/tools"

lab_up --servers 4 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 S3=$LAB_S3_IP4 S4=$LAB_S4_IP4 C1=$LAB_C1_IP4
# Before any socket exists: these are read when a connection is set up.
nsx s2 sysctl -qw net.ipv4.tcp_timestamps=0
nsx s3 sysctl -qw net.ipv4.tcp_rmem="4096 131072 1048576"
nsx s4 ip route change default via "$LAB_GW_IP4_S" dev eth0 src "$S4" advmss 1000
mkdir -p "$T/up"
for k in 1 2 3 4; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
	[[ $k -eq 2 ]] && continue
	bg nsx "s$k" socat -u TCP-LISTEN:11121,fork,reuseaddr SYSTEM:"cat > $T/up/s$k.\$(date +%s%N)"
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11122 --source "$SIZE" --quiet
done
gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111
	backend $S3:11111
	backend $S4:11111
service $S1:11121
	backend $S1:11121
	backend $S3:11121
	backend $S4:11121
service $S1:11122
	backend $S1:11122
	backend $S3:11122
	backend $S4:11122"
sleep 0.3

quiet() { "$@" >/dev/null 2>&1; }
# The rcv_wscale of NS's established connection(s) with SPORT (ss -i shows "wscale:snd,rcv").
rcv_wscale() {
	nsx "$1" ss -tniH state established "sport = :$2" | grep -oE 'wscale:[0-9]+,[0-9]+' | head -1 |
		cut -d, -f2
}
# The last "handed off" line of the log for the flow of CLIENT:PORT.
handoff_line() {
	local id
	id=$(jget "$(ctl -j flow "$C1:$1")" "d['flow']['id']")
	grep -a "flow $id: handed off" "$T/gw.log" | tail -1
}

# bulk NAME TARGET: upload and download of SIZE bytes, each handed from s1 to TARGET after ~0.3 s.
bulk() {
	local name=$1 to=$2 k=$3 port files
	rm -f "$T"/up/*
	nsx c1 timeout 60 python3 "$TOOLS/paced.py" send "$S1" 11121 "$T/src.bin" "$RATE" 10 >"$T/up.out" 2>&1 &
	local cl=$!
	port=$(client_port c1 11121)
	sleep 0.3
	check "$name: upload handed s1 -> s$k mid-stream" quiet ctl migrate "$C1:$port" --to "$to:11121"
	wait $cl
	is "$name: upload client exited 0" "$?" 0
	for _ in $(seq 50); do
		[[ $(cat "$T"/up/s* 2>/dev/null | wc -c) -ge $SIZE ]] && break
		sleep 0.1
	done
	sleep 0.2
	files=$(cd "$T/up" && ls | sort -t. -k2 -n)
	is "$name: upload went to s1, then s$k" "$(echo "$files" | cut -d. -f1 | tr '\n' ' ')" "s1 s$k "
	is "$name: upload byte-exact (sha256 of the sinks' files in order)" \
		"$(cd "$T/up" && cat $files | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$T/src.bin" | cut -d' ' -f1)"

	nsx c1 timeout 60 python3 "$TOOLS/paced.py" recv "$S1" 11122 "$T/down.bin" "$RATE" 10 >"$T/down.out" 2>&1 &
	cl=$!
	port=$(client_port c1 11122)
	sleep 0.3
	check "$name: download handed s1 -> s$k mid-stream" quiet ctl migrate "$C1:$port" --to "$to:11122"
	wait $cl
	is "$name: download client exited 0" "$?" 0
	python3 "$TOOLS/stream.py" check "$T/down.bin" server1 "server$k" --last-len "$SIZE" >"$T/check.out" 2>&1
	is "$name: download byte-exact (prefix of server1, all of server$k)" "$?" 0
	sed 's/^/# /' "$T/check.out" | head -2
}
"$DEMO_CLIENT" --gen "$SIZE" --seed upload >"$T/src.bin"

# --- 1: target without timestamps: the client expects them on every segment -> roll back ------
nsx c1 "$DEMO_CLIENT" --count 10 --interval 200 --message ts "$S1" 11111 >"$T/ts.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.5
ctl migrate "$C1:$port" --to "$S2:11111" >"$T/m.out" 2>&1
is "timestamps off on s2: migrate exits 1" "$?" 1
check "... reason target-options" grep -q "(target-options)" "$T/m.out"
flow=$(ctl -j flow "$C1:$port")
is "... flow stays on s1, last_error target-options" \
	"$(jget "$flow" "d['flow']['backend'] + ' ' + d['flow']['last_error']")" "$S1:11111 target-options"
is "... s2 holds no connection of the client afterwards" \
	"$(nsx s2 ss -tnH "sport = :11111" | wc -l)" 0
wait $cl
is "... client got all 10 replies" "$?" 0
is "... every reply from server1, in order" \
	"$(grep -oE '^server[0-9]: ts [0-9]+' "$T/ts.out" | awk '{print $1 $3}' | tr '\n' ' ')" \
	"$(for i in $(seq 10); do echo -n "server1:$i "; done)"

# --- 2: target with another window scale: rescaled windows ------------------------------------
nsx c1 "$DEMO_CLIENT" --count 8 --interval 200 --message ws "$S1" 11111 >"$T/ws.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.3
ws1=$(rcv_wscale s1 11111)
check "wscale: migrate s1 -> s3 exits 0" quiet ctl migrate "$C1:$port" --to "$S3:11111"
sleep 0.2
ws3=$(rcv_wscale s3 11111)
diag "window scale: s1 $ws1, s3 $ws3 (ss -i)"
check "wscale: s3 uses another window scale than s1 ($ws3 vs $ws1)" test -n "$ws1" -a -n "$ws3" -a "$ws1" != "$ws3"
line=$(handoff_line "$port")
diag "$line"
check "wscale: log shows wshift $((ws3 - ws1))/0" grep -q "wshift $((ws3 - ws1))/0," <<<"$line"
wait $cl
is "wscale: client got all 8 replies, server1 then server3" \
	"$?/$(grep -oE '^server[0-9]' "$T/ws.out" | uniq | tr '\n' ' ')" "0/server1 server3 "
bulk "wscale" "$S3" 3

# --- 3: target with a smaller MSS ------------------------------------------------------------
nsx c1 "$DEMO_CLIENT" --count 8 --interval 200 --message mss "$S1" 11111 >"$T/mss.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
nsx s4 timeout 5 tcpdump -c 1 -nn -i eth0 -w "$T/synack.pcap" \
	'src port 11111 and tcp[tcpflags] & tcp-syn != 0' 2>"$T/tcpdump.err" &
td=$!
for _ in $(seq 50); do grep -qs listening "$T/tcpdump.err" && break; sleep 0.1; done
sleep 0.3
check "mss: migrate s1 -> s4 exits 0" quiet ctl migrate "$C1:$port" --to "$S4:11111"
wait $td
check "mss: s4 answered the replayed SYN with MSS 1000" \
	grep -q "mss 1000," <<<"$(tcpdump -nn -r "$T/synack.pcap" 2>/dev/null)"
check "mss: s4's connection has advmss 988 (1000 less the timestamp option, ss -i)" \
	grep -q "advmss:988 " <<<"$(nsx s4 ss -tniH state established "sport = :11111")"
line=$(handoff_line "$port")
diag "$line"
check "mss: log shows wshift 0/0" grep -q "wshift 0/0," <<<"$line"
wait $cl
is "mss: client got all 8 replies, server1 then server4" \
	"$?/$(grep -oE '^server[0-9]' "$T/mss.out" | uniq | tr '\n' ' ')" "0/server1 server4 "
bulk "mss" "$S4" 4

is "no malformed or spoofed drops" "$(stat_of pkts_dropped_malformed)/$(stat_of pkts_dropped_spoofed)" "0/0"
done_testing
