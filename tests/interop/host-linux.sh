#!/usr/bin/env bash
# host-linux.sh - our host library against the reference target: for each kernel,
# the Linux nvmet-tcp in a QEMU guest (linux-target.sh) on the host's loopback,
# and the cmocka cases of tests/host/test_host_linux.c run against it (discovery,
# connect and identify, I/O read back, keep-alive, reset under I/O).
#
# Usage: host-linux.sh [--kernel 6.1|6.12|all] [--nqn NQN] [--port P] [--disc-port P]
#                      [--timeout S] [TEST_BINARY]
#
#   TEST_BINARY  default: $NVMF_HOST_LINUX_TEST, else build/tests/host/test_host_linux
#   --port, --disc-port  host ports of the target (default 14420, 18009; never the
#                well-known 4420/8009, which a target of the developer's may hold)
#   --timeout S  limit for one run of the test binary (default 900 s)
#
# Each kernel: linux-target.sh starts in a process group of its own; once
# 127.0.0.1:PORT and :DISC-PORT listen (up to 240 s) the binary runs with
# NVMF_LINUX_TARGET, NVMF_LINUX_DISC, NVMF_LINUX_NQN and NVMF_LINUX_KERNEL set;
# then the group gets SIGTERM and is waited for. Logs: <cache>/logs/.
# Once the arguments are accepted, the last line is always "host-interop: N passed,
# M failed" (cmocka cases over all kernels; a target that never listened, a binary
# that ran no case, or one that exited non-zero with no failed case each count one
# failure). Exit 0 only if M is 0.
set -euo pipefail
LOG_TAG=host-linux
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=all nqn=nqn.2014-08.org.nvmexpress:nvmf-default port=14420 dport=18009
test_timeout=900 bin=${NVMF_HOST_LINUX_TEST:-}
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--nqn) nqn=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--disc-port) dport=$2; shift 2 ;;
	--timeout) test_timeout=$2; shift 2 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	-*) die "unknown option: $1" ;;
	*) bin=$1; shift ;;
	esac
done
: "${bin:=$REPO_ROOT/build/tests/host/test_host_linux}"
case "$kernel" in
all) kernels=("${INTEROP_KERNELS[@]}") ;;
6.1|6.12) kernels=("$kernel") ;;
*) die "--kernel: 6.1, 6.12 or all, not '$kernel'" ;;
esac
for p in "$port" "$dport"; do
	case "$p" in
	4420|8009) die "port $p is the well-known NVMe/TCP port: pick another" ;;
	''|*[!0-9]*) die "bad port '$p'" ;;
	esac
done
[ "$port" != "$dport" ] || die "--port and --disc-port must differ"
[ -x "$bin" ] || die "test binary $bin not found (build it: ninja -C build)"

mkdir -p "$INTEROP_CACHE/logs"
stamp=$(date +%Y%m%d-%H%M%S)-$$
passed=0 failed=0

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# The target runs as the leader of a new session (so of its own process group):
# its pid, written by itself before the exec, is the group to signal.
target_pgid=""
stop_target() {
	[ -n "$target_pgid" ] || return 0
	if kill -0 -- "-$target_pgid" 2>/dev/null; then
		log "stopping the target (process group $target_pgid)"
		kill -TERM -- "-$target_pgid" 2>/dev/null || true
		for _ in $(seq 1 60); do
			kill -0 -- "-$target_pgid" 2>/dev/null || break
			sleep 0.5
		done
		if kill -0 -- "-$target_pgid" 2>/dev/null; then
			log "WARNING: target still running after 30 s: SIGKILL"
			kill -KILL -- "-$target_pgid" 2>/dev/null || true
		fi
	fi
	wait 2>/dev/null || true
	target_pgid=""
}
trap stop_target EXIT
trap 'exit 130' INT TERM

# start_target KERNEL LOG: 0 once both ports listen, 1 if the target failed
start_target() {
	local k=$1 tlog=$2 pidf
	pidf=$(mktemp)
	# shellcheck disable=SC2016 # $$ and $@ are the inner shell's
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
		"$INTEROP_DIR/linux-target.sh" --kernel "$k" --nqn "$nqn" \
		--port "$port" --disc-port "$dport" >"$tlog" 2>&1 </dev/null &
	for _ in $(seq 1 50); do
		[ -s "$pidf" ] && break
		sleep 0.1
	done
	target_pgid=$(cat "$pidf")
	rm -f "$pidf"
	[ -n "$target_pgid" ] || { log "target did not start"; return 1; }
	log "kernel $k: target booting (process group $target_pgid, log $tlog)"
	for _ in $(seq 1 480); do
		listening "$port" && listening "$dport" && return 0
		if ! kill -0 -- "-$target_pgid" 2>/dev/null; then
			tail -n 20 "$tlog" >&2
			log "kernel $k: target exited before listening"
			return 1
		fi
		sleep 0.5
	done
	tail -n 20 "$tlog" >&2
	log "kernel $k: 127.0.0.1:$port/$dport not listening after 240 s"
	return 1
}

for k in "${kernels[@]}"; do
	for p in "$port" "$dport"; do
		if listening "$p"; then
			log "kernel $k: 127.0.0.1:$p is already in use: FAIL"
			failed=$((failed + 1))
			continue 2
		fi
	done
	tlog=$INTEROP_CACHE/logs/$stamp-host-linux-target-$k.log
	out=$INTEROP_CACHE/logs/$stamp-host-linux-$k.log
	if ! start_target "$k" "$tlog"; then
		stop_target
		failed=$((failed + 1))
		continue
	fi
	log "kernel $k: nvmet listening on 127.0.0.1:$port and :$dport; running $bin"
	rc=0
	NVMF_LINUX_TARGET=127.0.0.1:$port NVMF_LINUX_DISC=127.0.0.1:$dport \
		NVMF_LINUX_NQN=$nqn NVMF_LINUX_KERNEL=$k \
		timeout --kill-after=10 "$test_timeout" "$bin" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
	stop_target

	total=$(sed -n 's/^\[==========\] Running \([0-9]*\) test(s)\.$/\1/p' "$out" | head -n 1)
	ok=$(grep -c '^\[       OK \]' "$out" || true)
	if [ -z "$total" ]; then
		log "kernel $k: the test binary ran no case (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	bad=$((total - ok))
	# exited non-zero (a crash, the time limit) with every counted case passed
	[ "$rc" != 0 ] && [ "$bad" = 0 ] && bad=1
	[ "$rc" = 124 ] && log "kernel $k: the test binary hit the $test_timeout s limit"
	log "kernel $k: $ok passed, $bad failed (exit $rc; output $out)"
	passed=$((passed + ok))
	failed=$((failed + bad))
done

echo "host-interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
