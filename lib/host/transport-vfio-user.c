// SPDX-License-Identifier: MIT
/*
 * vfio-user host transport: an NVMe PCIe controller (NVMe PCIe Transport 1.0c) emulated by a
 * server behind a UNIX socket (QEMU docs/interop/vfio-user.rst, protocol 0.1), driven the way
 * the Linux PCIe driver drives a real one. Not a fabrics transport: no Connect and no
 * Property Get/Set; the core (ctrl.c) reads and writes the registers through reg_read() and
 * reg_write() and creates the I/O queues with Create I/O CQ/SQ.
 *
 * Connection: one socket per association (nvmf_host_opts.traddr), opened by the admin
 * queue's queue_connect(): VERSION, DEVICE_GET_INFO, the BAR0 region, MSI-X with one eventfd
 * per vector (DEVICE_SET_IRQS). A reset closes it and the next association opens a new one
 * (the server keeps the device and drops our memory and eventfds, vfio-user.rst "Client
 * Disconnection"), so nothing of an old association can reach a new one.
 *
 * Memory: each queue owns a memfd, shared with the server by DMA_MAP with the descriptor, so
 * the server mmap()s it and no data crosses the socket: the SQ and CQ (one entry more than
 * the queue's tags: a full queue holds size - 1 entries), a PRP list page per tag, prebuilt
 * (the bounce buffer is contiguous in DMA space), and a bounce buffer per tag. The library's
 * API takes the caller's buffers, which the server cannot see: write data is copied into the
 * tag's bounce buffer before the doorbell, read data out of it when the CQE comes. A command
 * gets at most min(MDTS, VFU_MAX_XFER) bytes (the bounce buffer's size); larger ones are
 * refused with -EINVAL (no split). The I/O path allocates nothing.
 *
 * Doorbells: REGION_WRITEs of BAR0 0x1000 + (2 * qid (+ 1 for the CQ head)) * stride, posted
 * (VFIO_USER_F_NO_REPLY; the server handles messages in order) and batched: one SQ tail and
 * one CQ head doorbell per queue per reactor iteration, written by a deferred flush.
 *
 * Completions: CQ entries are found by their phase tag. Each vector's eventfd is watched by
 * the controller's reactor; while I/O is in flight the reactor polls instead (its handler's
 * poll method reads the CQs of that vector without waiting for the interrupt).
 *
 * Teardown (seed 000): queue_stop() never gives a request back while the controller could
 * still complete it. Stopping the admin queue (the core stops it last) disables the
 * controller (CC.EN 0, CSTS.RDY 0 within CAP.TO, as nvme_disable_ctrl(); not needed after a
 * completed shutdown) or, failing that, closes the connection; after that the controller owns
 * nothing, the CQs are not read any more and every request still SENT completes with -ENOLINK.
 * A late write of the old server lands in this association's memfds, which are only ours to
 * unmap: never in a caller's buffer.
 */
#include "host-internal.h"

#include "common/log.h"
#include "vfio-user/msg.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define VFU_PAGE 4096u		    /* CC.MPS 0: the PRP page size */
#define VFU_CALL_TIMEOUT_MS 5000    /* a reply, as QEMU's x-msg-timeout default */
#define VFU_MAX_XFER (1u << 20)	    /* bytes per command at most (bounce per tag) */
#define VFU_ADMIN_XFER (128u << 10) /* admin bounce per tag (Identify, logs) */
#define VFU_MAX_VECTORS (NVMF_HOST_MAX_IO_QUEUES + 1)
#define VFU_IOVA_BASE (1ull << 32)     /* our DMA addresses; 0 stays invalid */
#define VFU_OUR_MAX_XFER 65536u	       /* server DMA_READ/WRITE data we accept */
#define VFU_RX_MAX (64u * 1024 + 4096) /* largest message we receive */
#define VFU_DISABLE_POLL_US 1000

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct vfu_dev;

/* One MSI-X vector: its eventfd in the reactor. */
struct vfu_vec {
	struct nvmf_fd_handler h;
	struct vfu_dev *dev;
	uint16_t vec;
	bool registered;
};

/* Per-queue state (q->tr): the queue's shared memory and ring positions. */
struct vfu_queue {
	struct vfu_dev *dev;
	struct nvmf_host_queue *hq;
	uint16_t qid;
	uint16_t depth;	  /* tags */
	uint16_t entries; /* SQ and CQ size: depth + 1 */
	uint16_t vec;
	uint16_t sq_tail;
	uint16_t cq_head;
	uint8_t phase;
	bool sq_dirty; /* tail doorbell to write */
	bool cq_dirty; /* head doorbell to write */
	bool stopped;
	int memfd;
	uint8_t *mem;
	size_t mem_len;
	uint64_t iova;
	struct nvme_sqe *sq;
	uint8_t *cq;	/* entries x 16 bytes, written by the server */
	size_t prp_off; /* PRP list pages, one per tag (0: none, transfers <= 2 pages) */
	size_t bounce_off;
	uint32_t xfer; /* bounce bytes per tag */
};

/* Per-association state, shared by the queues; the admin queue brings it up. */
struct vfu_dev {
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_reactor *r;
	struct nvmf_fd_handler h; /* the socket: disconnection and server commands */
	bool h_registered;
	struct nvmf_vfu_rx rx;
	uint16_t next_id;
	unsigned int refs; /* queues attached */
	bool alive;	   /* the socket is usable */
	bool quiesced;	   /* the controller can complete nothing any more */
	bool free_pending;
	uint32_t cc;   /* last CC written */
	uint32_t csts; /* last CSTS read */
	uint32_t db_stride;
	uint64_t bar0_size;
	unsigned int max_fds;
	uint64_t next_iova;
	unsigned int nr_vec;
	struct vfu_vec vec[VFU_MAX_VECTORS];
	struct vfu_queue *queues[NVMF_HOST_MAX_IO_QUEUES + 1];
	struct nvmf_deferred flush;
	struct nvmf_deferred report;
	char why[160];
	char name[128];
};

