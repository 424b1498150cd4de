// SPDX-License-Identifier: MIT
/*
 * vfio-user server (QEMU docs/interop/vfio-user.rst, protocol 0.1): a vfio-user port exports
 * one PCIe NVMe controller (pcie.c) of the port's first subsystem to one client at a time
 * (QEMU's vfio-user-pci) on a UNIX stream socket.
 *
 * This file is the device around the controller: the listener, the connection and its
 * message dispatch, the DMA map table (guest memory mmapped from the fds that come with
 * DMA_MAP), the MSI-X eventfds and the PCI configuration space. BAR0 accesses go to the
 * controller model, which reaches guest memory and interrupts through the two callbacks
 * below.
 *
 * The PCI function: vendor 4E56h ("NV", not a PCI-SIG assigned ID; drivers bind NVMe by
 * class code 010802h), device 0001h; BAR0 64-bit memory, 16 KiB (registers and doorbells,
 * CAP.DSTRD 0); BAR4 32-bit memory, 16 KiB, holding the MSI-X table (offset 0) and PBA
 * (offset 2000h), which the client emulates itself; capabilities power management (40h),
 * MSI-X (50h) and PCI Express endpoint (60h); no INTx pin and no MSI.
 *
 * Every message is checked (size, argsz, index, offset + count inside the region, the
 * number of descriptors); a malformed one ends the client: the socket is closed, the
 * controller torn down as on CC.EN = 0 (waiting for commands in flight), then DMA maps and
 * eventfds are released and the next client may come. Requests that are well formed but
 * not possible get an error reply. A DMA_MAP without a descriptor is kept, but the device
 * cannot reach it: commands whose data lies there fail with Data Transfer Error (no
 * DMA_READ/WRITE messages). DMA_UNMAP and DEVICE_RESET are answered only once no command in
 * flight can still use the memory (the connection reads nothing else meanwhile).
 *
 * Everything of a port runs on one reactor (the listener, the connection, the controller's
 * queues and requests). Doorbells come as REGION_WRITE messages; mmapped (sparse) doorbells
 * would be the next speed step.
 */
#include "core.h"
#include "pcie.h"

#include "common/log.h"
#include "vfio-user/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VFU_VENDOR_ID 0x4e56
#define VFU_DEVICE_ID 0x0001
#define VFU_CFG_SIZE 4096u
#define VFU_BAR4_SIZE 0x4000u
#define VFU_PBA_OFFSET 0x2000u
#define VFU_MAX_VECTORS 512u /* the table fits below the PBA: 512 * 16 bytes */
#define VFU_MAX_XFER 1048576u
#define VFU_MAX_MSG (2 * sizeof(struct vfio_user_header) + VFU_MAX_XFER)
#define VFU_MAX_DMA_MAPS 4096u
#define VFU_PAGE 4096u

/* Configuration space layout */
#define CAP_PM 0x40
#define CAP_MSIX 0x50
#define CAP_EXP 0x60
#define CAP_EXP_LEN 0x3c
#define PCI_COMMAND 0x04
#define PCI_STATUS_CAP_LIST 0x10
#define BAR_MEM_64 0x4u

struct vfu_dma {
	uint64_t addr;
	uint64_t size;
	uint32_t flags; /* VFIO_USER_F_DMA_REGION_* */
	uint8_t *map;	/* NULL: no descriptor came, the device cannot reach it */
};

enum vfu_wait {
	WAIT_NONE = 0,
	WAIT_UNMAP, /* DMA_UNMAP: until no command with host-bound data is in flight */
	WAIT_RESET, /* DEVICE_RESET: until the controller is torn down */
};

struct vfu_port;

struct vfu_conn {
	struct vfu_port *vp;
	struct nvmf_fd_handler h;
	struct nvmf_vfu_rx rx;
	bool versioned;
	bool dead; /* ended: waiting for the controller to drain, then freed */
	enum vfu_wait wait;
	uint32_t max_xfer; /* negotiated max_data_xfer_size */
	struct vfu_dma *dma;
	unsigned int nr_dma;
	unsigned int last_dma; /* lookup hint */
	int irq_fds[VFU_MAX_VECTORS];
	uint16_t nr_vectors;
	uint8_t cfg[VFU_CFG_SIZE];
	uint8_t cfg_wmask[VFU_CFG_SIZE];
	uint8_t bar4[VFU_BAR4_SIZE];
	struct nvmf_pcie_ctrl *pc;
	struct nvmf_deferred free_work;
};

struct vfu_port {
	struct nvmf_tgt_port *port;
	struct nvmf_tgt *tgt;
	struct nvmf_reactor *r;
	struct nvmf_fd_handler lh;
	struct vfu_conn *conn;
	int pending_fd; /* a client that came while the last one was still draining */
	bool closing;
	atomic_bool gone; /* closing, and the connection freed (remove_port waits) */
};

static void conn_end(struct vfu_conn *vc, const char *why);
static void conn_create(struct vfu_port *vp, int fd);

/* ------------------------------------------------------------------------------------------
 * DMA table and interrupts: the controller model's callbacks
 */

