#!/usr/bin/env bash
# rpc-bridge.sh - the guest's line to the target's control socket.
#
# run.sh adds a QEMU guestfwd rule 10.0.2.100:RPC-PORT -> cmd:rpc-bridge.sh, so
# every TCP connection the guest opens to that address starts one copy of this
# script on the host, with the connection as stdin, stdout and stderr. It reads
# ONE request line
#   METHOD [JSON-PARAMS]
# runs `$INTEROP_RPC_CMD METHOD [JSON-PARAMS]` (by default `nvmf rpc -s SOCKET`),
# answers
#   RPC-RC <exit status of the command>
#   RPC-ERR <a line of its stderr>               (each line)
#   RPC-JSON <its stdout as one line of JSON>    (raw text if it is not JSON)
#   RPC-VAL <path> <value>                       (each scalar of the result;
#                                                 path like 0.cntlid or id)
#   RPC-END
# and exits, which closes the connection. Every call is appended to
# $INTEROP_RPC_LOG. The environment comes from run.sh through QEMU:
#   INTEROP_RPC_CMD  the command (a shell word list; METHOD and PARAMS are
#                    appended as two separate arguments, never re-parsed)
#   INTEROP_RPC_LOG  log file
#   INTEROP_RPC_TAG  a label for the log (the kernel)
set -uo pipefail
log_f=${INTEROP_RPC_LOG:-/dev/null}
# stderr is the guest's socket: keep stray messages out of the protocol
exec 2>>"$log_f"

reply_err() {
	printf 'RPC-RC %s\nRPC-ERR %s\nRPC-END\n' "$1" "$2"
	printf '%s [%s] bridge error: %s\n' "$(date +%T.%3N)" "${INTEROP_RPC_TAG:-?}" "$2" >>"$log_f"
	exit 0
}

IFS= read -r -t 30 line || reply_err 2 "bridge: no request line within 30 s"
line=${line%$'\r'}
method=${line%% *}
params=""
[ "$method" != "$line" ] && params=${line#* }
[[ "$method" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || reply_err 2 "bridge: bad method name '${method:0:40}'"
[ -n "${INTEROP_RPC_CMD:-}" ] || reply_err 2 "bridge: INTEROP_RPC_CMD is not set"

t0=$(date +%s%N)
errf=$(mktemp "${TMPDIR:-/tmp}/nvmf-rpc-bridge.XXXXXX")
trap 'rm -f "$errf"' EXIT
# shellcheck disable=SC2086 # INTEROP_RPC_CMD is a word list on purpose
if [ -n "$params" ]; then
	out=$(timeout 30 $INTEROP_RPC_CMD "$method" "$params" 2>"$errf" </dev/null)
else
	out=$(timeout 30 $INTEROP_RPC_CMD "$method" 2>"$errf" </dev/null)
fi
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))

if [ -n "$out" ] && compact=$(jq -c . <<<"$out" 2>/dev/null) && [ -n "$compact" ]; then
	json=1
else
	json=0
	compact=$(tr '\n' ' ' <<<"$out")
fi
{
	printf 'RPC-RC %d\n' "$rc"
	sed 's/^/RPC-ERR /' "$errf"
	[ -n "$compact" ] && printf 'RPC-JSON %s\n' "$compact"
	if [ "$json" = 1 ]; then
		jq -r 'paths(type | . != "array" and . != "object") as $p
			| "RPC-VAL \($p | map(tostring) | join(".")) \(getpath($p) | tostring)"' <<<"$out"
	fi
	printf 'RPC-END\n'
} 2>/dev/null
printf '%s [%s] %s %s -> rc %d (%d ms) %s%s\n' "$(date +%T.%3N)" "${INTEROP_RPC_TAG:-?}" \
	"$method" "$params" "$rc" "$ms" "$compact" \
	"$([ -s "$errf" ] && printf ' stderr: %s' "$(tr '\n' ' ' <"$errf")")" >>"$log_f"
exit 0
