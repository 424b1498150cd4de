#!/bin/sh
# shellcheck shell=dash
# /init of the interop guest (busybox ash). Installed by mkinitramfs.sh.
#
# Reads its orders from the kernel command line:
#   interop.mode=self|remote|serve
#                              self: configure the in-guest Linux nvmet first
#                              and test it on 127.0.0.1; remote (default): test
#                              the target at interop.addr; serve: be a target
#                              (nvmet on 0.0.0.0), print INTEROP-SERVING, idle
#   interop.cases=a,b,c        cases to run, in that order (default: all)
#   interop.nqn=NQN            subsystem NQN under test
#   interop.addr=A             target address (remote default 10.0.2.100,
#                              self default 127.0.0.1)
#   interop.port=P             I/O (and discovery) port, default 4420
#   interop.dport=P            discovery port, default 8009
#   interop.port2=P            second I/O port of the multipath cases, default port+1
#   interop.backing=ramfs|tmpfs  self mode: filesystem under the nvmet file
#   interop.timeout=S          per-case time limit in seconds
#   interop.rpc=P              the host's RPC bridge listens at interop.addr:P
#                              (run.sh --rpc-socket): enables the fault cases
#   interop.debug=1            shell trace of every case
# and reports on the serial console: INTEROP-RESULT lines (see guest-tests.sh),
# then the kernel log between INTEROP-DMESG-BEGIN/END, then powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

# guest_mounts and halt_guest: shared with the vfio-user guest's /init
# shellcheck source=tests/interop/guest-lib.sh
. /guest-lib.sh
guest_mounts

mode=remote cases="" nqn="" addr="" port="" dport="" port2="" backing="" timeout="" debug="" rpc=""
for w in $(cat /proc/cmdline); do
	case "$w" in
	interop.mode=*) mode=${w#*=} ;;
	interop.cases=*) cases=$(echo "${w#*=}" | tr ',' ' ') ;;
	interop.nqn=*) nqn=${w#*=} ;;
	interop.addr=*) addr=${w#*=} ;;
	interop.port=*) port=${w#*=} ;;
	interop.dport=*) dport=${w#*=} ;;
	interop.port2=*) port2=${w#*=} ;;
	interop.backing=*) backing=${w#*=} ;;
	interop.timeout=*) timeout=${w#*=} ;;
	interop.debug=*) debug=${w#*=} ;;
	interop.rpc=*) rpc=${w#*=} ;;
	esac
done

echo "INTEROP-BOOT kernel=$(uname -r) mode=$mode cpus=$(nproc) hostnqn=$(cat /etc/nvme/hostnqn)"

# Modules. Missing optional ones (built in, or absent) are not errors: the
# cases themselves assert what they need.
mods="virtio_pci virtio_net crc32c_intel crc32c_generic nvme-core nvme-fabrics nvme-tcp ext4 configfs"
[ "$mode" = self ] || [ "$mode" = serve ] && mods="$mods nvmet nvmet-tcp"
for m in $mods; do
	modprobe "$m" 2>/dev/null || echo "init: modprobe $m failed (built in or absent?)"
done
mount -t configfs configfs /sys/kernel/config 2>/dev/null
for m in nvme_tcp nvme_fabrics nvme_core; do
	[ -d /sys/module/$m ] || echo "init: WARNING: module $m is not loaded"
done

# Network: static, the user-mode network's defaults (guest .15, gateway .2).
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do usleep 100000; i=$((i + 1)); done
if [ -e /sys/class/net/eth0 ]; then
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
else
	echo "init: WARNING: no eth0"
fi

set --
[ "$mode" = self ] && set -- "$@" --setup-nvmet
[ "$mode" = serve ] && set -- "$@" --serve --addr 0.0.0.0
[ -n "$nqn" ] && set -- "$@" --nqn "$nqn"
[ -n "$addr" ] && set -- "$@" --addr "$addr"
[ -n "$port" ] && set -- "$@" --port "$port"
[ -n "$dport" ] && set -- "$@" --disc-port "$dport"
[ -n "$port2" ] && set -- "$@" --port2 "$port2"
[ -n "$backing" ] && set -- "$@" --backing "$backing"
[ -n "$timeout" ] && set -- "$@" --timeout "$timeout"
[ -n "$debug" ] && set -- "$@" --debug
[ -n "$rpc" ] && set -- "$@" --rpc-port "$rpc"
# shellcheck disable=SC2086 # case names are words
/guest-tests.sh "$@" $cases
rc=$?
echo "INTEROP-EXIT $rc"
if [ "$mode" = serve ] && [ "$rc" = 0 ]; then
	echo "INTEROP-SERVING"
	while :; do sleep 3600; done
fi

echo "INTEROP-DMESG-BEGIN"
dmesg
echo "INTEROP-DMESG-END"
echo "INTEROP-DONE"
# shellcheck disable=SC2119 # INTEROP-DONE was the last line run.sh needs
halt_guest
