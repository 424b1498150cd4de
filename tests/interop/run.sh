#!/usr/bin/env bash
# run.sh - boot real Linux kernels under QEMU (TCG) and drive their nvme-tcp
# host against an NVMe/TCP target. See README.md in this folder.
#
# Usage: run.sh [options]
#   --kernel 6.1|6.12|all   kernels to boot (default: all)
#   --cases "a b c"         cases to run, in order (default: all; see --list);
#                           commas work as separators too
#   --target-cmd CMD        start CMD (bash -c) on the host first, wait until
#                           127.0.0.1:PORT listens, stop it at the end
#   --self-test             test the in-guest Linux nvmet instead (no host target)
#   --nqn NQN               subsystem under test (default nqn.2014-08.org.nvmexpress:nvmf-default)
#   --port P / --disc-port P   host target ports (default 4420 / 8009)
#   --port2 P               second I/O port, which the multipath cases add to
#                           the target and remove again (default PORT+1)
#   --timeout S             limit for one guest boot, whole run (default 900)
#   --case-timeout S        limit for one case inside the guest (default 180)
#   --backing ramfs|tmpfs   self-test: filesystem under the nvmet file (default ramfs)
#   --rpc-socket PATH       the target's JSON-RPC control socket: enables the
#                           cases that drive fault injection from the host
#                           (default: taken from --target-cmd when it has
#                           --rpc-socket PATH or -r PATH)
#   --rpc-cmd CMD           command that makes one RPC, called as CMD METHOD
#                           [JSON] (a word list, no quoting; default: the nvmf
#                           CLI next to --target-cmd's nvmf-tgt, else
#                           <repo>/build/nvmf, as `nvmf rpc -s SOCKET`)
#   --cache DIR             kernels, images and logs (default <repo>/var/interop)
#   --verbose               echo the whole guest console, not only result lines
#   --debug                 shell-trace every case in the guest
#   --list                  print the case names and exit
#
# The guest reaches the host target at 10.0.2.100:PORT and :DISC-PORT through
# QEMU guestfwd (one socat per guest connection to 127.0.0.1 on the host).
# With an RPC socket, 10.0.2.100:7999 runs rpc-bridge.sh on the host per guest
# connection: the guest cases make their own RPC calls, synchronously, when
# they need them (calls logged in <cache>/logs/<time>-rpc.log).
# Console logs: <cache>/logs/<time>-<kernel>.log. The last line printed is
#   interop: N passed, M failed
# and the exit status is non-zero when any case failed or did not report (a
# guest that crashed, hung or timed out fails every case it did not report,
# and one more failure, "guest", is counted for it). With --target-cmd, a target
# that died during the run, or whose log has a sanitizer report, is one more.
set -euo pipefail
LOG_TAG=interop
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernels=all cases="" target_cmd="" self_test=0 nqn=nqn.2014-08.org.nvmexpress:nvmf-default
port=4420 dport=8009 port2="" boot_timeout=900 case_timeout=180 backing="" verbose=0 debug=0 list=0
rpc_sock="" rpc_cmd=""
# guest side of the RPC bridge (a slirp address, no host port is opened)
RPC_GUEST_PORT=7999
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernels=$2; shift 2 ;;
	--cases) cases=${2//,/ }; shift 2 ;;
	--target-cmd) target_cmd=$2; shift 2 ;;
	--self-test) self_test=1; shift ;;
	--nqn) nqn=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--disc-port) dport=$2; shift 2 ;;
	--port2) port2=$2; shift 2 ;;
	--timeout) boot_timeout=$2; shift 2 ;;
	--case-timeout) case_timeout=$2; shift 2 ;;
	--backing) backing=$2; shift 2 ;;
	--rpc-socket) rpc_sock=$2; shift 2 ;;
	--rpc-cmd) rpc_cmd=$2; shift 2 ;;
	--cache) INTEROP_CACHE=$2; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--debug) debug=1; shift ;;
	--list) list=1; shift ;;
	-h|--help) sed -n '2,42p' "$0"; exit 0 ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
