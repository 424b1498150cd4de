#!/bin/sh
# shellcheck shell=dash
# guest-tests.sh - NVMe/TCP interop cases, run inside the QEMU guest (busybox ash)
# against a target at ADDR:PORT, with the real Linux nvme-tcp host, nvme-cli
# and fio. Installed as /guest-tests.sh by mkinitramfs.sh and run by /init.
#
# Usage: guest-tests.sh [options] [case ...]        (no case: all, in order)
#   --addr A          target address              (default 10.0.2.100)
#   --port P          I/O port, also queried for discovery (default 4420)
#   --disc-port P     discovery-only port         (default 8009)
#   --port2 P         second I/O port of the multipath cases (default PORT+1):
#                     they add it to the target (RPC add_port, or a third
#                     nvmet port in the self-test) and remove it at the end
#   --nqn NQN         subsystem under test (default nqn.2014-08.org.nvmexpress:nvmf-default)
#   --setup-nvmet     first configure the in-guest Linux nvmet (file namespace
#                     on --backing, TCP ports PORT and DISC-PORT on ADDR, which
#                     defaults to 127.0.0.1 then); reported as case nvmet_setup
#   --backing FS      ramfs (default) or tmpfs, for --setup-nvmet
#   --serve           only configure nvmet (as --setup-nvmet) and exit: the
#                     guest is then a target for another guest (linux-target.sh)
#   --timeout S       per-case time limit (default 180 s; twice that for
#                     multipath_ana_flip_fio)
#   --rpc-port P      the host's RPC bridge (run.sh --rpc-socket) listens at
#                     ADDR:P; enables nvme040_delay and ka_held_admin, which
#                     drive the target's fault injection (default list: they
#                     run before disconnect; without --rpc-port they are left
#                     out, and fail if named). The multipath cases need it
#                     too, or --setup-nvmet (they then drive nvmet's configfs)
#   --debug           trace every case (set -x)
#   --list            print the case names and exit
#
# Output, one line per case, on stdout (the serial console):
#   INTEROP-RESULT <case> PASS|FAIL (<seconds>s) <detail>
# framed by INTEROP-BEGIN and INTEROP-SUMMARY lines. Exit status: 0 when every
# case passed. Each case is a separate process (this script re-run with
# --run-one) in its own session, so a hung case is killed whole; state shared
# between cases lives in the kernel (the connected controller), and every
# case that needs a controller connects one if there is none.

# RPC client half of host_rpc: `nc ADDR RPC_PORT -e guest-tests.sh` runs this
# script again with the connection to the host's rpc-bridge.sh as stdin and
# stdout: send the request line, keep the answer until the bridge hangs up.
if [ -n "${INTEROP_RPC_REQ:-}" ]; then
	printf '%s\n' "$INTEROP_RPC_REQ"
	exec cat >"$INTEROP_RPC_OUT"
fi

ALL_CASES="discover_8009 discover_4420 connect list id_ctrl id_ns smart_log error_log
effects_log list_subsys fio_verify mkfs_mount blkdiscard blkdiscard_zero flush kato_idle
reset_during_fio digests nvme040_delay ka_held_admin multipath_list_subsys
multipath_ana_flip_fio disconnect"
# cases that need the host's RPC bridge (--rpc-port)
RPC_CASES="nvme040_delay ka_held_admin"
# cases that set ANA states and add a port: through the RPC bridge, or on the
# in-guest nvmet (--setup-nvmet) through configfs
MP_CASES="multipath_list_subsys multipath_ana_flip_fio"
# cases allowed twice the per-case limit (guest-lib.sh's run_case): its ~45 RPC
# calls take 0.3 s each in a TCG guest busy with fio, up to 6 s when other
# guests share the machine (40 s in all, or 85-135 s)
LONG_CASES="multipath_ana_flip_fio"

SELF=$(readlink -f "$0")
: "${ADDR:=}"
: "${IO_PORT:=4420}"
: "${DISC_PORT:=8009}"
: "${PORT2:=}"
: "${NQN:=nqn.2014-08.org.nvmexpress:nvmf-default}"
: "${BACKING:=ramfs}"
: "${CASE_TIMEOUT:=180}"
: "${DEBUG:=0}"
: "${RPC_PORT:=}"
NS_WAIT=15        # seconds to wait for a namespace after connect (TCG is slow)
NS_SIZE_MB=256    # self-test namespace size
FIO_MB=64         # fio_verify and reset_during_fio, split over 2 jobs
DIGEST_FIO_MB=16  # digests
ZERO_MB=32        # blkdiscard_zero: region written, zeroed and read back
KATO=5            # kato_idle and ka_held_admin keep-alive timeout, seconds
NVME040_CYCLES=5  # nvme040_delay: connect, fio, reset, disconnect cycles
DELAY_MS=50       # nvme040_delay: I/O completions delayed uniformly in
DELAY_MAX_MS=500  #   [DELAY_MS, DELAY_MAX_MS]
HELD_CMDS=8       # ka_held_admin: Get Features commands held by the target
WORK=/tmp/interop
# busybox ash runs its own applets before PATH lookups (standalone shell):
# name util-linux's blkdiscard by path, busybox's lacks -f/-z/-o/-l
BLKDISCARD=/usr/sbin/blkdiscard

setup=0 serve=0 list=0 run_one=""
while [ $# -gt 0 ]; do
	case "$1" in
	--addr) ADDR=$2; shift 2 ;;
	--port) IO_PORT=$2; shift 2 ;;
	--disc-port) DISC_PORT=$2; shift 2 ;;
	--port2) PORT2=$2; shift 2 ;;
	--nqn) NQN=$2; shift 2 ;;
	--setup-nvmet) setup=1; shift ;;
	--serve) setup=1 serve=1; shift ;;
	--backing) BACKING=$2; shift 2 ;;
	--timeout) CASE_TIMEOUT=$2; shift 2 ;;
	--debug) DEBUG=1; shift ;;
	--rpc-port) RPC_PORT=$2; shift 2 ;;
	--list) list=1; shift ;;
	--run-one) run_one=$2; shift 2 ;;
	-h|--help) sed -n '2,38p' "$SELF"; exit 0 ;;
	-*) echo "guest-tests.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ -z "$ADDR" ]; then
	if [ "$setup" = 1 ]; then ADDR=127.0.0.1; else ADDR=10.0.2.100; fi
fi
[ -n "$PORT2" ] || PORT2=$((IO_PORT + 1))
export ADDR IO_PORT DISC_PORT PORT2 NQN BACKING CASE_TIMEOUT DEBUG RPC_PORT

# ---------------------------------------------------------------- helpers

# detail, fail, run, jval, ns_of_ctrl, dmesg_check, the case runner, ...: shared
# with the vfio-user guest; beside this script, in the image as in the tree.
RESULT_TAG=INTEROP
# shellcheck source=tests/interop/guest-lib.sh
. "${SELF%/*}/guest-lib.sh"

# The connected TCP controller (nvmeX) of the subsystem under test.
ctrl_of_nqn() { ctrl_of tcp "$NQN"; }

# wait_ns: wait up to NS_WAIT s for a live controller with a namespace; sets
# CTRL and NS.
wait_ns() { wait_live ctrl_of_nqn "$NS_WAIT"; }

# connect_ctrl [nvme connect options]: connect, wait for the namespace.
connect_ctrl() {
	local t0
	t0=$(date +%s)
	run nvme connect -t tcp -a "$ADDR" -s "$IO_PORT" -n "$NQN" "$@" ||
		fail "nvme connect${*:+ $*} -> exit $RC: $(lastline)"
	wait_ns || fail "connected${*:+ ($*)} but no live controller with a namespace within ${NS_WAIT}s (ctrl=$(ctrl_of_nqn) state=$(ctrl_state "$(ctrl_of_nqn)"))"
	CONNECT_SECS=$(($(date +%s) - t0))
	echo "connected: $CTRL -> /dev/$NS (cntlid $(cat "/sys/class/nvme/$CTRL/cntlid"), ${CONNECT_SECS}s)"
}

# disconnect_all: drop every controller of NQN and wait until they are gone.
disconnect_all() {
	local i=0
	ctrl_of_nqn >/dev/null || return 0
	run nvme disconnect -n "$NQN"
	while ctrl_of_nqn >/dev/null; do
		[ $i -lt 50 ] || fail "controller $(ctrl_of_nqn) still present 10s after nvme disconnect"
		usleep 200000
		i=$((i + 1))
	done
}

# need_ctrl: any live connection will do; connect a default one if none.
need_ctrl() {
	if ctrl_of_nqn >/dev/null; then
		wait_ns || fail "controller $(ctrl_of_nqn) is $(ctrl_state "$(ctrl_of_nqn)") with no usable namespace"
	else
		connect_ctrl
	fi
}

# fio_verify_cmd TOTAL_MB LOG [PIDFILE]: write+verify (crc32c) TOTAL_MB over two
# jobs of TOTAL_MB/2 each on disjoint halves, random sizes 4k..128k, iodepth 8,
# O_DIRECT; returns fio's exit status. With PIDFILE, fio's own pid goes there
# while it runs (a background caller can then stop fio itself, not only its shell).
fio_verify_cmd() {
	local per=$(($1 / 2)) eng=${FIO_ENGINE:-}
	[ -n "$eng" ] || eng=$(pick_engine)
	echo "fio: engine $eng, ${1} MiB"
	echo "engine=$eng" >"$2"
	fio --name=interop-verify --filename="/dev/$NS" --ioengine="$eng" --direct=1 \
		--rw=randwrite --bsrange=4k-128k --numjobs=2 --iodepth=8 \
		--size="${per}M" --offset_increment="${per}M" \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--randrepeat=0 --group_reporting >>"$2" 2>&1 &
	[ -z "${3:-}" ] || echo $! >"$3"
	wait $!
}

# fio_check LOG RC: assert fio finished cleanly and verified all it wrote.
fio_check() {
	local w r
	sed 's/^/  fio| /' "$1" | tail -n 40
	[ "$2" = 0 ] || fail "fio exit $2: $(grep -iE 'verify|err|error' "$1" | head -n 3 | tr '\n' ' ')"
	grep -qiE 'verify: bad|verify failed|bad magic|crc32c: (verify|mismatch)' "$1" &&
		fail "fio reported a verify error: $(grep -iE 'verify|bad magic' "$1" | head -n 2 | tr '\n' ' ')"
	grep -q 'err= 0' "$1" || fail "fio did not report err= 0"
	w=$(sed -n 's/.*WRITE: .*io=\([^ ,]*\).*/\1/p' "$1" | head -n 1)
	r=$(sed -n 's/.*READ: .*io=\([^ ,]*\).*/\1/p' "$1" | head -n 1)
	[ -n "$w" ] && [ "$w" = "$r" ] || fail "fio wrote '$w' but verified (read) '$r'"
	FIO_IO=$w
	FIO_ENGINE=$(sed -n 's/^engine=//p' "$1")
	FIO_BW=$(sed -n 's/.*WRITE: bw=\([^ ,]*\).*/\1/p' "$1" | head -n 1)
}

