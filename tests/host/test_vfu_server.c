// SPDX-License-Identifier: MIT
/*
 * The vfio-user server (lib/target/transport-vfio-user.c + pcie.c) spoken to by hand: an
 * embedded target with a vfio-user port and a memory namespace, a plain UNIX socket, guest
 * memory in a memfd passed with DMA_MAP, MSI-X eventfds, and an NVMe driver reduced to
 * register writes and queue entries. Malformed messages must end only that client.
 */
#include "nvmf/spec.h"
#include "nvmf/target.h"
#include "vfio-user/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SUBNQN "nqn.2014-08.org.nvmexpress:vfu-test"
#define MEM_BYTES (16u << 20)
#define GUEST_BYTES (4u << 20)
#define IOVA 0x40000000ull
#define PAGE 4096u
/* guest memory layout (offsets) */
#define ASQ_OFF 0x0000u
#define ACQ_OFF 0x1000u
#define IOSQ_OFF 0x2000u
#define IOCQ_OFF 0x3000u
#define PRPL_OFF 0x4000u
#define SGL_OFF 0x6000u
#define BUF_OFF 0x10000u
#define RBUF_OFF 0x100000u
#define AQ_ENTRIES 32u
#define IOQ_ENTRIES 64u

static char sock_path[108];
static struct nvmf_tgt *tgt;

struct client {
	int fd;
	uint16_t msg_id;
	struct nvmf_vfu_rx rx;
	uint8_t *mem; /* guest memory */
	int memfd;
	int efd[2];
	uint16_t sq_tail[2], cq_head[2], phase[2];
	uint16_t cid;
};

static int setup(void **state)
{
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN,
					     .allow_any_host = true,
					     .version = NVME_VS(1, 4, 0) };
	struct nvmf_tgt_ns_params ns = {
		.nsid = 1, .backend = NVMF_TGT_BACKEND_MEM, .size_bytes = MEM_BYTES, .enable = true
	};
	struct nvmf_tgt_port_params pp = { .portid = 7, .trtype = NVMF_TRTYPE_VFIO_USER };
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_port *port;

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/nvmf-vfu-test-%d.sock", (int)getpid());
	pp.traddr = sock_path;
	tgt = nvmf_tgt_create(&(struct nvmf_tgt_opts){ .nr_reactors = 2 });
	if (!tgt || nvmf_tgt_add_subsys(tgt, &sp, &s) || nvmf_tgt_subsys_add_ns(s, &ns) ||
	    nvmf_tgt_add_port(tgt, &pp, &port) || nvmf_tgt_port_add_subsys(port, s) ||
	    nvmf_tgt_start(tgt))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nvmf_tgt_destroy(tgt);
	/* the port's removal unlinked the socket */
	assert_int_equal(access(sock_path, F_OK), -1);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */

static int recv_msg(struct client *c, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int ret = nvmf_vfu_rx_read(c->fd, &c->rx);

		if (ret)
			return ret;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
	}
}

/* Send a command, wait for its reply; Return: <0 -errno (connection), else error_reply */
static int xfer(struct client *c, uint16_t cmd, const void *p1, size_t l1, const void *p2,
		size_t l2, const int *fds, unsigned int nfds, void *out, size_t out_len)
{
	struct vfio_user_header h = { .msg_id = ++c->msg_id, .command = cmd };
	struct vfio_user_header *r;
	int ret;

	nvmf_vfu_rx_done(&c->rx);
	ret = nvmf_vfu_send(c->fd, &h, p1, l1, p2, l2, fds, nfds, 2000);
	if (ret)
		return ret;
	ret = recv_msg(c, 5000);
	if (ret < 0)
		return ret;
	r = nvmf_vfu_rx_hdr(&c->rx);
	assert_int_equal(r->msg_id, h.msg_id);
	assert_int_equal(r->command, cmd);
	assert_true(r->flags & VFIO_USER_F_TYPE_REPLY);
	if (r->flags & VFIO_USER_F_ERROR)
		return (int)r->error_reply ? (int)r->error_reply : 1;
	if (out) {
		size_t n = r->msg_size - sizeof(*r);

		memset(out, 0, out_len);
		memcpy(out, nvmf_vfu_rx_payload(&c->rx), n < out_len ? n : out_len);
	}
	return 0;
}

