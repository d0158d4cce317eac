#!/usr/bin/env bash
# make demo: a live TCP conversation handed from server 1 to server 2 and back by tcpmigd.
#
#   client c1 (10.0.1.1) ──── gateway (tcpmigd) ──┬── server1 10.0.0.1:11111
#                                                 └── server2 10.0.0.2:11111
#
# The client talks to 10.0.0.1 (server 1's own address, as in seed 000) the whole time; every
# reply names the server that produced it.  Nothing on client or servers knows about tcpmig.
# Part 1: an operator hands one live connection s1 -> s2 -> s1 (tcpmigctl migrate).
# Part 2: seed 000's two Snort rules decide, from each client's first request, which server serves it.
# Part 3: the same handoff with the eBPF fast path on (packets translated in the kernel).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
LAB=$ROOT/lab/tcpmig-lab
P=tmdemo
T=$(mktemp -d /tmp/tcpmig-demo.XXXXXX)
pids=()
bold= off=
if [[ -t 1 ]]; then bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true); fi

say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
run() { printf '%s$ %s%s\n' "$bold" "$*" "$off"; "$@"; }
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[[ -n ${GW:-} ]] && kill "$GW" 2>/dev/null
	wait 2>/dev/null
	"$LAB" down --prefix "$P" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LAB" down --prefix "$P" >/dev/null 2>&1
say "1. A lab in network namespaces: one client, a gateway, two servers"
"$LAB" up --prefix "$P" --servers 2 --clients 1 || exit 1
eval "$("$LAB" env --prefix "$P")"
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
ns() { local h=$1; shift; ip netns exec "$P-$h" "$@"; }

say "2. Two unmodified servers; each reply says which one answered"
ns s1 "$BUILD/lab/demo_server" --name server1 --listen "$S1" --port 11111 --quiet &
pids+=($!)
ns s2 "$BUILD/lab/demo_server" --name server2 --listen "$S2" --port 11111 --quiet &
pids+=($!)

say "3. tcpmigd on the gateway manages the service $S1:11111"
cat >"$T/tcpmigd.conf" <<CONF
service $S1:11111
	backend $S1:11111
	backend $S2:11111
CONF
sed 's/^/   | /' "$T/tcpmigd.conf"
# ip netns exec itself (not the ns function): $! is then tcpmigd, which a kill stops.
ip netns exec "$P-gw" "$BUILD/tcpmigd" -c "$T/tcpmigd.conf" -S "$T/ctl.sock" 2> >(sed -u 's/^/   tcpmigd | /') &
GW=$!
for _ in $(seq 100); do [[ -S $T/ctl.sock ]] && break; sleep 0.05; done
ctl() { "$BUILD/tcpmigctl" -S "$T/ctl.sock" "$@"; }

say "4. The client opens ONE connection to $S1:11111 and sends a request every 0.6 s"
ns c1 stdbuf -oL "$BUILD/lab/demo_client" --count 15 --interval 600 --message "request" "$S1" 11111 \
	> >(sed -u 's/^/   client | /') 2>&1 &
CL=$!
sleep 2.2
say "5. The connection, as tcpmigd sees it"
run ctl flows
port=$(ctl -j flows | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["client"].rsplit(":",1)[1])')

say "6. Hand it to server 2, mid-conversation (same client socket, same server address)"
run ctl migrate "$C1:$port" --to "$S2:11111" || echo "   (handoff failed)"
sleep 2.5
run ctl flows

say "7. And back to server 1 (a fresh connection there: its old one was reset at the first handoff)"
run ctl migrate "$C1:$port" --to "$S1:11111" || echo "   (handoff failed)"
wait "$CL"
rc=$?
sleep 0.2
run ctl flows

say "8. What it took"
ctl stats | grep -E '^(migrations_|crafted_|pkts_translated|pkts_held|pkts_dropped_old)' | sed 's/^/   /'
if [[ $rc -eq 0 ]]; then
	say "The client got every reply in order on one TCP connection: server1, then server2, then server1 again."
else
	say "The client reported a failure (exit $rc): see the lines above."
fi

say "9. Seed 000's scenario: Snort rules on the first request decide (its two rules, unchanged)"
cat >"$T/seed000.rules" <<'RULES'
alert tcp any -> 10.0.0.1 any(msg:"FORWARD"; flags:PA; content:"forward"; classtype:connection-migration; sid:1000001;)
alert tcp any -> 10.0.0.1 any(msg:"MIGRATE"; flags:PA; content:"migrate"; classtype:connection-migration; sid:1000002;)
RULES
sed 's/^/   | /' "$T/seed000.rules"
cat >>"$T/tcpmigd.conf" <<CONF
rules seed000.rules
on sid 1000002 migrate $S2:11111
on sid 1000001 forward
CONF
echo "   tcpmigd.conf gains:"
tail -3 "$T/tcpmigd.conf" | sed 's/^/   | /'
run ctl reload
run ctl rules

say "10. Two clients, both to $S1: one says 'forward', one says 'migrate'"
echo "   (the 'migrate' request is held at the gateway, the connection handed to server 2, then released:"
echo "    server 1 never sees it)"
ns c1 stdbuf -oL "$BUILD/lab/demo_client" --count 3 --interval 300 --message forward "$S1" 11111 \
	2>&1 | sed -u 's/^/   forward-client | /'
ns c1 stdbuf -oL "$BUILD/lab/demo_client" --count 3 --interval 300 --message migrate "$S1" 11111 \
	2>&1 | sed -u 's/^/   migrate-client | /' || rc=1
run ctl rules
run ctl events

say "11. The eBPF fast path: tcpmigd restarted with 'fast-path on'"
echo "   (established flows are translated by a tc program in the kernel; a handoff takes the flow"
echo "    back into tcpmigd for a moment and offloads it again with the new translation)"
kill "$GW" 2>/dev/null
wait "$GW" 2>/dev/null
for _ in $(seq 100); do [[ -S $T/ctl.sock ]] || break; sleep 0.05; done # it removes its socket
rm -f "$T/ctl.sock"
echo "fast-path on" >>"$T/tcpmigd.conf"
# ip netns exec itself (not the ns function): $! is then tcpmigd, which a kill stops.
ip netns exec "$P-gw" "$BUILD/tcpmigd" -c "$T/tcpmigd.conf" -S "$T/ctl.sock" 2> >(sed -u 's/^/   tcpmigd | /') &
GW=$!
for _ in $(seq 100); do [[ -S $T/ctl.sock ]] && break; sleep 0.05; done
ns c1 stdbuf -oL "$BUILD/lab/demo_client" --count 10 --interval 400 --message "fast" "$S1" 11111 \
	> >(sed -u 's/^/   client | /') 2>&1 &
CL=$!
sleep 1.5
run ctl flows
port=$(ctl -j flows | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["client"].rsplit(":",1)[1])')
run ctl migrate "$C1:$port" --to "$S2:11111" || echo "   (handoff failed)"
sleep 1
run ctl flows
wait "$CL" || rc=1
ctl stats | grep -E '^(fast_translated|fast_offloads|fast_takebacks|pkts_c2s|pkts_s2c) ' | sed 's/^/   /'
echo "   (fast_translated: packets the kernel translated; pkts_c2s/pkts_s2c: packets tcpmigd itself saw)"
echo "   More: lab/README.md, docs/tcpmigd.8, docs/tcpmigctl.8.  'make test' runs the whole suite."
exit $rc
