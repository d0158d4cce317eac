#!/usr/bin/env bash
# Seed 000's scenario for real: Snort rules on the first request decide which server serves it.
#
#   c1 ──── gw (tcpmigd + rules) ──┬── s1 10.0.0.1:11111  demo_server "server1"
#                                  └── s2 10.0.0.2:11111  demo_server "server2"
# Rules: seed 000's two rules verbatim; policy MIGRATE -> server2, FORWARD -> stay.
# Issue 4: seed scenario, split request, reload while flows are live (and a broken reload),
# 1000+ rules, rules/events output, file:line errors for unsupported options.
source "$(dirname "$0")/lib.sh"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
[[ $S1 == 10.0.0.1 ]] || { echo "Bail out! seed rules name 10.0.0.1, lab gave $S1"; exit 1; }
for k in 1 2; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
done
cat >"$T/seed.rules" <<'RULES'
# seed 000, verbatim
alert tcp any -> 10.0.0.1 any(msg:"FORWARD"; flags:PA; content:"forward"; classtype:connection-migration; sid:1000001;)
alert tcp any -> 10.0.0.1 any(msg:"MIGRATE"; flags:PA; content:"migrate"; classtype:connection-migration; sid:1000002;)
RULES
CONF="service $S1:11111
	backend $S1:11111
	backend $S2:11111
rules $T/seed.rules
on sid 1000002 migrate $S2:11111
on sid 1000001 forward
inspect-wait 300"
nsx s1 tcpdump -i eth0 -nn -A -U -w "$T/s1.pcap" 'tcp port 11111' 2>"$T/td.err" &
_bg_pids+=($!)
for _ in $(seq 50); do grep -qs listening "$T/td.err" && break; sleep 0.1; done
gw_start "$CONF"

# --- the seed's scenario ------------------------------------------------------------------
nsx c1 "$DEMO_CLIENT" --count 4 --interval 100 --message forward "$S1" 11111 >"$T/fwd.out" 2>&1
is "forward session: all replies" "$?" 0
is "forward session: served by server1" "$(grep -oE '^server[0-9]' "$T/fwd.out" | sort -u | tr '\n' ' ')" "server1 "
nsx c1 "$DEMO_CLIENT" --count 4 --interval 100 --message migrate "$S1" 11111 >"$T/mig.out" 2>&1
is "migrate session: all replies" "$?" 0
is "migrate session: every reply from server2, from the first" \
	"$(grep -oE '^server[0-9]: migrate [0-9]+' "$T/mig.out" | cut -d: -f1 | sort -u | tr '\n' ' ')" "server2 "
check "migrate session: first reply is server2's first request" grep -q '^server2: migrate 1 (#1)' "$T/mig.out"

# --- a request split over two segments ------------------------------------------------------
nsx c1 python3 - "$S1" >"$T/split.out" 2>&1 <<'PY'
import socket, sys, time
c = socket.create_connection((sys.argv[1], 11111))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.sendall(b"mig"); time.sleep(0.05); c.sendall(b"rate split\n")
print(c.makefile("rb").readline().decode().strip())
PY
is "split request ('mig' + 'rate split') matched MIGRATE and went to server2" "$(cat "$T/split.out")" "server2: migrate split (#1)"

# --- server 1 never saw a request that was handed off -------------------------------------
sleep 0.3
kill -INT "${_bg_pids[-1]}" 2>/dev/null
sleep 0.3
is "server1 saw no 'migrate' bytes" "$(tcpdump -nn -A -r "$T/s1.pcap" 2>/dev/null | grep -c migrate)" 0
check "server1 saw the 'forward' requests" test "$(tcpdump -nn -A -r "$T/s1.pcap" 2>/dev/null | grep -c forward)" -ge 4

