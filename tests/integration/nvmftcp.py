# SPDX-License-Identifier: MIT
"""A small NVMe/TCP host for integration tests (Python 3 standard library only).

It speaks just enough NVMe/TCP 1.0c and NVMe over Fabrics to drive the real nvmf-tgt
daemon: ICReq/ICResp with optional header and data digests, Command Capsules with
in-capsule data, R2T + H2CData for larger writes, C2HData for reads, CapsuleResp, and
C2HTermReq parsing. It also sends raw bytes, so tests can build malformed PDUs.

Digests are CRC32C computed by ISA-L (crc32_iscsi from libisal.so.2, the library the
target itself uses) through ctypes: no CRC table or loop is written here.

Wire formats follow include/nvmf/spec.h (NVMe Base 2.0c, NVMe/TCP Transport 1.0c); every
struct layout below names the figure it comes from.
"""

import ctypes
import ctypes.util
import os
import random
import select
import socket
import struct
import time

# ------------------------------------------------------------------------------------------
# CRC32C through ISA-L

_ISAL_NAMES = ("libisal.so.2", "/usr/lib/x86_64-linux-gnu/libisal.so.2", "libisal.so")


def _load_isal():
    found = ctypes.util.find_library("isal")
    for name in ((found,) if found else ()) + _ISAL_NAMES:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        fn = lib.crc32_iscsi
        fn.restype = ctypes.c_uint32
        fn.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint32]
        return fn
    raise RuntimeError("libisal (ISA-L) not found: install libisal2 / libisal-dev")


_crc32_iscsi = _load_isal()


def crc32c(data):
    """NVMe/TCP digest of @data (NVMe/TCP 1.0c 3.3.3.2): CRC32C, seed ~0, result inverted.

    crc32_iscsi() neither inverts its seed nor its result, exactly as lib/common/crc32c.c
    uses it.
    """
    data = bytes(data)
    return _crc32_iscsi(data, len(data), 0xFFFFFFFF) ^ 0xFFFFFFFF


# Self check against the CRC32C check value (RFC 3720 B.4 / the Castagnoli "123456789").
assert crc32c(b"123456789") == 0xE3069283, "ISA-L crc32_iscsi does not give CRC32C"

# ------------------------------------------------------------------------------------------
# Constants (include/nvmf/spec.h)

DISC_NQN = "nqn.2014-08.org.nvmexpress.discovery"

# PDU types, NVMe/TCP 1.0c Figure 16
PDU_ICREQ = 0x00
PDU_ICRESP = 0x01
PDU_H2C_TERM = 0x02
PDU_C2H_TERM = 0x03
PDU_CMD = 0x04
PDU_RSP = 0x05
PDU_H2C_DATA = 0x06
PDU_C2H_DATA = 0x07
PDU_R2T = 0x09

F_HDGST = 0x01
F_DDGST = 0x02
F_DATA_LAST = 0x04
F_DATA_SUCCESS = 0x08

# Termination request FES, NVMe/TCP 1.0c Figure 23
FES_INVALID_PDU_HDR = 0x01
FES_PDU_SEQ_ERR = 0x02
FES_HDR_DIGEST_ERR = 0x03
FES_DATA_OUT_OF_RANGE = 0x04
FES_DATA_LIMIT_EXCEEDED = 0x05
FES_UNSUPPORTED_PARAM = 0x06

HLEN = {
    PDU_ICREQ: 128, PDU_ICRESP: 128, PDU_H2C_TERM: 24, PDU_C2H_TERM: 24, PDU_CMD: 72,
    PDU_RSP: 24, PDU_H2C_DATA: 24, PDU_C2H_DATA: 24, PDU_R2T: 24,
}
NO_HDGST_TYPES = (PDU_ICREQ, PDU_ICRESP, PDU_H2C_TERM, PDU_C2H_TERM)

# SGL descriptor identifiers (NVMe Base 2.0c 4.1.8)
SGL_INCAPSULE = 0x01  # Data Block, Offset
SGL_TRANSPORT = 0x5A  # Transport Data Block, Transport specific
PSDT_SGL = 0x40

# Opcodes
ADMIN_GET_LOG_PAGE = 0x02
ADMIN_IDENTIFY = 0x06
ADMIN_ABORT = 0x08
ADMIN_SET_FEATURES = 0x09
ADMIN_GET_FEATURES = 0x0A
ADMIN_ASYNC_EVENT = 0x0C
ADMIN_KEEP_ALIVE = 0x18
IO_FLUSH = 0x00
IO_WRITE = 0x01
IO_READ = 0x02
FABRICS = 0x7F
FCTYPE_PROPERTY_SET = 0x00
FCTYPE_CONNECT = 0x01
FCTYPE_PROPERTY_GET = 0x04

