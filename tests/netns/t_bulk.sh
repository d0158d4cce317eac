#!/usr/bin/env bash
# Bulk transfers of 200 MiB each way, handed back and forth between two servers while data flows.
#
#   c1 ──── gw (tcpmigd) ──┬── s1  :11111 socat sink, one file per connection   (upload)
#   paced.py send/recv     │       :11112 demo_server --source 200M "server1"   (download)
#                          └── s2  :11111 socat sink, one file per connection
#                                  :11112 demo_server --source 200M "server2"
# Issue 3, test b.  Upload: every server keeps what it received per connection; the files in time
# order must have the sha256 of the source.  Download: a new backend's application starts its stream
# at offset 0, so the client must get exactly prefix(server1) + prefix(server2) + ... + the whole
# stream of the last server (tests/tools/stream.py, an independent generator).
source "$(dirname "$0")/lib.sh"

SIZE=209715200 # 200 MiB
RATE=60M       # paced: ~3.5 s per 200 MiB, long enough for the handoffs below while data flows
HANDOFFS=6     # per direction, ~200 ms apart
TOOLS="$ROOT/tests/tools"

lab_up --servers 2 --clients 1
# TCPMIG_FAMILY=6 (t_bulk6.sh) runs the same over IPv6.
if [[ ${TCPMIG_FAMILY:-4} == 6 ]]; then
	S1=$LAB_S1_IP6 S2=$LAB_S2_IP6 C1=$LAB_C1_IP6 LISTEN=TCP6-LISTEN
	ep() { echo "[$1]:$2"; }
else
	S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4 LISTEN=TCP-LISTEN
	ep() { echo "$1:$2"; }
fi
declare -A NAME=([$S1]=server1 [$S2]=server2)
mkdir -p "$T/up"
for k in 1 2; do
	bg nsx "s$k" socat -u "$LISTEN:11111,fork,reuseaddr" \
		SYSTEM:"cat > $T/up/s$k.\$(date +%s%N)"
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11112 --source 200M --quiet
done
gw_start "service $(ep "$S1" 11111)
	backend $(ep "$S1" 11111)
	backend $(ep "$S2" 11111)
service $(ep "$S1" 11112)
	backend $(ep "$S1" 11112)
	backend $(ep "$S2" 11112)"
"$DEMO_CLIENT" --gen 200M --seed upload >"$T/src.bin"
check "stream.py reproduces demo_client --gen (3 seeds, odd offset)" bash -c "
	cmp <('$DEMO_CLIENT' --gen 1M --seed server1) <(python3 '$TOOLS/stream.py' gen server1 0 1048576) &&
	cmp <('$DEMO_CLIENT' --gen 1M --seed server2) <(python3 '$TOOLS/stream.py' gen server2 0 1048576) &&
	cmp <('$DEMO_CLIENT' --gen 3M --seed upload | tail -c +777778) <(python3 '$TOOLS/stream.py' gen upload 777777 2367951)"

# Every RST that reaches the client (there must be none).
nsx c1 tcpdump -i eth0 -nn -U -w "$T/rst.pcap" 'tcp[tcpflags] & tcp-rst != 0' 2>"$T/tcpdump.err" &
td=$!
_bg_pids+=($td)
for _ in $(seq 50); do grep -qs listening "$T/tcpdump.err" && break; sleep 0.1; done
sleep 0.5

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# handoffs PORT SVCPORT PID LOG: $HANDOFFS handoffs of the flow from c1:PORT, s2, s1, s2, ... ~200 ms
# apart while PID (the client) runs.  LOG gets "alive rc target" per handoff.
handoffs() {
	local port=$1 sport=$2 pid=$3 log=$4 to=$S2 i alive rc
	for ((i = 0; i < HANDOFFS; i++)); do
		sleep 0.2
		alive=0
		kill -0 "$pid" 2>/dev/null && alive=1
		ctl -t 10 migrate "$(ep "$C1" "$port")" --to "$(ep "$to" "$sport")" >>"$T/migrate.out" 2>&1
		rc=$?
		echo "$alive $rc $to" >>"$log"
		[[ $rc -eq 0 ]] && { [[ $to == "$S2" ]] && to=$S1 || to=$S2; }
	done
}