static void dev_free(struct vfu_dev *dev)
{
	nvmf_vfu_rx_fini(&dev->rx);
	free(dev);
}

static void dev_maybe_free(struct vfu_dev *dev)
{
	if (dev->free_pending && !dev->flush.queued && !dev->report.queued)
		dev_free(dev);
}

/* ------------------------------------------------------------------------------------------
 * The connection
 */

static void report_fn(struct nvmf_deferred *d)
{
	struct vfu_dev *dev = container_of(d, struct vfu_dev, report);
	struct vfu_queue *aq = dev->queues[0];

	if (dev->free_pending) {
		dev_maybe_free(dev);
		return;
	}
	/* the core resets the controller, which stops the queues */
	if (aq && !aq->stopped)
		nvmf_host_queue_error(aq->hq, dev->why);
}

/*
 * The connection is unusable: no more messages either way. The core hears of it from
 * deferred work, never from inside one of our calls (it would stop the queues under us).
 */
static void dev_fail(struct vfu_dev *dev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void dev_fail(struct vfu_dev *dev, const char *fmt, ...)
{
	va_list ap;

	if (!dev->alive)
		return;
	dev->alive = false;
	va_start(ap, fmt);
	vsnprintf(dev->why, sizeof(dev->why), fmt, ap);
	va_end(ap);
	nvmf_warn("vfio-user %s: %s", dev->name, dev->why);
	if (dev->h_registered) {
		nvmf_reactor_fd_del(dev->r, &dev->h);
		dev->h_registered = false;
	}
	/* the server sees us go at once and drops our memory and eventfds */
	shutdown(dev->h.fd, SHUT_RDWR);
	nvmf_reactor_defer(dev->r, &dev->report);
}

/* Our memory at DMA address @addr, @len bytes, or NULL. */
static uint8_t *dev_dma_ptr(struct vfu_dev *dev, uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i <= NVMF_HOST_MAX_IO_QUEUES; i++) {
		struct vfu_queue *vq = dev->queues[i];

		if (vq && addr >= vq->iova && len <= vq->mem_len &&
		    addr - vq->iova <= vq->mem_len - len)
			return vq->mem + (addr - vq->iova);
	}
	return NULL;
}

/*
 * A message that is not the reply being waited for: a server command (DMA_READ/WRITE, the
 * in-band fallback for memory it did not map; anything else is refused) or a stray reply.
 */
