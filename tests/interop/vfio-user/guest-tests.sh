#!/bin/sh
# shellcheck shell=dash
# guest-tests.sh - vfio-user interop cases, run inside the QEMU guest (busybox ash): the
# kernel's PCI `nvme` driver, nvme-cli and fio against the controller that QEMU's
# vfio-user-pci device forwards to the target on the host. Installed as /vfu-tests.sh by
# mkimage.sh and run by /init (init.sh).
#
# Usage: guest-tests.sh [options] [case ...]        (no case: all, in order)
#   --sn S --mn M     serial and model the target was configured with
#   --nqn NQN         its subsystem NQN
#   --kas N           its Identify Controller KAS (Keep Alive Support, 100 ms units)
#   --timeout S       per-case time limit (default 180 s)
#   --debug           trace every case (set -x)
#   --list            print the case names and exit
#
# Output, one line per case, on stdout (the serial console):
#   VFU-RESULT <case> PASS|FAIL (<seconds>s) <detail>
# framed by VFU-BEGIN and VFU-SUMMARY lines. The kato case also prints
#   VFU-OUTCOME kato <outcome>
# for run.sh to check against its table of what each kernel is expected to do.
# Each case is a separate process (this script re-run with --run-one) in its own
# session, so a hung case is killed whole; cases share nothing but the kernel's state,
# and each loads the driver and waits for the controller itself, so any case can run
# alone.
#
# The runner and the generic helpers are ../guest-lib.sh, shared with ../guest-tests.sh
# (same result format, same case process model).

ALL_CASES="pci list id_ctrl fio_verify mkfs_mount reset kato shutdown"

SELF=$(readlink -f "$0")
: "${SN:=}"
: "${MN:=}"
: "${NQN:=}"
: "${KAS:=}"
: "${CASE_TIMEOUT:=180}"
: "${DEBUG:=0}"
NVME_CLASS=0x010802 # PCI class: mass storage, non-volatile memory, NVM Express
DEV_WAIT=30         # seconds for the driver to bring up the controller and namespace
FIO_MB=32           # fio_verify
PAT_MB=4            # reset, kato, shutdown: pattern written before, read back after
KATO_MS=5000        # kato: the Keep Alive Timer the guest sets
KATO_WATCH=15       # kato: seconds watched after setting it (3 x KATO)
IO_LIMIT=90         # seconds a pattern read back may take (kato: the controller may be dead)
WORK=/tmp/vfu
# kernel messages that fail any case (kato records instead of failing)
DMESG_BAD='Oops|BUG:|WARNING:|general protection|KASAN|use-after-free|Call Trace|hung_task|blocked for more than|refcount_t'

list=0 run_one=""
while [ $# -gt 0 ]; do
	case "$1" in
	--sn) SN=$2; shift 2 ;;
	--mn) MN=$2; shift 2 ;;
	--nqn) NQN=$2; shift 2 ;;
	--kas) KAS=$2; shift 2 ;;
	--timeout) CASE_TIMEOUT=$2; shift 2 ;;
	--debug) DEBUG=1; shift ;;
	--list) list=1; shift ;;
	--run-one) run_one=$2; shift 2 ;;
	-h|--help) sed -n '2,27p' "$SELF"; exit 0 ;;
	-*) echo "guest-tests.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
export SN MN NQN KAS CASE_TIMEOUT DEBUG

# ---------------------------------------------------------------- helpers