static int vconnect(struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	c->efd[0] = c->efd[1] = -1;
	c->memfd = -1;
	assert_int_equal(nvmf_vfu_rx_init(&c->rx, 2u << 20), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	return connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
}

static void vclose(struct client *c)
{
	close(c->fd);
	nvmf_vfu_rx_fini(&c->rx);
	if (c->mem)
		munmap(c->mem, GUEST_BYTES);
	if (c->memfd >= 0)
		close(c->memfd);
	for (int i = 0; i < 2; i++)
		if (c->efd[i] >= 0)
			close(c->efd[i]);
}

static void version(struct client *c)
{
	static const char js[] = "{\"capabilities\": {\"max_msg_fds\": 16, \"max_data_xfer_size\": "
				 "1048576, \"pgsizes\": 4096, \"write_multiple\": true}}";
	struct vfio_user_version v = { .major = 0, .minor = 0 };
	uint8_t out[512];

	assert_int_equal(xfer(c, VFIO_USER_VERSION, &v, sizeof(v), js, sizeof(js), NULL, 0, out,
			      sizeof(out) - 1),
			 0);
	out[sizeof(out) - 1] = 0;
	assert_int_equal(((struct vfio_user_version *)out)->major, 0);
	/* a subset of what we proposed: no write_multiple */
	assert_non_null(strstr((char *)out + 4, "\"pgsizes\""));
	assert_null(strstr((char *)out + 4, "write_multiple"));
}

static int region_read(struct client *c, uint32_t region, uint64_t off, void *buf, uint32_t n)
{
	struct vfio_user_region_access a = { .offset = off, .region = region, .count = n };
	uint8_t out[16 + 4096];
	int ret;

	ret = xfer(c, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0, NULL, 0, out, sizeof(out));
	if (!ret)
		memcpy(buf, out + sizeof(a), n);
	return ret;
}

static int region_write(struct client *c, uint32_t region, uint64_t off, const void *buf,
			uint32_t n)
{
	struct vfio_user_region_access a = { .offset = off, .region = region, .count = n };

	return xfer(c, VFIO_USER_REGION_WRITE, &a, sizeof(a), buf, n, NULL, 0, NULL, 0);
}

static uint32_t rd32(struct client *c, uint32_t region, uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(region_read(c, region, off, &v, 4), 0);
	return v;
}

static void wr32(struct client *c, uint32_t region, uint64_t off, uint32_t v)
{
	assert_int_equal(region_write(c, region, off, &v, 4), 0);
}

static void wait_csts(struct client *c, uint32_t mask, uint32_t want)
{
	for (int i = 0; i < 2000; i++) {
		if ((rd32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS) & mask) == want)
			return;
		usleep(1000);
	}
	fail_msg("CSTS %#x never matched %#x/%#x",
		 rd32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), mask, want);
}

static void dma_map(struct client *c)
{
	struct vfio_user_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
		.addr = IOVA,
		.size = GUEST_BYTES,
	};

	c->memfd = memfd_create("guest", MFD_CLOEXEC);
	assert_true(c->memfd >= 0);
	assert_int_equal(ftruncate(c->memfd, GUEST_BYTES), 0);
	c->mem = mmap(NULL, GUEST_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	assert_true(c->mem != MAP_FAILED);
	assert_int_equal(xfer(c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &c->memfd, 1, NULL, 0),
			 0);
	/* the same range again: EEXIST, and the client lives on */
	assert_int_equal(xfer(c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &c->memfd, 1, NULL, 0),
			 EEXIST);
}

static void set_irqs(struct client *c)
{
	struct vfio_user_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 2,
	};

	for (int i = 0; i < 2; i++) {
		c->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(c->efd[i] >= 0);
	}
	assert_int_equal(
		xfer(c, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), NULL, 0, c->efd, 2, NULL, 0), 0);
}

