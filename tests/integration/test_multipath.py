# SPDX-License-Identifier: MIT
"""Integration tests for issue 6, "our host, two ports": the real nvmf-tgt daemon with one
subsystem on two NVMe/TCP ports of 127.0.0.1, and our host library's multipath driven by
tests/host/mpath_io (a fio-like verifier: every read is checked against the last
acknowledged write of its block) while the control socket flips ANA states, injects ANA
errors, disables and enables a port, and the daemon restarts.

Run through tests/integration/run.sh BUILD_DIR, or directly:
    python3 tests/integration/test_multipath.py --build BUILD_DIR [unittest args]
NVMF_IT_KEEP=1 keeps each daemon's directory (configuration, backing file, -v log and
the tool's stderr) and names it on stderr.

No assertion depends on timing: every phase waits (with deadlines of minutes) for the
condition it needs, read from the tool's once-a-second progress lines: the host seeing the
ANA state that was set, the controllers' states, I/O counts that grew.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ left in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_daemon import STOP_TIMEOUT, free_port, rpc, run_tests  # noqa: E402

BUILD_DIR = os.environ.get("NVMF_BUILD_DIR", "build")

SUBNQN = "nqn.2024-01.io.nvmf.test:mpath"
NSID = 1
NS_BYTES = 64 << 20
NS_UUID = "5b0c8f52-3b8e-4d52-9c1e-0e7a1f3d6b21"
NS_NGUID = "3a1f7c2e-9d4b-4e6a-8b5c-2f0d1e9a7c34"
ANA_GRPID = 1
SC_ANA_INACCESSIBLE = 0x302  # SCT 3h Path Related, SC 02h (NVMe Base 2.0c Figure 106)

WAIT = 120.0  # deadline of one condition, seconds: generous, never a timing check
PHASE_IOS = 400  # completed I/Os a phase waits for before the next one


def free_ports(n):
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def mp_config(tmpdir, tcp_ports, ana_states, reactors=2):
    """One subsystem with a file-backed namespace (its data survives a restart) in ANA group
    1, exported on one port per entry of @tcp_ports (portids 1, 2, ...) with the group in
    the matching state of @ana_states."""
    ports = []
    for i, (port, state) in enumerate(zip(tcp_ports, ana_states)):
        ports.append({
            "portid": i + 1,
            "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                     "trsvcid": str(port), "treq": "not specified"},
            "subsystems": [SUBNQN],
            "referrals": [],
            "ana_groups": [{"grpid": ANA_GRPID, "ana": {"state": state}}],
            "param": {},
        })
    return {
        "hosts": [],
        "nvmf": {"reactors": reactors},
        "ports": ports,
        "subsystems": [{
            "nqn": SUBNQN,
            "attr": {"allow_any_host": "1", "serial": "nvmf-mp-0001", "model": "nvmf-mpath",
                     "version": "1.3"},
            "allowed_hosts": [],
            "namespaces": [{
                "nsid": NSID, "enable": 1, "ana_grpid": ANA_GRPID,
                "device": {"path": os.path.join(tmpdir, "ns1.img"), "uuid": NS_UUID,
                           "nguid": NS_NGUID, "nvmf_size": str(NS_BYTES)},
            }],
        }],
    }


class MpDaemon:
    """nvmf-tgt with a two-port configuration; restartable with the same config and
    control socket (the log is appended to)."""

    def __init__(self, ana_states=("optimized", "optimized")):
        self.exe = os.path.join(BUILD_DIR, "nvmf-tgt")
        self.tmpdir = tempfile.mkdtemp(prefix="nvmf-mp-")
        self.ports = free_ports(len(ana_states))
        self.config = mp_config(self.tmpdir, self.ports, ana_states)
        self.config_path = os.path.join(self.tmpdir, "nvmf.json")
        self.log_path = os.path.join(self.tmpdir, "nvmf-tgt.log")
        self.rpc_path = os.path.join(self.tmpdir, "rpc.sock")
        self.proc = None
        self.log = None
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=1)

    def start(self, timeout=30.0):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.exe, "-c", self.config_path, "-v",
                                      "-r", self.rpc_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError("nvmf-tgt exited with %d:\n%s" % (
                        self.proc.returncode, self.log_text()))
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("nvmf-tgt does not listen on %d:\n%s" % (
                            port, self.log_text()))
                    time.sleep(0.02)
        while not os.path.exists(self.rpc_path):
            if time.monotonic() > deadline:
                raise AssertionError("nvmf-tgt has no control socket:\n" + self.log_text())
            time.sleep(0.02)
        return self

    def rpc(self, method, params=None):
        return rpc(self.rpc_path, method, params)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; the exit status, or None if it had to be killed."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc = None
        self.log.close()
        return rc

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-6000:]
        except OSError:
            return ""

    def cleanup(self):
        if self.proc is not None:
            self.stop()
        if os.environ.get("NVMF_IT_KEEP"):
            print("\nnvmf-mp: kept %s" % self.tmpdir, file=sys.stderr)
            return
        shutil.rmtree(self.tmpdir, ignore_errors=True)


PROGRESS = re.compile(r"^mpath_io: progress (.*)$")


class MpathIo:
    """tests/host/mpath_io in the background. Its stderr is read by a thread that keeps
    the latest progress line as a dict (numbers as int) and the whole text for failure
    messages; stop() creates the stop file and returns (exit status, summary JSON)."""

    def __init__(self, tmpdir, ports, iopolicy="round-robin", extra=()):
        self.exe = os.path.join(BUILD_DIR, "tests", "host", "mpath_io")
        self.stop_file = os.path.join(tmpdir, "mpath_io.stop")
        self.err_path = os.path.join(tmpdir, "mpath_io.stderr")
        args = [self.exe, "--subnqn", SUBNQN, "--nsid", str(NSID), "--iopolicy", iopolicy,
                "--qd", "16", "--bs", "4096", "--blocks", "4096",
                "--reconnect-delay", "1", "--ctrl-loss-tmo", "600",
                "--stop-file", self.stop_file]
        for p in ports:
            args += ["--path", "127.0.0.1:%d" % p]
        args += list(extra)
        self.cond = threading.Condition()
        self.last = None
        self.lines = []
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.err.write(line)
            self.err.flush()
            m = PROGRESS.match(line.rstrip("\n"))
            with self.cond:
                self.lines.append(line)
                if len(self.lines) > 400:
                    del self.lines[50:150]  # keep the start (setup) and the recent past
                if m:
                    d = {}
                    for tok in m.group(1).split():
                        k, _, v = tok.partition("=")
                        d[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
                    self.last = d
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def text(self):
        with self.cond:
            return "".join(self.lines[-60:])

    def wait(self, what, pred, timeout=WAIT):
        """Wait until @pred(latest progress dict) holds; return that dict."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if self.last is not None and (self.last["errors"] or self.last["mismatches"]):
                    raise AssertionError("mpath_io reports errors while waiting for %s:\n%s" % (
                        what, "".join(self.lines[-60:])))
                if self.last is not None and pred(self.last):
                    return dict(self.last)
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("mpath_io exited (%s) while waiting for %s:\n%s" % (
                        self.proc.returncode, what, "".join(self.lines[-60:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: not within %.0f s; mpath_io says:\n%s" % (
                        what, timeout, "".join(self.lines[-60:])))
                self.cond.wait(min(left, 1.0))

    def stop(self, timeout=300.0):
        with open(self.stop_file, "w"):
            pass
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("mpath_io did not stop within %.0f s:\n%s" % (
                timeout, self.text()))
        self.reader.join(10)
        self.err.close()
        lines = [x for x in out.splitlines() if x.startswith("{")]
        if not lines:
            raise AssertionError("mpath_io printed no summary (exit %s):\n%s" % (
                self.proc.returncode, self.text()))
        return self.proc.returncode, json.loads(lines[-1])

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(10)
        if not self.err.closed:
            self.err.close()


def ana_of(port):
    """The state of ANA group 1 in a get_ports entry ({"grpid", "state"} or nvmetcli's
    {"grpid", "ana": {"state"}})."""
    for g in port.get("ana_groups", []):
        if int(g.get("grpid", 0)) == ANA_GRPID:
            return g.get("state") or g.get("ana", {}).get("state")
    return None


class MultipathTestCase(unittest.TestCase):
    def setUp(self):
        exe = os.path.join(BUILD_DIR, "tests", "host", "mpath_io")
        if not os.access(exe, os.X_OK):
            self.fail("%s is not built" % exe)
        self.daemon = None
        self.io = None

    def tearDown(self):
        if self.io is not None:
            self.io.kill()
        if self.daemon is not None:
            self.daemon.cleanup()

    def advance(self, what, paths=(), n=PHASE_IOS):
        """Wait until n more I/Os completed and each path in @paths was sent more."""
        base = self.io.wait(what + ": progress", lambda d: True)
        return self.io.wait(
            what + ": %d more I/Os%s" % (n, "".join(" via p%d" % p for p in paths)),
            lambda d: d["ios"] >= base["ios"] + n and all(
                d["p%d.submitted" % p] > base["p%d.submitted" % p] for p in paths))

    def host_sees(self, what, **want):
        """Wait until the host reports p<i>.ana / p<i>.state as given (p0_ana="...")."""
        def ok(d):
            return all(d.get(k.replace("_", ".")) == v for k, v in want.items())
        return self.io.wait("%s: host sees %s" % (what, want), ok)

    def set_ana(self, portid, state):
        self.daemon.rpc("set_ana_state", {"portid": portid, "grpid": ANA_GRPID,
                                          "state": state})
        port = next(p for p in self.daemon.rpc("get_ports") if p["portid"] == portid)
        self.assertEqual(ana_of(port), state, "get_ports after set_ana_state: %r" % port)

    def port_ctrl(self, portid):
        """The cntlid of our host's live controller on @portid."""
        def find():
            for c in self.daemon.rpc("get_controllers", {"nqn": SUBNQN}):
                if c["portid"] == portid and c["state"] == "live":
                    return c["cntlid"]
            return None
        deadline = time.monotonic() + WAIT
        while (cntlid := find()) is None:
            self.assertLess(time.monotonic(), deadline, "no live controller on port %d" % portid)
            time.sleep(0.1)
        return cntlid


class MultipathIoTests(MultipathTestCase):
    def test_failover_under_verified_io(self):
        """Verified I/O over both ports survives ANA errors, every ANA state, a disabled
        port and a target restart: no I/O error, no mismatch, failovers on port 1."""
        d = self.daemon = MpDaemon().start()
        io = self.io = MpathIo(d.tmpdir, d.ports)
        self.host_sees("start", p0_state="live", p1_state="live", p0_ana="optimized",
                       p1_ana="optimized")
        self.advance("both optimized", paths=(0, 1))

        # ANA errors the log does not announce: 8 commands on port 1 get ANA Inaccessible;
        # the host fails them over, re-reads the ANA log (still optimized) and goes on
        cntlid = self.port_ctrl(1)
        fid = d.rpc("add_fault", {"action": "status", "status": SC_ANA_INACCESSIBLE,
                                  "nqn": SUBNQN, "cntlid": cntlid, "queue": "io",
                                  "count": 8})["id"]
        deadline = time.monotonic() + WAIT
        while [f["hits"] for f in d.rpc("get_faults") if f["id"] == fid] != [8]:
            self.assertLess(time.monotonic(), deadline, "fault hits: %r\n%s" % (
                d.rpc("get_faults"), io.text()))
            time.sleep(0.05)
        d.rpc("remove_fault", {"id": fid})
        io.wait("failovers of the ANA errors", lambda x: x["p0.failovers"] >= 8)
        self.host_sees("after ANA errors", p0_ana="optimized", p1_ana="optimized")
        self.advance("after ANA errors", paths=(0, 1))

        # ANA states through the control socket, each seen by the host (ANA Change AEN)
        self.set_ana(1, "optimized")
        self.set_ana(2, "non-optimized")
        self.host_sees("p1 non-optimized", p0_ana="optimized", p1_ana="non-optimized")
        self.advance("p0 optimized, p1 non-optimized", paths=(0,))

        self.set_ana(1, "non-optimized")
        self.set_ana(2, "optimized")
        self.host_sees("swap", p0_ana="non-optimized", p1_ana="optimized")
        self.advance("p0 non-optimized, p1 optimized", paths=(1,))

        self.set_ana(1, "inaccessible")
        self.host_sees("p0 inaccessible", p0_ana="inaccessible", p1_ana="optimized")
        self.advance("p0 inaccessible", paths=(1,))

        self.set_ana(1, "change")
        self.host_sees("p0 change", p0_ana="change")
        self.advance("p0 change", paths=(1,))

        self.set_ana(1, "optimized")
        self.host_sees("p0 back", p0_state="live", p0_ana="optimized")
        self.advance("p0 optimized again", paths=(0,))

        self.set_ana(2, "persistent-loss")
        self.host_sees("p1 persistent-loss", p1_ana="persistent-loss")
        self.advance("p1 persistent-loss", paths=(0,))

        self.set_ana(2, "optimized")
        self.host_sees("p1 back", p0_ana="optimized", p1_ana="optimized")
        self.advance("both optimized again", paths=(0, 1))

        # port 1 disabled: its controller loses the connection and keeps reconnecting
        d.rpc("disable_port", {"portid": 1})
        port = next(p for p in d.rpc("get_ports") if p["portid"] == 1)
        self.assertIs(port.get("enabled"), False, "get_ports after disable_port: %r" % port)
        io.wait("p0 not live", lambda x: x["p0.state"] in ("resetting", "connecting"))
        self.advance("port 1 disabled", paths=(1,))
        d.rpc("enable_port", {"portid": 1})
        port = next(p for p in d.rpc("get_ports") if p["portid"] == 1)
        self.assertIs(port.get("enabled"), True, "get_ports after enable_port: %r" % port)
        self.host_sees("port 1 enabled", p0_state="live", p0_ana="optimized")
        self.advance("port 1 enabled", paths=(0, 1))

        # the target restarts (same configuration, same control socket)
        rc = d.stop()
        self.assertEqual(rc, 0, "nvmf-tgt stop under I/O:\n" + d.log_text())
        io.wait("both paths lost",
                lambda x: x["p0.state"] != "live" and x["p1.state"] != "live")
        d.start()
        self.host_sees("restarted", p0_state="live", p1_state="live", p0_ana="optimized",
                       p1_ana="optimized")
        self.advance("after the restart", paths=(0, 1))

        rc, js = io.stop()
        log = io.text()
        self.io = None
        self.assertEqual((rc, js["errors"], js["mismatches"]), (0, 0, 0),
                         "mpath_io summary %s\n%s" % (json.dumps(js), log))
        self.assertGreater(js["ios"], 12 * PHASE_IOS, js)
        self.assertGreater(js["verify_reads"], 0, "the final read-back verified blocks")
        p0, p1 = js["paths"]
        self.assertEqual((p0["trsvcid"], p1["trsvcid"]), (str(d.ports[0]), str(d.ports[1])))
        self.assertGreater(p0["submitted"], 0, js)
        self.assertGreater(p1["submitted"], 0, js)
        self.assertGreaterEqual(p0["failovers"], 8, js)  # the injected ANA errors at least
        self.assertEqual((p0["state"], p1["state"]), ("live", "live"), js)
        self.assertEqual((p0["ana_state"], p1["ana_state"]), ("optimized", "optimized"), js)

    def test_inaccessible_port_gets_no_io(self):
        """With port 2's ANA group inaccessible from the start, every I/O goes through
        port 1, whatever the policy."""
        d = self.daemon = MpDaemon(ana_states=("optimized", "inaccessible")).start()
        for policy in ("numa", "round-robin", "queue-depth"):
            io = self.io = MpathIo(d.tmpdir, d.ports, iopolicy=policy)
            self.host_sees(policy, p0_state="live", p1_state="live", p0_ana="optimized",
                           p1_ana="inaccessible")
            self.advance(policy, paths=(0,), n=2000)
            rc, js = io.stop()
            os.unlink(io.stop_file)  # the next run's stop file
            log = io.text()
            self.io = None
            msg = "%s: mpath_io summary %s\n%s" % (policy, json.dumps(js), log)
            self.assertEqual((rc, js["errors"], js["mismatches"]), (0, 0, 0), msg)
            self.assertEqual(js["iopolicy"], policy, msg)
            p0, p1 = js["paths"]
            self.assertEqual((p0["ana_state"], p1["ana_state"]), ("optimized", "inaccessible"),
                             msg)
            self.assertEqual(p1["submitted"], 0, msg)
            # every head I/O went out once, through port 1
            self.assertEqual(p0["submitted"], js["ios"], msg)
            self.assertEqual((p0["failovers"], p1["failovers"]), (0, 0), msg)
            self.assertGreaterEqual(js["ios"], 2000, msg)


def main(argv):
    return run_tests(argv, sys.modules[__name__])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
