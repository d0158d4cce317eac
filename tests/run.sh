#!/usr/bin/env bash
# Runs every test of tcpmig as TAP producers and prints "N passed, N failed, N skipped".
#   unit + property tests (plain and ASan/UBSan builds), brief libFuzzer runs, netns end-to-end tests.
# TESTS=unit|fuzz|netns (comma list) limits what runs; NETNS_FILTER=regex picks netns scripts.
set -uo pipefail
cd "$(dirname "$0")/.."

WHAT=${TESTS:-unit,fuzz,netns}
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed_names=()

# Run one TAP producer; count its ok / not ok / skip lines.
run_tap() {
	local name=$1
	shift
	local log="$LOGDIR/${name//\//_}.log" rc p f s
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -E '^ok [0-9]+' "$log" | grep -vc '# SKIP' || true)
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log" || true)
	f=$(grep -cE '^not ok [0-9]+' "$log" || true)
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1 # crashed or exited non-zero without saying why: that is a failure too
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [[ $f -gt 0 ]]; then
		failed_names+=("$name")
		printf 'FAIL  %-40s %3d passed, %d failed (log: %s)\n' "$name" "$p" "$f" "$log"
		grep -E '^(not ok|#)' "$log" | head -20 | sed 's/^/      /'
	else
		printf 'ok    %-40s %3d passed%s\n' "$name" "$p" "$([[ $s -gt 0 ]] && echo ", $s skipped")"
	fi
}

if [[ ",$WHAT," == *,unit,* ]]; then
	for b in build/tests/test_*; do
		[[ -x $b ]] && run_tap "unit/$(basename "$b")" "$b"
	done
	run_tap "unit/bpf_compile" bash -c 'mkdir -p build/tests &&
		clang -O2 -target bpf -Wall -Werror -Iinclude -I/usr/include/$(gcc -dumpmachine) \
			-c tests/unit/bpf_compile.c -o build/tests/bpf_compile.o &&
		echo "ok 1 - xlate.h/tcpopt.h/csum.h compile for -target bpf" ||
		echo "not ok 1 - xlate.h does not compile for -target bpf"'
	for b in build-san/tests/test_*; do
		[[ -x $b ]] && run_tap "asan/$(basename "$b")" env ASAN_OPTIONS=detect_leaks=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$b"
	done
fi

if [[ ",$WHAT," == *,fuzz,* ]]; then
	for b in build/fuzz/fuzz_*; do
		[[ -x $b ]] && run_tap "fuzz/$(basename "$b")" tests/fuzz/run-one.sh "$b" "${FUZZ_SECONDS:-10}"
	done
fi

if [[ ",$WHAT," == *,netns,* ]]; then
	for t in tests/netns/t_*.sh; do
		[[ -f $t ]] || continue
		[[ -n ${NETNS_FILTER:-} && ! $t =~ $NETNS_FILTER ]] && continue
		run_tap "netns/$(basename "$t" .sh)" timeout -k 10 "${NETNS_TIMEOUT:-300}" bash "$t"
	done
	# The gateway tests again with the eBPF fast path on (t_fast and t_iperf are fast-path-only;
	# t_lab and t_ctl test no gateway).  Each asserts that the kernel translated packets.
	for t in ${FAST_NETNS_TESTS:-tests/netns/t_handoff.sh tests/netns/t_boundary.sh tests/netns/t_many.sh tests/netns/t_bulk.sh tests/netns/t_bulk6.sh tests/netns/t_options.sh tests/netns/t_rules.sh tests/netns/t_loss.sh tests/netns/t_hostile.sh tests/netns/t_stop.sh}; do
		[[ -f $t ]] || continue
		[[ -n ${NETNS_FILTER:-} && ! $t =~ $NETNS_FILTER ]] && continue
		run_tap "netns-fast/$(basename "$t" .sh)" env TCPMIG_FASTPATH=on \
			timeout -k 10 "${NETNS_TIMEOUT:-300}" bash "$t"
	done
	# The daemon under ASan+UBSan on the handoff and hostile-packet paths.
	if [[ -x build-san/tcpmigd ]]; then
		for t in ${SAN_NETNS_TESTS:-tests/netns/t_handoff.sh tests/netns/t_hostile.sh tests/netns/t_rules.sh tests/netns/t_fast.sh tests/netns/t_iperf.sh}; do
			[[ -f $t ]] || continue
			[[ -n ${NETNS_FILTER:-} && ! $t =~ $NETNS_FILTER ]] && continue
			run_tap "netns-asan/$(basename "$t" .sh)" env TCPMIGD="$PWD/build-san/tcpmigd" \
				ASAN_OPTIONS=detect_leaks=1 timeout -k 10 "${NETNS_TIMEOUT:-300}" bash "$t"
		done
	fi
fi

echo
[[ ${#failed_names[@]} -gt 0 ]] && echo "failed: ${failed_names[*]}"
if [[ $skip -gt 0 ]]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[[ $fail -eq 0 ]]
