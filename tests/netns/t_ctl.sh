#!/usr/bin/env bash
# tcpmigctl against a fake tcpmigd: tables, -j, argument checks, exit codes, broken answers.
#
#     tcpmigctl -S DIR/<mode>.sock ...
#         |  one request line ("migrate 3 10.0.0.2:11111\n")
#         v
#     tests/ctl/fake_tcpmigd.py DIR      one unix socket per answer mode (normal, slow,
#         |                              malformed, truncated, oversized, ...); it stores
#         |  canned JSON, then close      the request it got in DIR/<mode>.req and its
#         v                              answer in DIR/<mode>.ans
#     stdout / stderr / exit code of tcpmigctl, compared exactly
#
# No namespaces: the control socket is all tcpmigctl talks to.  Builds nothing: run
# `make all` first.  Tests build/tcpmigctl, and build-san/tcpmigctl too when it exists;
# TCPMIGCTL=path tests only that binary.
set -uo pipefail
cd "$(dirname "$0")/../.."

n=0 failed=0
pass() { echo "ok $((++n)) - $1"; }
flunk() {
	echo "not ok $((++n)) - $1"
	failed=$((failed + 1))
}
# Show a multi-line text as TAP comments.
diag() { sed 's/^/#   /' <<<"$1"; }

if [[ -n ${TCPMIGCTL:-} ]]; then
	BINS=("$TCPMIGCTL")
else
	BINS=(build/tcpmigctl)
	[[ -x build-san/tcpmigctl ]] && BINS+=(build-san/tcpmigctl)
fi
if [[ ! -x ${BINS[0]} ]]; then
	flunk "${BINS[0]} exists (run 'make all' first)"
	exit 1
fi

DIR=$(mktemp -d /tmp/tcpmigctl-test.XXXXXX) # short: unix socket paths have 107 bytes
python3 tests/ctl/fake_tcpmigd.py "$DIR" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; wait $FAKE 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do
	[[ -e $DIR/ready ]] && break
	sleep 0.1
done
if [[ ! -e $DIR/ready ]]; then
	flunk "fake tcpmigd started"
	exit 1
fi

# Sanitizer reports must not pass for the exit codes we expect.
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
unset TCPMIG_SOCK

# run ARGS...: runs $CTL, sets RC, OUT, ERR.
run() {
	"$CTL" "$@" >"$DIR/out" 2>"$DIR/err"
	RC=$?
	OUT=$(<"$DIR/out")
	ERR=$(<"$DIR/err")
}

# check NAME RC STDOUT STDERR: exact comparison of the last run (trailing newlines aside).
check() {
	local name="[$TAG] $1" rc=$2 out=$3 err=$4
	if [[ $RC == "$rc" && $OUT == "$out" && $ERR == "$err" ]]; then
		pass "$name"
		return
	fi
	flunk "$name"
	echo "#   exit $RC, want $rc"
	[[ $OUT == "$out" ]] || { echo "#   stdout:"; diag "$OUT"; echo "#   want:"; diag "$out"; }
	[[ $ERR == "$err" ]] || { echo "#   stderr:"; diag "$ERR"; echo "#   want:"; diag "$err"; }
}

# check_req NAME MODE LINE: the fake daemon got exactly LINE plus '\n' on MODE.sock.
check_req() {
	if printf '%s\n' "$3" | cmp -s - "$DIR/$2.req"; then
		pass "[$TAG] $1: request was '$3'"
	else
		flunk "[$TAG] $1: request was '$3'"
		diag "got: $(od -c "$DIR/$2.req" | head -5)"
	fi
}

# check_json NAME MODE: stdout is one valid JSON value equal to what MODE.sock sent.
check_json() {
	if python3 -c 'import json, sys
a = json.loads(open(sys.argv[1], "rb").read())
b = json.loads(open(sys.argv[2], "rb").read())
sys.exit(a != b)' "$DIR/out" "$DIR/$2.ans" 2>"$DIR/pyerr"; then
		pass "[$TAG] $1: -j output is the daemon's JSON"
	else
		flunk "[$TAG] $1: -j output is the daemon's JSON"
		diag "$(head -c 500 "$DIR/out"; cat "$DIR/pyerr")"
	fi
}

