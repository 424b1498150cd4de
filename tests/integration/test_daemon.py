# SPDX-License-Identifier: MIT
"""Integration tests: the real nvmf-tgt daemon on 127.0.0.1, driven over NVMe/TCP by the
small host in nvmftcp.py.

Run through tests/integration/run.sh BUILD_DIR, or directly:
    python3 tests/integration/test_daemon.py --build BUILD_DIR [unittest args, e.g. -k Keep]
With NVMF_IT_KEEP=1 in the environment the temporary directories (configuration, backing
file, the daemon's -v log) are kept and named on stderr.

Each test class starts its own daemon from a generated nvmetcli JSON configuration on free
ports in a temporary directory, and stops it with SIGTERM, asserting exit status 0 within
10 s. Tests that do not break connections share their class's daemon.
"""

import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nvmftcp as nt  # noqa: E402

BUILD_DIR = os.environ.get("NVMF_BUILD_DIR", "build")

SUBNQN = "nqn.2024-01.io.nvmf.test:disk"
RESTRICTED_NQN = "nqn.2024-01.io.nvmf.test:restricted"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:6d1f4c2a-0b7e-4e55-9a3c-5f2d8e1b7c90"
ALLOWED_HOSTNQN = "nqn.2024-01.io.nvmf.test:host-allowed"
REFERRAL = {"traddr": "192.0.2.10", "trsvcid": "8009", "portid": 7}

NS_MEM = 1  # 64 MiB in RAM
NS_FILE = 2  # 16 MiB sparse file
NS_MEM_BYTES = 64 << 20
NS_FILE_BYTES = 16 << 20
LBA = 512
MDTS = 128 << 10
STOP_TIMEOUT = 10.0


def free_port():
    """A TCP port nobody listens on right now (bind to port 0 and let the kernel choose)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_entry(portid, port, subsystems, referrals=()):
    return {
        "portid": portid,
        "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port), "treq": "not specified"},
        "subsystems": list(subsystems),
        "referrals": list(referrals),
        "ana_groups": [{"grpid": 1, "ana": {"state": "optimized"}}],
        "param": {},
    }


def make_config(tmpdir, io_port, disc_port, reactors=2):
    """Two subsystems: SUBNQN (any host; a mem and a file namespace) on both ports, and
    RESTRICTED_NQN (only ALLOWED_HOSTNQN) on the I/O port. The discovery port has a
    referral."""
    return {
        "hosts": [{"nqn": ALLOWED_HOSTNQN}],
        "nvmf": {"reactors": reactors},
        "ports": [
            port_entry(1, io_port, [SUBNQN, RESTRICTED_NQN]),
            port_entry(2, disc_port, [SUBNQN], referrals=[{
                "name": "peer", "enable": 1,
                "addr": {"trtype": "tcp", "adrfam": "ipv4", "traddr": REFERRAL["traddr"],
                         "trsvcid": REFERRAL["trsvcid"], "treq": "not specified",
                         "portid": str(REFERRAL["portid"])}}]),
        ],
        "subsystems": [
            {"nqn": SUBNQN,
             "attr": {"allow_any_host": "1", "serial": "nvmf-it-0001", "model": "nvmf-it",
                      "version": "1.3"},
             "allowed_hosts": [],
             "namespaces": [
                 {"nsid": NS_MEM, "enable": 1, "ana_grpid": 1,
                  "device": {"path": "", "nvmf_backend": "mem", "nvmf_size": "64M"}},
                 {"nsid": NS_FILE, "enable": 1, "ana_grpid": 1,
                  "device": {"path": os.path.join(tmpdir, "ns2.img"), "nvmf_size": "16M"}},
             ]},
            {"nqn": RESTRICTED_NQN,
             "attr": {"allow_any_host": "0"},
             "allowed_hosts": [ALLOWED_HOSTNQN],
             "namespaces": [
                 {"nsid": 1, "enable": 1,
                  "device": {"path": "", "nvmf_backend": "mem", "nvmf_size": "1M"}},
             ]},
        ],
    }


class Daemon:
    """One nvmf-tgt process with its own configuration in its own temporary directory."""

    def __init__(self, reactors=2):
        self.exe = os.path.join(BUILD_DIR, "nvmf-tgt")
        self.tmpdir = tempfile.mkdtemp(prefix="nvmf-it-")
        self.io_port = free_port()
        self.disc_port = free_port()
        while self.disc_port == self.io_port:
            self.disc_port = free_port()
        self.config = make_config(self.tmpdir, self.io_port, self.disc_port, reactors)
        self.config_path = os.path.join(self.tmpdir, "nvmf.json")
        self.log_path = os.path.join(self.tmpdir, "nvmf-tgt.log")
        self.rpc_path = os.path.join(self.tmpdir, "rpc.sock")
        self.proc = None

    def start(self, timeout=10.0):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=1)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.exe, "-c", self.config_path, "-v",
                                      "-r", self.rpc_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        for port in (self.io_port, self.disc_port):
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError("nvmf-tgt exited with %d:\n%s" % (
                        self.proc.returncode, self.log_text()))
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("nvmf-tgt does not listen on %d" % port)
                    time.sleep(0.02)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-8000:]
        except OSError:
            return ""

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM; returns (exit status, seconds), or (None, timeout) if it did not exit."""
        if self.proc is None:
            return 0, 0.0
        start = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        elapsed = time.monotonic() - start
        self.log.close()
        return rc, elapsed

    def cleanup(self):
        if os.environ.get("NVMF_IT_KEEP"):
            print("\nnvmf-it: kept %s" % self.tmpdir, file=sys.stderr)
            return
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class DaemonTestCase(unittest.TestCase):
    """Tests sharing one daemon per class; the stop is checked when the class ends."""

    daemon = None

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        rc, elapsed = d.stop()
        text = d.log_text()
        d.cleanup()
        if rc != 0 or elapsed > STOP_TIMEOUT:
            raise AssertionError("nvmf-tgt stop: status %r after %.1f s\n%s" % (
                rc, elapsed, text))

    def setUp(self):
        self.assertTrue(self.daemon.alive(), "nvmf-tgt is not running:\n" +
                        self.daemon.log_text())
        self._ctrls = []
        self._conns = []

    def tearDown(self):
        for c in self._ctrls:
            c.close()
        for c in self._conns:
            c.close()

    # helpers --------------------------------------------------------------------------------

    def ctrl(self, hdgst=False, ddgst=False, kato=0, subnqn=SUBNQN, hostnqn=HOSTNQN):
        c = nt.Controller(self.daemon.io_port, subnqn, hostnqn, nt.fresh_hostid(), kato=kato,
                          hdgst=hdgst, ddgst=ddgst)
        self._ctrls.append(c)
        return c

    def conn(self, port=None):
        c = nt.NvmeTcpConn(port or self.daemon.io_port)
        self._conns.append(c)
        return c

    def assertStatus(self, cqe, code, dnr=None, msg=""):
        self.assertEqual(cqe.code, code, "%s: %r, want status %#x" % (msg, cqe, code))
        if dnr is not None:
            self.assertEqual(cqe.dnr, dnr, "%s: %r DNR" % (msg, cqe))

    def assertOk(self, cqe, msg=""):
        self.assertEqual(cqe.status, 0, "%s: %r" % (msg, cqe))

    def assertTerm(self, conn, fes=None, fei=None, timeout=5.0):
        """The next thing from the target is a C2HTermReq, then it closes the connection."""
        with self.assertRaises(nt.TermReq) as cm:
            while True:
                conn.process_one(timeout)
        t = cm.exception
        if fes is not None:
            self.assertEqual(t.fes, fes, "C2HTermReq FES (FEI %d)" % t.fei)
        if fei is not None:
            self.assertEqual(t.fei, fei, "C2HTermReq FEI (FES %d)" % t.fes)
        # the termination PDU header itself: HLEN 24, PDO 0, no digests, PLEN covers the echo
        ptype, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", t.raw, 0)
        self.assertEqual((ptype, hlen, pdo, plen), (nt.PDU_C2H_TERM, 24, 0, len(t.raw)))
        self.assertLessEqual(len(t.echoed), 128)
        self.assertIsNotNone(conn.wait_closed(5.0), "connection not closed after C2HTermReq")
        return t

    def assertDaemonServes(self):
        """The daemon is alive and a brand-new controller does I/O."""
        self.assertTrue(self.daemon.alive(), "nvmf-tgt died:\n" + self.daemon.log_text())
        c = self.ctrl()
        q = c.connect_io()
        data = nt.pattern(8192, 77)
        cqe, _ = q.write(NS_MEM, 60000, data, in_capsule=False)
        self.assertOk(cqe, "write on a fresh controller")
        cqe, back = q.read(NS_MEM, 60000, len(data))
        self.assertOk(cqe, "read on a fresh controller")
        self.assertEqual(back, data)
        c.close()


# ------------------------------------------------------------------------------------------


