#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz_tcp_pdu: valid NVMe/TCP PDUs (NVMe/TCP 1.0c 3.6).

Each file is the fuzzer's 16-byte parameter prefix (see fuzz_tcp_pdu.c) followed by one PDU,
digests computed, so the fuzzer starts from inputs that pass every check and mutates from
there. Run from anywhere:  tests/fuzz/make-corpus.py [output dir]
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'corpus', 'tcp_pdu')

# PDU types and flags, as in include/nvmf/spec.h
ICREQ, ICRESP, H2C_TERM, C2H_TERM, CMD, RSP, H2C_DATA, C2H_DATA, R2T = 0, 1, 2, 3, 4, 5, 6, 7, 9
F_HDGST, F_DDGST, F_LAST, F_SUCCESS = 1, 2, 4, 8


# Digests come from ISA-L (the library the target uses), through the integration client.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
from nvmftcp import crc32c  # noqa: E402


def prefix(hdgst=False, ddgst=False, cpda=0, hpda=0, maxh2cdata=65536, max_icd=8192,
           max_c2h_data=131072, seed=0):
    return struct.pack('<BBBIIIB', (1 if hdgst else 0) | (2 if ddgst else 0), cpda, hpda,
                       maxh2cdata, max_icd, max_c2h_data, seed)


def ch(ptype, flags, hlen, pdo, plen):
    return struct.pack('<BBBBI', ptype, flags, hlen, pdo, plen)


def pda_bytes(pda):
    return (pda + 1) * 4


def round_up(v, a):
    return (v + a - 1) // a * a


def with_hdgst(hdr, hdgst):
    return hdr + struct.pack('<I', crc32c(hdr)) if hdgst else hdr


def icreq(hdgst, ddgst, hpda=0, maxr2t=0):
    dgst = (1 if hdgst else 0) | (2 if ddgst else 0)
    return ch(ICREQ, 0, 128, 0, 128) + struct.pack('<HBBI', 0, hpda, dgst, maxr2t) + bytes(112)


def icresp(hdgst, ddgst, cpda=0, maxdata=65536):
    dgst = (1 if hdgst else 0) | (2 if ddgst else 0)
    return ch(ICRESP, 0, 128, 0, 128) + struct.pack('<HBBI', 0, cpda, dgst, maxdata) + bytes(112)


def sqe(opcode, cid, nsid, sgl_len, sgl_type):
    # opcode, flags (PSDT 01b: SGL), cid, nsid, cdw2-3, mptr, SGL descriptor, cdw10-15
    return (struct.pack('<BBHIIIQ', opcode, 0x40, cid, nsid, 0, 0, 0) +
            struct.pack('<QI3sB', 0, sgl_len, bytes(3), sgl_type) + bytes(24))


def cmd(hdgst, ddgst, icd=b'', cpda=0, opcode=0x01):
    hd = 4 if hdgst else 0
    sgl_type = 0x01 if icd else 0x5a  # in-capsule Data Block/Offset, else Transport Data Block
    body = sqe(opcode, 0x10, 1, len(icd) if icd else 4096, sgl_type)
    flags = F_HDGST if hdgst else 0
    if icd:
        pdo = round_up(72 + hd, pda_bytes(cpda))
        dd = 4 if ddgst else 0
        flags |= F_DDGST if ddgst else 0
        hdr = with_hdgst(ch(CMD, flags, 72, pdo, pdo + len(icd) + dd) + body, hdgst)
        out = hdr + bytes(pdo - len(hdr)) + icd
        return out + (struct.pack('<I', crc32c(icd)) if ddgst else b'')
    return with_hdgst(ch(CMD, flags, 72, 0, 72 + hd) + body, hdgst)


def rsp(hdgst, cid=0x10, status=0):
    hd = 4 if hdgst else 0
    cqe = struct.pack('<QHHHH', 0, 1, 1, cid, status << 1)
    return with_hdgst(ch(RSP, F_HDGST if hdgst else 0, 24, 0, 24 + hd) + cqe, hdgst)


def data_pdu(ptype, hdgst, ddgst, payload, flags, pda=0, cccid=0x10, ttag=0, datao=0):
    hd = 4 if hdgst else 0
    dd = 4 if ddgst else 0
    pdo = round_up(24 + hd, pda_bytes(pda))
    flags |= (F_HDGST if hdgst else 0) | (F_DDGST if ddgst else 0)
    hdr = ch(ptype, flags, 24, pdo, pdo + len(payload) + dd) + struct.pack(
        '<HHII4s', cccid, ttag, datao, len(payload), bytes(4))
    hdr = with_hdgst(hdr, hdgst)
    out = hdr + bytes(pdo - len(hdr)) + payload
    return out + (struct.pack('<I', crc32c(payload)) if ddgst else b'')


def r2t(hdgst, cccid=0x10, ttag=3, r2to=0, r2tl=65536):
    hd = 4 if hdgst else 0
    hdr = ch(R2T, F_HDGST if hdgst else 0, 24, 0, 24 + hd) + struct.pack(
        '<HHII4s', cccid, ttag, r2to, r2tl, bytes(4))
    return with_hdgst(hdr, hdgst)


def term(ptype, fes, fei, bad=b''):
    bad = bad[:128]
    return ch(ptype, 0, 24, 0, 24 + len(bad)) + struct.pack('<HI10s', fes, fei, bytes(10)) + bad


def main():
    payload = bytes((i * 37 + 11) & 0xff for i in range(512))
    seeds = {
        'icreq': prefix() + icreq(False, False),
        'icreq-digests-hpda': prefix() + icreq(True, True, hpda=3, maxr2t=7),
        'icresp': prefix() + icresp(False, False),
        'icresp-digests-cpda': prefix() + icresp(True, True, cpda=1, maxdata=0x400000),
        'cmd-nodata': prefix() + cmd(False, False),
        'cmd-nodata-hdgst': prefix(True, True) + cmd(True, True),
        'cmd-icd': prefix() + cmd(False, False, payload[:64]),
        'cmd-icd-digests': prefix(True, True) + cmd(True, True, payload),
        'cmd-icd-cpda': prefix(True, False, cpda=7) + cmd(True, False, payload[:100], cpda=7),
        'h2c-data': prefix() + data_pdu(H2C_DATA, False, False, payload, F_LAST, ttag=3),
        'h2c-data-digests': prefix(True, True) + data_pdu(H2C_DATA, True, True, payload, 0,
                                                          ttag=3, datao=4096),
        'c2h-data': prefix() + data_pdu(C2H_DATA, False, False, payload, F_LAST | F_SUCCESS),
        'c2h-data-digests-hpda': prefix(True, True, hpda=7) + data_pdu(
            C2H_DATA, True, True, payload[:200], F_LAST, pda=7),
        'rsp': prefix() + rsp(False),
        'rsp-hdgst': prefix(True, False) + rsp(True, status=0x4002),
        'r2t': prefix() + r2t(False),
        'r2t-hdgst': prefix(True, True) + r2t(True, r2to=8192, r2tl=4096),
        'h2c-term': prefix() + term(H2C_TERM, 1, 3, ch(RSP, 0, 24, 24, 24) + bytes(16)),
        'c2h-term-icreq': prefix() + term(C2H_TERM, 6, 10, icreq(False, False, hpda=40)),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(blob)
    print(f'{len(seeds)} seeds in {OUT}')


if __name__ == '__main__':
    main()