# Properties
REG_CAP = 0x00
REG_VS = 0x08
REG_CC = 0x14
REG_CSTS = 0x1C
CC_EN = 1 << 0
CC_SHN_NORMAL = 1 << 14
CC_DEFAULT = (6 << 16) | (4 << 20)  # IOSQES 64 B, IOCQES 16 B, MPS 4 KiB, NVM
CSTS_RDY = 1 << 0
CSTS_CFS = 1 << 1

# Status values as in the kernel: SC bits 7:0, SCT 10:8, More 13, DNR 14
SC_SUCCESS = 0x000
SC_INVALID_OPCODE = 0x001
SC_INVALID_FIELD = 0x002
SC_CMD_SEQ_ERROR = 0x00C
SC_SGL_INVALID_DATA = 0x00F
SC_TRANSIENT_TR_ERR = 0x022
SC_INVALID_NS = 0x00B
SC_LBA_RANGE = 0x080
SC_CONNECT_INVALID_PARAM = 0x182
SC_CONNECT_INVALID_HOST = 0x184
STATUS_DNR = 0x4000
STATUS_MORE = 0x2000

LOG_ERROR = 0x01
LOG_SMART = 0x02
LOG_DISC = 0x70
FEAT_NUM_QUEUES = 0x07
FEAT_KATO = 0x0F
CNS_CTRL = 0x01
CNS_NS = 0x00

NVME_CNTLID_DYNAMIC = 0xFFFF


class ProtocolError(Exception):
    """The target sent something this client (and the spec) does not accept."""


class TermReq(Exception):
    """The target sent a C2HTermReq (NVMe/TCP 1.0c 3.6.2.4)."""

    def __init__(self, fes, fei, echoed, raw):
        super().__init__("C2HTermReq fes %d fei %d (%d bytes echoed)" % (fes, fei, len(echoed)))
        self.fes = fes
        self.fei = fei
        self.echoed = echoed
        self.raw = raw


class ConnectionClosed(Exception):
    """The target closed the connection."""


# ------------------------------------------------------------------------------------------
# Structures


class Pdu:
    """A received PDU: common header fields, the rest of the header, and the data."""

    def __init__(self, ptype, flags, hlen, pdo, plen, hdr, data):
        self.type = ptype
        self.flags = flags
        self.hlen = hlen
        self.pdo = pdo
        self.plen = plen
        self.hdr = hdr  # the whole header, hlen bytes (no digest)
        self.data = data  # PDU data (C2HData payload) or the echoed header of a TermReq

    def __repr__(self):
        return "Pdu(type=%#x flags=%#x hlen=%d pdo=%d plen=%d data=%d)" % (
            self.type, self.flags, self.hlen, self.pdo, self.plen, len(self.data))


class Cqe:
    """A completion queue entry (NVMe Base 2.0c 4.6)."""

    def __init__(self, raw):
        self.raw = bytes(raw)
        self.dw0, self.dw1, self.sq_head, self.sq_id, self.cid, sf = struct.unpack(
            "<IIHHHH", self.raw)
        self.phase = sf & 1
        self.status = sf >> 1  # SC | SCT << 8 | More << 13 | DNR << 14
        self.sc = self.status & 0xFF
        self.sct = (self.status >> 8) & 0x7
        self.more = bool(self.status & STATUS_MORE)
        self.dnr = bool(self.status & STATUS_DNR)
        self.u64 = self.dw0 | (self.dw1 << 32)

    @property
    def code(self):
        """SCT and SC without More/DNR, e.g. 0x182."""
        return self.status & 0x7FF

    def __repr__(self):
        return "Cqe(cid=%d status=%#x dw0=%#x sqhd=%d sqid=%d)" % (
            self.cid, self.status, self.dw0, self.sq_head, self.sq_id)


def sqe(opcode, cid, nsid=0, cdw10=0, cdw11=0, cdw12=0, cdw13=0, cdw14=0, cdw15=0,
        sgl_addr=0, sgl_len=0, sgl_type=SGL_TRANSPORT, flags=PSDT_SGL, cdw2=0, cdw3=0,
        mptr=0):
    """A 64-byte submission queue entry with an SGL data pointer (NVMe Base 2.0c 4.2)."""
    dptr = struct.pack("<QI3xB", sgl_addr, sgl_len, sgl_type)
    return struct.pack("<BBHIIIQ", opcode, flags, cid, nsid, cdw2, cdw3, mptr) + dptr + \
        struct.pack("<6I", cdw10, cdw11, cdw12, cdw13, cdw14, cdw15)