# Usage errors must not even try to connect: this socket does not exist (it would be exit 3).
NOSOCK=$DIR/nothing-here.sock
USAGE="Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] COMMAND [ARGS]
Try 'tcpmigctl --help' for the commands."
U_FLOW="Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] flow ID|CLIENT"
U_MIGRATE="Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] migrate ID|CLIENT --to ADDR:PORT"

FLOWS_TABLE="ID  CLIENT               SERVICE            BACKEND               STATE        PATH  BYTES(c>s)  BYTES(s>c)  MIGR
 3  10.0.0.9:40000       10.0.0.1:80        10.0.1.1:8080         established  fast        1.2M         512     1
 4  10.0.0.10:40002      10.0.0.1:80        10.0.1.2:8080         closing      slow        1.0M         10K     0
17  [2001:db8::9]:40001  [2001:db8::1]:443  [2001:db8:1::2]:8443  established  fast           0         16E    12"
FLOW3="id: 3
client: 10.0.0.9:40000
service: 10.0.0.1:80
backend: 10.0.1.1:8080
state: established
path: fast
migrating: false
bytes_c2s: 1234567
bytes_s2c: 512
pkts_c2s: 1003
pkts_s2c: 2003
migrations: 1
rollbacks: 0
age_ms: 5000
idle_ms: 20
last_error: -"
FLOW17="id: 17
client: [2001:db8::9]:40001
service: [2001:db8::1]:443
backend: [2001:db8:1::2]:8443
state: established
path: fast
migrating: true
bytes_c2s: 0
bytes_s2c: 18446744073709551615
pkts_c2s: 1017
pkts_s2c: 2017
migrations: 12
rollbacks: 2
age_ms: 5000
idle_ms: 20
last_error: target-refused"
STATS="a_first 0
bytes_total 18446744073709551615
flows_active 3
handoff_timeouts 1
migrations_ok 5
rollbacks 2"