static uint64_t efd_read(struct client *c, int v)
{
	uint64_t n = 0;

	if (read(c->efd[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Submit @cmd on queue @q (0 admin, 1 I/O) and wait for its CQE; Return: status field */
static uint16_t submit(struct client *c, int q, struct nvme_sqe *cmd, uint32_t *dw0)
{
	uint32_t sq_off = q ? IOSQ_OFF : ASQ_OFF, cq_off = q ? IOCQ_OFF : ACQ_OFF;
	uint16_t entries = q ? IOQ_ENTRIES : AQ_ENTRIES;
	volatile struct nvme_cqe *cqe;

	cmd->cid = ++c->cid;
	memcpy(c->mem + sq_off + (size_t)c->sq_tail[q] * 64, cmd, 64);
	c->sq_tail[q] = (uint16_t)((c->sq_tail[q] + 1) % entries);
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS + (uint64_t)q * 8, c->sq_tail[q]);
	cqe = (volatile struct nvme_cqe *)(c->mem + cq_off + (size_t)c->cq_head[q] * 16);
	for (int i = 0; i < 5000 && (cqe->status & 1) != c->phase[q]; i++)
		usleep(200);
	assert_int_equal(cqe->status & 1, c->phase[q]);
	assert_int_equal(cqe->cid, cmd->cid);
	assert_int_equal(cqe->sq_id, q);
	assert_int_equal(cqe->sq_head, c->sq_tail[q]);
	if (dw0)
		*dw0 = cqe->result.dw0;
	if (++c->cq_head[q] == entries) {
		c->cq_head[q] = 0;
		c->phase[q] ^= 1;
	}
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS + (uint64_t)q * 8 + 4, c->cq_head[q]);
	return cqe->status >> 1;
}

static void enable(struct client *c)
{
	uint32_t cc = NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);

	memset(c->mem, 0, 0x10000);
	c->phase[0] = c->phase[1] = 1;
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_AQA,
	     (AQ_ENTRIES - 1) | ((AQ_ENTRIES - 1) << NVME_AQA_ACQS_SHIFT));
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_ASQ, (uint32_t)(IOVA + ASQ_OFF));
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_ASQ + 4, (uint32_t)((IOVA + ASQ_OFF) >> 32));
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_ACQ, (uint32_t)(IOVA + ACQ_OFF));
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_ACQ + 4, (uint32_t)((IOVA + ACQ_OFF) >> 32));
	wr32(c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC, cc);
	wait_csts(c, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY);
}

/* A client up to a live controller with one I/O queue pair */
static void bring_up(struct client *c)
{
	struct nvme_sqe cmd;

	assert_int_equal(vconnect(c), 0);
	version(c);
	dma_map(c);
	set_irqs(c);
	enable(c);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_set_features;
	cmd.cdw10 = NVME_FEAT_NUM_QUEUES;
	cmd.cdw11 = 0x00030003; /* 4 SQs, 4 CQs */
	assert_int_equal(submit(c, 0, &cmd, NULL), 0);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_create_cq;
	cmd.dptr.prp[0] = IOVA + IOCQ_OFF;
	cmd.cdw10 = 1 | ((IOQ_ENTRIES - 1) << 16);
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG | NVME_CQ_IRQ_ENABLED | (1u << 16);
	assert_int_equal(submit(c, 0, &cmd, NULL), 0);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_create_sq;
	cmd.dptr.prp[0] = IOVA + IOSQ_OFF;
	cmd.cdw10 = 1 | ((IOQ_ENTRIES - 1) << 16);
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG | (1u << 16);
	assert_int_equal(submit(c, 0, &cmd, NULL), 0);
}

/* ---------------------------------------------------------------------------------------- */

