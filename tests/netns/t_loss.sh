#!/usr/bin/env bash
# Bulk transfers handed back and forth >= 20 times with 2% loss and 2% reordering on both sides of
# the gateway; the streams must stay byte-exact and no RST may reach the client.
#
#              netem: gw ingress (loss) and egress (loss + reorder) on c1, s1 and s2
#                               ▼                  ▼
#   c1 ──────────────────── gw (tcpmigd) ──┬── s1  :11111 socat sink, one file per connection
#   paced.py send  (upload)                │       :11112 demo_server --source 64M "server1"
#   paced.py recv  (download)              └── s2  :11111 socat sink, one file per connection
#   tcpdump: RSTs to c1                            :11112 demo_server --source 64M "server2"
#                                                  :11113 demo_server "server1"/"server2" (lines)
# Issue 3, test c.  2% loss into the gateway on every link, and 2% loss plus 2% of the packets
# delayed by 3 ms out of it (per skb: with GSO one skb can be many segments), so the gateway sees
# loss both before and after itself and reordering after itself.  Upload and download run at the
# same time, each flow handed between s1 and s2 until WANT handoffs committed.  Handoffs may roll
# back under loss (quiescence or target timeouts); that is allowed, the streams must stay intact.
# Last, without injectors: the RST of a commit is lost (s1 drops RSTs for a moment), so s1 keeps
# the old connection; a later handoff back to s1 must still commit.
source "$(dirname "$0")/lib.sh"

UP_SIZE=100663296 # 96 MiB at 8 MiB/s: 12 s of upload
SOURCE=67108864   # 64 MiB: what each download server sends (the last one all of it)
WANT=12           # committed handoffs per direction (>= 20 in all)
TOOLS="$ROOT/tests/tools"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
declare -A NAME=([$S1]=server1 [$S2]=server2)
mkdir -p "$T/up"
for k in 1 2; do
	bg nsx "s$k" socat -u TCP-LISTEN:11111,fork,reuseaddr \
		SYSTEM:"cat > $T/up/s$k.\$(date +%s%N)"
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11112 --source "$SOURCE" --quiet
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11113 --quiet
done
# Shorter bounds than the defaults, so a download server cannot send its whole stream while a
# handoff away from it rolls back (<= 1.5 + 2 s at 12 MiB/s < 64 MiB).
gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111
service $S1:11112
	backend $S1:11112
	backend $S2:11112
service $S1:11113
	backend $S1:11113
	backend $S2:11113
quiesce-timeout 1500
handoff-timeout 2000"
"$DEMO_CLIENT" --gen "$UP_SIZE" --seed upload >"$T/src.bin"

# Egress of the gateway toward every host: loss and reordering of what the gateway forwarded.
# Ingress of the gateway from every host: loss of what it never sees (ingress cannot reorder).
# Not in the hosts themselves: an endpoint's own egress reports a held-back packet as dropped to
# its TCP, which then believes the data unsent while the peer gets it 3 ms later (see the report).
seed=1
for h in c1 s1 s2; do
	"$LAB" netem "$h" --prefix "$P" --loss 2 --reorder 2 --delay-ms 3 --seed $((seed++)) >/dev/null ||
		{ echo "Bail out! netem on gw/$h egress"; exit 1; }
	"$LAB" netem "$h" --prefix "$P" --ingress --loss 2 --seed $((seed++)) >/dev/null ||
		{ echo "Bail out! netem on gw/$h ingress"; exit 1; }
done

nsx c1 tcpdump -i eth0 -nn -U -w "$T/rst.pcap" 'tcp[tcpflags] & tcp-rst != 0' 2>"$T/tcpdump.err" &
td=$!
_bg_pids+=($td)
for _ in $(seq 50); do grep -qs listening "$T/tcpdump.err" && break; sleep 0.1; done

