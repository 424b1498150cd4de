#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: nvmf-tgt with a null namespace on 127.0.0.1, measured by `nvmf perf`.

The daemon runs one reactor pinned to the target CPU (0), every client is pinned to the host
CPU (1). Each round runs, in this order, the TCP floors (bench/pingpong.c: ping-pong round
trips and a bulk stream between the same two CPUs) and then every case once; RUNS rounds,
so that drift on a noisy machine hits the floors and all cases alike. Then the idle test
(bench/idle.c): N controllers connected and idle, the CPU both sides burn.

For each case: median/min/max IOPS, median MiB/s, median p50/p99/p99.9 latency, median CPU
seconds per million I/Os of the host (perf's getrusage) and of the target (utime + stime
deltas of /proc/PID/stat around each run), and the ratio to the floors. The goals of the
issue are printed beside the results as "met"/"not met": informational, never the exit
status. The exit status is 1 only if something did not work at all (the daemon did not
start, a perf run failed, a floor or the idle test failed), else 0.

Environment: BENCH_SECONDS (per perf run, 10), RUNS (5), BENCH_CASES (a comma list of
qd1,qd32,qd128,128k,randwrite,floors,idle; default all), BENCH_IDLE_CTRLS (100),
BENCH_IDLE_SECONDS (20), BENCH_PP_SECONDS (per ping-pong test, 2), BENCH_BULK_SECONDS
(min(BENCH_SECONDS, 5)), BENCH_LOOP=1 (also the cases over the in-process loop transport),
BENCH_TGT_CPU (0), BENCH_HOST_CPU (1), BENCH_MD=FILE (as --markdown FILE), BENCH_JSON=FILE
(as --json FILE: every run's figures), BENCH_TGT_CMD (the daemon's command line template,
see TGT_CMD).
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# The daemon's command line. {cpu} is the target CPU, {mask} the same as a hex mask; switch
# the pinning here (e.g. to "{tgt} -c {config} --reactors 1 --cpumask {mask} -q") when the
# daemon pins its reactor itself.
TGT_CMD = os.environ.get("BENCH_TGT_CMD", "taskset -c {cpu} {tgt} -c {config} --reactors 1 -q")
# Prefix of every client (perf, the floors, the idle controllers).
HOST_PIN = "taskset -c {cpu}"

NQN = "nqn.2014-08.org.nvmexpress:bench"
# The daemon's default I/O queue depth (CAP.MQES + 1). libnvmf keeps one tag of every I/O
# queue for the Connect command, so a queue holds at most 127 I/Os: a deeper case spreads its
# I/Os evenly over as few queues (perf --queues, one TCP connection each) as hold them.
TGT_QUEUE_DEPTH = 128

# key, name, perf pattern, I/O size, queue depth
CASES = [
    ("qd1", "4K randread QD1", "randread", 4096, 1),
    ("qd32", "4K randread QD32", "randread", 4096, 32),
    ("qd128", "4K randread QD128", "randread", 4096, 128),
    ("128k", "128K read QD32", "read", 131072, 32),
    ("randwrite", "4K randwrite QD32", "randwrite", 4096, 32),
]
ALL_KEYS = [c[0] for c in CASES] + ["floors", "idle"]
TOOLS = ("nvmf-tgt", "nvmf", "nvmf-bench-pingpong", "nvmf-bench-idle")