static struct vfu_dma *dma_find(struct vfu_conn *vc, uint64_t addr, uint64_t len)
{
	if (vc->last_dma < vc->nr_dma) {
		struct vfu_dma *d = &vc->dma[vc->last_dma];

		if (addr >= d->addr && addr - d->addr < d->size &&
		    len <= d->size - (addr - d->addr))
			return d;
	}
	for (unsigned int i = 0; i < vc->nr_dma; i++) {
		struct vfu_dma *d = &vc->dma[i];

		if (addr >= d->addr && addr - d->addr < d->size &&
		    len <= d->size - (addr - d->addr)) {
			vc->last_dma = i;
			return d;
		}
	}
	return NULL;
}

static void *vfu_dma(void *priv, uint64_t addr, uint32_t len, bool write)
{
	struct vfu_conn *vc = priv;
	struct vfu_dma *d = dma_find(vc, addr, len);

	if (!d || !d->map)
		return NULL;
	if (!(d->flags & (write ? VFIO_USER_F_DMA_REGION_WRITE : VFIO_USER_F_DMA_REGION_READ)))
		return NULL;
	return d->map + (addr - d->addr);
}

static void vfu_irq(void *priv, uint16_t vector)
{
	struct vfu_conn *vc = priv;
	uint64_t one = 1;

	if (vc->dead || vector >= vc->nr_vectors || vc->irq_fds[vector] < 0)
		return;
	/* a full eventfd counter still signals: nothing to do about EAGAIN */
	if (write(vc->irq_fds[vector], &one, sizeof(one)) < 0 && errno != EAGAIN)
		nvmf_debug("vfio-user: eventfd of vector %u: %s", vector, strerror(errno));
}

static void conn_free(struct vfu_conn *vc);

static void conn_free_work(struct nvmf_deferred *d)
{
	struct vfu_conn *vc = (struct vfu_conn *)((char *)d - offsetof(struct vfu_conn, free_work));

	if (!nvmf_pcie_busy(vc->pc) && !nvmf_pcie_dma_busy(vc->pc))
		conn_free(vc);
}

static void conn_resume(struct vfu_conn *vc)
{
	vc->wait = WAIT_NONE;
	nvmf_vfu_rx_done(&vc->rx);
	nvmf_reactor_fd_mod(vc->vp->r, &vc->h, EPOLLIN);
}

static void finish_unmap(struct vfu_conn *vc);

/* The controller's state changed: finish what the connection waits for */
static void vfu_event(void *priv)
{
	struct vfu_conn *vc = priv;

	if (vc->dead) {
		if (!nvmf_pcie_busy(vc->pc) && !nvmf_pcie_dma_busy(vc->pc))
			nvmf_reactor_defer(vc->vp->r, &vc->free_work);
		return;
	}
	if (vc->wait == WAIT_UNMAP && !nvmf_pcie_dma_busy(vc->pc)) {
		finish_unmap(vc);
	} else if (vc->wait == WAIT_RESET && !nvmf_pcie_busy(vc->pc)) {
		if (nvmf_vfu_reply(vc->h.fd, nvmf_vfu_rx_hdr(&vc->rx), 0, NULL, 0, NULL, 0) < 0) {
			conn_end(vc, "reply failed");
			return;
		}
		conn_resume(vc);
	}
}

static const struct nvmf_pcie_ops vfu_pcie_ops = {
	.dma = vfu_dma,
	.irq = vfu_irq,
	.event = vfu_event,
};

/* ------------------------------------------------------------------------------------------
 * PCI configuration space (PCI Local Bus 3.0 6; PCI Express Base 4.0 7.5.3)
 */

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void cfg_init(struct vfu_conn *vc)
{
	uint8_t *c = vc->cfg, *w = vc->cfg_wmask;

	memset(c, 0, VFU_CFG_SIZE);
	memset(w, 0, VFU_CFG_SIZE);
	put16(c + 0x00, VFU_VENDOR_ID);
	put16(c + 0x02, VFU_DEVICE_ID);
	put16(w + PCI_COMMAND, 0x0547); /* I/O, memory, bus master, parity, SERR, INTx off */
	put16(c + 0x06, PCI_STATUS_CAP_LIST);
	c[0x09] = 0x02; /* programming interface: NVM Express */
	c[0x0a] = 0x08; /* subclass: non-volatile memory controller */
	c[0x0b] = 0x01; /* class: mass storage */
	/* BAR0: 64-bit memory; the low bits below its size read as zero when sized */
	put32(c + 0x10, BAR_MEM_64);
	put32(w + 0x10, ~(NVMF_PCIE_BAR0_SIZE - 1));
	put32(w + 0x14, 0xffffffff);
	/* BAR4: 32-bit memory, the MSI-X table and PBA */
	put32(w + 0x20, ~(VFU_BAR4_SIZE - 1));
	put16(c + 0x2c, VFU_VENDOR_ID); /* subsystem vendor and ID */
	put16(c + 0x2e, VFU_DEVICE_ID);
	c[0x34] = CAP_PM;
	w[0x3c] = 0xff; /* interrupt line: the OS's scratch byte */

	/* power management: version 3, D0 only, no soft reset on D3hot -> D0 */
	c[CAP_PM] = 0x01;
	c[CAP_PM + 1] = CAP_MSIX;
	put16(c + CAP_PM + 2, 0x0003);
	put16(c + CAP_PM + 4, 0x0008);
	w[CAP_PM + 4] = 0x03;

	/* MSI-X: table at BAR4 + 0, PBA at BAR4 + 2000h; enable and function mask writable */
	c[CAP_MSIX] = 0x11;
	c[CAP_MSIX + 1] = CAP_EXP;
	put16(c + CAP_MSIX + 2, (uint16_t)(vc->nr_vectors - 1));
	w[CAP_MSIX + 3] = 0xc0;
	put32(c + CAP_MSIX + 4, 0x0 | 4);
	put32(c + CAP_MSIX + 8, VFU_PBA_OFFSET | 4);

	/* PCI Express capability version 2, endpoint; x1 link at 2.5 GT/s */
	c[CAP_EXP] = 0x10;
	c[CAP_EXP + 1] = 0;
	put16(c + CAP_EXP + 2, 0x0002);
	put16(w + CAP_EXP + 8, 0xffff);	       /* device control */
	put32(c + CAP_EXP + 0x0c, 0x00000011); /* link capabilities */
	put16(w + CAP_EXP + 0x10, 0x01c3);     /* link control (ASPM, RCB, CCC, ES) */
	put16(c + CAP_EXP + 0x12, 0x0011);     /* link status */
	put16(w + CAP_EXP + 0x28, 0xffff);     /* device control 2 */
	static_assert(CAP_EXP + CAP_EXP_LEN <= 0x100, "capabilities in the PCI 3.0 space");
}

