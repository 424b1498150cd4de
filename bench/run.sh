#!/usr/bin/env bash
# make bench: nvmf-tgt with a null namespace on 127.0.0.1, pinned to CPU 0, measured by
# `nvmf perf` pinned to CPU 1, against TCP floors measured between the same two CPUs, plus
# the idle CPU of 100 idle controllers. Prints numbers; never fails on them (exit status 1
# only if something did not work at all). The driver is bench/bench.py (python3 stdlib).
#
# Usage: bench/run.sh BUILD_DIR [--markdown FILE]
# Environment: BENCH_SECONDS (10), RUNS (5), BENCH_CASES (qd1,qd32,qd128,128k,randwrite,
# floors,idle), BENCH_IDLE_CTRLS (100), BENCH_IDLE_SECONDS (20), BENCH_LOOP=1, BENCH_MD=FILE;
# the full list is in bench/bench.py.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bench/run.sh BUILD_DIR [--markdown FILE]" >&2; exit 2; }
exec python3 "$(dirname "$0")/bench.py" "$@"
