#!/usr/bin/env bash
# What happens to traffic when tcpmigd stops: cleanly (SIGTERM) and killed (SIGKILL), then restarted.
#
#   c1 ──── gw (tcpmigd, stopped / killed / restarted) ──┬── s1  demo_server "server1"  :11111
#                                                         └── s2  demo_server "server2"  :11111
# Issue 3, test j (tcpmigd(8), "Failure behaviour").  SIGTERM: the raw-table chains go away, a
# never-migrated connection and new connections go on through plain forwarding, a migrated one is
# reset at once (not left hanging).  SIGKILL: the rules stay (--queue-bypass), unmigrated and new
# connections work, a migrated flow's next segment reaches server 1, which resets it.  A restarted
# daemon replaces the leftover rules (same rule set, once) and manages new flows again.
# With the fast path on (netns-fast/t_stop) a SIGKILL leaves the offloaded migrated flow working in
# the kernel instead (maps not pinned here: /sys under ip netns exec is no bpffs; t_fast pins).
source "$(dirname "$0")/lib.sh"

lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
for k in 1 2; do
	bg nsx "s$k" "$DEMO_SERVER" --name "server$k" --port 11111 --quiet
done
CONF="service $S1:11111
	backend $S1:11111
	backend $S2:11111"
gw_start "$CONF"
sleep 0.3

quiet() { "$@" >/dev/null 2>&1; }
raw_rules() { nsx gw iptables -t raw -S; }
tcpmig_rules() { raw_rules | grep -c TCPMIG; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
# wait_exit PID MAX_MS: wait up to MAX_MS for PID; sets rc (124: still running) and ms (elapsed).
wait_exit() {
	local pid=$1 max=$2 t0
	t0=$(now_ms)
	while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < max)); do sleep 0.02; done
	ms=$(($(now_ms) - t0))
	if kill -0 "$pid" 2>/dev/null; then
		rc=124
		return
	fi
	wait "$pid"
	rc=$?
}
# A migrated session (handed to s2) and an unmigrated one (stays on s1), both running across $1.
start_sessions() {
	nsx c1 "$DEMO_CLIENT" --count 25 --interval 200 --message keep "$S1" 11111 >"$T/u$1.out" 2>&1 &
	cu=$!
	pu=$(client_port c1 11111)
	nsx c1 "$DEMO_CLIENT" --count 100 --interval 200 --timeout 10000 --message moved "$S1" 11111 \
		>"$T/m$1.out" 2>&1 &
	cm=$!
	for _ in $(seq 50); do
		pm=$(nsx c1 ss -tnH state established "dport = :11111" | awk '{n=split($3,a,":"); print a[n]}' |
			grep -vx "$pu" | head -1)
		[[ -n $pm ]] && break
		sleep 0.05
	done
	sleep 0.5
	check "$1: session handed to s2 before the daemon goes" quiet ctl migrate "$C1:$pm" --to "$S2:11111"
	sleep 0.6
}
rules_before=$(raw_rules)
check "rules installed: chain TCPMIG_PRE in the raw table" grep -q -- "-N TCPMIG_PRE" <<<"$rules_before"
check "rules installed: chain TCPMIG_OUT in the raw table" grep -q -- "-N TCPMIG_OUT" <<<"$rules_before"

# --- clean stop (SIGTERM) ----------------------------------------------------------------------
start_sessions term
gw_stop
wait_exit $cm 3000
is "term: migrated session ended at once with a failure (exit 1, < 2 s)" \
	"$rc $((ms < 2000 ? 1 : 0))" "1 1"
diag "term: the migrated session ended ${ms} ms after the stop"
check "term: ... because of a reset or EOF, not a timeout" grep -qiE "reset|closed|eof" "$T/mterm.out"
diag "term: migrated session: $(grep demo_client "$T/mterm.out" | head -1)"
is "term: no TCPMIG rules left in the raw table" "$(tcpmig_rules)" 0
is "term: raw PREROUTING/OUTPUT as before the daemon" "$(raw_rules | tr '\n' ' ')" \
	"-P PREROUTING ACCEPT -P OUTPUT ACCEPT "