class BasicTests(DaemonTestCase):
    """Connection setup, the admin and I/O command paths, status codes, log pages,
    Connect failures and discovery. Nothing here breaks a connection."""

    def test_icreq_icresp(self):
        for hdgst in (False, True):
            for ddgst in (False, True):
                with self.subTest(hdgst=hdgst, ddgst=ddgst):
                    c = self.conn()
                    r = c.icreq(hdgst=hdgst, ddgst=ddgst)
                    self.assertEqual((r["type"], r["hlen"], r["pdo"], r["plen"]),
                                     (nt.PDU_ICRESP, 128, 0, 128))
                    self.assertEqual(r["flags"], 0)
                    self.assertEqual(r["pfv"], 0)
                    self.assertLessEqual(r["cpda"], 31)
                    self.assertGreaterEqual(r["maxdata"], 4096)
                    self.assertEqual(r["maxdata"] % 4, 0)
                    self.assertEqual(r["hdgst"], hdgst)
                    self.assertEqual(r["ddgst"], ddgst)
                    self.assertTrue(r["rsvd_zero"], "ICResp reserved bytes not zero")
                    c.close()

    def _io_path(self, hdgst, ddgst, nsid):
        hostid = nt.fresh_hostid()
        a = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, hostid, hdgst=hdgst,
                          ddgst=ddgst)
        self._conns.append(a)
        cntlid = a.cntlid
        self.assertNotEqual(cntlid, 0xFFFF)
        self.assertGreaterEqual(cntlid, 1)
        self.assertLessEqual(cntlid, 0xFFEF)

        cap = a.prop_get(nt.REG_CAP, size8=True)
        self.assertOk(cap, "Property Get CAP")
        self.assertEqual(cap.u64 & 0xFFFF, 127, "CAP.MQES")
        self.assertTrue(cap.u64 & (1 << 37), "CAP.CSS NVM")
        self.assertEqual((cap.u64 >> 48) & 0xF, 0, "CAP.MPSMIN (4 KiB)")
        vs = a.prop_get(nt.REG_VS)
        self.assertOk(vs, "Property Get VS")
        self.assertEqual(vs.dw0, 0x00010300, "VS 1.3.0")
        csts = a.prop_get(nt.REG_CSTS)
        self.assertOk(csts)
        self.assertEqual(csts.dw0 & nt.CSTS_RDY, 0, "CSTS.RDY before CC.EN")
        self.assertOk(a.prop_set(nt.REG_CC, nt.CC_DEFAULT | nt.CC_EN), "Property Set CC.EN")
        csts = a.prop_get(nt.REG_CSTS)
        self.assertOk(csts)
        self.assertEqual(csts.dw0 & (nt.CSTS_RDY | nt.CSTS_CFS), nt.CSTS_RDY, "CSTS after EN")
        cc = a.prop_get(nt.REG_CC)
        self.assertEqual(cc.dw0, nt.CC_DEFAULT | nt.CC_EN, "CC reads back")

        cqe, data = a.identify(nt.CNS_CTRL)
        self.assertOk(cqe, "Identify Controller")
        idc = nt.parse_id_ctrl(data)
        self.assertEqual(idc["subnqn"], SUBNQN)
        self.assertEqual(idc["cntlid"], cntlid)
        self.assertEqual(idc["mdts"], 5, "MDTS: 128 KiB in 4 KiB units, log2")
        self.assertEqual(idc["ioccsz"], (64 + 8192) // 16, "IOCCSZ: SQE + 8 KiB in-capsule")
        self.assertEqual(idc["iorcsz"], 1)
        self.assertEqual(idc["cntrltype"], 1, "I/O controller")
        self.assertEqual(idc["sn"], "nvmf-it-0001")
        self.assertEqual(idc["mn"], "nvmf-it")
        self.assertEqual(idc["nn"], 1024)
        self.assertEqual((idc["sqes"], idc["cqes"]), (0x66, 0x44))

        cqe, data = a.identify(nt.CNS_NS, nsid=nsid)
        self.assertOk(cqe, "Identify Namespace")
        idn = nt.parse_id_ns(data)
        size = NS_MEM_BYTES if nsid == NS_MEM else NS_FILE_BYTES
        self.assertEqual(idn["lba_shift"], 9)
        self.assertEqual(idn["nsze"], size // LBA)

        cqe = a.set_features(nt.FEAT_NUM_QUEUES, 3 | (3 << 16))
        self.assertOk(cqe, "Set Features Number of Queues")
        # 4 SQs and 4 CQs asked (0's based), well within the target's 64: all granted
        self.assertEqual(cqe.dw0, 3 | (3 << 16), "NSQA / NCQA")

        q = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, hostid, qid=1,
                          cntlid=cntlid, sqsize=127, hdgst=hdgst, ddgst=ddgst)
        self._conns.append(q)
        self.assertEqual(q.cntlid, cntlid, "I/O queue Connect returns the controller's ID")

        small = nt.pattern(4096, 1 + nsid)
        cqe, cmd = q.write(nsid, 8, small, in_capsule=True)
        self.assertOk(cqe, "4 KiB in-capsule write")
        self.assertEqual(cmd.r2ts, [], "no R2T for in-capsule data")
        self.assertEqual(cqe.sq_id, 1)

        big = nt.pattern(MDTS, 2 + nsid)
        cqe, cmd = q.write(nsid, 1024, big, in_capsule=False, h2c_chunk=32768)
        self.assertOk(cqe, "128 KiB write by R2T")
        self.assertEqual(len(cmd.r2ts), 1, "one R2T for the whole transfer")
        cccid, ttag, r2to, r2tl = cmd.r2ts[0]
        self.assertEqual(cccid, cmd.cid, "R2T CCCID")
        self.assertEqual(r2to, 0, "R2T R2TO")
        self.assertEqual(r2tl, MDTS, "R2T R2TL")
        self.assertEqual(cmd.h2c_sent, 4)

        cqe, back = q.read(nsid, 8, 4096)
        self.assertOk(cqe, "read back 4 KiB")
        self.assertEqual(back, small)
        cqe, back = q.read(nsid, 1024, MDTS)
        self.assertOk(cqe, "read back 128 KiB")
        self.assertEqual(back, big)

        # several R2T writes in flight at once: distinct transfer tags, every byte lands
        cmds = []
        datas = []
        for i in range(4):
            d = nt.pattern(65536, 10 + i + nsid)
            cid = q.alloc_cid()
            s = q.rw_sqe(nt.IO_WRITE, cid, nsid, 4096 + i * 128, 128, len(d))
            cmds.append(q.submit(s, data_out=d, h2c_chunk=16384))
            datas.append(d)
        for cmd in cmds:
            self.assertOk(q.wait(cmd), "concurrent R2T write")
        ttags = [cmd.r2ts[0][1] for cmd in cmds]
        self.assertEqual(len(set(ttags)), 4, "transfer tags of outstanding R2Ts: %r" % ttags)
        for half in (0, 1):  # MDTS is 128 KiB
            cqe, back = q.read(nsid, 4096 + half * 256, 2 * 65536)
            self.assertOk(cqe)
            self.assertEqual(back, b"".join(datas[half * 2:half * 2 + 2]))

    def test_io_path(self):
        for nsid in (NS_MEM, NS_FILE):
            with self.subTest(nsid=nsid):
                self._io_path(False, False, nsid)

    def test_io_path_digests(self):
        for nsid in (NS_MEM, NS_FILE):
            with self.subTest(nsid=nsid):
                self._io_path(True, True, nsid)

    def test_sq_flow_control_disabled(self):
        c = self.ctrl(hdgst=True, ddgst=True)
        q = c.connect_io(cattr=1 << 2)  # CATTR bit 2: disable SQ flow control
        data = nt.pattern(16384, 31)
        self.assertOk(q.write(NS_MEM, 7000, data, in_capsule=False)[0])
        cqe, back = q.read(NS_MEM, 7000, len(data))
        self.assertOk(cqe)
        self.assertEqual(back, data)
        # the read completed by the C2HData SUCCESS flag: no CapsuleResp follows for it
        self.assertOk(q.read(NS_MEM, 7000, 4096)[0])
        self.assertOk(q.write(NS_MEM, 7000, data[:4096])[0])
        self.assertEqual(q.unsolicited, [], "a CapsuleResp after a SUCCESS C2HData")

    def test_shutdown_notification(self):
        c = self.ctrl()
        a = c.admin
        cqe = a.prop_set(nt.REG_CC, nt.CC_DEFAULT | nt.CC_EN | nt.CC_SHN_NORMAL)
        self.assertOk(cqe, "Property Set CC.SHN = 01b")
        deadline = time.monotonic() + 5
        while True:
            csts = a.prop_get(nt.REG_CSTS)
            self.assertOk(csts)
            if (csts.dw0 >> 2) & 3 == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual((csts.dw0 >> 2) & 3, 2, "CSTS.SHST = 10b (shutdown complete)")
        self.assertEqual(csts.dw0 & nt.CSTS_CFS, 0)

    def test_invalid_opcodes(self):
        c = self.ctrl()
        q = c.connect_io()
        for opcode in (0xC0, 0x01):  # vendor specific; Create I/O SQ does not exist on fabrics
            cqe, _ = c.admin.execute(nt.sqe(opcode, c.admin.alloc_cid()))
            self.assertStatus(cqe, nt.SC_INVALID_OPCODE, dnr=True,
                              msg="admin opcode %#x" % opcode)
        for opcode in (0x80, 0x7E):
            cqe, _ = q.execute(nt.sqe(opcode, q.alloc_cid(), nsid=NS_MEM))
            self.assertStatus(cqe, nt.SC_INVALID_OPCODE, dnr=True, msg="I/O opcode %#x" % opcode)
        # the queue is still usable
        cqe, _ = q.read(NS_MEM, 0, 4096)
        self.assertOk(cqe)

    def test_lba_out_of_range_and_invalid_ns(self):
        c = self.ctrl()
        q = c.connect_io()
        nsze = NS_MEM_BYTES // LBA
        for slba, nlb in ((nsze - 4, 8), (nsze, 1), (1 << 40, 1)):
            cqe, _ = q.read(NS_MEM, slba, nlb * LBA)
            self.assertStatus(cqe, nt.SC_LBA_RANGE, dnr=True, msg="read slba %d nlb %d" % (
                slba, nlb))
        cqe, _ = q.write(NS_MEM, nsze - 1, b"\xaa" * 1024)
        self.assertStatus(cqe, nt.SC_LBA_RANGE, dnr=True, msg="write past the end")
        cqe, _ = q.read(NS_MEM, nsze - 8, 8 * LBA)
        self.assertOk(cqe, "the last 8 LBAs are in range")
        cqe, _ = q.read(99, 0, 4096)
        self.assertStatus(cqe, nt.SC_INVALID_NS, dnr=True, msg="read NSID 99")
        cqe, _ = q.write(99, 0, b"\0" * 4096)
        self.assertStatus(cqe, nt.SC_INVALID_NS, dnr=True, msg="write NSID 99")
        cqe, _ = c.admin.identify(nt.CNS_NS, nsid=99)
        self.assertOk(cqe, "Identify of an inactive NSID below NN reads zeroes")
        cqe, _ = c.admin.identify(nt.CNS_NS, nsid=5000)
        self.assertStatus(cqe, nt.SC_INVALID_NS, dnr=True, msg="Identify NSID 5000 (> NN)")

    def _error_log(self, admin):
        cqe, data = admin.get_log_page(nt.LOG_ERROR, 4096, nsid=0)
        self.assertOk(cqe, "Get Log Page Error Information")
        return nt.parse_error_log(data)

    def test_error_log(self):
        c = self.ctrl()
        q = c.connect_io()
        before = self._error_log(c.admin)
        self.assertEqual(before[0]["error_count"], 0, "a new controller's log is empty")

        nsze = NS_MEM_BYTES // LBA
        cid = q.alloc_cid()
        cqe, _ = q.execute(q.rw_sqe(nt.IO_READ, cid, NS_MEM, nsze, 1, LBA), read_len=LBA)
        self.assertStatus(cqe, nt.SC_LBA_RANGE, dnr=True)
        log = self._error_log(c.admin)
        e = log[0]
        self.assertGreater(e["error_count"], 0)
        self.assertEqual(e["cmdid"], cid)
        self.assertEqual(e["sqid"], 1)
        self.assertEqual(e["status"], cqe.status, "status field of the entry")
        self.assertEqual(e["nsid"], NS_MEM)
        self.assertEqual(e["lba"], nsze)
        self.assertEqual(e["trtype"], 3, "TRTYPE tcp")

        acid = c.admin.alloc_cid()
        cqe, _ = c.admin.execute(nt.sqe(0xC0, acid))
        self.assertStatus(cqe, nt.SC_INVALID_OPCODE, dnr=True)
        log2 = self._error_log(c.admin)
        e2 = log2[0]
        self.assertEqual(e2["cmdid"], acid)
        self.assertEqual(e2["sqid"], 0)
        self.assertEqual(e2["status"], cqe.status)
        self.assertEqual(e2["param_error_location"], 0, "the opcode is at fault")
        self.assertGreater(e2["error_count"], e["error_count"])
        self.assertEqual(log2[1]["cmdid"], cid, "older entries follow, newest first")

    def test_smart_counters(self):
        c = self.ctrl()
        q = c.connect_io()
        cqe, data = c.admin.get_log_page(nt.LOG_SMART, 512)
        self.assertOk(cqe, "Get Log Page SMART")
        before = nt.parse_smart(data)
        for i in range(5):  # 5 x 128 KiB = 1280 units of 512 bytes: >= 1 data unit
            cqe, _ = q.write(NS_MEM, 20000 + i * 256, nt.pattern(MDTS, 40 + i),
                             in_capsule=False)
            self.assertOk(cqe)
        cqe, _ = q.read(NS_MEM, 20000, MDTS)
        self.assertOk(cqe)
        cqe, data = c.admin.get_log_page(nt.LOG_SMART, 512)
        self.assertOk(cqe)
        after = nt.parse_smart(data)
        self.assertGreater(after["data_units_written"], before["data_units_written"])
        self.assertEqual(after["host_write_commands"], before["host_write_commands"] + 5)
        self.assertEqual(after["host_read_commands"], before["host_read_commands"] + 1)

    def test_connect_unknown_subsystem(self):
        c = self.conn()
        c.icreq()
        cqe = c.connect("nqn.2024-01.io.nvmf.test:no-such-subsystem", HOSTNQN,
                        nt.fresh_hostid())
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_PARAM, dnr=True)
        self.assertEqual(cqe.sct, 1)
        self.assertEqual(cqe.sc, 0x82)
        # IATTR (bit 16): the parameter is in the Connect data; IPO: SUBNQN at byte 256
        self.assertEqual(cqe.dw0, (1 << 16) | 256, "Connect response IATTR/IPO")
        # the queue can still Connect properly afterwards
        cqe = c.connect(SUBNQN, HOSTNQN, nt.fresh_hostid())
        self.assertOk(cqe, "Connect after a failed one")

    def test_connect_host_not_allowed(self):
        c = self.conn()
        c.icreq()
        cqe = c.connect(RESTRICTED_NQN, HOSTNQN, nt.fresh_hostid())
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_HOST, dnr=True)
        self.assertEqual(cqe.dw0, (1 << 16) | 512, "Connect response IATTR/IPO: HOSTNQN")
        # the allowed host gets in and does I/O
        ok = self.ctrl(subnqn=RESTRICTED_NQN, hostnqn=ALLOWED_HOSTNQN)
        q = ok.connect_io()
        cqe, _ = q.write(1, 0, b"\x5a" * 4096)
        self.assertOk(cqe)

    def test_connect_empty_hostnqn(self):
        # as the Linux target and SPDK: an empty host NQN connects where any host may, and
        # only there; a host NQN without its terminating NUL is still refused
        c = self.conn()
        c.icreq()
        cqe = c.connect(SUBNQN, "", nt.fresh_hostid())
        self.assertOk(cqe, "Connect with an empty host NQN, allow_any_host")
        c = self.conn()
        c.icreq()
        cqe = c.connect(RESTRICTED_NQN, "", nt.fresh_hostid())
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_HOST, dnr=True)
        c = self.conn()
        c.icreq()
        cqe = c.connect(SUBNQN, "n" * 256, nt.fresh_hostid())
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_PARAM, dnr=True)
        self.assertEqual(cqe.dw0, (1 << 16) | 512, "IPO: HOSTNQN at byte 512")

    def test_connect_io_queue_wrong_cntlid(self):
        c = self.ctrl()
        q = self.conn()
        q.icreq()
        bad = (c.cntlid + 1000) & 0xFFFF
        cqe = q.connect(SUBNQN, HOSTNQN, c.hostid, qid=1, sqsize=127, cntlid=bad)
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_PARAM, dnr=True)
        self.assertEqual(cqe.dw0, (1 << 16) | 16, "IPO: CNTLID at byte 16")

    def _discovery_log(self, port, hostnqn):
        a = nt.open_queue(port, nt.DISC_NQN, hostnqn, nt.fresh_hostid())
        self._conns.append(a)
        csts = a.enable()
        self.assertTrue(csts & nt.CSTS_RDY)
        cqe, data = a.identify(nt.CNS_CTRL)
        self.assertOk(cqe, "Identify on the discovery controller")
        idc = nt.parse_id_ctrl(data)
        self.assertEqual(idc["subnqn"], nt.DISC_NQN)
        self.assertEqual(idc["cntrltype"], 2, "discovery controller")
        cqe, hdr = a.get_log_page(nt.LOG_DISC, 1024, nsid=0)
        self.assertOk(cqe, "Get Log Page 70h header")
        numrec = struct.unpack_from("<Q", hdr, 8)[0]
        self.assertGreaterEqual(numrec, 1)
        self.assertLess(numrec, 64)
        cqe, data = a.get_log_page(nt.LOG_DISC, 1024 * (numrec + 1), nsid=0)
        self.assertOk(cqe, "Get Log Page 70h")
        log = nt.parse_disc_log(data)
        self.assertEqual(log["numrec"], numrec)
        self.assertEqual(log["recfmt"], 0)
        self.assertEqual(len(log["entries"]), numrec)
        a.close()
        return log

    def test_discovery(self):
        port = self.daemon.disc_port
        log = self._discovery_log(port, HOSTNQN)
        ents = log["entries"]
        # this discovery subsystem, SUBNQN (the only subsystem on this port), one referral
        self.assertEqual(log["numrec"], 3, ents)
        by_type = {}
        for e in ents:
            by_type.setdefault(e["subtype"], []).append(e)
        nvm = by_type.get(2, [])
        self.assertEqual([e["subnqn"] for e in nvm], [SUBNQN])
        e = nvm[0]
        self.assertEqual((e["trtype"], e["adrfam"]), (3, 1), "tcp, ipv4")
        self.assertEqual(e["traddr"], "127.0.0.1")
        self.assertEqual(e["trsvcid"], str(port))
        self.assertEqual(e["portid"], 2)
        self.assertEqual(e["cntlid"], 0xFFFF)
        cur = by_type.get(3, [])
        self.assertEqual(len(cur), 1, "current discovery subsystem entry")
        self.assertEqual(cur[0]["subnqn"], nt.DISC_NQN)
        self.assertEqual(cur[0]["trsvcid"], str(port))
        self.assertEqual(cur[0]["traddr"], "127.0.0.1")
        ref = by_type.get(1, [])
        self.assertEqual(len(ref), 1, "referral entry")
        self.assertEqual(ref[0]["traddr"], REFERRAL["traddr"])
        self.assertEqual(ref[0]["trsvcid"], REFERRAL["trsvcid"])
        self.assertEqual(ref[0]["portid"], REFERRAL["portid"])
        self.assertEqual(ref[0]["subnqn"], nt.DISC_NQN)

        # on the I/O port: both subsystems, but only the allowed host sees the restricted one
        log = self._discovery_log(self.daemon.io_port, HOSTNQN)
        self.assertEqual(sorted(e["subnqn"] for e in log["entries"] if e["subtype"] == 2),
                         [SUBNQN])
        log = self._discovery_log(self.daemon.io_port, ALLOWED_HOSTNQN)
        self.assertEqual(sorted(e["subnqn"] for e in log["entries"] if e["subtype"] == 2),
                         sorted([SUBNQN, RESTRICTED_NQN]))
        for e in log["entries"]:
            self.assertEqual(e["trsvcid"], str(self.daemon.io_port))