static void dev_handle_other(struct vfu_dev *dev)
{
	struct vfio_user_header *h = nvmf_vfu_rx_hdr(&dev->rx);
	uint32_t plen = h->msg_size - (uint32_t)sizeof(*h);
	struct vfio_user_dma_access *a = nvmf_vfu_rx_payload(&dev->rx);
	uint8_t *p;
	int ret = 0;

	if ((h->flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY) {
		nvmf_warn("vfio-user %s: reply to no command (id %u, command %u, error %u)",
			  dev->name, h->msg_id, h->command,
			  h->flags & VFIO_USER_F_ERROR ? h->error_reply : 0);
		return;
	}
	switch (h->command) {
	case VFIO_USER_DMA_READ:
		if (plen < sizeof(*a) || a->count > VFU_OUR_MAX_XFER) {
			ret = nvmf_vfu_reply(dev->h.fd, h, EINVAL, NULL, 0, NULL, 0);
			break;
		}
		p = dev_dma_ptr(dev, a->addr, a->count);
		ret = p ? nvmf_vfu_reply(dev->h.fd, h, 0, a, sizeof(*a), p, a->count)
			: nvmf_vfu_reply(dev->h.fd, h, EFAULT, NULL, 0, NULL, 0);
		break;
	case VFIO_USER_DMA_WRITE:
		if (plen < sizeof(*a) || a->count > plen - sizeof(*a)) {
			ret = nvmf_vfu_reply(dev->h.fd, h, EINVAL, NULL, 0, NULL, 0);
			break;
		}
		p = dev_dma_ptr(dev, a->addr, a->count);
		if (p)
			memcpy(p, a->data, a->count);
		ret = nvmf_vfu_reply(dev->h.fd, h, p ? 0 : EFAULT, a, sizeof(*a), NULL, 0);
		break;
	default:
		nvmf_warn("vfio-user %s: server command %u refused", dev->name, h->command);
		ret = nvmf_vfu_reply(dev->h.fd, h, ENOTSUP, NULL, 0, NULL, 0);
		break;
	}
	if (ret)
		dev_fail(dev, "reply to server command %u: %s", h->command, strerror(-ret));
}

/* nvmf_fd_handler.cb of the socket: the server went away, or sent a command. */
static void dev_sock_cb(struct nvmf_fd_handler *fh, uint32_t events)
{
	struct vfu_dev *dev = container_of(fh, struct vfu_dev, h);

	while (dev->alive) {
		int ret = nvmf_vfu_rx_read(dev->h.fd, &dev->rx);

		if (ret == 0) {
			if (events & (EPOLLHUP | EPOLLERR))
				dev_fail(dev, "connection closed by the server");
			return;
		}
		if (ret < 0) {
			dev_fail(dev, "%s",
				 ret == -ECONNRESET ? "connection closed by the server"
						    : strerror(-ret));
			return;
		}
		dev_handle_other(dev);
		nvmf_vfu_rx_done(&dev->rx);
	}
}

/*
 * Send a command and wait for its reply (synchronously: the control path only). Server
 * commands that come in between are served.
 * Return: 0 with the reply's payload in @out (at most @out_len bytes; *@got its full size),
 * -errno of an error reply (the connection stays), or -ENOTCONN/-ETIMEDOUT/-EPROTO... when
 * the connection failed.
 */
static int dev_call(struct vfu_dev *dev, uint16_t command, const void *p1, size_t len1,
		    const void *p2, size_t len2, const int *fds, unsigned int nr_fds, void *out,
		    size_t out_len, size_t *got)
{
	struct vfio_user_header hdr = { .command = command, .flags = VFIO_USER_F_TYPE_COMMAND };
	uint64_t deadline = nvmf_now_ns() + VFU_CALL_TIMEOUT_MS * 1000000ull;
	int ret;

	if (!dev->alive)
		return -ENOTCONN;
	hdr.msg_id = dev->next_id++;
	ret = nvmf_vfu_send(dev->h.fd, &hdr, p1, len1, p2, len2, fds, nr_fds, VFU_CALL_TIMEOUT_MS);
	if (ret) {
		dev_fail(dev, "command %u: %s", command, strerror(-ret));
		return ret;
	}
	for (;;) {
		struct vfio_user_header *h;
		uint32_t plen;

		ret = nvmf_vfu_rx_read(dev->h.fd, &dev->rx);
		if (ret < 0) {
			dev_fail(dev, "command %u: %s", command,
				 ret == -ECONNRESET ? "connection closed by the server"
						    : strerror(-ret));
			return ret;
		}
		if (ret == 0) {
			struct pollfd pfd = { .fd = dev->h.fd, .events = POLLIN };
			uint64_t now = nvmf_now_ns();

			if (now >= deadline) {
				dev_fail(dev, "command %u: no reply in %u ms", command,
					 VFU_CALL_TIMEOUT_MS);
				return -ETIMEDOUT;
			}
			poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
			continue;
		}
		h = nvmf_vfu_rx_hdr(&dev->rx);
		if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY ||
		    h->msg_id != hdr.msg_id) {
			dev_handle_other(dev);
			nvmf_vfu_rx_done(&dev->rx);
			if (!dev->alive)
				return -ENOTCONN;
			continue;
		}
		if (h->command != command) {
			dev_fail(dev, "reply %u to command %u", h->command, command);
			return -EPROTO;
		}
		plen = h->msg_size - (uint32_t)sizeof(*h);
		if (h->flags & VFIO_USER_F_ERROR) {
			ret = h->error_reply ? -(int)h->error_reply : -EIO;
		} else {
			if (out)
				memcpy(out, nvmf_vfu_rx_payload(&dev->rx),
				       plen < out_len ? plen : out_len);
			if (got)
				*got = plen;
			ret = 0;
		}
		nvmf_vfu_rx_done(&dev->rx);
		return ret;
	}
}

/* The server's capability @name (vfio-user.rst "VFIO_USER_VERSION"), or @def if absent. */
static uint64_t cap_u64(struct json_object *caps, const char *name, uint64_t def)
{
	struct json_object *v;

	if (!caps || !json_object_object_get_ex(caps, name, &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return def;
	return json_object_get_uint64(v);
}

/* VFIO_USER_VERSION (vfio-user.rst "VFIO_USER_VERSION"): 0.x, and the server's limits. */
static int dev_version(struct vfu_dev *dev)
{
	static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":16,"
				   "\"max_data_xfer_size\":65536}}";
	struct vfio_user_version v = { .major = VFIO_USER_MAJOR, .minor = VFIO_USER_MINOR };
	struct json_object *root = NULL, *srv = NULL;
	uint64_t max_fds, pgsizes;
	char reply[1024];
	size_t got = 0;
	int ret;

	memset(reply, 0, sizeof(reply));
	ret = dev_call(dev, VFIO_USER_VERSION, &v, sizeof(v), caps, sizeof(caps), NULL, 0, reply,
		       sizeof(reply) - 1, &got);
	if (ret)
		return ret;
	if (got < sizeof(v) || ((struct vfio_user_version *)reply)->major != VFIO_USER_MAJOR) {
		nvmf_warn("vfio-user %s: server speaks version %u (we %u)", dev->name,
			  got >= 2 ? ((struct vfio_user_version *)reply)->major : 0,
			  VFIO_USER_MAJOR);
		return -EPROTONOSUPPORT;
	}
	/* the reply's optional NUL-terminated JSON, parsed by json-c (@reply was zeroed) */
	if (got > sizeof(v))
		root = json_tokener_parse(reply + sizeof(v));
	if (root && !json_object_object_get_ex(root, "capabilities", &srv))
		srv = NULL;
	max_fds = cap_u64(srv, "max_msg_fds", VFIO_USER_DEF_MAX_MSG_FDS);
	pgsizes = cap_u64(srv, "pgsizes", VFIO_USER_DEF_PGSIZES);
	json_object_put(root);
	/* DMA_MAP needs one descriptor; the server will say if it disagrees */
	dev->max_fds = max_fds < 1			 ? 1
		       : max_fds > VFIO_USER_MAX_MSG_FDS ? VFIO_USER_MAX_MSG_FDS
							 : (unsigned int)max_fds;
	if (!(pgsizes & VFU_PAGE))
		nvmf_warn("vfio-user %s: server page sizes exclude 4 KiB", dev->name);
	return 0;
}

/* The device: PCI, BAR0 readable and writable and large enough, MSI-X with eventfds. */
static int dev_probe(struct vfu_dev *dev, unsigned int want_vec)
{
	struct vfio_user_device_info di = { .argsz = sizeof(di) };
	struct vfio_user_region_info ri = { .argsz = sizeof(ri),
					    .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_user_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	int ret;

	ret = dev_call(dev, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL, 0, NULL, 0, &di,
		       sizeof(di), NULL);
	if (ret)
		return ret;
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions <= VFIO_PCI_BAR0_REGION_INDEX ||
	    di.num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX) {
		nvmf_warn("vfio-user %s: not a PCI device with BAR0 and MSI-X (flags 0x%x, %u "
			  "regions, %u IRQ types)",
			  dev->name, di.flags, di.num_regions, di.num_irqs);
		return -ENODEV;
	}
	ret = dev_call(dev, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), NULL, 0, NULL, 0,
		       &ri, sizeof(ri), NULL);
	if (ret)
		return ret;
	if ((ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE)) !=
		    (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE) ||
	    ri.size < NVME_REG_DBS + 8) {
		nvmf_warn("vfio-user %s: BAR0 unusable (flags 0x%x, %llu bytes)", dev->name,
			  ri.flags, (unsigned long long)ri.size);
		return -ENODEV;
	}
	dev->bar0_size = ri.size;
	ret = dev_call(dev, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii), NULL, 0, NULL, 0, &ii,
		       sizeof(ii), NULL);
	if (ret)
		return ret;
	if (!(ii.flags & VFIO_IRQ_INFO_EVENTFD) || !ii.count) {
		nvmf_warn("vfio-user %s: no MSI-X vectors with eventfds (flags 0x%x, count %u)",
			  dev->name, ii.flags, ii.count);
		return -ENODEV;
	}
	dev->nr_vec = ii.count < want_vec ? ii.count : want_vec;
	return 0;
}