# Completed (read, write) commands of namespace $NS of controller $CTRL: the
# multipath head has no statistics on older kernels, its hidden path nvmeXcYnZ
# does; take whichever counts more.
ns_io_counts() {
	local f best_r=0 best_w=0 r w
	for f in "/sys/block/$NS/stat" /sys/class/nvme/"$CTRL"/nvme*c*n*/stat; do
		[ -r "$f" ] || continue
		read -r r _ _ _ w _ <"$f"
		[ "$w" -gt "$best_w" ] && best_w=$w
		[ "$r" -gt "$best_r" ] && best_r=$r
	done
	echo "$best_r $best_w"
}

# ---------------------------------------------------------------- host RPC

# host_rpc METHOD [JSON]: one JSON-RPC call to the target's control socket,
# made by rpc-bridge.sh on the host (`nvmf rpc METHOD JSON`) while this waits:
# the call is done when host_rpc returns. Sets RPC_RC (the exit status of
# `nvmf rpc`: 0 ok, 1 JSON-RPC error, 2 no socket; 255: no answer from the
# bridge) and RPC_ANS (the answer file, read with rpc_val / rpc_find);
# RPC_MSG is the error text. Returns RPC_RC. Never fails the case by itself.
RPC_SEQ=0
host_rpc() {
	local req=$1 up
	[ $# -gt 1 ] && req="$1 $2"
	RPC_SEQ=$((RPC_SEQ + 1))
	RPC_ANS=$WORK/rpc.$$.$RPC_SEQ
	RPC_MSG=""
	: >"$RPC_ANS"
	# the guest's uptime (read by the shell itself, no fork): when the call went
	# out and came back, to set against the kernel log and the host's RPC log
	read -r up _ </proc/uptime
	echo "rpc> [$up] $req"
	if [ -z "$RPC_PORT" ]; then
		RPC_RC=255 RPC_MSG="no RPC bridge: run.sh needs --rpc-socket (or a --target-cmd with one)"
		echo "rpc< $RPC_MSG"
		return $RPC_RC
	fi
	INTEROP_RPC_REQ=$req INTEROP_RPC_OUT=$RPC_ANS timeout 60 nc -w 10 "$ADDR" "$RPC_PORT" -e "$SELF" </dev/null
	if ! grep -q '^RPC-END' "$RPC_ANS"; then
		RPC_RC=255 RPC_MSG="no answer from the RPC bridge at $ADDR:$RPC_PORT"
		echo "rpc< $RPC_MSG"
		return $RPC_RC
	fi
	RPC_RC=$(sed -n 's/^RPC-RC //p' "$RPC_ANS" | head -n 1)
	is_uint "$RPC_RC" || RPC_RC=255
	RPC_MSG=$(sed -n 's/^RPC-ERR //p' "$RPC_ANS" | grep -v '^[[:space:]]*$' | tail -n 1)
	read -r up _ </proc/uptime
	echo "rpc< [$up] rc=$RPC_RC $(sed -n 's/^RPC-JSON //p' "$RPC_ANS" | cut -c1-600)${RPC_MSG:+ ($RPC_MSG)}"
	return "$RPC_RC"
}
# rpc_ok METHOD [JSON]: host_rpc, and fail the case unless it succeeded.
rpc_ok() {
	host_rpc "$@" || fail "rpc $1 -> rc $RPC_RC: ${RPC_MSG:-no message}"
}
# rpc_val PATH: a scalar of the last answer; PATH as rpc-bridge.sh writes it
# (id, released, 0.cntlid, ...).
rpc_val() {
	awk -v k="$1" '$1 == "RPC-VAL" && $2 == k { sub(/^RPC-VAL [^ ]* /, ""); print; exit }' "$RPC_ANS"
}
# rpc_find KEY VALUE FIELD: in an answer that is an array of objects, FIELD of
# the first element whose KEY is VALUE.
rpc_find() {
	awk -v k="$1" -v v="$2" -v f="$3" '
		$1 != "RPC-VAL" { next }
		{ val = $0; sub(/^RPC-VAL [^ ]* /, "", val); vals[$2] = val }
		{ n = split($2, p, ".") }
		n == 2 && p[2] == k && val == v && idx == "" { idx = p[1] }
		END { if (idx != "" && ((idx "." f) in vals)) print vals[idx "." f] }' "$RPC_ANS"
}
# Fault rules this case added: removed (which releases what they hold) when
# the case process exits, whatever the outcome.
RPC_RULES=""
rpc_cleanup() {
	local id
	for id in $RPC_RULES; do
		host_rpc remove_fault "{\"id\": $id}" >/dev/null 2>&1
	done
	RPC_RULES=""
}
# rpc_add_fault JSON: add a rule, set FAULT_ID, remember it for rpc_cleanup.
rpc_add_fault() {
	rpc_ok add_fault "$1"
	FAULT_ID=$(rpc_val id)
	is_uint "$FAULT_ID" && [ "$FAULT_ID" -ge 1 ] || fail "add_fault answered no rule id"
	RPC_RULES="$RPC_RULES $FAULT_ID"
	trap rpc_cleanup EXIT
}

# ---------------------------------------------------------------- kernel log

# Signs of a kernel in trouble: oops, BUG, WARNING, GPF, KASAN and
# use-after-free reports, lockdep, hung tasks, refcount errors.
DMESG_BAD='Oops|(^|[^A-Za-z_])(BUG|WARNING)([^A-Za-z_]|$)|general protection|use-after-free|KASAN|Call Trace|blocked for more than|refcount_t|possible circular locking'
# ---------------------------------------------------------------- self-test target

case_nvmet_setup() {
	local cfg=/sys/kernel/config/nvmet s p id port
	modprobe nvmet 2>/dev/null
	modprobe nvmet-tcp 2>/dev/null
	grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs configfs /sys/kernel/config
	[ -d $cfg ] || fail "no $cfg (nvmet not loaded?)"
	mkdir -p /srv/nvmet
	case "$BACKING" in
	tmpfs) mount -t tmpfs -o size=$((NS_SIZE_MB + 16))m tmpfs /srv/nvmet ;;
	ramfs) mount -t ramfs ramfs /srv/nvmet ;;
	*) fail "unknown backing $BACKING" ;;
	esac || fail "mount $BACKING on /srv/nvmet failed"
	truncate -s ${NS_SIZE_MB}M /srv/nvmet/ns1.img || fail "truncate backing file"
	s=$cfg/subsystems/$NQN
	mkdir "$s" || fail "mkdir subsystem $NQN"
	echo 1 >"$s/attr_allow_any_host" || fail "attr_allow_any_host"
	[ -e "$s/attr_model" ] && echo nvmf-interop-selftest >"$s/attr_model"
	mkdir "$s/namespaces/1" || fail "mkdir namespace 1"
	echo /srv/nvmet/ns1.img >"$s/namespaces/1/device_path" || fail "device_path"
	# ramfs and (before 6.6) tmpfs have no O_DIRECT: use the page cache
	echo 1 >"$s/namespaces/1/buffered_io" || fail "buffered_io"
	echo 1 >"$s/namespaces/1/enable" || fail "enable namespace (see dmesg)"
	id=0
	for port in "$IO_PORT" "$DISC_PORT"; do
		id=$((id + 1))
		[ $id = 2 ] && [ "$port" = "$IO_PORT" ] && break
		p=$cfg/ports/$id
		mkdir "$p" || fail "mkdir port $id"
		echo tcp >"$p/addr_trtype"
		echo ipv4 >"$p/addr_adrfam"
		echo "$ADDR" >"$p/addr_traddr"
		echo "$port" >"$p/addr_trsvcid"
		# Linux nvmet lists in a port's discovery log the subsystems linked
		# to that port, so the discovery port carries the subsystem as well.
		ln -s "$s" "$p/subsystems/$NQN" || fail "enable port $id ($ADDR:$port), see dmesg"
	done
	detail "Linux nvmet $(uname -r): $NQN, ns 1 = ${NS_SIZE_MB} MiB file on $BACKING (buffered_io), tcp $ADDR:$IO_PORT and :$DISC_PORT"
}

# ---------------------------------------------------------------- cases

discover_on() {
	local n svc
	run nvme discover -t tcp -a "$ADDR" -s "$1" || fail "nvme discover on port $1 -> exit $RC: $(lastline)"
	n=$(printf '%s\n' "$OUT" | grep -c '^=====Discovery Log Entry')
	[ "$n" -ge 1 ] || fail "port $1 returned no discovery log entries"
	svc=$(printf '%s\n' "$OUT" | awk -v nqn="$NQN" '
		/^=====Discovery Log Entry/ { if (hit) print svc; hit = 0; svc = "?" }
		$1 == "trsvcid:" { svc = $2 }
		$1 == "subnqn:" && $2 == nqn { hit = 1 }
		END { if (hit) print svc }' | head -n 1)
	[ -n "$svc" ] || fail "$NQN not in the discovery log of port $1 ($n entries)"
	# nvme discover must leave no discovery controller behind
	usleep 500000
	for d in /sys/class/nvme/nvme*; do
		[ -e "$d/subsysnqn" ] || continue
		if [ "$(cat "$d/subsysnqn")" = nqn.2014-08.org.nvmexpress.discovery ]; then
			fail "discovery controller ${d##*/} still present after nvme discover"
		fi
	done
	detail "port $1: $n log entries, $NQN listed with trsvcid $svc"
}
case_discover_8009() { discover_on "$DISC_PORT"; }
case_discover_4420() { discover_on "$IO_PORT"; }

case_connect() {
	local a cntlid
	disconnect_all
	connect_ctrl
	a=$(cat "/sys/class/nvme/$CTRL/address")
	case ",$a," in *",traddr=$ADDR,"*) ;; *) fail "sysfs address '$a' lacks traddr=$ADDR" ;; esac
	case ",$a," in *",trsvcid=$IO_PORT,"*) ;; *) fail "sysfs address '$a' lacks trsvcid=$IO_PORT" ;; esac
	[ "$(cat "/sys/class/nvme/$CTRL/hostnqn")" = "$(cat /etc/nvme/hostnqn)" ] ||
		fail "controller hostnqn $(cat "/sys/class/nvme/$CTRL/hostnqn") != /etc/nvme/hostnqn"
	if [ -e "/sys/class/nvme/$CTRL/hostid" ]; then
		[ "$(cat "/sys/class/nvme/$CTRL/hostid")" = "$(cat /etc/nvme/hostid)" ] ||
			fail "controller hostid != /etc/nvme/hostid"
	fi
	cntlid=$(cat "/sys/class/nvme/$CTRL/cntlid")
	[ -b "/dev/$NS" ] || fail "/dev/$NS is not a block device"
	detail "$CTRL live, /dev/$NS ($(dev_bytes "$NS") bytes) in ${CONNECT_SECS}s, cntlid $cntlid"
}