suite() {
	local S=$DIR/normal.sock

	# --- help ---------------------------------------------------------------------
	run --help
	local help=$OUT
	if [[ $RC == 0 && -z $ERR && $help == "Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] COMMAND [ARGS]"* ]]; then
		pass "[$TAG] --help: usage on stdout, exit 0"
	else
		flunk "[$TAG] --help: usage on stdout, exit 0"
		diag "$help$ERR"
	fi
	run -h
	check "-h is --help" 0 "$help" ""
	run help
	check "help is --help" 0 "$help" ""

	# --- the normal answers -------------------------------------------------------
	run -S "$S" flows
	check "flows table" 0 "$FLOWS_TABLE" ""
	check_req "flows" normal "flows"
	run -j -S "$S" flows
	check_json "flows" normal
	[[ $RC == 0 && -z $ERR ]] && pass "[$TAG] flows -j: exit 0, quiet" || flunk "[$TAG] flows -j: exit 0, quiet"

	run -S "$S" flow 3
	check "flow by id" 0 "$FLOW3" ""
	check_req "flow by id" normal "flow 3"
	run -S "$S" flow 10.0.0.9:40000
	check "flow by IPv4 client" 0 "$FLOW3" ""
	check_req "flow by IPv4 client" normal "flow 10.0.0.9:40000"
	run -S "$S" flow '[2001:db8::9]:40001'
	check "flow by IPv6 client" 0 "$FLOW17" ""
	check_req "flow by IPv6 client" normal "flow [2001:db8::9]:40001"
	run -S "$S" flow '[2001:0db8:0::9]:040001'
	check "flow by IPv6 client, non-canonical" 0 "$FLOW17" ""
	check_req "flow, non-canonical client" normal "flow [2001:db8::9]:40001"
	run --json --socket "$S" flow 17
	check_json "flow" normal
	run -S "$S" flow 99
	check "flow unknown: ok:false" 1 "" "tcpmigctl: flow failed: no such flow (unknown-flow)"

	run -S "$S" migrate 3 --to 10.0.0.2:11111
	check "migrate committed" 0 \
		"migrated flow 3 from 10.0.1.1:8080 to 10.0.0.2:11111 in 1.234 ms" ""
	check_req "migrate" normal "migrate 3 10.0.0.2:11111"
	run -S "$S" migrate --to='[2001:db8:1::3]:8443' '[2001:db8::9]:40001'
	check "migrate by IPv6 client, --to=" 0 \
		"migrated flow 17 from [2001:db8:1::2]:8443 to [2001:db8:1::3]:8443 in 1.234 ms" ""
	check_req "migrate by IPv6 client" normal "migrate [2001:db8::9]:40001 [2001:db8:1::3]:8443"
	run -S "$S" migrate 3 --to 10.0.0.3:80
	check "migrate refused: exit 1, reason" 1 "" \
		"tcpmigctl: migrate failed: target answered the handoff SYN with RST (target-refused)"
	check_req "migrate refused" normal "migrate 3 10.0.0.3:80"
	run -j -S "$S" migrate 3 --to 10.0.0.3:80
	check_json "migrate refused" normal
	[[ $RC == 1 && $ERR == "tcpmigctl: migrate failed: target answered the handoff SYN with RST (target-refused)" ]] &&
		pass "[$TAG] migrate -j refused: exit 1, reason on stderr" ||
		flunk "[$TAG] migrate -j refused: exit 1, reason on stderr"
	run -j -S "$S" migrate 3 --to 10.0.0.2:11111
	check_json "migrate" normal

	run -S "$S" stats
	check "stats sorted" 0 "$STATS" ""
	check_req "stats" normal "stats"
	run -j -S "$S" stats
	check_json "stats" normal
	run -S "$S" version
	check "version" 0 "tcpmigctl 0.1
tcpmigd 0.1" ""
	check_req "version" normal "version"
	run -j -S "$S" version
	check_json "version" normal

	TCPMIG_SOCK=$S run version
	check "TCPMIG_SOCK picks the socket" 0 "tcpmigctl 0.1
tcpmigd 0.1" ""
	TCPMIG_SOCK=$NOSOCK run -S "$S" version
	check "-S beats TCPMIG_SOCK" 0 "tcpmigctl 0.1
tcpmigd 0.1" ""
	if [[ ! -e /run/tcpmigd.sock ]]; then
		run version
		check "default socket" 3 "" \
			"tcpmigctl: cannot reach tcpmigd at /run/tcpmigd.sock: No such file or directory"
	fi

	run -S "$DIR/pretty.sock" flows
	check "multi-line JSON answer" 0 "$FLOWS_TABLE" ""
	run -j -S "$DIR/pretty.sock" flow 3
	check_json "multi-line JSON" pretty

	# --- usage errors: exit 2, nothing sent -----------------------------------------
	run -S "$NOSOCK" frobnicate
	check "unknown command" 2 "" "tcpmigctl: unknown command 'frobnicate'
$USAGE"
	run -S "$NOSOCK"
	check "missing command" 2 "" "tcpmigctl: missing COMMAND
$USAGE"
	run -x flows
	check "unknown option" 2 "" "tcpmigctl: unknown option '-x'
$USAGE"
	run --bogus flows
	check "unknown long option" 2 "" "tcpmigctl: unknown option '--bogus'
$USAGE"
	run flows -S
	check "option after the command" 2 "" "tcpmigctl: flows: option '-S' must come before the command
Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] flows"
	run -S
	check "-S without argument" 2 "" "tcpmigctl: option '-S' needs an argument
$USAGE"
	run --timeout
	check "--timeout without argument" 2 "" "tcpmigctl: option '--timeout' needs an argument
$USAGE"
	run -t 0 flows
	check "bad timeout" 2 "" "tcpmigctl: bad timeout '0': want seconds, more than 0 and at most 86400
$USAGE"
	run -S "" flows
	check "empty socket path" 2 "" "tcpmigctl: bad socket path '': empty
$USAGE"
	run -S "$NOSOCK" flows extra
	check "flows with an extra argument" 2 "" "tcpmigctl: flows: unexpected argument 'extra'
Usage: tcpmigctl [-j] [-S SOCKET] [-t SECS] flows"
	run -S "$NOSOCK" flow
	check "flow without ID" 2 "" "tcpmigctl: flow: missing ID|CLIENT
$U_FLOW"
	run -S "$NOSOCK" flow 3 4
	check "flow with two IDs" 2 "" "tcpmigctl: flow: unexpected argument '4'
$U_FLOW"
	run -S "$NOSOCK" flow 3x
	check "flow with a bad ID" 2 "" "tcpmigctl: bad flow '3x': want a flow ID or the client's ADDR:PORT (missing :PORT)
$U_FLOW"
	run -S "$NOSOCK" flow 10.0.0.256:80
	check "flow with a bad IPv4 client" 2 "" "tcpmigctl: bad flow '10.0.0.256:80': want a flow ID or the client's ADDR:PORT (not an IPv4 address)
