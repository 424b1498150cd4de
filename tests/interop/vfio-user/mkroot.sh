#!/usr/bin/env bash
# mkroot.sh - make (or check) the Debian trixie root whose QEMU has vfio-user-pci.
#
# Usage: mkroot.sh [ROOT]        (default: $VFU_ROOT, else <repo>/var/vfu/trixie)
#
# QEMU's vfio-user client (device vfio-user-pci) arrived in QEMU 10.1; bookworm has 7.2
# and trixie 10.0, so the root gets qemu-system-x86 from trixie-backports (11.1). run.sh
# runs that QEMU with chroot; nothing of it is installed on the machine itself.
#
# The archive is the one this machine uses: its URI is read at run time from the first
# stanza of /etc/apt/sources.list.d/debian.sources and never written into the root.
# debootstrap's own sources.list is deleted and apt inside the root gets its sources
# from an anonymous memfd (a pipe will not do: apt wants a file it can stat and reopen).
#
# Idempotent: a root whose QEMU lists vfio-user-pci is kept as is (about 0.1 s). A
# debootstrap that did not finish is started over; an install that did not finish is
# resumed. Needs root (debootstrap, chroot, mount).
set -euo pipefail
LOG_TAG=vfu-mkroot
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ROOT=${1:-${VFU_ROOT:-$REPO_ROOT/var/vfu/trixie}}
SUITE=trixie
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

# has_vfu: the root's QEMU runs and offers the vfio-user client device.
has_vfu() {
	[ -x "$ROOT/usr/bin/qemu-system-x86_64" ] &&
		chroot "$ROOT" qemu-system-x86_64 -device help 2>/dev/null | grep -q '^name "vfio-user-pci"'
}

# The check runs before anything else, so that a ready root costs no apt, no mount.
if [ -z "${VFU_MKROOT_NS:-}" ] && has_vfu; then
	log "ok: $ROOT: $(chroot "$ROOT" qemu-system-x86_64 --version | head -n 1), vfio-user-pci listed"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"

# Everything below mounts things (debootstrap mounts /proc and /sys in the root, we mount
# /proc and /dev for apt): do it in a private mount namespace, so that no mount outlives
# this script, whatever way it ends.
if [ -z "${VFU_MKROOT_NS:-}" ]; then
	ensure_pkgs debootstrap python3 util-linux
	mkdir -p "$(dirname "$ROOT")"
	ROOT=$(cd "$(dirname "$ROOT")" && pwd)/$(basename "$ROOT")
	exec env VFU_MKROOT_NS=1 unshare --mount --propagation private "$BASH" "$0" "$ROOT"
fi

[ -f "$DEBIAN_SOURCES" ] || die "$DEBIAN_SOURCES missing: cannot derive the archive URI"
URI=$(awk '/^URIs:/ { print $2; exit }' "$DEBIAN_SOURCES")
[ -n "$URI" ] || die "no URIs: line in the first stanza of $DEBIAN_SOURCES"
HOST=${URI#*://}
HOST=${HOST%%/*}

# scrub: no file we keep in the root may name the archive (debootstrap's log and
# sources.list, apt's list files do).
scrub() {
	local f
	rm -f "$ROOT/etc/apt/sources.list"
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT/var/log/bootstrap.log"
	mkdir -p "$ROOT/var/lib/apt/lists/partial"
	while IFS= read -r f; do
		log "removing the archive's name from ${f#"$ROOT"/}"
		sed -i -e "s#$URI#\$URI#g" -e "s#$HOST#\$HOST#g" "$f"
	done < <(grep -rlIF -- "$HOST" "$ROOT/etc" "$ROOT/var" 2>/dev/null || true)
}

t0=$(date +%s)
if [ ! -e "$ROOT/.vfu-debootstrap-done" ]; then
	log "debootstrap --variant=minbase $SUITE $ROOT (about 40 s)"
	rm -rf "$ROOT"
	# its log names the archive: keep it out of the repo's var/ unless it fails
	dlog=$(mktemp "${TMPDIR:-/tmp}/vfu-debootstrap.XXXXXX")
	if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$URI" >"$dlog" 2>&1; then
		sed -e "s#$URI#\$URI#g" -e "s#$HOST#\$HOST#g" "$dlog" | tail -n 30 >&2
		rm -f "$dlog"
		die "debootstrap failed"
	fi
	rm -f "$dlog"
	touch "$ROOT/.vfu-debootstrap-done"
fi
scrub

# capt CMD ARGS...: apt-get/apt-cache inside the root, its sources in a memfd that
# chroot and apt inherit as /proc/self/fd/N.
capt() {
	python3 - "$ROOT" "$URI" "$SUITE" "$@" <<'PY'
import os, sys
root, uri, suite, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
fd = os.memfd_create("sources", 0)
os.write(fd, f"deb {uri} {suite} main\ndeb {uri} {suite}-backports main\n".encode())
os.lseek(fd, 0, 0)
os.set_inheritable(fd, True)
os.execvp("chroot", ["chroot", root, args[0],
                     "-o", f"Dir::Etc::SourceList=/proc/self/fd/{fd}",
                     "-o", "Dir::Etc::SourceParts=/etc/apt/sources.list.d"] + args[1:])
PY
}

# apt needs /proc (the memfd path); dpkg's terminal log wants /dev/pts.
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
ilog=$(mktemp "${TMPDIR:-/tmp}/vfu-apt.XXXXXX")
trap 'rm -f "$ilog"' EXIT
log "installing qemu-system-x86 from $SUITE-backports in the root (about 15 s)"
if ! { capt apt-get -q update &&
	DEBIAN_FRONTEND=noninteractive capt apt-get install -y -q --no-install-recommends \
		-t "$SUITE-backports" qemu-system-x86 &&
	capt apt-get clean; } >"$ilog" 2>&1; then
	sed -e "s#$URI#\$URI#g" -e "s#$HOST#\$HOST#g" "$ilog" | tail -n 30 >&2
	scrub
	die "apt in $ROOT failed"
fi
scrub
has_vfu || die "$ROOT: $(chroot "$ROOT" qemu-system-x86_64 --version 2>&1 | head -n 1) does not list vfio-user-pci"
log "ready in $(($(date +%s) - t0)) s: $ROOT ($(du -sxh "$ROOT" | cut -f1)), $(chroot "$ROOT" qemu-system-x86_64 --version | head -n 1)"