case_list() {
	local size phys sn
	need_ctrl
	size=$(dev_bytes "$NS")
	run nvme list || fail "nvme list -> exit $RC"
	printf '%s\n' "$OUT" | grep -q "^/dev/${NS}[[:space:]]" || fail "nvme list does not show /dev/$NS"
	run nvme list -o json || fail "nvme list -o json -> exit $RC"
	printf '%s\n' "$OUT" | grep -Eq "\"DevicePath\"[[:space:]]*:[[:space:]]*\"/dev/$NS\"" ||
		fail "nvme list -o json has no DevicePath /dev/$NS"
	phys=$(printf '%s\n' "$OUT" | awk -v dev="\"/dev/$NS\"" '
		/"DevicePath"/ { cur = index($0, dev) > 0 }
		cur && /"PhysicalSize"/ {
			sub(/.*"PhysicalSize"[[:space:]]*:[[:space:]]*/, ""); sub(/[^0-9].*/, ""); print; exit
		}')
	[ "$phys" = "$size" ] || fail "nvme list PhysicalSize '$phys' != block device size $size"
	sn=$(printf '%s\n' "$OUT" | awk -v dev="\"/dev/$NS\"" '
		/"DevicePath"/ { cur = index($0, dev) > 0 }
		cur && /"SerialNumber"/ {
			sub(/.*"SerialNumber"[[:space:]]*:[[:space:]]*"/, ""); sub(/".*/, ""); print; exit
		}')
	[ "$(trim "$sn")" = "$(trim "$(cat "/sys/class/nvme/$CTRL/serial")")" ] ||
		fail "nvme list SerialNumber '$sn' != sysfs serial of $CTRL"
	detail "/dev/$NS listed, PhysicalSize $phys = block device size, SerialNumber $(trim "$sn") = sysfs"
}

case_id_ctrl() {
	local sn mn fr subnqn nn sqes cqes ioccsz iorcsz cntlid ver ssn smn sfr
	need_ctrl
	run nvme id-ctrl "/dev/$CTRL" -o json || fail "nvme id-ctrl -> exit $RC: $(lastline)"
	sn=$(trim "$(jval sn)") mn=$(trim "$(jval mn)") fr=$(trim "$(jval fr)")
	subnqn=$(jval subnqn) nn=$(num "$(jval nn)") ver=$(num "$(jval ver)")
	sqes=$(num "$(jval sqes)") cqes=$(num "$(jval cqes)") cntlid=$(num "$(jval cntlid)")
	ioccsz=$(num "$(jval ioccsz)") iorcsz=$(num "$(jval iorcsz)")
	[ -n "$sn" ] || fail "id-ctrl sn is empty"
	[ -n "$mn" ] || fail "id-ctrl mn is empty"
	[ -n "$fr" ] || fail "id-ctrl fr is empty"
	[ "$subnqn" = "$NQN" ] || fail "id-ctrl subnqn '$subnqn' != $NQN"
	is_uint "$nn" && [ "$nn" -ge 1 ] || fail "id-ctrl nn '$nn' < 1"
	is_uint "$ver" && [ "$ver" -gt 0 ] || fail "id-ctrl ver '$ver' is 0"
	is_uint "$sqes" && [ $((sqes & 15)) -ge 6 ] || fail "id-ctrl sqes '$sqes': minimum SQ entry size < 64"
	is_uint "$cqes" && [ $((cqes & 15)) -ge 4 ] || fail "id-ctrl cqes '$cqes': minimum CQ entry size < 16"
	is_uint "$ioccsz" && [ "$ioccsz" -ge 4 ] || fail "id-ctrl ioccsz '$ioccsz' < 4 (64-byte capsule)"
	is_uint "$iorcsz" && [ "$iorcsz" -ge 1 ] || fail "id-ctrl iorcsz '$iorcsz' < 1"
	# what the kernel parsed from the same Identify must agree
	ssn=$(trim "$(cat "/sys/class/nvme/$CTRL/serial")")
	smn=$(trim "$(cat "/sys/class/nvme/$CTRL/model")")
	sfr=$(trim "$(cat "/sys/class/nvme/$CTRL/firmware_rev")")
	[ "$sn" = "$ssn" ] || fail "id-ctrl sn '$sn' != sysfs serial '$ssn'"
	[ "$mn" = "$smn" ] || fail "id-ctrl mn '$mn' != sysfs model '$smn'"
	[ "$fr" = "$sfr" ] || fail "id-ctrl fr '$fr' != sysfs firmware_rev '$sfr'"
	[ "$cntlid" = "$(cat "/sys/class/nvme/$CTRL/cntlid")" ] || fail "id-ctrl cntlid $cntlid != sysfs"
	detail "mn='$mn' sn='$sn' fr='$fr' ver=$(printf 0x%x "$ver") nn=$nn cntlid=$cntlid ioccsz=$ioccsz"
}

case_id_ns() {
	local nsze ncap nuse flbas fmt ds lbs size
	need_ctrl
	run nvme id-ns "/dev/$NS" -o json || fail "nvme id-ns -> exit $RC: $(lastline)"
	nsze=$(num "$(jval nsze)") ncap=$(num "$(jval ncap)") nuse=$(num "$(jval nuse)")
	flbas=$(num "$(jval flbas)")
	is_uint "$nsze" && [ "$nsze" -gt 0 ] || fail "id-ns nsze '$nsze' is 0"
	is_uint "$ncap" && [ "$ncap" -gt 0 ] || fail "id-ns ncap '$ncap' is 0"
	[ "$ncap" -le "$nsze" ] || fail "id-ns ncap $ncap > nsze $nsze"
	is_uint "$nuse" && [ "$nuse" -le "$ncap" ] || fail "id-ns nuse '$nuse' > ncap $ncap"
	is_uint "$flbas" || fail "id-ns flbas '$flbas' unparsable"
	fmt=$((flbas & 15))
	ds=$(printf '%s\n' "$OUT" | sed -n 's/^[[:space:]]*"ds"[[:space:]]*:[[:space:]]*\([0-9]*\).*/\1/p' |
		sed -n "$((fmt + 1))p")
	is_uint "$ds" && [ "$ds" -ge 9 ] && [ "$ds" -le 16 ] || fail "id-ns lbaf[$fmt].ds '$ds' not in 9..16"
	lbs=$(cat "/sys/block/$NS/queue/logical_block_size")
	[ $((1 << ds)) = "$lbs" ] || fail "lbaf[$fmt] says $((1 << ds))-byte blocks, kernel uses $lbs"
	size=$(dev_bytes "$NS")
	[ $((nsze << ds)) = "$size" ] || fail "nsze $nsze x $((1 << ds)) != block device size $size"
	detail "nsze=$nsze ncap=$ncap nuse=$nuse lbaf[$fmt] ${lbs}-byte blocks = $size bytes"
}

case_smart_log() {
	local cw k v duw0 hwc0 dur0 hrc0 duw1 hwc1 dur1 hrc1
	need_ctrl
	run nvme smart-log "/dev/$CTRL" -o json || fail "nvme smart-log -> exit $RC: $(lastline)"
	cw=$(num "$(jval critical_warning)")
	[ "$cw" = 0 ] || fail "critical_warning is '$cw', expected 0"
	for k in temperature avail_spare data_units_read data_units_written host_read_commands \
		host_write_commands power_on_hours; do
		v=$(jval "$k")
		[ -n "$v" ] || fail "smart-log has no $k"
	done
	if [ "$setup" = 1 ]; then
		# Linux nvmet reports zero I/O counters for file-backed namespaces
		detail "critical_warning=0 temperature=$(jval temperature) (nvmet: counters not checked)"
		return 0
	fi
	duw0=$(num "$(jval data_units_written)") hwc0=$(num "$(jval host_write_commands)")
	dur0=$(num "$(jval data_units_read)") hrc0=$(num "$(jval host_read_commands)")
	# 4 MiB in 32 direct 128 KiB writes, then the same read back: the counters must move
	# by at least that (data units are thousands of 512-byte units, NVMe Base 2.0c 5.16.1.3)
	run fio --name=smart --filename="/dev/$NS" --rw=write --bs=128k --size=4m --direct=1 \
		--ioengine=libaio --offset=64m || fail "fio write -> exit $RC: $(lastline)"
	run fio --name=smart --filename="/dev/$NS" --rw=read --bs=128k --size=4m --direct=1 \
		--ioengine=libaio --offset=64m || fail "fio read -> exit $RC: $(lastline)"
	run nvme smart-log "/dev/$CTRL" -o json || fail "nvme smart-log -> exit $RC: $(lastline)"
	duw1=$(num "$(jval data_units_written)") hwc1=$(num "$(jval host_write_commands)")
	dur1=$(num "$(jval data_units_read)") hrc1=$(num "$(jval host_read_commands)")
	for v in "$duw0" "$hwc0" "$dur0" "$hrc0" "$duw1" "$hwc1" "$dur1" "$hrc1"; do
		is_uint "$v" || fail "smart-log counter '$v' unparsable"
	done
	[ $((hwc1 - hwc0)) -ge 32 ] || fail "host_write_commands $hwc0 -> $hwc1 after 32 writes"
	[ $((duw1 - duw0)) -ge 8 ] || fail "data_units_written $duw0 -> $duw1 after 4 MiB"
	[ $((hrc1 - hrc0)) -ge 32 ] || fail "host_read_commands $hrc0 -> $hrc1 after 32 reads"
	[ $((dur1 - dur0)) -ge 8 ] || fail "data_units_read $dur0 -> $dur1 after 4 MiB"
	detail "after 4 MiB written+read: host_write_commands $hwc0 -> $hwc1, data_units_written $duw0 -> $duw1, host_read_commands $hrc0 -> $hrc1, data_units_read $dur0 -> $dur1"
}

case_error_log() {
	local before after nsze lbs st
	need_ctrl
	run nvme error-log "/dev/$CTRL" -o json || fail "nvme error-log -> exit $RC: $(lastline)"
	before=$(num "$(jval error_count)")
	is_uint "$before" || fail "error-log error_count '$before' unparsable"
	# provoke an error: read one block past the end of the namespace
	run nvme id-ns "/dev/$NS" -o json || fail "nvme id-ns -> exit $RC"
	nsze=$(num "$(jval nsze)")
	lbs=$(cat "/sys/block/$NS/queue/logical_block_size")
	run nvme read "/dev/$NS" --start-block="$nsze" --block-count=0 --data-size="$lbs" --data=/tmp/past-end
	[ "$RC" != 0 ] || fail "a read at LBA $nsze (= nsze, past the end) succeeded"
	run nvme error-log "/dev/$CTRL" -o json || fail "nvme error-log -> exit $RC: $(lastline)"
	after=$(num "$(jval error_count)")
	st=$(num "$(jval status_field)")
	is_uint "$after" && [ "$after" -gt "$before" ] ||
		fail "error_count did not grow after a failed command ($before -> '$after')"
	is_uint "$st" && [ "$st" != 0 ] || fail "newest error entry has status_field '$st'"
	# our target: LBA Out of Range (0x80) with DNR, as nvme-cli prints the status field
	[ "$setup" = 1 ] || [ "$st" = $((0x4080)) ] ||
		fail "newest error entry status_field $(printf 0x%x "$st"), expected 0x4080 (LBA range, DNR)"
	detail "error_count $before -> $after after a read past the end, newest status_field=$(printf 0x%x "$st")"
}

case_effects_log() {
	local want name bits
	need_ctrl
	# --csi=0: without it nvme-cli 2.3 picks the command sets from CAP.CSS, which
	# it fails to read over fabrics, and then prints nothing
	run nvme effects-log "/dev/$CTRL" --csi=0 || fail "nvme effects-log -> exit $RC: $(lastline)"
	# Get Log Page, Identify (admin); Write, Read (NVM): must be supported (CSUPP)
	for want in ACS2 ACS6 IOCS1 IOCS2; do
		bits=$(printf '%s\n' "$OUT" | awk -v w="$want" '$1 == w { print $NF; exit }')
		[ -n "$bits" ] || fail "effects log has no $want entry"
		[ $((0x$bits & 1)) = 1 ] || fail "effects log $want=$bits lacks CSUPP"
	done
	name=$(printf '%s\n' "$OUT" | grep -c '^ACS\|^IOCS')
	detail "$name commands listed; Get Log Page, Identify, Read, Write have CSUPP"
}

case_list_subsys() {
	need_ctrl
	run nvme list-subsys -o json || fail "nvme list-subsys -> exit $RC: $(lastline)"
	printf '%s\n' "$OUT" | grep -Fq "\"$NQN\"" || fail "list-subsys does not show $NQN"
	printf '%s\n' "$OUT" | grep -Eq '"Transport"[[:space:]]*:[[:space:]]*"tcp"' || fail "list-subsys shows no tcp path"
	printf '%s\n' "$OUT" | grep -Eq '"State"[[:space:]]*:[[:space:]]*"live"' || fail "list-subsys shows no live path"
	printf '%s\n' "$OUT" | grep -q "traddr=$ADDR" || fail "list-subsys shows no path with traddr=$ADDR"
	printf '%s\n' "$OUT" | grep -q "trsvcid=$IO_PORT" || fail "list-subsys shows no path with trsvcid=$IO_PORT"
	run nvme list-subsys "/dev/$NS" || fail "nvme list-subsys /dev/$NS -> exit $RC"
	printf '%s\n' "$OUT" | grep -q "$CTRL tcp" || fail "list-subsys /dev/$NS shows no '$CTRL tcp' path"
	detail "$NQN: $CTRL tcp traddr=$ADDR trsvcid=$IO_PORT live"
}

case_fio_verify() {
	local rc
	need_ctrl
	[ "$(dev_bytes "$NS")" -ge $((FIO_MB * 1048576)) ] || fail "namespace smaller than $FIO_MB MiB"
	fio_verify_cmd $FIO_MB /tmp/fio-verify.log
	rc=$?
	fio_check /tmp/fio-verify.log $rc
	detail "fio $FIO_ENGINE 2 jobs iodepth 8 bs 4k-128k: wrote and verified $FIO_IO (crc32c), write bw $FIO_BW"
}

case_mkfs_mount() {
	local i m=/mnt/nvmf n
	need_ctrl
	rm -rf /tmp/src && mkdir -p /tmp/src/sub $m
	i=1
	for n in 1 7 33 130 257 1031; do
		dd if=/dev/urandom of=/tmp/src/f$i bs=4096 count=$n 2>/dev/null
		i=$((i + 1))
	done
	dd if=/dev/urandom of=/tmp/src/sub/big bs=1M count=16 2>/dev/null
	echo "hello nvmf" >/tmp/src/sub/small
	(cd /tmp/src && find . -type f | sort | xargs sha256sum) >/tmp/src.sha256
	run mkfs.ext4 -F -q -E nodiscard "/dev/$NS" || fail "mkfs.ext4 -> exit $RC: $(lastline)"
	run mount -t ext4 "/dev/$NS" $m || fail "mount -> exit $RC: $(lastline)"
	cp -a /tmp/src $m/ || fail "copy to ext4 failed"
	sync
	(cd $m/src && sha256sum -c -s /tmp/src.sha256) || fail "checksums differ right after the copy"
	run umount $m || fail "umount -> exit $RC"
	echo 3 >/proc/sys/vm/drop_caches
	run e2fsck -fn "/dev/$NS" || fail "e2fsck -fn found problems (exit $RC)"
	run mount -t ext4 "/dev/$NS" $m || fail "remount -> exit $RC: $(lastline)"
	(cd $m/src && sha256sum -c /tmp/src.sha256) || fail "checksums differ after umount+remount"
	n=$(du -sk $m/src | cut -f1)
	run umount $m || fail "final umount -> exit $RC"
	detail "mkfs.ext4, $(wc -l </tmp/src.sha256) files (${n} KiB) copied, sha256 equal after remount, e2fsck clean"
}

case_blkdiscard() {
	local max gran
	need_ctrl
	max=$(cat "/sys/block/$NS/queue/discard_max_bytes")
	gran=$(cat "/sys/block/$NS/queue/discard_granularity")
	[ "$max" -gt 0 ] || fail "device advertises no discard (discard_max_bytes=0: ONCS.DSM unset?)"
	run $BLKDISCARD -f -v "/dev/$NS" || fail "blkdiscard -> exit $RC: $(lastline)"
	# deallocated blocks must still read without error
	run dd if="/dev/$NS" of=/dev/null bs=1M count=4 iflag=direct || fail "read after discard failed"
	detail "discarded $(dev_bytes "$NS") bytes (discard_max_bytes=$max granularity=$gran), read back ok"
}

# fio_pattern write|check PATTERN LOG: write PATTERN over the first ZERO_MB MiB
# and read it back, or only read them back; fio compares every byte.
fio_pattern() {
	local only=0
	[ "$1" = check ] && only=1
	fio --name="pattern-$1" --filename="/dev/$NS" --ioengine=libaio --direct=1 --iodepth=8 \
		--rw=write --bs=128k --size="${ZERO_MB}M" --verify=pattern --verify_pattern="$2" \
		--do_verify=1 --verify_only=$only --verify_fatal=1 --verify_state_save=0 >"$3" 2>&1
}

case_blkdiscard_zero() {
	local len wz rc
	need_ctrl
	len=$((ZERO_MB * 1048576))
	[ "$(dev_bytes "$NS")" -ge "$len" ] || fail "namespace smaller than $ZERO_MB MiB"
	wz=$(cat "/sys/block/$NS/queue/write_zeroes_max_bytes")
	fio_pattern write 0xa55aa55a /tmp/zero-1.log ||
		fail "writing+verifying a 0xa55aa55a pattern failed: $(grep -i 'verify\|err' /tmp/zero-1.log | head -n 2 | tr '\n' ' ')"
	# the zero check must be able to fail: it does on the pattern
	fio_pattern check 0x00 /tmp/zero-2.log
	rc=$?
	[ $rc != 0 ] && grep -q 'bad pattern' /tmp/zero-2.log ||
		fail "zero check did not flag non-zero data (exit $rc): the check is broken"
	echo "pattern written and verified; zero check rejects it (exit $rc)"
	run $BLKDISCARD -f -z -o 0 -l "$len" "/dev/$NS" || fail "blkdiscard -z -> exit $RC: $(lastline)"
	echo 3 >/proc/sys/vm/drop_caches
	fio_pattern check 0x00 /tmp/zero-3.log ||
		fail "first $ZERO_MB MiB not all zero after blkdiscard -z: $(grep -i 'verify\|bad' /tmp/zero-3.log | head -n 2 | tr '\n' ' ')"
	grep -q 'READ: .*io=' /tmp/zero-3.log || fail "zero check read nothing"
	# the kernel falls back to writing zeroes when Write Zeroes fails; say which
	detail "$ZERO_MB MiB of 0xa55aa55a zeroed by blkdiscard -z, read back all zero (write_zeroes_max_bytes $wz -> $(cat "/sys/block/$NS/queue/write_zeroes_max_bytes"))"
}

case_flush() {
	local vwc
	need_ctrl
	dd if=/dev/urandom of="/dev/$NS" bs=64k count=16 seek=16 oflag=direct 2>/dev/null ||
		fail "write before flush failed"
	run nvme flush "/dev/$NS" || fail "nvme flush -> exit $RC: $(lastline)"
	printf '%s\n' "$OUT" | grep -qi 'flush: success' || fail "nvme flush did not report success: $(lastline)"
	run nvme id-ctrl "/dev/$CTRL" -o json || fail "nvme id-ctrl -> exit $RC"
	vwc=$(num "$(jval vwc)")
	detail "NVMe Flush: success (vwc=$vwc)"
}

case_kato_idle() {
	local c0 id0 k i bad="" idle=$((3 * KATO)) io
	disconnect_all
	connect_ctrl -k "$KATO"
	c0=$CTRL
	id0=$(cat "/sys/class/nvme/$CTRL/cntlid")
	if [ -e "/sys/class/nvme/$CTRL/kato" ]; then
		k=$(cat "/sys/class/nvme/$CTRL/kato")
		[ "$k" = "$KATO" ] || fail "sysfs kato is $k, asked for $KATO"
	fi
	echo "idle ${idle}s with kato ${KATO}s"
	i=0
	while [ $i -lt $idle ]; do
		sleep 1
		i=$((i + 1))
		[ "$(ctrl_state "$c0")" = live ] || bad="$bad t=${i}s:$(ctrl_state "$c0")"
	done
	[ -z "$bad" ] || fail "controller left live while idle:$bad"
	[ "$(ctrl_of_nqn)" = "$c0" ] || fail "controller changed from $c0 to $(ctrl_of_nqn)"
	[ "$(cat "/sys/class/nvme/$c0/cntlid")" = "$id0" ] ||
		fail "cntlid changed $id0 -> $(cat "/sys/class/nvme/$c0/cntlid"): the host reconnected"
	dd if=/dev/urandom of=/tmp/kato.pat bs=64k count=1 2>/dev/null
	dd if=/tmp/kato.pat of="/dev/$NS" bs=64k seek=100 count=1 oflag=direct 2>/dev/null || fail "write after idle failed"
	io=$(dd if="/dev/$NS" bs=64k skip=100 count=1 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$io" = "$(sha256sum </tmp/kato.pat | cut -d' ' -f1)" ] || fail "data read after idle differs"
	detail "kato=${KATO}s, idle ${idle}s: $c0 stayed live, cntlid $id0 kept, I/O ok"
}

case_reset_during_fio() {
	local pid rc id0 id1 t i=0 st r0 w0 r w phase
	need_ctrl
	[ "$(dev_bytes "$NS")" -ge $((FIO_MB * 1048576)) ] || fail "namespace smaller than $FIO_MB MiB"
	id0=$(cat "/sys/class/nvme/$CTRL/cntlid")
	# libaio, not io_uring, here: io_uring sends REQ_NOWAIT writes, and a
	# 6.12 host completes those with EAGAIN while a reset has the queues
	# frozen; fio counts that as an I/O error although nothing was lost.
	FIO_ENGINE=libaio
	# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(ns_io_counts)
	r0=$1 w0=$2
	fio_verify_cmd $FIO_MB /tmp/fio-reset.log &
	pid=$!
	# reset once fio's writes are flowing, so commands are in flight
	while :; do
		# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(ns_io_counts)
		[ $(($2 - w0)) -ge 16 ] && break
		kill -0 $pid 2>/dev/null || fail "fio ended before its writes were seen ($(tail -n 3 /tmp/fio-reset.log | tr '\n' ' '))"
		[ $i -lt 150 ] || fail "fio wrote nothing in 30 s"
		usleep 200000
		i=$((i + 1))
	done
	usleep 300000
	kill -0 $pid 2>/dev/null || fail "fio ended before the reset could be issued"
	# shellcheck disable=SC2046 # two numbers, split on purpose
	set -- $(ns_io_counts)
	r=$(($1 - r0)) w=$(($2 - w0))
	phase="write phase, $w writes done"
	[ "$r" -gt 8 ] && phase="verify phase, $r reads done"
	t=$(date +%s)
	run nvme reset "/dev/$CTRL" || fail "nvme reset -> exit $RC: $(lastline)"
	i=0
	while [ "$(ctrl_state "$CTRL")" != live ]; do
		[ $i -lt 100 ] || fail "controller is $(ctrl_state "$CTRL") 20 s after reset"
		usleep 200000
		i=$((i + 1))
	done
	id1=$(cat "/sys/class/nvme/$CTRL/cntlid")
	st=running
	kill -0 $pid 2>/dev/null || st=finished
	echo "reset done in $(($(date +%s) - t))s during the $phase; fio $st"
	wait $pid
	rc=$?
	fio_check /tmp/fio-reset.log $rc
	detail "nvme reset during fio's $phase (cntlid $id0 -> $id1), live again, fio wrote and verified $FIO_IO"
}

case_digests() {
	local rc
	disconnect_all
	# the kernel refuses the connection if the ICResp does not enable both
	connect_ctrl -g -G
	fio_verify_cmd $DIGEST_FIO_MB /tmp/fio-digest.log
	rc=$?
	fio_check /tmp/fio-digest.log $rc
	detail "connected with header+data digests (crc32c), fio wrote and verified $FIO_IO"
}

case_disconnect() {
	local n i=0 ns c
	need_ctrl
	ns=$NS c=$CTRL
	run nvme disconnect -n "$NQN" || fail "nvme disconnect -> exit $RC: $(lastline)"
	n=$(printf '%s\n' "$OUT" | sed -n 's/.*disconnected \([0-9]*\) controller.*/\1/p')
	is_uint "$n" && [ "$n" -ge 1 ] || fail "nvme disconnect reported '$(lastline)'"
	while ctrl_of_nqn >/dev/null || [ -e "/dev/$ns" ]; do
		[ $i -lt 50 ] || fail "$c or /dev/$ns still present 10 s after disconnect"
		usleep 200000
		i=$((i + 1))
	done
	detail "disconnected $n controller(s); $c and /dev/$ns gone"
}

# blktests nvme/040 (reset and delete a controller during fio) while the
# target delays every I/O completion by DELAY_MS..DELAY_MAX_MS (seed 000).
nvme040_fio() {
	fio --name=nvme040 --filename="/dev/$NS" --ioengine=libaio --direct=1 \
		--rw=randwrite --bsrange=4k-64k --iodepth=16 --size=32M \
		--time_based --runtime=120 --verify=crc32c --verify_backlog=32 \
		--verify_fatal=1 --verify_state_save=0 --randrepeat=0 >"$1" 2>&1
}

case_nvme040_delay() {
	local cyc=0 pid rc i t c w0 hits fio_log fio_err ex resets="" discs="" exits="" errs="" errtxt=""
	local verr rule
	# every rule of an earlier case goes (a delay would slow everything)
	rpc_ok remove_fault '{"id": 0}'
	dmesg_mark
	rpc_add_fault "{\"action\": \"delay\", \"nqn\": \"$NQN\", \"queue\": \"io\", \"delay_ms\": $DELAY_MS, \"delay_max_ms\": $DELAY_MAX_MS}"
	rule=$FAULT_ID
	while [ $cyc -lt $NVME040_CYCLES ]; do
		cyc=$((cyc + 1))
		echo "=== cycle $cyc/$NVME040_CYCLES"
		disconnect_all
		connect_ctrl
		c=$CTRL
		fio_log=/tmp/nvme040-$cyc.log
		# shellcheck disable=SC2046 # two numbers, split on purpose
		set -- $(ns_io_counts)
		w0=$2
		nvme040_fio "$fio_log" &
		pid=$!
		i=0
		while :; do
			# shellcheck disable=SC2046
			set -- $(ns_io_counts)
			[ $(($2 - w0)) -ge 16 ] && break
			kill -0 $pid 2>/dev/null || fail "cycle $cyc: fio ended before its writes were seen: $(grep -i 'err' "$fio_log" | head -n 2 | tr '\n' ' ')"
			[ $i -lt 150 ] || fail "cycle $cyc: fio completed fewer than 16 writes in 30 s"
			usleep 200000
			i=$((i + 1))
		done
		# reset with delayed commands in flight
		t=$(now_cs)
		run nvme reset "/dev/$c" || fail "cycle $cyc: nvme reset -> exit $RC: $(lastline)"
		i=0
		while [ "$(ctrl_state "$c")" != live ]; do
			[ $i -lt 150 ] || fail "cycle $cyc: $c is $(ctrl_state "$c") 30 s after nvme reset"
			usleep 200000
			i=$((i + 1))
		done
		resets="$resets $(secs_since "$t")"
		# the reset must be transparent to fio: its I/O goes on
		# shellcheck disable=SC2046
		set -- $(ns_io_counts)
		w0=$(($1 + $2))
		i=0
		while :; do
			kill -0 $pid 2>/dev/null || fail "cycle $cyc: fio ended after the reset, before the disconnect: $(grep -iE 'error|bad' "$fio_log" | head -n 2 | tr '\n' ' ')"
			# shellcheck disable=SC2046
			set -- $(ns_io_counts)
			[ $(($1 + $2 - w0)) -ge 8 ] && break
			[ $i -lt 100 ] || fail "cycle $cyc: no I/O completed in the 20 s after the reset"
			usleep 200000
			i=$((i + 1))
		done
		# delete the controller while fio runs
		t=$(now_cs)
		run nvme disconnect -n "$NQN" || fail "cycle $cyc: nvme disconnect -> exit $RC: $(lastline)"
		i=0
		while ctrl_of_nqn >/dev/null; do
			[ $i -lt 150 ] || fail "cycle $cyc: $(ctrl_of_nqn) still present 30 s after nvme disconnect"
			usleep 200000
			i=$((i + 1))
		done
		discs="$discs $(secs_since "$t")"
		i=0
		while kill -0 $pid 2>/dev/null; do
			[ $i -lt 300 ] || fail "cycle $cyc: fio still running 60 s after the disconnect (I/O stuck?)"
			usleep 200000
			i=$((i + 1))
		done
		wait $pid
		rc=$?
		exits="$exits $(secs_since "$t")"
		sed 's/^/  fio| /' "$fio_log" | grep -iE 'err|bad|verify|io=' | head -n 12
		# I/O errors are expected here, wrong data never is
		verr=$(grep -iE 'verify: bad|verify failed|bad magic|crc32c: (verify|mismatch)|bad header' "$fio_log" | head -n 2 | tr '\n' ' ')
		[ -z "$verr" ] || fail "cycle $cyc: fio read back wrong data: $verr"
		fio_err=$(sed -n 's/.*[ ,]error=\([^)]*\)).*/\1/p' "$fio_log" | head -n 1)
		[ -n "$fio_err" ] || fio_err=$(grep -oE 'err= *[0-9]+' "$fio_log" | head -n 1)
		errs="$errs $rc"
		case "; $errtxt; " in *"; ${fio_err:-?}; "*) ;; *) errtxt="${errtxt:+$errtxt; }${fio_err:-?}" ;; esac
		echo "cycle $cyc: live again ${resets##* } after nvme reset; controller gone ${discs##* } and fio ended (exit $rc, ${fio_err:-no error text}) ${exits##* } after nvme disconnect"
		dmesg_check "after cycle $cyc"
	done
	# the target still serves: connect, verified I/O (the delay rule still on)
	connect_ctrl
	ex=/tmp/nvme040-final.log
	fio --name=after --filename="/dev/$NS" --ioengine=libaio --direct=1 --rw=randwrite \
		--bsrange=4k-64k --iodepth=8 --size=4M --offset=40M --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --verify_state_save=0 >"$ex" 2>&1
	rc=$?
	fio_check "$ex" $rc
	rpc_ok get_faults
	hits=$(rpc_find id "$rule" hits)
	is_uint "$hits" && [ "$hits" -gt 0 ] || fail "the delay rule $rule reports hits='$hits': it delayed nothing"
	rpc_ok remove_fault "{\"id\": $rule}"
	RPC_RULES=""
	dmesg_check "at the end"
	detail "$NVME040_CYCLES x (fio, nvme reset, nvme disconnect) with I/O completions delayed ${DELAY_MS}-${DELAY_MAX_MS} ms ($hits delayed): live again after${resets}; fio ended${exits} after disconnect (exit${errs}: $errtxt); kernel log clean; reconnected, $FIO_IO verified"
}

# Seed 002 with the Linux host: keep-alive must go out while admin commands
# are outstanding. The target holds HELD_CMDS Get Features; for 3 x KATO the
# controller must stay live on both sides, Keep Alive keep arriving, and no
# keep-alive error be logged; released, every held command succeeds.
case_ka_held_admin() {
	local c id0 k i n pids="" held rel t0 bad="" ka0 ka samples="" last st kato_ms ok ref
	local hold=$((3 * KATO + 3)) out p next held_s
	disconnect_all
	rpc_ok remove_fault '{"id": 0}'
	connect_ctrl -k "$KATO"
	c=$CTRL
	id0=$(cat "/sys/class/nvme/$c/cntlid")
	if [ -e "/sys/class/nvme/$c/kato" ]; then
		k=$(cat "/sys/class/nvme/$c/kato")
		[ "$k" = "$KATO" ] || fail "sysfs kato is $k, asked for $KATO"
	fi
	# the command works and what it returns, before any rule
	run nvme get-feature "/dev/$c" --feature-id=7 || fail "nvme get-feature -> exit $RC: $(lastline)"
	ref=$(printf '%s\n' "$OUT" | grep 'get-feature:' | head -n 1)
	[ -n "$ref" ] || fail "nvme get-feature printed no value: $(lastline)"
	rpc_ok get_controllers "{\"nqn\": \"$NQN\"}"
	st=$(rpc_find cntlid "$id0" state)
	kato_ms=$(rpc_find cntlid "$id0" kato_ms)
	[ "$st" = live ] || fail "target lists cntlid $id0 as '$st', not live"
	[ "$kato_ms" = $((KATO * 1000)) ] || fail "target lists kato_ms '$kato_ms' for cntlid $id0, expected $((KATO * 1000))"
	rpc_add_fault "{\"action\": \"hold\", \"nqn\": \"$NQN\", \"cntlid\": $id0, \"queue\": \"admin\", \"opcode\": 10}"
	dmesg_mark
	i=0
	while [ $i -lt $HELD_CMDS ]; do
		i=$((i + 1))
		rm -f /tmp/held-$i.rc
		(nvme get-feature "/dev/$c" --feature-id=7 >/tmp/held-$i.out 2>&1; echo $? >/tmp/held-$i.rc) &
		pids="$pids $!"
	done
	# all of them held by the target
	i=0
	while :; do
		rpc_ok get_faults
		held=$(rpc_find id "$FAULT_ID" held)
		is_uint "$held" && [ "$held" -ge $HELD_CMDS ] && break
		[ $i -lt 20 ] || fail "the target holds '$held' of $HELD_CMDS Get Features after 20 s"
		sleep 1
		i=$((i + 1))
	done
	rpc_ok get_controllers "{\"nqn\": \"$NQN\"}"
	ka0=$(rpc_find cntlid "$id0" keep_alive_count)
	is_uint "$ka0" || fail "get_controllers gives no keep_alive_count for cntlid $id0"
	samples="t=0s:$ka0"
	echo "holding $held Get Features for ${hold}s (kato ${KATO}s); keep_alive_count $ka0"
	# by the clock: under TCG a loop turn takes well over its 1 s of sleep
	t0=$(date +%s)
	next=6
	while :; do
		sleep 1
		i=$(($(date +%s) - t0))
		[ "$(ctrl_state "$c")" = live ] || bad="$bad t=${i}s:$(ctrl_state "$c")"
		[ $i -ge $hold ] && break
		if [ $i -ge $next ]; then
			host_rpc get_controllers "{\"nqn\": \"$NQN\"}" && samples="$samples t=${i}s:$(rpc_find cntlid "$id0" keep_alive_count)"
			next=$((next + 6))
		fi
	done
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || bad="$bad a-held-command-ended-early"
	done
	rpc_ok get_controllers "{\"nqn\": \"$NQN\"}"
	ka=$(rpc_find cntlid "$id0" keep_alive_count)
	st=$(rpc_find cntlid "$id0" state)
	last=$(rpc_find cntlid "$id0" last_keep_alive_ms)
	held_s=$(($(date +%s) - t0))
	samples="$samples t=${held_s}s:$ka"
	echo "keep_alive_count during the hold: $samples; last keep-alive ${last} ms ago; target state $st"
	[ -z "$bad" ] || fail "during the hold:$bad (keep_alive_count $samples)"
	[ "$st" = live ] || fail "target lists cntlid $id0 as '$st' after the hold"
	is_uint "$ka" && [ $((ka - ka0)) -ge 2 ] ||
		fail "keep_alive_count $ka0 -> '$ka' in ${held_s}s of hold: Keep Alive did not get through"
	is_uint "$last" && [ "$last" -lt $((KATO * 1000)) ] ||
		fail "last Keep Alive '$last' ms ago at the end of the hold (kato ${KATO}s)"
	out=$(dmesg_since | grep -iE 'keep.?alive|timeout|error recovery|reconnect|resetting' | head -n 3)
	[ -z "$out" ] || fail "kernel log during the hold: $(printf '%s\n' "$out" | tr '\n' ' ' | cut -c1-300)"
	[ "$(ctrl_of_nqn)" = "$c" ] && [ "$(cat "/sys/class/nvme/$c/cntlid")" = "$id0" ] ||
		fail "controller changed during the hold: the host reconnected"
	# release: every held command completes, with the right value
	rpc_ok release_faults "{\"id\": $FAULT_ID}"
	rel=$(rpc_val released)
	rpc_ok remove_fault "{\"id\": $FAULT_ID}"
	RPC_RULES=""
	is_uint "$rel" && [ "$rel" -ge $HELD_CMDS ] || fail "release_faults released '$rel' commands, $held were held"
	i=0
	for p in $pids; do
		while kill -0 "$p" 2>/dev/null; do
			[ $i -lt 75 ] || fail "held Get Features still pending 15 s after release_faults (released '$rel')"
			usleep 200000
			i=$((i + 1))
		done
	done
	ok=0
	n=0
	while [ $n -lt $HELD_CMDS ]; do
		n=$((n + 1))
		sed "s/^/  held $n| /" /tmp/held-$n.out
		[ "$(cat /tmp/held-$n.rc 2>/dev/null)" = 0 ] || fail "held Get Features $n -> exit $(cat /tmp/held-$n.rc 2>/dev/null): $(tail -n 1 /tmp/held-$n.out)"
		grep -qF "$ref" /tmp/held-$n.out || fail "held Get Features $n printed '$(grep 'get-feature' /tmp/held-$n.out)', not '$ref'"
		ok=$((ok + 1))
	done
	dmesg_check "during ka_held_admin"
	disconnect_all
	detail "kato ${KATO}s, $held Get Features held ${held_s}s: $c live throughout, keep_alive_count $samples, no keep-alive errors; released $rel, $ok/$HELD_CMDS completed ok"
}

# ---------------------------------------------------------------- multipath (ANA)

# The Linux host's native multipath against two ports of the target: one
# namespace head (nvmeSnN) over two controllers, one per port, each with its
# hidden path device (nvmeScCnN) whose sysfs ana_state is what the host made of
# the ANA log. ANA states are set per port for ANA group 1 (the namespace's):
# through the RPC bridge (set_ana_state), or in the self-test on nvmet's configfs.
MP_WAIT=30             # seconds for the host to show an ANA state, or a path to go or come
MP_RECONNECT_DELAY=2   # nvme connect -c: seconds between a lost path's reconnect attempts
MP_FIO_MB=32           # multipath_ana_flip_fio: one fio round (write + verify), 2 jobs
MP_IOS=64              # I/Os the path that should carry the I/O completes in each state
MP_CYCLES=2            # multipath_ana_flip_fio: passes through the ANA sequence
NVMET_CFG=/sys/kernel/config/nvmet
# self-test: nvmet_setup made ports 1 (PORT) and 2 (DISC-PORT); PORT2 is port 3
NVMET_PORT2=3

MP_PORTID1="" MP_PORTID2="" MP_ADDED=0 MP_TOUCHED=0
# ANA state last set on port 1 and 2, and the change count our target answered
MP_CUR1="" MP_CUR2="" MP_CHG1="" MP_CHG2=""

# rpc_port_of TRSVCID FIELD: FIELD (portid, addr.traddr, ...) of the port with
# that trsvcid in the last get_ports answer.
rpc_port_of() {
	awk -v s="$1" -v f="$2" '
		$1 != "RPC-VAL" { next }
		{ v = $0; sub(/^RPC-VAL [^ ]* /, "", v); vals[$2] = v }
		$2 ~ /^[0-9]+\.addr\.trsvcid$/ && v == s && idx == "" { idx = $2; sub(/\..*/, "", idx) }
		END { if (idx != "" && ((idx "." f) in vals)) print vals[idx "." f] }' "$RPC_ANS"
}

# mp_target_setup: export NQN on a second port, PORT2 (ANA group 1 optimized
# there, as a new port starts). Our target: add_port through the bridge, at
# port 1's traddr, with the next free portid; self-test: nvmet port 3.
mp_target_setup() {
	local p traddr old max
	MP_TOUCHED=1
	if [ "$setup" = 1 ]; then
		p=$NVMET_CFG/ports/$NVMET_PORT2
		[ -d "$p" ] || mkdir "$p" || fail "mkdir nvmet port $NVMET_PORT2"
		if [ ! -e "$p/subsystems/$NQN" ]; then
			echo tcp >"$p/addr_trtype"
			echo ipv4 >"$p/addr_adrfam"
			echo "$ADDR" >"$p/addr_traddr"
			echo "$PORT2" >"$p/addr_trsvcid"
			ln -s "$NVMET_CFG/subsystems/$NQN" "$p/subsystems/$NQN" ||
				fail "enable nvmet port $NVMET_PORT2 ($ADDR:$PORT2), see dmesg"
		fi
		MP_ADDED=1
		mp_set_port 2 optimized
		mp_set_port 1 optimized
		return 0
	fi
	rpc_ok get_ports
	MP_PORTID1=$(rpc_port_of "$IO_PORT" portid)
	traddr=$(rpc_port_of "$IO_PORT" addr.traddr)
	is_uint "$MP_PORTID1" && [ -n "$traddr" ] || fail "get_ports lists no port with trsvcid $IO_PORT"
	old=$(rpc_port_of "$PORT2" portid)
	if is_uint "$old"; then
		# left by a guest that did not finish this case
		echo "port $old (trsvcid $PORT2) exists already: removing it"
		rpc_ok remove_port "{\"portid\": $old}"
		rpc_ok get_ports
	fi
	max=$(awk '$1 == "RPC-VAL" && $2 ~ /^[0-9]+\.portid$/ && $3 + 0 > m { m = $3 + 0 } END { print m + 0 }' "$RPC_ANS")
	MP_PORTID2=$((max + 1))
	rpc_ok add_port "{\"portid\": $MP_PORTID2, \"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"$traddr\", \"trsvcid\": \"$PORT2\", \"subsystems\": [\"$NQN\"]}"
	MP_ADDED=1
	mp_set_port 2 optimized
	mp_set_port 1 optimized
}

# mp_set_port 1|2 STATE: set ANA group 1's state on the target's port 1 (PORT)
# or 2 (PORT2). Our target answers with the port's new change count (MP_CHGCNT,
# kept as MP_CHG1 or MP_CHG2).
mp_set_port() {
	local pid
	MP_CHGCNT=""
	if [ "$setup" = 1 ]; then
		pid=1
		[ "$1" = 2 ] && pid=$NVMET_PORT2
		echo "nvmet port $pid: ana_groups/1/ana_state = $2"
		echo "$2" >"$NVMET_CFG/ports/$pid/ana_groups/1/ana_state" ||
			fail "nvmet port $pid: writing ana_state $2 failed"
	else
		pid=$MP_PORTID1
		[ "$1" = 2 ] && pid=$MP_PORTID2
		rpc_ok set_ana_state "{\"portid\": $pid, \"grpid\": 1, \"state\": \"$2\"}"
		[ "$(rpc_val state)" = "$2" ] || fail "set_ana_state answered state '$(rpc_val state)', asked $2"
		MP_CHGCNT=$(rpc_val chgcnt)
		is_uint "$MP_CHGCNT" || fail "set_ana_state answered chgcnt '$MP_CHGCNT'"
	fi
	eval "MP_CUR$1=\$2 MP_CHG$1=\$MP_CHGCNT"
}

# mp_port_enable 2 on|off: take the target's port 2 down (its controllers go,
# nothing listens) or up again. Self-test: unlink / link the subsystem (nvmet
# then deletes the port's controllers and stops listening, or listens again).
mp_port_enable() {
	local p=$NVMET_CFG/ports/$NVMET_PORT2 m=enable_port want=true
	if [ "$setup" = 1 ]; then
		if [ "$2" = off ]; then
			rm "$p/subsystems/$NQN" || fail "unlink $NQN from nvmet port $NVMET_PORT2"
		else
			ln -s "$NVMET_CFG/subsystems/$NQN" "$p/subsystems/$NQN" || fail "relink nvmet port $NVMET_PORT2"
		fi
		return 0
	fi
	[ "$2" = off ] && m=disable_port want=false
	rpc_ok $m "{\"portid\": $MP_PORTID2}"
	[ "$(rpc_val enabled)" = $want ] || fail "$m answered enabled='$(rpc_val enabled)'"
}

# mp_target_restore: what mp_target_setup and the cases changed, undone, once
# (the case calls it, and its EXIT trap: never fails, pass or fail).
mp_target_restore() {
	local p=$NVMET_CFG/ports/$NVMET_PORT2
	[ "$MP_TOUCHED" = 1 ] || return 0
	MP_TOUCHED=0
	if [ "$setup" = 1 ]; then
		rm -f "$p/subsystems/$NQN"
		[ -d "$p" ] && rmdir "$p"
		echo optimized >"$NVMET_CFG/ports/1/ana_groups/1/ana_state"
	else
		[ "$MP_ADDED" = 1 ] && host_rpc remove_port "{\"portid\": $MP_PORTID2}"
		[ -n "$MP_PORTID1" ] && host_rpc set_ana_state "{\"portid\": $MP_PORTID1, \"grpid\": 1, \"state\": \"optimized\"}"
	fi
	MP_ADDED=0
}

# mp_ctrl_on PORT: the tcp controller of NQN connected to trsvcid PORT.
mp_ctrl_on() {
	local d
	for d in /sys/class/nvme/nvme*; do
		[ "$(cat "$d/transport" 2>/dev/null)" = tcp ] || continue
		[ "$(cat "$d/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
		case ",$(cat "$d/address" 2>/dev/null)," in
		*",trsvcid=$1,"*) echo "${d##*/}"; return 0 ;;
		esac
	done
	return 1
}
# mp_path CTRL: the controller's path device to the namespace (nvmeScCnN).
mp_path() {
	local d
	for d in /sys/class/nvme/"$1"/nvme*c*n*; do
		[ -e "$d/stat" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}
# mp_ana 1|2: the ANA state the host shows for path 1 (PORT) or 2 (PORT2)
mp_ana() {
	if [ "$1" = 1 ]; then
		cat "/sys/class/nvme/$MC1/$MP1/ana_state" 2>/dev/null || echo none
	else
		cat "/sys/class/nvme/$MC2/$MP2/ana_state" 2>/dev/null || echo none
	fi
}
# mp_ios 1|2: completed reads + writes of path 1 or 2
mp_ios() {
	local c=$MC1 p=$MP1 r w
	[ "$1" = 2 ] && c=$MC2 p=$MP2
	read -r r _ _ _ w _ <"/sys/class/nvme/$c/$p/stat" || { echo 0; return; }
	echo $((r + w))
}

# mp_connect: connect NQN through PORT and PORT2; wait until both controllers
# are live with a path device under one head. Sets MC1 MC2 (controllers), MP1
# MP2 (their paths), NS (the head) and SUBSYS (its nvme-subsystem folder).
mp_connect() {
	local i=0 s
	disconnect_all
	run nvme connect -t tcp -a "$ADDR" -s "$IO_PORT" -n "$NQN" -c "$MP_RECONNECT_DELAY" ||
		fail "nvme connect -s $IO_PORT -> exit $RC: $(lastline)"
	run nvme connect -t tcp -a "$ADDR" -s "$PORT2" -n "$NQN" -c "$MP_RECONNECT_DELAY" ||
		fail "nvme connect -s $PORT2 (second path) -> exit $RC: $(lastline)"
	while :; do
		if MC1=$(mp_ctrl_on "$IO_PORT") && MC2=$(mp_ctrl_on "$PORT2") &&
			[ "$(ctrl_state "$MC1")" = live ] && [ "$(ctrl_state "$MC2")" = live ] &&
			MP1=$(mp_path "$MC1") && MP2=$(mp_path "$MC2") && NS=$(ns_of_ctrl "$MC1"); then
			break
		fi
		[ $i -lt $((MP_WAIT * 5)) ] ||
			fail "no two live paths ${MP_WAIT}s after connecting: port $IO_PORT: ${MC1:-none} $(ctrl_state "$MC1") path ${MP1:-none}; port $PORT2: ${MC2:-none} $(ctrl_state "$MC2") path ${MP2:-none}"
		usleep 200000
		i=$((i + 1))
	done
	SUBSYS=""
	for s in /sys/class/nvme-subsystem/nvme-subsys*; do
		[ -e "$s/$MC1" ] && SUBSYS=$s
	done
	[ -n "$SUBSYS" ] && [ -e "$SUBSYS/$MC2" ] ||
		fail "$MC1 and $MC2 are not in one nvme-subsystem (${SUBSYS:-none} has $(ls "${SUBSYS:-/nonexistent}" 2>/dev/null | tr '\n' ' '))"
	echo "paths: $MC1 ($IO_PORT) -> $MP1, $MC2 ($PORT2) -> $MP2; head /dev/$NS in ${SUBSYS##*/}"
}

# mp_usable STATE: the host may send I/O to a path in STATE
mp_usable() { [ "$1" = optimized ] || [ "$1" = non-optimized ]; }

# mp_state S1 S2: set port 1 to S1 and port 2 to S2 on the target, the one
# that becomes usable first (so the host always keeps a usable path), and wait
# until the host shows both. MP_SEEN: how long the host took, in seconds.
mp_state() {
	local i=0 t
	t=$(now_cs)
	if mp_usable "$2" && ! mp_usable "$1"; then
		[ "$MP_CUR2" = "$2" ] || mp_set_port 2 "$2"
		[ "$MP_CUR1" = "$1" ] || mp_set_port 1 "$1"
	else
		[ "$MP_CUR1" = "$1" ] || mp_set_port 1 "$1"
		[ "$MP_CUR2" = "$2" ] || mp_set_port 2 "$2"
	fi
	while [ "$(mp_ana 1)" != "$1" ] || [ "$(mp_ana 2)" != "$2" ]; do
		[ $i -lt $((MP_WAIT * 5)) ] ||
			fail "set $1/$2: after ${MP_WAIT}s the host shows $MP1 $(mp_ana 1) ($MC1 $(ctrl_state "$MC1")), $MP2 $(mp_ana 2) ($MC2 $(ctrl_state "$MC2"))"
		usleep 200000
		i=$((i + 1))
	done
	t=$(($(now_cs) - t))
	MP_SEEN=$((t / 100)).$((t % 100 / 10))s
	MP_SEEN_ALL="${MP_SEEN_ALL:+$MP_SEEN_ALL }$MP_SEEN"
	[ "$t" -le "${MP_SEEN_MAX_CS:-0}" ] || MP_SEEN_MAX_CS=$t MP_SEEN_MAX=$MP_SEEN
	echo "ANA $1/$2: seen by the host in $MP_SEEN"
}

# mp_list_subsys S1 S2: nvme list-subsys of the head, plain and JSON, shows
# both paths live, at their addresses, in S1 and S2; each controller's ANA log
# gives group 1 the state of its port.
mp_list_subsys() {
	local s1=$1 s2=$2 k c port want line got chg rchg
	run nvme list-subsys "/dev/$NS" || fail "nvme list-subsys /dev/$NS -> exit $RC: $(lastline)"
	printf '%s\n' "$OUT" | grep -q "NQN=$NQN\$" || fail "list-subsys /dev/$NS does not name NQN=$NQN"
	for k in 1 2; do
		c=$MC1 port=$IO_PORT want=$s1
		[ $k = 2 ] && c=$MC2 port=$PORT2 want=$s2
		# " +- nvme1 tcp traddr=A,trsvcid=P,... live optimized"
		line=$(printf '%s\n' "$OUT" | awk -v c="$c" '$1 == "+-" && $2 == c')
		[ -n "$line" ] || fail "list-subsys /dev/$NS has no path $c (port $port)"
		# shellcheck disable=SC2086 # the line's words, split on purpose
		set -- $line
		[ "$3" = tcp ] && [ "$5" = live ] && [ "$6" = "$want" ] ||
			fail "list-subsys: '$line', expected $c tcp ... live $want"
		case ",$4," in *",trsvcid=$port,"*) ;; *) fail "list-subsys: $c address '$4' lacks trsvcid=$port" ;; esac
	done
	run nvme list-subsys -o json "/dev/$NS" || fail "nvme list-subsys -o json /dev/$NS -> exit $RC: $(lastline)"
	got=$(printf '%s\n' "$OUT" | awk '
		function val(l) { sub(/^[^:]*:[[:space:]]*"/, "", l); sub(/".*/, "", l); return l }
		/"Name"/ { name = val($0) }
		/"Address"/ { addr = val($0) }
		/"State"/ { st = val($0) }
		/"ANAState"/ { print name, addr, st, val($0) }')
	for k in 1 2; do
		c=$MC1 port=$IO_PORT want=$s1
		[ $k = 2 ] && c=$MC2 port=$PORT2 want=$s2
		line=$(printf '%s\n' "$got" | awk -v c="$c" '$1 == c')
		[ -n "$line" ] || fail "list-subsys -o json /dev/$NS has no path $c with an ANAState"
		case "$line" in
		"$c "*",trsvcid=$port,"*" live $want" | "$c "*",trsvcid=$port live $want") ;;
		*) fail "list-subsys -o json: path '$line', expected $c trsvcid=$port live $want" ;;
		esac
	done
	# the target's side of it: each controller reads its own port's state, and
	# (our target) the change count set_ana_state answered for that port
	MP_LOGCHG=""
	for k in 1 2; do
		c=$MC1 want=$s1 rchg=$MP_CHG1
		[ $k = 2 ] && c=$MC2 want=$s2 rchg=$MP_CHG2
		run nvme ana-log "/dev/$c" || fail "nvme ana-log /dev/$c -> exit $RC: $(lastline)"
		got=$(printf '%s\n' "$OUT" | awk '$1 == "grpid" { g = $3 } $1 == "state" && g == 1 { print $3; exit }')
		chg=$(printf '%s\n' "$OUT" | awk '$1 == "chgcnt" { print $3; exit }')
		[ "$got" = "$want" ] || fail "ANA log of $c: group 1 is '$got', expected $want"
		is_uint "$chg" && [ "$chg" -gt 0 ] || fail "ANA log of $c: change count '$chg'"
		[ -z "$rchg" ] || [ "$chg" = "$rchg" ] ||
			fail "ANA log of $c: change count $chg, set_ana_state answered $rchg for its port"
		MP_LOGCHG="$MP_LOGCHG $chg"
	done
	echo "list-subsys (plain, json) and ANA logs: $MC1 live $s1, $MC2 live $s2 (ANA log chgcnt$MP_LOGCHG)"
}

