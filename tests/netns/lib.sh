# Shared helpers for the netns end-to-end tests: TAP output, a private lab, tcpmigd, cleanup.
# Source it; every test gets its own namespace prefix and temp dir, removed by a trap even on failure.
# shellcheck shell=bash
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${TCPMIG_BUILD:-$ROOT/build}
LAB="$ROOT/lab/tcpmig-lab"
TCPMIGD=${TCPMIGD:-$BUILD/tcpmigd} # TCPMIGD=build-san/tcpmigd runs the daemon under ASan+UBSan
TCPMIGCTL="$BUILD/tcpmigctl"
DEMO_SERVER="$BUILD/lab/demo_server"
DEMO_CLIENT="$BUILD/lab/demo_client"

name=$(basename "$0" .sh)
name=${name#t_}
P="t${name//[^a-z0-9]/}"
P="${P:0:8}$$"
P="${P:0:20}"
T=$(mktemp -d "/tmp/tcpmig-$name.XXXXXX")
CTL_SOCK="$T/ctl.sock"
GW_PID=
tap_n=0
tap_fail=0
_bg_pids=()

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_fail=$((tap_fail + 1))
	echo "not ok $tap_n - $*"
}

# check "description" command args...: one TAP line from a command's exit status.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# is "description" got want
is() {
	if [[ "$2" == "$3" ]]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}

diag() {
	echo "# $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bg() { # run in background, remember the pid for cleanup
	"$@" &
	_bg_pids+=($!)
}

