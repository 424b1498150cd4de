#!/usr/bin/env python3
"""Seed inputs for fuzz_vfu_rx (the input format is described at the top of fuzz_vfu_rx.c):
byte 0 selects the preamble (VERSION, DMA_MAP of the harness's memfd, MSI-X eventfds,
controller enable), then records: vfio-user messages, guest memory writes, BAR0 writes and
syncs. Writes tests/fuzz/corpus/vfu_rx/*."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "vfu_rx")

IOVA = 0x100000
ASQ, ACQ, IOSQ, IOCQ, PRPL, SGL, BUF, RBUF = (0x0000, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000,
                                              0x10000, 0x20000)
P_VERSION, P_MAP, P_IRQS, P_ENABLE = 1, 2, 4, 8
P_ALL = P_VERSION | P_MAP | P_IRQS | P_ENABLE

# vfio-user commands
VERSION, DMA_MAP, DMA_UNMAP, GET_INFO, GET_REGION_INFO, GET_REGION_IO_FDS, GET_IRQ_INFO, \
    SET_IRQS, REGION_READ, REGION_WRITE = range(1, 11)
RESET = 13
BAR0, BAR4, CONFIG = 0, 4, 7


def msg(cmd, payload=b"", memfd=False, nr_efd=0, flags=0, msg_id=0):
    op = 0 | (4 if memfd else 0) | (nr_efd << 3)
    hdr = struct.pack("<HHIII", msg_id, cmd, 0, flags, 0)
    return bytes([op]) + hdr + struct.pack("<H", len(payload)) + payload


def memw(off, data):
    return bytes([1]) + struct.pack("<IH", off, len(data)) + data


def doorbell(idx, val):
    return bytes([2]) + struct.pack("<BH", idx, val)


def reg(off, val):
    return bytes([2 | 4]) + struct.pack("<BI", off, val)


SYNC = bytes([3])


def region_read(region, off, count):
    return msg(REGION_READ, struct.pack("<QII", off, region, count))


def region_write(region, off, data):
    return msg(REGION_WRITE, struct.pack("<QII", off, region, len(data)) + data)


def sqe(opcode, cid, nsid=0, prp1=0, prp2=0, cdw10=0, cdw11=0, cdw12=0, flags=0):
    return struct.pack("<BBHIIIQQQ6I", opcode, flags, cid, nsid, 0, 0, 0, prp1, prp2,
                       cdw10, cdw11, cdw12, 0, 0, 0)


def admin(slot, cmd):
    """Admin SQE into slot @slot, then the tail doorbell, then wait for the answer"""
    return memw(ASQ + 64 * slot, cmd) + doorbell(0, slot + 1) + SYNC + doorbell(1, slot + 1)


def io_queues():
    return (admin(0, sqe(0x09, 1, cdw10=7, cdw11=0x00030003)) +
            admin(1, sqe(0x05, 2, prp1=IOVA + IOCQ, cdw10=(63 << 16) | 1,
                         cdw11=(1 << 16) | 3)) +
            admin(2, sqe(0x01, 3, prp1=IOVA + IOSQ, cdw10=(63 << 16) | 1,
                         cdw11=(1 << 16) | 1)))


def io(slot, cmd):
    return memw(IOSQ + 64 * slot, cmd) + doorbell(2, slot + 1) + SYNC + doorbell(3, slot + 1)


def version_json():
    js = b'{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":65536,"pgsizes":4096}}\0'
    return msg(VERSION, struct.pack("<HH", 0, 1) + js)


def dma_map(addr=IOVA, size=0x40000, offset=0, flags=3, memfd=True):
    return msg(DMA_MAP, struct.pack("<IIQQQ", 32, flags, offset, addr, size), memfd=memfd)


SEEDS = {
    "empty": bytes([0]),
    "version": bytes([P_VERSION]),
    "version_msg": bytes([0]) + version_json(),
    "info": bytes([P_VERSION]) + msg(GET_INFO, struct.pack("<4I", 16, 0, 0, 0)) +
    b"".join(msg(GET_REGION_INFO, struct.pack("<IIIIQQ", 32, 0, i, 0, 0, 0))
             for i in range(9)) +
    b"".join(msg(GET_IRQ_INFO, struct.pack("<4I", 16, 0, i, 0)) for i in range(5)) +
    msg(GET_REGION_IO_FDS, struct.pack("<4I", 16, 0, 0, 0)),
    "config_read": bytes([P_VERSION]) + region_read(CONFIG, 0, 256) +
    region_read(CONFIG, 0x50, 12) + region_write(CONFIG, 0x10, b"\xff\xff\xff\xff") +
    region_read(CONFIG, 0x10, 4) + region_write(CONFIG, 0x52, b"\x00\x80") +
    region_read(BAR4, 0, 64) + region_write(BAR4, 0, bytes(16)),
    "bar0_read": bytes([P_VERSION]) + region_read(BAR0, 0, 0x40) + region_read(BAR0, 0x1000, 8),
    "dma_map_unmap": bytes([0]) + version_json() + dma_map() + SYNC +
    dma_map(addr=0x800000, size=0x1000, memfd=False) +
    msg(DMA_UNMAP, struct.pack("<IIQQ", 24, 0, 0x800000, 0x1000)) +
    msg(DMA_UNMAP, struct.pack("<IIQQ", 24, 0, IOVA, 0x40000)),
    "irqs": bytes([P_VERSION]) +
    msg(SET_IRQS, struct.pack("<5I", 20, 0x24, 2, 0, 2), nr_efd=2) +
    msg(SET_IRQS, struct.pack("<5I", 22, 0x22, 2, 0, 2) + b"\x01\x01") +
    msg(SET_IRQS, struct.pack("<5I", 20, 0x21, 2, 0, 1)) +
    msg(SET_IRQS, struct.pack("<5I", 20, 0x24, 2, 0, 0)) +
    msg(SET_IRQS, struct.pack("<5I", 20, 0x09, 2, 0, 1)),
    "enable": bytes([P_ALL]) + region_read(BAR0, 0x1c, 4) + SYNC + reg(0x14, 0) +
    region_read(BAR0, 0x1c, 4),
    "identify": bytes([P_ALL]) + admin(0, sqe(0x06, 1, prp1=IOVA + BUF, cdw10=1)) +
    admin(1, sqe(0x06, 2, nsid=1, prp1=IOVA + BUF + 0x800, prp2=IOVA + BUF + 0x1000)) +
    admin(2, sqe(0x02, 3, nsid=0xffffffff, prp1=IOVA + BUF, cdw10=(127 << 16) | 2)),
    "aer_shutdown": bytes([P_ALL]) + admin(0, sqe(0x0c, 1)) +
    reg(0x14, 0x00460001 | (1 << 14)) + SYNC + region_read(BAR0, 0x1c, 4),
    "io_rw": bytes([P_ALL]) + io_queues() + memw(BUF, bytes(range(256)) * 16) +
    io(0, sqe(0x01, 1, nsid=1, prp1=IOVA + BUF, cdw12=7)) +
    io(1, sqe(0x02, 2, nsid=1, prp1=IOVA + RBUF, cdw12=7)),
    "io_prp_list": bytes([P_ALL]) + io_queues() +
    memw(PRPL, struct.pack("<3Q", IOVA + BUF + 0x1000, IOVA + BUF + 0x2000,
                           IOVA + BUF + 0x3000)) +
    io(0, sqe(0x01, 1, nsid=1, prp1=IOVA + BUF + 0x200, prp2=IOVA + PRPL, cdw12=31)) +
    io(1, sqe(0x02, 2, nsid=1, prp1=IOVA + RBUF, prp2=IOVA + PRPL, cdw12=31)),
    "io_sgl": bytes([P_ALL]) + io_queues() +
    memw(SGL, struct.pack("<QI3xB", IOVA + BUF, 0x800, 0x00) +
         struct.pack("<QI3xB", IOVA + BUF + 0x2000, 0x800, 0x00)) +
    io(0, sqe(0x01, 1, nsid=1, prp1=IOVA + SGL, prp2=(0x30 << 56) | 32, cdw12=7, flags=0x40)) +
    io(1, sqe(0x02, 2, nsid=1, prp1=IOVA + BUF, prp2=(0x00 << 56) | 4096, cdw12=7,
              flags=0x40)),
    "delete_queues": bytes([P_ALL]) + io_queues() +
    admin(3, sqe(0x00, 4, cdw10=1)) + admin(4, sqe(0x04, 5, cdw10=1)),
    "unmap_reset": bytes([P_ALL]) + io_queues() +
    memw(IOSQ, sqe(0x02, 1, nsid=1, prp1=IOVA + RBUF, cdw12=7)) + doorbell(2, 1) +
    msg(DMA_UNMAP, struct.pack("<IIQQ", 24, 0, IOVA, 0x40000)) + SYNC + msg(RESET) + SYNC +
    region_read(BAR0, 0x1c, 4),
    "cq_full": bytes([P_ALL]) + io_queues() +
    b"".join(memw(IOSQ + 64 * i, sqe(0x00, i, nsid=1)) for i in range(63)) + doorbell(2, 63) +
    SYNC + doorbell(3, 30) + doorbell(3, 62) + reg(0x14, 0),
}

os.makedirs(OUT, exist_ok=True)
for name, body in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(body)