def fabrics_sqe(fctype, cid, specific=b"", sgl_len=0, sgl_type=SGL_TRANSPORT):
    """A Fabrics command (NVMe Base 2.0c 6.1): opcode 7Fh, FCTYPE in byte 4; @specific is
    bytes 40..63."""
    head = struct.pack("<BBHB19x", FABRICS, PSDT_SGL, cid, fctype)
    dptr = struct.pack("<QI3xB", 0, sgl_len, sgl_type)
    specific = specific.ljust(24, b"\0")
    assert len(specific) == 24
    return head + dptr + specific


def connect_data(hostid, cntlid, subnqn, hostnqn):
    """Connect command data, 1024 bytes (NVMe Base 2.0c Figure 548)."""
    assert len(hostid) == 16
    return (hostid + struct.pack("<H", cntlid) + b"\0" * 238 +
            subnqn.encode().ljust(256, b"\0")[:256] + hostnqn.encode().ljust(256, b"\0")[:256] +
            b"\0" * 256)


def cstr(b):
    """A NUL (or space) padded string field."""
    return bytes(b).split(b"\0", 1)[0].decode("ascii", "replace").rstrip()


def parse_id_ctrl(data):
    """The fields of Identify Controller (NVMe Base 2.0c Figure 275) the tests look at."""
    d = bytes(data)
    return {
        "vid": struct.unpack_from("<H", d, 0)[0],
        "sn": cstr(d[4:24]),
        "mn": cstr(d[24:64]),
        "fr": cstr(d[64:72]),
        "mdts": d[77],
        "cntlid": struct.unpack_from("<H", d, 78)[0],
        "ver": struct.unpack_from("<I", d, 80)[0],
        "cntrltype": d[111],
        "kas": struct.unpack_from("<H", d, 320)[0],
        "sqes": d[512],
        "cqes": d[513],
        "maxcmd": struct.unpack_from("<H", d, 514)[0],
        "nn": struct.unpack_from("<I", d, 516)[0],
        "sgls": struct.unpack_from("<I", d, 536)[0],
        "subnqn": cstr(d[768:1024]),
        "ioccsz": struct.unpack_from("<I", d, 1792)[0],
        "iorcsz": struct.unpack_from("<I", d, 1796)[0],
        "icdoff": struct.unpack_from("<H", d, 1800)[0],
        "fcatt": d[1802],
        "msdbd": d[1803],
    }


def parse_id_ns(data):
    d = bytes(data)
    flbas = d[26] & 0xF
    return {
        "nsze": struct.unpack_from("<Q", d, 0)[0],
        "ncap": struct.unpack_from("<Q", d, 8)[0],
        "nlbaf": d[25],
        "flbas": d[26],
        "lba_shift": d[128 + 4 * flbas + 2],
    }


def parse_error_log(data):
    """Error Information log entries, 64 bytes each (NVMe Base 2.0c Figure 205)."""
    out = []
    for off in range(0, len(data) - 63, 64):
        count, sqid, cmdid, sf, loc, lba, nsid = struct.unpack_from("<QHHHHQI", data, off)
        out.append({"error_count": count, "sqid": sqid, "cmdid": cmdid,
                    "status": sf >> 1, "phase": sf & 1, "param_error_location": loc,
                    "lba": lba, "nsid": nsid, "trtype": data[off + 29]})
    return out


def le128(b):
    return int.from_bytes(bytes(b[:16]), "little")


def parse_smart(data):
    """SMART / Health Information (NVMe Base 2.0c Figure 207)."""
    d = bytes(data)
    return {
        "critical_warning": d[0],
        "temperature": struct.unpack_from("<H", d, 1)[0],
        "data_units_read": le128(d[32:48]),
        "data_units_written": le128(d[48:64]),
        "host_read_commands": le128(d[64:80]),
        "host_write_commands": le128(d[80:96]),
        "num_err_log_entries": le128(d[176:192]),
    }


