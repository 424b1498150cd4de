#!/usr/bin/env bash
# Integration tests: the real nvmf-tgt daemon on 127.0.0.1, driven over NVMe/TCP from Python 3
# (standard library; digests by ISA-L through ctypes).
# Usage: tests/integration/run.sh BUILD_DIR [unittest arguments, e.g. -k KeepAlive]
# The last line is always "integration: N passed, M failed"; the exit status is non-zero if
# anything failed. NVMF_IT_KEEP=1 keeps each daemon's directory (config, log) for a look.
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
python3 -u "$here/test_daemon.py" --build "$build" "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! tail -n 1 "$out" | grep -qE '^integration: [0-9]+ passed, [0-9]+ failed$'; then
	# the runner itself died (import error, interrupted): still end with the summary
	echo "integration: 0 passed, 1 failed"
	rc=1
fi
exit "$rc"
