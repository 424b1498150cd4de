#!/usr/bin/env bash
# fetch-kernels.sh - put the Debian kernels the interop suite boots into a cache.
#
#   6.1  : bookworm's linux-image-amd64 dependency (linux-image-6.1.*-amd64)
#   6.12 : bookworm-backports' linux-image-6.12.*-amd64-unsigned
#
# Usage: fetch-kernels.sh [--cache DIR] [--refresh] [6.1] [6.12]
#
# Each kernel lands in DIR/kernels/<short>/:
#   root/        the package unpacked with dpkg-deb -x (boot/, lib/modules/KVER/)
#   vmlinuz      symlink to root/boot/vmlinuz-KVER
#   kver         the kernel release (uname -r)
#   package      "name version" of the .deb it came from
#   .complete    written last: a kernel without it is fetched again
# modules.dep is (re)built with depmod (the 6.12 package ships none). Modules stay
# as shipped (.ko or .ko.xz): mkinitramfs.sh decompresses the ones it copies.
#
# Idempotent: a complete cached kernel is kept without asking apt anything, so
# later runs work offline. --refresh resolves the packages again and replaces a
# kernel whose package version changed.
set -euo pipefail
LOG_TAG=fetch-kernels
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

refresh=0
want=()
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) INTEROP_CACHE=$2; shift 2 ;;
	--refresh) refresh=1; shift ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	6.1|6.12) want+=("$1"); shift ;;
	all) want+=("${INTEROP_KERNELS[@]}"); shift ;;
	*) die "unknown argument: $1" ;;
	esac
done
[ ${#want[@]} -gt 0 ] || want=("${INTEROP_KERNELS[@]}")

ensure_pkgs apt dpkg kmod xz-utils

BACKPORTS_SOURCES=/etc/apt/sources.list.d/nvmf-backports.sources
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

# True when an enabled apt source already names bookworm-backports.
have_backports_source() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		grep -Eq '^[^#]*bookworm-backports' "$f" && return 0
	done
	return 1
}

# Add bookworm-backports by copying the first stanza of the machine's own
# debian.sources (so the archive mirror is whatever this machine uses) with its
# Suites: line replaced. Never names a host itself.
ensure_backports_source() {
	have_backports_source && return 0
	[ -f "$DEBIAN_SOURCES" ] || die "$DEBIAN_SOURCES missing: cannot derive a backports source"
	log "adding bookworm-backports as $BACKPORTS_SOURCES (from the first stanza of $DEBIAN_SOURCES)"
	awk '
		/^[[:space:]]*$/ { if (seen) exit; next }
		{ seen = 1 }
		/^Suites:/ { print "Suites: bookworm-backports"; next }
		{ print }
	' "$DEBIAN_SOURCES" >"$BACKPORTS_SOURCES.tmp"
	grep -q '^Suites: bookworm-backports$' "$BACKPORTS_SOURCES.tmp" ||
		die "first stanza of $DEBIAN_SOURCES has no Suites: line"
	mv "$BACKPORTS_SOURCES.tmp" "$BACKPORTS_SOURCES"
	_apt_updated=0
	apt_update_once
}

# Candidate version of a package, empty if apt does not know it.
candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

# resolve SHORT: print "package version" for the kernel named SHORT.
resolve() {
	local pkg="" ver
	case "$1" in
	6.1)
		pkg=$(apt-cache depends --important linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n1)
		if [ -z "$pkg" ]; then
			apt_update_once
			pkg=$(apt-cache depends --important linux-image-amd64 2>/dev/null |
				sed -n 's/^ *Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n1)
		fi
		;;
	6.12)
		ensure_backports_source
		list() { apt-cache pkgnames linux-image-6.12 2>/dev/null |
			grep -E '^linux-image-6\.12\.[0-9]+(\+[a-z0-9.~]+)?-amd64-unsigned$' | sort -V; }
		if [ -z "$(list)" ]; then apt_update_once; fi
		# The highest ABI apt can install. Plain amd64 flavour only (not -rt-,
		# -cloud-). Newer 6.12 ABIs may also come from bookworm-security (Debian
		# now ships linux-6.12 for bookworm there); the highest one wins.
		for p in $(list | tac); do
			if [ -n "$(candidate "$p")" ]; then pkg=$p; break; fi
		done
		;;
	esac
	[ -n "$pkg" ] || die "cannot resolve the package for kernel $1"
	ver=$(candidate "$pkg")
	[ -n "$ver" ] || die "package $pkg has no installation candidate"
	printf '%s %s\n' "$pkg" "$ver"
}

fetch_one() {
	local short=$1 dir="$INTEROP_CACHE/kernels/$1" pkg ver deb kver moddir
	if [ -f "$dir/.complete" ] && [ "$refresh" = 0 ]; then
		log "$short: cached ($(cat "$dir/package"), kernel $(cat "$dir/kver"))"
		return 0
	fi
	read -r pkg ver < <(resolve "$short")
	if [ -f "$dir/.complete" ] && [ "$(cat "$dir/package")" = "$pkg $ver" ]; then
		log "$short: cached and current ($pkg $ver)"
		return 0
	fi
	log "$short: fetching $pkg $ver"
	rm -rf "$dir"
	mkdir -p "$dir/dl"
	(cd "$dir/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver" >&2) || die "apt-get download $pkg=$ver failed"
	deb=$(ls "$dir"/dl/*.deb)
	log "$short: unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$dir/root"
	# bookworm ships /lib/modules; newer packages may use /usr/lib/modules.
	if [ ! -d "$dir/root/lib/modules" ] && [ -d "$dir/root/usr/lib/modules" ]; then
		ln -s usr/lib "$dir/root/lib"
	fi
	moddir=$(ls -d "$dir"/root/lib/modules/*/ | head -n1)
	[ -n "$moddir" ] || die "$short: no lib/modules in $pkg"
	kver=$(basename "$moddir")
	[ -f "$dir/root/boot/vmlinuz-$kver" ] || die "$short: no boot/vmlinuz-$kver in $pkg"
	log "$short: depmod $kver"
	depmod -b "$dir/root" "$kver"
	ln -sf "root/boot/vmlinuz-$kver" "$dir/vmlinuz"
	printf '%s\n' "$kver" >"$dir/kver"
	printf '%s %s\n' "$pkg" "$ver" >"$dir/package"
	rm -rf "$dir/dl"
	touch "$dir/.complete"
	log "$short: ready in $dir (kernel $kver)"
}

for k in "${want[@]}"; do
	fetch_one "$k"
done