export INTEROP_CACHE
kernels=$(kernels_of "$kernels")
[ "$self_test" = 1 ] && [ -n "$target_cmd" ] && die "--self-test and --target-cmd exclude each other"
case "$nqn" in *[[:space:],\"\\]*) die "an NQN with spaces, commas, quotes or backslashes cannot go on the kernel command line" ;; esac
[ -n "$port2" ] || port2=$((port + 1))
for p in "$port" "$dport" "$port2"; do
	[ "$p" != "$RPC_GUEST_PORT" ] || die "port $p is the guest's RPC bridge port; pick another"
done
if [ "$port2" = "$port" ] || [ "$port2" = "$dport" ]; then
	die "--port2 $port2 must differ from --port and --disc-port"
fi

# The control socket: explicit, or the one --target-cmd gives the target.
if [ -z "$rpc_sock" ] && [ -n "$target_cmd" ]; then
	read -r -a _words <<<"$target_cmd"
	for ((i = 0; i < ${#_words[@]}; i++)); do
		case "${_words[i]}" in
		--rpc-socket=*) rpc_sock=${_words[i]#*=} ;;
		--rpc-socket) rpc_sock=${_words[i + 1]:-} ;;
		# -r PATH; a number after -r would be something else (reactors)
		-r) [[ "${_words[i + 1]:-}" =~ ^[0-9]*$ ]] || rpc_sock=${_words[i + 1]} ;;
		esac
	done
fi
if [ -n "$rpc_sock" ] || [ -n "$rpc_cmd" ]; then
	[ "$self_test" = 1 ] && die "--self-test has no control socket (drop --rpc-socket/--rpc-cmd)"
	case "$rpc_sock" in /* | "") ;; *) rpc_sock=$PWD/$rpc_sock ;; esac
	if [ -z "$rpc_cmd" ]; then
		# the CLI next to the target binary of --target-cmd, else build/nvmf
		cli=$REPO_ROOT/build/nvmf
		read -r -a _words <<<"$target_cmd"
		if [[ "${_words[0]:-}" == */nvmf-tgt ]] && [ -x "${_words[0]%/*}/nvmf" ]; then
			cli=$(cd "${_words[0]%/*}" && pwd)/nvmf
		fi
		rpc_cmd="$cli rpc -s $rpc_sock"
	fi
fi
rpc_args=()
[ -n "$rpc_cmd" ] && rpc_args=(--rpc-port "$RPC_GUEST_PORT")
# the multipath cases run with the RPC bridge, or on the self-test's nvmet
[ "$self_test" = 1 ] && rpc_args=(--setup-nvmet)

ensure_pkgs "${HOST_PKGS[@]}"

# Validate and expand the case list with the guest script itself.
# shellcheck disable=SC2086 # case names are words
expected=$(busybox sh "$INTEROP_DIR/guest-tests.sh" "${rpc_args[@]}" --list $cases) || die "bad --cases"
if [ "$list" = 1 ]; then
	tr ' ' '\n' <<<"$expected"
	exit 0
fi
[ "$self_test" = 1 ] && expected="nvmet_setup $expected"

# shellcheck disable=SC2086
"$INTEROP_DIR/fetch-kernels.sh" $kernels

mkdir -p "$INTEROP_CACHE/logs" "$INTEROP_CACHE/images"
stamp=$(date +%Y%m%d-%H%M%S)-$$

# ---- target on the host
target_log="$INTEROP_CACHE/logs/$stamp-target.log"
trap target_stop EXIT
trap 'exit 130' INT TERM

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

if [ -n "$target_cmd" ]; then
	listening "$port" && die "127.0.0.1:$port is already in use: stop that listener or drop --target-cmd"
	log "starting target: $target_cmd (log: $target_log)"
	target_start "$target_cmd" "$target_log" "listening on $port" \
		"target not listening on 127.0.0.1:$port after 30 s" listening "$port"
	log "target listening on 127.0.0.1:$port (pid $target_pid)"
	if [ -n "$rpc_sock" ]; then
		for _ in $(seq 1 20); do
			[ -S "$rpc_sock" ] && break
			sleep 0.5
		done
		[ -S "$rpc_sock" ] || log "WARNING: no control socket $rpc_sock 10 s after start"
	fi
elif [ "$self_test" = 0 ]; then
	listening "$port" || log "WARNING: nothing listens on 127.0.0.1:$port; start a target or use --target-cmd / --self-test"
	listening "$dport" || log "WARNING: nothing listens on 127.0.0.1:$dport (discover_8009 will fail)"
fi
if [ "$self_test" = 0 ] && [ -n "$rpc_cmd" ] && listening "$port2"; then
	log "WARNING: 127.0.0.1:$port2 is in use: the multipath cases cannot add their port there (see --port2)"
fi

# ---- the control socket, host side
rpc_log="$INTEROP_CACHE/logs/$stamp-rpc.log"
# rpc_host METHOD [JSON]: one call, as the bridge makes it; logged, never fatal
rpc_host() {
	local out rc
	# shellcheck disable=SC2086 # rpc_cmd is a word list
	out=$(timeout 30 $rpc_cmd "$@" 2>&1 </dev/null) && rc=0 || rc=$?
	printf '%s [host] %s -> rc %d %s\n' "$(date +%T.%3N)" "$*" "$rc" "$(tr '\n' ' ' <<<"$out")" >>"$rpc_log"
	[ "$rc" = 0 ]
}
if [ -n "$rpc_cmd" ]; then
	export INTEROP_RPC_CMD=$rpc_cmd INTEROP_RPC_LOG=$rpc_log
	if rpc_host get_faults; then
		log "control socket answers ($rpc_cmd); RPC calls logged in $rpc_log"
	else
		log "WARNING: '$rpc_cmd get_faults' failed (see $rpc_log): the RPC cases will fail"
	fi
