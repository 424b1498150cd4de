#!/usr/bin/env bash
# mkimage.sh - the initramfs of the vfio-user guest: the TCP interop image, unchanged,
# followed by a small second archive with what a PCIe guest needs on top of it.
#
# Usage: mkimage.sh KVER_DIR OUT
#
#   KVER_DIR  a kernel folder made by ../fetch-kernels.sh
#   OUT       the initramfs to write (two zstd cpio archives back to back)
#
# The kernel unpacks concatenated archives in order, a later file replacing an earlier one
# of the same name. The base archive is ../mkinitramfs.sh's own (busybox, nvme-cli, fio,
# mkfs.ext4, e2fsck, modules for nvme-tcp), built as the TCP suite builds it; the second
# one adds:
#   - the PCI `nvme` driver and what it depends on (nvme-core is already in the base),
#     decompressed, and modules.dep* made by depmod over base + new modules
#   - /init = vfio-user/init.sh and /vfu-tests.sh = vfio-user/guest-tests.sh (both source
#     the base's /guest-lib.sh, ../guest-lib.sh)
# So the TCP suite's image and behaviour stay exactly as they are.
set -euo pipefail
LOG_TAG=vfu-mkimage
VFU_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/interop/lib.sh
. "$VFU_DIR/../lib.sh"

[ $# -eq 2 ] || die "usage: mkimage.sh KVER_DIR OUT"
kdir=$(cd "$1" && pwd)
out=$2
{ [ -f "$kdir/kver" ] && [ -d "$kdir/root" ]; } || die "$kdir is not a kernel folder from fetch-kernels.sh"
kver=$(cat "$kdir/kver")
kroot=$kdir/root
# modules the base image lacks; the first must load, the rest are best effort
MODS_REQUIRED=(nvme)

ensure_pkgs cpio kmod xz-utils zstd

work=$(mktemp -d "${TMPDIR:-/tmp}/nvmf-vfu-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$INTEROP_DIR/mkinitramfs.sh" "$kdir" "$work/base.img"

# The base's modules, to run depmod over the union (modules.dep must list both).
mods=$work/mods
mkdir -p "$mods"
(cd "$mods" && zstd -qdc "$work/base.img" | cpio -idm --quiet 'usr/lib/modules/*')
# depmod -b looks in lib/modules: the image is merged-/usr
ln -s usr/lib "$mods/lib"
mdest=$mods/usr/lib/modules/$kver
[ -d "$mdest" ] || die "no usr/lib/modules/$kver in the base image"
(cd "$mods" && find usr -type f | LC_ALL=C sort) >"$work/base.list"

for m in "${MODS_REQUIRED[@]}"; do
	add_module "$kroot" "$kver" "$mdest" "$m" || die "kernel $kver has no module $m"
done
depmod -b "$mods" "$kver"

# The second archive: new modules, the regenerated module indexes, init and the cases.
ov=$work/overlay
mkdir -p "$ov"
(cd "$mods" && find usr -type f | LC_ALL=C sort) |
	LC_ALL=C comm -13 "$work/base.list" - >"$work/new.list"
(cd "$mods" && find "usr/lib/modules/$kver" -maxdepth 1 -type f -name 'modules.*') >>"$work/new.list"
(cd "$mods" && cpio -pdm --quiet "$ov") <"$work/new.list"
install -m 0755 "$VFU_DIR/init.sh" "$ov/init"
install -m 0755 "$VFU_DIR/guest-tests.sh" "$ov/vfu-tests.sh"
nnew=$(grep -c '\.ko$' "$work/new.list" || true)
(cd "$ov" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
	zstd -q -3 >"$work/overlay.img"

mkdir -p "$(dirname "$out")"
# written beside OUT and renamed, so a QEMU starting meanwhile never reads half an image
cat "$work/base.img" "$work/overlay.img" >"$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
log "built $out ($(du -h "$out" | cut -f1); $nnew modules added: $(grep '\.ko$' "$work/new.list" | xargs -r -n1 basename | tr '\n' ' '))"