static void test_device_info(void **state)
{
	struct vfio_user_device_info di = { .argsz = sizeof(di) };
	struct vfio_user_region_info ri = { .argsz = sizeof(ri), .index = 0 };
	struct vfio_user_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct client c;
	uint8_t cfg[256];
	bool msix = false, exp = false;

	(void)state;
	assert_int_equal(vconnect(&c), 0);
	version(&c);
	assert_int_equal(xfer(&c, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL, 0, &di,
			      sizeof(di)),
			 0);
	assert_true(di.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_true(di.flags & VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(di.num_regions, VFIO_PCI_NUM_REGIONS);
	assert_int_equal(di.num_irqs, VFIO_PCI_NUM_IRQS);
	assert_int_equal(xfer(&c, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0, NULL,
			      0, &ri, sizeof(ri)),
			 0);
	assert_int_equal(ri.size, 0x4000);
	ri = (struct vfio_user_region_info){ .argsz = sizeof(ri),
					     .index = VFIO_PCI_CONFIG_REGION_INDEX };
	assert_int_equal(xfer(&c, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0, NULL,
			      0, &ri, sizeof(ri)),
			 0);
	assert_true(ri.size >= 256);
	assert_int_equal(xfer(&c, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL, 0, NULL, 0,
			      &ii, sizeof(ii)),
			 0);
	assert_true(ii.count >= 2);

	assert_int_equal(region_read(&c, VFIO_PCI_CONFIG_REGION_INDEX, 0, cfg, sizeof(cfg)), 0);
	/* class code 010802h (NVM Express), BAR0 64-bit memory, a capability list */
	assert_int_equal(cfg[0x0b] << 16 | cfg[0x0a] << 8 | cfg[0x09], 0x010802);
	assert_int_equal(cfg[0x10] & 0x7, 0x4);
	assert_true(cfg[0x06] & 0x10);
	for (uint8_t p = cfg[0x34]; p; p = cfg[p + 1]) {
		msix |= cfg[p] == 0x11;
		exp |= cfg[p] == 0x10;
		if (cfg[p] == 0x11)
			assert_int_equal((cfg[p + 2] | cfg[p + 3] << 8) & 0x7ff, ii.count - 1);
	}
	assert_true(msix);
	assert_true(exp);
	/* BAR sizing: all ones read back as the size mask */
	wr32(&c, VFIO_PCI_CONFIG_REGION_INDEX, 0x10, 0xffffffff);
	assert_int_equal(rd32(&c, VFIO_PCI_CONFIG_REGION_INDEX, 0x10), ~(0x4000u - 1) | 0x4);
	/* CAP: CQR, DSTRD 0, MPSMIN 0 */
	assert_true(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, 0) & (1u << 16));
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, 4) & 0xf, 0);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), 0);
	/* VS is the subsystem's before the controller is enabled too */
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_VS), NVME_VS(1, 4, 0));
	vclose(&c);
}

