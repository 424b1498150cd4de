#!/usr/bin/env bash
# linux-target.sh - a reference NVMe/TCP target on the host's loopback: the
# Linux nvmet, in a QEMU guest of its own, reachable at 127.0.0.1:PORT (I/O and
# discovery) and 127.0.0.1:DISC-PORT (discovery). It lets the remote mode of
# run.sh (the guestfwd + socat path our own target will use) be checked before
# nvmf-tgt exists:
#
#   tests/interop/run.sh --target-cmd tests/interop/linux-target.sh
#
# Usage: linux-target.sh [--kernel 6.1|6.12] [--nqn NQN] [--port P] [--disc-port P]
#
# How: the target guest boots with interop.mode=serve (nvmet on 0.0.0.0, ports
# 4420 and 8009, a 256 MiB ramfs file namespace) and QEMU forwards two spare
# host ports to it. Only when the guest prints INTEROP-SERVING does this script
# open 127.0.0.1:PORT and :DISC-PORT (socat), so "PORT listens" means "nvmet is
# up", which is what run.sh waits for. It runs until killed (SIGTERM/SIGINT),
# then stops the guest and the forwarders. Console log: <cache>/logs/.
set -euo pipefail
LOG_TAG=linux-target
# shellcheck source=tests/interop/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=6.1 nqn=nqn.2014-08.org.nvmexpress:nvmf-default port=4420 dport=8009
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--nqn) nqn=$2; shift 2 ;;
	--port) port=$2; shift 2 ;;
	--disc-port) dport=$2; shift 2 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	*) die "unknown argument: $1" ;;
	esac
done

ensure_pkgs "${HOST_PKGS[@]}"
"$INTEROP_DIR/fetch-kernels.sh" "$kernel"
kdir=$INTEROP_CACHE/kernels/$kernel
img=$INTEROP_CACHE/images/target-$kernel.img
mkdir -p "$INTEROP_CACHE/logs" "$INTEROP_CACHE/images"
logf=$INTEROP_CACHE/logs/$(date +%Y%m%d-%H%M%S)-linux-target-$kernel.log
"$INTEROP_DIR/mkinitramfs.sh" "$kdir" "$img"

# Spare loopback ports for QEMU's hostfwd (the guest listens on 4420/8009).
free_port() {
	local p
	for p in $(seq "$1" $(($1 + 200))); do
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	die "no free port near $1"
}
inner_io=$(free_port 24420)
inner_disc=$(free_port $((inner_io + 1)))

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' TERM INT

qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 1 -nographic -no-reboot \
	-kernel "$kdir/vmlinuz" -initrd "$img" \
	-append "console=ttyS0 quiet panic=-1 interop.mode=serve interop.nqn=$nqn" \
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$inner_io-:4420,hostfwd=tcp:127.0.0.1:$inner_disc-:8009" \
	-device virtio-net-pci,netdev=n0 </dev/null >"$logf" 2>&1 &
pids+=($!)
log "target guest booting (kernel $(cat "$kdir/kver"), console $logf)"
for i in $(seq 1 240); do
	grep -aq INTEROP-SERVING "$logf" && break
	kill -0 "${pids[0]}" 2>/dev/null || { tail -n 30 "$logf" >&2; die "target guest exited"; }
	grep -aq 'INTEROP-RESULT nvmet_setup FAIL' "$logf" && { tail -n 30 "$logf" >&2; die "nvmet setup failed"; }
	sleep 0.5
	[ "$i" = 240 ] && die "target guest not serving after 120 s"
done
socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$inner_io" &
pids+=($!)
if [ "$dport" != "$port" ]; then
	socat "TCP-LISTEN:$dport,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$inner_disc" &
	pids+=($!)
fi
log "serving $nqn on 127.0.0.1:$port and :$dport (Linux nvmet $(cat "$kdir/kver"))"
wait "${pids[0]}"
die "target guest exited"