static void vec_reap(struct vfu_dev *dev, uint16_t vec, bool *found);

static void vec_cb(struct nvmf_fd_handler *fh, uint32_t events)
{
	struct vfu_vec *v = container_of(fh, struct vfu_vec, h);
	uint64_t n;
	bool found = false;

	(void)events;
	/* clear the interrupt first: an entry posted after the read raises it again */
	if (read(fh->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		nvmf_debug("vfio-user %s: eventfd: %s", v->dev->name, strerror(errno));
	vec_reap(v->dev, v->vec, &found);
}

/* Hybrid polling: the phase tags, without waiting for the interrupt. */
static bool vec_poll(struct nvmf_fd_handler *fh)
{
	struct vfu_vec *v = container_of(fh, struct vfu_vec, h);
	bool found = false;

	vec_reap(v->dev, v->vec, &found);
	return found;
}

/* One eventfd per MSI-X vector, given with DEVICE_SET_IRQS (at most max_fds per message). */
static int dev_irqs(struct vfu_dev *dev)
{
	int fds[VFIO_USER_MAX_MSG_FDS];
	int ret;

	for (unsigned int i = 0; i < dev->nr_vec; i++) {
		struct vfu_vec *v = &dev->vec[i];

		v->dev = dev;
		v->vec = (uint16_t)i;
		v->h.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->h.fd < 0)
			return -errno;
		v->h.cb = vec_cb;
		v->h.poll = vec_poll;
	}
	for (unsigned int start = 0; start < dev->nr_vec; start += dev->max_fds) {
		unsigned int n =
			dev->nr_vec - start < dev->max_fds ? dev->nr_vec - start : dev->max_fds;
		struct vfio_user_irq_set s = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSIX_IRQ_INDEX,
			.start = start,
			.count = n,
		};

		for (unsigned int i = 0; i < n; i++)
			fds[i] = dev->vec[start + i].h.fd;
		ret = dev_call(dev, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), NULL, 0, fds, n, NULL,
			       0, NULL);
		if (ret) {
			nvmf_warn("vfio-user %s: SET_IRQS MSI-X %u..%u: %s", dev->name, start,
				  start + n - 1, strerror(-ret));
			return ret;
		}
	}
	for (unsigned int i = 0; i < dev->nr_vec; i++) {
		ret = nvmf_reactor_fd_add(dev->r, &dev->vec[i].h, EPOLLIN);
		if (ret)
			return ret;
		dev->vec[i].registered = true;
	}
	return 0;
}

/* Last queue gone: close everything. The struct waits for our deferred work, if queued. */
static void dev_put(struct vfu_dev *dev)
{
	if (--dev->refs)
		return;
	for (unsigned int i = 0; i < VFU_MAX_VECTORS; i++) {
		struct vfu_vec *v = &dev->vec[i];

		if (v->registered)
			nvmf_reactor_fd_del(dev->r, &v->h);
		if (v->dev && v->h.fd >= 0)
			close(v->h.fd);
		v->registered = false;
		v->dev = NULL;
	}
	if (dev->h_registered)
		nvmf_reactor_fd_del(dev->r, &dev->h);
	dev->h_registered = false;
	if (dev->h.fd >= 0)
		close(dev->h.fd);
	dev->h.fd = -1;
	dev->alive = false;
	dev->free_pending = true;
	dev_maybe_free(dev);
}