static void cfg_write(struct vfu_conn *vc, uint64_t off, const uint8_t *data, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t m = vc->cfg_wmask[off + i];

		vc->cfg[off + i] = (uint8_t)((vc->cfg[off + i] & ~m) | (data[i] & m));
	}
}

/* ------------------------------------------------------------------------------------------
 * Messages
 */

static uint64_t region_size(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		return NVMF_PCIE_BAR0_SIZE;
	case VFIO_PCI_BAR4_REGION_INDEX:
		return VFU_BAR4_SIZE;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return VFU_CFG_SIZE;
	default:
		return 0;
	}
}

static int reply(struct vfu_conn *vc, int err, const void *p1, size_t len1, const void *p2,
		 size_t len2)
{
	return nvmf_vfu_reply(vc->h.fd, nvmf_vfu_rx_hdr(&vc->rx), err, p1, len1, p2, len2);
}

/* A JSON number member of @caps, if present and a non-negative integer */
static int cap_u64(struct json_object *caps, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!caps || !json_object_object_get_ex(caps, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EPROTO;
	*out = (uint64_t)json_object_get_int64(v);
	return 1;
}

static int handle_version(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_version v, rv;
	struct json_object *root = NULL, *caps = NULL, *out, *ocaps;
	uint64_t val;
	const char *js;
	int ret = 0, has;

	if (vc->versioned || len < sizeof(v))
		return -EPROTO;
	memcpy(&v, pl, sizeof(v));
	if (v.major != VFIO_USER_MAJOR) {
		reply(vc, ENOTSUP, NULL, 0, NULL, 0);
		return -EPROTO;
	}
	if (len > sizeof(v)) {
		const char *data = (const char *)pl + sizeof(v);
		size_t n = len - sizeof(v);

		/* the JSON text ends with its NUL inside the message */
		if (!memchr(data, '\0', n))
			return -EPROTO;
		root = json_tokener_parse(data);
		if (!root || !json_object_is_type(root, json_type_object)) {
			json_object_put(root);
			return -EPROTO;
		}
		if (json_object_object_get_ex(root, "capabilities", &caps) &&
		    !json_object_is_type(caps, json_type_object)) {
			json_object_put(root);
			return -EPROTO;
		}
	}
	/* our reply names a subset of the capabilities the client proposed */
	out = json_object_new_object();
	ocaps = json_object_new_object();
	has = cap_u64(caps, "max_msg_fds", &val);
	if (has > 0)
		json_object_object_add(ocaps, "max_msg_fds",
				       json_object_new_int(VFIO_USER_MAX_MSG_FDS));
	if (has >= 0) {
		has = cap_u64(caps, "max_data_xfer_size", &val);
		vc->max_xfer = VFU_MAX_XFER;
		if (has > 0 && val < vc->max_xfer)
			vc->max_xfer = (uint32_t)val;
		if (has > 0)
			json_object_object_add(ocaps, "max_data_xfer_size",
					       json_object_new_int64(vc->max_xfer));
	}
	if (has >= 0) {
		has = cap_u64(caps, "max_dma_maps", &val);
		if (has > 0)
			json_object_object_add(ocaps, "max_dma_maps",
					       json_object_new_int64(val < VFU_MAX_DMA_MAPS
									     ? val
									     : VFU_MAX_DMA_MAPS));
	}
	if (has >= 0) {
		has = cap_u64(caps, "pgsizes", &val);
		if (has > 0 && !(val & VFU_PAGE))
			has = -ENOTSUP; /* we map 4 KiB pages */
		if (has > 0)
			json_object_object_add(ocaps, "pgsizes", json_object_new_int64(VFU_PAGE));
	}
	json_object_object_add(out, "capabilities", ocaps);
	if (has < 0) {
		if (has == -ENOTSUP)
			reply(vc, ENOTSUP, NULL, 0, NULL, 0);
		ret = -EPROTO;
		goto out;
	}
	rv.major = VFIO_USER_MAJOR;
	rv.minor = v.minor < VFIO_USER_MINOR ? v.minor : VFIO_USER_MINOR;
	js = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN);
	if (reply(vc, 0, &rv, sizeof(rv), js, strlen(js) + 1) < 0)
		ret = -EPIPE;
	vc->versioned = true;
out:
	json_object_put(out);
	json_object_put(root);
	return ret;
}

