#!/usr/bin/env bash
# run.sh - boot real Linux kernels under QEMU (TCG) with a vfio-user-pci device and drive
# the kernel's PCIe nvme driver against a vfio-user NVMe controller served on the host.
# See README.md in this folder.
#
# Usage: run.sh [options]
#   --kernel 6.1|6.12|all   kernels to boot, one guest each (default: all)
#   --cases "a b c"         cases to run, in order (default: all; see --list); commas too
#   --target-cmd CMD        start CMD (bash -c, own process group) first, wait until the
#                           socket exists, stop it at the end. CMD sees VFU_CONFIG (the
#                           target config run.sh wrote) and VFU_SOCKET in its environment,
#                           e.g. --target-cmd './build/nvmf-tgt -c "$VFU_CONFIG"'
#   --socket PATH           the vfio-user socket (default <cache>/run/<stamp>/sock/ctrl0.sock;
#                           give it for a target you started yourself)
#   --sn S --mn M --nqn NQN --kas N --ns-size SIZE
#                           what the generated config sets and the guest expects (defaults
#                           VFU0000000001, nvmf-vfio-user, nqn.2014-08.org.nvmexpress:nvmf-vfio-user,
#                           10 = 1 s, 256M); with your own target, give its values
#   --timeout S             limit for one guest boot (default 600)
#   --case-timeout S        limit for one case inside the guest (default 180)
#   --msg-timeout MS        QEMU's x-msg-timeout for each vfio-user reply (default 5000)
#   --root DIR              the trixie root with QEMU 11.1 (default $VFU_ROOT, else
#                           <repo>/var/vfu/trixie; make deps-vfio-user builds it)
#   --cache DIR             images, run folders and logs (default <repo>/var/vfu)
#   --emulated-nvme         check the harness itself: give the guest QEMU's own emulated
#                           NVMe controller (-device nvme, a sparse file) instead of
#                           vfio-user-pci; no target, and the model, NQN and KAS checks
#                           are skipped (QEMU fixes them); --sn still applies
#   --verbose               echo the whole guest console, not only result lines
#   --debug                 shell-trace every case in the guest
#   --list                  print the case names and exit
#
# Console logs: <cache>/logs/<stamp>-<kernel>.log, the target's <cache>/logs/<stamp>-target.log.
# The last line printed is
#   vfio-user-interop: N passed, M failed
# and the exit status is 0 only if every case of every kernel passed. A case with no
# result line fails; a guest that did not finish (QEMU refused to start, crashed, hung,
# timed out) counts one more failure, "guest"; with --target-cmd, a target that died
# during the run, or whose log has a sanitizer report, is one more.
set -euo pipefail
LOG_TAG=vfio-user
VFU_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$VFU_DIR/../lib.sh"

# What the kato case is expected to observe, per kernel: "record" accepts whatever the
# kernel did (the guest case still has to finish and report), anything else is an
# extended regular expression the whole VFU-OUTCOME token must match, e.g.
#   sf=0,kato=5000,states=live,reinit=no,io=ok,klog=ka_updated
# (sf: nvme set-feature exit status, then ":0xSTATUS" if it failed with an NVMe status or
# ":strerror" if the kernel refused it; kato: what get-feature 0x0f read back right after;
# states: the controller states seen each second, in order; reinit: whether the driver set
# the controller up again meanwhile; io: read back after the watch; klog: classes of
# kernel messages seen)
# Fill in from the VFU-OUTCOME lines of a run against a working server. Seen so far
# (nvmf-tgt of the work tree on 2026-11-22, kas 10, Set Features KATO accepted):
#   6.1  sf=0,kato=5000,states=live>resetting>live,reinit=yes,io=ok,klog=ka_updated+ka_error+warning
#        and once states=live (the resets are short, the states are sampled each second)
#        (keep-alive request allocation WARNs in blk_mq_get_tag, "keep-alive failed: -11",
#        and the driver resets the controller every 2.5 s; states depend on the sampling)
#   6.12 sf=1:permission_denied,kato=0,states=live,reinit=no,io=ok,klog=none
#        (the kernel refuses Set Features 0x0f from passthrough with EACCES, even for root)
# A pattern for 6.1 would then be:
#   'sf=0,kato=5000,states=live(>resetting>live)*,reinit=yes,io=ok,klog=ka_updated\+ka_error\+warning'
# The states and reinit fields are left open for 6.1: its resets are short and sampled once
# a second, so a run may see them or not; the kernel messages always show the sequence.
declare -A KATO_EXPECT=(
	[6.1]='sf=0,kato=5000,states=[a-z>]+,reinit=(yes|no),io=ok,klog=ka_updated\+ka_error\+warning'
	[6.12]='sf=1:permission_denied,kato=0,states=live,reinit=no,io=ok,klog=none'
)