static void test_io(void **state)
{
	struct client c;
	struct nvme_sqe cmd;
	struct nvme_id_ctrl *id;
	uint64_t *prpl;
	uint32_t dw0;

	(void)state;
	bring_up(&c);
	assert_true(efd_read(&c, 0) > 0); /* the admin completions interrupted on vector 0 */

	/* Identify Controller through a PRP1 with an offset into its page: fields of PCIe */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_identify;
	cmd.cdw10 = NVME_ID_CNS_CTRL;
	cmd.dptr.prp[0] = IOVA + BUF_OFF + 0x800;
	cmd.dptr.prp[1] = IOVA + BUF_OFF + PAGE;
	assert_int_equal(submit(&c, 0, &cmd, NULL), 0);
	id = (struct nvme_id_ctrl *)(c.mem + BUF_OFF + 0x800);
	assert_int_equal(id->cntrltype, NVME_CTRL_TYPE_IO);
	assert_int_equal(id->kas, 0);
	assert_int_equal(id->ioccsz, 0);
	assert_true(id->sgls & 1);
	assert_memory_equal(id->subnqn, SUBNQN, sizeof(SUBNQN));
	/* kas 0: Keep Alive is not there */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_keep_alive;
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0xff, NVME_SC_INVALID_OPCODE & 0xff);
	/* a fabrics command: Invalid Opcode */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_fabrics_command;
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_INVALID_OPCODE);
	/* queue creation checks: QID in use, bad CQ, vector out of range */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_create_sq;
	cmd.dptr.prp[0] = IOVA + IOSQ_OFF;
	cmd.cdw10 = 1 | ((IOQ_ENTRIES - 1) << 16);
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG | (1u << 16);
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_QID_INVALID);
	cmd.cdw10 = 2 | ((IOQ_ENTRIES - 1) << 16);
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG | (3u << 16);
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_CQ_INVALID);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_create_cq;
	cmd.dptr.prp[0] = IOVA + 0x8000;
	cmd.cdw10 = 2 | (15u << 16);
	cmd.cdw11 = NVME_QUEUE_PHYS_CONTIG | NVME_CQ_IRQ_ENABLED | (999u << 16);
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_INVALID_VECTOR);
	cmd.cdw10 = 2 | (0xfffu << 16);
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_QUEUE_SIZE);
	/* Delete I/O CQ 1 while SQ 1 uses it */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_delete_cq;
	cmd.cdw10 = 1;
	assert_int_equal(submit(&c, 0, &cmd, NULL) & 0x7ff, NVME_SC_INVALID_QUEUE_DELETION);
	efd_read(&c, 1);

	/* 4 KiB write with PRP1, read back elsewhere */
	for (uint32_t i = 0; i < PAGE; i++)
		c.mem[BUF_OFF + i] = (uint8_t)(i * 7 + 1);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_cmd_write;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + BUF_OFF;
	cmd.cdw10 = 8; /* SLBA */
	cmd.cdw12 = 7; /* 8 blocks */
	assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
	cmd.opcode = nvme_cmd_read;
	cmd.dptr.prp[0] = IOVA + RBUF_OFF;
	memset(c.mem + RBUF_OFF, 0, PAGE);
	assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
	assert_memory_equal(c.mem + RBUF_OFF, c.mem + BUF_OFF, PAGE);
	assert_true(efd_read(&c, 1) > 0); /* I/O completions on vector 1 */

	/* 64 KiB with a PRP list, PRP1 at an offset: 17 pages touched */
	for (uint32_t i = 0; i < 0x11000; i++)
		c.mem[BUF_OFF + i] = (uint8_t)(i * 13 + i / 4096);
	prpl = (uint64_t *)(c.mem + PRPL_OFF);
	for (int i = 0; i < 16; i++)
		prpl[i] = IOVA + BUF_OFF + (uint64_t)(i + 1) * PAGE;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_cmd_write;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + BUF_OFF + 0x200;
	cmd.dptr.prp[1] = IOVA + PRPL_OFF;
	cmd.cdw10 = 100;
	cmd.cdw12 = 127; /* 128 blocks = 64 KiB */
	assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
	/* read it back with an SGL: a Last Segment of two Data Blocks */
	{
		struct nvme_sgl_desc *d = (struct nvme_sgl_desc *)(c.mem + SGL_OFF);

		memset(c.mem + RBUF_OFF, 0, 0x20000);
		memset(d, 0, 32);
		d[0].addr = IOVA + RBUF_OFF;
		d[0].length = 0x3000;
		d[1].addr = IOVA + RBUF_OFF + 0x8000;
		d[1].length = 0x10000 - 0x3000;
		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = nvme_cmd_read;
		cmd.flags = NVME_CMD_PSDT_SGL_MPTR_CONTIG;
		cmd.nsid = 1;
		cmd.dptr.sgl.addr = IOVA + SGL_OFF;
		cmd.dptr.sgl.length = 32;
		cmd.dptr.sgl.type = NVME_SGL_TYPE_LAST_SEGMENT << 4;
		cmd.cdw10 = 100;
		cmd.cdw12 = 127;
		assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
		assert_memory_equal(c.mem + RBUF_OFF, c.mem + BUF_OFF + 0x200, 0x3000);
		assert_memory_equal(c.mem + RBUF_OFF + 0x8000, c.mem + BUF_OFF + 0x3200,
				    0x10000 - 0x3000);
	}
	/* PRP list entry not page aligned: PRP Offset Invalid */
	prpl[3] += 8;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_cmd_write;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + BUF_OFF;
	cmd.dptr.prp[1] = IOVA + PRPL_OFF;
	cmd.cdw12 = 127;
	assert_int_equal(submit(&c, 1, &cmd, NULL) & 0x7ff, NVME_SC_PRP_INVALID_OFFSET);
	/* data outside every DMA map: Data Transfer Error */
	cmd.dptr.prp[0] = IOVA + GUEST_BYTES + PAGE;
	cmd.cdw12 = 7;
	assert_int_equal(submit(&c, 1, &cmd, NULL) & 0x7ff, NVME_SC_DATA_XFER_ERROR);
	/*
	 * the same for a read, whose data goes out only as it completes: the transfer's error
	 * replaces the success in the CQE and is the newest Error Information entry
	 */
	cmd.opcode = nvme_cmd_read;
	assert_int_equal(submit(&c, 1, &cmd, NULL) & 0x7ff, NVME_SC_DATA_XFER_ERROR);
	{
		uint16_t read_cid = c.cid;
		struct nvme_error_log_entry e;
		struct nvme_sqe lc = { .opcode = nvme_admin_get_log_page };

		lc.dptr.prp[0] = IOVA + RBUF_OFF;
		lc.cdw10 = NVME_LOG_ERROR | ((uint32_t)(sizeof(e) / 4 - 1) << 16);
		assert_int_equal(submit(&c, 0, &lc, NULL), 0);
		memcpy(&e, c.mem + RBUF_OFF, sizeof(e));
		assert_int_equal(e.sqid, 1);
		assert_int_equal(e.cmdid, read_cid);
		assert_int_equal((e.status_field >> 1) & 0x7ff, NVME_SC_DATA_XFER_ERROR);
	}
	cmd.opcode = nvme_cmd_write;
	/* an SQ doorbell beyond the queue is ignored (and raises an event) */
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS + 8, 1000);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), NVME_CSTS_RDY);

	/* Delete I/O SQ then CQ */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_delete_sq;
	cmd.cdw10 = 1;
	assert_int_equal(submit(&c, 0, &cmd, &dw0), 0);
	cmd.opcode = nvme_admin_delete_cq;
	assert_int_equal(submit(&c, 0, &cmd, &dw0), 0);

	/* shutdown: SHST complete; then CC.EN = 0: CSTS.RDY 0 */
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC,
	     rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC) | NVME_CC_SHN_NORMAL);
	wait_csts(&c, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT);
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC, 0);
	wait_csts(&c, NVME_CSTS_RDY | NVME_CSTS_SHST_MASK, 0);
	/* and up again on the same connection, reading back what was written */
	c.sq_tail[0] = c.cq_head[0] = 0;
	c.sq_tail[1] = c.cq_head[1] = 0;
	enable(&c);
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_identify;
	cmd.cdw10 = NVME_ID_CNS_NS;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + BUF_OFF + 0x20000;
	assert_int_equal(submit(&c, 0, &cmd, NULL), 0);
	assert_int_equal(((struct nvme_id_ns *)(c.mem + BUF_OFF + 0x20000))->nsze, MEM_BYTES / 512);
	/* DEVICE_RESET: the controller goes back to disabled */
	assert_int_equal(xfer(&c, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL, 0, NULL, 0), 0);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), 0);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC), 0);
	vclose(&c);
}

