# shellcheck shell=bash
# Helpers shared by the host-side interop scripts (sourced, never run).
#
# Paths: INTEROP_DIR is this folder, REPO_ROOT the repository, and the cache
# (kernels, initramfs images, console logs) defaults to $REPO_ROOT/var/interop.

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEROP_DIR/../.." && pwd)
: "${INTEROP_CACHE:=$REPO_ROOT/var/interop}"

# Kernels the harness knows: short name -> how fetch-kernels.sh resolves it.
INTEROP_KERNELS=(6.1 6.12)

log() { printf '[%s] %s\n' "${LOG_TAG:-interop}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${LOG_TAG:-interop}" "$*" >&2; exit 1; }

_apt_updated=0
apt_update_once() {
	if [ "$_apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq >&2 || die "apt-get update failed"
		_apt_updated=1
	fi
}

# ensure_pkgs PKG...: install the Debian packages that are missing, and only those.
ensure_pkgs() {
	local missing=() p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and not root to install them"
	apt_update_once
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

# Host tools every part of the harness needs.
HOST_PKGS=(qemu-system-x86 busybox-static nvme-cli fio socat jq e2fsprogs util-linux cpio
	xz-utils zstd kmod uuid-runtime iproute2 coreutils)