# mp_cleanup: the case's EXIT trap: stop its fio, drop both paths, restore the target.
mp_cleanup() {
	local i=0
	if [ -n "${MP_FIO_LOOP:-}" ] && kill -0 "$MP_FIO_LOOP" 2>/dev/null; then
		: >"$MP_DONE"
		[ -s /tmp/mp-fio.pid ] && kill "$(cat /tmp/mp-fio.pid)" 2>/dev/null
	fi
	if ctrl_of_nqn >/dev/null; then
		nvme disconnect -n "$NQN" >/dev/null 2>&1
		while ctrl_of_nqn >/dev/null && [ $i -lt 100 ]; do
			usleep 200000
			i=$((i + 1))
		done
	fi
	mp_target_restore
	rpc_cleanup
}

case_multipath_list_subsys() {
	local mp
	mp=$(cat /sys/module/nvme_core/parameters/multipath 2>/dev/null)
	[ "$mp" = Y ] || fail "nvme_core.multipath is '$mp': the host's native multipath is off"
	trap mp_cleanup EXIT
	mp_target_setup
	mp_connect
	# one head for the two paths: nvmeScCnN and nvmeScDnN both belong to nvmeSnN
	[ "${MP1%%c*}n${MP1##*n}" = "$NS" ] && [ "${MP2%%c*}n${MP2##*n}" = "$NS" ] ||
		fail "paths $MP1 and $MP2 do not both belong to head $NS"
	[ -b "/dev/$NS" ] && [ -e "$SUBSYS/$NS" ] || fail "head /dev/$NS is not a block device of ${SUBSYS##*/}"
	[ "$(cat "/sys/block/$NS/size")" = "$(cat "/sys/class/nvme/$MC2/$MP2/size")" ] ||
		fail "head size $(cat "/sys/block/$NS/size") != path $MP2 size"
	MP_SEEN_ALL=""
	mp_state optimized non-optimized
	mp_list_subsys optimized non-optimized
	mp_state inaccessible optimized
	mp_list_subsys inaccessible optimized
	mp_state non-optimized persistent-loss
	mp_list_subsys non-optimized persistent-loss
	mp_state optimized non-optimized
	mp_list_subsys optimized non-optimized
	disconnect_all
	mp_target_restore
	detail "${SUBSYS##*/}: head /dev/$NS over $MC1 (port $IO_PORT) and $MC2 (port $PORT2), multipath=Y; list-subsys (plain and json) and each controller's ANA log showed optimized/non-optimized, inaccessible/optimized, non-optimized/persistent-loss, optimized/non-optimized (seen by the host in $MP_SEEN_ALL; ANA log chgcnt$MP_LOGCHG)"
}

