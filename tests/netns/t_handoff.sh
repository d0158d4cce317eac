#!/usr/bin/env bash
# Request/response sessions handed between servers mid-stream, at the first request, rolled back.
#
#   c1 ──── gw (tcpmigd) ──┬── s1  demo_server "server1"   :11111 (and :11112 for the RST case)
#                          ├── s2  demo_server "server2"   :11111
#                          └── s3  demo_server "server3"   :11111
# Issue 3, tests a (s1->s2->s1 mid-stream), d (at the first request), e (rollback: not listening,
# unreachable, RST), g (IPv6 version of a), k (the server being left resets the flow mid-handoff).
source "$(dirname "$0")/lib.sh"

lab_up --servers 3 --clients 1
for k in 1 2 3; do
	ip4=LAB_S${k}_IP4
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
done
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 S3=$LAB_S3_IP4 C1=$LAB_C1_IP4
S16=$LAB_S1_IP6 S26=$LAB_S2_IP6 C16=$LAB_C1_IP6
UNREACH=${S1%.*}.77
gw_start "service $S1:11111
	backend $S1:11111
	backend $S2:11111
	backend $S3:11111
	backend $S2:11199
	backend $UNREACH:11111
service [$S16]:11111
	backend [$S16]:11111
	backend [$S26]:11111
handoff-timeout 1500"
sleep 0.3

# --- a: s1 -> s2 -> s1 (-> s3) mid-stream; replies prove who answers --------------------------
nsx c1 "$DEMO_CLIENT" --count 16 --interval 250 --message req "$S1" 11111 >"$T/a.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.9
check "a: migrate s1->s2 exits 0" ctl migrate "$C1:$port" --to "$S2:11111"
sleep 1
check "a: migrate s2->s1 exits 0" ctl migrate "$C1:$port" --to "$S1:11111"
sleep 1
check "a: migrate s1->s3 exits 0" ctl migrate "$C1:$port" --to "$S3:11111"
wait $cl
is "a: client got all 16 replies" "$?" 0
servers=$(grep -oE '^server[0-9]' "$T/a.out" | uniq | tr '\n' ' ')
is "a: replies came from server1, server2, server1, server3 in order" "$servers" "server1 server2 server1 server3 "
reqs=$(grep -oE 'req [0-9]+' "$T/a.out" | awk '{print $2}' | tr '\n' ' ')
is "a: every request answered once, in order" "$reqs" "$(seq -s ' ' 1 16) "
is "a: 3 handoffs committed" "$(stat_of migrations_committed)" 3
is "a: flow shows 3 migrations" "$(jget "$(ctl -j flow "$C1:$port")" "d['flow']['migrations']")" 3

# --- d: handoff at the first request, before server 1 saw any data ----------------------------
before1=$(grep -c . "$T/a.out")
nsx c1 python3 - "$S1" >"$T/d.out" 2>&1 <<'PY' &
import socket, sys, time
c = socket.create_connection((sys.argv[1], 11111)); time.sleep(0.8)
c.sendall(b"first\n"); print(c.makefile("rb").readline().decode().strip(), flush=True)
PY
cl=$!
port=$(client_port c1 11111)
check "d: migrate before the first byte exits 0" ctl migrate "$C1:$port" --to "$S2:11111"
wait $cl
is "d: the first request was answered by server2" "$(cat "$T/d.out")" "server2: first (#1)"

# A former backend that keeps sending (as if the commit RST were lost) is dropped and reset again.
gwmac=$(nsx gw cat /sys/class/net/s1/address)
# Two copies leave back to back (one process), so both fall inside the 200 ms RST rate limit;
# a third, sent after the limit has passed, is answered again.
old_drop=$(stat_of pkts_dropped_old_backend)
old_rst=$(stat_of crafted_rst_old_backend)
nsx s1 python3 "$ROOT/tests/tools/inject.py" eth0 "$gwmac" "$S1:11111" "$C1:$port" ack-future 1 2 2 >/dev/null
sleep 0.3
is "d: segments from the former backend dropped" "$(stat_of pkts_dropped_old_backend)" $((old_drop + 2))
is "d: former backend reset again, once (rate-limited)" "$(stat_of crafted_rst_old_backend)" $((old_rst + 1))
nsx s1 python3 "$ROOT/tests/tools/inject.py" eth0 "$gwmac" "$S1:11111" "$C1:$port" ack-future 1 2 >/dev/null
sleep 0.3
is "d: after 200 ms the former backend is reset again" "$(stat_of crafted_rst_old_backend)" $((old_rst + 2))
is "d: and that segment dropped too" "$(stat_of pkts_dropped_old_backend)" $((old_drop + 3))

