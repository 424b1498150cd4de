#!/bin/sh
# shellcheck shell=dash
# /init of the vfio-user guest (busybox ash). Installed by mkimage.sh over the TCP
# suite's image, whose /init (../init.sh) it replaces: this guest has no network, its
# NVMe controller is a PCIe device (QEMU vfio-user-pci) driven by the kernel's nvme driver.
#
# Reads its orders from the kernel command line:
#   vfu.cases=a,b,c      cases to run, in that order (default: all)
#   vfu.sn=S vfu.mn=M    serial and model the target was configured with
#   vfu.nqn=NQN          its subsystem NQN
#   vfu.kas=N            its Identify Controller KAS (100 ms units)
#   vfu.timeout=S        per-case time limit in seconds
#   vfu.debug=1          shell trace of every case
# and reports on the serial console: VFU-RESULT lines (see guest-tests.sh), then the
# kernel log between VFU-DMESG-BEGIN/END, then powers off (poweroff -f: the nvme
# driver's shutdown callback sets CC.SHN on the way, which the target can log).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

# guest_mounts and halt_guest: shared with the TCP guest's /init
# shellcheck source=tests/interop/guest-lib.sh
. /guest-lib.sh
guest_mounts

set --
cases=""
# shellcheck disable=SC2013 # the command line is one line of words
for w in $(cat /proc/cmdline); do
	case "$w" in
	vfu.cases=*) cases=$(echo "${w#*=}" | tr ',' ' ') ;;
	vfu.sn=*) set -- "$@" --sn "${w#*=}" ;;
	vfu.mn=*) set -- "$@" --mn "${w#*=}" ;;
	vfu.nqn=*) set -- "$@" --nqn "${w#*=}" ;;
	vfu.kas=*) set -- "$@" --kas "${w#*=}" ;;
	vfu.timeout=*) set -- "$@" --timeout "${w#*=}" ;;
	vfu.debug=1) set -- "$@" --debug ;;
	esac
done

echo "VFU-BOOT kernel=$(uname -r) cpus=$(nproc) mem=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)kB"

# ext4 for mkfs_mount; crc32c for ext4's metadata checksums. The PCI nvme driver is
# loaded by the pci case, so that its probe can be timed and its messages attributed.
for m in crc32c_intel crc32c_generic ext4; do
	modprobe "$m" 2>/dev/null || echo "init: modprobe $m failed (built in or absent?)"
done

# shellcheck disable=SC2086 # case names are words
/vfu-tests.sh "$@" $cases
rc=$?
echo "VFU-EXIT $rc"
echo "VFU-DMESG-BEGIN"
dmesg
echo "VFU-DMESG-END"
echo "VFU-DONE"
halt_guest VFU-POWEROFF