# One ANA state and the path that must carry the I/O in it (the optimized one,
# else the non-optimized one): mp_flip S1 S2 CARRIER.
mp_flip() {
	local k=$3 n0 i=0
	mp_state "$1" "$2"
	n0=$(mp_ios "$k")
	while [ $(($(mp_ios "$k") - n0)) -lt $MP_IOS ]; do
		kill -0 "$MP_FIO_LOOP" 2>/dev/null || mp_fio_failed "in state $1/$2"
		[ $i -lt $((MP_WAIT * 10)) ] ||
			fail "state $1/$2: path $k completed $(($(mp_ios "$k") - n0)) I/Os in $((MP_WAIT * 2))s (path 1: $(mp_ios 1), path 2: $(mp_ios 2))"
		usleep 200000
		i=$((i + 1))
	done
	MP_STEPS=$((MP_STEPS + 1))
}

# the fio rounds, in the background until MP_DONE exists; one line per round
# in /tmp/mp-fio.rounds; the first failed round ends it.
mp_fio_loop() {
	local n=0 rc me
	# niced (fio inherits it): under TCG fio's crc32c takes every vCPU cycle it
	# gets, and the case's own RPC calls and sysfs polls then take seconds each.
	# /proc/self read by the shell itself (no fork) is this subshell.
	read -r me _ </proc/self/stat
	renice -n 19 -p "$me" >/dev/null
	while [ ! -e "$MP_DONE" ]; do
		n=$((n + 1))
		fio_verify_cmd $MP_FIO_MB /tmp/mp-fio-$n.log /tmp/mp-fio.pid >/dev/null
		rc=$?
		rm -f /tmp/mp-fio.pid
		echo "$n $rc" >>/tmp/mp-fio.rounds
		[ $rc = 0 ] || return 1
	done
}
mp_fio_failed() {
	local last
	last=$(tail -n 1 /tmp/mp-fio.rounds 2>/dev/null)
	sed 's/^/  fio| /' "/tmp/mp-fio-${last%% *}.log" 2>/dev/null | tail -n 30
	fail "fio round ${last%% *} ended with exit ${last##* } $1: $(grep -iE 'error|verify|bad' "/tmp/mp-fio-${last%% *}.log" 2>/dev/null | head -n 2 | tr '\n' ' ')"
}