$U_FLOW"
	run -S "$NOSOCK" flow 2001:db8::9:40001
	check "flow with an IPv6 client without brackets" 2 "" "tcpmigctl: bad flow '2001:db8::9:40001': want a flow ID or the client's ADDR:PORT (IPv6 addresses need brackets, as in [2001:db8::1]:80)
$U_FLOW"
	run -S "$NOSOCK" flow -1
	check "flow with a negative ID" 2 "" "tcpmigctl: flow: unknown option '-1'
$U_FLOW"
	run -S "$NOSOCK" migrate 3 --to 10.0.0.2
	check "bad --to: no port" 2 "" "tcpmigctl: bad --to '10.0.0.2': missing :PORT
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to 10.0.0.2:65536
	check "bad --to: port too big" 2 "" "tcpmigctl: bad --to '10.0.0.2:65536': port above 65535
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to '[::1]:0'
	check "bad --to: port 0" 2 "" "tcpmigctl: bad --to '[::1]:0': port 0
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to backend1:80
	check "bad --to: a name" 2 "" "tcpmigctl: bad --to 'backend1:80': not an IPv4 address
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3
	check "migrate without --to" 2 "" "tcpmigctl: migrate: missing --to ADDR:PORT
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to
	check "--to without value" 2 "" "tcpmigctl: migrate: option '--to' needs ADDR:PORT
$U_MIGRATE"
	run -S "$NOSOCK" migrate --to 10.0.0.2:1
	check "migrate without ID" 2 "" "tcpmigctl: migrate: missing ID|CLIENT
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to 10.0.0.2:1 --to 10.0.0.2:2
	check "two --to" 2 "" "tcpmigctl: migrate: '--to' given twice
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 4 --to 10.0.0.2:1
	check "migrate with two IDs" 2 "" "tcpmigctl: migrate: unexpected argument '4'
$U_MIGRATE"
	run -S "$NOSOCK" migrate 3 --to 10.0.0.2:1 --force
	check "migrate with an unknown option" 2 "" "tcpmigctl: migrate: unknown option '--force'
$U_MIGRATE"

	# --- daemon unreachable: exit 3 -------------------------------------------------
	run -S "$NOSOCK" flows
	check "no socket" 3 "" "tcpmigctl: cannot reach tcpmigd at $NOSOCK: No such file or directory"
	run -S "$DIR/dead.sock" migrate 3 --to 10.0.0.2:11111
	check "nobody listening" 3 "" "tcpmigctl: cannot reach tcpmigd at $DIR/dead.sock: Connection refused"
	run -S "$DIR" flows
	check "not a socket" 3 "" "tcpmigctl: cannot reach tcpmigd at $DIR: Connection refused"

	# --- bad answers: exit 1, never a crash -----------------------------------------
	run -S "$DIR/malformed.sock" flows
	check "malformed answer" 1 "" "tcpmigctl: malformed answer from tcpmigd: not JSON: quoted member name expected at byte 28"
	run -j -S "$DIR/malformed.sock" flows
	check "malformed answer, -j prints nothing" 1 "" "tcpmigctl: malformed answer from tcpmigd: not JSON: quoted member name expected at byte 28"
	run -S "$DIR/truncated.sock" flows
	check "truncated answer" 1 "" "tcpmigctl: malformed answer from tcpmigd: truncated: the JSON ends early ($(stat -c %s "$DIR/truncated.ans") bytes)"
	run -S "$DIR/truncated.sock" migrate 3 --to 10.0.0.2:11111
	check "truncated migrate answer" 1 "" "tcpmigctl: malformed answer from tcpmigd: truncated: the JSON ends early ($(stat -c %s "$DIR/truncated.ans") bytes)"
	run -S "$DIR/oversized.sock" flows
	check "oversized answer" 1 "" "tcpmigctl: answer from tcpmigd is larger than 16 MiB; giving up"
	run -S "$DIR/empty.sock" stats
	check "no answer at all" 1 "" "tcpmigctl: tcpmigd closed the connection without answering"
	run -S "$DIR/trailing.sock" version
	check "two objects" 1 "" "tcpmigctl: malformed answer from tcpmigd: not JSON: trailing data after the first value at byte 28"
	run -S "$DIR/notobject.sock" version
	check "array answer" 1 "" "tcpmigctl: malformed answer from tcpmigd: not a JSON object"
	run -S "$DIR/noreason.sock" version
	check "ok:false without error and reason" 1 "" "tcpmigctl: version failed: tcpmigd gave no error text (no reason)"
	run -S "$DIR/badtypes.sock" flows
	check "flow id of the wrong type" 1 "" "tcpmigctl: malformed answer from tcpmigd: flows[0].id has the wrong type"
	run -S "$DIR/badtypes.sock" stats
	check "ok answer without payload" 1 "" "tcpmigctl: malformed answer from tcpmigd: no \"stats\" object"
	run -S "$DIR/badtypes.sock" migrate 3 --to 10.0.0.2:11111
	check "migrate ok without details: still exit 0" 0 "migrated flow 3 to 10.0.0.2:11111" \
		"tcpmigctl: warning: tcpmigd reported success, but no \"flow\" object with an \"id\""
	run -S "$DIR/escape.sock" flows
	check "terminal escapes from the daemon are defused" 1 "" \
		'tcpmigctl: flows failed: evil\x1b[31mred\x07 (internal)'

	# --- slow answers ----------------------------------------------------------------
	run -S "$DIR/slow.sock" -t 0.5 flows
	check "slow answer, short timeout" 1 "" "tcpmigctl: no answer from tcpmigd at $DIR/slow.sock within 0.5 s"
	run -S "$DIR/slow.sock" -t 0.5 migrate 3 --to 10.0.0.2:11111
	check "slow migrate, short timeout" 1 "" "tcpmigctl: no answer from tcpmigd at $DIR/slow.sock within 0.5 s
