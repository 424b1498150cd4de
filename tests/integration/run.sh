#!/usr/bin/env bash
# Integration tests: the real nvmf-tgt daemon on 127.0.0.1, driven over NVMe/TCP from Python 3
# (standard library; digests by ISA-L through ctypes; test_daemon.py), and by our host
# library's multipath through tests/host/mpath_io (test_multipath.py).
# Usage: tests/integration/run.sh BUILD_DIR [unittest arguments, e.g. -k KeepAlive]
# Each file ends with its own summary, shown as "integration (FILE): N passed, M failed";
# the last line is always the total, "integration: N passed, M failed"; the exit status is
# non-zero if anything failed or nothing passed. NVMF_IT_KEEP=1 keeps each daemon's
# directory (config, log) for a look.
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR [unittest args]}
shift
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$build/nvmf-tgt" ]; then
	echo "integration: $build/nvmf-tgt is not built" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
failed=0
for t in test_daemon.py test_multipath.py; do
	python3 -u "$here/$t" --build "$build" "$@" 2>&1 |
		sed -u -E "s/^integration: ([0-9]+ passed, [0-9]+ failed)$/integration ($t): \\1/" |
		tee "$out"
	last=$(tail -n 1 "$out")
	if [[ $last =~ ^integration\ \($t\):\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		# the runner itself died (import error, interrupted): count it as one failure
		echo "integration ($t): the runner ended without its summary"
		failed=$((failed + 1))
	fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
