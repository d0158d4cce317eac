#!/usr/bin/env bash
# Where a handoff may cut a request/response stream: never between the old backend's kernel
# acknowledging a request and its application answering it.
#
#   c1 ──── gw (tcpmigd) ──┬── s1  demo_server "server1" --delay MS  :11111 (a slow application)
#                          └── s2  demo_server "server2"             :11111
# Issue 3 (quiescence, tcpmigd(8) Handoff step 1).  With the default quiesce-mode reply a handoff
# requested while server 1 thinks waits for the reply, then cuts at the client's next request,
# which goes to server 2.  quiesce-mode bytes cuts as soon as every byte is acknowledged: the
# reply is lost, which is what the boundary condition exists for (and shows this test can fail).
# A reply that takes longer than quiesce-timeout rolls the handoff back; the flow goes on.
# Also: tcpmigd -t accepts the quiesce keys and reports bad values at file:line.
source "$(dirname "$0")/lib.sh"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
bg nsx s2 "$DEMO_SERVER" --name server2 --port 11111 --quiet
S1_PID=

s1_start() { # s1_start DELAY_MS
	[[ -n $S1_PID ]] && { kill "$S1_PID" 2>/dev/null; wait "$S1_PID" 2>/dev/null; }
	# Not through nsx (a function: its subshell's pid would be the one killed, not the server's).
	ip netns exec "$P-s1" "$DEMO_SERVER" --name server1 --port 11111 --quiet --delay "$1" &
	S1_PID=$!
	_bg_pids+=("$S1_PID")
	sleep 0.2
}

conf() { # conf EXTRA_LINES
	printf 'service %s:11111\n\tbackend %s:11111\n\tbackend %s:11111\n%s' "$S1" "$S1" "$S2" "$1"
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# run_case NAME: client sends 3 requests back to back; the handoff is asked for 150 ms after
# the first one, while server 1 is still thinking.  Sets mig_rc, mig_ms, cl_rc.
run_case() {
	local name=$1 port t0
	nsx c1 "$DEMO_CLIENT" --count 3 --interval 0 --timeout 2500 --message "$name" "$S1" 11111 \
		>"$T/$name.out" 2>&1 &
	local cl=$!
	port=$(client_port c1 11111)
	sleep 0.15
	t0=$(now_ms)
	ctl migrate "$C1:$port" --to "$S2:11111" >"$T/$name.mig" 2>&1
	mig_rc=$?
	mig_ms=$(($(now_ms) - t0))
	wait "$cl"
	cl_rc=$?
	diag "$name: migrate exit $mig_rc after $mig_ms ms: $(head -1 "$T/$name.mig")"
}

# --- reply mode (default): the handoff waits for server 1's late reply -----------------------
s1_start 600
gw_start "$(conf "quiesce-timeout 2000
")"
run_case reply
is "reply: migrate exits 0" "$mig_rc" 0
check "reply: the commit waited for server 1's reply (>= 300 ms, took $mig_ms)" test "$mig_ms" -ge 300
is "reply: client got all 3 replies, exit 0" "$cl_rc" 0
is "reply: request 1 answered by server1 (late), 2 and 3 by server2" \
	"$(grep -oE '^server[0-9]: reply [0-9]+ \(#[0-9]+\)' "$T/reply.out" | tr '\n' '|')" \
	"server1: reply 1 (#1)|server2: reply 2 (#1)|server2: reply 3 (#2)|"
is "reply: the client's next request was held for the new backend" \
	"$(($(stat_of pkts_held) > 0))" 1
is "reply: one handoff committed, none rolled back" \
	"$(stat_of migrations_committed)/$(stat_of migrations_rolled_back)" "1/0"

# --- the same with quiesce-mode bytes: cut at once, reply lost --------------------------------
gw_stop
gw_start "$(conf "quiesce-mode bytes
")"
run_case bytes
is "bytes: migrate exits 0" "$mig_rc" 0
check "bytes: the commit did not wait for the reply (< 300 ms, took $mig_ms)" test "$mig_ms" -lt 300
is "bytes: the client misses server 1's reply (exit 1)" "$cl_rc" 1
check "bytes: ... 'no reply to request 1'" grep -q "no reply to request 1" "$T/bytes.out"

# --- a reply slower than quiesce-timeout: rollback, the flow stays with server 1 --------------
gw_stop
s1_start 1200
gw_start "$(conf "quiesce-timeout 500
")"
run_case slow
is "slow: migrate exits 1" "$mig_rc" 1
check "slow: ... reason quiescence-timeout" grep -q "quiescence-timeout" "$T/slow.mig"
is "slow: client got all 3 replies, exit 0" "$cl_rc" 0
is "slow: every reply from server1" \
	"$(grep -oE '^server[0-9]: slow [0-9]+' "$T/slow.out" | tr '\n' '|')" \
	"server1: slow 1|server1: slow 2|server1: slow 3|"
is "slow: one rollback, no commit" \
	"$(stat_of migrations_rolled_back)/$(stat_of migrations_committed)" "1/0"

# --- configuration ------------------------------------------------------------------------------
conf "quiesce-mode reply
quiesce-settle 0
quiesce-timeout 100
" >"$T/good.conf"
"$TCPMIGD" -t -c "$T/good.conf" >"$T/good.txt" 2>&1
is "tcpmigd -t accepts quiesce-mode/-settle/-timeout" "$?" 0
conf "quiesce-mode fast
quiesce-settle -1
quiesce-timeout 0
" >"$T/bad.conf"
"$TCPMIGD" -t -c "$T/bad.conf" >"$T/bad.txt" 2>&1
is "tcpmigd -t with bad quiesce values: exit 1" "$?" 1
check "bad.conf:4: quiesce-mode 'fast'" grep -qE "bad.conf:4: .*'fast'" "$T/bad.txt"
check "bad.conf:5: quiesce-settle '-1'" grep -qE "bad.conf:5: .*'-1'" "$T/bad.txt"
check "bad.conf:6: quiesce-timeout '0'" grep -qE "bad.conf:6: .*'0'" "$T/bad.txt"
done_testing
