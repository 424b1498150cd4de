# shellcheck shell=dash
# guest-lib.sh - what the two interop guests share (busybox ash; sourced, never run):
# the NVMe/TCP guest (init.sh, guest-tests.sh) and the vfio-user guest (vfio-user/init.sh,
# vfio-user/guest-tests.sh). mkinitramfs.sh packs it as /guest-lib.sh; the vfio-user
# image is that image with a second archive on top, so it has it too. Only definitions
# here: the guest scripts also source it on the host (run.sh's --list).
#
# The scripts that source it set:
#   RESULT_TAG    prefix of the lines run.sh parses: INTEROP or VFU (<TAG>-RESULT, ...)
#   SELF          the guest script itself, run again with --run-one CASE for each case
#   WORK          scratch folder of the runner (case logs and details)
#   CASE_TIMEOUT  per-case time limit in seconds
#   LONG_CASES    (optional) cases whose limit is twice CASE_TIMEOUT
#   DMESG_BAD     extended regex of kernel messages dmesg_check fails on

# ---------------------------------------------------------------- /init

# guest_mounts: the filesystems every case needs, and the console as stdio (the kernel
# starts /init before devtmpfs is mounted).
guest_mounts() {
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	exec </dev/console >/dev/console 2>&1
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs -o mode=1777 tmpfs /tmp
}

# halt_guest [LINE]: power off, after printing LINE if given (the last console line).
halt_guest() {
	sync
	[ -z "${1:-}" ] || echo "$1"
	poweroff -f
	# poweroff should not return; if it does, make the kernel do it
	echo o >/proc/sysrq-trigger
	sleep 30
}

# ---------------------------------------------------------------- case helpers

# Inside a case: record the one-line detail of the result.
detail() { printf '%s\n' "$*" >"$DETAIL_FILE"; }
# Inside a case: fail with a reason (ends the case process).
fail() {
	printf '%s\n' "$*" >"$DETAIL_FILE"
	echo "FAIL: $*"
	exit 1
}

# run CMD...: echo it, capture stdout+stderr in OUT and the status in RC, show
# the output (first 120 lines) in the case log. Returns RC.
run() {
	local t0 dt
	t0=$(date +%s)
	echo "+ $*"
	OUT=$("$@" 2>&1)
	RC=$?
	dt=$(($(date +%s) - t0))
	[ -n "$OUT" ] && printf '%s\n' "$OUT" | head -n 120
	[ "$RC" = 0 ] || echo "  (exit $RC)"
	[ "$dt" -lt 2 ] || echo "  (${dt}s)"
	return "$RC"
}
lastline() { printf '%s\n' "$OUT" | grep -v '^[[:space:]]*$' | tail -n 1; }

# JSON scalars from nvme-cli's pretty output in $OUT: first match of "KEY".
jval() {
	printf '%s\n' "$OUT" | sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\(.*\)\$/\1/p" |
		head -n 1 | sed -e 's/,[[:space:]]*$//' -e 's/^"//' -e 's/"$//'
}
trim() { printf '%s' "$1" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }
is_uint() { case "$1" in ''|*[!0-9]*) return 1 ;; esac; return 0; }
# Numbers as nvme-cli prints them: decimal or 0x-hex.
num() { case "$1" in 0x*|0X*) printf '%d' "$1" ;; *) printf '%s' "$1" ;; esac; }

dev_bytes() { blockdev --getsize64 "/dev/$1"; }
# uptime in centiseconds, and the seconds since such a time as N.N
now_cs() { sed 's/^\([0-9]*\)\.\([0-9][0-9]\).*/\1\2/' /proc/uptime; }
secs_since() { local d=$(($(now_cs) - $1)); echo "$((d / 100)).$((d % 100 / 10))s"; }