static int handle_dma_map(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	const uint32_t known = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE |
			       VFIO_USER_F_DMA_ACCESS_MMAP | VFIO_USER_F_DMA_ACCESS_FILEIO;
	struct vfio_user_dma_map m;
	struct vfu_dma *arr, d = { 0 };
	struct stat st;
	int fd, prot = 0;

	if (len < sizeof(m) || vc->rx.nr_fds > 1)
		return -EPROTO;
	memcpy(&m, pl, sizeof(m));
	if (m.argsz < sizeof(m) || m.argsz > len)
		return -EPROTO;
	if ((m.flags & ~known) || !m.size || m.addr + m.size < m.addr ||
	    ((m.flags & (VFIO_USER_F_DMA_ACCESS_MMAP | VFIO_USER_F_DMA_ACCESS_FILEIO)) &&
	     !vc->rx.nr_fds))
		return reply(vc, EINVAL, NULL, 0, NULL, 0);
	for (unsigned int i = 0; i < vc->nr_dma; i++)
		if (m.addr < vc->dma[i].addr + vc->dma[i].size && vc->dma[i].addr < m.addr + m.size)
			return reply(vc, EEXIST, NULL, 0, NULL, 0);
	if (vc->nr_dma >= VFU_MAX_DMA_MAPS)
		return reply(vc, ENOSPC, NULL, 0, NULL, 0);
	d.addr = m.addr;
	d.size = m.size;
	d.flags = m.flags;
	if (vc->rx.nr_fds) {
		if ((m.offset | m.size) & (VFU_PAGE - 1))
			return reply(vc, EINVAL, NULL, 0, NULL, 0);
		if (m.flags & VFIO_USER_F_DMA_REGION_READ)
			prot |= PROT_READ;
		if (m.flags & VFIO_USER_F_DMA_REGION_WRITE)
			prot |= PROT_WRITE;
		fd = nvmf_vfu_rx_take_fd(&vc->rx, 0);
		/*
		 * Pages beyond the end of the file would raise SIGBUS when the device touches
		 * them: the range must lie inside a regular file (memfd, tmpfs, hugetlbfs).
		 */
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || m.offset > (uint64_t)st.st_size ||
		    m.size > (uint64_t)st.st_size - m.offset) {
			close(fd);
			return reply(vc, EINVAL, NULL, 0, NULL, 0);
		}
		d.map = mmap(NULL, m.size, prot ? prot : PROT_NONE, MAP_SHARED, fd,
			     (off_t)m.offset);
		close(fd); /* the mapping keeps the file */
		if (d.map == MAP_FAILED) {
			int err = errno;

			nvmf_warn("vfio-user: DMA_MAP %#llx+%#llx: mmap: %s",
				  (unsigned long long)m.addr, (unsigned long long)m.size,
				  strerror(err));
			return reply(vc, err, NULL, 0, NULL, 0);
		}
	} else {
		nvmf_warn("vfio-user: DMA_MAP %#llx+%#llx without a descriptor: commands with "
			  "data there will fail (Data Transfer Error)",
			  (unsigned long long)m.addr, (unsigned long long)m.size);
	}
	arr = realloc(vc->dma, (vc->nr_dma + 1) * sizeof(*arr));
	if (!arr) {
		if (d.map)
			munmap(d.map, d.size);
		return reply(vc, ENOMEM, NULL, 0, NULL, 0);
	}
	vc->dma = arr;
	vc->dma[vc->nr_dma++] = d;
	return reply(vc, 0, NULL, 0, NULL, 0);
}

static struct vfio_user_dma_unmap *pending_unmap(struct vfu_conn *vc)
{
	return (struct vfio_user_dma_unmap *)nvmf_vfu_rx_payload(&vc->rx);
}

/* No command in flight can use guest memory any more: unmap and answer */
static void finish_unmap(struct vfu_conn *vc)
{
	struct vfio_user_dma_unmap u;

	memcpy(&u, pending_unmap(vc), sizeof(u));
	for (unsigned int i = 0; i < vc->nr_dma; i++) {
		if (vc->dma[i].addr != u.addr || vc->dma[i].size != u.size)
			continue;
		if (vc->dma[i].map)
			munmap(vc->dma[i].map, vc->dma[i].size);
		vc->dma[i] = vc->dma[--vc->nr_dma];
		vc->last_dma = 0;
		break;
	}
	if (reply(vc, 0, &u, sizeof(u), NULL, 0) < 0) {
		conn_end(vc, "reply failed");
		return;
	}
	if (vc->wait == WAIT_UNMAP)
		conn_resume(vc);
}

/* Return: 0 done, 1 waiting (the message stays in rx), <0 protocol error */
static int handle_dma_unmap(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_dma_unmap u;
	bool found = false;

	if (len < sizeof(u) || vc->rx.nr_fds)
		return -EPROTO;
	memcpy(&u, pl, sizeof(u));
	if (u.argsz < sizeof(u))
		return -EPROTO;
	/* no dirty page bitmaps, no "unmap all" */
	if (u.flags)
		return reply(vc, EINVAL, NULL, 0, NULL, 0);
	for (unsigned int i = 0; i < vc->nr_dma; i++)
		found |= vc->dma[i].addr == u.addr && vc->dma[i].size == u.size;
	if (!found)
		return reply(vc, ENOENT, NULL, 0, NULL, 0);
	/* vfio-user.rst: release every reference to the region before replying */
	if (nvmf_pcie_dma_busy(vc->pc)) {
		vc->wait = WAIT_UNMAP;
		return 1;
	}
	finish_unmap(vc);
	return vc->dead ? -EPIPE : 0;
}