kernels=all cases="" target_cmd="" socket="" boot_timeout=600 case_timeout=180 msg_timeout=5000
sn=VFU0000000001 mn=nvmf-vfio-user nqn=nqn.2014-08.org.nvmexpress:nvmf-vfio-user kas=10 ns_size=256M
vfu_root=${VFU_ROOT:-$REPO_ROOT/var/vfu/trixie} cache=$REPO_ROOT/var/vfu verbose=0 debug=0 list=0
emulated=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernels=$2; shift 2 ;;
	--cases) cases=${2//,/ }; shift 2 ;;
	--target-cmd) target_cmd=$2; shift 2 ;;
	--socket) socket=$2; shift 2 ;;
	--sn) sn=$2; shift 2 ;;
	--mn) mn=$2; shift 2 ;;
	--nqn) nqn=$2; shift 2 ;;
	--kas) kas=$2; shift 2 ;;
	--ns-size) ns_size=$2; shift 2 ;;
	--timeout) boot_timeout=$2; shift 2 ;;
	--case-timeout) case_timeout=$2; shift 2 ;;
	--msg-timeout) msg_timeout=$2; shift 2 ;;
	--root) vfu_root=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--emulated-nvme) emulated=1; shift ;;
	--verbose) verbose=1; shift ;;
	--debug) debug=1; shift ;;
	--list) list=1; shift ;;
	-h|--help) sed -n '2,41p' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