# ------------------------------------------------------------------------------------------


class TransportErrorTests(DaemonTestCase):
    """Malformed and truncated input: the connection at fault ends (with a C2HTermReq where
    the spec asks for one), the daemon and every other connection go on."""

    def tearDown(self):
        super().tearDown()
        self._ctrls, self._conns = [], []
        try:
            self.assertDaemonServes()
        finally:
            super().tearDown()

    def test_command_before_icreq(self):
        c = self.conn()
        s = nt.fabrics_sqe(nt.FCTYPE_CONNECT, 1, struct.pack("<HHHBxI", 0, 0, 31, 0, 0), 1024,
                           nt.SGL_INCAPSULE)
        pdu = c.cmd_pdu(s)  # no in-capsule data: just the capsule header
        c.send_raw(pdu)
        t = self.assertTerm(c, fes=nt.FES_PDU_SEQ_ERR, fei=0)
        self.assertEqual(t.echoed[:8], pdu[:8], "the offending header is echoed")

    def test_icreq_unsupported_pfv(self):
        c = self.conn()
        pdu = struct.pack("<BBBBIHBBI", nt.PDU_ICREQ, 0, 128, 0, 128, 1, 0, 0, 0).ljust(128,
                                                                                    b"\0")
        c.send_raw(pdu)
        t = self.assertTerm(c, fes=nt.FES_UNSUPPORTED_PARAM, fei=8)  # FEI: PFV
        self.assertEqual(t.echoed, pdu, "the whole ICReq is echoed")

    def test_second_icreq(self):
        c = self.conn()
        c.icreq()
        pdu = struct.pack("<BBBBIHBBI", nt.PDU_ICREQ, 0, 128, 0, 128, 0, 0, 0, 0).ljust(128,
                                                                                    b"\0")
        c.send_raw(pdu)
        self.assertTerm(c, fes=nt.FES_PDU_SEQ_ERR, fei=0)

    def test_h2c_term_req(self):
        c = self.ctrl()
        q = c.connect_io()
        # the host gives up on the connection: the target closes it without answering
        q.send_raw(struct.pack("<BBBBIHI10x", nt.PDU_H2C_TERM, 0, 24, 0, 24,
                               nt.FES_PDU_SEQ_ERR, 0))
        self.assertIsNotNone(q.wait_closed(5.0), "connection not closed after H2CTermReq")
        self.assertIsNone(q.term, "no C2HTermReq in answer to an H2CTermReq")
        self.assertOk(c.admin.prop_get(nt.REG_CSTS), "the admin queue lives on")

    def test_bad_header_digest(self):
        c = self.conn()
        c.icreq(hdgst=True)
        spec = struct.pack("<HHHBxI", 0, 0, 31, 0, 0)
        data = nt.connect_data(nt.fresh_hostid(), 0xFFFF, SUBNQN, HOSTNQN)
        s = nt.fabrics_sqe(nt.FCTYPE_CONNECT, 1, spec, len(data), nt.SGL_INCAPSULE)
        pdu = c.cmd_pdu(s, data, bad_hdgst=True)
        c.send_raw(pdu)
        t = self.assertTerm(c, fes=nt.FES_HDR_DIGEST_ERR)
        self.assertEqual(t.echoed[:72], pdu[:72], "the offending header is echoed")

    def test_bad_header_digest_on_io_queue(self):
        c = self.ctrl(hdgst=True)
        q = c.connect_io()
        cid = q.alloc_cid()
        q.send_raw(q.cmd_pdu(q.rw_sqe(nt.IO_READ, cid, NS_MEM, 0, 8, 4096), bad_hdgst=True))
        self.assertTerm(q, fes=nt.FES_HDR_DIGEST_ERR)
        # the controller lost only an I/O queue: its admin queue still answers
        self.assertOk(c.admin.prop_get(nt.REG_CSTS))

    def _digest_setup(self):
        c = self.ctrl(hdgst=True, ddgst=True)
        q = c.connect_io()
        return c, q

    def test_bad_data_digest_in_capsule(self):
        c, q = self._digest_setup()
        old = nt.pattern(4096, 501)
        self.assertOk(q.write(NS_MEM, 3000, old)[0])
        cid = q.alloc_cid()
        s = q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 3000, 8, 4096, nt.SGL_INCAPSULE)
        cqe, _ = q.execute(s, icd=nt.pattern(4096, 502), bad_ddgst=True)
        self.assertStatus(cqe, nt.SC_TRANSIENT_TR_ERR, dnr=False,
                          msg="in-capsule data digest error")
        cqe, back = q.read(NS_MEM, 3000, 4096)
        self.assertOk(cqe, "the connection keeps working")
        self.assertEqual(back, old, "the corrupted write was not executed")
        new = nt.pattern(4096, 503)
        self.assertOk(q.write(NS_MEM, 3000, new)[0], "retry")
        self.assertEqual(q.read(NS_MEM, 3000, 4096)[1], new)

    def _bad_h2c_digest(self, bad_index):
        c, q = self._digest_setup()
        slba = 5000 + 256 * bad_index
        old = nt.pattern(MDTS, 600 + bad_index)
        self.assertOk(q.write(NS_MEM, slba, old, in_capsule=False)[0])
        cid = q.alloc_cid()
        s = q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, slba, MDTS // LBA, MDTS)
        cmd = q.submit(s, data_out=nt.pattern(MDTS, 700 + bad_index), h2c_chunk=32768)
        cmd.corrupt_h2c_ddgst.add(bad_index)
        cqe = q.wait(cmd)
        self.assertEqual(cmd.h2c_sent, 4)
        self.assertStatus(cqe, nt.SC_TRANSIENT_TR_ERR, dnr=False,
                          msg="H2CData %d of 4 with a bad data digest" % (bad_index + 1))
        cqe, back = q.read(NS_MEM, slba, MDTS)
        self.assertOk(cqe, "the connection keeps working")
        self.assertEqual(back, old, "the corrupted write was not executed")
        new = nt.pattern(MDTS, 800 + bad_index)
        self.assertOk(q.write(NS_MEM, slba, new, in_capsule=False)[0], "retry")
        self.assertEqual(q.read(NS_MEM, slba, MDTS)[1], new)

    def test_bad_data_digest_last_h2c(self):
        self._bad_h2c_digest(3)

    def test_bad_data_digest_first_h2c(self):
        self._bad_h2c_digest(0)

    def test_h2c_unknown_ttag(self):
        for ttag in (0xFFFF, 5):
            with self.subTest(ttag=ttag):
                c = self.ctrl()
                q = c.connect_io()
                pdu = q.h2c_pdu(q.alloc_cid(), ttag, 0, b"\0" * 4096, True)
                q.send_raw(pdu)
                t = self.assertTerm(q, fei=10)  # FEI: byte offset of TTAG
                self.assertIn(t.fes, (nt.FES_INVALID_PDU_HDR, nt.FES_PDU_SEQ_ERR))
                self.assertEqual(t.echoed[:24], pdu[:24])
                c.close()

    def test_wrong_hlen(self):
        c = self.conn()
        c.icreq()
        pdu = bytearray(c.cmd_pdu(nt.sqe(nt.ADMIN_KEEP_ALIVE, 1)))
        pdu[2] = 80  # HLEN of a Command Capsule is 72
        c.send_raw(pdu)
        t = self.assertTerm(c, fes=nt.FES_INVALID_PDU_HDR, fei=2)
        self.assertEqual(t.echoed[:8], bytes(pdu[:8]))

    def test_oversized_in_capsule_data(self):
        c = self.ctrl()
        q = c.connect_io()
        length = 8192 + 4096  # in-capsule limit is 8 KiB (IOCCSZ)
        cid = q.alloc_cid()
        s = q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 0, length // LBA, length, nt.SGL_INCAPSULE)
        pdu = q.cmd_pdu(s, b"\x11" * length)
        q.send_raw(pdu[:72])  # the header alone is enough to refuse it
        t = self.assertTerm(q, fes=nt.FES_DATA_LIMIT_EXCEEDED, fei=4)  # FEI: PLEN
        self.assertEqual(t.echoed[:8], pdu[:8])

    def test_connection_closed_mid_pdu(self):
        a = self.ctrl()
        qa = a.connect_io()
        big = nt.pattern(MDTS, 901)
        small = nt.pattern(4096, 902)
        self.assertOk(qa.write(NS_MEM, 40000, big, in_capsule=False)[0])
        self.assertOk(qa.write(NS_MEM, 41000, small)[0])
        self.assertOk(qa.write(NS_FILE, 100, small)[0])

        # 1. a command capsule cut inside its header, on a queue that did ICReq only
        c = self.conn()
        c.icreq()
        c.send_raw(c.cmd_pdu(nt.sqe(nt.ADMIN_KEEP_ALIVE, 1))[:40])
        c.close()
        # 2. an in-capsule write cut inside its data (another I/O queue of controller a)
        q2 = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, a.hostid, qid=2,
                           cntlid=a.cntlid)
        cid = q2.alloc_cid()
        pdu = q2.cmd_pdu(q2.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 41000, 8, 4096, nt.SGL_INCAPSULE),
                         b"\xee" * 4096)
        q2.send_raw(pdu[:72 + 2000])
        q2.close()
        # 3. an R2T write cut inside its H2CData (file namespace)
        q3 = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, a.hostid, qid=3,
                           cntlid=a.cntlid, hdgst=True, ddgst=True)
        cid = q3.alloc_cid()
        cmd = q3.submit(q3.rw_sqe(nt.IO_WRITE, cid, NS_FILE, 100, 8, 4096),
                        data_out=b"\xdd" * 4096, auto_h2c=False)
        while not cmd.r2ts:
            q3.process_one()
        h2c = q3.h2c_pdu(cid, cmd.r2ts[0][1], 0, b"\xdd" * 4096, True)
        q3.send_raw(h2c[:28 + 1000])
        q3.close()
        # 4. a second R2T write cut inside the H2CData header
        q4 = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, a.hostid, qid=4,
                           cntlid=a.cntlid)
        cid = q4.alloc_cid()
        cmd = q4.submit(q4.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 40000, MDTS // LBA, MDTS),
                        data_out=b"\xcc" * MDTS, auto_h2c=False)
        while not cmd.r2ts:
            q4.process_one()
        q4.send_raw(q4.h2c_pdu(cid, cmd.r2ts[0][1], 0, b"\xcc" * 65536, False)[:12])
        q4.close()
        # 5. a Connect cut inside its data, on a new admin queue
        c5 = self.conn()
        c5.icreq()
        data = nt.connect_data(nt.fresh_hostid(), 0xFFFF, SUBNQN, HOSTNQN)
        s = nt.fabrics_sqe(nt.FCTYPE_CONNECT, 1, struct.pack("<HHHBxI", 0, 0, 31, 0, 0),
                           len(data), nt.SGL_INCAPSULE)
        c5.send_raw(c5.cmd_pdu(s, data)[:72 + 500])
        c5.close()
        time.sleep(0.3)

        self.assertTrue(self.daemon.alive(), self.daemon.log_text())
        # controller a: its admin queue and first I/O queue are unaffected
        self.assertOk(a.admin.prop_get(nt.REG_CSTS))
        self.assertEqual(qa.read(NS_MEM, 40000, MDTS)[1], big)
        # another controller sees every acknowledged write intact, no partial one
        b = self.ctrl()
        qb = b.connect_io()
        cqe, back = qb.read(NS_MEM, 40000, MDTS)
        self.assertOk(cqe)
        self.assertEqual(back, big)
        self.assertEqual(qb.read(NS_MEM, 41000, 4096)[1], small)
        self.assertEqual(qb.read(NS_FILE, 100, 4096)[1], small)
        # and the queue IDs of the dead connections are free again
        q2 = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, a.hostid, qid=2,
                           cntlid=a.cntlid)
        self._conns.append(q2)
        self.assertOk(q2.write(NS_MEM, 42000, small)[0])
        self.assertEqual(qb.read(NS_MEM, 42000, 4096)[1], small)

    def test_command_then_close(self):
        # The target reads a command and the end of the stream in one go: the response it
        # queued must not outlive the connection (regression: use after free in the
        # reactor's deferred flush list, then a crash).
        for i in range(30):
            c = nt.open_queue(self.daemon.io_port, SUBNQN, HOSTNQN, nt.fresh_hostid())
            spec = struct.pack("<B3xI", 0, nt.REG_CSTS)
            c.send_raw(c.cmd_pdu(nt.fabrics_sqe(nt.FCTYPE_PROPERTY_GET, 100 + i, spec)))
            c.sock.shutdown(socket.SHUT_WR)
            c.close()
        time.sleep(0.2)
        self.assertTrue(self.daemon.alive(), self.daemon.log_text())

    def _overflow(self, sqsize):
        c = self.ctrl()
        q = c.connect_io(sqsize=sqsize)
        cmds = []
        # sqsize + 1 commands may be outstanding: each gets its R2T and waits for data
        for i in range(sqsize + 1):
            cid = q.alloc_cid()
            cmds.append(q.submit(q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, i * 8, 8, 4096),
                                 data_out=b"\x42" * 4096, auto_h2c=False))
        deadline = time.monotonic() + 5
        while any(not cmd.r2ts for cmd in cmds) and time.monotonic() < deadline:
            q.process_one(5)
        self.assertTrue(all(cmd.r2ts for cmd in cmds), "an R2T for every command")
        # one more is an SQ overflow: the host broke the protocol, the connection ends
        cid = q.alloc_cid()
        q.submit(q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 0, 8, 4096), data_out=b"\0" * 4096,
                 auto_h2c=False)
        self.assertTerm(q)
        c.close()

    def test_sq_overflow(self):
        for sqsize in (15, 127):
            with self.subTest(sqsize=sqsize):
                self._overflow(sqsize)

    def test_sq_full_is_not_overflow(self):
        c = self.ctrl()
        q = c.connect_io(sqsize=15)
        cmds = []
        for i in range(16):
            cid = q.alloc_cid()
            cmds.append(q.submit(q.rw_sqe(nt.IO_WRITE, cid, NS_MEM, 50000 + i * 8, 8, 4096),
                                 data_out=nt.pattern(4096, 1000 + i)))
        for cmd in cmds:
            self.assertOk(q.wait(cmd))
        for i in range(16):
            self.assertEqual(q.read(NS_MEM, 50000 + i * 8, 4096)[1], nt.pattern(4096, 1000 + i))