fi

# ---- one guest per kernel
total_pass=0 total_fail=0
summary=()

boot_kernel() {
	local k=$1 kdir="$INTEROP_CACHE/kernels/$1" img="$INTEROP_CACHE/images/initramfs-$1-$$.img"
	local logf="$INTEROP_CACHE/logs/$stamp-$k.log" append netdev t0 qrc bridge why
	local -a qemu
	log "kernel $k ($(cat "$kdir/kver")): building initramfs"
	"$INTEROP_DIR/mkinitramfs.sh" "$kdir" "$img"

	append="console=ttyS0 quiet panic=-1 oops=panic interop.nqn=$nqn"
	append+=" interop.cases=$(tr ' ' ',' <<<"${expected#nvmet_setup }")"
	append+=" interop.timeout=$case_timeout interop.port2=$port2"
	if [ "$self_test" = 1 ]; then
		append+=" interop.mode=self"
		[ -n "$backing" ] && append+=" interop.backing=$backing"
		netdev="user,id=n0,restrict=on"
	else
		append+=" interop.mode=remote interop.port=$port interop.dport=$dport"
		netdev="user,id=n0,restrict=on"
		netdev+=",guestfwd=tcp:10.0.2.100:$port-cmd:socat - TCP:127.0.0.1:$port"
		[ "$dport" != "$port" ] && netdev+=",guestfwd=tcp:10.0.2.100:$dport-cmd:socat - TCP:127.0.0.1:$dport"
		# the multipath cases' second port: nothing listens until they add it,
		# and socat only starts when the guest connects
		netdev+=",guestfwd=tcp:10.0.2.100:$port2-cmd:socat - TCP:127.0.0.1:$port2"
		if [ -n "$rpc_cmd" ]; then
			# slirp runs cmd: through g_shell_parse_argv; QEMU options double commas
			bridge=$(printf '%q' "$INTEROP_DIR/rpc-bridge.sh")
			netdev+=",guestfwd=tcp:10.0.2.100:$RPC_GUEST_PORT-cmd:${bridge//,/,,}"
			append+=" interop.rpc=$RPC_GUEST_PORT"
			export INTEROP_RPC_TAG=$k
			# no rule of an earlier guest may outlive it
			rpc_host remove_fault '{"id": 0}' || true
			rpc_host release_faults || true
		fi
	fi
	[ "$debug" = 1 ] && append+=" interop.debug=1"
	qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1536 -smp 2
		-nographic -no-reboot
		-kernel "$kdir/vmlinuz" -initrd "$img" -append "$append"
		-netdev "$netdev" -device virtio-net-pci,netdev=n0)
	log "kernel $k: booting (limit ${boot_timeout}s, console log $logf)"
	{ printf '#'; printf ' %q' "${qemu[@]}"; printf '\n'; } >"$logf"
	t0=$(date +%s)
	set +e
	if [ "$verbose" = 1 ]; then
		timeout --kill-after=10 "$boot_timeout" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' | tee -a "$logf"
	else
		timeout --kill-after=10 "$boot_timeout" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' | tee -a "$logf" |
			grep --line-buffered -a -oE 'INTEROP-(RESULT|BOOT|SUMMARY) .*' | sed -u "s/^/  [$k] /"
	fi
	qrc=${PIPESTATUS[0]}
	set -e
	log "kernel $k: guest ended after $(($(date +%s) - t0))s (qemu status $qrc)"
	rm -f "$img"

	# Results: the last line per expected case; a missing one is a failure, and
	# so is a guest that did not finish, for this reason.
	why="did not finish"
	[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && why="timed out after ${boot_timeout}s"
	grep -aq 'Kernel panic' "$logf" && why="kernel panic: $(grep -a -m1 -oE 'Kernel panic.*' "$logf")"
	tally_guest INTEROP "$k" "$logf" "$logf${rpc_cmd:+, rpc: $rpc_log}" "$why" "$expected"
}

for k in $kernels; do
	boot_kernel "$k"
done

[ -z "$target_cmd" ] || target_verdict "$target_log"

echo
echo "interop summary ($([ "$self_test" = 1 ] && echo "self-test: in-guest Linux nvmet" || echo "target on 127.0.0.1:$port"), nqn $nqn)"
printf '%s\n' "${summary[@]}"
echo "interop: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