/*
 * Hostile but well-formed input (fuzz_vfu_rx findings): a PRP list chained to itself, a DMA
 * map past the end of its file, a CQ head doorbell past the posted entries, a blocking
 * descriptor for an interrupt. Each is refused and the client goes on.
 */
static void test_hostile(void **state)
{
	struct client c;
	struct nvme_sqe cmd;
	uint64_t *prpl;
	volatile struct nvme_cqe *cqe;
	int p[2];

	(void)state;
	bring_up(&c);

	/* a PRP list starting at its page's last entry, chained to an aligned page: fine */
	prpl = (uint64_t *)(c.mem + PRPL_OFF);
	prpl[511] = IOVA + PRPL_OFF + PAGE;
	prpl[512] = IOVA + BUF_OFF + PAGE;
	prpl[513] = IOVA + BUF_OFF + 2 * PAGE;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_cmd_write;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + BUF_OFF;
	cmd.dptr.prp[1] = IOVA + PRPL_OFF + PAGE - 8;
	cmd.cdw10 = 4096; /* away from the blocks the other tests check */
	cmd.cdw12 = 23;	  /* 3 pages */
	assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
	/* ...chained to itself: PRP Offset Invalid, where it used to loop forever */
	prpl[511] = IOVA + PRPL_OFF + PAGE - 8;
	assert_int_equal(submit(&c, 1, &cmd, NULL) & 0x7ff, NVME_SC_PRP_INVALID_OFFSET);

	/* DMA maps reaching past the end of the file: EINVAL (the device would get SIGBUS) */
	{
		struct vfio_user_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
			.offset = GUEST_BYTES - PAGE,
			.addr = IOVA + 2 * GUEST_BYTES,
			.size = 2 * PAGE,
		};

		assert_int_equal(
			xfer(&c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &c.memfd, 1, NULL, 0),
			EINVAL);
		m.offset = GUEST_BYTES;
		m.size = PAGE;
		assert_int_equal(
			xfer(&c, VFIO_USER_DMA_MAP, &m, sizeof(m), NULL, 0, &c.memfd, 1, NULL, 0),
			EINVAL);
	}

	/* a CQ head past the posted entries is ignored and raises Invalid Doorbell Write Value */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_admin_async_event;
	cmd.cid = ++c.cid;
	memcpy(c.mem + ASQ_OFF + (size_t)c.sq_tail[0] * 64, &cmd, 64);
	c.sq_tail[0] = (uint16_t)((c.sq_tail[0] + 1) % AQ_ENTRIES);
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS, c.sq_tail[0]);
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS + 12, (c.cq_head[1] + 5u) % IOQ_ENTRIES);
	cqe = (volatile struct nvme_cqe *)(c.mem + ACQ_OFF + (size_t)c.cq_head[0] * 16);
	for (int i = 0; i < 5000 && (cqe->status & 1) != c.phase[0]; i++)
		usleep(200);
	assert_int_equal(cqe->status & 1, c.phase[0]);
	assert_int_equal(cqe->cid, cmd.cid);
	assert_int_equal(cqe->status >> 1, 0);
	assert_int_equal(cqe->result.dw0,
			 NVME_AER_TYPE_ERROR | (0x01u << 8) | ((uint32_t)NVME_LOG_ERROR << 16));
	if (++c.cq_head[0] == AQ_ENTRIES) {
		c.cq_head[0] = 0;
		c.phase[0] ^= 1;
	}
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_DBS + 4, c.cq_head[0]);
	/* and the I/O CQ goes on where it was */
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = nvme_cmd_read;
	cmd.nsid = 1;
	cmd.dptr.prp[0] = IOVA + RBUF_OFF;
	cmd.cdw12 = 7;
	assert_int_equal(submit(&c, 1, &cmd, NULL), 0);

	/* an interrupt descriptor is made non-blocking: the reactor never waits on a full pipe */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	{
		struct vfio_user_irq_set s = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX,
			.start = 1,
			.count = 1,
		};

		assert_int_equal(xfer(&c, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), NULL, 0, &p[1],
				      1, NULL, 0),
				 0);
	}
	assert_true(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	close(p[0]);
	close(p[1]);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), NVME_CSTS_RDY);
	/* an orderly CC.EN = 0 is no controller failure: CSTS all zero, CFS included */
	wr32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CC, 0);
	wait_csts(&c, NVME_CSTS_RDY, 0);
	assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS), 0);
	vclose(&c);
}