kernels=$(kernels_of "$kernels")
# they travel on the kernel command line, one word each
for v in "$sn" "$mn" "$nqn"; do
	case "$v" in *[[:space:],\"\\]* | "") die "'$v': serial, model and NQN must be non-empty, without spaces, commas, quotes or backslashes" ;; esac
done
[[ "$kas" =~ ^[0-9]+$ ]] || die "--kas: a number (100 ms units)"
[ "$emulated" = 0 ] || [ -z "$target_cmd" ] || die "--emulated-nvme needs no target: drop --target-cmd"
[[ "$msg_timeout" =~ ^[0-9]+$ ]] || die "--msg-timeout: milliseconds"

# Validate and expand the case list with the guest script itself.
# shellcheck disable=SC2086 # case names are words
expected=$(busybox sh "$VFU_DIR/guest-tests.sh" --list $cases) || die "bad --cases"
if [ "$list" = 1 ]; then
	tr ' ' '\n' <<<"$expected"
	exit 0
fi

[ "$(id -u)" = 0 ] || die "needs root (chroot, mount namespaces)"
ensure_pkgs "${HOST_PKGS[@]}"
"$VFU_DIR/mkroot.sh" "$vfu_root"
vfu_root=$(cd "$vfu_root" && pwd)
# shellcheck disable=SC2086 # kernel names are words
"$INTEROP_DIR/fetch-kernels.sh" $kernels

stamp=$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$cache/logs" "$cache/run"
cache=$(cd "$cache" && pwd)
rundir=$cache/run/$stamp
mkdir -p "$rundir/img"
[ -n "$socket" ] || socket=$rundir/sock/ctrl0.sock
case "$socket" in /*) ;; *) socket=$PWD/$socket ;; esac
sockdir=$(dirname "$socket")
mkdir -p "$sockdir"
# QEMU reaches the socket through the bind mount of its folder
guest_socket=/vfu/sock/$(basename "$socket")

# ---- the target's configuration (nvmetcli JSON, see src/nvmf-tgt/config.c): one
# subsystem with a memory namespace, one vfio-user port whose traddr is the socket
# and whose exported controller's options are the port's "vfio_user" object
# (parse_port_vfio_user: kas, accept_kato, max_io_queues, max_queue_size).
config=$rundir/target.json
jq -n --arg nqn "$nqn" --arg sn "$sn" --arg mn "$mn" --arg sock "$socket" \
	--argjson kas "$kas" --arg size "$ns_size" '{
	hosts: [],
	ports: [{
		portid: 1,
		addr: { trtype: "vfio-user", adrfam: "", traddr: $sock, trsvcid: "", treq: "not specified" },
		param: {},
		vfio_user: { kas: $kas },
		subsystems: [$nqn], referrals: [],
		ana_groups: [{ grpid: 1, ana: { state: "optimized" } }]
	}],
	subsystems: [{
		nqn: $nqn,
		attr: { allow_any_host: "1", serial: $sn, model: $mn, version: "1.4" },
		allowed_hosts: [],
		namespaces: [{ nsid: 1, enable: 1, ana_grpid: 1,
			device: { path: "", nvmf_backend: "mem", nvmf_size: $size } }]
	}]
}' >"$config"
export VFU_CONFIG=$config VFU_SOCKET=$socket

# ---- cleanup: everything run.sh started, by PID; no mount can outlive QEMU (private
# namespace, see qemu-in-root.sh), but look anyway.
target_pid="" qemu_pid="" tail_pid=""
target_log=$cache/logs/$stamp-target.log
cleanup() {
	local m
	stop_pid "$tail_pid"
	[ -z "$qemu_pid" ] || { log "stopping QEMU (pid $qemu_pid)"; stop_pid "$qemu_pid"; }
	target_stop
	# scratch data (the images, the emulated controller's disk); the config and logs stay
	rm -rf "${rundir:?}/img"
	rm -f "$sockdir/emulated-nvme.raw"
	while read -r m; do
		log "unmounting leftover $m"
		umount -l "$m" || true
	done < <(findmnt -rn -o TARGET | grep -F "$vfu_root/" | sort -r || true)
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the target
if [ -n "$target_cmd" ]; then
	[ ! -e "$socket" ] || die "$socket already exists: stop what serves it, or remove it"
	log "starting target: $target_cmd (config $config, log $target_log)"
	target_start "$target_cmd" "$target_log" "creating $socket" \
		"no socket $socket 30 s after the target started" test -S "$socket"
	log "target serves $socket (pid $target_pid)"
elif [ "$emulated" = 1 ]; then
	# the sockets folder is the one bound read-write into the root
	truncate -s "$ns_size" "$sockdir/emulated-nvme.raw"
	log "no target: QEMU's emulated NVMe controller on $sockdir/emulated-nvme.raw ($ns_size)"
else
	[ -S "$socket" ] || log "WARNING: $socket is not a socket; start a target or use --target-cmd"
fi

# ---- one guest per kernel
total_pass=0 total_fail=0
summary=()

boot_kernel() {
	local k=$1 kdir="$INTEROP_CACHE/kernels/$1" img="$rundir/img/initramfs-$1.img"
	local logf="$cache/logs/$stamp-$k.log" append t0 qrc why
	local -a qemu
	log "kernel $k ($(cat "$kdir/kver")): building initramfs"
	"$VFU_DIR/mkimage.sh" "$kdir" "$img"

	append="console=ttyS0 quiet panic=-1 oops=panic"
	append+=" vfu.cases=$(tr ' ' ',' <<<"$expected") vfu.timeout=$case_timeout"
	if [ "$emulated" = 1 ]; then
		append+=" vfu.sn=$sn"
	else
		append+=" vfu.sn=$sn vfu.mn=$mn vfu.nqn=$nqn vfu.kas=$kas"
	fi
	[ "$debug" = 1 ] && append+=" vfu.debug=1"
	# Guest RAM must be a shared memfd: the vfio-user client hands its fd to the server
	# (DMA_MAP), which maps it to reach the guest's queues and data buffers.
	# shellcheck disable=SC2054 # the commas are QEMU option syntax
	qemu=(-accel tcg,thread=multi -cpu max -m 1536 -smp 2
		-object memory-backend-memfd,id=mem0,size=1536M,share=on
		-machine q35,memory-backend=mem0
		-nic none -vga none -nographic -no-reboot
		-kernel /vfu/kernel/vmlinuz -initrd "/vfu/img/${img##*/}" -append "$append"
	)
	if [ "$emulated" = 1 ]; then
		qemu+=(-drive "file=/vfu/sock/emulated-nvme.raw,if=none,id=d0,format=raw"
			-device "nvme,serial=$sn,drive=d0")
	else
		# socket is a QAPI SocketAddress: only the JSON form of -device can give it
		qemu+=(-device "{\"driver\":\"vfio-user-pci\",\"id\":\"vfu0\",\"socket\":{\"type\":\"unix\",\"path\":\"$guest_socket\"},\"x-msg-timeout\":$msg_timeout}")
	fi
	log "kernel $k: booting (limit ${boot_timeout}s, console log $logf)"
	{ printf '# chroot %s qemu-system-x86_64' "$vfu_root"; printf ' %q' "${qemu[@]}"; printf '\n'; } >"$logf"
	t0=$(date +%s)
	unshare --mount --propagation private bash "$VFU_DIR/qemu-in-root.sh" \
		"$vfu_root" "$sockdir" "$kdir" "$rundir/img" -- "${qemu[@]}" </dev/null >>"$logf" 2>&1 &
	qemu_pid=$!
	if [ "$verbose" = 1 ]; then
		tail -n +1 -f --pid="$qemu_pid" "$logf" | tr -d '\r' &
	else
		tail -n +1 -f --pid="$qemu_pid" "$logf" | tr -d '\r' |
			grep --line-buffered -a -oE '(VFU-(RESULT|BOOT|SUMMARY|OUTCOME) .*)|(qemu-system-x86_64: .*)' |
			sed -u "s/^/  [$k] /" &
	fi
	tail_pid=$!
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ $(($(date +%s) - t0)) -ge "$boot_timeout" ]; then
			log "kernel $k: boot limit ${boot_timeout}s reached, stopping QEMU"
			echo "vfu-run: boot limit ${boot_timeout}s reached" >>"$logf"
			stop_pid "$qemu_pid"
			break
		fi
		sleep 1
	done
	set +e
	wait "$qemu_pid"
	qrc=$?
	wait "$tail_pid" 2>/dev/null
	set -e
	qemu_pid="" tail_pid=""
	log "kernel $k: guest ended after $(($(date +%s) - t0))s (qemu status $qrc)"
	rm -f "$img"

	# Results: the last line per expected case (kato's checked by kato_check); a missing
	# one is a failure, and so is a guest that did not finish, for this reason.
	why="did not finish (qemu status $qrc)"
	grep -aq 'boot limit' "$logf" && why="timed out after ${boot_timeout}s"
	grep -aq 'Kernel panic' "$logf" && why="kernel panic: $(grep -a -m1 -oE 'Kernel panic.*' "$logf")"
	# QEMU's errors, not its warnings (e.g. "Could not enable error recovery")
	grep -a '^qemu-system-x86_64: ' "$logf" | grep -qv ': warning: ' &&
		why="QEMU: $(grep -a '^qemu-system-x86_64: ' "$logf" | grep -v ': warning: ' | head -n 2 | tr '\n' ' ')"
	tally_guest VFU "$k" "$logf" "$logf" "$why" "$expected" kato_check
}