static int handle_device_info(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_device_info in, out = {
		.argsz = sizeof(out),
		.flags = VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
		.num_regions = VFIO_PCI_NUM_REGIONS,
		.num_irqs = VFIO_PCI_NUM_IRQS,
	};

	if (len < sizeof(in) || vc->rx.nr_fds)
		return -EPROTO;
	memcpy(&in, pl, sizeof(in));
	if (in.argsz < sizeof(in))
		return -EPROTO;
	return reply(vc, 0, &out, sizeof(out), NULL, 0);
}

static int handle_region_info(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_region_info in, out;

	if (len < sizeof(in) || vc->rx.nr_fds)
		return -EPROTO;
	memcpy(&in, pl, sizeof(in));
	if (in.argsz < sizeof(in) || in.index >= VFIO_PCI_NUM_REGIONS)
		return -EPROTO;
	memset(&out, 0, sizeof(out));
	out.argsz = sizeof(out);
	out.index = in.index;
	out.size = region_size(in.index);
	if (out.size)
		out.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	return reply(vc, 0, &out, sizeof(out), NULL, 0);
}

static int handle_irq_info(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_irq_info in, out;

	if (len < sizeof(in) || vc->rx.nr_fds)
		return -EPROTO;
	memcpy(&in, pl, sizeof(in));
	if (in.argsz < sizeof(in) || in.index >= VFIO_PCI_NUM_IRQS)
		return -EPROTO;
	memset(&out, 0, sizeof(out));
	out.argsz = sizeof(out);
	out.index = in.index;
	out.flags = VFIO_IRQ_INFO_EVENTFD;
	/* MSI-X only: no interrupt pin, no MSI capability, no error or request interrupts */
	if (in.index == VFIO_PCI_MSIX_IRQ_INDEX) {
		out.flags |= VFIO_IRQ_INFO_NORESIZE;
		out.count = vc->nr_vectors;
	}
	return reply(vc, 0, &out, sizeof(out), NULL, 0);
}

static void irq_close(struct vfu_conn *vc, uint32_t start, uint32_t count)
{
	for (uint32_t i = start; i < start + count; i++) {
		if (vc->irq_fds[i] >= 0)
			close(vc->irq_fds[i]);
		vc->irq_fds[i] = -1;
	}
}

static int handle_set_irqs(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_irq_set s;
	uint32_t data, action;
	uint64_t one = 1;

	if (len < sizeof(s))
		return -EPROTO;
	memcpy(&s, pl, sizeof(s));
	data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	/* exactly one data type and one action; nothing else (vfio-user.rst SET_IRQS) */
	if (s.argsz < sizeof(s) || s.argsz > len || s.index >= VFIO_PCI_NUM_IRQS ||
	    (s.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) ||
	    __builtin_popcount(data) != 1 || __builtin_popcount(action) != 1)
		return -EPROTO;
	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (vc->rx.nr_fds != 0 && vc->rx.nr_fds != s.count)
			return -EPROTO;
	} else if (vc->rx.nr_fds) {
		return -EPROTO;
	}
	if (data == VFIO_IRQ_SET_DATA_BOOL && s.argsz < sizeof(s) + (uint64_t)s.count)
		return -EPROTO;
	if (s.index != VFIO_PCI_MSIX_IRQ_INDEX) {
		/* INTx and MSI have no vectors here: only "disable all" (count 0) is possible */
		return reply(vc, s.count ? EINVAL : 0, NULL, 0, NULL, 0);
	}
	if (s.start > vc->nr_vectors || s.count > vc->nr_vectors - s.start)
		return reply(vc, EINVAL, NULL, 0, NULL, 0);
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return reply(vc, 0, NULL, 0, NULL, 0); /* the client masks MSI-X itself */
	switch (data) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!s.count && !s.start) {
			irq_close(vc, 0, vc->nr_vectors); /* disable every vector */
			break;
		}
		for (uint32_t i = s.start; i < s.start + s.count; i++)
			vfu_irq(vc, (uint16_t)i);
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		for (uint32_t i = 0; i < s.count; i++)
			if (pl[sizeof(s) + i] && vc->irq_fds[s.start + i] >= 0 &&
			    write(vc->irq_fds[s.start + i], &one, sizeof(one)) < 0)
				nvmf_debug("vfio-user: eventfd: %s", strerror(errno));
		break;
	default: /* eventfds: assign, or de-assign when none came */
		irq_close(vc, s.start, s.count);
		for (uint32_t i = 0; i < vc->rx.nr_fds; i++) {
			int fd = nvmf_vfu_rx_take_fd(&vc->rx, i);

			/*
			 * The reactor must never block on an interrupt: a descriptor that is
			 * not a non-blocking eventfd (a pipe, say) would stop it once full.
			 */
			if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
				nvmf_debug("vfio-user: eventfd flags: %s", strerror(errno));
			vc->irq_fds[s.start + i] = fd;
		}
		break;
	}
	return reply(vc, 0, NULL, 0, NULL, 0);
}