nsx c1 "$DEMO_CLIENT" --count 3 --interval 100 --message new "$S1" 11111 >"$T/newterm.out" 2>&1
is "term: a new connection works (plain forwarding)" "$?" 0
is "term: ... answered by server1" "$(grep -oE '^server[0-9]' "$T/newterm.out" | sort -u)" "server1"
wait $cu
is "term: never-migrated session got all 25 replies across the stop" "$?" 0
is "term: ... all from server1" "$(grep -oE '^server[0-9]' "$T/uterm.out" | sort -u)" "server1"

# --- SIGKILL -----------------------------------------------------------------------------------
mv "$T/gw.log" "$T/gw.term.log"
gw_start "$CONF"
sleep 0.3
start_sessions kill
gw_kill
if [[ ${TCPMIG_FASTPATH:-} == on ]]; then
	# The fast path: the tc program and its maps outlive a killed daemon (the filter holds them,
	# pinned or not), so the offloaded, migrated session goes on, translated in the kernel.
	n0=$(grep -c '^server2' "$T/mkill.out")
	wait_exit $cm 3000
	is "kill (fast path): the migrated session goes on in the kernel (running 3 s after)" "$rc" 124
	n1=$(grep -c '^server2' "$T/mkill.out")
	check "kill (fast path): ... with more replies from server2 ($n0 -> $n1)" test "$n1" -ge $((n0 + 10))
	is "kill (fast path): ... none from server1 since the handoff" \
		"$(grep -oE '^server[0-9]' "$T/mkill.out" | uniq | tr '\n' ' ')" "server1 server2 "
	kill $cm 2>/dev/null
	wait $cm 2>/dev/null
else
	wait_exit $cm 3000
	is "kill: migrated session reset by server1 at its next segment (exit 1, < 2 s)" \
		"$rc $((ms < 2000 ? 1 : 0))" "1 1"
	diag "kill: the migrated session ended ${ms} ms after the kill"
	check "kill: ... a reset, not a timeout" grep -qi "reset" "$T/mkill.out"
	diag "kill: migrated session: $(grep demo_client "$T/mkill.out" | head -1)"
fi
is "kill: the rules stay" "$(raw_rules)" "$rules_before"
nsx c1 "$DEMO_CLIENT" --count 3 --interval 100 --message new "$S1" 11111 >"$T/newkill.out" 2>&1
is "kill: a new connection works (queue bypass)" "$?" 0
wait $cu
is "kill: never-migrated session got all 25 replies across the kill" "$?" 0
is "kill: ... all from server1" "$(grep -oE '^server[0-9]' "$T/ukill.out" | sort -u)" "server1"

# --- restart -----------------------------------------------------------------------------------
mv "$T/gw.log" "$T/gw.kill.log"
gw_start "$CONF"
sleep 0.3
is "restart: rule set as after the first start (leftovers replaced, not doubled)" \
	"$(raw_rules)" "$rules_before"
nsx c1 "$DEMO_CLIENT" --count 10 --interval 200 --message again "$S1" 11111 >"$T/again.out" 2>&1 &
cl=$!
pa=$(client_port c1 11111)
sleep 0.5
is "restart: the new connection is a tracked flow" \
	"$(jget "$(ctl -j flow "$C1:$pa")" "d['flow']['state']")" established
check "restart: and it can be handed to s2" quiet ctl migrate "$C1:$pa" --to "$S2:11111"
wait $cl
is "restart: client got all 10 replies, server1 then server2" \
	"$?/$(grep -oE '^server[0-9]' "$T/again.out" | uniq | tr '\n' ' ')" "0/server1 server2 "
gw_stop
is "final stop: no TCPMIG rules left" "$(tcpmig_rules)" 0
done_testing
