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

# add_module KROOT KVER MDEST NAME: copy module NAME of kernel KVER (its tree under KROOT,
# as fetch-kernels.sh unpacks it) and the modules it depends on into MDEST, the image's
# lib/modules/KVER, decompressed (the guest's busybox modprobe then need not know the
# kernel's compression).
# Returns 0 if it is now in MDEST or built in, 1 if the kernel has no such module.
# Shared by mkinitramfs.sh and vfio-user/mkimage.sh.
add_module() {
	local kroot=$1 kver=$2 mdest=$3 line path rel deps
	deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$4" 2>/dev/null) || return 1
	while read -r line; do
		case "$line" in
		insmod\ *)
			path=${line#insmod }
			path=${path%% *}
			rel=${path#"$kroot"/lib/modules/"$kver"/}
			mkdir -p "$(dirname "$mdest/$rel")"
			case "$rel" in
			*.ko.xz) [ -f "$mdest/${rel%.xz}" ] || xz -dc "$path" >"$mdest/${rel%.xz}" ;;
			*.ko.zst) [ -f "$mdest/${rel%.zst}" ] || zstd -qdc "$path" >"$mdest/${rel%.zst}" ;;
			*.ko.gz) [ -f "$mdest/${rel%.gz}" ] || gzip -dc "$path" >"$mdest/${rel%.gz}" ;;
			*) [ -f "$mdest/$rel" ] || cp "$path" "$mdest/$rel" ;;
			esac
			;;
		builtin\ *) ;;
		esac
	done <<<"$deps"
}

# ---- what run.sh and vfio-user/run.sh share

# kernels_of all|"K...": the kernel names the --kernel argument stands for; dies on an
# unknown one (in a command substitution: set -e then ends the caller too).
kernels_of() {
	local k ks=$1
	case "$ks" in all) ks="${INTEROP_KERNELS[*]}" ;; esac
	for k in $ks; do
		case " ${INTEROP_KERNELS[*]} " in *" $k "*) ;; *) die "unknown kernel '$k' (known: ${INTEROP_KERNELS[*]} all)" ;; esac
	done
	echo "$ks"
}

# stop_pid PID [group]: TERM, wait up to 5 s, KILL. With group, PID leads a process
# group (setsid) and the whole group is signalled.
stop_pid() {
	local pid=$1 grp=${2:-} tgt
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	tgt=$pid
	[ -n "$grp" ] && tgt=-$pid
	kill -TERM -- "$tgt" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 10); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL -- "$tgt" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	elif [ -n "$grp" ]; then
		# the leader is gone, but what it started may still hold the ports or the socket
		kill -KILL -- "$tgt" 2>/dev/null || true
	fi
}

# The target of --target-cmd: target_start runs it, target_stop (the EXIT trap's)
# stops it, target_verdict judges it after the guests. target_pid is its pid, which
# is also its process group.
target_pid=""
# target_start CMD LOG EXITED LATE READY...: run CMD (bash -c) in its own session,
# its output in LOG, and wait up to 30 s for the command READY... to succeed; dies
# with LOG's tail and "target exited before EXITED" if CMD ends first, with LATE if
# READY never succeeds.
target_start() {
	local cmd=$1 tlog=$2 exited=$3 late=$4 i
	shift 4
	setsid bash -c "$cmd" >"$tlog" 2>&1 </dev/null &
	target_pid=$!
	for i in $(seq 1 60); do
		"$@" && break
		kill -0 "$target_pid" 2>/dev/null || { tail -n 20 "$tlog" >&2; die "target exited before $exited"; }
		sleep 0.5
		[ "$i" = 60 ] && { tail -n 20 "$tlog" >&2; die "$late"; }
	done
}
target_stop() {
	if [ -n "$target_pid" ] && kill -0 "$target_pid" 2>/dev/null; then
		log "stopping target (pid $target_pid)"
		stop_pid "$target_pid" group
	fi
	target_pid=""
}
# target_verdict LOG: the target must have survived the whole run, and a sanitizer
# build must stay quiet (leak reports come at exit, so look after stopping it). Each
# failure is one more in total_fail and a line in summary (run.sh's tallies).
target_verdict() {
	local tlog=$1 alive=1
	kill -0 "$target_pid" 2>/dev/null || alive=0
	target_stop
	if [ "$alive" = 0 ]; then
		total_fail=$((total_fail + 1))
		summary+=("== target: FAIL, it exited during the run  [log: $tlog]")
	fi
	if grep -aqE 'ERROR: (Address|Leak|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$tlog"; then
		total_fail=$((total_fail + 1))
		summary+=("== target: FAIL, sanitizer report: $(grep -a -m1 -E 'ERROR: (Address|Leak|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error:' "$tlog" | cut -c1-160)  [log: $tlog]")
	fi
}

# tally_guest TAG K LOG LOGS WHY CASES [CHECK]: add the results of kernel K's guest,
# whose console is in LOG, to total_pass, total_fail and summary (run.sh's tallies).
# Each case of CASES (words) counts by the last "TAG-RESULT <case> PASS|FAIL" line in
# LOG; a missing one fails. CHECK, a function, is then called as CHECK K CASE LOG and
# may rewrite `line` and `res`, this function's (bash's dynamic scope). A guest without
# a TAG-SUMMARY line fails once more, as "guest", for the reason WHY. LOGS is what the
# summary names after "log:".
tally_guest() {
	local tag=$1 k=$2 logf=$3 logs=$4 why=$5 cases=$6 check=${7:-} c line res pass=0 fail=0
	local -a lines=()
	for c in $cases; do
		# the console may carry the guest's CRs
		line=$(tr -d '\r' <"$logf" | grep -a -oE "$tag-RESULT $c (PASS|FAIL)( .*)?" | tail -n 1 || true)
		if [ -z "$line" ]; then
			res=FAIL
			line="$tag-RESULT $c FAIL (no result: guest crashed, hung or timed out before it)"
		else
			res=$(awk '{ print $3 }' <<<"$line")
		fi
		if [ -n "$check" ]; then
			"$check" "$k" "$c" "$logf"
		fi
		if [ "$res" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
		lines+=("$line")
	done
	if ! grep -aq "$tag-SUMMARY " "$logf"; then
		fail=$((fail + 1))
		lines+=("$tag-RESULT guest FAIL ($why)")
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	summary+=("== kernel $k ($(cat "$INTEROP_CACHE/kernels/$k/kver")): $pass passed, $fail failed  [log: $logs]")
	for line in "${lines[@]}"; do
		summary+=("   ${line#"$tag"-RESULT }")
	done
}
