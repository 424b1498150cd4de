#!/usr/bin/env bash
# CLI tests: every `nvmf` subcommand, in two passes of the same checks: over NVMe/TCP against
# the real nvmf-tgt daemon on 127.0.0.1 (free ports chosen at run time, never 4420/8009), and
# over the loop transport (--transport loop --loop-config), where each `nvmf` process builds
# the in-process target of a config whose namespaces are files in the work directory, so
# that what one invocation writes, the next one reads back.
# Usage: tests/cli/run.sh BUILD_DIR
# Each check asserts an observable outcome: an exit status, a field of the -o json output
# (parsed by python3's json module), bytes read back (cmp), a status name on stderr.
# The last line is always "cli: N passed, M failed"; the exit status is non-zero on failure.
# NVMF_CLI_KEEP=1 keeps the work directory (configs, daemon log, loop images, outputs).
set -uo pipefail

build=${1:?usage: run.sh BUILD_DIR}
N="$build/nvmf"
TGT="$build/nvmf-tgt"
pass=0
fail=0

summary() {
	echo "cli: $pass passed, $fail failed"
}

if [ ! -x "$N" ] || [ ! -x "$TGT" ]; then
	echo "cli: $build/nvmf or $build/nvmf-tgt is not built" >&2
	fail=1
	summary
	exit 1
fi

work=$(mktemp -d)
tgt_pid=
pin_pid=
cleanup() {
	for pid in "$tgt_pid" "$pin_pid"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid"
			wait "$pid" 2>/dev/null
		fi
	done
	if [ -n "${NVMF_CLI_KEEP:-}" ]; then
		echo "cli: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- reporting -----------------------------------------------------------------------------

ok() {
	pass=$((pass + 1))
	echo "ok   - $1"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL - $1"
	for f in "$work/out" "$work/err"; do
		[ -s "$f" ] && head -c 2000 "$f" | sed 's/^/    | /'
	done
	return 0
}

# run NAME EXPECTED_RC CMD...: run CMD (stdout to $work/out, stderr to $work/err) and check
# its exit status; returns 0 when it matched, so that follow-up checks can chain on it.
run() {
	local name=$1 want=$2 rc
	shift 2
	timeout 60 "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		bad "$name (exit status $rc, expected $want)"
		return 1
	fi
	return 0
}

# check NAME PYTHON_EXPR: evaluate EXPR with `d` = the JSON in $work/out
check() {
	local name=$1 expr=$2
	if python3 - "$work/out" "$expr" <<'EOF' >"$work/check" 2>&1; then
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
EOF
		ok "$name"
	else
		cat "$work/check" >>"$work/err"
		bad "$name (json: $expr)"
	fi
}

# jget EXPR: print EXPR evaluated on the JSON in $work/out
jget() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$work/out" "$1"
}