# --- visibility ---------------------------------------------------------------------------
ctl rules >"$T/rules.out"
check "tcpmigctl rules lists sid 1000002 with its policy" grep -qE '^1000002 .*migrate 10\.0\.0\.2:11111 +MIGRATE' "$T/rules.out"
hits=$(jget "$(ctl -j rules)" "[r['hits'] for r in d['rules'] if r['sid']==1000002][0]")
is "sid 1000002 hit by the two migrate connections" "$hits" 2
ctl events >"$T/events.out"
check "events: an alert for MIGRATE" grep -q 'alert flow [0-9]*: \[1:1000002:1\] MIGRATE' "$T/events.out"
check "events: a migrate decision" grep -q 'decision flow [0-9]*: sid 1000002 "MIGRATE".*migrate to 10.0.0.2:11111' "$T/events.out"
check "events: the handoff" grep -q 'migration flow [0-9]*: 10.0.0.1:11111 -> 10.0.0.2:11111' "$T/events.out"
check "events -j is JSON with a next cursor" bash -c "'$TCPMIGCTL' -S '$CTL_SOCK' -j events | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"next\"] >= 6'"
is "analyzer decisions: migrate session + split request migrated, forward session stayed" \
	"$(stat_of analyzer_migrate)/$(stat_of analyzer_forward)" "2/1"

# --- reload while a flow is live --------------------------------------------------------------
nsx c1 "$DEMO_CLIENT" --count 20 --interval 100 --message forward "$S1" 11111 >"$T/live.out" 2>&1 &
live=$!
sleep 0.5
cp "$T/seed.rules" "$T/seed.rules.orig"
echo 'alert tcp any any -> any 11111 (msg:"TELEPORT"; content:"teleport"; nocase; sid:1000003;)' >>"$T/seed.rules"
printf '%s\non sid 1000003 migrate %s:11111\n' "$CONF" "$S2" >"$T/tcpmigd.conf"
check "reload with a new rule and policy: exit 0" ctl reload
nsx c1 "$DEMO_CLIENT" --count 2 --message TelePort "$S1" 11111 >"$T/tele.out" 2>&1
check "new rule active after reload (nocase)" grep -q '^server2: TelePort 1 (#1)' "$T/tele.out"
# A broken reload keeps the running rules.
echo 'alert tcp any any -> any any (msg:"bad"; byte_test:4,>,1000,0; sid:1000004;)' >>"$T/seed.rules"
ctl reload >"$T/reload.out" 2>&1
is "reload with an unsupported option: exit 1" "$?" 1
check "reload error names file:line and the token" grep -qF "$T/seed.rules:5:" "$T/reload.out"
check "... and quotes 'byte_test'" grep -q "byte_test" "$T/reload.out"
nsx c1 "$DEMO_CLIENT" --count 1 --message teleport "$S1" 11111 >"$T/tele2.out" 2>&1
check "old rules still active after the failed reload" grep -q '^server2: teleport 1 (#1)' "$T/tele2.out"
kill -HUP "$GW_PID"
sleep 0.3
check "SIGHUP reload with errors is logged and keeps running" grep -q "reload of .* failed" "$T/gw.log"
wait $live
is "the live flow went through both reloads undisturbed" "$?" 0
is "live flow stayed on server1" "$(grep -oE '^server[0-9]' "$T/live.out" | sort -u | tr '\n' ' ')" "server1 "
cp "$T/seed.rules.orig" "$T/seed.rules"

# --- reset, drop, pool policies -------------------------------------------------------------
cat >"$T/act.rules" <<'RULES'
alert tcp any any -> any 11111 (msg:"RESETME"; content:"reset-me"; sid:3000001;)
alert tcp any any -> any 11111 (msg:"DROPME"; content:"drop-me"; sid:3000002;)
alert tcp any any -> any 11111 (msg:"POOLME"; content:"pool-me"; classtype:pool-test; sid:3000003;)
alert tcp any any -> any 11111 (msg:"META"; content:"meta-me"; metadata:route two; sid:3000004;)
RULES
printf 'service %s:11111\n\tbackend %s:11111\n\tbackend %s:11111\nrules %s\npool two %s:11111 %s:11111\non msg RESETME reset\non sid 1:3000002 drop\non classtype pool-test migrate pool:two\non metadata route=two migrate %s:11111\n' \
	"$S1" "$S1" "$S2" "$T/act.rules" "$S1" "$S2" "$S2" >"$T/tcpmigd.conf"