# kato_check K CASE LOG: tally_guest's CHECK. A kato case that passed must also show
# the outcome KATO_EXPECT has for kernel K; rewrites tally_guest's line and res.
kato_check() {
	local k=$1 outcome exp
	[ "$2" = kato ] && [ "$res" = PASS ] || return 0
	outcome=$(tr -d '\r' <"$3" | grep -a -oE '^VFU-OUTCOME kato .*' | tail -n 1 | cut -d' ' -f3-)
	exp=${KATO_EXPECT[$k]:-record}
	if [ "$exp" = record ]; then
		line+=" [outcome recorded: $outcome]"
	elif [[ "$outcome" =~ ^($exp)$ ]]; then
		line+=" [outcome as expected: $outcome]"
	else
		res=FAIL
		line="VFU-RESULT kato FAIL outcome '$outcome', expected for $k: '$exp' | ${line#VFU-RESULT kato PASS }"
	fi
}

for k in $kernels; do
	boot_kernel "$k"
done

if [ -n "$target_cmd" ]; then
	target_verdict "$target_log"
	# what the target said about the guests' shutdowns (CC.SHN at remove and poweroff;
	# nvmf-tgt logs them at info level, so with -v)
	while read -r line; do
		summary+=("   target log: $line")
	done < <(grep -aiE 'shn|shutdown' "$target_log" | tail -n 4 | cut -c1-200 || true)
fi

echo
if [ "$emulated" = 1 ]; then
	echo "vfio-user interop summary (harness check: QEMU's emulated NVMe, sn $sn)"
else
	echo "vfio-user interop summary (socket $socket, nqn $nqn, sn $sn, mn $mn, kas $kas)"
fi
printf '%s\n' "${summary[@]}"
echo "vfio-user-interop: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