# ------------------------------------------------------------------------------------------


class KeepAliveTests(DaemonTestCase):
    KATO_MS = 1000

    def test_silence_ends_the_controller(self):
        c = self.ctrl(kato=self.KATO_MS)
        q = c.connect_io()
        self.assertOk(c.admin.prop_get(nt.REG_CSTS))
        last = time.monotonic()
        took = c.admin.wait_closed(6.0)
        self.assertIsNotNone(took, "the target kept a silent controller beyond 6 s")
        elapsed = time.monotonic() - last
        self.assertGreaterEqual(elapsed, self.KATO_MS / 1000 * 0.9,
                                "closed before KATO expired")
        self.assertLessEqual(elapsed, 3.5, "keep-alive timeout took %.2f s" % elapsed)
        self.assertIsNotNone(q.wait_closed(3.0), "the I/O queue goes with the controller")
        # the controller is gone: its ID no longer admits an I/O queue
        n = self.conn()
        n.icreq()
        cqe = n.connect(SUBNQN, HOSTNQN, c.hostid, qid=1, sqsize=127, cntlid=c.cntlid)
        self.assertStatus(cqe, nt.SC_CONNECT_INVALID_PARAM, dnr=True,
                          msg="I/O queue Connect to an expired controller")

    def test_keep_alive_commands_keep_it(self):
        c = self.ctrl(kato=self.KATO_MS)
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            self.assertOk(c.admin.keep_alive(), "Keep Alive")
            time.sleep(0.3)
        self.assertTrue(c.admin.is_open())
        csts = c.admin.prop_get(nt.REG_CSTS)
        self.assertOk(csts)
        self.assertEqual(csts.dw0 & (nt.CSTS_RDY | nt.CSTS_CFS), nt.CSTS_RDY)

    def test_io_traffic_keeps_it(self):
        c = self.ctrl(kato=self.KATO_MS)
        q = c.connect_io()
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            self.assertOk(q.read(NS_MEM, 0, 4096)[0], "read")
            time.sleep(0.3)
        self.assertTrue(c.admin.is_open())
        csts = c.admin.prop_get(nt.REG_CSTS)
        self.assertOk(csts, "the admin queue, silent for 3 s, is still there")
        self.assertEqual(csts.dw0 & (nt.CSTS_RDY | nt.CSTS_CFS), nt.CSTS_RDY)


# ------------------------------------------------------------------------------------------


class ConfigTests(unittest.TestCase):
    """A bad configuration: exit status 2 and a message naming the JSON path at fault."""

    def run_daemon(self, text):
        tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
        try:
            path = os.path.join(tmp, "nvmf.json")
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([os.path.join(BUILD_DIR, "nvmf-tgt"), "-c", path],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=STOP_TIMEOUT)
            return p.returncode, p.stderr.decode(errors="replace")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_missing_backing_file(self):
        tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
        try:
            cfg = make_config(tmp, free_port(), free_port())
            cfg["subsystems"][0]["namespaces"] = [
                {"nsid": 1, "enable": 1,
                 "device": {"path": os.path.join(tmp, "does-not-exist.img")}}]
            rc, err = self.run_daemon(json.dumps(cfg))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(rc, 2, err)
        self.assertIn("subsystems[0].namespaces[0].device.path", err)

    def test_cpumask_unavailable_cpu(self):
        allowed = os.sched_getaffinity(0)
        off = next((c for c in range(1024) if c not in allowed), None)
        if off is None:
            self.skipTest("this process may run on every CPU a mask can name")
        tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
        try:
            cfg = make_config(tmp, free_port(), free_port())
            cfg["nvmf"] = {"cpumask": "[%d]" % off}
            rc, err = self.run_daemon(json.dumps(cfg))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(rc, 2, err)
        self.assertIn("nvmf.cpumask: CPU %d is not available" % off, err)

    def test_vfio_user_bad_kas(self):
        tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
        try:
            cfg = make_config(tmp, free_port(), free_port())
            cfg["ports"].append({"portid": 3, "addr": {"trtype": "vfio-user",
                                                       "traddr": os.path.join(tmp, "v.sock")},
                                 "subsystems": [SUBNQN], "vfio_user": {"kas": 70000}})
            rc, err = self.run_daemon(json.dumps(cfg))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(rc, 2, err)
        self.assertIn("ports[2].vfio_user.kas", err)

    def test_bad_ana_state(self):
        tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
        try:
            cfg = make_config(tmp, free_port(), free_port())
            cfg["ports"][1]["ana_groups"].append({"grpid": 2, "ana": {"state": "great"}})
            rc, err = self.run_daemon(json.dumps(cfg))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(rc, 2, err)
        self.assertIn('ports[1].ana_groups[1].ana.state: unknown ANA state "great"', err)

    def test_bad_ana_grpid(self):
        for where, edit in (
                ("subsystems[0].namespaces[1].ana_grpid: 129 is out of range [1, 128]",
                 lambda c: c["subsystems"][0]["namespaces"][1].update(ana_grpid=129)),
                ("ports[0].ana_groups[0].grpid: 0 is out of range [1, 128]",
                 lambda c: c["ports"][0]["ana_groups"][0].update(grpid=0)),
                ("ports[0].enabled: ", lambda c: c["ports"][0].update(enabled="later"))):
            with self.subTest(where=where):
                tmp = tempfile.mkdtemp(prefix="nvmf-it-cfg-")
                try:
                    cfg = make_config(tmp, free_port(), free_port())
                    edit(cfg)
                    rc, err = self.run_daemon(json.dumps(cfg))
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                self.assertEqual(rc, 2, err)
                self.assertIn(where, err)

    def test_json_syntax_error(self):
        rc, err = self.run_daemon('{"subsystems": [ {"nqn": "nqn.2024-01.x:y",, } ]\n')
        self.assertEqual(rc, 2, err)
        self.assertTrue(err.strip(), "an explanation on stderr")


class ShutdownTests(unittest.TestCase):
    def test_sigterm_with_io_in_flight(self):
        d = Daemon().start()
        try:
            stopping = threading.Event()
            done = [0, 0, 0]
            errors = []

            def worker(i):
                ctrl = None
                try:
                    ctrl = nt.Controller(d.io_port, SUBNQN, HOSTNQN, nt.fresh_hostid())
                    q = ctrl.connect_io()
                    nsid = NS_FILE if i % 2 else NS_MEM
                    data = nt.pattern(MDTS, 1100 + i)
                    # until the daemon goes away under it
                    while True:
                        # several writes and reads outstanding at once
                        cmds = []
                        for k in range(4):
                            cid = q.alloc_cid()
                            slba = (i * 8 + k) * 256
                            cmds.append(q.submit(q.rw_sqe(nt.IO_WRITE, cid, nsid, slba, 256,
                                                          MDTS), data_out=data))
                            cid = q.alloc_cid()
                            cmds.append(q.submit(q.rw_sqe(nt.IO_READ, cid, nsid, slba, 256,
                                                          MDTS), read_len=MDTS))
                        for cmd in cmds:
                            q.wait(cmd)
                        done[i] += 1
                except (nt.ConnectionClosed, nt.TermReq, OSError) as e:
                    if not stopping.is_set():
                        errors.append(repr(e))
                except BaseException as e:  # noqa: B902 - reported by the test
                    errors.append(repr(e))
                finally:
                    if ctrl:
                        ctrl.close()

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            while not all(n > 1 for n in done) and not errors and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(all(n > 1 for n in done), "I/O is running: %r %r" % (done,
                                                                                 errors))
            stopping.set()
            rc, elapsed = d.stop()
            for t in threads:
                t.join(15)
            self.assertEqual(errors, [])
            self.assertEqual(rc, 0, "exit status after SIGTERM with I/O in flight\n" +
                             d.log_text())
            self.assertLess(elapsed, STOP_TIMEOUT)
        finally:
            if d.alive():
                d.proc.kill()
                d.proc.wait()
            d.cleanup()


# ------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------
# The control socket (JSON-RPC 2.0) and fault injection


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__("%d: %s" % (code, message))
        self.code = code
        self.message = message


def rpc_raw(path, payload, timeout=20.0, half_close=False):
    """Send @payload (bytes) on a new connection; return the first response line parsed
    (None if the server closed without one). @half_close: shut our side down after it."""
    deadline = time.monotonic() + 5.0
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    s.settimeout(timeout)
    try:
        s.sendall(payload)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return json.loads(buf.split(b"\n")[0]) if buf else None
    finally:
        s.close()


def rpc(path, method, params=None, timeout=20.0):
    req = {"jsonrpc": "2.0", "method": method, "id": 7}
    if params is not None:
        req["params"] = params
    resp = rpc_raw(path, json.dumps(req).encode(), timeout)
    if resp.get("id") != 7 or resp.get("jsonrpc") != "2.0":
        raise AssertionError("bad JSON-RPC response %r" % resp)
    if "error" in resp:
        raise RpcError(resp["error"]["code"], resp["error"]["message"])
    return resp["result"]


AER = 0x0C
NS_ATTR_CHANGED_DW0 = 0x00040002  # notice, NS attribute changed, log page 04h
SC_INVALID_NS = 0x0B