/* ------------------------------------------------------------------------------------------
 * Registers (BAR0, NVMe PCIe Transport 1.0c 3.1)
 */

static int bar0_read32(struct vfu_dev *dev, uint32_t off, uint32_t *val)
{
	struct vfio_user_region_access a = { .offset = off,
					     .region = VFIO_PCI_BAR0_REGION_INDEX,
					     .count = 4 };
	uint8_t reply[sizeof(a) + 4];
	size_t got = 0;
	int ret;

	ret = dev_call(dev, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0, NULL, 0, reply,
		       sizeof(reply), &got);
	if (ret)
		return ret;
	if (got != sizeof(reply) || ((struct vfio_user_region_access *)reply)->count != 4) {
		dev_fail(dev, "REGION_READ 0x%x: reply of %zu bytes", off, got);
		return -EPROTO;
	}
	memcpy(val, reply + sizeof(a), 4);
	return 0;
}

static int bar0_write32(struct vfu_dev *dev, uint32_t off, uint32_t val, bool posted)
{
	struct vfio_user_region_access a = { .offset = off,
					     .region = VFIO_PCI_BAR0_REGION_INDEX,
					     .count = 4 };
	struct vfio_user_header hdr = { .command = VFIO_USER_REGION_WRITE,
					.flags = VFIO_USER_F_TYPE_COMMAND | VFIO_USER_F_NO_REPLY };
	int ret;

	if (!posted)
		return dev_call(dev, VFIO_USER_REGION_WRITE, &a, sizeof(a), &val, 4, NULL, 0, NULL,
				0, NULL);
	if (!dev->alive)
		return -ENOTCONN;
	hdr.msg_id = dev->next_id++;
	ret = nvmf_vfu_send(dev->h.fd, &hdr, &a, sizeof(a), &val, 4, NULL, 0, VFU_CALL_TIMEOUT_MS);
	if (ret)
		dev_fail(dev, "doorbell 0x%x: %s", off, strerror(-ret));
	return ret;
}

static struct vfu_dev *ctrl_dev(struct nvmf_host_ctrl *ctrl)
{
	struct vfu_queue *aq = ctrl->admin.tr;

	return aq ? aq->dev : NULL;
}

/* nvmf_host_transport_ops.reg_read: 8-byte registers as two 4-byte reads, low first. */
static int vfu_reg_read(struct nvmf_host_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t *val)
{
	struct vfu_dev *dev = ctrl_dev(ctrl);
	uint32_t lo, hi = 0;
	int ret;

	if (!dev || !dev->alive)
		return -ENOTCONN;
	if ((size != 4 && size != 8) || off + size > NVME_REG_DBS)
		return -EINVAL;
	ret = bar0_read32(dev, off, &lo);
	if (!ret && size == 8)
		ret = bar0_read32(dev, off + 4, &hi);
	if (ret)
		return ret;
	*val = (uint64_t)hi << 32 | lo;
	if (off == NVME_REG_CSTS)
		dev->csts = lo;
	if (off == NVME_REG_CAP)
		dev->db_stride = 4u << NVME_CAP_DSTRD(*val);
	return 0;
}

/* nvmf_host_transport_ops.reg_write: a non-posted write (the server acknowledges it). */
static int vfu_reg_write(struct nvmf_host_ctrl *ctrl, uint32_t off, unsigned int size, uint64_t val)
{
	struct vfu_dev *dev = ctrl_dev(ctrl);
	int ret;

	if (!dev || !dev->alive)
		return -ENOTCONN;
	if ((size != 4 && size != 8) || off + size > NVME_REG_DBS)
		return -EINVAL;
	ret = bar0_write32(dev, off, (uint32_t)val, false);
	if (!ret && size == 8)
		ret = bar0_write32(dev, off + 4, (uint32_t)(val >> 32), false);
	if (!ret && off == NVME_REG_CC)
		dev->cc = (uint32_t)val;
	return ret;
}

/* ------------------------------------------------------------------------------------------
 * Doorbells and completions
 */

static uint32_t db_off(const struct vfu_dev *dev, uint16_t qid, bool cq)
{
	return NVME_REG_DBS + (2u * qid + (cq ? 1u : 0u)) * dev->db_stride;
}

/* Deferred, once per reactor iteration: one doorbell per queue and direction. */
static void flush_fn(struct nvmf_deferred *d)
{
	struct vfu_dev *dev = container_of(d, struct vfu_dev, flush);

	if (dev->free_pending) {
		dev_maybe_free(dev);
		return;
	}
	for (unsigned int i = 0; i <= NVMF_HOST_MAX_IO_QUEUES && dev->alive; i++) {
		struct vfu_queue *vq = dev->queues[i];

		if (!vq || vq->stopped || dev->quiesced)
			continue;
		/* head first: the entries it frees may be needed by the commands just queued */
		if (vq->cq_dirty) {
			vq->cq_dirty = false;
			bar0_write32(dev, db_off(dev, vq->qid, true), vq->cq_head, true);
		}
		if (vq->sq_dirty) {
			vq->sq_dirty = false;
			bar0_write32(dev, db_off(dev, vq->qid, false), vq->sq_tail, true);
		}
	}
}

static uint8_t *tag_bounce(const struct vfu_queue *vq, uint16_t tag)
{
	return vq->mem + vq->bounce_off + (size_t)tag * vq->xfer;
}

static uint64_t tag_bounce_dma(const struct vfu_queue *vq, uint16_t tag)
{
	return vq->iova + vq->bounce_off + (uint64_t)tag * vq->xfer;
}

