#!/usr/bin/env bash
# Run one libFuzzer binary for N seconds from its seed corpus; print one TAP line.
set -uo pipefail
bin=$1 secs=${2:-10}
name=$(basename "$bin")
corpus=build/fuzz/corpus/$name
mkdir -p "$corpus"
seeds=tests/fuzz/corpus/${name#fuzz_}
dirs=("$corpus")
[[ -d $seeds ]] && dirs+=("$seeds")
if "$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix=build/fuzz/ "${dirs[@]}" >build/fuzz/$name.out 2>&1; then
	runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' build/fuzz/$name.out | grep -Eo '[0-9]+$')
	echo "ok 1 - $name ran ${secs}s, ${runs:-?} inputs, no sanitizer report"
else
	tail -40 build/fuzz/$name.out | sed 's/^/# /'
	echo "not ok 1 - $name found a crash (see build/fuzz/$name.out)"
fi
