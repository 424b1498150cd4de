#!/usr/bin/env bash
# make bench: the null backend on 127.0.0.1 over NVMe/TCP and over the in-process loop
# transport, measured with `nvmf perf`. Prints numbers; never fails on them.
#
# Usage: bench/run.sh BUILD_DIR        (BENCH_SECONDS per run, default 10)
#
# TCP: nvmf-tgt runs with one reactor pinned to CPU 0, nvmf perf on CPU 1 (per-core
# numbers). Loop: host and target share one thread on CPU 1. CPU columns are CPU seconds
# per million I/Os: "host" from the perf process, "target" from the daemon's /proc stat.
set -euo pipefail
build=${1:?usage: bench/run.sh BUILD_DIR}
secs=${BENCH_SECONDS:-10}
nqn=nqn.2014-08.org.nvmexpress:bench
work=$(mktemp -d)
trap 'kill $tgt_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ncpu=$(nproc)
tcpu=0 hcpu=$((ncpu > 1 ? 1 : 0))

cat >"$work/bench.json" <<JSON
{ "hosts": [],
  "ports": [
    { "portid": 1, "addr": { "trtype": "loop", "adrfam": "", "traddr": "", "trsvcid": "",
      "treq": "not specified" }, "subsystems": ["$nqn"], "referrals": [], "param": {} },
    { "portid": 2, "addr": { "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
      "trsvcid": "$port", "treq": "not specified" }, "subsystems": ["$nqn"],
      "referrals": [], "param": {} } ],
  "subsystems": [
    { "nqn": "$nqn", "attr": { "allow_any_host": "1" }, "allowed_hosts": [],
      "namespaces": [ { "nsid": 1, "enable": 1,
        "device": { "path": "", "nvmf_backend": "null", "nvmf_size": "64G" } } ] } ] }
JSON

taskset -c $tcpu "$build/nvmf-tgt" -c "$work/bench.json" --reactors 1 -q >"$work/tgt.log" 2>&1 &
tgt_pid=$!
for _ in $(seq 100); do
	python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$port)))" && break
	sleep 0.1
done

# CPU seconds (user+sys) the daemon used so far
tgt_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$tgt_pid/stat"; }

# name  pattern  io_size  qd
workloads=(
	"4K randread QD1|randread|4096|1"
	"4K randread QD32|randread|4096|32"
	"4K randwrite QD32|randwrite|4096|32"
	"128K read QD8|read|131072|8"
)
rows=()
for tr in tcp loop; do
	for w in "${workloads[@]}"; do
		IFS='|' read -r name pat size qd <<<"$w"
		if [ "$tr" = tcp ]; then
			conn=(--traddr 127.0.0.1 --trsvcid "$port" --nqn "$nqn")
		else
			conn=(--transport loop --loop-config "$work/bench.json")
		fi
		c0=$(tgt_cpu)
		taskset -c $hcpu "$build/nvmf" perf "${conn[@]}" -w "$pat" -o "$size" -q "$qd" \
			-t "$secs" --json >"$work/out.json" 2>"$work/perf.err" || {
			echo "bench: $tr $name failed:"; cat "$work/perf.err"; continue; }
		c1=$(tgt_cpu)
		rows+=("$(python3 - "$work/out.json" "$tr" "$name" "$c0" "$c1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tr, name, c0, c1 = sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
mio = d["ios"] / 1e6 if d["ios"] else float("nan")
tgt = "%.2f" % ((c1 - c0) / mio) if tr == "tcp" else "-"
lat = d["latency_us"]
print("%-5s %-18s %10.0f %9.1f %9.1f %9.1f %9.2f %8s" % (
    tr, name, d["iops"], d["mib_s"], lat["p50"], lat["p99"], d["cpu_s_per_mio"], tgt))
PY
)")
	done
done

echo
echo "nvmf bench: null backend, ${secs}s per run, $(nproc) CPUs, target CPU $tcpu, host CPU $hcpu"
printf '%-5s %-18s %10s %9s %9s %9s %9s %8s\n' transport workload IOPS MiB/s p50_us p99_us \
	host_cpu tgt_cpu
printf '%s\n' "${rows[@]}"
echo "(cpu columns: CPU seconds per million I/Os)"