/* The region access header, checked: index, offset + count inside, count allowed */
static int region_access(struct vfu_conn *vc, const uint8_t *pl, uint32_t len,
			 struct vfio_user_region_access *a)
{
	uint64_t size;

	if (len < sizeof(*a) || vc->rx.nr_fds)
		return -EPROTO;
	memcpy(a, pl, sizeof(*a));
	size = a->region < VFIO_PCI_NUM_REGIONS ? region_size(a->region) : 0;
	if (!size || a->offset > size || a->count > size - a->offset || a->count > vc->max_xfer)
		return -EPROTO;
	return 0;
}

static int handle_region_read(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_region_access a;
	uint8_t small[64], *buf = small;
	int ret = region_access(vc, pl, len, &a);

	if (ret)
		return ret;
	if (len != sizeof(a))
		return -EPROTO;
	if (a.count > sizeof(small)) {
		buf = malloc(a.count);
		if (!buf)
			return reply(vc, ENOMEM, NULL, 0, NULL, 0);
	}
	switch (a.region) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		nvmf_pcie_bar0_read(vc->pc, a.offset, buf, a.count);
		break;
	case VFIO_PCI_BAR4_REGION_INDEX:
		memcpy(buf, vc->bar4 + a.offset, a.count);
		break;
	default:
		memcpy(buf, vc->cfg + a.offset, a.count);
		break;
	}
	ret = reply(vc, 0, &a, sizeof(a), buf, a.count);
	if (buf != small)
		free(buf);
	return ret;
}

static int handle_region_write(struct vfu_conn *vc, const uint8_t *pl, uint32_t len)
{
	struct vfio_user_region_access a;
	const uint8_t *data = pl + sizeof(a);
	int ret = region_access(vc, pl, len, &a);

	if (ret)
		return ret;
	if (len != sizeof(a) + (uint64_t)a.count)
		return -EPROTO;
	switch (a.region) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		/* the reply comes after the write took effect, doorbells included */
		nvmf_pcie_bar0_write(vc->pc, a.offset, data, a.count);
		break;
	case VFIO_PCI_BAR4_REGION_INDEX:
		memcpy(vc->bar4 + a.offset, data, a.count);
		break;
	default:
		cfg_write(vc, a.offset, data, a.count);
		break;
	}
	if (vc->dead)
		return -EPIPE;
	return reply(vc, 0, &a, sizeof(a), NULL, 0);
}

/* Return: 1 waiting for the controller (the message stays in rx) */
static int handle_reset(struct vfu_conn *vc, uint32_t len)
{
	if (len || vc->rx.nr_fds)
		return -EPROTO;
	nvmf_pcie_reset(vc->pc);
	/* the function's command register back to its reset value too */
	put16(vc->cfg + PCI_COMMAND, 0);
	if (nvmf_pcie_busy(vc->pc)) {
		vc->wait = WAIT_RESET;
		return 1;
	}
	return reply(vc, 0, NULL, 0, NULL, 0);
}

/* Return: 0 handled, 1 waiting for the controller, <0 the client ends */
static int handle_msg(struct vfu_conn *vc)
{
	struct vfio_user_header *h = nvmf_vfu_rx_hdr(&vc->rx);
	const uint8_t *pl = nvmf_vfu_rx_payload(&vc->rx);
	uint32_t len = h->msg_size - (uint32_t)sizeof(*h);

	/* we send no commands: a reply, or an error flag, from the client is nonsense */
	if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND ||
	    (h->flags & VFIO_USER_F_ERROR))
		return -EPROTO;
	if (!vc->versioned && h->command != VFIO_USER_VERSION)
		return -EPROTO;
	switch (h->command) {
	case VFIO_USER_VERSION:
		return handle_version(vc, pl, len);
	case VFIO_USER_DMA_MAP:
		return handle_dma_map(vc, pl, len);
	case VFIO_USER_DMA_UNMAP:
		return handle_dma_unmap(vc, pl, len);
	case VFIO_USER_DEVICE_GET_INFO:
		return handle_device_info(vc, pl, len);
	case VFIO_USER_DEVICE_GET_REGION_INFO:
		return handle_region_info(vc, pl, len);
	case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
		/* no ioregionfd: the client uses REGION_READ/WRITE */
		return vc->rx.nr_fds ? -EPROTO : reply(vc, ENOTSUP, NULL, 0, NULL, 0);
	case VFIO_USER_DEVICE_GET_IRQ_INFO:
		return handle_irq_info(vc, pl, len);
	case VFIO_USER_DEVICE_SET_IRQS:
		return handle_set_irqs(vc, pl, len);
	case VFIO_USER_REGION_READ:
		return handle_region_read(vc, pl, len);
	case VFIO_USER_REGION_WRITE:
		return handle_region_write(vc, pl, len);
	case VFIO_USER_DEVICE_RESET:
		return handle_reset(vc, len);
	default:
		/* DMA_READ/WRITE go the other way; WRITE_MULTI and migration are not offered */
		return -EPROTO;
	}
}

