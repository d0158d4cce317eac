# shellcheck shell=bash
# Sourced by bench/run.sh: BENCH_FLOWS idle connections through the fast path (issue 5's two
# targets): memory per tracked flow (BPF maps and tcpmigd's RSS with no flow, half of them and all
# of them), then all of them handed from server 1 to server 2 at once, and one more request on
# each afterwards.  Uses run.sh's helpers (rec, gw_on, gw_off, stats, stat_of, sdelta, jf).

# wait_for SECS CMD...: runs CMD every 0.1 s until it succeeds or SECS have passed.
wait_for() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
offloaded_ge() { (($(stat_of flows_offloaded) >= $1)); }
offloaded_zero() { (($(stat_of flows_offloaded) == 0)); }
# hold_line PHASE NAME: the JSON line holder NAME printed at the end of PHASE (held, checked).
hold_line() { grep -m1 "\"phase\":\"$1\"" "$T/hold_$2.out"; }
# merge_lines JSON...: one JSON object, numbers summed, "servers" merged, the rest from the last.
merge_lines() {
	python3 -c '
import json, sys
out = {"servers": {}}
for line in sys.argv[1:]:
    d = json.loads(line or "{}")
    for k, v in d.items():
        if k == "servers":
            for s, n in v.items():
                out["servers"][s] = out["servers"].get(s, 0) + n
        elif isinstance(v, (int, float)) and k != "secs":
            out[k] = out.get(k, 0) + v
        else:
            out[k] = v
print(json.dumps(out))' "$@"
}

# hold_open NAME N: N connections (one request each) held by a new holder; waits until all are
# answered and offloaded; sets OFFLOADED to the flows_offloaded reached.  (Not in a $(...): the
# holder's pid goes to HOLDPIDS for the signals.)
hold_open() {
	local line held base
	base=$(stat_of flows_offloaded)
	ip netns exec "$P-c1" "$BUILD/bench/connrate" "$S1" 11111 --hold "$2" -c "$CONC" -T 10000 \
		-p "$T/clients_$1.txt" >"$T/hold_$1.out" 2>>"$T/connrate.err" &
	HOLDPIDS+=" $!"
	wait_for 300 hold_line held "$1" >/dev/null || echo "bench: holder $1 did not finish opening" >&2
	line=$(hold_line held "$1")
	held=$(jf "$line" held)
	echo "  holder $1: $held of $2 connections open, one request each ($(jf "$line" failures) failed) in $(jf "$line" secs) s" >&2
	wait_for 30 offloaded_ge $((base + ${held:-0})) || echo "bench: not every held flow was offloaded" >&2
	OFFLOADED=$(stat_of flows_offloaded)
}

flows_phase() {
	local off_mid off chk mig s0 s1 half=$((NFLOWS / 2))
	gw_on fast
	sleep 1 # settled: what it holds before any flow
	rec mem.before "$(python3 "$ROOT/bench/memsnap.py" "$GWPID")"
	hold_open a "$half"
	off_mid=$OFFLOADED
	sleep 0.5
	rec mem.mid "$(python3 "$ROOT/bench/memsnap.py" "$GWPID")"
	hold_open b $((NFLOWS - half))
	off=$OFFLOADED
	sleep 0.5
	rec mem.after "$(python3 "$ROOT/bench/memsnap.py" "$GWPID")"
	rec flows.offloaded "$off_mid $off"
	rec flows.held "$(merge_lines "$(hold_line held a)" "$(hold_line held b)")"
	echo "  flows_offloaded $off_mid with the first holder, $off with both; memory snapshots taken" >&2

	s0=$(stats)
	mig=$(cat "$T/clients_a.txt" "$T/clients_b.txt" |
		"$BUILD/bench/migrate_many" "$T/ctl.sock" "$S2:11111" -c "$MIGCONC")
	s1=$(stats)
	rec flows.migrate "$mig"
	rec flows.counters "$(sdelta "$s0" "$s1" migrations_committed migrations_rolled_back \
		fast_takebacks fast_offloads | tr '\n' ' ')"
	echo "  mass handoff: $mig" >&2
	wait_for 10 offloaded_ge "$off" || echo "bench: not every handed-off flow was offloaded again" >&2
	rec flows.reoffloaded "$(stat_of flows_offloaded)"

	# shellcheck disable=SC2086 # a list of pids
	kill -USR1 $HOLDPIDS 2>/dev/null
	wait_for 120 hold_line checked a >/dev/null && wait_for 120 hold_line checked b >/dev/null ||
		echo "bench: the check requests did not finish" >&2
	chk=$(merge_lines "$(hold_line checked a)" "$(hold_line checked b)")
	rec flows.check "$chk"
	echo "  afterwards: $(jf "$chk" answered) answered again, by $(jf "$chk" servers)" >&2
	# shellcheck disable=SC2086
	kill $HOLDPIDS 2>/dev/null
	# shellcheck disable=SC2086
	wait $HOLDPIDS 2>/dev/null
	HOLDPIDS=
	wait_for 5 offloaded_zero || true # the FINs take the flows back: a stop then leaves none behind
	gw_off
}