case_multipath_ana_flip_fio() {
	local cyc=0 i rc n io0_1 io0_2 t down back rounds=0 mib=0 f rnd anatt resets bad c1 c2
	trap mp_cleanup EXIT
	mp_target_setup
	mp_connect
	[ "$(dev_bytes "$NS")" -ge $((MP_FIO_MB * 1048576)) ] || fail "namespace smaller than $MP_FIO_MB MiB"
	c1=$MC1 c2=$MC2
	mp_state optimized non-optimized
	dmesg_mark
	io0_1=$(mp_ios 1) io0_2=$(mp_ios 2)
	MP_DONE=/tmp/mp-fio.done MP_STEPS=0
	rm -f "$MP_DONE" /tmp/mp-fio.rounds /tmp/mp-fio.pid /tmp/mp-fio-*.log
	# libaio: io_uring's non-blocking writes may end in EAGAIN while the host
	# requeues I/O between paths (see reset_during_fio)
	FIO_ENGINE=libaio
	mp_fio_loop &
	MP_FIO_LOOP=$!
	while [ $cyc -lt $MP_CYCLES ]; do
		cyc=$((cyc + 1))
		echo "=== cycle $cyc/$MP_CYCLES"
		mp_flip optimized non-optimized 1
		mp_flip inaccessible optimized 2      # failover
		mp_flip optimized inaccessible 1      # failback
		mp_flip change optimized 2            # port 1 in transition, port 2 back from inaccessible
		mp_flip optimized change 1
		mp_flip non-optimized optimized 2
		mp_flip persistent-loss optimized 2
		mp_flip optimized non-optimized 1
		[ $cyc = 1 ] || continue
		# port 2 goes away under I/O and comes back
		t=$(now_cs)
		mp_port_enable 2 off
		i=0
		while [ "$(ctrl_state "$MC2")" = live ]; do
			[ $i -lt $((MP_WAIT * 5)) ] || fail "$MC2 still live ${MP_WAIT}s after port $PORT2 was disabled"
			usleep 200000
			i=$((i + 1))
		done
		down=$(secs_since "$t")
		mp_flip optimized non-optimized 1
		[ "$(ctrl_state "$MC2")" != live ] || fail "$MC2 is live again while port $PORT2 is disabled"
		echo "port $PORT2 disabled: $MC2 $(ctrl_state "$MC2") after $down, I/O went on through $MC1"
		t=$(now_cs)
		mp_port_enable 2 on
		i=0
		while [ "$(ctrl_state "$MC2")" != live ] || [ "$(mp_ana 2)" != non-optimized ]; do
			[ $i -lt $((MP_WAIT * 10)) ] ||
				fail "$MC2 is $(ctrl_state "$MC2") ($(mp_ana 2)) $((MP_WAIT * 2))s after port $PORT2 was enabled again"
			usleep 200000
			i=$((i + 1))
		done
		back=$(secs_since "$t")
		echo "port $PORT2 enabled: $MC2 live and non-optimized after $back"
		mp_flip non-optimized optimized 2
		mp_flip optimized non-optimized 1
	done
	# let the running round finish: every round ran to its end, verified
	: >"$MP_DONE"
	i=0
	while kill -0 "$MP_FIO_LOOP" 2>/dev/null; do
		[ $i -lt 600 ] || fail "fio still running 120 s after the last ANA change (I/O stuck?)"
		usleep 200000
		i=$((i + 1))
	done
	wait "$MP_FIO_LOOP"
	rc=$?
	[ $rc = 0 ] || mp_fio_failed "after the ANA changes"
	while read -r rnd rc; do
		fio_check "/tmp/mp-fio-$rnd.log" "$rc"
		rounds=$((rounds + 1))
	done </tmp/mp-fio.rounds
	[ $rounds -ge 1 ] || fail "no fio round ran"
	mib=$((rounds * MP_FIO_MB))
	# both paths are still there, the same controllers, live, as set last
	[ "$(mp_ctrl_on "$IO_PORT")" = "$c1" ] && [ "$(mp_ctrl_on "$PORT2")" = "$c2" ] ||
		fail "controllers changed: $c1/$c2 -> $(mp_ctrl_on "$IO_PORT")/$(mp_ctrl_on "$PORT2")"
	[ "$(ctrl_state "$MC1")" = live ] && [ "$(ctrl_state "$MC2")" = live ] ||
		fail "at the end: $MC1 $(ctrl_state "$MC1"), $MC2 $(ctrl_state "$MC2")"
	[ "$(mp_ana 1)" = optimized ] && [ "$(mp_ana 2)" = non-optimized ] ||
		fail "at the end the host shows $(mp_ana 1)/$(mp_ana 2), not optimized/non-optimized"
	bad=$(dmesg_since | grep -E 'I/O error|Buffer I/O error|blk_update_request' | head -n 3)
	[ -z "$bad" ] || fail "the guest logged I/O errors: $(printf '%s\n' "$bad" | tr '\n' ' ' | cut -c1-300)"
	dmesg_check "during the ANA changes"
	anatt=$(dmesg_since | grep -c 'ANATT timeout')
	resets=$(dmesg_since | grep -ciE 'reconnecting in|resetting controller')
	dmesg_since | grep -iE 'ana|reconnect|reset|failover|nvme' | tail -n 40
	n=$(($(mp_ios 1) - io0_1))
	f=$(($(mp_ios 2) - io0_2))
	disconnect_all
	mp_target_restore
	detail "$MP_CYCLES cycles, $MP_STEPS ANA states (optimized, non-optimized, inaccessible, change, persistent-loss on each port) + port $PORT2 disabled ($MC2 down in $down) and enabled (live in $back): $rounds fio rounds wrote and verified $mib MiB, no I/O error; I/Os $MP1 +$n, $MP2 +$f; both live optimized/non-optimized at the end; host saw each state within $MP_SEEN_MAX; kernel log: $anatt ANATT timeouts, $resets reconnect/reset lines"
}