# --- e: rollback keeps the flow on its server ------------------------------------------------
nsx c1 "$DEMO_CLIENT" --count 14 --interval 300 --message keep "$S1" 11111 >"$T/e.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.5
ctl migrate "$C1:$port" --to "$S2:11199" >"$T/e1.out" 2>&1
is "e: target not listening -> exit 1" "$?" 1
check "e: ... reason target-refused" grep -q "target-refused" "$T/e1.out"
ctl migrate "$C1:$port" --to "$UNREACH:11111" >"$T/e2.out" 2>&1
is "e: target unreachable -> exit 1" "$?" 1
check "e: ... reason target-timeout" grep -q "target-timeout" "$T/e2.out"
ctl migrate "$C1:$port" --to "$S1:11111" >"$T/e3.out" 2>&1
is "e: migrate to the current backend -> exit 1" "$?" 1
ctl migrate "$C1:$port" --to "10.99.99.99:11111" >"$T/e4.out" 2>&1
is "e: backend not in the pool -> exit 1" "$?" 1
check "e: ... reason unknown-backend" grep -q "unknown-backend" "$T/e4.out"
wait $cl
is "e: client got all 14 replies across the rollbacks" "$?" 0
is "e: every reply came from server1" "$(grep -oE '^server[0-9]' "$T/e.out" | sort -u | tr '\n' ' ')" "server1 "
is "e: requests in order" "$(grep -oE 'keep [0-9]+' "$T/e.out" | awk '{print $2}' | tr '\n' ' ')" "$(seq -s ' ' 1 14) "
flow=$(ctl -j flow "$C1:$port")
is "e: flow rolled back twice" "$(jget "$flow" "d['flow']['rollbacks']")" 2
is "e: flow still on server1" "$(jget "$flow" "d['flow']['backend']")" "$S1:11111"
is "e: last_error reported" "$(jget "$flow" "d['flow']['last_error']")" "target-timeout"

# --- k: the server being left resets the flow during the handoff, after the cut ---------------
# Server 2 ignores SYNs for a while, so the replayed SYN waits for its retransmission (200 ms,
# then 400 ms later); meanwhile server 1's socket is killed (ss -K: an RST to the client, as an
# application that closes its listener sends to the connections in its accept queue; iperf3 does).
# Absorbed: the handoff commits and the client never knows.  Then the same with a target that
# never answers: the rollback has no backend to return to, and the client gets the reset.
syn_drop() { nsx s2 iptables "$1" INPUT -p tcp --syn --dport 11111 -j DROP; }
kill_s1_socket() { # PORT: server 1's socket of the client's port
	nsx s1 ss -K -tnH state established "( sport = :11111 and dport = :$1 )" | grep -c .
}
k_client() { # OUT WAIT: connect, sleep, send a request, print the answer or what happened
	nsx c1 python3 - "$S1" "$2" >"$1" 2>&1 <<'PY' &
import socket, sys, time
c = socket.create_connection((sys.argv[1], 11111)); time.sleep(float(sys.argv[2]))
try:
    c.sendall(b"after\n"); c.settimeout(5)
    print(c.makefile("rb").readline().decode().strip() or "eof", flush=True)
except OSError as e:
    print(type(e).__name__, flush=True)
PY
}
# k_start OUT WAIT WHAT: server 2 ignoring SYNs, a client (pid $cl, port $port) whose flow starts
# its handoff (migrate's pid $mig), server 1's socket killed 0.3 s into it.
k_start() {
	syn_drop -I
	k_client "$1" "$2"
	cl=$!
	port=$(client_port c1 11111)
	ctl migrate "$C1:$port" --to "$S2:11111" >"$1.mig" 2>&1 &
	mig=$!
	sleep 0.3
	is "k: ${3}server 1's socket killed during the handoff" "$(kill_s1_socket "$port")" 1
}
old_abs=$(stat_of old_backend_rst_absorbed)
old_rstc=$(stat_of crafted_rst_client)
k_start "$T/k.out" 1.5 ""
sleep 0.1
syn_drop -D
wait $mig
is "k: the handoff still commits (migrate exits 0)" "$?" 0
is "k: server 1's RST absorbed" "$(stat_of old_backend_rst_absorbed)" $((old_abs + 1))
wait $cl
is "k: the client's request answered by server2" "$(cat "$T/k.out")" "server2: after (#1)"

k_start "$T/k2.out" 2.5 "(target silent) "
wait $mig
is "k: the handoff rolls back (migrate exits 1)" "$?" 1
check "k: ... target-timeout" grep -q target-timeout "$T/k2.out.mig"
syn_drop -D
is "k: the client was reset by the gateway" "$(stat_of crafted_rst_client)" $((old_rstc + 1))
wait $cl
is "k: the client's socket says so" "$(cat "$T/k2.out")" "ConnectionResetError"
is "k: the flow is closed" "$(jget "$(ctl -j flow "$C1:$port")" "d['flow']['state']")" closed

# --- g: IPv6 version of a ------------------------------------------------------------------
nsx c1 "$DEMO_CLIENT" --count 10 --interval 250 --message six "$S16" 11111 >"$T/g.out" 2>&1 &
cl=$!
port=$(client_port c1 11111)
sleep 0.7
check "g: IPv6 migrate s1->s2 exits 0" ctl migrate "[$C16]:$port" --to "[$S26]:11111"
sleep 0.9
check "g: IPv6 migrate s2->s1 exits 0" ctl migrate "[$C16]:$port" --to "[$S16]:11111"
wait $cl
is "g: IPv6 client got all 10 replies" "$?" 0
is "g: IPv6 replies from server1, server2, server1" "$(grep -oE '^server[0-9]' "$T/g.out" | uniq | tr '\n' ' ')" "server1 server2 server1 "

is "no malformed or spoofed drops in normal traffic" "$(stat_of pkts_dropped_malformed)/$(stat_of pkts_dropped_spoofed)" "0/0"
done_testing