cleanup() {
	local rc=$?
	for p in "${_bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	gw_stop >/dev/null 2>&1
	"$LAB" down --prefix "$P" >/dev/null 2>&1
	umount "$T/bpffs" 2>/dev/null # t_fast pins fast path maps there
	if [[ $tap_fail -gt 0 || $rc -ne 0 ]] && [[ -f $T/gw.log ]]; then
		echo "# --- tcpmigd log (last 30 lines)"
		tail -30 "$T/gw.log" | sed 's/^/# /'
		[[ -s $T/fast-counters.txt ]] && sed 's/^/# counters at stop: /' "$T/fast-counters.txt"
	fi
	[[ -n ${KEEP_T:-} ]] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up() { # lab_up [--servers N] [--clients M]
	"$LAB" up --prefix "$P" "$@" >"$T/lab.log" 2>&1 || {
		cat "$T/lab.log" | sed 's/^/# /'
		echo "Bail out! lab did not come up"
		exit 1
	}
	eval "$("$LAB" env --prefix "$P")"
}

nsx() { # nsx HOST cmd...   (HOST: gw, c1, s2, ...)
	local h=$1
	shift
	ip netns exec "$P-$h" "$@"
}

# gw_start CONFIG_TEXT [tcpmigd options]: start tcpmigd in the gateway, wait for its socket.
# TCPMIG_FASTPATH=on|off adds "fast-path on|off" (tests/run.sh runs the gateway tests both ways).
gw_start() {
	local conf=$1
	shift
	[[ -n ${TCPMIG_FASTPATH:-} ]] && conf+=$'\n'"fast-path $TCPMIG_FASTPATH"
	printf '%s\n' "$conf" >"$T/tcpmigd.conf"
	# gw.log may hold an earlier daemon's lines: wait for this one's "running:" (its rules are
	# installed by then; its socket exists before that).
	local runs
	runs=$(grep -c "running:" "$T/gw.log" 2>/dev/null)
	ip netns exec "$LAB_GW_NS" "$TCPMIGD" -c "$T/tcpmigd.conf" -S "$CTL_SOCK" "$@" \
		>>"$T/gw.log" 2>&1 &
	GW_PID=$!
	for _ in $(seq 100); do
		[[ -S $CTL_SOCK ]] && (($(grep -c "running:" "$T/gw.log") > ${runs:-0})) && return 0
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! tcpmigd did not start"
	sed 's/^/# /' "$T/gw.log"
	exit 1
}

_fast_xl=0 _fast_off=0 # what the kernel did while the daemons of this test ran (fast path on)
gw_stop() { # clean stop (SIGTERM), wait for exit
	[[ -n $GW_PID ]] || return 0
	if [[ ${TCPMIG_FASTPATH:-} == on ]] && kill -0 "$GW_PID" 2>/dev/null; then
		local st x o rest
		# Translated packets, offloads, then every non-zero fast-path counter (cleanup prints
		# those for a failure's diagnosis).
		st=$(ctl -j stats 2>/dev/null) &&
			read -r x o rest < <(jget "$st" "' '.join([str(d['stats'].get('fast_translated', 0)), str(d['stats'].get('fast_offloads', 0))] + ['%s=%d' % (k, v) for k, v in d['stats'].items() if v and (k.startswith('fast_') or k in ('migrations_rolled_back', 'bad_ack', 'pkts_dropped_spoofed'))])") &&
			_fast_xl=$((_fast_xl + x)) _fast_off=$((_fast_off + o)) &&
			echo "$rest" >>"$T/fast-counters.txt"
	fi
	kill -TERM "$GW_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.05
	done
	gw_kill
}

gw_kill() { # SIGKILL, no clean-up by the daemon (its rules, fast path and maps stay)
	[[ -n $GW_PID ]] || return 0
	kill -KILL "$GW_PID" 2>/dev/null
	wait "$GW_PID" 2>/dev/null
	GW_PID=
}

# gw_restart LOGNAME CONFIG_TEXT: a new daemon after a stop or kill; the former one's log is kept
# as gw.LOGNAME.log.
gw_restart() {
	mv "$T/gw.log" "$T/gw.$1.log"
	rm -f "$CTL_SOCK"
	gw_start "$2"
}

ctl() {
	"$TCPMIGCTL" -S "$CTL_SOCK" "$@"
}

# jget JSON_TEXT python-expression-on-d: e.g. jget "$(ctl -j stats)" 'd["stats"]["pkts_in"]'
jget() { # the JSON goes through stdin: a big answer does not fit in argv
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" <<<"$1"
}

stat_of() { # stat_of COUNTER
	jget "$(ctl -j stats)" "d['stats']['$1']"
}

# The client port of the (single) connection from client ns HOST to PORT.
client_port() {
	local h=$1 port=$2
	for _ in $(seq 100); do
		local p
		p=$(nsx "$h" ss -tnH state established "dport = :$port" | awk '{n=split($3,a,":"); print a[n]}' | head -1)
		[[ -n $p ]] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}

done_testing() {
	gw_stop >/dev/null 2>&1
	# A fast-path run that left everything to the slow path would prove nothing about the kernel.
	if [[ ${TCPMIG_FASTPATH:-} == on ]]; then
		if [[ $_fast_xl -gt 0 && $_fast_off -gt 0 ]]; then
			ok "fast path: the kernel translated $_fast_xl packets ($_fast_off offloads)"
		else
			not_ok "fast path: the kernel translated packets ($_fast_xl packets, $_fast_off offloads)"
		fi
		# Every take-back found its flow's entries free of program runs within the bound.
		if grep -q 'fast_takeback_stuck=' "$T/fast-counters.txt" 2>/dev/null; then
			not_ok "fast path: no take-back gave up waiting for program runs"
		else
			ok "fast path: no take-back gave up waiting for program runs"
		fi
	fi
	if [[ -f $T/gw.log ]]; then
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/gw.log"; then
			not_ok "tcpmigd: no sanitizer report"
			grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/gw.log" | head -40 | sed 's/^/# /'
		elif [[ $TCPMIGD == *build-san* ]]; then
			ok "tcpmigd (ASan+UBSan build): no sanitizer report"
		fi
	fi
	echo "1..$tap_n"
	[[ $tap_fail -eq 0 ]]
}

[[ $(id -u) -eq 0 ]] || skip_all "needs root (network namespaces)"
[[ -x $TCPMIGD ]] || { echo "Bail out! $TCPMIGD not built (make all)"; exit 1; }