static void cqe_done(struct vfu_queue *vq, const struct nvme_cqe *cqe)
{
	struct nvmf_host_req *req = nvmf_host_find_req(vq->hq, cqe->cid);
	uint32_t len;

	if (!req || cqe->sq_id != vq->qid) {
		nvmf_warn("vfio-user %s: qid %u: completion of no command (cid %u, sqid %u)",
			  vq->dev->name, vq->qid, cqe->cid, cqe->sq_id);
		nvmf_counter_add(&vq->hq->ctrl->stats.stray_cqes, 1);
		return;
	}
	req->cqe = *cqe;
	len = req->buf ? req->len : 0;
	if (len && req->dir == NVMF_HOST_DATA_C2H && !nvmf_host_status(cqe)) {
		memcpy(req->buf, tag_bounce(vq, req->tag), len);
		req->xfer = len;
	}
	nvmf_host_req_done(req, 0);
}

/* Consume the CQ entries whose phase tag is current. */
static bool vq_reap(struct vfu_queue *vq)
{
	bool found = false;

	while (!vq->stopped && !vq->dev->quiesced) {
		uint8_t *e = vq->cq + (size_t)vq->cq_head * sizeof(struct nvme_cqe);
		/* written by the server through its own mapping: acquire, then the rest */
		uint16_t status = __atomic_load_n(
			(uint16_t *)(e + offsetof(struct nvme_cqe, status)), __ATOMIC_ACQUIRE);
		struct nvme_cqe cqe;

		if ((status & 1) != vq->phase)
			break;
		memcpy(&cqe, e, sizeof(cqe));
		if (++vq->cq_head == vq->entries) {
			vq->cq_head = 0;
			vq->phase ^= 1;
		}
		vq->cq_dirty = true;
		found = true;
		cqe_done(vq, &cqe);
	}
	if (found && vq->dev->alive)
		nvmf_reactor_defer(vq->dev->r, &vq->dev->flush);
	return found;
}

static void vec_reap(struct vfu_dev *dev, uint16_t vec, bool *found)
{
	for (unsigned int i = 0; i <= NVMF_HOST_MAX_IO_QUEUES; i++) {
		struct vfu_queue *vq = dev->queues[i];

		if (vq && vq->vec == vec && vq_reap(vq))
			*found = true;
	}
}

/* ------------------------------------------------------------------------------------------
 * Queues
 */