def parse_disc_log(data):
    """Discovery log page (NVMe Base 2.0c Figures 262, 263)."""
    d = bytes(data)
    genctr, numrec, recfmt = struct.unpack_from("<QQH", d, 0)
    entries = []
    for i in range(numrec):
        off = 1024 + i * 1024
        if off + 1024 > len(d):
            break
        e = d[off:off + 1024]
        trtype, adrfam, subtype, treq, portid, cntlid, asqsz, eflags = struct.unpack_from(
            "<BBBBHHHH", e, 0)
        entries.append({
            "trtype": trtype, "adrfam": adrfam, "subtype": subtype, "treq": treq,
            "portid": portid, "cntlid": cntlid, "asqsz": asqsz, "eflags": eflags,
            "trsvcid": cstr(e[32:64]), "subnqn": cstr(e[256:512]), "traddr": cstr(e[512:768]),
            "sectype": e[768],
        })
    return {"genctr": genctr, "numrec": numrec, "recfmt": recfmt, "entries": entries}


# ------------------------------------------------------------------------------------------
# The connection


class Command:
    """One outstanding command."""

    def __init__(self, cid, sqe_bytes, data_out=None, read_len=0, h2c_chunk=None,
                 auto_h2c=True):
        self.cid = cid
        self.sqe = sqe_bytes
        self.data_out = data_out  # bytes to send on R2T
        self.data_in = bytearray(read_len)
        self.c2h_got = 0
        self.r2ts = []  # (cccid, ttag, r2to, r2tl) as received
        self.h2c_chunk = h2c_chunk
        self.auto_h2c = auto_h2c
        self.corrupt_h2c_ddgst = set()  # indexes of H2CData PDUs sent with a bad digest
        self.h2c_sent = 0
        self.cqe = None