static void conn_event(struct nvmf_fd_handler *h, uint32_t events)
{
	struct vfu_conn *vc = (struct vfu_conn *)((char *)h - offsetof(struct vfu_conn, h));

	if (vc->dead)
		return;
	if (vc->wait != WAIT_NONE) {
		/* reading nothing until the controller lets the pending reply go */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_end(vc, "client closed the connection");
		return;
	}
	for (int i = 0; i < 64; i++) {
		int ret = nvmf_vfu_rx_read(h->fd, &vc->rx);
		struct vfio_user_header *hdr = nvmf_vfu_rx_hdr(&vc->rx);

		if (ret == 0)
			return;
		if (ret < 0) {
			if (ret == -ECONNRESET)
				conn_end(vc, "client closed the connection");
			else if (ret == -EMSGSIZE)
				conn_end(vc, "message too large");
			else
				conn_end(vc, ret == -EPROTO ? "malformed message header"
							    : strerror(-ret));
			return;
		}
		ret = handle_msg(vc);
		if (ret == 1) {
			nvmf_reactor_fd_mod(vc->vp->r, &vc->h, 0);
			return;
		}
		if (ret < 0) {
			char why[96];

			snprintf(why, sizeof(why), "%s (command %u, %u bytes)",
				 ret == -EPROTO ? "malformed message" : "reply failed",
				 hdr->command, hdr->msg_size);
			conn_end(vc, why);
			return;
		}
		nvmf_vfu_rx_done(&vc->rx);
		/*
		 * Interrupts and completions the controller deferred go out at the end of this
		 * loop iteration: end it now rather than after the client's next messages.
		 */
		if (vc->dead || nvmf_pcie_work_pending(vc->pc))
			return;
	}
}

/* ------------------------------------------------------------------------------------------
 * Connections and the listener
 */

static void conn_create(struct vfu_port *vp, int fd)
{
	struct vfu_conn *vc = calloc(1, sizeof(*vc));
	struct nvmf_pcie_params pp = {
		.tgt = vp->tgt,
		.port = vp->port,
		.reactor = vp->r,
		.ops = &vfu_pcie_ops,
	};
	uint16_t maxq = vp->port->vfu.max_io_queues ? vp->port->vfu.max_io_queues
						    : vp->tgt->opts.max_io_queues;

	if (!vc)
		goto out_close;
	if (nvmf_vfu_rx_init(&vc->rx, VFU_MAX_MSG) < 0)
		goto out_free;
	if (!maxq || maxq > NVMF_TGT_MAX_IO_QUEUES)
		maxq = NVMF_TGT_MAX_IO_QUEUES;
	/* one vector per I/O queue and one for the admin queue */
	vc->nr_vectors = (uint16_t)(maxq + 1);
	for (unsigned int i = 0; i < VFU_MAX_VECTORS; i++)
		vc->irq_fds[i] = -1;
	vc->vp = vp;
	vc->max_xfer = VFU_MAX_XFER;
	vc->free_work.fn = conn_free_work;
	pp.priv = vc;
	pp.nr_vectors = vc->nr_vectors;
	vc->pc = nvmf_pcie_ctrl_alloc(&pp);
	if (!vc->pc)
		goto out_rx;
	cfg_init(vc);
	vc->h.fd = fd;
	vc->h.cb = conn_event;
	if (nvmf_reactor_fd_add(vp->r, &vc->h, EPOLLIN) < 0)
		goto out_pc;
	vp->conn = vc;
	nvmf_info("vfio-user port %u: client connected on %s", vp->port->portid, vp->port->traddr);
	return;

out_pc:
	nvmf_pcie_ctrl_free(vc->pc);
out_rx:
	nvmf_vfu_rx_fini(&vc->rx);
out_free:
	free(vc);
out_close:
	nvmf_err("vfio-user port %u: out of memory for a client", vp->port->portid);
	close(fd);
}

static void conn_free(struct vfu_conn *vc)
{
	struct vfu_port *vp = vc->vp;

	for (unsigned int i = 0; i < vc->nr_dma; i++)
		if (vc->dma[i].map)
			munmap(vc->dma[i].map, vc->dma[i].size);
	free(vc->dma);
	irq_close(vc, 0, vc->nr_vectors);
	nvmf_pcie_ctrl_free(vc->pc);
	nvmf_vfu_rx_fini(&vc->rx);
	free(vc);
	vp->conn = NULL;
	nvmf_info("vfio-user port %u: client gone, DMA maps and eventfds released",
		  vp->port->portid);
	if (vp->closing) {
		atomic_store(&vp->gone, true);
		return;
	}
	if (vp->pending_fd >= 0) {
		int fd = vp->pending_fd;

		vp->pending_fd = -1;
		conn_create(vp, fd);
	}
}

/*
 * The client goes (it closed, sent nonsense, or the port goes): close the socket now, tear
 * the controller down as on CC.EN = 0, and free everything once no command is in flight.
 */
static void conn_end(struct vfu_conn *vc, const char *why)
{
	if (vc->dead)
		return;
	vc->dead = true;
	nvmf_info("vfio-user port %u: client ends: %s", vc->vp->port->portid, why);
	nvmf_reactor_fd_del(vc->vp->r, &vc->h);
	close(vc->h.fd);
	vc->h.fd = -1;
	nvmf_pcie_reset(vc->pc);
	nvmf_reactor_defer(vc->vp->r, &vc->free_work);
}

/* A connected client socket (accepted or adopted), on the port's reactor */
static void client_arrives(struct vfu_port *vp, int fd)
{
	if (vp->closing) {
		close(fd);
	} else if (!vp->conn) {
		conn_create(vp, fd);
	} else if (vp->conn->dead && vp->pending_fd < 0) {
		/* served as soon as the last client's controller is torn down */
		vp->pending_fd = fd;
	} else {
		/* one client at a time: the protocol does not share a device */
		nvmf_warn("vfio-user port %u: second client refused", vp->port->portid);
		close(fd);
	}
}