check "reload with reset/drop/pool/metadata policies" ctl reload
nsx c1 "$DEMO_CLIENT" --count 1 --timeout 2000 --message reset-me "$S1" 11111 >"$T/reset.out" 2>&1
is "reset policy: the client fails" "$?" 1
check "reset policy: ... because the connection was reset" grep -qi "reset" "$T/reset.out"
before=$(stat_of pkts_dropped_policy)
nsx c1 "$DEMO_CLIENT" --count 1 --timeout 1500 --message drop-me "$S1" 11111 >"$T/drop.out" 2>&1
is "drop policy: the client gets no reply" "$?" 1
check "drop policy: the client's data was dropped (and its retransmissions)" \
	test "$(stat_of pkts_dropped_policy)" -gt "$before"
nsx c1 "$DEMO_CLIENT" --count 2 --message pool-me "$S1" 11111 >"$T/pool.out" 2>&1
check "pool policy: handed to the pool member that is not the current backend (server2)" \
	grep -q '^server2: pool-me 1 (#1)' "$T/pool.out"
nsx c1 "$DEMO_CLIENT" --count 1 --message meta-me "$S1" 11111 >"$T/meta.out" 2>&1
check "metadata policy (route=two) migrates" grep -q '^server2: meta-me 1 (#1)' "$T/meta.out"
is "analyzer counted one reset and one drop" "$(stat_of analyzer_reset)/$(stat_of analyzer_drop)" "1/1"

# --- 1000+ rules ----------------------------------------------------------------------------
python3 - "$T/big.rules" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('alert tcp any -> 10.0.0.1 any(msg:"MIGRATE"; flags:PA; content:"migrate"; classtype:connection-migration; sid:1000002;)\n')
    for i in range(1500):
        f.write('alert tcp any any -> $HOME any (msg:"big %d"; content:"word%05dx"; depth:64; metadata:set big; sid:%d; rev:2;)\n' % (i, i, 2000000 + i))
    f.write('ipvar HOME 10.0.0.0/24\n')
PY
sed -i '1i ipvar HOME 10.0.0.0/24' "$T/big.rules"
sed -i '$d' "$T/big.rules"
printf 'service %s:11111\n\tbackend %s:11111\n\tbackend %s:11111\nrules %s\non sid 2001234 migrate %s:11111\non metadata set=big forward\n' \
	"$S1" "$S1" "$S2" "$T/big.rules" "$S2" >"$T/tcpmigd.conf"
check "reload with 1501 rules" ctl reload
is "1501 rules loaded" "$(jget "$(ctl -j rules)" "len(d['rules'])")" 1501
nsx c1 "$DEMO_CLIENT" --count 1 --message "x word01234x" "$S1" 11111 >"$T/big1.out" 2>&1
check "rule 1234 of 1500 (sid 2001234) migrates" grep -q '^server2: x word01234x 1 (#1)' "$T/big1.out"
nsx c1 "$DEMO_CLIENT" --count 1 --message "x word00777x" "$S1" 11111 >"$T/big2.out" 2>&1
check "rule 777 (metadata set=big) forwards" grep -q '^server1: x word00777x 1 (#1)' "$T/big2.out"
is "sid 2001234 counted one hit" "$(jget "$(ctl -j rules)" "[r['hits'] for r in d['rules'] if r['sid']==2001234][0]")" 1

# --- errors at start --------------------------------------------------------------------------
printf 'alert tcp any any -> any any (msg:"x"; byte_jump:4,0; sid:1;)\nalert udp any any -> any any (msg:"y"; sid:2;)\n' >"$T/bad.rules"
printf 'service %s:11111\n\tbackend %s:11111\nrules bad.rules\n' "$S1" "$S1" >"$T/bad.conf"
"$TCPMIGD" -t -c "$T/bad.conf" >"$T/bad.out" 2>&1
is "tcpmigd -t with a bad rule file: exit 1" "$?" 1
check "error 1 at bad.rules:1 names 'byte_jump'" grep -qE "bad.rules:1: .*'byte_jump" "$T/bad.out"
check "error 2 at bad.rules:2 (every error reported)" grep -qE "bad.rules:2: .*'udp'" "$T/bad.out"
done_testing