quiet() { "$@" >/dev/null 2>&1; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# handoffs PORT SVCPORT PID GAP LOG: hand the flow from c1:PORT to the other server, again and
# again, GAP seconds apart, until WANT committed or PID (the client) ended.
# LOG gets "rc target (reason)" per handoff.
handoffs() {
	local port=$1 sport=$2 pid=$3 gap=$4 log=$5 to=$S2 n=0 rc out
	while [[ $n -lt $WANT ]]; do
		sleep "$gap"
		kill -0 "$pid" 2>/dev/null || break
		out=$(ctl -t 15 migrate "$C1:$port" --to "$to:$sport" 2>&1)
		rc=$?
		echo "$rc $to $(grep -oE '\([a-z-]+\)$' <<<"$out")" >>"$log"
		[[ $rc -eq 0 ]] && { n=$((n + 1)); [[ $to == "$S2" ]] && to=$S1 || to=$S2; }
	done
}

t0=$EPOCHREALTIME
nsx c1 timeout 90 python3 "$TOOLS/paced.py" send "$S1" 11111 "$T/src.bin" 8M 30 >"$T/up.out" 2>&1 &
up=$!
nsx c1 timeout 90 python3 "$TOOLS/paced.py" recv "$S1" 11112 "$T/down.bin" 12M 30 >"$T/down.out" 2>&1 &
down=$!
up_port=$(client_port c1 11111)
down_port=$(client_port c1 11112)
: >"$T/up.log"
: >"$T/down.log"
handoffs "$up_port" 11111 "$up" 0.15 "$T/up.log" &
hu=$!
handoffs "$down_port" 11112 "$down" 0.25 "$T/down.log" &
hd=$!
wait $up
up_rc=$?
wait $down
down_rc=$?
wait $hu $hd
diag "$(cat "$T/up.out"); $(cat "$T/down.out"); $(elapsed "$t0") s in all"

# --- upload ---------------------------------------------------------------------------------
is "upload: client sent 96 MiB and got a clean EOF (exit 0)" "$up_rc" 0
up_ok=$(awk '$1 == 0' "$T/up.log" | wc -l)
is "upload: $WANT handoffs committed while the client was sending" "$up_ok" "$WANT"
diag "upload: $(wc -l <"$T/up.log") handoffs issued; rolled back: $(awk '$1 != 0 {print $3}' "$T/up.log" | sort | uniq -c | tr -s ' \n' ' ')"
for _ in $(seq 100); do
	[[ $(cat "$T"/up/s* 2>/dev/null | wc -c) -ge $UP_SIZE ]] && break
	sleep 0.1
done
sleep 0.3
files=$(cd "$T/up" && ls | sort -t. -k2 -n)
is "upload: one server connection per committed handoff, plus the first" "$(echo "$files" | wc -l)" $((up_ok + 1))
is "upload: concatenation in time order has the source's sha256" \
	"$(cd "$T/up" && cat $files | sha256sum | cut -d' ' -f1)" "$(sha256sum <"$T/src.bin" | cut -d' ' -f1)"
diag "upload segment sizes: $(cd "$T/up" && for f in $files; do echo -n "$(stat -c %s "$f") "; done)"

# --- download -------------------------------------------------------------------------------
is "download: client read to a clean EOF (exit 0)" "$down_rc" 0
down_ok=$(awk '$1 == 0' "$T/down.log" | wc -l)
is "download: $WANT handoffs committed while the client was receiving" "$down_ok" "$WANT"
diag "download: $(wc -l <"$T/down.log") handoffs issued; rolled back: $(awk '$1 != 0 {print $3}' "$T/down.log" | sort | uniq -c | tr -s ' \n' ' ')"
order="server1 $(awk '$1 == 0 {print $2}' "$T/down.log" | while read -r a; do echo -n "${NAME[$a]} "; done)"
python3 "$TOOLS/stream.py" check "$T/down.bin" $order --last-len "$SOURCE" >"$T/check.out" 2>&1
is "download: bytes are exactly prefixes of the servers' streams in handoff order, the last whole" "$?" 0
sed 's/^/# /' "$T/check.out"

# --- totals, injectors, RSTs ----------------------------------------------------------------
committed=$(stat_of migrations_committed)
check "at least 20 handoffs committed under loss ($committed)" test "$committed" -ge 20
is "committed + rolled back = started" \
	"$((committed + $(stat_of migrations_rolled_back)))" "$(stat_of migrations_started)"
diag "rolled back: $(stat_of migrations_rolled_back), crafted SYN retransmissions: $(stat_of crafted_syn_retrans), retransmissions seen: $(stat_of pkts_retrans)"
"$LAB" netem show --prefix "$P" >"$T/netem.out" 2>&1
for h in c1 s1 s2; do
	line=$(grep -A1 "^$P-gw/$h egress" "$T/netem.out" | tail -1)
	dropped=$(sed -nE 's/.* dropped ([0-9]+) .*/\1/p' <<<"$line")
	delayed=$(sed -nE 's/.* delayed ([0-9]+) .*/\1/p' <<<"$line")
	check "netem gw/$h egress dropped ($dropped) and delayed ($delayed) packets" \
		test "${dropped:-0}" -gt 0 -a "${delayed:-0}" -gt 0
	line=$(grep -A1 "^$P-gw/$h ingress" "$T/netem.out" | tail -1)
	dropped=$(sed -nE 's/.* dropped ([0-9]+) .*/\1/p' <<<"$line")
	check "netem gw/$h ingress dropped ($dropped) packets" test "${dropped:-0}" -gt 0
done
kill -INT $td 2>/dev/null
sleep 0.2
is "no RST reached the client" "$(tcpdump -nn -r "$T/rst.pcap" 2>/dev/null | wc -l)" 0
tcpdump -nn -r "$T/rst.pcap" 2>/dev/null | head -5 | sed 's/^/#   /'
"$LAB" netem off --all --prefix "$P" >/dev/null

# --- a lost commit RST: the old backend keeps the connection; handing back to it still works ---
nsx c1 "$DEMO_CLIENT" --count 16 --interval 150 --message stale "$S1" 11113 >"$T/stale.out" 2>&1 &
cl=$!
port=$(client_port c1 11113)
sleep 0.4
nsx s1 iptables -I INPUT -p tcp --dport 11113 --tcp-flags RST RST -j DROP
check "stale: handoff s1 -> s2 commits (its RST to s1 dropped in s1)" \
	quiet ctl migrate "$C1:$port" --to "$S2:11113"
sleep 0.3
is "stale: s1 still holds the old connection" \
	"$(nsx s1 ss -tnH state established "sport = :11113" | awk '{print $4}' | grep -cE "$C1]?:$port\$")" 1
nsx s1 iptables -D INPUT -p tcp --dport 11113 --tcp-flags RST RST -j DROP
sleep 0.4
check "stale: handoff s2 -> s1 commits anyway" quiet ctl migrate "$C1:$port" --to "$S1:11113"
wait $cl
is "stale: client got all 16 replies" "$?" 0
is "stale: replies from server1, server2, server1" \
	"$(grep -oE '^server[0-9]' "$T/stale.out" | uniq | tr '\n' ' ')" "server1 server2 server1 "
done_testing