failures = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def env_num(name, default, cast=int):
    v = os.environ.get(name, "")
    try:
        return cast(v) if v != "" else default
    except ValueError:
        sys.exit("bench: %s=%r is not a number" % (name, v))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True if some socket listens on 127.0.0.1:port or *:port (/proc/net/tcp, state 0A)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def proc_cpu_s(pid):
    """utime + stime of @pid in seconds (proc(5) fields 14 and 15), or None if it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def med(values):
    return statistics.median(values) if values else float("nan")


def fmt(v, spec):
    if v is None or v != v:
        return "-"
    return format(v, spec)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_kind():
    """"virtual machine" or "bare metal" (the cpuinfo hypervisor flag), and the RAM."""
    vm, mem = False, ""
    try:
        with open("/proc/cpuinfo") as f:
            vm = any(line.startswith("flags") and " hypervisor" in line for line in f)
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = ", %.0f GiB RAM" % (int(line.split()[1]) / (1 << 20))
    except OSError:
        pass
    return ("virtual machine" if vm else "bare metal") + mem


def git_head(root):
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def binaries_mtime(build):
    """Modification times of the programs the bench runs (nvmf-tgt first)."""
    return tuple(os.stat(os.path.join(build, t)).st_mtime for t in TOOLS)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Target:
    """The nvmf-tgt daemon, started from TGT_CMD and stopped by its PID."""

    def __init__(self, build, work, cpu):
        self.build, self.work, self.cpu = build, work, cpu
        self.proc = None
        self.port = None
        self.config = os.path.join(work, "bench.json")
        self.log = os.path.join(work, "tgt.log")

    def write_config(self, port):
        ns = {"nsid": 1, "enable": 1,
              "device": {"path": "", "nvmf_backend": "null", "nvmf_size": "64G"}}
        cfg = {
            "hosts": [],
            "ports": [
                {"portid": 1, "addr": {"trtype": "tcp", "adrfam": "ipv4",
                                       "traddr": "127.0.0.1", "trsvcid": str(port),
                                       "treq": "not specified"},
                 "subsystems": [NQN], "referrals": [], "param": {}},
                {"portid": 2, "addr": {"trtype": "loop", "adrfam": "", "traddr": "",
                                       "trsvcid": "", "treq": "not specified"},
                 "subsystems": [NQN], "referrals": [], "param": {}},
            ],
            "subsystems": [{"nqn": NQN, "attr": {"allow_any_host": "1"},
                            "allowed_hosts": [], "namespaces": [ns]}],
        }
        with open(self.config, "w") as f:
            json.dump(cfg, f, indent=1)

    def start(self):
        # a port found free can be taken before the daemon binds it: try a few
        for _ in range(3):
            self.port = free_port()
            self.write_config(self.port)
            cmd = TGT_CMD.format(cpu=self.cpu, mask="0x%x" % (1 << self.cpu),
                                 tgt=shlex.quote(os.path.join(self.build, "nvmf-tgt")),
                                 config=shlex.quote(self.config))
            with open(self.log, "w") as logf:
                self.proc = subprocess.Popen(shlex.split(cmd), stdout=logf, stderr=logf,
                                             stdin=subprocess.DEVNULL, preexec_fn=raise_nofile)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if listening(self.port):
                    return True
                time.sleep(0.05)
            self.stop()
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid) if self.alive() else None

    def log_tail(self, n=20):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if not self.alive():
            self.proc = None
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log("bench: nvmf-tgt (pid %d) did not exit on SIGTERM, killing it" % self.proc.pid)
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def run_client(argv, timeout, what):
    """Run a pinned client; return its parsed JSON stdout, or None (failure recorded)."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        failures.append("%s: no result after %d s" % (what, timeout))
        log("bench: %s: timed out after %d s" % (what, timeout))
        return None
    if p.returncode != 0:
        failures.append("%s: exit status %d" % (what, p.returncode))
        log("bench: %s failed (exit status %d):\n%s" % (what, p.returncode, p.stderr[-2000:]))
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        failures.append("%s: unreadable output" % what)
        log("bench: %s: output is not JSON:\n%s" % (what, p.stdout[-2000:]))
        return None


def perf_args(case):
    """perf's queue arguments for @case, and a note saying what was used."""
    qd = case[4]
    per_queue = TGT_QUEUE_DEPTH - 1
    queues = (qd + per_queue - 1) // per_queue
    if queues == 1:
        return [], ""
    # one extra queue is enough, but an even split keeps the queues alike
    while qd % queues:
        queues += 1
    return (["--queues", str(queues)],
            "%s: --queues %d (%d I/Os per queue): a %d-entry queue holds %d I/Os, libnvmf "
            "keeps one tag for Connect" % (case[1], queues, qd // queues, TGT_QUEUE_DEPTH,
                                           per_queue))