# ---------------------------------------------------------------- runner

valid_case() {
	local c
	for c in nvmet_setup $ALL_CASES; do [ "$c" = "$1" ] && return 0; done
	return 1
}

if [ -n "$run_one" ]; then
	valid_case "$run_one" || { echo "unknown case $run_one"; exit 2; }
	# the target under test is the in-guest Linux nvmet (see run_case)
	setup=${INTEROP_SELF_TEST:-0}
	[ "$DEBUG" = 1 ] && set -x
	"case_$run_one"
	exit 0
fi

if [ $# -gt 0 ]; then
	cases="$*"
else
	cases=$(for c in $ALL_CASES; do
		case " $RPC_CASES " in *" $c "*) [ -n "$RPC_PORT" ] || continue ;; esac
		case " $MP_CASES " in *" $c "*) [ -n "$RPC_PORT" ] || [ "$setup" = 1 ] || continue ;; esac
		echo "$c"
	done | tr '\n' ' ')
	cases=$(echo $cases)
fi
for c in $cases; do
	case " $(echo $ALL_CASES) " in
	*" $c "*) ;;
	*) echo "guest-tests.sh: unknown case '$c' (known: $(echo $ALL_CASES))" >&2; exit 2 ;;
	esac
done
if [ "$list" = 1 ]; then
	echo $cases
	exit 0
fi
[ "$setup" = 1 ] && cases="nvmet_setup $cases"
[ "$serve" = 1 ] && cases=nvmet_setup

# the case processes learn from it that the target is the in-guest nvmet
export INTEROP_SELF_TEST=$setup
run_cases "$cases" "addr=$ADDR port=$IO_PORT dport=$DISC_PORT nqn=$NQN"
