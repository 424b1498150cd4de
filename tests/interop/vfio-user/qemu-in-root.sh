#!/usr/bin/env bash
# qemu-in-root.sh - run the trixie root's QEMU with the host folders it needs.
#
# Usage: unshare --mount --propagation private qemu-in-root.sh ROOT SOCKDIR KDIR IMGDIR -- QEMU-ARGS...
#
# Bind-mounts, inside ROOT, SOCKDIR (the target's UNIX socket) at /vfu/sock, KDIR (a
# kernel folder of ../fetch-kernels.sh) read-only at /vfu/kernel and IMGDIR (the
# initramfs) read-only at /vfu/img, mounts /proc, and then execs
# `chroot ROOT qemu-system-x86_64 QEMU-ARGS...`, so that QEMU keeps this script's PID.
#
# run.sh starts it under `unshare --mount --propagation private`: the mounts exist in
# that private namespace only, nobody else sees them, and the kernel drops them when
# QEMU (the namespace's last process) exits, however it exits. Started any other way
# it refuses, because the mounts would then stay on the machine.
set -euo pipefail
LOG_TAG=vfu-qemu
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

{ [ $# -ge 5 ] && [ "$5" = -- ]; } || die "usage: qemu-in-root.sh ROOT SOCKDIR KDIR IMGDIR -- QEMU-ARGS..."
root=$1 sockdir=$2 kdir=$3 imgdir=$4
shift 5
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
	die "not in a private mount namespace (run it under unshare --mount --propagation private)"
[ -x "$root/usr/bin/qemu-system-x86_64" ] || die "$root has no QEMU (make deps-vfio-user)"

for d in sock kernel img; do mkdir -p "$root/vfu/$d"; done
mount --bind "$sockdir" "$root/vfu/sock"
mount --bind -o ro "$kdir" "$root/vfu/kernel"
mount --bind -o ro "$imgdir" "$root/vfu/img"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
exec chroot "$root" qemu-system-x86_64 "$@"