# ctrl_of TRANSPORT [NQN]: the first controller (nvmeX) on TRANSPORT (tcp, pcie), of
# subsystem NQN when given.
ctrl_of() {
	local d
	for d in /sys/class/nvme/nvme*; do
		[ "$(cat "$d/transport" 2>/dev/null)" = "$1" ] || continue
		[ $# -lt 2 ] || [ "$(cat "$d/subsysnqn" 2>/dev/null)" = "$2" ] || continue
		echo "${d##*/}"
		return 0
	done
	return 1
}
ctrl_state() { cat "/sys/class/nvme/$1/state" 2>/dev/null || echo gone; }
# The first namespace block device of controller $1: the multipath head
# (in the nvme-subsystem folder) or, without one, nvmeXnY.
ns_of_ctrl() {
	local s d n
	for s in /sys/class/nvme-subsystem/nvme-subsys* "/sys/class/nvme/$1"; do
		[ -e "$s/$1" ] || [ "$s" = "/sys/class/nvme/$1" ] || continue
		for d in "$s"/nvme*n*; do
			n=${d##*/}
			case "$n" in nvme*c*n*) continue ;; esac
			[ -b "/dev/$n" ] && { echo "$n"; return 0; }
		done
	done
	return 1
}

# wait_live FIND SECONDS: wait up to SECONDS for the controller that the function FIND
# prints to be live with a namespace; sets CTRL and NS.
wait_live() {
	local i=0 c n
	while [ $i -lt $(($2 * 5)) ]; do
		if c=$($1) && [ "$(ctrl_state "$c")" = live ] && n=$(ns_of_ctrl "$c"); then
			# shellcheck disable=SC2034 # CTRL is the cases'
			CTRL=$c NS=$n
			return 0
		fi
		usleep 200000
		i=$((i + 1))
	done
	return 1
}

# fio engine: io_uring if the guest's fio and kernel run it, else libaio.
pick_engine() {
	local e
	for e in io_uring libaio; do
		if fio --name=probe --filename="/dev/$NS" --readonly --rw=read --bs=4k --size=64k \
			--direct=1 --ioengine=$e --output=/dev/null >/dev/null 2>&1; then
			echo $e
			return 0
		fi
	done
	echo psync
}

# dmesg_mark: remember where the kernel log is now (by timestamp: immune to
# the ring buffer wrapping). dmesg_since prints what came after.
dmesg_mark() {
	DMESG_T0=$(dmesg | sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\].*/\1/p' | tail -n 1)
	: "${DMESG_T0:=0}"
}
dmesg_since() {
	dmesg | awk -v t0="$DMESG_T0" '
		match($0, /^\[ *[0-9]+\.[0-9]+\]/) { t = substr($0, 2, RLENGTH - 2) + 0; on = (t > t0 + 0) }
		on { print }'
}
# dmesg_check WHAT: fail if the kernel logged trouble (DMESG_BAD) since dmesg_mark.
dmesg_check() {
	local bad
	bad=$(dmesg_since | grep -E "$DMESG_BAD" | head -n 3)
	[ -z "$bad" ] || { dmesg_since | tail -n 60; fail "kernel log $1: $(printf '%s\n' "$bad" | tr '\n' ' ' | cut -c1-300)"; }
}

# ---------------------------------------------------------------- runner

# run_case NAME: run one case in its own session with a time limit, print its
# log and the <TAG>-RESULT line. <TAG>-OUTCOME lines of the case go out once
# more, unprefixed, after its log, for run.sh.
run_case() {
	local c=$1 log=$WORK/$1.log det=$WORK/$1.detail pid rc t0 t i res d lim=$CASE_TIMEOUT
	case " ${LONG_CASES:-} " in *" $c "*) lim=$((CASE_TIMEOUT * 2)) ;; esac
	: >"$det"
	t0=$(date +%s)
	echo "$RESULT_TAG-CASE $c start"
	DETAIL_FILE=$det setsid "$SELF" --run-one "$c" >"$log" 2>&1 </dev/null &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null; do
		if [ $i -ge $((lim * 2)) ]; then
			echo "timed out after ${lim}s" >>"$log"
			printf 'timed out after %ss; last output: %s\n' "$lim" \
				"$(grep -v '^[[:space:]]*$' "$log" | tail -n 2 | tr '\n' ' ' | cut -c1-160)" >"$det"
			kill -KILL -$pid 2>/dev/null || kill -KILL $pid 2>/dev/null
			break
		fi
		usleep 500000
		i=$((i + 1))
	done
	# a process stuck in the kernel ignores SIGKILL: do not wait for it forever
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		rc=124
		echo "case process $pid is stuck (D state?); abandoning it" >>"$log"
	else
		wait $pid
		rc=$?
	fi
	t=$(($(date +%s) - t0))
	sed -e "/^$RESULT_TAG-OUTCOME /d" -e "s/^/  [$c] /" "$log"
	sed -n "/^$RESULT_TAG-OUTCOME /p" "$log"
	d=$(head -n 1 "$det" | tr -d '\r')
	if [ "$rc" = 0 ] && ! grep -q '^timed out' "$det"; then
		res=PASS
		npass=$((npass + 1))
	else
		res=FAIL
		nfail=$((nfail + 1))
		[ -n "$d" ] || d="exit status $rc"
	fi
	echo "$RESULT_TAG-RESULT $c $res (${t}s) $d"
}

# run_cases "CASES" "FIELDS": every case of CASES in order, framed by the
# <TAG>-BEGIN line (with FIELDS, words key=value) and the <TAG>-SUMMARY line.
# Returns 0 when every case passed.
run_cases() {
	local c
	mkdir -p "$WORK"
	npass=0 nfail=0
	# shellcheck disable=SC2086 # case names are words
	echo "$RESULT_TAG-BEGIN cases=$(echo $1 | tr ' ' ',') $2 kernel=$(uname -r)"
	for c in $1; do
		run_case "$c"
	done
	echo "$RESULT_TAG-SUMMARY passed=$npass failed=$nfail"
	[ "$nfail" = 0 ]
}