static void listener_event(struct nvmf_fd_handler *h, uint32_t events)
{
	struct vfu_port *vp = (struct vfu_port *)((char *)h - offsetof(struct vfu_port, lh));

	(void)events;
	for (;;) {
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nvmf_err("vfio-user port %u: accept: %s", vp->port->portid,
					 strerror(errno));
			return;
		}
		client_arrives(vp, fd);
	}
}

static int vfu_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a socket left by an earlier run is replaced; any other file is not ours */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

struct vfu_port_msg {
	struct vfu_port *vp;
	atomic_int done;
	int ret;
};

static void vfu_wait(struct vfu_port_msg *m)
{
	while (!atomic_load(&m->done)) {
		struct timespec ts = { .tv_nsec = 100000 };

		nanosleep(&ts, NULL);
	}
}

static void listener_add_on_reactor(void *arg)
{
	struct vfu_port_msg *m = arg;

	m->ret = nvmf_reactor_fd_add(m->vp->r, &m->vp->lh, EPOLLIN);
	atomic_store(&m->done, 1);
}

static int vfu_add_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port)
{
	struct vfu_port *vp = calloc(1, sizeof(*vp));
	struct vfu_port_msg m = { 0 };
	int fd;

	if (!vp)
		return -ENOMEM;
	fd = vfu_listen(port->traddr);
	if (fd < 0) {
		free(vp);
		return fd;
	}
	vp->port = port;
	vp->tgt = tgt;
	vp->r = nvmf_tgt_pick_reactor(tgt);
	vp->pending_fd = -1;
	vp->lh.fd = fd;
	vp->lh.cb = listener_event;
	m.vp = vp;
	if (nvmf_reactor_send(vp->r, listener_add_on_reactor, &m) < 0) {
		m.ret = -ENOMEM;
	} else {
		vfu_wait(&m);
	}
	if (m.ret < 0) {
		close(fd);
		unlink(port->traddr);
		free(vp);
		return m.ret;
	}
	port->priv = vp;
	return 0;
}

static void port_close_on_reactor(void *arg)
{
	struct vfu_port_msg *m = arg;
	struct vfu_port *vp = m->vp;

	nvmf_reactor_fd_del(vp->r, &vp->lh);
	close(vp->lh.fd);
	unlink(vp->port->traddr);
	if (vp->pending_fd >= 0) {
		close(vp->pending_fd);
		vp->pending_fd = -1;
	}
	vp->closing = true;
	if (vp->conn)
		conn_end(vp->conn, "port removed");
	else
		atomic_store(&vp->gone, true);
	atomic_store(&m->done, 1);
}

/* Stop listening and end the client; returns once its controller is torn down and freed. */
static void vfu_remove_port(struct nvmf_tgt_port *port)
{
	struct vfu_port *vp = port->priv;
	struct vfu_port_msg m = { 0 };
	uint64_t next_log;

	if (!vp)
		return;
	m.vp = vp;
	if (nvmf_reactor_send(vp->r, port_close_on_reactor, &m) < 0) {
		nvmf_err("vfio-user port %u: out of memory closing the port", port->portid);
		return;
	}
	vfu_wait(&m);
	next_log = nvmf_now_ns() + 5000000000ull;
	while (!atomic_load(&vp->gone)) {
		struct timespec ts = { .tv_nsec = 1000000 };

		nanosleep(&ts, NULL);
		if (nvmf_now_ns() > next_log) {
			nvmf_warn("vfio-user port %u: still waiting for commands in flight",
				  port->portid);
			next_log = nvmf_now_ns() + 5000000000ull;
		}
	}
	port->priv = NULL;
	free(vp);
}

struct vfu_adopt_msg {
	struct vfu_port *vp;
	int fd;
};

static void adopt_on_reactor(void *arg)
{
	struct vfu_adopt_msg *m = arg;

	client_arrives(m->vp, m->fd);
	free(m);
}

int nvmf_tgt_vfio_user_adopt_fd(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port, int fd)
{
	struct vfu_port *vp = port->priv;
	struct vfu_adopt_msg *m;
	int ret;

	(void)tgt;
	if (!vp || port->ops != &nvmf_tgt_vfio_user_ops)
		return -ENOTCONN;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vp = vp;
	m->fd = fd;
	ret = nvmf_reactor_send(vp->r, adopt_on_reactor, m);
	if (ret < 0)
		free(m);
	return ret;
}

/* remove_port, which nvmf_tgt_stop() calls first, has ended every client already */
static void vfu_stop(struct nvmf_tgt *tgt)
{
	(void)tgt;
}

const struct nvmf_tgt_transport_ops nvmf_tgt_vfio_user_ops = {
	.name = "vfio-user",
	.trtype = NVMF_TRTYPE_VFIO_USER,
	.add_port = vfu_add_port,
	.remove_port = vfu_remove_port,
	.queue_response = nvmf_pcie_queue_response,
	.disconnect_sq = nvmf_pcie_disconnect_sq,
	.stop = vfu_stop,
	.data_in = nvmf_pcie_data_in,
	.queue_admin = nvmf_pcie_queue_admin,
};
