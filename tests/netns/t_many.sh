#!/usr/bin/env bash
# 1000 concurrent connections handed from server 1 to server 2, all of them, while they keep
# doing request/response rounds.
#
#   c1 ──── gw (tcpmigd) ──┬── s1  demo_server "server1"   :11111
#   demo_client            └── s2  demo_server "server2"   :11111
#   --conns 1000 --forever --interval 2000
# Issue 3, test f.  Every connection sends a request every 2 s until stdin closes; all 1000 flows
# are migrated with tcpmigctl (8 in parallel), then every connection does at least two more
# rounds.  demo_client's summary must show 1000 ok, every last reply from server2, 1000 switched.
source "$(dirname "$0")/lib.sh"

N=1000

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4
for k in 1 2; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
done
gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111"
sleep 0.3

# stdin of the client: a pipe that closes when $T/stop appears (or after 100 s at most).
(for _ in $(seq 500); do [[ -f $T/stop ]] && break; sleep 0.2; done) |
	nsx c1 timeout 120 "$DEMO_CLIENT" --conns $N --forever --interval 2000 --timeout 10000 \
		--quiet --message many "$S1" 11111 >"$T/client.out" 2>"$T/client.err" &
cl=$!

established() {
	jget "$(ctl -j flows)" "sum(1 for f in d['flows'] if f['state'] == 'established')"
}
for _ in $(seq 150); do
	[[ $(established) -ge $N ]] && break
	sleep 0.1
done
is "$N flows established through the gateway" "$(established)" $N
sleep 2.5 # every connection has had a reply from server1

t0=$EPOCHREALTIME
jget "$(ctl -j flows)" "'\n'.join(str(f['id']) for f in d['flows'] if f['backend'] == '$S1:11111')" >"$T/ids"
is "all $N flows on server1 before" "$(grep -c . "$T/ids")" $N
# One line per handoff: "ID rc".
xargs -P 8 -I{} sh -c '"$0" -S "$1" migrate {} --to "$2" >/dev/null 2>&1; echo "{} $?"' \
	"$TCPMIGCTL" "$CTL_SOCK" "$S2:11111" <"$T/ids" >"$T/migrate.log"
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
diag "$N handoffs in $dt s ($(awk -v n=$N -v t="$dt" 'BEGIN { printf "%.0f", n / t }')/s)"
is "every tcpmigctl migrate exited 0" "$(awk '$2 != 0' "$T/migrate.log" | wc -l)" 0
is "$N handoffs committed" "$(stat_of migrations_committed)" $N
is "no handoff rolled back" "$(stat_of migrations_rolled_back)" 0
flows=$(ctl -j flows)
is "all $N flows on server2 after" \
	"$(jget "$flows" "sum(1 for f in d['flows'] if f['backend'] == '$S2:11111' and f['migrations'] == 1)")" $N

sleep 4.5 # at least two more rounds on every connection
touch "$T/stop"
wait $cl
is "client exited 0 (every request answered, no reset)" "$?" 0
diag "$(cat "$T/client.out")"
head -5 "$T/client.err" | sed 's/^/# /'
summary=$(cat "$T/client.out")
check "summary: $N ok, 0 failed" grep -q "conns $N: $N ok, 0 failed" <<<"$summary"
check "summary: every last reply from server2" grep -qE "last reply from: server2=$N;" <<<"$summary"
check "summary: $N connections changed server" grep -q "; $N changed server" <<<"$summary"
sent=$(sed -nE 's/.*requests ([0-9]+) sent.*/\1/p' <<<"$summary")
check "at least 4 rounds per connection ($sent requests)" test "${sent:-0}" -ge $((4 * N))
diag "stats: $(ctl stats | grep -E '^(pkts_dropped_old_backend|crafted_probe|pkts_held|crafted_rst) ' | tr '\n' ' ')"
is "no malformed or spoofed drops" "$(stat_of pkts_dropped_malformed)/$(stat_of pkts_dropped_spoofed)" "0/0"
done_testing
