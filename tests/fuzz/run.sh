#!/usr/bin/env bash
# `make fuzz`: run every libFuzzer target in build/fuzz for $1 seconds (default 60) from its seed
# corpus (tests/fuzz/corpus/<name>/) via run-one.sh; TAP out, non-zero exit when one crashes.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
n=0 fail=0
for b in build/fuzz/fuzz_*; do
	[[ -x $b && $b != *.out ]] || continue
	n=$((n + 1))
	line=$(tests/fuzz/run-one.sh "$b" "$secs")
	printf '%s\n' "$line" | sed "s/^\(not \)\{0,1\}ok 1 /\1ok $n /"
	[[ $line == *"not ok"* ]] && fail=$((fail + 1))
done
echo "1..$n"
[[ $n -gt 0 ]] || { echo "# no fuzzers in build/fuzz: run 'make fuzzers'"; exit 1; }
[[ $fail -eq 0 ]]