# detail, fail, run, jval, ns_of_ctrl, dmesg_check, the case runner, ...: shared with
# the TCP guest. In the image it is beside this script (the base archive's
# /guest-lib.sh); in the tree, one folder up.
RESULT_TAG=VFU
GUEST_LIB=${SELF%/*}/guest-lib.sh
[ -f "$GUEST_LIB" ] || GUEST_LIB=${SELF%/*}/../guest-lib.sh
# shellcheck source=tests/interop/guest-lib.sh
. "$GUEST_LIB"

# the kernel's nvme lines since dmesg_mark, on one line (for a detail)
dmesg_nvme_oneline() {
	dmesg_since | grep -E 'nvme nvme[0-9]|(nvme|pci) [0-9a-f]{4}:|WARNING:|BUG:|Oops' |
		sed 's/^\[ *[0-9.]*\] //' | tr '\n' '|' | sed 's/|$//' | cut -c1-"${1:-300}"
}

# pci_nvme_devs: "BDF" of every PCI function whose class is NVM Express.
pci_nvme_devs() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/class" 2>/dev/null)" = "$NVME_CLASS" ] && echo "${d##*/}"
	done
}
pci_driver() { local l; l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${l##*/}" || echo none; }
# lspci-like listing of every PCI function, from sysfs (busybox has no lspci)
pci_list() {
	local d b
	for d in /sys/bus/pci/devices/*; do
		b=${d##*/}
		printf '%s class %s %s:%s sub %s:%s rev %s driver %s\n' "$b" "$(cat "$d/class")" \
			"$(cat "$d/vendor")" "$(cat "$d/device")" "$(cat "$d/subsystem_vendor")" \
			"$(cat "$d/subsystem_device")" "$(cat "$d/revision" 2>/dev/null)" "$(pci_driver "$b")"
	done
}

# ctrl_pcie: the nvmeX controller on the PCIe transport (ours; the guest has no other).
ctrl_pcie() { ctrl_of pcie; }
# wait_dev [SECONDS]: wait for a live PCIe controller with a namespace; sets CTRL, NS, BDF.
wait_dev() {
	wait_live ctrl_pcie "${1:-$DEV_WAIT}" || return 1
	BDF=$(basename "$(readlink -f "/sys/class/nvme/$CTRL/device")")
}
load_driver() {
	[ -d /sys/module/nvme ] && return 0
	run modprobe nvme || fail "modprobe nvme -> exit $RC: $(lastline)"
}
# need_dev: the driver is loaded and the controller live with a namespace.
need_dev() {
	load_driver
	wait_dev || fail "no live PCIe nvme controller with a namespace within ${DEV_WAIT}s (ctrl=$(ctrl_pcie) state=$(ctrl_state "$(ctrl_pcie)"); PCI NVMe functions: $(pci_nvme_devs | tr '\n' ' ')); kernel: $(dmesg | grep -E 'nvme' | tail -n 3 | tr '\n' '|')"
}

# Pattern I/O, direct (no page cache between the write and the read back): a region
# of PAT_MB MiB at MiB offset $1 (default: the namespace's last PAT_MB MiB but one).
pat_off() { echo $(($(dev_bytes "$NS") / 1048576 - 2 * PAT_MB)); }
pat_write() { # pat_write OFF_MB: random data, its sha256 in $WORK/pat.sha
	mkdir -p $WORK
	dd if=/dev/urandom of=$WORK/pat bs=1M count=$PAT_MB 2>/dev/null
	sha256sum <$WORK/pat | cut -d' ' -f1 >$WORK/pat.sha
	dd if=$WORK/pat of="/dev/$NS" bs=1M seek="$1" count=$PAT_MB oflag=direct conv=fsync 2>&1 | tail -n 1
}
pat_read_ok() { # pat_read_ok OFF_MB: 0 if the device holds what pat_write wrote
	local s
	# bounded: on a dead controller the read waits for the driver's timeouts and resets
	s=$(timeout $IO_LIMIT dd if="/dev/$NS" bs=1M skip="$1" count=$PAT_MB iflag=direct 2>/dev/null |
		sha256sum | cut -d' ' -f1)
	echo "read back sha256 $s, written $(cat $WORK/pat.sha)"
	[ "$s" = "$(cat $WORK/pat.sha)" ]
}

# ---------------------------------------------------------------- cases

case_pci() {
	local devs drv t0 n
	echo "PCI functions (bdf class vendor:device sub vendor:device rev driver):"
	pci_list | sed 's/^/  /'
	devs=$(pci_nvme_devs)
	[ -n "$devs" ] || fail "no PCI function with class $NVME_CLASS (vfio-user-pci not realized?); functions: $(pci_list | cut -d' ' -f1,3,4 | tr '\n' ';')"
	n=$(printf '%s\n' "$devs" | wc -l)
	[ "$n" = 1 ] || fail "$n functions of class $NVME_CLASS, expected 1: $(printf '%s ' "$devs")"
	t0=$(now_cs)
	load_driver
	wait_dev || fail "modprobe nvme: no live controller with a namespace within ${DEV_WAIT}s (driver of $devs: $(pci_driver "$devs"); kernel: $(dmesg | grep -E 'nvme' | tail -n 3 | tr '\n' '|'))"
	drv=$(pci_driver "$devs")
	[ "$drv" = nvme ] || fail "$devs is bound to '$drv', not nvme"
	[ "$BDF" = "$devs" ] || fail "controller $CTRL sits on $BDF, not on the NVMe function $devs"
	[ -c "/dev/$CTRL" ] || fail "/dev/$CTRL is not a character device"
	[ -c /dev/nvme0 ] || fail "/dev/nvme0 is missing (controller is $CTRL)"
	[ -b /dev/nvme0n1 ] || fail "/dev/nvme0n1 is missing (namespace is $NS)"
	dmesg | grep -E 'nvme' | sed 's/^/  kernel| /'
	detail "$BDF class $NVME_CLASS $(cat "/sys/bus/pci/devices/$BDF/vendor"):$(cat "/sys/bus/pci/devices/$BDF/device") driver nvme, $CTRL $(ctrl_state "$CTRL") (pcie), /dev/nvme0 + /dev/$NS $(($(dev_bytes "$NS") / 1048576)) MiB, up $(secs_since "$t0") after modprobe"
}

case_list() {
	local sn mn line
	need_dev
	run nvme list || fail "nvme list -> exit $RC"
	line=$(printf '%s\n' "$OUT" | grep "^/dev/${NS}[[:space:]]")
	[ -n "$line" ] || fail "nvme list does not show /dev/$NS"
	[ -z "$SN" ] || printf '%s\n' "$line" | grep -qF "$SN" || fail "nvme list line has no serial '$SN': $line"
	[ -z "$MN" ] || printf '%s\n' "$line" | grep -qF "$MN" || fail "nvme list line has no model '$MN': $line"
	run nvme list -o json || fail "nvme list -o json -> exit $RC"
	sn=$(trim "$(jval SerialNumber)") mn=$(trim "$(jval ModelNumber)")
	[ -z "$SN" ] || [ "$sn" = "$SN" ] || fail "nvme list -o json SerialNumber '$sn' != '$SN'"
	[ -z "$MN" ] || [ "$mn" = "$MN" ] || fail "nvme list -o json ModelNumber '$mn' != '$MN'"
	[ "$(jval PhysicalSize)" = "$(dev_bytes "$NS")" ] || fail "PhysicalSize $(jval PhysicalSize) != block device size $(dev_bytes "$NS")"
	detail "/dev/$NS: SerialNumber '$sn' ModelNumber '$mn' PhysicalSize $(jval PhysicalSize) (expected sn '$SN' mn '$MN')"
}

case_id_ctrl() {
	local sn mn subnqn kas ct ver mdts nn vid sqes cqes ctratt
	need_dev
	run nvme id-ctrl "/dev/$CTRL" -o json || fail "nvme id-ctrl -> exit $RC: $(lastline)"
	sn=$(trim "$(jval sn)") mn=$(trim "$(jval mn)") subnqn=$(jval subnqn)
	kas=$(num "$(jval kas)") ct=$(num "$(jval cntrltype)") ver=$(num "$(jval ver)")
	mdts=$(num "$(jval mdts)") nn=$(num "$(jval nn)") vid=$(num "$(jval vid)")
	sqes=$(num "$(jval sqes)") cqes=$(num "$(jval cqes)") ctratt=$(num "$(jval ctratt)")
	run nvme id-ctrl "/dev/$CTRL"
	[ -z "$SN" ] || [ "$sn" = "$SN" ] || fail "id-ctrl sn '$sn' != '$SN'"
	[ -z "$MN" ] || [ "$mn" = "$MN" ] || fail "id-ctrl mn '$mn' != '$MN'"
	[ -z "$NQN" ] || [ "$subnqn" = "$NQN" ] || fail "id-ctrl subnqn '$subnqn' != '$NQN'"
	[ -z "$KAS" ] || [ "$kas" = "$KAS" ] || fail "id-ctrl kas '$kas' != configured $KAS"
	# NVMe Base 2.0c 5.17.2.1: CNTRLTYPE 1 = I/O controller (0 = not reported, pre-1.4)
	[ "$ct" = 1 ] || fail "id-ctrl cntrltype '$ct' != 1 (I/O controller)"
	[ "$sn" = "$(trim "$(cat "/sys/class/nvme/$CTRL/serial")")" ] || fail "id-ctrl sn != sysfs serial"
	[ "$mn" = "$(trim "$(cat "/sys/class/nvme/$CTRL/model")")" ] || fail "id-ctrl mn != sysfs model"
	if ! is_uint "$sqes" || [ $((sqes & 15)) -ne 6 ]; then fail "id-ctrl sqes '$sqes': minimum SQ entry size is not 64"; fi
	if ! is_uint "$cqes" || [ $((cqes & 15)) -ne 4 ]; then fail "id-ctrl cqes '$cqes': minimum CQ entry size is not 16"; fi
	detail "sn='$sn' mn='$mn' subnqn=$subnqn kas=$kas cntrltype=$ct ver=$(printf 0x%x "$ver") vid=$(printf 0x%04x "$vid") mdts=$mdts nn=$nn ctratt=$(printf 0x%x "$ctratt")"
}

case_fio_verify() {
	local rc eng w r log=$WORK/fio-verify.log
	need_dev
	[ "$(dev_bytes "$NS")" -ge $((FIO_MB * 1048576)) ] || fail "namespace smaller than $FIO_MB MiB"
	eng=$(pick_engine)
	mkdir -p $WORK
	echo "+ fio $eng 4k randwrite ${FIO_MB}M iodepth 16, verify crc32c"
	fio --name=vfu-verify --filename="/dev/$NS" --ioengine="$eng" --direct=1 \
		--rw=randwrite --bs=4k --size="${FIO_MB}M" --iodepth=16 \
		--verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 \
		--randrepeat=0 >$log 2>&1
	rc=$?
	sed 's/^/  fio| /' $log | tail -n 40
	[ "$rc" = 0 ] || fail "fio exit $rc: $(grep -iE 'verify|err|error' $log | head -n 3 | tr '\n' ' ')"
	grep -qiE 'verify: bad|verify failed|bad magic|crc32c: (verify|mismatch)' $log &&
		fail "fio reported a verify error: $(grep -iE 'verify|bad magic' $log | head -n 2 | tr '\n' ' ')"
	grep -q 'err= 0' $log || fail "fio did not report err= 0"
	w=$(sed -n 's/.*WRITE: .*io=\([^ ,]*\).*/\1/p' $log | head -n 1)
	r=$(sed -n 's/.*READ: .*io=\([^ ,]*\).*/\1/p' $log | head -n 1)
	if [ -z "$w" ] || [ "$w" != "$r" ]; then fail "fio wrote '$w' but verified (read) '$r'"; fi
	detail "fio $eng 4k randwrite iodepth 16: wrote and verified $w (crc32c), err=0, write bw $(sed -n 's/.*WRITE: bw=\([^ ,]*\).*/\1/p' $log | head -n 1)"
}

case_mkfs_mount() {
	local m=/mnt/vfu n i mk=mkfs.ext4 fs=ext4
	need_dev
	# the base image carries e2fsprogs; busybox's mke2fs (ext2) is the fallback
	command -v mkfs.ext4 >/dev/null || { mk=mke2fs fs=ext2; }
	rm -rf /tmp/src && mkdir -p /tmp/src/sub $m
	i=1
	for n in 1 7 33 130 257; do
		dd if=/dev/urandom of=/tmp/src/f$i bs=4096 count=$n 2>/dev/null
		i=$((i + 1))
	done
	dd if=/dev/urandom of=/tmp/src/sub/big bs=1M count=8 2>/dev/null
	echo "hello vfio-user" >/tmp/src/sub/small
	(cd /tmp/src && find . -type f | sort | xargs sha256sum) >/tmp/src.sha256
	run $mk -F -q "/dev/$NS" || fail "$mk -> exit $RC: $(lastline)"
	run mount -t $fs "/dev/$NS" $m || fail "mount -t $fs -> exit $RC: $(lastline)"
	cp -a /tmp/src $m/ || fail "copy to $fs failed"
	sync
	(cd $m/src && sha256sum -c -s /tmp/src.sha256) || fail "checksums differ right after the copy"
	run umount $m || fail "umount -> exit $RC"
	echo 3 >/proc/sys/vm/drop_caches
	if command -v e2fsck >/dev/null; then
		run e2fsck -fn "/dev/$NS" || fail "e2fsck -fn found problems (exit $RC)"
	fi
	run mount -t $fs "/dev/$NS" $m || fail "remount -> exit $RC: $(lastline)"
	(cd $m/src && sha256sum -c /tmp/src.sha256) || fail "checksums differ after umount+remount"
	n=$(du -sk $m/src | cut -f1)
	run umount $m || fail "final umount -> exit $RC"
	detail "$mk + mount -t $fs, $(wc -l </tmp/src.sha256) files (${n} KiB) written, sync, umount, remount: sha256 equal, e2fsck clean"
}

case_reset() {
	local off t0 i cntlid0 st
	need_dev
	off=$(pat_off)
	pat_write "$off"
	cntlid0=$(cat "/sys/class/nvme/$CTRL/cntlid")
	dmesg_mark
	t0=$(now_cs)
	run nvme reset "/dev/$CTRL" || fail "nvme reset -> exit $RC: $(lastline); kernel: $(dmesg_nvme_oneline)"
	wait_dev || fail "controller not live with a namespace ${DEV_WAIT}s after nvme reset (state $(ctrl_state "$CTRL")); kernel: $(dmesg_nvme_oneline)"
	st="live again after $(secs_since "$t0")"
	dmesg_since | sed 's/^/  kernel| /'
	pat_read_ok "$off" || fail "after reset: $PAT_MB MiB written before it read back different"
	# and new I/O works, not only what the page cache or the backend kept
	i=$((off + PAT_MB))
	pat_write "$i"
	pat_read_ok "$i" || fail "after reset: a new $PAT_MB MiB write read back different"
	detail "nvme reset /dev/$CTRL: exit 0, $st (cntlid $cntlid0 -> $(cat "/sys/class/nvme/$CTRL/cntlid")); $PAT_MB MiB written before read back equal; new write+read equal; kernel: $(dmesg_nvme_oneline 200)"
}

# kato: seed 002 on PCIe. The guest arms the Keep Alive Timer itself (Set Features
# 0x0f); Linux then starts sending Keep Alive on its own (nvme_update_keep_alive, also
# on PCIe). What the kernel does next is recorded, not judged here: the outcome token
# goes to run.sh, which compares it with its per-kernel table.
case_kato() {
	local off sfrc gfrc gf kas states s last i io klog klines t0 st cntlid0 reinit
	need_dev
	OUT=$(nvme id-ctrl "/dev/$CTRL" -o json 2>&1)
	kas=$(num "$(jval kas)")
	echo "id-ctrl kas=$kas ctratt=$(jval ctratt)"
	off=$(pat_off)
	pat_write "$off"
	run nvme get-feature "/dev/$CTRL" -f 0x0f
	# a reset that is over within a second escapes the state sampling, but not the
	# cntlid (a target gives each enable a new one) nor the driver's re-init message
	cntlid0=$(cat "/sys/class/nvme/$CTRL/cntlid")
	dmesg_mark
	t0=$(now_cs)
	run nvme set-feature "/dev/$CTRL" -f 0x0f -v $KATO_MS
	sfrc=$RC
	# nvme-cli ends an NVMe error with "(0xSTATUS)"; a kernel refusal (the command never
	# reached the controller) is "set-feature: STRERROR" (6.12 refuses FIDs 0x07 and
	# 0x0f from passthrough with EACCES, even for root; 6.1 sends them)
	st=$(printf '%s\n' "$OUT" | sed -n 's/.*NVMe status:.*(\(0x[0-9a-fA-F]*\)).*/\1/p' | head -n 1)
	[ -n "$st" ] || [ "$RC" = 0 ] ||
		st=$(printf '%s\n' "$OUT" | sed -n 's/^set-feature: \(.*\)$/\1/p' | head -n 1 |
			tr 'A-Z ' 'a-z_' | tr -cd 'a-z0-9_')
	[ -z "$st" ] || sfrc="$sfrc:$st"
	run nvme get-feature "/dev/$CTRL" -f 0x0f
	gfrc=$RC
	# nvme-cli prints the value in hex, with 0x unless it is 0 (printf's "%#x")
	gf=$(printf '%s\n' "$OUT" | sed -n 's/.*Current value:[[:space:]]*\(0x\)\{0,1\}\([0-9a-fA-F]*\).*/\2/p' | head -n 1)
	[ -n "$gf" ] && gf=$(printf '%d' "0x$gf")
	# the controller's state every second: distinct values in order of appearance
	states="" last="" i=0
	while [ $i -lt $KATO_WATCH ]; do
		s=$(ctrl_state "$CTRL")
		[ "$s" = "$last" ] || { states="$states${states:+>}$s"; last=$s; }
		sleep 1
		i=$((i + 1))
	done
	echo "controller states over ${KATO_WATCH}s: $states"
	if wait_dev 10 && pat_read_ok "$off"; then io=ok; else io=fail; fi
	s=$(ctrl_state "$CTRL")
	[ "$s" = "$last" ] || states="$states>$s"
	echo "kernel log since Set Features:"
	dmesg_since | sed 's/^/  kernel| /'
	# categories of what the kernel said, in a fixed order
	klines=$(dmesg_since)
	klog=""
	printf '%s\n' "$klines" | grep -qi 'keep alive interval updated' && klog="$klog+ka_updated"
	printf '%s\n' "$klines" | grep -qiE 'keep.?alive.*(fail|error|timed out|timeout)' && klog="$klog+ka_error"
	printf '%s\n' "$klines" | grep -qiE 'I/O .*timeout|timeout.*(abort|reset)' && klog="$klog+timeout"
	printf '%s\n' "$klines" | grep -qiE 'reset|resetting' && klog="$klog+reset"
	printf '%s\n' "$klines" | grep -qiE 'Removing|remove|disable|dead' && klog="$klog+removed"
	printf '%s\n' "$klines" | grep -q 'WARNING:' && klog="$klog+warning"
	printf '%s\n' "$klines" | grep -qE 'Oops|BUG:|general protection|KASAN|use-after-free' && klog="$klog+oops"
	klog=${klog#+}
	: "${klog:=none}"
	# each "N/N/N default/read/poll queues" is the driver setting the controller up again
	i=$(printf '%s\n' "$klines" | grep -c 'default/read/poll queues')
	reinit="$i (cntlid $cntlid0 -> $(cat "/sys/class/nvme/$CTRL/cntlid" 2>/dev/null))"
	# back to no keep-alive, so that the cases after this one see a quiet controller
	run nvme set-feature "/dev/$CTRL" -f 0x0f -v 0
	echo "VFU-OUTCOME kato sf=$sfrc,kato=${gf:-?},states=$states,reinit=$([ "$i" -gt 0 ] && echo yes || echo no),io=$io,klog=$klog"
	detail "kas=$kas; set-feature 0x0f=$KATO_MS exit $sfrc; get-feature exit $gfrc value ${gf:-?}; states over ${KATO_WATCH}s: $states; controller re-inits: $reinit; I/O after: $io (read back $PAT_MB MiB, $(secs_since "$t0") after set); kernel: $(dmesg_nvme_oneline 400)"
}

# shutdown: removing the PCI function makes the driver shut the controller down
# (nvme_remove -> nvme_dev_disable(shutdown=true): CC.SHN = normal, then it polls
# CSTS.SHST for "complete" up to its shutdown timeout). Then a bus rescan probes the
# same function again: the controller comes back and still holds the data. The
# poweroff -f that ends every guest takes the same shutdown path (.shutdown callback).
case_shutdown() {
	local off bdf t0 dt rt klog
	need_dev
	off=$(pat_off)
	pat_write "$off"
	bdf=$BDF
	dmesg_mark
	t0=$(now_cs)
	echo "+ echo 1 >/sys/bus/pci/devices/$bdf/remove"
	echo 1 >"/sys/bus/pci/devices/$bdf/remove" || fail "writing 1 to $bdf/remove failed"
	dt=$(secs_since "$t0")
	echo "  (remove returned after $dt)"
	[ ! -e "/sys/bus/pci/devices/$bdf" ] || fail "$bdf still present after remove"
	[ ! -e /dev/"$CTRL" ] || fail "/dev/$CTRL still present after remove"
	klog=$(dmesg_nvme_oneline 300)
	dmesg_since | sed 's/^/  kernel| /'
	# 6.1: "Device shutdown incomplete; abort shutdown"; 6.12: "Device not ready; aborting shutdown"
	if dmesg_since | grep -qiE 'shutdown incomplete|aborting shutdown|not ready'; then
		fail "remove took $dt and the controller did not report shutdown complete: $klog"
	fi
	dmesg_mark
	t0=$(now_cs)
	echo "+ echo 1 >/sys/bus/pci/rescan"
	echo 1 >/sys/bus/pci/rescan
	wait_dev || fail "after remove ($dt, kernel: ${klog:-nothing}) and rescan: no live controller within ${DEV_WAIT}s; kernel: $(dmesg_nvme_oneline)"
	rt=$(secs_since "$t0")
	dmesg_since | sed 's/^/  kernel| /'
	pat_read_ok "$off" || fail "after shutdown and rescan: $PAT_MB MiB written before read back different"
	detail "remove $bdf: CC.SHN path returned in $dt, /dev/$CTRL gone, kernel: ${klog:-nothing}; rescan: $CTRL on $BDF live in $rt, $PAT_MB MiB read back equal"
}

# ---------------------------------------------------------------- runner

valid_case() {
	local c
	for c in $ALL_CASES; do [ "$c" = "$1" ] && return 0; done
	return 1
}

if [ -n "$run_one" ]; then
	valid_case "$run_one" || { echo "unknown case $run_one"; exit 2; }
	[ "$DEBUG" = 1 ] && set -x
	dmesg_mark
	CASE_T0=$DMESG_T0
	"case_$run_one"
	# any case: a kernel oops or warning while it ran fails it (kato records them)
	if [ "$run_one" != kato ]; then
		DMESG_T0=$CASE_T0
		dmesg_check "during $run_one"
	fi
	exit 0
fi

cases=${*:-$ALL_CASES}
for c in $cases; do
	valid_case "$c" || { echo "guest-tests.sh: unknown case '$c' (known: $ALL_CASES)" >&2; exit 2; }
done
if [ "$list" = 1 ]; then
	# shellcheck disable=SC2086 # one line of words
	echo $cases
	exit 0
fi

run_cases "$cases" "sn=$SN mn=$MN nqn=$NQN kas=$KAS"
