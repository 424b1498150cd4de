#!/usr/bin/env bash
# mkinitramfs.sh - build the busybox initramfs the interop guest boots.
#
# Usage: mkinitramfs.sh [--compress none|gzip|zstd] KVER_DIR OUT
#
#   KVER_DIR  a kernel folder made by fetch-kernels.sh (has kver and root/)
#   OUT       the cpio archive to write (newc; zstd-compressed by default)
#
# The image holds:
#   - busybox (static) with every applet linked, /sbin/modprobe included: the
#     kernel calls it at run time for crypto modules (crc32c for digests, ext4)
#   - nvme (nvme-cli), fio, mkfs.ext4/mke2fs, e2fsck, blkdiscard (util-linux),
#     with the shared libraries ldd lists for each
#   - the modules the suite needs, with their dependencies, decompressed, and
#     a modules.dep made by depmod for this kernel
#   - /etc/nvme/hostnqn and /etc/nvme/hostid from ONE fresh UUID (the 6.12 host
#     refuses a connect whose hostid and hostnqn disagree)
#   - /init (init.sh), /guest-tests.sh (the test cases) and /guest-lib.sh (what
#     both need, shared with the vfio-user guest)
# What the guest does is chosen on the kernel command line (see init.sh), so one
# image serves the self-test and the remote-target mode.
set -euo pipefail
LOG_TAG=mkinitramfs
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

compress=zstd
while [ $# -gt 0 ]; do
	case "$1" in
	--compress) compress=$2; shift 2 ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "usage: mkinitramfs.sh [--compress none|gzip|zstd] KVER_DIR OUT"
kdir=$(cd "$1" && pwd)
out=$2
[ -f "$kdir/kver" ] && [ -d "$kdir/root" ] || die "$kdir is not a kernel folder from fetch-kernels.sh"
kver=$(cat "$kdir/kver")
kroot=$kdir/root

ensure_pkgs busybox-static nvme-cli fio e2fsprogs util-linux cpio kmod xz-utils zstd uuid-runtime

# Modules: the first list must all load, the second is best effort (absent
# from some kernels, or built in).
MODS_REQUIRED=(virtio_net nvme-tcp nvme-fabrics nvme-core crc32c_generic ext4
	configfs nvmet nvmet-tcp)
MODS_OPTIONAL=(virtio_pci crc32c_intel)

work=$(mktemp -d "${TMPDIR:-/tmp}/nvmf-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{dev,proc,sys,tmp,run,mnt,etc/nvme,root}
# merged-/usr layout, as on the host, so ldd's paths resolve unchanged
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"

# --- busybox, every applet as a link (the real tools below replace some)
bb=$(command -v busybox)
if ldd "$bb" >/dev/null 2>&1; then die "$bb is dynamically linked: busybox-static is needed"; fi
cp "$bb" "$root/usr/bin/busybox"
while read -r applet; do
	[ "$applet" = bin/busybox ] || [ "$applet" = usr/bin/busybox ] && continue
	case "$applet" in
	bin/*) dest=usr/$applet ;;
	sbin/*) dest=usr/$applet ;;
	*) dest=$applet ;;
	esac
	[ -e "$root/$dest" ] || ln -s /usr/bin/busybox "$root/$dest"
done < <("$root/usr/bin/busybox" --list-full)
[ -L "$root/usr/sbin/modprobe" ] || die "busybox gives no modprobe applet"

# --- real userland with its libraries
copy_file() { # copy_file SRC DEST_IN_ROOT (follows symlinks)
	mkdir -p "$(dirname "$root$2")"
	cp -L "$1" "$root$2"
}
copy_libs() { # copy_libs BINARY: the shared objects ldd resolves, by their ldd path
	local lib
	while read -r lib; do
		[ -n "$lib" ] || continue
		[ -e "$root$lib" ] || copy_file "$lib" "$lib"
	done < <(ldd "$1" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }')
}
copy_bin() { # copy_bin NAME DEST_IN_ROOT
	local src
	src=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$1") || die "$1 not found on the host"
	rm -f "$root$2"
	copy_file "$src" "$2"
	copy_libs "$src"
}
copy_bin nvme /usr/sbin/nvme
copy_bin fio /usr/bin/fio
copy_bin mke2fs /usr/sbin/mke2fs
ln -sf mke2fs "$root/usr/sbin/mkfs.ext4"
copy_bin e2fsck /usr/sbin/e2fsck
copy_bin blkdiscard /usr/sbin/blkdiscard
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$root/etc/mke2fs.conf"
printf '%s\n' /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/ceph >"$root/etc/ld.so.conf"
ldconfig -r "$root" 2>/dev/null || log "warning: ldconfig -r failed (the loader's default paths still apply)"

# --- kernel modules (dependency closure, decompressed)
mdest=$root/usr/lib/modules/$kver
mkdir -p "$mdest"
for m in "${MODS_REQUIRED[@]}"; do
	add_module "$kroot" "$kver" "$mdest" "$m" || die "kernel $kver has no module $m"
done
for m in "${MODS_OPTIONAL[@]}"; do
	add_module "$kroot" "$kver" "$mdest" "$m" || log "note: kernel $kver has no module $m (skipped)"
done
for f in modules.builtin modules.builtin.modinfo; do
	[ -f "$kroot/lib/modules/$kver/$f" ] && cp "$kroot/lib/modules/$kver/$f" "$mdest/"
done
if [ -f "$kroot/lib/modules/$kver/modules.order" ]; then
	sed -e 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$kroot/lib/modules/$kver/modules.order" >"$mdest/modules.order"
fi
depmod -b "$root" "$kver"
nmods=$(find "$mdest" -name '*.ko' | wc -l)

# --- identity: hostnqn and hostid from one UUID
uuid=$(uuidgen)
printf 'nqn.2014-08.org.nvmexpress:uuid:%s\n' "$uuid" >"$root/etc/nvme/hostnqn"
printf '%s\n' "$uuid" >"$root/etc/nvme/hostid"

# --- init and the cases
install -m 0755 "$INTEROP_DIR/init.sh" "$root/init"
install -m 0755 "$INTEROP_DIR/guest-tests.sh" "$root/guest-tests.sh"
install -m 0644 "$INTEROP_DIR/guest-lib.sh" "$root/guest-lib.sh"
printf '%s\n' "$kver" >"$root/etc/interop-kver"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
# /dev/console lets the kernel give /init its stdio before devtmpfs is mounted
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

mkdir -p "$(dirname "$out")"
# written beside OUT and renamed, so a QEMU starting meanwhile never reads half an image
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$work/initramfs.cpio"
case "$compress" in
none) cp "$work/initramfs.cpio" "$out.tmp.$$" ;;
gzip) gzip -1 -c "$work/initramfs.cpio" >"$out.tmp.$$" ;;
zstd) zstd -q -T0 -3 -f "$work/initramfs.cpio" -o "$out.tmp.$$" ;;
*) die "unknown --compress $compress" ;;
esac
mv -f "$out.tmp.$$" "$out"
log "built $out ($(du -h "$out" | cut -f1), kernel $kver, $nmods modules, hostnqn uuid $uuid)"