tcpmigctl: the handoff may still commit or roll back; see 'tcpmigctl flow'"
	run -S "$DIR/slow.sock" migrate 3 --to 10.0.0.2:11111
	check "slow migrate, default timeout" 0 \
		"migrated flow 3 from 10.0.1.1:8080 to 10.0.0.2:11111 in 1.234 ms" ""
}

# --help and the man page describe the same commands, options, defaults and exit codes.
help_vs_man() {
	local man=docs/tcpmigctl.8 name="man page matches --help" text help tok exits missing=()
	if [[ ! -f $man ]]; then
		flunk "$man exists"
		return
	fi
	if ! command -v groff >/dev/null; then
		echo "ok $((++n)) - $name # SKIP groff not installed"
		return
	fi
	if groff -ww -z -man "$man" 2>&1 | grep -q .; then
		flunk "$man renders without groff warnings"
		diag "$(groff -ww -z -man "$man" 2>&1)"
	else
		pass "$man renders without groff warnings"
	fi
	text=$(groff -man -Tascii -P-cbou -rLL=300n "$man" 2>/dev/null)
	help=$("${BINS[0]}" --help)
	# "  flow ID|CLIENT   show one..." -> "flow ID|CLIENT"; "  -S, --socket SOCKET  ..." -> "-S", "--socket SOCKET"
	while read -r tok; do
		[[ -z $tok ]] || grep -qF -- "$tok" <<<"$text" || missing+=("'$tok'")
	done < <(sed -nE 's/^  ([a-z-][^ ]*( [^ ]+)*)  .*/\1/p' <<<"$help" | tr ',' '\n' | sed 's/^ *//')
	for tok in /run/tcpmigd.sock TCPMIG_SOCK "Default: 30" "16 MiB"; do
		grep -qF -- "$tok" <<<"$text" || missing+=("'$tok'")
	done
	grep -qF "default: 30)" <<<"$help" || missing+=("--help: default: 30")
	grep -qF "Exit status: 0 success; 1 tcpmigd refused" <<<"$help" || missing+=("--help: exit 0/1")
	grep -qF "2 usage error; 3 tcpmigd unreachable." <<<"$help" || missing+=("--help: exit 2/3")
	exits=$(awk '/^EXIT STATUS/ { f = 1; next } /^[A-Z]/ { f = 0 } f && /^ +[0-9] / { print $1 }' <<<"$text" |
		tr '\n' ' ')
	[[ $exits == "0 1 2 3 " ]] || missing+=("man EXIT STATUS 0 1 2 3 (got '$exits')")
	if [[ ${#missing[@]} -eq 0 ]]; then
		pass "$name"
	else
		flunk "$name"
		diag "missing: ${missing[*]}"
	fi
}

for CTL in "${BINS[@]}"; do
	TAG=${CTL%%/*}
	suite
done
help_vs_man

echo "1..$n"
[[ $failed -eq 0 ]]
