#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run every libFuzzer target of a -Dfuzz=true build for a while (make fuzz):
#   tests/fuzz/run.sh <build dir> [seconds per target, default 30]
#
# Seeds are read from tests/fuzz/corpus/<name>/ (if there is one) and never written. New
# inputs go to tests/fuzz/corpus-run/<name>/ and crash inputs to tests/fuzz/corpus-run/crashes/,
# which are not committed: copy a crash into corpus/<name>/ once fixed, as a regression seed.
# Fails if a target finds a problem, or if there is no target to run.
set -euo pipefail

build=${1:?usage: $0 <build dir> [seconds per target]}
secs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
crashes=$here/corpus-run/crashes
ran=0
failed=()

mkdir -p "$crashes"
for exe in "$build"/tests/fuzz/fuzz_*; do
	# skip meson's object directories (fuzz_x.p/)
	[ -f "$exe" ] && [ -x "$exe" ] || continue
	name=$(basename "$exe")
	name=${name#fuzz_}
	out=$here/corpus-run/$name
	dirs=("$out")
	[ -d "$here/corpus/$name" ] && dirs+=("$here/corpus/$name")
	mkdir -p "$out"
	echo "fuzz: $name for ${secs}s (corpus: ${dirs[*]})"
	if "$exe" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$crashes/$name-" "${dirs[@]}"; then
		ran=$((ran + 1))
	else
		ran=$((ran + 1))
		failed+=("$name")
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz_* executable in $build/tests/fuzz (was it set up with -Dfuzz=true?)" >&2
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}; inputs in $crashes (replay: <fuzzer> <file>)" >&2
	exit 1
fi
echo "fuzz: $ran target(s) ok"