def run_perf(build, pin, case, secs, conn, tgt):
    key, name, pattern, size, qd = case
    argv = pin + [os.path.join(build, "nvmf"), "perf"] + conn + [
        "-w", pattern, "-o", str(size), "-q", str(qd), "-t", str(secs), "--json"]
    argv += perf_args(case)[0]
    c0 = tgt.cpu_s() if tgt else None
    d = run_client(argv, secs + 90, "%s %s" % ("tcp" if tgt else "loop", name))
    c1 = tgt.cpu_s() if tgt else None
    if d is None:
        return None
    ios = d.get("ios", 0)
    lat = d.get("latency_us", {})
    return {
        "iops": d["iops"], "mib_s": d["mib_s"], "p50": lat.get("p50"), "p99": lat.get("p99"),
        "p99_9": lat.get("p99_9"), "host_cpu": d.get("cpu_s_per_mio"),
        "tgt_cpu": (c1 - c0) / (ios / 1e6) if ios and c0 is not None and c1 is not None
        else None,
    }


def run_line(r):
    return "%.0f IOPS, %.1f MiB/s, p50 %s us, p99 %s us, cpu/Mio host %s tgt %s" % (
        r["iops"], r["mib_s"], fmt(r["p50"], ".1f"), fmt(r["p99"], ".1f"),
        fmt(r["host_cpu"], ".2f"), fmt(r["tgt_cpu"], ".2f"))


def summarize(runs):
    def col(k):
        return [r[k] for r in runs if r.get(k) is not None]
    iops = col("iops")
    return {
        "runs": len(runs), "iops": med(iops), "iops_min": min(iops) if iops else None,
        "iops_max": max(iops) if iops else None, "mib_s": med(col("mib_s")),
        "p50": med(col("p50")), "p99": med(col("p99")), "p99_9": med(col("p99_9")),
        "host_cpu": med(col("host_cpu")), "tgt_cpu": med(col("tgt_cpu")),
    }


def floors_summary(floor_runs):
    """Median of every ping-pong figure per (mode, resp_bytes), and of the bulk stream."""
    pp = {}
    for d in floor_runs:
        for t in d.get("pingpong", []):
            e = pp.setdefault((t["mode"], t["resp_bytes"]), {"rate": [], "p50": [], "p99": [],
                                                             "p99_9": [], "cpu": []})
            e["rate"].append(t["rate"])
            for k in ("p50", "p99", "p99_9"):
                e[k].append(t["rtt_us"][k])
            e["cpu"].append(t["cpu_us_per_round_trip"])
    out = {"pingpong": {k: {m: med(v) for m, v in e.items()} for k, e in pp.items()}}
    bulk = [d["bulk"] for d in floor_runs if "bulk" in d]
    if bulk:
        mib = [b["mib_s"] for b in bulk]
        # CPU per 128 KiB, us: compares with the 128K case's CPU seconds per million I/Os
        per_chunk = [b["bytes"] / b["chunk_bytes"] / 1e6 or float("nan") for b in bulk]
        out["bulk"] = {"mib_s": med(mib), "min": min(mib), "max": max(mib),
                       "gbit_s": med([b["gbit_s"] for b in bulk]), "runs": len(bulk),
                       "rx_cpu": med([b["receiver_cpu_s"] / n for b, n in zip(bulk, per_chunk)]),
                       "tx_cpu": med([b["sender_cpu_s"] / n for b, n in zip(bulk, per_chunk)])}
    out["runs"] = len(floor_runs)
    return out