# --- upload: 200 MiB into the sinks ---------------------------------------------------------
t0=$EPOCHREALTIME
nsx c1 timeout 60 python3 "$TOOLS/paced.py" send "$S1" 11111 "$T/src.bin" "$RATE" >"$T/up.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.1
handoffs "$port" 11111 "$cl" "$T/up.log"
wait $cl
is "upload: client sent 200 MiB and got a clean EOF (exit 0)" "$?" 0
diag "$(cat "$T/up.out"), $(elapsed "$t0") s"
is "upload: all $HANDOFFS handoffs committed" "$(awk '$2 == 0' "$T/up.log" | wc -l)" "$HANDOFFS"
is "upload: every handoff issued while the client was sending" "$(awk '$1 == 1' "$T/up.log" | wc -l)" "$HANDOFFS"
# Wait for the sinks to write what they got (the last one ends at EOF, the others at the RST).
for _ in $(seq 100); do
	[[ $(cat "$T"/up/s* 2>/dev/null | wc -c) -ge $SIZE ]] && break
	sleep 0.1
done
sleep 0.3
files=$(cd "$T/up" && ls | sort -t. -k2 -n)
is "upload: one server connection per segment ($((HANDOFFS + 1)))" "$(echo "$files" | wc -l)" $((HANDOFFS + 1))
is "upload: segments alternate s1, s2, ..." "$(echo "$files" | cut -d. -f1 | tr '\n' ' ')" \
	"$(for ((i = 0; i <= HANDOFFS; i++)); do echo -n "s$((i % 2 + 1)) "; done)"
is "upload: every segment non-empty (data flowed between handoffs)" \
	"$(cd "$T/up" && find . -type f -empty | wc -l)" 0
diag "upload segment sizes: $(cd "$T/up" && for f in $files; do echo -n "$(stat -c %s "$f") "; done)"
is "upload: concatenation in time order has the source's sha256" \
	"$(cd "$T/up" && cat $files | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$T/src.bin" | cut -d' ' -f1)"
is "upload: flow counted $HANDOFFS migrations" \
	"$(jget "$(ctl -j flow "$(ep "$C1" "$port")")" "d['flow']['migrations']")" "$HANDOFFS"
rm -f "$T"/up/* "$T/src.bin"

# --- download: streams of the servers into a file -------------------------------------------
t0=$EPOCHREALTIME
nsx c1 timeout 60 python3 "$TOOLS/paced.py" recv "$S1" 11112 "$T/down.bin" "$RATE" >"$T/down.out" 2>&1 &
cl=$!
port=$(client_port c1 11112)
sleep 0.1
handoffs "$port" 11112 "$cl" "$T/down.log"
wait $cl
is "download: client read to a clean EOF (exit 0)" "$?" 0
diag "$(cat "$T/down.out"), $(elapsed "$t0") s"
is "download: all $HANDOFFS handoffs committed" "$(awk '$2 == 0' "$T/down.log" | wc -l)" "$HANDOFFS"
is "download: every handoff issued while the client was receiving" \
	"$(awk '$1 == 1' "$T/down.log" | wc -l)" "$HANDOFFS"
order="server1 $(awk '$2 == 0 {print $3}' "$T/down.log" | while read -r a; do echo -n "${NAME[$a]} "; done)"
python3 "$TOOLS/stream.py" check "$T/down.bin" $order --last-len "$SIZE" >"$T/check.out" 2>&1
is "download: bytes are exactly prefixes of $order, the last one whole" "$?" 0
sed 's/^/# /' "$T/check.out"
check "download: at least 200 MiB received" test "$(stat -c %s "$T/down.bin")" -ge "$SIZE"
rm -f "$T/down.bin"

is "handoffs committed in total" "$(stat_of migrations_committed)" $((2 * HANDOFFS))
is "no handoff rolled back" "$(stat_of migrations_rolled_back)" 0
sleep 0.3
kill -INT $td 2>/dev/null
sleep 0.2
is "no RST reached the client" "$(tcpdump -nn -r "$T/rst.pcap" 2>/dev/null | wc -l)" 0
is "no malformed or spoofed drops" "$(stat_of pkts_dropped_malformed)/$(stat_of pkts_dropped_spoofed)" "0/0"
done_testing