class NvmeTcpConn:
    """One NVMe/TCP connection (one queue) to the target."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.hdgst = False
        self.ddgst = False
        self.cpda = 0
        self.hpda = 0
        self.maxh2cdata = 0
        self.sqflow_disabled = False
        self.icresp = None
        self.next_cid = 1
        self.cmds = {}
        self.term = None
        self.closed = False
        self.unsolicited = []
        self.qid = None
        self.cntlid = None

    # -- bytes ------------------------------------------------------------------------------

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def send_raw(self, data):
        self.sock.sendall(bytes(data))

    def _recv_exact(self, n, timeout=None):
        buf = bytearray()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes (got %d)" % (n, len(buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                raise ConnectionClosed("connection closed after %d of %d bytes" % (len(buf), n))
            buf += chunk
        return bytes(buf)

    def wait_closed(self, timeout):
        """Read until the target closes the connection. Return the seconds it took, or None
        on timeout. PDUs that arrive meanwhile are parsed (a C2HTermReq is kept in .term)."""
        start = time.monotonic()
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self.recv_pdu(timeout=left)
            except ConnectionClosed:
                return time.monotonic() - start
            except socket.timeout:
                return None
            except TermReq:
                continue

    def is_open(self):
        """True if the peer has not closed (no EOF pending); does not consume PDUs."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return True
        try:
            data = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return True
        except ConnectionResetError:
            return False
        return bool(data)

    # -- PDUs -------------------------------------------------------------------------------

    def recv_pdu(self, timeout=None):
        """Receive one PDU, checking its header against NVMe/TCP 1.0c and its digests.
        A C2HTermReq is raised as TermReq (and kept in self.term)."""
        ch = self._recv_exact(8, timeout)
        ptype, flags, hlen, pdo, plen = struct.unpack("<BBBBI", ch)
        if ptype not in HLEN or ptype in (PDU_ICREQ, PDU_H2C_TERM, PDU_CMD, PDU_H2C_DATA):
            raise ProtocolError("unexpected PDU type %#x" % ptype)
        if hlen != HLEN[ptype]:
            raise ProtocolError("PDU type %#x with HLEN %d" % (ptype, hlen))
        if plen < hlen:
            raise ProtocolError("PLEN %d < HLEN %d" % (plen, hlen))
        hdr = ch + self._recv_exact(hlen - 8, timeout)
        if ptype in (PDU_C2H_TERM,):
            echoed = self._recv_exact(plen - hlen, timeout) if plen > hlen else b""
            fes, fei = struct.unpack_from("<HI", hdr, 8)
            self.term = TermReq(fes, fei, echoed, hdr + echoed)
            raise self.term
        hd = 0
        if ptype not in NO_HDGST_TYPES:
            if bool(flags & F_HDGST) != self.hdgst:
                raise ProtocolError("HDGSTF %d but header digests %s" % (
                    flags & F_HDGST, "on" if self.hdgst else "off"))
            if self.hdgst:
                hd = 4
                (wire,) = struct.unpack("<I", self._recv_exact(4, timeout))
                if wire != crc32c(hdr):
                    raise ProtocolError("bad header digest on PDU type %#x: %#x != %#x" % (
                        ptype, wire, crc32c(hdr)))
        data = b""
        if ptype == PDU_C2H_DATA:
            if pdo < hlen + hd:
                raise ProtocolError("C2HData PDO %d" % pdo)
            if pdo > hlen + hd:
                self._recv_exact(pdo - hlen - hd, timeout)
            dd = 4 if flags & F_DDGST else 0
            if bool(dd) != self.ddgst:
                raise ProtocolError("C2HData DDGSTF does not match the negotiated digest")
            data = self._recv_exact(plen - pdo - dd, timeout)
            if dd:
                (wire,) = struct.unpack("<I", self._recv_exact(4, timeout))
                if wire != crc32c(data):
                    raise ProtocolError("bad data digest on C2HData")
        else:
            if pdo != 0:
                raise ProtocolError("PDU type %#x with PDO %d" % (ptype, pdo))
            if plen != hlen + hd:
                raise ProtocolError("PDU type %#x with PLEN %d" % (ptype, plen))
        return Pdu(ptype, flags, hlen, pdo, plen, hdr, data)

    def icreq(self, hdgst=False, ddgst=False, hpda=0, maxr2t=0, pfv=0):
        """Initialize Connection (NVMe/TCP 1.0c 3.6.2.2, 3.6.2.3). Returns the ICResp as a
        dict; the negotiated digests then apply to this connection."""
        dgst = (1 if hdgst else 0) | (2 if ddgst else 0)
        pdu = struct.pack("<BBBBIHBBI", PDU_ICREQ, 0, 128, 0, 128, pfv, hpda, dgst, maxr2t)
        self.send_raw(pdu.ljust(128, b"\0"))
        r = self.recv_pdu()
        if r.type != PDU_ICRESP:
            raise ProtocolError("expected ICResp, got %r" % r)
        pfv_r, cpda, dgst_r, maxdata = struct.unpack_from("<HBBI", r.hdr, 8)
        self.icresp = {"type": r.type, "flags": r.flags, "hlen": r.hlen, "pdo": r.pdo,
                       "plen": r.plen, "pfv": pfv_r, "cpda": cpda, "hdgst": bool(dgst_r & 1),
                       "ddgst": bool(dgst_r & 2), "maxdata": maxdata,
                       "rsvd_zero": r.hdr[16:] == b"\0" * 112}
        self.hdgst = bool(dgst_r & 1)
        self.ddgst = bool(dgst_r & 2)
        self.cpda = cpda
        self.maxh2cdata = maxdata
        self.hpda = hpda
        return self.icresp

    def cmd_pdu(self, sqe_bytes, icd=b"", bad_hdgst=False, bad_ddgst=False):
        """A Command Capsule PDU (NVMe/TCP 1.0c 3.6.2.5) for @sqe_bytes with in-capsule data
        @icd; the digests can be corrupted on purpose."""
        hd = 4 if self.hdgst else 0
        flags = F_HDGST if self.hdgst else 0
        pdo = 0
        plen = 72 + hd
        pad = b""
        if icd:
            pda = (self.cpda + 1) * 4
            pdo = (72 + hd + pda - 1) // pda * pda
            pad = b"\0" * (pdo - 72 - hd)
            plen = pdo + len(icd)
            if self.ddgst:
                flags |= F_DDGST
                plen += 4
        hdr = struct.pack("<BBBBI", PDU_CMD, flags, 72, pdo, plen) + sqe_bytes
        out = hdr
        if self.hdgst:
            out += struct.pack("<I", crc32c(hdr) ^ (1 if bad_hdgst else 0))
        if icd:
            out += pad + bytes(icd)
            if self.ddgst:
                out += struct.pack("<I", crc32c(icd) ^ (1 if bad_ddgst else 0))
        return out

    def h2c_pdu(self, cccid, ttag, datao, data, last, bad_ddgst=False, bad_hdgst=False):
        """An H2CData PDU (NVMe/TCP 1.0c 3.6.2.8)."""
        hd = 4 if self.hdgst else 0
        pda = (self.cpda + 1) * 4
        pdo = (24 + hd + pda - 1) // pda * pda
        flags = (F_HDGST if self.hdgst else 0) | (F_DDGST if self.ddgst else 0) | \
            (F_DATA_LAST if last else 0)
        plen = pdo + len(data) + (4 if self.ddgst else 0)
        hdr = struct.pack("<BBBBIHHII4x", PDU_H2C_DATA, flags, 24, pdo, plen, cccid, ttag,
                          datao, len(data))
        out = hdr
        if self.hdgst:
            out += struct.pack("<I", crc32c(hdr) ^ (1 if bad_hdgst else 0))
        out += b"\0" * (pdo - 24 - hd) + bytes(data)
        if self.ddgst:
            out += struct.pack("<I", crc32c(data) ^ (1 if bad_ddgst else 0))
        return out

    # -- commands ---------------------------------------------------------------------------

    def alloc_cid(self):
        while True:
            cid = self.next_cid
            self.next_cid = (self.next_cid + 1) & 0xFFFF
            if self.next_cid == 0xFFFF:
                self.next_cid = 1
            if cid not in self.cmds:
                return cid

    def submit(self, sqe_bytes, icd=b"", data_out=None, read_len=0, h2c_chunk=None,
               auto_h2c=True, bad_hdgst=False, bad_ddgst=False):
        """Send a command whose SQE (with its CID) is @sqe_bytes. @icd goes in the capsule;
        @data_out is sent when R2Ts ask for it; @read_len bytes of C2HData are expected."""
        cid = struct.unpack_from("<H", sqe_bytes, 2)[0]
        cmd = Command(cid, sqe_bytes, data_out, read_len, h2c_chunk, auto_h2c)
        self.cmds[cid] = cmd
        self.send_raw(self.cmd_pdu(sqe_bytes, icd, bad_hdgst=bad_hdgst, bad_ddgst=bad_ddgst))
        return cmd

    def send_h2c_for(self, cmd, r2to, r2tl):
        """Answer an R2T: send [r2to, r2to + r2tl) of cmd.data_out in H2CData PDUs."""
        chunk = cmd.h2c_chunk or self.maxh2cdata
        chunk = min(chunk, self.maxh2cdata)
        off = r2to
        end = r2to + r2tl
        ttag = cmd.r2ts[-1][1]
        out = bytearray()
        while off < end:
            n = min(chunk, end - off)
            idx = cmd.h2c_sent
            out += self.h2c_pdu(cmd.cid, ttag, off, cmd.data_out[off:off + n], off + n == end,
                                bad_ddgst=idx in cmd.corrupt_h2c_ddgst)
            cmd.h2c_sent += 1
            off += n
        self.send_raw(out)

    def process_one(self, timeout=None):
        """Receive and dispatch one PDU."""
        p = self.recv_pdu(timeout)
        if p.type == PDU_RSP:
            cqe = Cqe(p.hdr[8:24])
            cmd = self.cmds.pop(cqe.cid, None)
            if cmd is None:
                self.unsolicited.append(cqe)
                return p
            cmd.cqe = cqe
        elif p.type == PDU_C2H_DATA:
            cccid, ttag, datao, datal = struct.unpack_from("<HHII", p.hdr, 8)
            cmd = self.cmds.get(cccid)
            if cmd is None:
                raise ProtocolError("C2HData for unknown cid %d" % cccid)
            if datal != len(p.data) or datao + datal > len(cmd.data_in):
                raise ProtocolError("C2HData datao %d datal %d for %d bytes" % (
                    datao, datal, len(cmd.data_in)))
            cmd.data_in[datao:datao + datal] = p.data
            cmd.c2h_got += datal
            if p.flags & F_DATA_SUCCESS:
                if not p.flags & F_DATA_LAST:
                    raise ProtocolError("C2HData SUCCESS without LAST")
                if not self.sqflow_disabled:
                    # NVMe/TCP 1.0c 3.6.2.7: only when SQ flow control is disabled
                    raise ProtocolError("C2HData SUCCESS with SQ flow control enabled")
                # synthesized completion (NVMe/TCP 1.0c 3.6.2.7)
                self.cmds.pop(cccid)
                cmd.cqe = Cqe(struct.pack("<IIHHHH", 0, 0, 0, self.qid or 0, cccid, 0))
        elif p.type == PDU_R2T:
            cccid, ttag, r2to, r2tl = struct.unpack_from("<HHII", p.hdr, 8)
            cmd = self.cmds.get(cccid)
            if cmd is None:
                raise ProtocolError("R2T for unknown cid %d" % cccid)
            cmd.r2ts.append((cccid, ttag, r2to, r2tl))
            if cmd.auto_h2c:
                if cmd.data_out is None or r2to + r2tl > len(cmd.data_out):
                    raise ProtocolError("R2T r2to %d r2tl %d beyond the command's data" % (
                        r2to, r2tl))
                self.send_h2c_for(cmd, r2to, r2tl)
        else:
            raise ProtocolError("unexpected %r" % p)
        return p

    def wait(self, cmd, timeout=None):
        """Process PDUs until @cmd completes; returns its CQE."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while cmd.cqe is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("command cid %d did not complete" % cmd.cid)
            self.process_one(left)
        return cmd.cqe

    def execute(self, sqe_bytes, **kw):
        timeout = kw.pop("timeout", None)
        cmd = self.submit(sqe_bytes, **kw)
        return self.wait(cmd, timeout), cmd

    # -- Fabrics ----------------------------------------------------------------------------

    def connect(self, subnqn, hostnqn, hostid, qid=0, sqsize=31, cntlid=NVME_CNTLID_DYNAMIC,
                kato=0, cattr=0):
        """Fabrics Connect (NVMe Base 2.0c 6.3) with the data in the capsule. Returns the CQE;
        on success dw0 bits 15:0 are the controller ID."""
        cid = self.alloc_cid()
        spec = struct.pack("<HHHBxI", 0, qid, sqsize, cattr, kato)
        data = connect_data(hostid, cntlid, subnqn, hostnqn)
        cqe, _ = self.execute(fabrics_sqe(FCTYPE_CONNECT, cid, spec, len(data), SGL_INCAPSULE),
                              icd=data)
        if cqe.status == 0:
            self.qid = qid
            self.cntlid = cqe.dw0 & 0xFFFF
            self.sqflow_disabled = bool(cattr & (1 << 2))
        return cqe

    def prop_get(self, offset, size8=False):
        cid = self.alloc_cid()
        spec = struct.pack("<B3xI", 1 if size8 else 0, offset)
        cqe, _ = self.execute(fabrics_sqe(FCTYPE_PROPERTY_GET, cid, spec))
        return cqe

    def prop_set(self, offset, value, size8=False):
        cid = self.alloc_cid()
        spec = struct.pack("<B3xIQ", 1 if size8 else 0, offset, value)
        cqe, _ = self.execute(fabrics_sqe(FCTYPE_PROPERTY_SET, cid, spec))
        return cqe

    def enable(self, timeout=5.0):
        """CC.EN = 1, then wait for CSTS.RDY (NVMe Base 2.0c 3.5.1). Returns CSTS."""
        cqe = self.prop_set(REG_CC, CC_DEFAULT | CC_EN)
        if cqe.status:
            raise ProtocolError("Property Set CC failed: %r" % cqe)
        deadline = time.monotonic() + timeout
        while True:
            cqe = self.prop_get(REG_CSTS)
            if cqe.status:
                raise ProtocolError("Property Get CSTS failed: %r" % cqe)
            if cqe.dw0 & (CSTS_RDY | CSTS_CFS) or time.monotonic() > deadline:
                return cqe.dw0
            time.sleep(0.01)

    # -- admin ------------------------------------------------------------------------------

    def admin_data_cmd(self, opcode, length, nsid=0, **cdw):
        cid = self.alloc_cid()
        cqe, cmd = self.execute(sqe(opcode, cid, nsid=nsid, sgl_len=length, **cdw),
                                read_len=length)
        return cqe, bytes(cmd.data_in)

    def identify(self, cns, nsid=0, length=4096):
        return self.admin_data_cmd(ADMIN_IDENTIFY, length, nsid=nsid, cdw10=cns)

    def get_log_page(self, lid, length, nsid=0xFFFFFFFF, offset=0, rae=False):
        numd = length // 4 - 1
        cdw10 = lid | ((numd & 0xFFFF) << 16) | ((1 << 15) if rae else 0)
        return self.admin_data_cmd(ADMIN_GET_LOG_PAGE, length, nsid=nsid, cdw10=cdw10,
                                   cdw11=numd >> 16, cdw12=offset & 0xFFFFFFFF,
                                   cdw13=offset >> 32)

    def set_features(self, fid, cdw11, nsid=0):
        cid = self.alloc_cid()
        cqe, _ = self.execute(sqe(ADMIN_SET_FEATURES, cid, nsid=nsid, cdw10=fid, cdw11=cdw11))
        return cqe

    def get_features(self, fid, nsid=0):
        cid = self.alloc_cid()
        cqe, _ = self.execute(sqe(ADMIN_GET_FEATURES, cid, nsid=nsid, cdw10=fid))
        return cqe

    def keep_alive(self):
        cid = self.alloc_cid()
        cqe, _ = self.execute(sqe(ADMIN_KEEP_ALIVE, cid))
        return cqe

    # -- I/O --------------------------------------------------------------------------------

    def rw_sqe(self, opcode, cid, nsid, slba, nlb, length, sgl_type=SGL_TRANSPORT, cdw12=0):
        return sqe(opcode, cid, nsid=nsid, cdw10=slba & 0xFFFFFFFF, cdw11=slba >> 32,
                   cdw12=((nlb - 1) & 0xFFFF) | cdw12, sgl_len=length, sgl_type=sgl_type)

    def write(self, nsid, slba, data, lba_size=512, in_capsule=None, h2c_chunk=None,
              timeout=None):
        """Write @data at @slba; in the capsule when @in_capsule (default: if <= 4 KiB),
        else by R2T + H2CData. Returns (cqe, command)."""
        if in_capsule is None:
            in_capsule = len(data) <= 4096
        cid = self.alloc_cid()
        nlb = len(data) // lba_size
        if in_capsule:
            s = self.rw_sqe(IO_WRITE, cid, nsid, slba, nlb, len(data), SGL_INCAPSULE)
            return self.execute(s, icd=data, timeout=timeout)
        s = self.rw_sqe(IO_WRITE, cid, nsid, slba, nlb, len(data), SGL_TRANSPORT)
        return self.execute(s, data_out=bytes(data), h2c_chunk=h2c_chunk, timeout=timeout)

    def read(self, nsid, slba, length, lba_size=512, timeout=None):
        """Read @length bytes at @slba. Returns (cqe, data)."""
        cid = self.alloc_cid()
        s = self.rw_sqe(IO_READ, cid, nsid, slba, length // lba_size, length)
        cqe, cmd = self.execute(s, read_len=length, timeout=timeout)
        return cqe, bytes(cmd.data_in)


def open_queue(port, subnqn, hostnqn, hostid, qid=0, cntlid=NVME_CNTLID_DYNAMIC, sqsize=None,
               kato=0, hdgst=False, ddgst=False, host="127.0.0.1", cattr=0):
    """A connected queue: TCP connection, ICReq, Connect. Raises on failure."""
    c = NvmeTcpConn(port, host)
    try:
        c.icreq(hdgst, ddgst)
        if sqsize is None:
            sqsize = 31 if qid == 0 else 127
        cqe = c.connect(subnqn, hostnqn, hostid, qid=qid, sqsize=sqsize, cntlid=cntlid,
                        kato=kato, cattr=cattr)
        if cqe.status:
            raise ProtocolError("Connect qid %d failed: %r" % (qid, cqe))
    except BaseException:
        c.close()
        raise
    return c


class Controller:
    """An admin queue, enabled, plus I/O queues on demand."""

    def __init__(self, port, subnqn, hostnqn, hostid, kato=0, hdgst=False, ddgst=False):
        self.port = port
        self.subnqn = subnqn
        self.hostnqn = hostnqn
        self.hostid = hostid
        self.hdgst = hdgst
        self.ddgst = ddgst
        self.admin = open_queue(port, subnqn, hostnqn, hostid, kato=kato, hdgst=hdgst,
                                ddgst=ddgst)
        self.cntlid = self.admin.cntlid
        self.io = []
        try:
            csts = self.admin.enable()
            if not csts & CSTS_RDY:
                raise ProtocolError("CSTS %#x after enable" % csts)
        except BaseException:
            self.close()
            raise

    def connect_io(self, qid=None, sqsize=127, cattr=0):
        if qid is None:
            qid = len(self.io) + 1
        q = open_queue(self.port, self.subnqn, self.hostnqn, self.hostid, qid=qid,
                       cntlid=self.cntlid, sqsize=sqsize, hdgst=self.hdgst, ddgst=self.ddgst,
                       cattr=cattr)
        self.io.append(q)
        return q

    def close(self):
        for q in self.io:
            q.close()
        self.io = []
        if self.admin:
            self.admin.close()
            self.admin = None


def pattern(length, seed):
    """Deterministic pseudo-random test data: a write that lands in the wrong place, or a
    stale read, does not compare equal."""
    return random.Random(seed).randbytes(length)


def fresh_hostid():
    return os.urandom(16)