static int dev_connect(struct nvmf_host_ctrl *ctrl, struct vfu_dev **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int want_vec =
		1 + (ctrl->opts.nr_io_queues < NVMF_HOST_MAX_IO_QUEUES ? ctrl->opts.nr_io_queues
								       : NVMF_HOST_MAX_IO_QUEUES);
	struct vfu_dev *dev;
	int ret;

	if (strlen(ctrl->traddr) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ctrl = ctrl;
	dev->r = ctrl->reactor;
	dev->refs = 1;
	dev->db_stride = 4;
	dev->max_fds = 1;
	dev->next_iova = VFU_IOVA_BASE;
	dev->flush.fn = flush_fn;
	dev->report.fn = report_fn;
	for (unsigned int i = 0; i < VFU_MAX_VECTORS; i++)
		dev->vec[i].h.fd = -1;
	snprintf(dev->name, sizeof(dev->name), "%s", ctrl->traddr);
	ret = nvmf_vfu_rx_init(&dev->rx, VFU_RX_MAX);
	if (ret) {
		free(dev);
		return ret;
	}
	dev->h.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dev->h.fd < 0) {
		ret = -errno;
		goto out_put;
	}
	memcpy(sa.sun_path, ctrl->traddr, strlen(ctrl->traddr));
	if (connect(dev->h.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		nvmf_info("vfio-user %s: connect: %s", dev->name, strerror(-ret));
		goto out_put;
	}
	/* a server that stops reading must not hold the reactor: bounded sends */
	if (fcntl(dev->h.fd, F_SETFL, fcntl(dev->h.fd, F_GETFL) | O_NONBLOCK) < 0) {
		ret = -errno;
		goto out_put;
	}
	dev->alive = true;
	ret = dev_version(dev);
	if (!ret)
		ret = dev_probe(dev, want_vec);
	if (!ret)
		ret = dev_irqs(dev);
	if (ret)
		goto out_put;
	dev->h.cb = dev_sock_cb;
	ret = nvmf_reactor_fd_add(dev->r, &dev->h, EPOLLIN);
	if (ret)
		goto out_put;
	dev->h_registered = true;
	nvmf_debug("vfio-user %s: connected, BAR0 %llu bytes, %u MSI-X vectors", dev->name,
		   (unsigned long long)dev->bar0_size, dev->nr_vec);
	*out = dev;
	return 0;

out_put:
	/* not a failure of a live association: nothing to report */
	dev->alive = false;
	if (dev->report.queued)
		nvmf_debug("vfio-user %s: setup failed: %s", dev->name, dev->why);
	dev_put(dev);
	return ret;
}

static void vq_free_mem(struct vfu_queue *vq)
{
	if (vq->mem)
		munmap(vq->mem, vq->mem_len);
	if (vq->memfd >= 0)
		close(vq->memfd);
	vq->mem = NULL;
	vq->memfd = -1;
}

/*
 * The queue's memory: SQ, CQ, PRP list pages, bounce buffers, in one memfd that the server
 * maps (DMA_MAP with the descriptor). The PRP lists are written once here: tag t's list
 * names the pages of its bounce buffer after the first.
 */
static int vq_alloc_mem(struct vfu_queue *vq, uint32_t xfer)
{
	struct vfu_dev *dev = vq->dev;
	size_t sq_len = ((size_t)vq->entries * sizeof(struct nvme_sqe) + VFU_PAGE - 1) &
			~(size_t)(VFU_PAGE - 1);
	size_t cq_len = ((size_t)vq->entries * sizeof(struct nvme_cqe) + VFU_PAGE - 1) &
			~(size_t)(VFU_PAGE - 1);
	size_t prp_len = xfer > 2 * VFU_PAGE ? (size_t)vq->depth * VFU_PAGE : 0;
	struct vfio_user_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
	};
	char name[32];
	void *p;
	int ret;

	vq->xfer = xfer;
	vq->prp_off = prp_len ? sq_len + cq_len : 0;
	vq->bounce_off = sq_len + cq_len + prp_len;
	vq->mem_len = vq->bounce_off + (size_t)vq->depth * xfer;
	snprintf(name, sizeof(name), "nvmf-vfu-q%u", vq->qid);
	vq->memfd = memfd_create(name, MFD_CLOEXEC);
	if (vq->memfd < 0)
		return -errno;
	/* sparse: only the pages that carry data get memory */
	if (ftruncate(vq->memfd, (off_t)vq->mem_len) < 0)
		return -errno;
	p = mmap(NULL, vq->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, vq->memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	vq->mem = p;
	vq->iova = dev->next_iova;
	dev->next_iova += (vq->mem_len + (1ull << 21) - 1) & ~((1ull << 21) - 1);
	vq->sq = (struct nvme_sqe *)vq->mem;
	vq->cq = vq->mem + sq_len;
	for (uint16_t t = 0; prp_len && t < vq->depth; t++) {
		uint64_t *list = (uint64_t *)(vq->mem + vq->prp_off + (size_t)t * VFU_PAGE);

		for (uint32_t i = 1; i < xfer / VFU_PAGE; i++)
			list[i - 1] = tag_bounce_dma(vq, t) + (uint64_t)i * VFU_PAGE;
	}
	map.addr = vq->iova;
	map.size = vq->mem_len;
	ret = dev_call(dev, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL, 0, &vq->memfd, 1, NULL, 0,
		       NULL);
	if (ret)
		nvmf_warn("vfio-user %s: DMA_MAP of queue %u (%zu bytes): %s", dev->name, vq->qid,
			  vq->mem_len, strerror(-ret));
	return ret;
}

/* MDTS in bytes (CAP.MPSMIN is 0: 4 KiB units), or no limit. */
static uint32_t mdts_bytes(const struct nvmf_host_ctrl *ctrl)
{
	if (!ctrl->id.mdts || ctrl->id.mdts > 19)
		return UINT32_MAX;
	return VFU_PAGE << ctrl->id.mdts;
}

static int vfu_queue_connect(struct nvmf_host_queue *q)
{
	struct nvmf_host_ctrl *ctrl = q->ctrl;
	struct vfu_dev *dev;
	struct vfu_queue *vq;
	uint32_t xfer;
	int ret;

	if (!q->depth || q->depth >= 4096 || q->qid > NVMF_HOST_MAX_IO_QUEUES)
		return -EINVAL;
	if (q->qid == 0) {
		ret = dev_connect(ctrl, &dev);
		if (ret)
			return ret;
		xfer = VFU_ADMIN_XFER;
	} else {
		dev = ctrl_dev(ctrl);
		if (!dev || !dev->alive)
			return -ENOTCONN;
		if (db_off(dev, q->qid, true) + 4 > dev->bar0_size) {
			nvmf_warn("vfio-user %s: BAR0 has no doorbell for queue %u", dev->name,
				  q->qid);
			return -EINVAL;
		}
		dev->refs++;
		xfer = mdts_bytes(ctrl) < VFU_MAX_XFER ? mdts_bytes(ctrl) : VFU_MAX_XFER;
		if (xfer < VFU_PAGE)
			xfer = VFU_PAGE;
	}
	vq = calloc(1, sizeof(*vq));
	if (!vq) {
		dev_put(dev);
		return -ENOMEM;
	}
	/* paired with vfu_queue_free(), or with out_free below */
	nvmf_host_live_add(&nvmf_host_live.transport_queues, 1);
	vq->dev = dev;
	vq->hq = q;
	vq->qid = q->qid;
	vq->depth = q->depth;
	vq->entries = (uint16_t)(q->depth + 1);
	vq->memfd = -1;
	vq->phase = 1;
	/* admin on vector 0; I/O queues spread over the others (all on 0 if it is alone) */
	vq->vec = q->qid && dev->nr_vec > 1 ? (uint16_t)(1 + (q->qid - 1) % (dev->nr_vec - 1)) : 0;
	ret = vq_alloc_mem(vq, xfer);
	if (ret)
		goto out_free;
	dev->queues[q->qid] = vq;
	q->tr = vq;
	q->sq_dma = vq->iova;
	q->cq_dma = vq->iova + (uint64_t)(vq->cq - vq->mem);
	q->hw_entries = vq->entries;
	q->cq_vector = vq->vec;
	return 0;

out_free:
	vq_free_mem(vq);
	free(vq);
	nvmf_host_live_add(&nvmf_host_live.transport_queues, -1);
	dev_put(dev);
	return ret;
}

static int vfu_queue_submit(struct nvmf_host_queue *q, struct nvmf_host_req *req)
{
	struct vfu_queue *vq = q->tr;
	uint32_t len = req->buf ? req->len : 0;
	uint32_t max;
	struct nvme_sqe *sqe;
	struct vfu_dev *dev;

	if (!vq || vq->stopped)
		return -ENOLINK;
	if (req->tag >= vq->depth)
		return -EINVAL;
	max = mdts_bytes(q->ctrl) < vq->xfer ? mdts_bytes(q->ctrl) : vq->xfer;
	if (len > max)
		return -EINVAL;
	dev = vq->dev;
	req->xfer = 0;
	/* the controller is gone or disabled: given back with -ENOLINK when the queue stops */
	if (!dev->alive || dev->quiesced)
		return 0;
	if (len && req->dir == NVMF_HOST_DATA_H2C) {
		memcpy(tag_bounce(vq, req->tag), req->buf, len);
		req->xfer = len;
	}
	sqe = &vq->sq[vq->sq_tail];
	*sqe = req->cmd;
	sqe->flags = (uint8_t)(sqe->flags & ~NVME_CMD_PSDT_MASK) | NVME_CMD_PSDT_PRP;
	sqe->mptr = 0;
	if (len) {
		uint64_t dma = tag_bounce_dma(vq, req->tag);

		sqe->dptr.prp[0] = dma;
		if (len <= VFU_PAGE)
			sqe->dptr.prp[1] = 0;
		else if (len <= 2 * VFU_PAGE)
			sqe->dptr.prp[1] = dma + VFU_PAGE;
		else
			sqe->dptr.prp[1] = vq->iova + vq->prp_off + (uint64_t)req->tag * VFU_PAGE;
	} else if (!req->internal) {
		/* internal commands without data keep theirs (Create I/O CQ/SQ: the base) */
		memset(&sqe->dptr, 0, sizeof(sqe->dptr));
	}
	if (++vq->sq_tail == vq->entries)
		vq->sq_tail = 0;
	vq->sq_dirty = true;
	nvmf_reactor_defer(dev->r, &dev->flush);
	return 0;
}

/* Every request still SENT on @vq: -ENOLINK (the controller owns nothing any more). */
static void vq_give_back(struct vfu_queue *vq)
{
	struct nvmf_host_queue *q = vq->hq;

	for (uint16_t t = 0; t < q->depth && q->reqs; t++)
		if (q->reqs[t].state == NVMF_HREQ_SENT)
			nvmf_host_req_done(&q->reqs[t], -ENOLINK);
}

/*
 * Make sure the controller can complete nothing more: shut down already, or disabled now
 * (CC.EN 0, CSTS.RDY 0 within CAP.TO, NVMe Base 2.0c 3.5.2), else the connection closes.
 * Blocking waits, never the reactor loop: this runs inside queue_stop().
 */
static void dev_quiesce(struct vfu_dev *dev)
{
	uint64_t cap_to_ns = (NVME_CAP_TO(dev->ctrl->cap) + 1) * 500000000ull;
	uint64_t deadline = nvmf_now_ns() + cap_to_ns;
	uint32_t cc, csts;
	int ret;

	if (dev->quiesced)
		return;
	if (dev->alive && (dev->cc & NVME_CC_SHN_MASK) &&
	    (dev->csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_CMPLT) {
		dev->quiesced = true;
		return;
	}
	ret = dev->alive ? bar0_read32(dev, NVME_REG_CC, &cc) : -ENOTCONN;
	if (!ret && (cc & NVME_CC_ENABLE))
		ret = bar0_write32(dev, NVME_REG_CC, cc & ~NVME_CC_ENABLE, false);
	while (!ret) {
		ret = bar0_read32(dev, NVME_REG_CSTS, &csts);
		if (ret || !(csts & NVME_CSTS_RDY))
			break;
		if (nvmf_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep(VFU_DISABLE_POLL_US);
	}
	if (ret)
		/* it may still be working: only without the connection is it sure to stop */
		dev_fail(dev, "controller not disabled (%s): connection closed", strerror(-ret));
	else
		dev->cc = cc & ~NVME_CC_ENABLE;
	dev->quiesced = true;
}

static void vfu_queue_stop(struct nvmf_host_queue *q)
{
	struct vfu_queue *vq = q->tr;
	struct vfu_dev *dev;

	if (!vq || vq->stopped)
		return;
	dev = vq->dev;
	vq->stopped = true;
	if (q->qid == 0)
		dev_quiesce(dev);
	if (!dev->quiesced)
		return; /* an I/O queue stopped on its own: its requests wait for the admin's */
	for (unsigned int i = 0; i <= NVMF_HOST_MAX_IO_QUEUES; i++)
		if (dev->queues[i] && dev->queues[i]->stopped)
			vq_give_back(dev->queues[i]);
}

static void vfu_queue_free(struct nvmf_host_queue *q)
{
	struct vfu_queue *vq = q->tr;
	struct vfu_dev *dev;

	if (!vq)
		return;
	vfu_queue_stop(q);
	dev = vq->dev;
	q->tr = NULL;
	dev->queues[vq->qid] = NULL;
	vq_free_mem(vq);
	free(vq);
	nvmf_host_live_add(&nvmf_host_live.transport_queues, -1);
	dev_put(dev);
}

const struct nvmf_host_transport_ops nvmf_host_vfio_user_ops = {
	.name = "vfio-user",
	.queue_connect = vfu_queue_connect,
	.queue_submit = vfu_queue_submit,
	.queue_stop = vfu_queue_stop,
	.queue_free = vfu_queue_free,
	.reg_read = vfu_reg_read,
	.reg_write = vfu_reg_write,
	.fabrics = false,
};