class RpcTests(DaemonTestCase):
    """nvmf-tgt -r SOCKET: listing and changing the running target."""

    def rpc(self, method, params=None, timeout=20.0):
        return rpc(self.daemon.rpc_path, method, params, timeout)

    def assertRpcError(self, method, params, code, fragment):
        with self.assertRaises(RpcError) as cm:
            self.rpc(method, params)
        self.assertEqual(cm.exception.code, code, cm.exception.message)
        self.assertIn(fragment, cm.exception.message)

    def test_socket_mode(self):
        st = os.stat(self.daemon.rpc_path)
        self.assertEqual(st.st_mode & 0o777, 0o600)

    def test_protocol_errors(self):
        path = self.daemon.rpc_path
        r = rpc_raw(path, b'{"jsonrpc": "2.0", "method": ', half_close=True)  # cut short
        self.assertIsNone(r)
        r = rpc_raw(path, b'{"jsonrpc": "2.0", ]')
        self.assertEqual(r["error"]["code"], -32700)
        r = rpc_raw(path, b'{"method": "get_ports", "id": 1}')
        self.assertEqual(r["error"]["code"], -32600)
        self.assertIn("jsonrpc", r["error"]["message"])
        r = rpc_raw(path, b'{"jsonrpc": "2.0", "method": "nope", "id": "x"}')
        self.assertEqual((r["error"]["code"], r["id"]), (-32601, "x"))
        r = rpc_raw(path, b'[{"jsonrpc": "2.0", "method": "get_ports", "id": 1},'
                          b' {"jsonrpc": "2.0", "method": "get_target"},'
                          b' {"jsonrpc": "2.0", "method": "get_target", "id": 2}]')
        self.assertEqual([x["id"] for x in r], [1, 2])  # the notification gets no answer
        self.assertRpcError("add_namespace", {"nqn": SUBNQN, "nsid": 9, "backnd": "mem"},
                            -32602, "params.backnd: unknown parameter")
        self.assertRpcError("add_namespace", {"nqn": SUBNQN}, -32602, "params.nsid: missing")
        self.assertRpcError("add_namespace", {"nqn": SUBNQN, "nsid": "x"}, -32602,
                            "params.nsid")
        self.assertRpcError("add_namespace", {"nqn": "nqn.nope", "nsid": 3}, -32602,
                            "params.nqn: no subsystem")
        self.assertRpcError("add_namespace", {"nqn": SUBNQN, "nsid": NS_MEM, "backend": "mem",
                                              "size": 1 << 20}, -32602, "exists")
        self.assertRpcError("add_fault", {"action": "explode"}, -32602, "params.action")
        self.assertRpcError("add_fault", {"action": "delay"}, -32602, "params.delay_ms: missing")
        self.assertRpcError("add_fault", {"action": "status", "status": 0}, -32602,
                            "params.status")
        self.assertRpcError("add_fault", {"action": "hold", "probability": 2}, -32602,
                            "params.probability")

    def test_nothing_half_applied(self):
        ports = self.rpc("get_ports")
        port = free_port()
        self.assertRpcError("add_port", {"portid": 50, "traddr": "127.0.0.1",
                                         "trsvcid": str(port),
                                         "subsystems": [SUBNQN, "nqn.missing"]},
                            -32602, "params.subsystems[1]")
        self.assertEqual(self.rpc("get_ports"), ports)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        self.assertEqual(len(self.rpc("get_faults")), 0)
        self.assertEqual(self.rpc("get_subsystems", {"nqn": SUBNQN})[0]["namespaces"][0]["nsid"],
                         NS_MEM)

    def _aen(self, admin):
        if not getattr(admin, "aen_enabled", False):
            # Asynchronous Event Configuration: Namespace Attribute Notices (bit 8)
            self.assertOk(admin.set_features(0x0B, 1 << 8), "Asynchronous Event Configuration")
            admin.aen_enabled = True
        cmd = admin.submit(nt.sqe(AER, admin.alloc_cid()))
        return cmd

    def _changed_ns(self, admin):
        cqe, data = admin.get_log_page(0x04, 4096)
        self.assertOk(cqe, "changed namespace list")
        ids = [x for x in struct.unpack("<1024I", data) if x]
        return ids

    def test_null_reads_zeroes(self):
        # A null read is sent from a shared zero region, not the command's slot buffer: a
        # slot that just carried other data must not leak it, with or without data digests,
        # and the next read of real data from that slot must not come back as zeroes.
        self.rpc("add_namespace", {"nqn": SUBNQN, "nsid": 9, "backend": "null",
                                   "size": 4 << 20})
        try:
            for dg in (False, True):
                with self.subTest(digests=dg):
                    c = self.ctrl(hdgst=dg, ddgst=dg)
                    for cattr in (0, 1 << 2):  # and with SQ flow control off (C2H SUCCESS)
                        q = c.connect_io(cattr=cattr)
                        data = nt.pattern(8192, 41 + cattr)
                        self.assertOk(q.write(NS_MEM, 64, data, in_capsule=False)[0])
                        self.assertOk(q.write(9, 0, data, in_capsule=False)[0])
                        cqe, back = q.read(9, 0, 8192)
                        self.assertOk(cqe, "null read")
                        self.assertEqual(back, bytes(8192), "null read returned non-zero data")
                        cqe, back = q.read(NS_MEM, 64, 8192)
                        self.assertOk(cqe)
                        self.assertEqual(back, data, "mem read after a null read")
        finally:
            self.rpc("remove_namespace", {"nqn": SUBNQN, "nsid": 9})

    def test_namespace_add_resize_remove(self):
        c = self.ctrl()
        q = c.connect_io()
        aer = self._aen(c.admin)
        self.rpc("add_namespace", {"nqn": SUBNQN, "nsid": 7, "backend": "null",
                                   "size": 4 << 20})
        cqe = c.admin.wait(aer, 10.0)
        self.assertOk(cqe, "AER after add_namespace")
        self.assertEqual(cqe.dw0, NS_ATTR_CHANGED_DW0)
        self.assertEqual(self._changed_ns(c.admin), [7])
        cqe, data = c.admin.identify(0, 7)
        self.assertOk(cqe)
        self.assertEqual(nt.parse_id_ns(data)["nsze"], (4 << 20) // LBA)
        cqe, _ = q.read(7, 0, 4096)
        self.assertOk(cqe, "read from the new namespace")
        ns7 = [n for n in self.rpc("get_subsystems", {"nqn": SUBNQN})[0]["namespaces"]
               if n["nsid"] == 7][0]
        self.assertEqual((ns7["backend"], ns7["size"]), ("null", 4 << 20))

        aer = self._aen(c.admin)
        self.assertEqual(self.rpc("resize_namespace", {"nqn": SUBNQN, "nsid": 7,
                                                       "size": 8 << 20}), {"size": 8 << 20})
        self.assertEqual(c.admin.wait(aer, 10.0).dw0, NS_ATTR_CHANGED_DW0)
        self.assertEqual(self._changed_ns(c.admin), [7])
        cqe, data = c.admin.identify(0, 7)
        self.assertEqual(nt.parse_id_ns(data)["nsze"], (8 << 20) // LBA)
        cqe, _ = q.read(7, (6 << 20) // LBA, 4096)
        self.assertOk(cqe, "read past the old end after the resize")
        self.assertRpcError("resize_namespace", {"nqn": SUBNQN, "nsid": NS_MEM, "size": 1 << 20},
                            -32000, "fixed size")

        # file namespace: grows the file, and size 0 re-reads it
        path = os.path.join(self.daemon.tmpdir, "hot.img")
        self.rpc("add_namespace", {"nqn": SUBNQN, "nsid": 8, "path": path, "size": 1 << 20})
        self.assertEqual(os.path.getsize(path), 1 << 20)
        self.rpc("resize_namespace", {"nqn": SUBNQN, "nsid": 8, "size": 2 << 20})
        self.assertEqual(os.path.getsize(path), 2 << 20)
        os.truncate(path, 3 << 20)
        self.assertEqual(self.rpc("resize_namespace", {"nqn": SUBNQN, "nsid": 8}),
                         {"size": 3 << 20})
        data = nt.pattern(8192, 5)
        cqe, _ = q.write(8, ((3 << 20) - 8192) // LBA, data)
        self.assertOk(cqe, "write at the end of the grown file")
        cqe, back = q.read(8, ((3 << 20) - 8192) // LBA, 8192)
        self.assertEqual(back, data)
        self._changed_ns(c.admin)  # unmask the event type again

        aer = self._aen(c.admin)
        self.rpc("remove_namespace", {"nqn": SUBNQN, "nsid": 7})
        self.assertEqual(c.admin.wait(aer, 10.0).dw0, NS_ATTR_CHANGED_DW0)
        self.assertIn(7, self._changed_ns(c.admin))
        cqe, _ = q.read(7, 0, 4096)
        self.assertStatus(cqe, SC_INVALID_NS, dnr=True, msg="read from a removed namespace")
        self.rpc("remove_namespace", {"nqn": SUBNQN, "nsid": 8})
        self.assertRpcError("remove_namespace", {"nqn": SUBNQN, "nsid": 8}, -32602,
                            "no namespace 8")
        self.assertDaemonServes()

    def test_remove_namespace_under_io(self):
        """Commands in flight when the namespace goes finish; later ones get Invalid NS."""
        self.rpc("add_namespace", {"nqn": SUBNQN, "nsid": 9, "backend": "mem",
                                   "size": 8 << 20})
        fid = self.rpc("add_fault", {"action": "delay", "nsid": 9, "delay_ms": 300})["id"]
        c = self.ctrl()
        q = c.connect_io()
        data = nt.pattern(4096, 9)
        # in-capsule data: the writes execute without this (single-threaded) client's help
        pending = [q.submit(q.rw_sqe(0x01, q.alloc_cid(), 9, i * 8, 8, 4096, nt.SGL_INCAPSULE),
                            icd=data) for i in range(8)]
        deadline = time.monotonic() + 10
        while [f["hits"] for f in self.rpc("get_faults") if f["id"] == fid] != [8]:
            self.assertLess(time.monotonic(), deadline, "the writes never reached the target")
            time.sleep(0.01)
        self.rpc("remove_namespace", {"nqn": SUBNQN, "nsid": 9})
        for cmd in pending:
            self.assertOk(q.wait(cmd, 10.0), "write in flight during the removal")
        cqe, _ = q.read(9, 0, 4096)
        self.assertStatus(cqe, SC_INVALID_NS)
        self.rpc("remove_fault", {"id": fid})

    def test_subsystem_port_host_lifecycle(self):
        nqn = "nqn.2024-01.io.nvmf.test:hot"
        host = "nqn.2024-01.io.nvmf.test:hot-host"
        port = free_port()
        self.rpc("add_subsystem", {"nqn": nqn, "serial": "hot1", "allow_any_host": False})
        self.rpc("add_namespace", {"nqn": nqn, "nsid": 1, "backend": "mem", "size": 1 << 20})
        self.rpc("add_port", {"portid": 60, "traddr": "127.0.0.1", "trsvcid": str(port),
                              "subsystems": [nqn]})
        self.assertRpcError("add_port", {"portid": 60, "traddr": "127.0.0.1",
                                         "trsvcid": str(free_port())}, -32602, "exists")
        with self.assertRaises(nt.ProtocolError):
            nt.Controller(port, nqn, host, nt.fresh_hostid())
        self.rpc("add_host", {"nqn": nqn, "host": host})
        c = nt.Controller(port, nqn, host, nt.fresh_hostid())
        self._ctrls.append(c)
        ctrls = self.rpc("get_controllers", {"nqn": nqn})
        self.assertEqual(len(ctrls), 1)
        self.assertEqual((ctrls[0]["cntlid"], ctrls[0]["hostnqn"], ctrls[0]["state"],
                          ctrls[0]["portid"]), (c.cntlid, host, "live", 60))
        # removing the port disconnects its controllers and stops listening
        self.rpc("remove_port", {"portid": 60})
        self.assertIsNotNone(c.admin.wait_closed(10.0), "controller of a removed port")
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        self.assertFalse(any(p["portid"] == 60 for p in self.rpc("get_ports")))
        # export it on the main port, then remove the subsystem: its controller goes
        self.rpc("add_port_subsystem", {"portid": 1, "nqn": nqn})
        c2 = nt.Controller(self.daemon.io_port, nqn, host, nt.fresh_hostid())
        self._ctrls.append(c2)
        self.rpc("remove_host", {"nqn": nqn, "host": host})
        self.assertRpcError("remove_host", {"nqn": nqn, "host": host}, -32602,
                            "not in the allowed hosts")
        self.rpc("remove_subsystem", {"nqn": nqn})
        self.assertIsNotNone(c2.admin.wait_closed(10.0), "controller of a removed subsystem")
        self.assertFalse(any(s["nqn"] == nqn for s in self.rpc("get_subsystems")))
        self.assertDaemonServes()

    def test_controllers_keep_alive_and_fail(self):
        c = self.ctrl(kato=30000)
        c.connect_io()
        mine = [x for x in self.rpc("get_controllers", {"nqn": SUBNQN})
                if x["cntlid"] == c.cntlid][0]
        self.assertEqual((mine["state"], mine["kato_ms"], mine["io_queues"]),
                         ("live", 30000, 1))
        self.assertIsNone(mine["last_keep_alive_ms"])
        for _ in range(3):
            self.assertOk(c.admin.keep_alive())
        mine = [x for x in self.rpc("get_controllers", {"nqn": SUBNQN})
                if x["cntlid"] == c.cntlid][0]
        self.assertEqual(mine["keep_alive_count"], 3)
        self.rpc("fail_controller", {"nqn": SUBNQN, "cntlid": c.cntlid})
        self.assertIsNotNone(c.admin.wait_closed(10.0), "admin queue of a failed controller")
        self.assertIsNotNone(c.io[0].wait_closed(10.0), "I/O queue of a failed controller")
        self.assertRpcError("fail_controller", {"nqn": SUBNQN, "cntlid": 65000}, -32602,
                            "no live controller")
        self.assertDaemonServes()

    def test_save_config_round_trip(self):
        self.rpc("add_namespace", {"nqn": SUBNQN, "nsid": 11, "backend": "null",
                                   "size": 2 << 20, "block_size": 4096})
        try:
            out = os.path.join(self.daemon.tmpdir, "saved.json")
            cfg = self.rpc("save_config", {"path": out})
            with open(out) as f:
                self.assertEqual(json.load(f), cfg)
            self.assertEqual({s["nqn"] for s in cfg["subsystems"]}, {SUBNQN, RESTRICTED_NQN})
            # a second daemon loads it on other ports and lists the same subsystems
            d2 = Daemon()
            for p in cfg["ports"]:
                p["addr"]["trsvcid"] = str(d2.io_port if p["portid"] == 1 else d2.disc_port)
            d2.config = cfg
            d2.start()
            try:
                a = self.rpc("get_subsystems")
                b = rpc(d2.rpc_path, "get_subsystems")
                self.assertEqual(a, b)
                c = nt.Controller(d2.io_port, SUBNQN, HOSTNQN, nt.fresh_hostid())
                cqe, data = c.admin.identify(0, 11)
                self.assertEqual(nt.parse_id_ns(data)["nsze"], (2 << 20) // 4096)
                c.close()
            finally:
                rc, _ = d2.stop()
                d2.cleanup()
                self.assertEqual(rc, 0)
        finally:
            self.rpc("remove_namespace", {"nqn": SUBNQN, "nsid": 11})

    def test_cli_client(self):
        exe = os.path.join(BUILD_DIR, "nvmf")
        r = subprocess.run([exe, "rpc", "-s", self.daemon.rpc_path, "get_target"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(json.loads(r.stdout)["subsystems"], 2)
        r = subprocess.run([exe, "rpc", "-s", self.daemon.rpc_path, "remove_namespace",
                            json.dumps({"nqn": SUBNQN, "nsid": 99})],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("params.nsid", r.stderr)
        r = subprocess.run([exe, "rpc", "-s", self.daemon.rpc_path + ".none", "get_target"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        r = subprocess.run([exe, "rpc", "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        for word in ("add_fault", "no_keep_alive", "corrupt_ddgst", "save_config"):
            self.assertIn(word, r.stdout)


class FaultTests(DaemonTestCase):
    """Fault injection through the control socket, observed by a raw NVMe/TCP host."""

    def rpc(self, method, params=None):
        return rpc(self.daemon.rpc_path, method, params)

    def tearDown(self):
        self.rpc("remove_fault")
        super().tearDown()

    def test_status_count_and_list(self):
        fid = self.rpc("add_fault", {"action": "status", "nqn": SUBNQN, "queue": "io",
                                     "opcode": 0x02, "nsid": NS_MEM, "count": 2,
                                     "status": 0x4281})["id"]
        q = self.ctrl().connect_io()
        for i in range(3):
            cqe, _ = q.read(NS_MEM, 0, 4096)
            if i < 2:
                self.assertStatus(cqe, 0x281, dnr=True, msg="read %d" % i)
            else:
                self.assertOk(cqe, "read after the count ran out")
        cqe, _ = q.read(NS_FILE, 0, 4096)
        self.assertOk(cqe, "other namespace")
        f = [x for x in self.rpc("get_faults") if x["id"] == fid][0]
        self.assertEqual((f["action"], f["hits"], f["count"]), ("status", 2, 2))

    def test_delay(self):
        self.rpc("add_fault", {"action": "delay", "queue": "io", "delay_ms": 300})
        q = self.ctrl().connect_io()
        t0 = time.monotonic()
        cqe, _ = q.read(NS_MEM, 0, 4096)
        self.assertOk(cqe)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)

    def test_hold_and_release(self):
        fid = self.rpc("add_fault", {"action": "hold", "queue": "io", "opcode": 0x01})["id"]
        q = self.ctrl().connect_io()
        data = nt.pattern(4096, 3)
        cmd = q.submit(q.rw_sqe(0x01, q.alloc_cid(), NS_MEM, 100, 8, 4096), data_out=data)
        with self.assertRaises(socket.timeout):
            q.wait(cmd, 0.5)
        self.assertEqual([x["held"] for x in self.rpc("get_faults") if x["id"] == fid], [1])
        self.assertEqual(self.rpc("release_faults", {"id": fid}), {"released": 1})
        self.assertOk(q.wait(cmd, 10.0))
        self.rpc("remove_fault", {"id": fid})
        cqe, back = q.read(NS_MEM, 100, 4096)
        self.assertEqual(back, data)

    def test_hold_does_not_block_disconnect(self):
        self.rpc("add_fault", {"action": "hold", "queue": "io"})
        c = self.ctrl()
        q = c.connect_io()
        q.submit(q.rw_sqe(0x02, q.alloc_cid(), NS_MEM, 0, 8, 4096), read_len=4096)
        time.sleep(0.2)
        c.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not [x for x in self.rpc("get_controllers", {"nqn": SUBNQN})
                    if x["cntlid"] == c.cntlid]:
                break
            time.sleep(0.05)
        else:
            self.fail("controller with a held command never went away")
        self.rpc("remove_fault")
        self.assertDaemonServes()

    def test_drop(self):
        self.rpc("add_fault", {"action": "drop", "queue": "io", "opcode": 0x02, "count": 1})
        q = self.ctrl().connect_io()
        cmd = q.submit(q.rw_sqe(0x02, q.alloc_cid(), NS_MEM, 0, 8, 4096), read_len=4096)
        with self.assertRaises(socket.timeout):
            q.wait(cmd, 1.0)
        cqe, _ = q.read(NS_MEM, 0, 4096)
        self.assertOk(cqe, "the queue goes on after a dropped response")

    def test_disconnect_after(self):
        self.rpc("add_fault", {"action": "disconnect", "queue": "io", "after": 2, "count": 1})
        c = self.ctrl()
        q = c.connect_io()
        for _ in range(2):
            self.assertOk(q.read(NS_MEM, 0, 4096)[0])
        q.submit(q.rw_sqe(0x02, q.alloc_cid(), NS_MEM, 0, 8, 4096), read_len=4096)
        self.assertIsNotNone(q.wait_closed(10.0), "connection closed on the third command")
        self.assertDaemonServes()

    def test_corrupt_digests(self):
        self.rpc("add_fault", {"action": "corrupt_ddgst", "queue": "io", "count": 1})
        q = self.ctrl(hdgst=True, ddgst=True).connect_io()
        with self.assertRaisesRegex(nt.ProtocolError, "bad data digest"):
            q.read(NS_MEM, 0, 4096)
        self.rpc("add_fault", {"action": "corrupt_hdgst", "queue": "io", "count": 1})
        q = self.ctrl(hdgst=True, ddgst=True).connect_io()
        with self.assertRaisesRegex(nt.ProtocolError, "bad header digest"):
            q.read(NS_MEM, 0, 4096)

    def test_no_keep_alive(self):
        self.rpc("add_fault", {"action": "no_keep_alive"})
        c = self.ctrl(kato=30000)
        cmd = c.admin.submit(nt.sqe(0x18, c.admin.alloc_cid()))
        with self.assertRaises(socket.timeout):
            c.admin.wait(cmd, 1.0)
        self.rpc("remove_fault")
        self.assertOk(c.admin.keep_alive(), "keep-alive answered once the rule is gone")
        mine = [x for x in self.rpc("get_controllers", {"nqn": SUBNQN})
                if x["cntlid"] == c.cntlid][0]
        self.assertEqual(mine["keep_alive_count"], 2)



# ------------------------------------------------------------------------------------------
# vfio-user ports: the socket, the control socket's view, protocol errors from a raw client


VFU_VERSION = 1
VFU_HDR = "<HHIII"  # msg_id, command, msg_size, flags, error (vfio-user.rst "Header")


def vfu_version_msg(msg_id=7):
    caps = b'{"capabilities": {"max_msg_fds": 8, "max_data_xfer_size": 1048576}}\0'
    payload = struct.pack("<HH", 0, 1) + caps
    return struct.pack(VFU_HDR, msg_id, VFU_VERSION, 16 + len(payload), 0, 0) + payload


def vfu_recv(sock, timeout=5.0):
    """One message: (header tuple, payload); None if the server closed the connection."""
    sock.settimeout(timeout)
    buf = b""
    while len(buf) < 16:
        chunk = sock.recv(16 - len(buf))
        if not chunk:
            return None
        buf += chunk
    hdr = struct.unpack(VFU_HDR, buf)
    payload = b""
    while len(payload) < hdr[2] - 16:
        chunk = sock.recv(hdr[2] - 16 - len(payload))
        if not chunk:
            return None
        payload += chunk
    return hdr, payload


class VfioUserPortTests(DaemonTestCase):
    """A vfio-user port next to the TCP ones: its socket, get_ports/save_config, discovery
    logs that leave it out, and a raw client whose bad messages end only its connection."""

    @classmethod
    def setUpClass(cls):
        d = Daemon()
        cls.vfu_path = os.path.join(d.tmpdir, "vfu.sock")
        d.config["ports"].append({
            "portid": 3, "addr": {"trtype": "vfio-user", "traddr": cls.vfu_path},
            "subsystems": [SUBNQN], "vfio_user": {"kas": 10, "max_io_queues": 4}})
        cls.daemon = d.start()

    @classmethod
    def tearDownClass(cls):
        d = cls.daemon
        rc, elapsed = d.stop()
        left = os.path.exists(cls.vfu_path)  # before cleanup() removes the directory
        text = d.log_text()
        d.cleanup()
        if rc != 0 or elapsed > STOP_TIMEOUT or left:
            raise AssertionError("nvmf-tgt stop: status %r after %.1f s, socket left: %s\n%s"
                                 % (rc, elapsed, left, text))

    def rpc(self, method, params=None, timeout=20.0):
        return rpc(self.daemon.rpc_path, method, params, timeout)

    def vfu_connect(self, path=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path or self.vfu_path)
        self._conns.append(s)
        return s

    def test_socket_and_get_ports(self):
        self.assertTrue(stat.S_ISSOCK(os.stat(self.vfu_path).st_mode))
        port = next(p for p in self.rpc("get_ports") if p["portid"] == 3)
        self.assertEqual(port["addr"]["trtype"], "vfio-user")
        self.assertEqual(port["addr"]["traddr"], self.vfu_path)
        self.assertEqual(port["vfio_user"]["kas"], 10)
        self.assertEqual(port["vfio_user"]["max_io_queues"], 4)
        cfg = self.rpc("save_config")
        saved = next(p for p in cfg["ports"] if p["portid"] == 3)
        self.assertEqual(saved["vfio_user"], port["vfio_user"])
        self.assertEqual(saved["subsystems"], [SUBNQN])

    def test_not_in_discovery_log(self):
        log = BasicTests._discovery_log(self, self.daemon.io_port, HOSTNQN)
        self.assertNotIn(3, [e["portid"] for e in log["entries"]])
        self.assertIn(1, [e["portid"] for e in log["entries"]])

    def test_version_then_bad_message(self):
        s = self.vfu_connect()
        s.sendall(vfu_version_msg(msg_id=7))
        hdr, payload = vfu_recv(s)
        msg_id, cmd, size, flags, err = hdr
        self.assertEqual((msg_id, cmd, flags & 0xF, err), (7, VFU_VERSION, 1, 0))
        major, minor = struct.unpack_from("<HH", payload)
        self.assertEqual((major, minor), (0, 1))
        caps = json.loads(payload[4:].rstrip(b"\0"))
        self.assertIn("capabilities", caps)
        # a header whose size cannot hold itself: the server ends this client only
        s.sendall(struct.pack(VFU_HDR, 8, 4, 4, 0, 0))
        self.assertIsNone(vfu_recv(s), "connection closed after msg_size 4")
        # the port serves the next client, and the TCP side never noticed
        s2 = self.vfu_connect()
        s2.sendall(vfu_version_msg(msg_id=9))
        hdr, _ = vfu_recv(s2)
        self.assertEqual((hdr[0], hdr[1], hdr[4]), (9, VFU_VERSION, 0))
        self.assertDaemonServes()

    def test_command_before_version(self):
        s = self.vfu_connect()
        # DEVICE_GET_INFO first: the protocol starts with VERSION
        s.sendall(struct.pack(VFU_HDR, 1, 4, 32, 0, 0) + struct.pack("<IIII", 16, 0, 0, 0))
        self.assertIsNone(vfu_recv(s), "connection closed: no VERSION first")
        self.assertDaemonServes()

    def test_disable_enable_port(self):
        s = self.vfu_connect()
        s.sendall(vfu_version_msg(msg_id=3))
        self.assertEqual(vfu_recv(s)[0][4], 0)
        self.assertEqual(self.rpc("disable_port", {"portid": 3}), {"portid": 3, "enabled": False})
        try:
            self.assertIsNone(vfu_recv(s), "the client of a disabled port is ended")
            self.assertFalse(os.path.exists(self.vfu_path), "socket removed")
            self.assertFalse(next(p for p in self.rpc("get_ports") if p["portid"] == 3)["enabled"])
        finally:
            self.assertEqual(self.rpc("enable_port", {"portid": 3}),
                             {"portid": 3, "enabled": True})
        self.assertTrue(stat.S_ISSOCK(os.stat(self.vfu_path).st_mode))
        s2 = self.vfu_connect()
        s2.sendall(vfu_version_msg(msg_id=4))
        hdr, _ = vfu_recv(s2)
        self.assertEqual((hdr[0], hdr[4]), (4, 0), "VERSION on the port enabled again")
        self.assertDaemonServes()

    def test_add_remove_port_rpc(self):
        path = os.path.join(self.daemon.tmpdir, "vfu-rpc.sock")
        self.assertRpcError = RpcTests.assertRpcError.__get__(self)
        self.assertRpcError("add_port", {"portid": 31, "trtype": "vfio-user"}, -32602,
                            "params.traddr")
        self.assertRpcError("add_port", {"portid": 31, "trtype": "vfio-user", "traddr": path,
                                         "vfio_user": {"kas": -1}}, -32602,
                            "params.vfio_user.kas")
        self.assertRpcError("add_port", {"portid": 31, "trtype": "vfio-user", "traddr": path,
                                         "vfio_user": {"keep": 1}}, -32602,
                            "params.vfio_user.keep")
        self.assertRpcError("add_port", {"portid": 31, "trtype": "tcp", "traddr": "127.0.0.1",
                                         "trsvcid": "1", "vfio_user": {}}, -32602,
                            "params.vfio_user")
        self.rpc("add_port", {"portid": 31, "trtype": "vfio-user", "traddr": path,
                              "subsystems": [SUBNQN], "vfio_user": {"kas": 5,
                                                                     "accept_kato": False}})
        try:
            self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
            port = next(p for p in self.rpc("get_ports") if p["portid"] == 31)
            self.assertEqual(port["vfio_user"], {"kas": 5, "accept_kato": False})
            s = self.vfu_connect(path)
            s.sendall(vfu_version_msg())
            self.assertEqual(vfu_recv(s)[0][4], 0)
        finally:
            self.rpc("remove_port", {"portid": 31})
        self.assertFalse(os.path.exists(path), "socket removed with its port")


# ------------------------------------------------------------------------------------------
# ANA (Asymmetric Namespace Access) and many ports


ANA_NQN = "nqn.2024-01.io.nvmf.test:ana"
ANA_CHANGE_DW0 = 0x000C0302  # notice (2), ANA change (03h), log page 0Ch
DISC_CHANGE_DW0 = 0x0070F002  # notice (2), discovery log change (F0h), log page 70h
AEC_NS_ATTR = 1 << 8
AEC_ANA = 1 << 11
AEC_DISC = 1 << 31
LOG_ANA = 0x0C
SC_ANA_PERSISTENT_LOSS = 0x301
SC_ANA_INACCESSIBLE = 0x302
SC_ANA_TRANSITION = 0x303
# the states the configuration gives: {portid: {grpid: state}}
ANA_CONFIG = {1: {1: "optimized", 2: "optimized"}, 2: {1: "optimized", 2: "non-optimized"}}
ANA_STATE = {"optimized": 1, "non-optimized": 2, "inaccessible": 3, "persistent-loss": 4,
             "change": 0xF}


def parse_ana_log(data):
    """ANA log page (NVMe Base 2.0c 5.16.1.12): header, then group descriptors."""
    d = bytes(data)
    chgcnt, ngrps = struct.unpack_from("<QH", d, 0)
    off = 16
    groups = {}
    order = []
    for _ in range(ngrps):
        grpid, nnsids, gchg, state = struct.unpack_from("<IIQB", d, off)
        nsids = list(struct.unpack_from("<%dI" % nnsids, d, off + 32))
        groups[grpid] = {"nnsids": nnsids, "chgcnt": gchg, "state": state, "nsids": nsids}
        order.append(grpid)
        off += 32 + 4 * nnsids
    return {"chgcnt": chgcnt, "ngrps": ngrps, "groups": groups, "order": order, "len": off,
            "rest": d[off:]}


def ana_groups_of(port):
    """get_ports / save_config ana_groups as {grpid: state}; each group listed once."""
    groups = {g["grpid"]: g["ana"]["state"] for g in port["ana_groups"]}
    assert len(groups) == len(port["ana_groups"]), port["ana_groups"]
    return groups


class AnaTests(DaemonTestCase):
    """Two TCP ports (1: the I/O port, 2: the "discovery" port) both export ANA_NQN, whose
    namespace 1 is in ANA group 1 and namespace 2 in group 2; port 3 exports nothing (a
    discovery-only port, whose log lists the other ports). Each test starts from the
    configured states (setUp puts them back through the control socket)."""

    @classmethod
    def setUpClass(cls):
        d = Daemon()
        d.third_port = free_port()
        while d.third_port in (d.io_port, d.disc_port):
            d.third_port = free_port()
        d.config["subsystems"].append({
            "nqn": ANA_NQN, "attr": {"allow_any_host": "1"}, "allowed_hosts": [],
            "namespaces": [
                {"nsid": 1, "enable": 1, "ana_grpid": 1,
                 "device": {"path": "", "nvmf_backend": "mem", "nvmf_size": "4M"}},
                {"nsid": 2, "enable": 1, "ana_grpid": 2,
                 "device": {"path": "", "nvmf_backend": "mem", "nvmf_size": "4M"}},
            ]})
        for p in d.config["ports"]:
            p["subsystems"].append(ANA_NQN)
            p["ana_groups"] = [{"grpid": g, "ana": {"state": st}}
                               for g, st in sorted(ANA_CONFIG[p["portid"]].items())]
        d.config["ports"].append(port_entry(3, d.third_port, []))
        cls.daemon = d.start()

    def rpc(self, method, params=None, timeout=20.0):
        return rpc(self.daemon.rpc_path, method, params, timeout)

    def assertRpcError(self, method, params, code, fragment):
        with self.assertRaises(RpcError) as cm:
            self.rpc(method, params)
        self.assertEqual(cm.exception.code, code, cm.exception.message)
        self.assertIn(fragment, cm.exception.message)

    def setUp(self):
        super().setUp()
        self.chgcnt = {}
        for portid in (1, 2, 3):
            self.rpc("enable_port", {"portid": portid})
        for nsid in (1, 2):
            self.rpc("set_ns_ana_group", {"nqn": ANA_NQN, "nsid": nsid, "grpid": nsid})
        for portid, groups in ANA_CONFIG.items():
            for grpid, state in sorted(groups.items()):
                r = self.rpc("set_ana_state", {"portid": portid, "grpid": grpid,
                                               "state": state})
                self.chgcnt[portid] = r["chgcnt"]

    def port_of(self, portid):
        return {1: self.daemon.io_port, 2: self.daemon.disc_port,
                3: self.daemon.third_port}[portid]

    def actrl(self, portid):
        c = nt.Controller(self.port_of(portid), ANA_NQN, HOSTNQN, nt.fresh_hostid())
        self._ctrls.append(c)
        return c

    def ana_log(self, admin, rgo=False, rae=False, length=4096):
        numd = length // 4 - 1
        cdw10 = LOG_ANA | ((1 if rgo else 0) << 8) | ((1 << 15) if rae else 0) | \
            ((numd & 0xFFFF) << 16)
        cqe, data = admin.admin_data_cmd(nt.ADMIN_GET_LOG_PAGE, length, nsid=0xFFFFFFFF,
                                         cdw10=cdw10, cdw11=numd >> 16)
        self.assertOk(cqe, "Get Log Page ANA")
        return parse_ana_log(data)

    def aer(self, admin, aec):
        self.assertOk(admin.set_features(0x0B, aec), "Asynchronous Event Configuration")
        return admin.submit(nt.sqe(AER, admin.alloc_cid()))

    def id_ns(self, admin, nsid):
        cqe, data = admin.identify(nt.CNS_NS, nsid)
        self.assertOk(cqe, "Identify Namespace %d" % nsid)
        nsze, ncap, nuse = struct.unpack_from("<QQQ", data, 0)
        return {"nsze": nsze, "nuse": nuse, "nmic": data[30],
                "anagrpid": struct.unpack_from("<I", data, 92)[0]}

    def wait_for(self, what, fn, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            self.assertLess(time.monotonic(), deadline, "timed out waiting for " + what)
            time.sleep(0.02)

    def get_port(self, portid):
        return next(p for p in self.rpc("get_ports") if p["portid"] == portid)

    # tests ----------------------------------------------------------------------------------

    def test_identify_fields(self):
        c = self.actrl(1)
        cqe, data = c.admin.identify(nt.CNS_CTRL)
        self.assertOk(cqe)
        cmic = data[76]
        oaes = struct.unpack_from("<I", data, 92)[0]
        anatt, anacap = data[342], data[343]
        anagrpmax, nanagrpid = struct.unpack_from("<II", data, 344)
        # CMIC: more than one port (bit 0), more than one controller (1), ANA reporting (3)
        self.assertEqual(cmic & 0x0B, 0x0B, "CMIC %#x" % cmic)
        self.assertTrue(oaes & (1 << 11), "OAES: ANA Change Notices")
        self.assertEqual(anacap & 0x1F, 0x1F, "ANACAP: all five states reported")
        self.assertEqual(anacap & (1 << 6), 0, "ANACAP: ANAGRPID may change")
        self.assertEqual(anatt, 10)
        self.assertEqual((anagrpmax, nanagrpid), (128, 128))
        for nsid in (1, 2):
            ns = self.id_ns(c.admin, nsid)
            self.assertEqual(ns["anagrpid"], nsid)
            self.assertEqual(ns["nmic"] & 1, 1, "NMIC: shared namespace")
            self.assertEqual(ns["nuse"], ns["nsze"])

    def test_ana_log_through_each_port(self):
        for portid, states in ANA_CONFIG.items():
            c = self.actrl(portid)
            log = self.ana_log(c.admin)
            self.assertEqual(log["chgcnt"], self.chgcnt[portid])
            self.assertEqual(log["ngrps"], 2)
            self.assertEqual(log["order"], [1, 2])
            for grpid in (1, 2):
                g = log["groups"][grpid]
                self.assertEqual(g["state"], ANA_STATE[states[grpid]], "port %d group %d" %
                                 (portid, grpid))
                self.assertEqual(g["nsids"], [grpid])
                self.assertEqual(g["chgcnt"], log["chgcnt"])
            self.assertEqual(log["rest"], bytes(len(log["rest"])), "zeroes past the log")
            # RGO: the same groups and states, no NSIDs
            rgo = self.ana_log(c.admin, rgo=True)
            self.assertEqual(rgo["order"], [1, 2])
            self.assertEqual(rgo["len"], 16 + 2 * 32)
            for grpid in (1, 2):
                self.assertEqual(rgo["groups"][grpid]["nnsids"], 0)
                self.assertEqual(rgo["groups"][grpid]["state"], log["groups"][grpid]["state"])
            c.close()

    def test_set_ana_state_aen_and_io(self):
        a = self.actrl(1)  # the port whose state changes
        b = self.actrl(2)  # the other port
        qa = a.connect_io()
        qb = b.connect_io()
        before_b = self.ana_log(b.admin)
        aer_a = self.aer(a.admin, AEC_ANA)
        aer_b = self.aer(b.admin, AEC_ANA | AEC_NS_ATTR)
        r = self.rpc("set_ana_state", {"portid": 1, "grpid": 2, "state": "inaccessible"})
        self.assertEqual(r, {"portid": 1, "grpid": 2, "state": "inaccessible",
                             "chgcnt": self.chgcnt[1] + 1})
        cqe = a.admin.wait(aer_a, 10.0)
        self.assertOk(cqe, "AER on port 1")
        self.assertEqual(cqe.dw0, ANA_CHANGE_DW0)
        log = self.ana_log(a.admin)
        self.assertEqual(log["chgcnt"], r["chgcnt"])
        self.assertEqual(log["groups"][2]["state"], ANA_STATE["inaccessible"])
        self.assertEqual(log["groups"][1]["state"], ANA_STATE["optimized"])
        self.assertEqual(self.id_ns(a.admin, 2)["nuse"], 0, "NUSE of an inaccessible ns")

        # port 2 heard nothing: its next event is the namespace change raised after this
        self.assertEqual(self.ana_log(b.admin, rae=True), before_b)
        self.rpc("add_namespace", {"nqn": ANA_NQN, "nsid": 9, "backend": "null",
                                   "size": 1 << 20})
        try:
            cqe = b.admin.wait(aer_b, 10.0)
            self.assertEqual(cqe.dw0, NS_ATTR_CHANGED_DW0, "first event on port 2")
        finally:
            self.rpc("remove_namespace", {"nqn": ANA_NQN, "nsid": 9})

        # I/O in the group through port 1: the ANA status, without DNR (nvmet's choice)
        data = nt.pattern(4096, 31)
        for state, sc in (("inaccessible", SC_ANA_INACCESSIBLE),
                          ("persistent-loss", SC_ANA_PERSISTENT_LOSS),
                          ("change", SC_ANA_TRANSITION)):
            self.rpc("set_ana_state", {"portid": 1, "grpid": 2, "state": state})
            cqe, _ = qa.read(2, 0, 4096)
            self.assertStatus(cqe, sc, dnr=False, msg="read in a %s group" % state)
            cqe, _ = qa.write(2, 8, data)
            self.assertStatus(cqe, sc, dnr=False, msg="write in a %s group" % state)
            # group 1 on the same port, and group 2 through port 2, are untouched
            self.assertOk(qa.read(1, 0, 4096)[0], "group 1 through port 1")
            self.assertOk(qb.write(2, 8, data)[0], "group 2 through port 2")
        cqe, back = qb.read(2, 8, 4096)
        self.assertOk(cqe)
        self.assertEqual(back, data)
        self.rpc("set_ana_state", {"portid": 1, "grpid": 2, "state": "non-optimized"})
        cqe, back = qa.read(2, 8, 4096)
        self.assertOk(cqe, "read in a non-optimized group")
        self.assertEqual(back, data)
        groups = ana_groups_of(self.get_port(1))
        self.assertEqual((groups[1], groups[2]), ("optimized", "non-optimized"))

    def test_set_ns_ana_group(self):
        a = self.actrl(1)
        b = self.actrl(2)
        qa = a.connect_io()
        data = nt.pattern(4096, 32)
        self.assertOk(qa.write(1, 16, data)[0])
        aer_a = self.aer(a.admin, AEC_ANA)
        aer_b = self.aer(b.admin, AEC_ANA)
        r = self.rpc("set_ns_ana_group", {"nqn": ANA_NQN, "nsid": 1, "grpid": 2})
        self.assertEqual(r, {"nqn": ANA_NQN, "nsid": 1, "grpid": 2})
        # every controller of the subsystem, on either port
        self.assertEqual(a.admin.wait(aer_a, 10.0).dw0, ANA_CHANGE_DW0)
        self.assertEqual(b.admin.wait(aer_b, 10.0).dw0, ANA_CHANGE_DW0)
        for c, portid in ((a, 1), (b, 2)):
            self.assertEqual(self.id_ns(c.admin, 1)["anagrpid"], 2)
            log = self.ana_log(c.admin)
            self.assertGreater(log["chgcnt"], self.chgcnt[portid])
            self.assertEqual(log["order"], [2], "group 1 holds no namespace now")
            self.assertEqual(log["groups"][2]["nsids"], [1, 2])
        ns1 = [n for n in self.rpc("get_subsystems", {"nqn": ANA_NQN})[0]["namespaces"]
               if n["nsid"] == 1][0]
        self.assertEqual(ns1["anagrpid"], 2)
        # new I/O sees the new group's state; the data stayed
        cqe, back = qa.read(1, 16, 4096)
        self.assertOk(cqe)
        self.assertEqual(back, data)
        self.rpc("set_ana_state", {"portid": 1, "grpid": 2, "state": "inaccessible"})
        self.assertStatus(qa.read(1, 16, 4096)[0], SC_ANA_INACCESSIBLE, dnr=False)
        # a group no port lists is inaccessible (as nvmet), and shows up in get_ports
        self.rpc("set_ns_ana_group", {"nqn": ANA_NQN, "nsid": 1, "grpid": 77})
        self.assertStatus(qa.read(1, 16, 4096)[0], SC_ANA_INACCESSIBLE, dnr=False)
        self.assertIn({"grpid": 77, "ana": {"state": "inaccessible"}},
                      self.get_port(1)["ana_groups"])
        self.rpc("set_ana_state", {"portid": 1, "grpid": 77, "state": "optimized"})
        cqe, back = qa.read(1, 16, 4096)
        self.assertOk(cqe)
        self.assertEqual(back, data)

    def test_disable_enable_port(self):
        a = self.actrl(1)
        qa = a.connect_io()
        b = self.actrl(2)
        qb = b.connect_io()
        d = nt.open_queue(self.daemon.third_port, nt.DISC_NQN, HOSTNQN, nt.fresh_hostid())
        self._conns.append(d)
        self.assertTrue(d.enable() & nt.CSTS_RDY)
        disc_ports = lambda: sorted({e["portid"] for e in BasicTests._discovery_log(
            self, self.daemon.third_port, HOSTNQN)["entries"] if e["subtype"] == 2})
        self.assertEqual(disc_ports(), [1, 2])
        aer_d = self.aer(d, AEC_DISC)

        r = self.rpc("disable_port", {"portid": 1})
        self.assertEqual(r, {"portid": 1, "enabled": False})
        self.assertIsNotNone(a.admin.wait_closed(10.0), "admin queue on the disabled port")
        self.assertIsNotNone(qa.wait_closed(10.0), "I/O queue on the disabled port")
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.daemon.io_port), timeout=1).close()
        cqe = d.wait(aer_d, 10.0)
        self.assertEqual(cqe.dw0, DISC_CHANGE_DW0, "discovery log change on port 3")
        self.assertEqual(disc_ports(), [2], "a disabled port is not listed")
        # the other port serves on
        data = nt.pattern(8192, 33)
        self.assertOk(qb.write(2, 0, data)[0])
        cqe, back = qb.read(2, 0, 8192)
        self.assertOk(cqe)
        self.assertEqual(back, data)
        # its configuration stays
        p1 = self.get_port(1)
        self.assertFalse(p1["enabled"])
        self.assertIn(ANA_NQN, p1["subsystems"])
        groups = ana_groups_of(p1)
        self.assertEqual((groups[1], groups[2]), ("optimized", "optimized"))
        self.assertTrue(self.get_port(2)["enabled"])
        self.wait_for("no controller on port 1", lambda: not [
            x for x in self.rpc("get_controllers") if x["portid"] == 1])
        self.assertEqual(self.rpc("disable_port", {"portid": 1}),
                         {"portid": 1, "enabled": False})
        # ANA changes of a disabled port are kept for when it comes back
        self.rpc("set_ana_state", {"portid": 1, "grpid": 1, "state": "non-optimized"})

        r = self.rpc("enable_port", {"portid": 1})
        self.assertEqual(r, {"portid": 1, "enabled": True})
        self.assertTrue(self.get_port(1)["enabled"])
        self.assertEqual(disc_ports(), [1, 2])
        a2 = self.actrl(1)
        q2 = a2.connect_io()
        cqe, back = q2.read(2, 0, 8192)
        self.assertOk(cqe, "I/O through the port enabled again")
        self.assertEqual(back, data)
        self.assertEqual(self.ana_log(a2.admin)["groups"][1]["state"],
                         ANA_STATE["non-optimized"])
        self.assertEqual(self.rpc("enable_port", {"portid": 1}), {"portid": 1, "enabled": True})

    def test_bad_params(self):
        E = -32602
        for params, frag in (
                ({"grpid": 1, "state": "optimized"}, "params.portid: missing"),
                ({"portid": 99, "grpid": 1, "state": "optimized"}, "params.portid: no port 99"),
                ({"portid": "x", "grpid": 1, "state": "optimized"}, "params.portid"),
                ({"portid": 1, "state": "optimized"}, "params.grpid: missing"),
                ({"portid": 1, "grpid": 0, "state": "optimized"},
                 "params.grpid: 0 is not an ANA group ID"),
                ({"portid": 1, "grpid": 129, "state": "optimized"},
                 "params.grpid: 129 is above 128"),
                ({"portid": 1, "grpid": -1, "state": "optimized"}, "params.grpid: negative"),
                ({"portid": 1, "grpid": [2], "state": "optimized"},
                 "params.grpid: not an integer"),
                ({"portid": 1, "grpid": 1}, "params.state: missing"),
                ({"portid": 1, "grpid": 1, "state": 1}, "params.state: not a string"),
                ({"portid": 1, "grpid": 1, "state": "great"}, "params.state: \"great\""),
                ({"portid": 1, "grpid": 1, "state": "Optimized"}, "params.state"),
                ({"portid": 1, "grpid": 1, "state": "unknown"}, "params.state"),
                ({"portid": 1, "grpid": 1, "state": "optimized", "x": 1},
                 "params.x: unknown parameter")):
            with self.subTest(params=params):
                self.assertRpcError("set_ana_state", params, E, frag)
        for params, frag in (
                ({"nsid": 1, "grpid": 2}, "params.nqn: missing"),
                ({"nqn": "nqn.nope", "nsid": 1, "grpid": 2}, "params.nqn: no subsystem"),
                ({"nqn": ANA_NQN, "grpid": 2}, "params.nsid: missing"),
                ({"nqn": ANA_NQN, "nsid": 99, "grpid": 2}, "params.nsid: no namespace 99"),
                ({"nqn": ANA_NQN, "nsid": 1}, "params.grpid: missing"),
                ({"nqn": ANA_NQN, "nsid": 1, "grpid": 200}, "params.grpid: 200 is above 128"),
                ({"nqn": ANA_NQN, "nsid": 1, "grpid": "two"}, "params.grpid")):
            with self.subTest(params=params):
                self.assertRpcError("set_ns_ana_group", params, E, frag)
        for method in ("disable_port", "enable_port"):
            self.assertRpcError(method, {}, E, "params.portid: missing")
            self.assertRpcError(method, {"portid": 77}, E, "params.portid: no port 77")
            self.assertRpcError(method, {"portid": True}, E, "params.portid")
            self.assertRpcError(method, {"portid": 1, "now": 1}, E, "params.now")
        # nothing changed
        c = self.actrl(1)
        log = self.ana_log(c.admin)
        self.assertEqual(log["chgcnt"], self.chgcnt[1])
        self.assertEqual(self.id_ns(c.admin, 1)["anagrpid"], 1)
        self.assertIn("set_ana_state", self.rpc("rpc_get_methods"))

    def test_save_config_round_trip(self):
        self.rpc("set_ana_state", {"portid": 1, "grpid": 2, "state": "non-optimized"})
        self.rpc("set_ana_state", {"portid": 2, "grpid": 2, "state": "persistent-loss"})
        self.rpc("set_ana_state", {"portid": 1, "grpid": 7, "state": "change"})
        self.rpc("set_ns_ana_group", {"nqn": ANA_NQN, "nsid": 2, "grpid": 5})
        self.rpc("set_ana_state", {"portid": 2, "grpid": 5, "state": "optimized"})
        self.rpc("disable_port", {"portid": 3})
        out = os.path.join(self.daemon.tmpdir, "ana-saved.json")
        cfg = self.rpc("save_config", {"path": out})
        with open(out) as f:
            self.assertEqual(json.load(f), cfg)
        saved = {p["portid"]: p for p in cfg["ports"]}
        # (other tests of the class may have set more groups: those are listed too)
        self.assertLessEqual({1: "optimized", 2: "non-optimized", 7: "change",
                              5: "inaccessible"}.items(),  # 5: used by namespace 2, unset
                             ana_groups_of(saved[1]).items())
        self.assertLessEqual({1: "optimized", 2: "persistent-loss", 5: "optimized"}.items(),
                             ana_groups_of(saved[2]).items())
        self.assertEqual(ana_groups_of(saved[3]), {1: "optimized"}, "port 3 exports nothing")
        self.assertEqual([saved[p]["enabled"] for p in (1, 2, 3)], [True, True, False])
        ana = next(s for s in cfg["subsystems"] if s["nqn"] == ANA_NQN)
        self.assertEqual({n["nsid"]: n["ana_grpid"] for n in ana["namespaces"]}, {1: 1, 2: 5})

        d2 = Daemon()
        d2.third_port = free_port()
        ports = {1: d2.io_port, 2: d2.disc_port, 3: d2.third_port}
        for p in cfg["ports"]:
            p["addr"]["trsvcid"] = str(ports[p["portid"]])
        d2.config = cfg
        d2.start()
        try:
            mine = self.rpc("get_ports")
            theirs = rpc(d2.rpc_path, "get_ports")
            for p in mine + theirs:
                del p["addr"]["trsvcid"]
            self.assertEqual(mine, theirs)
            self.assertEqual(self.rpc("get_subsystems"), rpc(d2.rpc_path, "get_subsystems"))
            with self.assertRaises(OSError):  # disabled in the saved file
                socket.create_connection(("127.0.0.1", d2.third_port), timeout=1).close()
            for portid in (1, 2):
                here = self.actrl(portid)
                c = nt.Controller(ports[portid], ANA_NQN, HOSTNQN, nt.fresh_hostid())
                self._ctrls.append(c)
                want = self.ana_log(here.admin)
                got = self.ana_log(c.admin)
                self.assertEqual({g: (v["state"], v["nsids"]) for g, v in got["groups"].items()},
                                 {g: (v["state"], v["nsids"]) for g, v in want["groups"].items()})
                c.close()
        finally:
            rc, _ = d2.stop()
            d2.cleanup()
            self.assertEqual(rc, 0)


def run_tests(argv, module):
    """Run @module's tests as the integration runner does: `--build DIR` sets
    module.BUILD_DIR, the rest goes to unittest; prints "integration: N passed, M failed".
    Returns the exit status."""
    args = list(argv[1:])
    if "--build" in args:
        i = args.index("--build")
        module.BUILD_DIR = args[i + 1]
        del args[i:i + 2]
    module.BUILD_DIR = os.path.abspath(module.BUILD_DIR)
    if not os.access(os.path.join(module.BUILD_DIR, "nvmf-tgt"), os.X_OK):
        print("integration: %s/nvmf-tgt not found" % module.BUILD_DIR, file=sys.stderr)
        print("integration: 0 passed, 1 failed")
        return 1
    prog = unittest.main(module=module, argv=[argv[0]] + args, exit=False, verbosity=2)
    r = prog.result
    # errors of class/module fixtures (daemon start or stop) are not tests of their own
    test_errors = [t for t, _ in r.errors if isinstance(t, unittest.TestCase)]
    failed_tests = {id(t) for t, _ in r.failures} | {id(t) for t in test_errors}
    passed = r.testsRun - len(failed_tests) - len(r.skipped)
    failed = len(failed_tests) + (len(r.errors) - len(test_errors))
    print("integration: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


def main(argv):
    return run_tests(argv, sys.modules[__name__])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