def ratios(key, runs, floor_runs):
    """
    (p50 / poll RTT p50, p50 / block RTT p50, MiB/s / bulk MiB/s) for one case: each run
    against the floors of its own round, then the median, so that drift between rounds
    cancels out. The latency ratios are for QD1 only (deeper queues measure queueing).
    """
    by_round = {f["round"]: f for f in floor_runs}
    lat_poll, lat_block, bw = [], [], []
    for r in runs:
        f = by_round.get(r["round"])
        if not f:
            continue
        p50 = {(t["mode"], t["resp_bytes"]): t["rtt_us"]["p50"] for t in f.get("pingpong", [])}
        if key == "qd1" and r["p50"]:
            if p50.get(("poll", 4120)):
                lat_poll.append(r["p50"] / p50[("poll", 4120)])
            if p50.get(("block", 4120)):
                lat_block.append(r["p50"] / p50[("block", 4120)])
        if f.get("bulk", {}).get("mib_s"):
            bw.append(r["mib_s"] / f["bulk"]["mib_s"])
    return tuple(med(v) if v else None for v in (lat_poll, lat_block, bw))


CASE_COLS = ["case", "runs", "IOPS med", "IOPS min", "IOPS max", "MiB/s", "p50 us", "p99 us",
             "p99.9 us", "host cpu", "tgt cpu", "p50/RTT poll", "p50/RTT block", "MiB/s/bulk"]


def case_row(case, runs, floor_runs):
    s = summarize(runs)
    lp, lb, bw = ratios(case[0], runs, floor_runs)
    return [case[1], str(s["runs"]), fmt(s["iops"], ".0f"), fmt(s["iops_min"], ".0f"),
            fmt(s["iops_max"], ".0f"), fmt(s["mib_s"], ".1f"), fmt(s["p50"], ".1f"),
            fmt(s["p99"], ".1f"), fmt(s["p99_9"], ".1f"), fmt(s["host_cpu"], ".2f"),
            fmt(s["tgt_cpu"], ".2f"), fmt(lp, ".2f"), fmt(lb, ".2f"), fmt(bw, ".3f")]


def text_table(cols, rows):
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(cols, widths)))]
    for r in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def md_table(cols, rows):
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines)


def floor_rows(floors):
    rows = []
    for (mode, resp), e in sorted(floors.get("pingpong", {}).items()):
        rows.append(["ping-pong %s, 72 B -> %d B" % (mode, resp), str(floors["runs"]),
                     fmt(e["rate"], ".0f"), fmt(e["p50"], ".1f"), fmt(e["p99"], ".1f"),
                     fmt(e["p99_9"], ".1f"), fmt(e["cpu"], ".2f")])
    return rows


FLOOR_COLS = ["floor", "runs", "round trips/s", "p50 us", "p99 us", "p99.9 us",
              "cpu us/round trip"]


def goals(summ, idle):
    """(goal, measured, met) lines; met is None when the figure is missing."""
    def g(key, field):
        s = summ.get(key)
        return s[field] if s and s[field] == s[field] else None
    out = []
    v = g("qd1", "p50")
    out.append(("4K randread QD1 p50 <= 12 us", fmt(v, ".1f") + " us",
                None if v is None else v <= 12))
    v = g("qd32", "iops")
    out.append(("4K randread QD32 >= 700k IOPS", fmt(v, ".0f"), None if v is None else v >= 700e3))
    v, w = g("qd128", "iops"), g("qd32", "iops")
    out.append(("4K randread QD128 >= QD32 IOPS", "%s vs %s" % (fmt(v, ".0f"), fmt(w, ".0f")),
                None if v is None or w is None else v >= w))
    v = g("randwrite", "iops")
    out.append(("4K randwrite QD32 >= 525k IOPS", fmt(v, ".0f"),
                None if v is None else v >= 525e3))
    v = g("128k", "mib_s")
    out.append(("128K read QD32 >= 5 GB/s (4768 MiB/s)", fmt(v, ".0f") + " MiB/s",
                None if v is None else v >= 4768))
    v = idle.get("target_cpu_pct") if idle else None
    out.append(("idle target < 1%% of a core (%s controllers)" % (idle or {}).get("ctrls", "-"),
                fmt(v, ".2f") + " %", None if v is None else v < 1))
    return out