/* The client's connection is closed by the server (recv gives EOF) */
static void assert_ended(struct client *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char b[64];

	assert_int_equal(poll(&p, 1, 5000), 1);
	while (recv(c->fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
	assert_int_equal(recv(c->fd, b, sizeof(b), MSG_DONTWAIT), 0);
}

static void send_raw(struct client *c, const void *buf, size_t n, const int *fds, unsigned int nfds)
{
	struct vfio_user_header h;

	memcpy(&h, buf, sizeof(h));
	if (n > sizeof(h) || nfds) {
		assert_int_equal(nvmf_vfu_send(c->fd, &h, (const uint8_t *)buf + sizeof(h),
					       n - sizeof(h), NULL, 0, fds, nfds, 1000),
				 0);
		return;
	}
	assert_int_equal(write(c->fd, buf, n), (ssize_t)n);
}

static void test_malformed(void **state)
{
	struct client c;
	struct vfio_user_header h;
	uint8_t msg[64];

	(void)state;
	/* 1: msg_size below the header */
	assert_int_equal(vconnect(&c), 0);
	version(&c);
	h = (struct vfio_user_header){ .msg_id = 1,
				       .command = VFIO_USER_DEVICE_GET_INFO,
				       .msg_size = 8 };
	assert_int_equal(write(c.fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_ended(&c);
	vclose(&c);

	/* 2: a huge msg_size */
	assert_int_equal(vconnect(&c), 0);
	version(&c);
	h.msg_size = 0x7fffffff;
	assert_int_equal(write(c.fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_ended(&c);
	vclose(&c);

	/* 3: a region access beyond the region */
	assert_int_equal(vconnect(&c), 0);
	version(&c);
	{
		uint32_t v;

		assert_int_not_equal(region_read(&c, VFIO_PCI_BAR0_REGION_INDEX, 0x3ffe, &v, 4), 0);
	}
	assert_ended(&c);
	vclose(&c);

	/* 4: an unknown command, and a command before VERSION */
	assert_int_equal(vconnect(&c), 0);
	version(&c);
	h = (struct vfio_user_header){ .msg_id = 9, .command = 77, .msg_size = 16 };
	send_raw(&c, &h, sizeof(h), NULL, 0);
	assert_ended(&c);
	vclose(&c);
	assert_int_equal(vconnect(&c), 0);
	h = (struct vfio_user_header){ .msg_id = 9,
				       .command = VFIO_USER_DEVICE_GET_INFO,
				       .msg_size = 16 + 16 };
	memset(msg, 0, sizeof(msg));
	memcpy(msg, &h, sizeof(h));
	send_raw(&c, msg, 32, NULL, 0);
	assert_ended(&c);
	vclose(&c);

	/* 5: SET_IRQS with one eventfd for two vectors; first with an enabled controller */
	bring_up(&c);
	{
		struct vfio_user_irq_set s = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX,
			.count = 2,
		};

		h = (struct vfio_user_header){ .msg_id = 5,
					       .command = VFIO_USER_DEVICE_SET_IRQS,
					       .msg_size = 16 + sizeof(s) };
		memcpy(msg, &h, sizeof(h));
		memcpy(msg + sizeof(h), &s, sizeof(s));
		send_raw(&c, msg, sizeof(h) + sizeof(s), c.efd, 1);
	}
	assert_ended(&c);
	vclose(&c);

	/* 6: a second concurrent client is refused, the first one goes on */
	{
		struct client c2;

		bring_up(&c);
		assert_int_equal(vconnect(&c2), 0);
		assert_ended(&c2);
		vclose(&c2);
		assert_int_equal(rd32(&c, VFIO_PCI_BAR0_REGION_INDEX, NVME_REG_CSTS),
				 NVME_CSTS_RDY);
		vclose(&c); /* a plain disconnect with a live controller */
	}

	/* after all that: a new client works end to end */
	bring_up(&c);
	{
		struct nvme_sqe cmd;

		memset(&cmd, 0, sizeof(cmd));
		cmd.opcode = nvme_cmd_read;
		cmd.nsid = 1;
		cmd.dptr.prp[0] = IOVA + RBUF_OFF;
		cmd.cdw10 = 8;
		cmd.cdw12 = 7;
		assert_int_equal(submit(&c, 1, &cmd, NULL), 0);
		/* written by test_io, and the namespace outlived its clients */
		for (uint32_t i = 0; i < 16; i++)
			assert_int_equal(c.mem[RBUF_OFF + i], (uint8_t)(i * 7 + 1));
	}
	vclose(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
