#!/usr/bin/env python3
"""Seed inputs for fuzz_tcp_rx: byte 0 selects the preamble (ICReq + admin Connect + CC.EN),
then admin command capsules follow. Writes tests/fuzz/corpus/tcp_rx/*."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tcp_rx")


def sqe(opcode, cid, nsid=0, cdw10=0, cdw11=0, cdw12=0, sgl_len=0, sgl_type=0x5A):
    sgl = struct.pack("<QI3xB", 0, sgl_len, sgl_type if sgl_len else 0)
    return struct.pack("<BBHIII Q", opcode, 0x40, cid, nsid, 0, 0, 0) + sgl + \
        struct.pack("<6I", cdw10, cdw11, cdw12, 0, 0, 0)


def capsule(cmd, icd=b""):
    hlen = 72
    pdo = hlen if icd else 0
    return struct.pack("<BBBBI", 0x04, 0, hlen, pdo, hlen + len(icd)) + cmd + icd


SEEDS = {
    "identify_ctrl": capsule(sqe(0x06, 3, cdw10=1, sgl_len=4096)),
    "identify_ns": capsule(sqe(0x06, 3, nsid=1, cdw10=0, sgl_len=4096)),
    "identify_desc": capsule(sqe(0x06, 3, nsid=1, cdw10=3, sgl_len=4096)),
    "log_smart": capsule(sqe(0x02, 4, nsid=0xffffffff, cdw10=(127 << 16) | 2, sgl_len=512)),
    "log_error": capsule(sqe(0x02, 4, cdw10=(15 << 16) | 1, sgl_len=64)),
    "log_effects": capsule(sqe(0x02, 4, cdw10=(1023 << 16) | 5, sgl_len=4096)),
    "log_ana": capsule(sqe(0x02, 4, cdw10=(1023 << 16) | 0x0c, sgl_len=4096)),
    "set_nr_queues": capsule(sqe(0x09, 5, cdw10=7, cdw11=0x00030003)),
    "set_kato": capsule(sqe(0x09, 5, cdw10=0x0f, cdw11=5000)),
    "get_features": capsule(sqe(0x0a, 5, cdw10=0x0b)),
    "keep_alive": capsule(sqe(0x18, 6)),
    "aer": capsule(sqe(0x0c, 7)),
    "abort": capsule(sqe(0x08, 8, cdw10=7)),
    "bad_opcode": capsule(sqe(0xee, 9)),
    "host_behavior_icd": capsule(sqe(0x09, 10, cdw10=0x16, sgl_len=512, sgl_type=0x01),
                                 bytes(512)),
    "property_get_csts": capsule(struct.pack("<BBHB35x", 0x7f, 0x40, 11, 0x04) +
                                 struct.pack("<QQ", 0, 0) + struct.pack("<B3xIQ8x", 0, 0x1c, 0)),
}

os.makedirs(OUT, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([0x09]) + body)
    with open(os.path.join(OUT, name + "_digests"), "wb") as f:
        # same commands with HDGST/DDGST negotiated: the digests are wrong, which is
        # itself a path worth covering (header digest error -> C2HTermReq)
        f.write(bytes([0x0f]) + body)
for name, sel in (("ic_only", 0x01), ("raw", 0x00), ("connected", 0x09)):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([sel]))