def main():
    ap = argparse.ArgumentParser(description="make bench (see bench/RESULTS.md)")
    ap.add_argument("build", help="meson build directory")
    ap.add_argument("--markdown", metavar="FILE", default=os.environ.get("BENCH_MD"),
                    help="also write the results as Markdown to FILE (env BENCH_MD)")
    ap.add_argument("--json", metavar="FILE", default=os.environ.get("BENCH_JSON"),
                    help="also write every run's figures as JSON to FILE (env BENCH_JSON)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    secs = env_num("BENCH_SECONDS", 10)
    runs = env_num("RUNS", 5)
    pp_secs = env_num("BENCH_PP_SECONDS", 2, float)
    bulk_secs = env_num("BENCH_BULK_SECONDS", min(secs, 5), float)
    idle_ctrls = env_num("BENCH_IDLE_CTRLS", 100)
    idle_secs = env_num("BENCH_IDLE_SECONDS", 20)
    loop = os.environ.get("BENCH_LOOP", "0") not in ("", "0", "no", "false")
    ncpu = os.cpu_count() or 1
    tcpu = env_num("BENCH_TGT_CPU", 0)
    hcpu = env_num("BENCH_HOST_CPU", 1 if ncpu > 1 else 0)
    keys = [k.strip() for k in os.environ.get("BENCH_CASES", ",".join(ALL_KEYS)).split(",")
            if k.strip()]
    unknown = [k for k in keys if k not in ALL_KEYS]
    if unknown or secs < 1 or runs < 1:
        sys.exit("bench: BENCH_CASES takes %s (got %s); BENCH_SECONDS and RUNS >= 1"
                 % (",".join(ALL_KEYS), ",".join(unknown) or "-"))
    cases = [c for c in CASES if c[0] in keys]
    for tool in TOOLS:
        if not os.access(os.path.join(build, tool), os.X_OK):
            sys.exit("bench: %s/%s is missing: build first (make build)" % (build, tool))
    if tcpu == hcpu:
        log("bench: target and host share CPU %d: the figures are not per-core ones" % tcpu)
    pin = shlex.split(HOST_PIN.format(cpu=hcpu))

    started = datetime.datetime.now().astimezone()
    built = binaries_mtime(build)
    work = tempfile.mkdtemp(prefix="nvmf-bench.")
    tgt = Target(build, work, tcpu)
    results = {c[0]: [] for c in cases}
    loop_results = {c[0]: [] for c in cases}
    floor_runs = []
    idle = None
    notes = [n for n in (perf_args(c)[1] for c in cases) if n]

    tgt_pin = TGT_CMD.split("{tgt}")[0].format(cpu=tcpu, mask="0x%x" % (1 << tcpu)).strip()

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not tgt.start():
            log("bench: nvmf-tgt did not start listening:\n" + tgt.log_tail())
            return 1
        log("bench: nvmf-tgt pid %d on 127.0.0.1:%d, CPU %d (%s); host CPU %d; "
            "%d s per run, %d rounds" % (tgt.proc.pid, tgt.port, tcpu,
                                         tgt_pin or "pinned by nvmf-tgt",
                                         hcpu, secs, runs))
        for n in notes:
            log("bench: " + n)
        conn = ["--traddr", "127.0.0.1", "--trsvcid", str(tgt.port), "--nqn", NQN]
        for r in range(runs):
            if "floors" in keys:
                log("bench: round %d/%d: floors" % (r + 1, runs))
                d = run_client(pin + [os.path.join(build, "nvmf-bench-pingpong"),
                                      "--server-cpu", str(tcpu), "--client-cpu", str(hcpu),
                                      "--seconds", str(pp_secs),
                                      "--bulk-seconds", str(bulk_secs)],
                               int(4 * pp_secs + bulk_secs) + 60, "floors")
                if d:
                    d["round"] = r
                    floor_runs.append(d)
                    log("bench:   " + ", ".join(
                        "%s %d B p50 %.1f us" % (t["mode"], t["resp_bytes"], t["rtt_us"]["p50"])
                        for t in d.get("pingpong", [])) +
                        (", bulk %.0f MiB/s" % d["bulk"]["mib_s"] if "bulk" in d else ""))
            for c in cases:
                log("bench: round %d/%d: tcp %s" % (r + 1, runs, c[1]))
                res = run_perf(build, pin, c, secs, conn, tgt)
                if res:
                    res["round"] = r
                    results[c[0]].append(res)
                    log("bench:   " + run_line(res))
                if not tgt.alive():
                    failures.append("nvmf-tgt exited during %s" % c[1])
                    log("bench: nvmf-tgt exited:\n" + tgt.log_tail())
                    return 1
            if loop:
                for c in cases:
                    log("bench: round %d/%d: loop %s" % (r + 1, runs, c[1]))
                    res = run_perf(build, pin, c, secs,
                                   ["--transport", "loop", "--loop-config", tgt.config], None)
                    if res:
                        res["round"] = r
                        loop_results[c[0]].append(res)
                        log("bench:   " + run_line(res))
        if "idle" in keys:
            log("bench: idle: %d controllers, %d s" % (idle_ctrls, idle_secs))
            idle = run_client(pin + [os.path.join(build, "nvmf-bench-idle"),
                                     "--traddr", "127.0.0.1", "--trsvcid", str(tgt.port),
                                     "--nqn", NQN, "--ctrls", str(idle_ctrls),
                                     "--seconds", str(idle_secs), "--pid", str(tgt.proc.pid)],
                              idle_secs + 120 + idle_ctrls // 10, "idle")
            if idle and idle["live"] != idle["ctrls"]:
                failures.append("idle: only %d of %d controllers stayed live"
                                % (idle["live"], idle["ctrls"]))
    except KeyboardInterrupt:
        log("bench: interrupted")
        return 130
    finally:
        tgt.stop()
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)

    if binaries_mtime(build) != built:
        notes.append("the binaries in %s were rebuilt during the run: the rounds may not "
                     "have measured the same code" % build)
    floors = floors_summary(floor_runs) if floor_runs else {}
    summ = {k: summarize(v) for k, v in results.items() if v}
    case_rows = [case_row(c, results[c[0]], floor_runs) for c in cases if results[c[0]]]
    loop_rows = [case_row(c, loop_results[c[0]], []) for c in cases if loop_results[c[0]]]
    goal_lines = goals(summ, idle)

    machine = [
        ("date", started.strftime("%Y-%m-%d %H:%M %Z")),
        ("git HEAD", git_head(root)),
        ("binaries", "%s/nvmf-tgt built %s" % (os.path.relpath(build, root), time.strftime(
            "%Y-%m-%d %H:%M", time.localtime(built[0])))),
        ("kernel", platform.release()),
        ("CPU", "%s, %d online" % (cpu_model(), ncpu)),
        ("machine", machine_kind()),
        ("pinning", "nvmf-tgt --reactors 1 on CPU %d (`%s`), clients on CPU %d (`%s`)"
         % (tcpu, tgt_pin or TGT_CMD, hcpu, HOST_PIN.format(cpu=hcpu))),
        ("runs", "%d round(s), round-robin (floors, then each case once per round); %d s per "
         "perf run; ping-pong %g s per test, bulk %g s" % (runs, secs, pp_secs, bulk_secs)),
    ]
    legend = ("IOPS med/min/max over the runs; every other column is the median over the "
              "runs. cpu: CPU seconds per million I/Os (host: perf's getrusage; tgt: the "
              "daemon's /proc/PID/stat), i.e. us per I/O. p50/RTT: QD1 p50 over the ping-pong p50 "
              "(72 B -> 4120 B, poll and block mode); MiB/s/bulk: MiB/s over the bulk "
              "stream's; both ratios are taken within each round, then the median.")

    out = ["", "nvmf bench: null namespace on 127.0.0.1 over NVMe/TCP"]
    out += ["  %-9s %s" % (k + ":", v) for k, v in machine]
    out += ["  note:     " + n for n in notes]
    if case_rows:
        out += ["", text_table(CASE_COLS, case_rows)]
    if loop_rows:
        out += ["", "loop transport (host and target in one process on CPU %d):" % hcpu,
                text_table(CASE_COLS, loop_rows)]
    if floors:
        out += ["", "TCP floors (bench/pingpong.c, server on CPU %d, client on CPU %d):"
                % (tcpu, hcpu), text_table(FLOOR_COLS, floor_rows(floors))]
        if "bulk" in floors:
            b = floors["bulk"]
            out.append("bulk stream, 128 KiB writes: %s MiB/s median (min %s, max %s), "
                       "%s Gbit/s; CPU us per 128 KiB: receiver %s, sender %s"
                       % (fmt(b["mib_s"], ".0f"), fmt(b["min"], ".0f"), fmt(b["max"], ".0f"),
                          fmt(b["gbit_s"], ".2f"), fmt(b["rx_cpu"], ".1f"),
                          fmt(b["tx_cpu"], ".1f")))
    if idle:
        out += ["", "idle: %d controllers (1 I/O queue each, default KATO, %d keep-alives in "
                "the window) for %.0f s: target %s %% of a core, host %s %%"
                % (idle["ctrls"], idle["keep_alives"], idle["idle_s"],
                   fmt(idle.get("target_cpu_pct"), ".2f"), fmt(idle["host_cpu_pct"], ".2f"))]
    out += ["", "(%s)" % legend, "", "goals (informational):"]
    for goal, value, met in goal_lines:
        out.append("  %-46s %-24s %s" % (goal, value,
                                          "not measured" if met is None else
                                          "met" if met else "not met"))
    if failures:
        out += ["", "FAILED: " + "; ".join(failures)]
    print("\n".join(out), flush=True)

    if args.markdown:
        md = ["## %s, %s" % (started.strftime("%Y-%m-%d"), cpu_model()), ""]
        md += ["- %s: %s" % (k, v) for k, v in machine]
        md += ["- note: " + n for n in notes]
        if case_rows:
            md += ["", md_table(CASE_COLS, case_rows)]
        if loop_rows:
            md += ["", "Loop transport (host and target in one process):", "",
                   md_table(CASE_COLS, loop_rows)]
        if floors:
            md += ["", "TCP floors (bench/pingpong.c, server on the target CPU, client on the "
                   "host CPU):", "", md_table(FLOOR_COLS, floor_rows(floors))]
            if "bulk" in floors:
                b = floors["bulk"]
                md += ["", "Bulk stream, 128 KiB writes, %d runs: %s MiB/s median (min %s, max "
                       "%s), %s Gbit/s; CPU us per 128 KiB: receiver %s, sender %s."
                       % (b["runs"], fmt(b["mib_s"], ".0f"), fmt(b["min"], ".0f"),
                          fmt(b["max"], ".0f"), fmt(b["gbit_s"], ".2f"), fmt(b["rx_cpu"], ".1f"),
                          fmt(b["tx_cpu"], ".1f"))]
        if idle:
            md += ["", "Idle, %d controllers for %.0f s: target %s %% of a core, host %s %%."
                   % (idle["ctrls"], idle["idle_s"], fmt(idle.get("target_cpu_pct"), ".2f"),
                      fmt(idle["host_cpu_pct"], ".2f"))]
        md += ["", legend, "", "| goal | measured | |", "|---|---:|---|"]
        md += ["| %s | %s | %s |" % (g, v, "-" if m is None else "met" if m else "not met")
               for g, v, m in goal_lines]
        if failures:
            md += ["", "Failures: " + "; ".join(failures)]
        with open(args.markdown, "w") as f:
            f.write("\n".join(md) + "\n")
        log("bench: Markdown written to %s" % args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": dict(machine), "notes": notes,
                       "tcp": {c[1]: results[c[0]] for c in cases},
                       "loop": {c[1]: loop_results[c[0]] for c in cases} if loop else {},
                       "floors": floor_runs, "idle": idle, "failures": failures}, f, indent=1)
        log("bench: JSON written to %s" % args.json)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