# grep_out NAME PATTERN [FILE]: the output (default stdout) matches an extended regex
grep_out() {
	local name=$1 pat=$2 file=${3:-$work/out}
	if grep -Eq -- "$pat" "$file"; then
		ok "$name"
	else
		bad "$name (no match for /$pat/)"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- the target ----------------------------------------------------------------------------

NQN=nqn.2024-01.io.nvmf.test:cli
LOOP_NQN=nqn.2024-01.io.nvmf.test:cli-loop
SERIAL=clitest0001
LOOP_SERIAL=cliloop0001
io_port=$(free_port)
disc_port=$(free_port)
while [ "$disc_port" = "$io_port" ]; do disc_port=$(free_port); done

cat >"$work/tgt.json" <<EOF
{
  "hosts": [],
  "ports": [
    { "portid": 1,
      "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                "trsvcid": "$io_port", "treq": "not specified" },
      "subsystems": ["$NQN"], "referrals": [], "param": {} },
    { "portid": 2,
      "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                "trsvcid": "$disc_port", "treq": "not specified" },
      "subsystems": [], "referrals": [], "param": {} },
    { "portid": 3,
      "addr": { "trtype": "vfio-user", "traddr": "$work/vfu.sock" },
      "subsystems": ["$NQN"], "vfio_user": { "kas": 0 } }
  ],
  "subsystems": [
    { "nqn": "$NQN",
      "attr": { "allow_any_host": "1", "serial": "$SERIAL", "model": "nvmf-cli-test" },
      "allowed_hosts": [],
      "namespaces": [
        { "nsid": 1, "enable": 1,
          "device": { "path": "", "nvmf_backend": "mem", "nvmf_size": "64M" } },
        { "nsid": 2, "enable": 1,
          "device": { "path": "", "nvmf_backend": "mem", "nvmf_size": "16M",
                      "nvmf_block_size": 4096 } }
      ] }
  ],
  "nvmf": { "reactors": 2 }
}
EOF

# The loop pass: the daemon's namespace geometry, file-backed (the files are created on first
# use and keep the data from one `nvmf` invocation to the next).
cat >"$work/loop.json" <<EOF
{
  "hosts": [],
  "ports": [
    { "portid": 1,
      "addr": { "trtype": "loop", "adrfam": "", "traddr": "", "trsvcid": "",
                "treq": "not specified" },
      "subsystems": ["$LOOP_NQN"], "referrals": [], "param": {} }
  ],
  "subsystems": [
    { "nqn": "$LOOP_NQN",
      "attr": { "allow_any_host": "1", "serial": "$LOOP_SERIAL", "model": "nvmf-cli-loop" },
      "allowed_hosts": [],
      "namespaces": [
        { "nsid": 1, "enable": 1,
          "device": { "path": "$work/loop.img", "nvmf_size": "64M" } },
        { "nsid": 2, "enable": 1,
          "device": { "path": "$work/loop2.img", "nvmf_size": "16M",
                      "nvmf_block_size": 4096 } }
      ] }
  ],
  "nvmf": { "reactors": 1 }
}
EOF

# By contrast, a mem namespace over loop lives and dies with its process.
cat >"$work/loop-mem.json" <<EOF
{
  "hosts": [],
  "ports": [
    { "portid": 1,
      "addr": { "trtype": "loop", "adrfam": "", "traddr": "", "trsvcid": "",
                "treq": "not specified" },
      "subsystems": ["$LOOP_NQN"], "referrals": [], "param": {} }
  ],
  "subsystems": [
    { "nqn": "$LOOP_NQN",
      "attr": { "allow_any_host": "1", "serial": "$LOOP_SERIAL", "model": "nvmf-cli-loop" },
      "allowed_hosts": [],
      "namespaces": [
        { "nsid": 1, "enable": 1,
          "device": { "path": "", "nvmf_backend": "mem", "nvmf_size": "32M" } }
      ] }
  ],
  "nvmf": { "reactors": 1 }
}
EOF

"$TGT" -c "$work/tgt.json" >"$work/tgt.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do
	grep -q "nvmf-tgt ready" "$work/tgt.log" && break
	kill -0 "$tgt_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "nvmf-tgt ready" "$work/tgt.log"; then
	echo "cli: the daemon did not start:" >&2
	cat "$work/tgt.log" >&2
	fail=1
	summary
	exit 1
fi

# Long forms work in every subcommand; the short letters only where the subcommand does not
# use them (see `nvmf read --help`). C is the connection of the pass being run.
TCP=(--traddr 127.0.0.1 --trsvcid "$io_port" --nqn "$NQN")
L=(--transport loop --loop-config "$work/loop.json")
C=("${TCP[@]}")

# --- help, version, usage errors -----------------------------------------------------------

if run "version" 0 "$N" version; then grep_out "version prints the version" '^nvmf version [0-9]'; fi
if run "--help" 0 "$N" --help; then
	missing=
	for c in discover connect id-ctrl id-ns list-ns ns-descs smart-log error-log effects-log \
		get-log get-feature set-feature admin-passthru io-passthru read write compare flush \
		write-zeroes dsm reset perf list-subsys help version; do
		grep -Eq "^  $c " "$work/out" || missing="$missing $c"
	done
	if [ -z "$missing" ]; then ok "--help lists every subcommand"; else bad "--help misses:$missing"; fi
fi
if run "help read" 0 "$N" help read; then
	grep_out "read --help: -s is --start-block, --trsvcid long only" \
		'--trsvcid=STR .*\[-s is --start-block here\]'
fi
run "unknown subcommand exits 2" 2 "$N" frobnicate && ok "unknown subcommand exits 2"
run "unknown option exits 2" 2 "$N" id-ctrl "${C[@]}" --frobnicate && ok "unknown option exits 2"
run "missing --traddr exits 2" 2 "$N" id-ctrl --nqn "$NQN" && ok "missing --traddr exits 2"
run "bad number exits 2" 2 "$N" id-ns "${C[@]}" -n xyz && ok "bad number exits 2"
run "perf: bad pattern exits 2" 2 "$N" perf "${C[@]}" -w sideways && ok "perf: bad pattern exits 2"

# --- discover ------------------------------------------------------------------------------

if run "discover" 0 "$N" discover -t tcp -a 127.0.0.1 -s "$disc_port"; then
	grep_out "discover: record count line" '^Discovery Log Number of Records [0-9]+, Generation counter [0-9]+'
	grep_out "discover: entry block" '^=====Discovery Log Entry 0======'
	grep_out "discover: lists the subsystem" "^subnqn:  $NQN\$"
fi
if run "discover -o json" 0 "$N" discover -a 127.0.0.1 -s "$disc_port" -o json; then
	check "discover json: the subsystem on its port" \
		"any(r['subnqn'] == '$NQN' and r['trsvcid'] == '$io_port' and r['subtype'] == 'nvme subsystem' for r in d['records'])"
fi
if run "discover --trid" 0 "$N" discover --trid "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$disc_port" -o json; then
	check "discover --trid: the subsystem" "any(r['subnqn'] == '$NQN' for r in d['records'])"
fi
if run "discover --raw" 0 "$N" discover -a 127.0.0.1 -s "$disc_port" --raw "$work/disc.raw"; then
	size=$(stat -c %s "$work/disc.raw")
	if [ "$size" -ge 2048 ] && [ $((size % 1024)) -eq 0 ]; then ok "discover --raw: header + records"; else bad "discover --raw: $size bytes"; fi
fi

# --- every subcommand, once per transport --------------------------------------------------
#
# subcommand_checks: over the connection in C, to subsystem $nqn (serial $serial, model
# $model; namespace 1: 64 MiB of 512-byte blocks, namespace 2: 16 MiB of 4 KiB blocks).
# $mode is tcp or loop; $P starts the name of every check.
subcommand_checks() {
	local writes_before='' reads_before='' size iops rc conn_pid nobody closed

	# --- identify ----------------------------------------------------------------------

	if run "${P}id-ctrl" 0 "$N" id-ctrl "${C[@]}"; then
		grep_out "${P}id-ctrl: vid line" '^vid       : '
		grep_out "${P}id-ctrl: serial" "^sn        : $serial"
		grep_out "${P}id-ctrl: subnqn" "^subnqn    : $nqn\$"
	fi
	if run "${P}id-ctrl -o json" 0 "$N" id-ctrl "${C[@]}" -o json; then
		check "${P}id-ctrl json: sn, mn, subnqn, cntrltype, nn" \
			"d['sn'].strip() == '$serial' and d['mn'].strip() == '$model' and d['subnqn'] == '$nqn' and d['cntrltype'] == 1 and d['nn'] >= 2 and isinstance(d['psds'], list)"
	fi
	if [ "$mode" = tcp ]; then
		if run "id-ctrl short connection flags" 0 "$N" id-ctrl -t tcp -a 127.0.0.1 -s "$io_port" -n "$nqn" -o json; then
			check "id-ctrl -t -a -s -n" "d['sn'].strip() == '$serial'"
		fi
		if run "id-ctrl --trid" 0 "$N" id-ctrl --trid "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$io_port subnqn:$nqn" -o json; then
			check "id-ctrl --trid" "d['subnqn'] == '$nqn'"
		fi
		if run "id-ctrl digests" 0 "$N" id-ctrl "${C[@]}" -g -G -o json; then
			check "id-ctrl with header and data digests" "d['sn'].strip() == '$serial'"
		fi
	else
		if run "${P}id-ctrl short connection flags" 0 "$N" id-ctrl -t loop --loop-config "$work/loop.json" -n "$nqn" -o json; then
			check "${P}id-ctrl -t loop -n" "d['sn'].strip() == '$serial'"
		fi
		if run "${P}id-ctrl --trid" 0 "$N" id-ctrl --trid "trtype:loop subnqn:$nqn" --loop-config "$work/loop.json" -o json; then
			check "${P}id-ctrl --trid trtype:loop" "d['subnqn'] == '$nqn'"
		fi
	fi
	if run "${P}id-ctrl -b" 0 "$N" id-ctrl "${C[@]}" -b; then
		size=$(stat -c %s "$work/out")
		if [ "$size" -eq 4096 ] && [ "$(dd if="$work/out" bs=1 skip=4 count=${#serial} 2>/dev/null)" = "$serial" ]; then
			ok "${P}id-ctrl -b: 4096 bytes, SN at offset 4"
		else
			bad "${P}id-ctrl -b: $size bytes"
		fi
	fi
	if run "${P}id-ns -n 1 -o json" 0 "$N" id-ns "${C[@]}" -n 1 -o json; then
		check "${P}id-ns 1: 64 MiB of 512-byte blocks" \
			"d['nsze'] == (64 << 20) // 512 and d['lbafs'][0]['ds'] == 9 and d['lbafs'][0]['in_use'] == 1"
	fi
	if run "${P}id-ns -n 2 -o json" 0 "$N" id-ns "${C[@]}" -n 2 -o json; then
		check "${P}id-ns 2: 16 MiB of 4096-byte blocks" "d['nsze'] == (16 << 20) // 4096 and d['lbafs'][0]['ds'] == 12"
	fi
	if run "${P}id-ns normal" 0 "$N" id-ns "${C[@]}" -n 1; then
		grep_out "${P}id-ns: nsze line and in-use LBA format" '^nsze    : 0x20000'
		grep_out "${P}id-ns: lbaf line" '^lbaf  0 : ms:0   lbads:9  rp:0 \(in use\)'
	fi
	# NN is 1024 (as nvmet): an NSID above it is invalid; an inactive one below reads zeroes
	if run "${P}id-ns of an NSID above NN exits 1" 1 "$N" id-ns "${C[@]}" -n 5000; then
		grep_out "${P}id-ns 5000: NVMe status on stderr" '^NVMe status: [A-Z_]+: .*\(0x[0-9a-f]+\)$' "$work/err"
	fi
	if run "${P}id-ns of an inactive NSID below NN" 0 "$N" id-ns "${C[@]}" -n 99; then
		grep_out "${P}id-ns 99: zero NSZE" '^nsze    : 0$'
	fi
	if run "${P}list-ns -o json" 0 "$N" list-ns "${C[@]}" -o json; then
		check "${P}list-ns: namespaces 1 and 2" "[e['nsid'] for e in d['nsid_list']] == [1, 2]"
	fi
	if run "${P}list-ns" 0 "$N" list-ns "${C[@]}"; then
		grep_out "${P}list-ns normal" '^\[   1\]:0x2$'
	fi
	if run "${P}ns-descs -o json" 0 "$N" ns-descs "${C[@]}" -n 1 -o json; then
		check "${P}ns-descs: an NGUID or UUID and the CSI" \
			"{'csi'} <= {e['Type'] for e in d['ns-descs']} and ({'uuid', 'nguid'} & {e['Type'] for e in d['ns-descs']})"
	fi

	# --- log pages ---------------------------------------------------------------------

	if run "${P}smart-log -o json (before)" 0 "$N" smart-log "${C[@]}" -o json; then
		check "${P}smart-log json: fields" "'critical_warning' in d and 'data_units_written' in d and d['avail_spare'] <= 100"
		writes_before=$(jget "d['host_write_commands']")
		reads_before=$(jget "d['host_read_commands']")
	fi
	if run "${P}smart-log" 0 "$N" smart-log "${C[@]}"; then
		grep_out "${P}smart-log: critical_warning line" '^critical_warning[[:space:]]+: 0$'
		grep_out "${P}smart-log: data_units_read line" '^data_units_read[[:space:]]+: [0-9]+'
	fi
	if run "${P}smart-log -o binary" 0 "$N" smart-log "${C[@]}" -o binary; then
		size=$(stat -c %s "$work/out")
		if [ "$size" -eq 512 ]; then ok "${P}smart-log -o binary: 512 bytes"; else bad "${P}smart-log -o binary: $size bytes"; fi
	fi
	if run "${P}error-log -o json" 0 "$N" error-log "${C[@]}" -o json; then
		check "${P}error-log json: a list of entries" "isinstance(d['errors'], list) and len(d['errors']) >= 1 and 'status_field' in d['errors'][0]"
	fi
	if run "${P}error-log" 0 "$N" error-log "${C[@]}" -e 2; then
		grep_out "${P}error-log: entries header" '^Error Log Entries for device:.* entries:[12]$'
	fi
	if run "${P}effects-log -o json" 0 "$N" effects-log "${C[@]}" -o json; then
		check "${P}effects-log json: Identify, Read, Write" \
			"'ACS_6 (Identify)' in d[0]['admin_cmd_set'] and 'IOCS_2 (Read)' in d[0]['io_cmd_set'] and d[0]['io_cmd_set']['IOCS_1 (Write)'] & 1"
	fi
	if run "${P}effects-log" 0 "$N" effects-log "${C[@]}"; then
		grep_out "${P}effects-log normal" '^ACS6 +\[Identify +\] 00000001'
	fi
	if run "${P}get-log -b" 0 "$N" get-log "${C[@]}" -i 2 -l 512 -b; then
		size=$(stat -c %s "$work/out")
		if [ "$size" -eq 512 ]; then ok "${P}get-log -i 2 -l 512 -b: 512 bytes"; else bad "${P}get-log -b: $size bytes"; fi
	fi
	if run "${P}get-log -o json" 0 "$N" get-log "${C[@]}" -i 2 -l 512 -o json; then
		check "${P}get-log json" "d['log_id'] == 2 and d['log_len'] == 512 and len(d['data']) == 1024"
	fi
	if run "${P}get-log" 0 "$N" get-log "${C[@]}" --log-id 2 --log-len 64; then
		grep_out "${P}get-log normal: header and hex dump" '^Device:.* log-id:2 namespace-id:0xffffffff'
	fi
	run "${P}get-log bad log-len exits 2" 2 "$N" get-log "${C[@]}" -i 2 -l 3 && ok "${P}get-log bad log-len exits 2"

	# --- features ----------------------------------------------------------------------

	if run "${P}get-feature -f 7 -o json" 0 "$N" get-feature "${C[@]}" -f 7 -o json; then
		check "${P}get-feature 7: Number of Queues" "d['feature_id'] == 7 and d['name'] == 'Number of Queues' and d['sel'] == 'Current'"
	fi
	if run "${P}get-feature -f 7 -H" 0 "$N" get-feature "${C[@]}" -f 7 -H; then
		grep_out "${P}get-feature normal" '^get-feature:0x07 \(Number of Queues\), Current value:'
		grep_out "${P}get-feature -H: decoded" 'Number of IO Submission Queues Allocated \(NSQA\): [0-9]+'
	fi
	if run "${P}get-feature (all) -o json" 0 "$N" get-feature "${C[@]}" -o json; then
		check "${P}get-feature all: several features" "len(d) >= 3 and any(f['feature_id'] == 7 for f in d)"
	fi
	if run "${P}set-feature async event config" 0 "$N" set-feature "${C[@]}" -f 0x0b --value 0x100; then
		grep_out "${P}set-feature output" '^set-feature:0x0b \(Async Event Configuration\), value:0x00000100'
	fi
	if run "${P}set-feature -o json" 0 "$N" set-feature "${C[@]}" -f 0x0b --value 0x900 -o json; then
		check "${P}set-feature json" "d['feature_id'] == 11 and d['value'] == 0x900"
	fi
	run "${P}set-feature without -f exits 2" 2 "$N" set-feature "${C[@]}" --value 1 && ok "${P}set-feature without -f exits 2"
	if run "${P}set-feature of an unknown feature exits 1" 1 "$N" set-feature "${C[@]}" -f 0x7e --value 1; then
		grep_out "${P}set-feature unknown: NVMe status" '^NVMe status: ' "$work/err"
	fi

	# --- passthru ----------------------------------------------------------------------

	if run "${P}admin-passthru identify" 0 "$N" admin-passthru "${C[@]}" -O 6 --cdw10 1 -l 4096 -r -b; then
		if [ "$(dd if="$work/out" bs=1 skip=4 count=${#serial} 2>/dev/null)" = "$serial" ]; then
			ok "${P}admin-passthru identify: SN in the data"
		else
			bad "${P}admin-passthru identify: no SN"
		fi
		grep_out "${P}admin-passthru: success line" '^Admin Command Identify is Success and result: 0x' "$work/err"
	fi
	if run "${P}admin-passthru invalid opcode exits 1" 1 "$N" admin-passthru "${C[@]}" -O 0xfe; then
		grep_out "${P}admin-passthru: INVALID_OPCODE" '^NVMe status: INVALID_OPCODE' "$work/err"
	fi
	head -c 512 /dev/urandom >"$work/pt.bin"
	if run "${P}io-passthru write" 0 "$N" io-passthru "${C[@]}" --namespace-id 1 -O 1 --cdw10 3000 --cdw12 0 -l 512 -w --input-file "$work/pt.bin"; then
		if run "${P}io-passthru read" 0 "$N" io-passthru "${C[@]}" --namespace-id 1 -O 2 --cdw10 3000 --cdw12 0 -l 512 -r -b; then
			if cmp -s "$work/out" "$work/pt.bin"; then ok "${P}io-passthru: data read back"; else bad "${P}io-passthru: data differs"; fi
		fi
	fi

	# --- I/O ---------------------------------------------------------------------------

	head -c 65536 /dev/urandom >"$work/data.bin"
	if run "${P}write -d" 0 "$N" write "${C[@]}" --namespace-id 1 -s 1000 -z 65536 -d "$work/data.bin"; then
		grep_out "${P}write: Success" '^write: Success$' "$work/err"
		if run "${P}read -d" 0 "$N" read "${C[@]}" --namespace-id 1 -s 1000 -z 65536 -d "$work/read.bin"; then
			if cmp -s "$work/data.bin" "$work/read.bin"; then ok "${P}write + read: byte-identical"; else bad "${P}write + read: data differs"; fi
		fi
		# over loop, each invocation had a target of its own: the file carried the data
		if [ "$mode" = loop ]; then
			if cmp -s "$work/data.bin" <(dd if="$work/loop.img" bs=512 skip=1000 count=128 2>/dev/null); then
				ok "${P}write: the data is in loop.img at LBA 1000"
			else
				bad "${P}write: loop.img does not hold the data at LBA 1000"
			fi
		fi
	fi
	if run "${P}write from stdin" 0 "$N" write "${C[@]}" --namespace-id 2 -s 10 -c 1 -z 8192 <"$work/data.bin"; then
		if run "${P}read to stdout" 0 "$N" read "${C[@]}" --namespace-id 2 -s 10 -c 1 -z 8192; then
			if cmp -s "$work/out" <(head -c 8192 "$work/data.bin"); then
				ok "${P}stdin/stdout, 4 KiB blocks: byte-identical"
			else
				bad "${P}stdin/stdout: data differs"
			fi
		fi
	fi
	if run "${P}read -o json" 0 "$N" read "${C[@]}" --namespace-id 1 -s 1000 -z 512 -o json; then
		check "${P}read json: the data in hex" "bytes.fromhex(d['data']) == open('$work/data.bin', 'rb').read(512) and d['block_count'] == 0"
	fi
	if run "${P}compare (match)" 0 "$N" compare "${C[@]}" --namespace-id 1 -s 1000 -z 65536 -d "$work/data.bin"; then
		ok "${P}compare of identical data exits 0"
	fi
	head -c 65536 /dev/urandom >"$work/other.bin"
	if run "${P}compare (mismatch) exits 1" 1 "$N" compare "${C[@]}" --namespace-id 1 -s 1000 -z 65536 -d "$work/other.bin"; then
		grep_out "${P}compare mismatch: COMPARE_FAILED" '^NVMe status: COMPARE_FAILED.*\(0x[0-9a-f]+\)$' "$work/err"
	fi
	if run "${P}flush" 0 "$N" flush "${C[@]}" --namespace-id 1; then
		grep_out "${P}flush: success" '^NVMe Flush: success$'
	fi
	if run "${P}write-zeroes" 0 "$N" write-zeroes "${C[@]}" --namespace-id 1 -s 1000 -c 63; then
		grep_out "${P}write-zeroes: success" '^NVME Write Zeroes Success$'
		if run "${P}read after write-zeroes" 0 "$N" read "${C[@]}" --namespace-id 1 -s 1000 -z 32768; then
			if cmp -s "$work/out" <(head -c 32768 /dev/zero); then ok "${P}write-zeroes: zeroes read back"; else bad "${P}write-zeroes: not zero"; fi
		fi
	fi
	if run "${P}write before dsm" 0 "$N" write "${C[@]}" --namespace-id 1 -s 4000 -z 4096 -d "$work/data.bin"; then
		if run "${P}dsm deallocate" 0 "$N" dsm "${C[@]}" --namespace-id 1 --slbs 4000,5000 --blocks 8,8 --ad; then
			grep_out "${P}dsm: success" '^NVMe DSM: success$'
			if run "${P}read after dsm" 0 "$N" read "${C[@]}" --namespace-id 1 -s 4000 -z 4096; then
				if cmp -s "$work/out" <(head -c 4096 /dev/zero); then ok "${P}dsm: deallocated blocks read as zeroes (DLFEAT)"; else bad "${P}dsm: data still there"; fi
			fi
		fi
	fi
	run "${P}dsm without ranges exits 2" 2 "$N" dsm "${C[@]}" --ad && ok "${P}dsm without ranges exits 2"
	if run "${P}read beyond the namespace exits 1" 1 "$N" read "${C[@]}" --namespace-id 1 -s 131072 -z 512; then
		grep_out "${P}read out of range: LBA_RANGE" '^NVMe status: LBA_RANGE' "$work/err"
	fi

	# smart-log counters grew with the I/O above on the daemon; over loop each invocation has a
	# new target, whose counters start from zero again (the files keep the data, not the log)
	if [ -n "${writes_before:-}" ] && run "${P}smart-log -o json (after)" 0 "$N" smart-log "${C[@]}" -o json; then
		if [ "$mode" = tcp ]; then
			check "smart-log: host read/write commands grew" \
				"d['host_write_commands'] > $writes_before and d['host_read_commands'] > $reads_before and d['data_units_written'] > 0"
		else
			check "${P}smart-log: a new target per invocation, counters from zero" \
				"$writes_before == 0 and d['host_write_commands'] == 0 and d['host_read_commands'] == 0 and d['data_units_written'] == 0 and d['critical_warning'] == 0"
		fi
	fi

	# --- reset, connect ----------------------------------------------------------------

	if run "${P}reset -o json" 0 "$N" reset "${C[@]}" -o json; then
		check "${P}reset: a new association, live" "d['state'] == 'live' and d['cntlid'] != d['cntlid_before']"
	fi
	if run "${P}reset" 0 "$N" reset "${C[@]}"; then ok "${P}reset (normal) exits 0"; fi

	"$N" connect "${C[@]}" -o json >"$work/conn.out" 2>"$work/conn.err" &
	conn_pid=$!
	for _ in $(seq 100); do
		grep -q '"namespaces"' "$work/conn.out" 2>/dev/null && break
		kill -0 "$conn_pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	if kill -0 "$conn_pid" 2>/dev/null; then
		ok "${P}connect: still connected after the output"
		kill -INT "$conn_pid"
		for _ in $(seq 100); do kill -0 "$conn_pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$conn_pid" 2>/dev/null; then
			kill -KILL "$conn_pid"
			bad "${P}connect: still running 10 s after SIGINT"
		else
			wait "$conn_pid"
			rc=$?
			if [ "$rc" -eq 0 ]; then ok "${P}connect: SIGINT disconnects, exit 0"; else bad "${P}connect: exit status $rc after SIGINT"; fi
		fi
		cp "$work/conn.out" "$work/out"
		check "${P}connect json: live, namespaces 1 and 2" \
			"d['state'] == 'live' and d['subnqn'] == '$nqn' and [n['nsid'] for n in d['namespaces']] == [1, 2] and d['namespaces'][1]['lba_size'] == 4096"
	else
		cp "$work/conn.out" "$work/out"
		cp "$work/conn.err" "$work/err"
		bad "${P}connect: exited before SIGINT"
	fi

	"$N" connect "${C[@]}" >"$work/conn.out" 2>"$work/conn.err" &
	conn_pid=$!
	for _ in $(seq 100); do
		grep -q '^Connected' "$work/conn.out" 2>/dev/null && break
		kill -0 "$conn_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$conn_pid" 2>/dev/null
	wait "$conn_pid"
	rc=$?
	cp "$work/conn.out" "$work/out"
	cp "$work/conn.err" "$work/err"
	if [ "$rc" -eq 0 ] && grep -q "^connected to $nqn" "$work/out" && grep -q '^Disconnected' "$work/out"; then
		ok "${P}connect (normal): SIGTERM disconnects, exit 0"
	else
		bad "${P}connect (normal): exit status $rc"
	fi

	# --- connection failures -----------------------------------------------------------

	if [ "$mode" = tcp ]; then
		nobody=(--traddr 127.0.0.1 --trsvcid "$io_port")
	else
		nobody=(--transport loop --loop-config "$work/loop.json")
	fi
	if run "${P}unknown subsystem NQN exits 1" 1 "$N" id-ctrl "${nobody[@]}" --nqn nqn.2024-01.io.nvmf.test:nobody; then
		grep_out "${P}unknown NQN: a Connect status" 'NVMe status: CONNECT_INVALID_(PARAM|HOST)' "$work/err"
	fi
	if [ "$mode" = tcp ]; then
		closed=$(free_port)
		if run "connection refused exits 1" 1 "$N" id-ctrl --traddr 127.0.0.1 --trsvcid "$closed" --nqn "$nqn"; then
			grep_out "connection refused: strerror" 'Connection refused' "$work/err"
		fi
	fi

	# --- perf --------------------------------------------------------------------------

	if run "perf $mode randread 2 s" 0 "$N" perf "${C[@]}" -q 16 -o 4096 -w randread -t 2; then
		iops=$(sed -n 's/^IOPS: //p' "$work/out")
		if python3 -c "import sys; sys.exit(0 if float('${iops:-0}') > 0 else 1)"; then
			ok "perf $mode: IOPS $iops > 0"
		else
			bad "perf $mode: IOPS '${iops}'"
		fi
		grep_out "perf $mode: progress lines" '^\[  1 s\] +[0-9.]+ IOPS'
		grep_out "perf $mode: latency percentiles" '^Latency \(us\): average [0-9.]+, p50 [0-9.]+, p99 [0-9.]+, p99\.9 [0-9.]+'
		grep_out "perf $mode: CPU per million I/Os" 's per million I/Os$'
	fi
	if run "perf $mode --json randrw, 2 threads, 2 queues" 0 "$N" perf "${C[@]}" -q 8 -o 8192 -w randrw -M 70 -t 2 -c 2 --threads 2 --json; then
		check "perf $mode json: iops > 0, no errors, ordered percentiles" \
			"d['transport'] == '$mode' and d['iops'] > 0 and d['errors'] == 0 and d['threads'] == 2 and all(t['ios'] > 0 for t in d['per_thread']) and d['latency_us']['min'] <= d['latency_us']['p50'] <= d['latency_us']['p99'] <= d['latency_us']['p99_9'] <= d['latency_us']['max'] and d['cpu_s_per_mio'] > 0"
	fi
}

mode=tcp P='' nqn=$NQN serial=$SERIAL model=nvmf-cli-test
C=("${TCP[@]}")
subcommand_checks

mode=loop P="loop: " nqn=$LOOP_NQN serial=$LOOP_SERIAL model=nvmf-cli-loop
C=("${L[@]}")
subcommand_checks

# --- vfio-user: the daemon's PCIe controller (port 3), a non-fabrics controller -------------
#
# The same subsystem as over TCP, reached as a PCIe device: Identify says so, data written
# here is what TCP reads, and passthrough may not set the keep-alive timer (seed 003).

V=(--transport vfio-user --traddr "$work/vfu.sock")
if run "vfio-user: id-ctrl -o json" 0 "$N" id-ctrl "${V[@]}" -o json; then
	check "vfio-user id-ctrl: I/O controller, no keep-alive, no fabrics fields, the subsystem" \
		"d['cntrltype'] == 1 and d['kas'] == 0 and d['ioccsz'] == 0 and d['subnqn'] == '$NQN' and d['sn'].strip() == '$SERIAL'"
fi
run "vfio-user: missing --traddr exits 2" 2 "$N" id-ctrl --transport vfio-user && ok "vfio-user: missing --traddr exits 2"
head -c 131072 /dev/urandom >"$work/vfu.bin"
if run "vfio-user: write 128 KiB (PRP list)" 0 "$N" write "${V[@]}" --namespace-id 1 -s 20000 -z 131072 -d "$work/vfu.bin"; then
	if run "vfio-user: read back" 0 "$N" read "${V[@]}" --namespace-id 1 -s 20000 -z 131072 -d "$work/vfu-read.bin" &&
		cmp -s "$work/vfu.bin" "$work/vfu-read.bin"; then
		ok "vfio-user: write + read: byte-identical"
	else
		bad "vfio-user: write + read: data differs"
	fi
	if run "vfio-user: the same blocks over TCP" 0 "$N" read "${TCP[@]}" --namespace-id 1 -s 20000 -z 131072 -d "$work/vfu-tcp.bin" &&
		cmp -s "$work/vfu.bin" "$work/vfu-tcp.bin"; then
		ok "vfio-user: TCP reads what vfio-user wrote"
	else
		bad "vfio-user: TCP reads other data"
	fi
fi
if run "vfio-user: set-feature KATO refused (seed 003)" 1 "$N" set-feature "${V[@]}" -f 0x0f --value 5000; then
	grep_out "vfio-user: set-feature KATO: Operation not supported" 'Operation not supported' "$work/err"
fi
if run "vfio-user: get-feature number of queues" 0 "$N" get-feature "${V[@]}" -f 7 -o json; then
	check "vfio-user get-feature 7: Number of Queues" "d['feature_id'] == 7 and d['name'] == 'Number of Queues' and d['sel'] == 'Current'"
fi
if run "vfio-user: reset -o json" 0 "$N" reset "${V[@]}" -o json; then
	check "vfio-user reset: live again, new cntlid" "d['state'] == 'live' and d['cntlid'] != d['cntlid_before']"
fi
if run "vfio-user: perf randread 1 s" 0 "$N" perf "${V[@]}" -q 16 -o 4096 -w randread -t 1 --json; then
	check "vfio-user perf: iops > 0, no errors" "d['transport'] == 'vfio-user' and d['iops'] > 0 and d['errors'] == 0"
fi

# --- more of the loop transport ------------------------------------------------------------

# perf's own -t is --time, unless its value names a transport
if run "perf -t loop 2 s" 0 "$N" perf -t loop --loop-config "$work/loop.json" -n 1 -q 16 -t 2; then
	iops=$(sed -n 's/^IOPS: //p' "$work/out")
	if python3 -c "import sys; sys.exit(0 if float('${iops:-0}') > 0 else 1)"; then
		ok "perf -t loop -t 2: IOPS $iops > 0"
	else
		bad "perf -t loop -t 2: IOPS '${iops}'"
	fi
fi
if run "perf loop --json write" 0 "$N" perf "${L[@]}" -w write -q 4 -o 16384 -t 1 --json; then
	check "perf loop json: writes done" "d['iops'] > 0 and d['transport'] == 'loop' and d['rwmixread'] == 0"
fi
if run "discover -t loop" 0 "$N" discover "${L[@]}" -o json; then
	check "discover loop: the loop subsystem" "any(r['subnqn'] == '$LOOP_NQN' and r['trtype'] == 'loop' for r in d['records'])"
fi
# Each process serves its own in-process target: a mem namespace lives and dies with it.
M=(--transport loop --loop-config "$work/loop-mem.json")
if run "write -t loop (mem)" 0 "$N" write "${M[@]}" -s 0 -z 4096 -d "$work/data.bin"; then
	ok "write over loop (mem) exits 0"
fi
if run "read -t loop (mem, fresh target: zeroes)" 0 "$N" read "${M[@]}" -s 0 -z 4096; then
	if cmp -s "$work/out" <(head -c 4096 /dev/zero); then ok "read over loop: a fresh mem namespace reads zeroes"; else bad "read over loop: not zero"; fi
fi
run "-t loop without --loop-config exits 2" 2 "$N" id-ctrl --transport loop && ok "-t loop without --loop-config exits 2"
echo '{ "ports": [' >"$work/broken.json"
run "broken --loop-config exits 2" 2 "$N" id-ctrl --transport loop --loop-config "$work/broken.json" &&
	ok "broken --loop-config exits 2"

# --- pinning: nvmf-tgt --cpumask, nvmf perf --cpumask -------------------------------------

# a CPU this process may not run on (none on a machine where it may run on all 1024)
off_cpu=$(python3 -c 'import os; a = os.sched_getaffinity(0); print(next((c for c in range(1024) if c not in a), ""))')

run "nvmf-tgt --cpumask x exits 2" 2 "$TGT" -c "$work/tgt.json" --cpumask x &&
	grep_out "nvmf-tgt --cpumask x: names the option and the mask" '^nvmf-tgt: --cpumask: "x" is not a CPU mask' "$work/err"
run "nvmf-tgt -m 2-1 exits 2" 2 "$TGT" -c "$work/tgt.json" -m 2-1 &&
	grep_out "nvmf-tgt -m 2-1: not a CPU mask" '^nvmf-tgt: --cpumask: "2-1" is not a CPU mask' "$work/err"
run "nvmf-tgt --reactors 2 --cpumask 0x1 exits 2" 2 "$TGT" -c "$work/tgt.json" --reactors 2 --cpumask 0x1 &&
	grep_out "nvmf-tgt --reactors 2 --cpumask 0x1: they disagree" '^nvmf-tgt: --reactors 2 disagrees with --cpumask 0x1, which has 1 CPU' "$work/err"
if [ -n "$off_cpu" ]; then
	run "nvmf-tgt --cpumask [$off_cpu] exits 2" 2 "$TGT" -c "$work/tgt.json" --cpumask "[$off_cpu]" &&
		grep_out "nvmf-tgt --cpumask [$off_cpu]: the CPU is not available" "^nvmf-tgt: --cpumask: CPU $off_cpu is not available \\(this process may run on " "$work/err"
	sed 's/"nvmf": { "reactors": 2 }/"nvmf": { "cpumask": "['"$off_cpu"']" }/' "$work/tgt.json" >"$work/tgt-off.json"
	run "nvmf-tgt: nvmf.cpumask with CPU $off_cpu exits 2" 2 "$TGT" -c "$work/tgt-off.json" &&
		grep_out "nvmf-tgt: nvmf.cpumask: the error names the JSON path and the CPU" "tgt-off\\.json: nvmf\\.cpumask: CPU $off_cpu is not available" "$work/err"
fi

# --cpumask 0x1 replaces the config's nvmf.reactors 2: one reactor, on CPU 0
pin_io=$(free_port)
pin_disc=$(free_port)
while [ "$pin_disc" = "$pin_io" ]; do pin_disc=$(free_port); done
sed -e "s/\"$io_port\"/\"$pin_io\"/" -e "s/\"$disc_port\"/\"$pin_disc\"/" "$work/tgt.json" >"$work/pin.json"
"$TGT" -c "$work/pin.json" --cpumask 0x1 -r "$work/pin.sock" -v >"$work/pin.log" 2>&1 &
pin_pid=$!
for _ in $(seq 100); do
	grep -q "nvmf-tgt ready" "$work/pin.log" && break
	kill -0 "$pin_pid" 2>/dev/null || break
	sleep 0.1
done
if grep -q "nvmf-tgt ready" "$work/pin.log"; then
	ok "nvmf-tgt --cpumask 0x1 starts"
	# the reactor names its thread once it runs: wait for it
	reactors=
	for _ in $(seq 50); do
		reactors=$(grep -lx 'reactor_[0-9]*' /proc/"$pin_pid"/task/*/comm 2>/dev/null)
		[ -n "$reactors" ] && break
		sleep 0.1
	done
	if [ "$(echo "$reactors" | grep -c .)" -eq 1 ] && [ "$(cat "$(dirname "$reactors")/comm")" = reactor_0 ]; then
		ok "nvmf-tgt --cpumask 0x1: one reactor thread, reactor_0"
		allowed=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$(dirname "$reactors")/status")
		if [ "$allowed" = 0 ]; then ok "nvmf-tgt --cpumask 0x1: reactor_0 may run on CPU 0 only"; else bad "nvmf-tgt --cpumask 0x1: reactor_0 Cpus_allowed_list '$allowed'"; fi
	else
		bad "nvmf-tgt --cpumask 0x1: reactor threads: '$(echo $reactors)'"
	fi
	if run "discover (pinned target)" 0 "$N" discover -a 127.0.0.1 -s "$pin_disc" -o json; then
		check "discover (pinned target): the subsystem" "any(r['subnqn'] == '$NQN' and r['trsvcid'] == '$pin_io' for r in d['records'])"
	fi
	# the pinning is reported and saved: a reloaded config pins the same way
	if run "rpc get_target (pinned target)" 0 "$N" rpc -s "$work/pin.sock" get_target; then
		check "get_target: reactors 1, cpumask [0]" "d['reactors'] == 1 and d['cpumask'] == '[0]'"
	fi
	if run "rpc save_config (pinned target)" 0 "$N" rpc -s "$work/pin.sock" save_config "{\"path\": \"$work/pin-saved.json\"}"; then
		cp "$work/pin-saved.json" "$work/out"
		check "save_config: nvmf.cpumask [0] with nvmf.reactors 1" "d['nvmf']['cpumask'] == '[0]' and d['nvmf']['reactors'] == 1"
	fi
	PIN=(--traddr 127.0.0.1 --trsvcid "$pin_io" --nqn "$NQN")
	if run "perf --cpumask 0x1 -t 1 (pinned target)" 0 "$N" perf "${PIN[@]}" --cpumask 0x1 -q 8 -t 1; then
		grep_out "perf --cpumask 0x1: thread 0 on CPU 0" '^Associating TCP .* with thread 0 on CPU 0$'
		iops=$(sed -n 's/^IOPS: //p' "$work/out")
		if python3 -c "import sys; sys.exit(0 if float('${iops:-0}') > 0 else 1)"; then
			ok "perf --cpumask 0x1: IOPS $iops > 0"
		else
			bad "perf --cpumask 0x1: IOPS '${iops}'"
		fi
	fi
	if run "perf --cpumask [0] --json" 0 "$N" perf "${PIN[@]}" --cpumask '[0]' -q 4 -t 1 --json; then
		check "perf --cpumask [0] json: one thread, on CPU 0, I/O done" \
			"d['threads'] == 1 and [t['cpu'] for t in d['per_thread']] == [0] and d['iops'] > 0 and d['errors'] == 0"
	fi
	if run "perf -q 128 on one queue" 0 "$N" perf "${PIN[@]}" -q 128 -t 1; then
		grep_out "perf -q 128: says one queue of 128 entries holds 127" '^perf: thread 0: 1 I/O queue\(s\) of 128 entries hold 127 I/Os, not 128 .*try --queues 2$' "$work/err"
	fi
	if run "perf without --cpumask --json" 0 "$N" perf "${PIN[@]}" -q 4 -t 1 --threads 2 --json; then
		check "perf without --cpumask json: threads not pinned" "[t['cpu'] for t in d['per_thread']] == [None, None]"
	fi
	kill -TERM "$pin_pid"
	wait "$pin_pid"
	rc=$?
	pin_pid=
	if [ "$rc" -eq 0 ]; then ok "nvmf-tgt --cpumask 0x1: exits 0 on SIGTERM"; else bad "nvmf-tgt --cpumask 0x1: exit status $rc on SIGTERM"; fi
else
	cp "$work/pin.log" "$work/err"
	bad "nvmf-tgt --cpumask 0x1 did not start"
fi
run "perf --cpumask x exits 2" 2 "$N" perf "${TCP[@]}" --cpumask x -t 1 &&
	grep_out "perf --cpumask x: not a CPU mask" '^nvmf perf: --cpumask: "x" is not a CPU mask' "$work/err"
run "perf --threads 2 --cpumask 0x1 exits 2" 2 "$N" perf "${TCP[@]}" --threads 2 --cpumask 0x1 -t 1 &&
	grep_out "perf --threads 2 --cpumask 0x1: they disagree" '^nvmf perf: --threads 2 disagrees with --cpumask 0x1' "$work/err"
if [ -n "$off_cpu" ]; then
	run "perf --cpumask [$off_cpu] exits 2" 2 "$N" perf "${TCP[@]}" --cpumask "[$off_cpu]" -t 1 &&
		grep_out "perf --cpumask [$off_cpu]: the CPU is not available" "^nvmf perf: --cpumask: CPU $off_cpu is not available" "$work/err"
fi

# --- multipath: connect and list-subsys with several -a/-s paths --------------------------
#
# A second daemon: one subsystem on two ports, its namespace in ANA group 1, optimized
# through the first port and non-optimized through the second; a control socket flips them.

MP_NQN=nqn.2024-01.io.nvmf.test:cli-mpath
mp_a=$(free_port)
mp_b=$(free_port)
while [ "$mp_b" = "$mp_a" ]; do mp_b=$(free_port); done
cat >"$work/mp.json" <<EOF
{
  "hosts": [],
  "ports": [
    { "portid": 1,
      "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                "trsvcid": "$mp_a", "treq": "not specified" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "optimized" } } ],
      "subsystems": ["$MP_NQN"], "referrals": [], "param": {} },
    { "portid": 2,
      "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                "trsvcid": "$mp_b", "treq": "not specified" },
      "ana_groups": [ { "grpid": 1, "ana": { "state": "non-optimized" } } ],
      "subsystems": ["$MP_NQN"], "referrals": [], "param": {} }
  ],
  "subsystems": [
    { "nqn": "$MP_NQN",
      "attr": { "allow_any_host": "1", "serial": "climpath0001", "model": "nvmf-cli-mpath" },
      "allowed_hosts": [],
      "namespaces": [
        { "nsid": 1, "enable": 1, "ana_grpid": 1,
          "device": { "path": "", "nvmf_backend": "mem", "nvmf_size": "16M",
                      "nguid": "0123456789abcdef0123456789abcdef" } }
      ] }
  ],
  "nvmf": { "reactors": 1 }
}
EOF
"$TGT" -c "$work/mp.json" -r "$work/mp.sock" >"$work/mp.log" 2>&1 &
mp_pid=$!
pin_pid=$mp_pid # stopped by cleanup() if a check below gives up early
for _ in $(seq 100); do
	grep -q "nvmf-tgt ready" "$work/mp.log" && break
	kill -0 "$mp_pid" 2>/dev/null || break
	sleep 0.1
done
MP=(-a 127.0.0.1 -s "$mp_a" -s "$mp_b" -n "$MP_NQN")
if grep -q "nvmf-tgt ready" "$work/mp.log"; then
	if run "list-subsys, two paths" 0 "$N" list-subsys "${MP[@]}"; then
		grep_out "list-subsys: the subsystem line" "^nvme-subsys0 - NQN=$MP_NQN\$"
		grep_out "list-subsys: iopolicy numa" '^ +iopolicy=numa$'
		grep_out "list-subsys: path 0 live optimized" "^ \\+- nvme0 tcp traddr=127\\.0\\.0\\.1,trsvcid=$mp_a live optimized\$"
		grep_out "list-subsys: path 1 live non-optimized" "^ \\+- nvme1 tcp traddr=127\\.0\\.0\\.1,trsvcid=$mp_b live non-optimized\$"
	fi
	if run "rpc set_ana_state port 2 inaccessible" 0 "$N" rpc -s "$work/mp.sock" set_ana_state \
		'{"portid": 2, "grpid": 1, "state": "inaccessible"}'; then
		if run "list-subsys -o json after set_ana_state" 0 "$N" list-subsys "${MP[@]}" -o json; then
			check "list-subsys json: the ANA states set" \
				"[(p['Name'], p['Transport'], p['Address'], p['State'], p['ANAState']) for p in d[0]['Subsystems'][0]['Paths']] == [('nvme0', 'tcp', 'traddr=127.0.0.1,trsvcid=$mp_a', 'live', 'optimized'), ('nvme1', 'tcp', 'traddr=127.0.0.1,trsvcid=$mp_b', 'live', 'inaccessible')]"
			check "list-subsys json: NQN and namespace 1" \
				"d[0]['Subsystems'][0]['NQN'] == '$MP_NQN' and d[0]['Subsystems'][0]['NSID'] == 1"
		fi
	fi
	# connect stays up until SIGINT: two paths, one head with both
	if run "connect, two paths, --iopolicy round-robin, until SIGINT" 0 \
		timeout --preserve-status -s INT 3 "$N" connect "${MP[@]}" --iopolicy round-robin -o json; then
		check "connect json: two live paths" \
			"[(p['Address'], p['State']) for p in d['paths']] == [('traddr=127.0.0.1,trsvcid=$mp_a', 'live'), ('traddr=127.0.0.1,trsvcid=$mp_b', 'live')]"
		check "connect json: one head, nsid 1, its NGUID, two paths with their ANA states" \
			"len(d['namespaces']) == 1 and d['namespaces'][0]['nsid'] == 1 and d['namespaces'][0]['nguid'] == '0123456789abcdef0123456789abcdef' and d['namespaces'][0]['nr_paths'] == 2 and [p['ANAState'] for p in d['namespaces'][0]['paths']] == ['optimized', 'inaccessible']"
		check "connect json: iopolicy round-robin" "d['iopolicy'] == 'round-robin'"
	fi
	if run "connect, two paths, normal output" 0 timeout --preserve-status -s INT 3 "$N" connect "${MP[@]}"; then
		grep_out "connect: through 2 paths" "^connected to $MP_NQN through 2 path\\(s\\), iopolicy numa\$"
		grep_out "connect: the head and its path states" "^     \\+- nvme1 tcp traddr=127\\.0\\.0\\.1,trsvcid=$mp_b live inaccessible\$"
	fi
	run "connect: one path of two refused still connects" 0 timeout --preserve-status -s INT 3 "$N" connect \
		-a 127.0.0.1 -s "$mp_a" -s "$(free_port)" -n "$MP_NQN" &&
		grep_out "connect: the refused path is reported" "^connect tcp:127\\.0\\.0\\.1:[0-9]+ $MP_NQN: Connection refused\$" "$work/err"
	run "list-subsys: a refused path exits 1" 1 "$N" list-subsys -a 127.0.0.1 -s "$mp_a" -s "$(free_port)" -n "$MP_NQN" &&
		grep_out "list-subsys: still lists the live path" "^ \\+- nvme0 tcp traddr=127\\.0\\.0\\.1,trsvcid=$mp_a live optimized\$"
	kill -TERM "$mp_pid"
	wait "$mp_pid"
	pin_pid=
else
	cp "$work/mp.log" "$work/err"
	bad "multipath daemon did not start"
fi
run "id-ctrl with two paths exits 2" 2 "$N" id-ctrl -a 127.0.0.1 -a 127.0.0.2 -n "$MP_NQN" &&
	grep_out "id-ctrl with two paths: says why" 'only connect and list-subsys take more than one path' "$work/err"
run "connect: 2 --traddr and 3 --trsvcid exits 2" 2 "$N" connect -a 127.0.0.1 -a 127.0.0.2 -s 1 -s 2 -s 3 -n "$MP_NQN" &&
	grep_out "connect: 2 --traddr and 3 --trsvcid: says why" '2 --traddr but 3 --trsvcid' "$work/err"
run "connect --iopolicy sideways exits 2" 2 "$N" connect -a 127.0.0.1 -s 1 -s 2 -n "$MP_NQN" --iopolicy sideways &&
	grep_out "connect --iopolicy sideways: says why" "invalid --iopolicy 'sideways'" "$work/err"

summary
[ "$fail" -eq 0 ]
