// SPDX-License-Identifier: MIT
/*
 * The NVMe-over-PCIe controller model (see pcie.h): BAR0 registers and the CC/CSTS state
 * machine (NVMe Base 2.0c 3.1.4, 3.5), queues in host memory (NVMe PCIe Transport 1.0c 3),
 * PRPs and SGLs (NVMe Base 2.0c 4.1.1, 4.1.2), completion posting with the phase tag (4.6)
 * and Create/Delete I/O SQ/CQ (5.4-5.7).
 *
 * Requests: each SQ has preallocated slots (struct pcie_slot, one per entry, each with a
 * data buffer of MDTS bytes and a second one for Compare). An SQ tail doorbell fetches the
 * new SQEs into free slots and hands them to the core; the core's completion
 * (nvmf_pcie_queue_response()) copies controller-to-host data out and posts the CQE, or
 * keeps the slot on its CQ's list while the CQ is full (a completion is never dropped or
 * written over an entry the host has not consumed).
 *
 * Teardown (CC.EN 1 -> 0, function reset, controller failure): no new SQE is fetched, each
 * SQ is quiesced (the core gives back parked AERs and fault-held commands), and the model
 * then waits until every slot the core holds came back through queue_response, which posts
 * nothing any more (seed 000: nothing is completed on behalf of a backend that may still
 * complete it). Only then are the SQs destroyed, the controller released and CSTS.RDY
 * cleared. Freeing happens in deferred work, never inside a completion's call chain.
 */
#include "pcie.h"
#include "core.h"

#include "common/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE NVMF_PCIE_PAGE_SIZE
#define SQE_SIZE 64u
#define CQE_SIZE 16u
#define CC_IOSQES_NVM 6u	     /* 2^6 = 64-byte SQEs */
#define CC_IOCQES_NVM 4u	     /* 2^4 = 16-byte CQEs */
#define SGL_MAX_DESCS 4096u	     /* descriptors per command: ends a looping segment chain */
#define AEN_INFO_INVALID_DB_REG 0x00 /* Figure 148: write to an invalid doorbell register */
#define AEN_INFO_INVALID_DB_VAL 0x01 /* invalid doorbell write value */
#define REGS_LEN 0x40u

struct pcie_sq;

struct pcie_slot {
	struct nvmf_tgt_req req; /* first: the core's request is the slot */
	struct pcie_sq *sq;
	struct pcie_slot *next; /* free list, or its CQ's list of completions waiting for room */
	bool in_core;		/* handed to the core and not back through queue_response */
	bool dma_counted;	/* counted in ctrl->dma_inflight */
};

struct pcie_cq {
	uint16_t qid;
	uint16_t size; /* entries */
	uint16_t head; /* consumed by the host up to here (CQ head doorbell) */
	uint16_t tail; /* next entry we write */
	uint16_t phase;
	bool ien;
	uint16_t vector;
	uint64_t addr;
	uint16_t nr_sqs;
	bool irq_pending;
	struct pcie_slot *wait_head, *wait_tail; /* completions waiting for a free entry */
};

struct pcie_sq {
	struct nvmf_tgt_sq sq; /* first: the core's SQ */
	struct nvmf_pcie_ctrl *c;
	uint16_t qid;
	uint16_t size; /* entries */
	uint16_t head; /* next SQE to fetch */
	uint16_t tail; /* SQ tail doorbell */
	uint64_t addr;
	struct pcie_cq *cq;
	bool dying;   /* Delete I/O SQ or teardown: fetch nothing more */
	bool starved; /* SQEs are waiting for a free slot */
	struct pcie_slot *slots;
	uint16_t nr_slots;
	uint16_t nr_busy; /* slots not on the free list */
	struct pcie_slot *free_list;
	uint8_t *bufs;
	size_t bufs_len;
	struct nvmf_tgt_req *delete_req; /* Delete I/O SQ waiting for the drain */
};

struct nvmf_pcie_ctrl {
	struct nvmf_pcie_params p;
	struct nvmf_tgt_ctrl *ctrl; /* the core's controller while enabled */
	uint32_t cc, csts, aqa, intms;
	uint64_t asq, acq;
	uint32_t vs;
	uint16_t max_io_queues;
	uint16_t max_queue_size; /* entries, CAP.MQES + 1 */
	struct pcie_sq *sqs[NVMF_TGT_MAX_IO_QUEUES + 1];
	struct pcie_cq *cqs[NVMF_TGT_MAX_IO_QUEUES + 1];
	bool tearing;	/* waiting for the core to give every slot back */
	bool failed;	/* the teardown is a controller failure: CSTS.CFS stays */
	bool reset_all; /* function reset: every register to its reset value at the end */
	bool shutting;	/* CC.SHN: waiting for outstanding commands */
	bool want_kick; /* slots were freed: fetch what starved SQs have */
	bool want_event;
	unsigned int dma_inflight;
	struct nvmf_deferred work;
};

static void pcie_work(struct nvmf_deferred *d);
static void teardown(struct nvmf_pcie_ctrl *c, bool failed, const char *why);

static void schedule(struct nvmf_pcie_ctrl *c)
{
	nvmf_reactor_defer(c->p.reactor, &c->work);
}

static void set_csts(struct nvmf_pcie_ctrl *c, uint32_t csts)
{
	c->csts = csts;
	if (c->ctrl)
		atomic_store(&c->ctrl->csts, csts);
}

/* ------------------------------------------------------------------------------------------
 * Host memory: PRPs and SGLs (NVMe Base 2.0c 4.1.1, 4.1.2)
 */

/* Copy @len bytes between @buf and host memory at @addr, page by page (the mappings are). */
static uint16_t dma_copy(struct nvmf_pcie_ctrl *c, uint64_t addr, uint8_t *buf, uint32_t len,
			 bool to_host)
{
	while (len) {
		uint32_t chunk = PAGE - (uint32_t)(addr & (PAGE - 1));
		void *p;

		if (chunk > len)
			chunk = len;
		if (addr + chunk < addr)
			return NVME_SC_DATA_XFER_ERROR | NVME_STATUS_DNR;
		p = c->p.ops->dma(c->p.priv, addr, chunk, to_host);
		if (!p)
			return NVME_SC_DATA_XFER_ERROR | NVME_STATUS_DNR;
		if (to_host)
			memcpy(p, buf, chunk);
		else
			memcpy(buf, p, chunk);
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return NVME_SC_SUCCESS;
}

/*
 * PRP1 may start anywhere in a page; every further PRP entry must be page aligned (PRP
 * Offset Invalid otherwise). With more than two pages, PRP2 points to a PRP list whose last
 * entry in each page points to the next list page while more than one page is left.
 */
static uint16_t prp_xfer(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req, uint32_t len,
			 bool to_host)
{
	uint64_t prp1 = req->cmd.dptr.prp[0], prp2 = req->cmd.dptr.prp[1];
	uint8_t *buf = req->buf;
	uint32_t first = PAGE - (uint32_t)(prp1 & (PAGE - 1));
	uint64_t list;
	uint16_t status;

	if (prp1 & 3) {
		req->error_loc = offsetof(struct nvme_sqe, dptr);
		return NVME_SC_PRP_INVALID_OFFSET | NVME_STATUS_DNR;
	}
	if (first > len)
		first = len;
	status = dma_copy(c, prp1, buf, first, to_host);
	if (status)
		return status;
	buf += first;
	len -= first;
	if (!len)
		return NVME_SC_SUCCESS;
	if (len <= PAGE) {
		if (prp2 & (PAGE - 1)) {
			req->error_loc = offsetof(struct nvme_sqe, dptr) + 8;
			return NVME_SC_PRP_INVALID_OFFSET | NVME_STATUS_DNR;
		}
		return dma_copy(c, prp2, buf, len, to_host);
	}
	/* a PRP list: qword aligned, possibly starting inside its page */
	list = prp2;
	for (;;) {
		uint32_t n = (PAGE - (uint32_t)(list & (PAGE - 1))) / 8;
		uint32_t pages = (len + PAGE - 1) / PAGE;
		uint64_t entries[PAGE / 8];

		if (list & 7) {
			req->error_loc = offsetof(struct nvme_sqe, dptr) + 8;
			return NVME_SC_PRP_INVALID_OFFSET | NVME_STATUS_DNR;
		}
		/* only the entries this command still needs, not the rest of the list page */
		if (pages < n)
			n = pages;
		status = dma_copy(c, list, (uint8_t *)entries, n * 8, false);
		if (status)
			return status;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t chunk = len < PAGE ? len : PAGE;

			if (i == n - 1 && len > PAGE) {
				/*
				 * the next list page: page aligned like every entry of a list
				 * (4.1.1), which also guarantees progress; a list starting at
				 * the page's last qword pointing to itself would loop forever
				 */
				list = entries[i];
				if (list & (PAGE - 1))
					return NVME_SC_PRP_INVALID_OFFSET | NVME_STATUS_DNR;
				break;
			}
			if (entries[i] & (PAGE - 1))
				return NVME_SC_PRP_INVALID_OFFSET | NVME_STATUS_DNR;
			status = dma_copy(c, entries[i], buf, chunk, to_host);
			if (status)
				return status;
			buf += chunk;
			len -= chunk;
			if (!len)
				return NVME_SC_SUCCESS;
		}
	}
}

/* One Data Block or Bit Bucket descriptor; *@done counts the bytes of the command so far */
static uint16_t sgl_data(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req,
			 const struct nvme_sgl_desc *d, uint32_t len, uint32_t *done, bool to_host)
{
	uint8_t type = d->type >> 4;

	if ((d->type & 0xf) != NVME_SGL_SUBTYPE_ADDRESS)
		return NVME_SC_SGL_INVALID_SUBTYPE | NVME_STATUS_DNR;
	if (d->length > len - *done)
		return NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	if (type == NVME_SGL_TYPE_BIT_BUCKET) {
		/* only controller-to-host data may be discarded (NVMe Base 2.0c 4.1.2.2) */
		if (!to_host)
			return NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
	} else {
		uint16_t status =
			dma_copy(c, d->addr, (uint8_t *)req->buf + *done, d->length, to_host);

		if (status)
			return status;
	}
	*done += d->length;
	return NVME_SC_SUCCESS;
}

static bool sgl_is_data(uint8_t type)
{
	return type == NVME_SGL_TYPE_DATA_BLOCK || type == NVME_SGL_TYPE_BIT_BUCKET;
}

/*
 * The SGL in the SQE: one data descriptor, or a (Last) Segment pointing to a list of
 * descriptors in host memory whose last one may chain to the next segment. The data
 * descriptors must add up to exactly @len bytes (Data SGL Length Invalid).
 */
static uint16_t sgl_xfer(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req, uint32_t len,
			 bool to_host)
{
	struct nvme_sgl_desc seg = req->cmd.dptr.sgl;
	unsigned int budget = SGL_MAX_DESCS;
	uint32_t done = 0;
	uint16_t status;

	req->error_loc = offsetof(struct nvme_sqe, dptr);
	if (sgl_is_data(seg.type >> 4)) {
		status = sgl_data(c, req, &seg, len, &done, to_host);
		if (status)
			return status;
		return done == len ? NVME_SC_SUCCESS : NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	}
	for (;;) {
		uint8_t stype = seg.type >> 4;
		uint32_t n, i;
		uint64_t addr = seg.addr;
		bool last;

		if (stype != NVME_SGL_TYPE_SEGMENT && stype != NVME_SGL_TYPE_LAST_SEGMENT)
			return NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
		if ((seg.type & 0xf) != NVME_SGL_SUBTYPE_ADDRESS)
			return NVME_SC_SGL_INVALID_SUBTYPE | NVME_STATUS_DNR;
		if (!seg.length || seg.length % sizeof(struct nvme_sgl_desc))
			return NVME_SC_SGL_INVALID_COUNT | NVME_STATUS_DNR;
		n = seg.length / (uint32_t)sizeof(struct nvme_sgl_desc);
		last = stype == NVME_SGL_TYPE_LAST_SEGMENT;
		for (i = 0; i < n; i++) {
			struct nvme_sgl_desc d;

			if (!budget--)
				return NVME_SC_SGL_INVALID_COUNT | NVME_STATUS_DNR;
			status = dma_copy(c, addr + (uint64_t)i * sizeof(d), (uint8_t *)&d,
					  sizeof(d), false);
			if (status)
				return status;
			if (sgl_is_data(d.type >> 4)) {
				status = sgl_data(c, req, &d, len, &done, to_host);
				if (status)
					return status;
				continue;
			}
			/* a segment descriptor: only as the last entry of a non-last segment */
			if (last || i != n - 1)
				return NVME_SC_SGL_INVALID_LAST | NVME_STATUS_DNR;
			seg = d;
			break;
		}
		if (i == n) {
			if (!last)
				return NVME_SC_SGL_INVALID_LAST | NVME_STATUS_DNR;
			break;
		}
	}
	return done == len ? NVME_SC_SUCCESS : NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
}

static uint16_t data_xfer(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req, uint32_t len,
			  bool to_host)
{
	if ((req->cmd.flags & NVME_CMD_PSDT_MASK) == NVME_CMD_PSDT_PRP)
		return prp_xfer(c, req, len, to_host);
	return sgl_xfer(c, req, len, to_host);
}

uint16_t nvmf_pcie_data_in(struct nvmf_tgt_req *req)
{
	struct pcie_sq *sq = (struct pcie_sq *)req->sq;

	return data_xfer(sq->c, req, req->data_len, false);
}

/* Is [addr, addr + len) host memory the device may access that way, page by page? */
static bool ring_mapped(struct nvmf_pcie_ctrl *c, uint64_t addr, uint64_t len, bool write)
{
	for (uint64_t off = 0; off < len; off += PAGE) {
		uint32_t chunk = len - off < PAGE ? (uint32_t)(len - off) : PAGE;

		if (!c->p.ops->dma(c->p.priv, addr + off, chunk, write))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------------
 * Queues
 */

static struct pcie_cq *cq_alloc(struct nvmf_pcie_ctrl *c, uint16_t qid, uint16_t size,
				uint64_t addr, bool ien, uint16_t vector)
{
	struct pcie_cq *cq = calloc(1, sizeof(*cq));

	if (!cq)
		return NULL;
	cq->qid = qid;
	cq->size = size;
	cq->addr = addr;
	cq->ien = ien;
	cq->vector = vector;
	cq->phase = 1; /* the host zeroed the ring: new entries carry phase 1 first */
	c->cqs[qid] = cq;
	return cq;
}

static struct pcie_sq *sq_alloc(struct nvmf_pcie_ctrl *c, uint16_t qid, uint16_t size,
				uint64_t addr, struct pcie_cq *cq)
{
	struct nvmf_tgt *tgt = c->p.tgt;
	uint32_t buf_len = tgt->opts.mdts_bytes;
	struct pcie_sq *sq = calloc(1, sizeof(*sq));
	void *bufs;

	if (!sq)
		return NULL;
	sq->slots = calloc(size, sizeof(*sq->slots));
	if (!sq->slots) {
		free(sq);
		return NULL;
	}
	/* lazily populated, as TCP's: a slot's pages are touched only when it carries data */
	sq->bufs_len = (size_t)size * buf_len * 2;
	bufs = mmap(NULL, sq->bufs_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bufs == MAP_FAILED) {
		free(sq->slots);
		free(sq);
		return NULL;
	}
	sq->bufs = bufs;
	sq->c = c;
	sq->qid = qid;
	sq->size = size;
	sq->addr = addr;
	sq->cq = cq;
	sq->nr_slots = size;
	for (int i = size - 1; i >= 0; i--) {
		struct pcie_slot *s = &sq->slots[i];

		s->sq = sq;
		s->req.sq = &sq->sq;
		s->req.buf = sq->bufs + (size_t)i * buf_len * 2;
		s->req.cmp_buf = (uint8_t *)s->req.buf + buf_len;
		s->req.buf_len = buf_len;
		s->next = sq->free_list;
		sq->free_list = s;
	}
	nvmf_tgt_sq_init(&sq->sq, tgt, c->p.port, c->p.reactor, c->p.port->ops);
	sq->sq.pcie = true;
	sq->sq.qid = qid;
	sq->sq.size = size;
	cq->nr_sqs++;
	c->sqs[qid] = sq;
	return sq;
}

/* The SQ is drained (no busy slot): unregister it from the core and free it. */
static void sq_free(struct nvmf_pcie_ctrl *c, struct pcie_sq *sq)
{
	c->sqs[sq->qid] = NULL;
	sq->cq->nr_sqs--;
	/* drops the controller reference the queue held (the admin queue's may free it) */
	nvmf_tgt_sq_destroy(&sq->sq);
	munmap(sq->bufs, sq->bufs_len);
	free(sq->slots);
	free(sq);
}

static void slot_put(struct pcie_sq *sq, struct pcie_slot *s)
{
	s->next = sq->free_list;
	sq->free_list = s;
	sq->nr_busy--;
	if (sq->starved || sq->dying || sq->c->tearing || sq->c->shutting) {
		sq->c->want_kick = sq->starved;
		schedule(sq->c);
	}
}

/* Write one CQE; false if the ring is not in host memory any more (controller failure). */
static bool cq_write(struct nvmf_pcie_ctrl *c, struct pcie_cq *cq, const struct nvme_cqe *cqe)
{
	uint8_t *p =
		c->p.ops->dma(c->p.priv, cq->addr + (uint64_t)cq->tail * CQE_SIZE, CQE_SIZE, true);
	uint32_t last;

	if (!p)
		return false;
	/*
	 * The host polls the phase tag in the last dword: everything else must be visible
	 * before it (NVMe Base 2.0c 4.6).
	 */
	memcpy(p, cqe, 12);
	last = (uint32_t)cqe->cid | ((uint32_t)((cqe->status & ~1u) | cq->phase) << 16);
	atomic_thread_fence(memory_order_release);
	__atomic_store_n((uint32_t *)(p + 12), last, __ATOMIC_RELAXED);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	if (cq->ien && !cq->irq_pending) {
		cq->irq_pending = true;
		schedule(c);
	}
	return true;
}

static bool cq_full(const struct pcie_cq *cq)
{
	return (uint16_t)((cq->tail + 1) % cq->size) == cq->head;
}

/* Post the completions waiting for room, as far as the host freed entries */
static void cq_flush(struct nvmf_pcie_ctrl *c, struct pcie_cq *cq)
{
	while (cq->wait_head && !cq_full(cq)) {
		struct pcie_slot *s = cq->wait_head;

		if (!cq_write(c, cq, &s->req.cqe)) {
			teardown(c, true, "completion queue not in host memory");
			return;
		}
		cq->wait_head = s->next;
		if (!cq->wait_head)
			cq->wait_tail = NULL;
		slot_put(s->sq, s);
	}
}

static void sq_fetch(struct pcie_sq *sq)
{
	struct nvmf_pcie_ctrl *c = sq->c;

	while (sq->head != sq->tail) {
		struct pcie_slot *s;
		const void *sqe;
		uint16_t status;

		if (sq->dying || c->tearing || c->shutting || !c->ctrl)
			return;
		s = sq->free_list;
		if (!s) {
			sq->starved = true;
			return;
		}
		sqe = c->p.ops->dma(c->p.priv, sq->addr + (uint64_t)sq->head * SQE_SIZE, SQE_SIZE,
				    false);
		if (!sqe) {
			teardown(c, true, "submission queue not in host memory");
			return;
		}
		memcpy(&s->req.cmd, sqe, SQE_SIZE);
		sq->head = (uint16_t)((sq->head + 1) % sq->size);
		sq->free_list = s->next;
		s->next = NULL;
		sq->nr_busy++;
		s->in_core = true;
		/* the core advances sq.sqhd with every command, in fetch order */
		status = nvmf_tgt_req_init(&s->req);
		if (status) {
			nvmf_tgt_req_complete(&s->req, status);
			continue;
		}
		if (s->req.data_dir == NVMF_DATA_C2H) {
			/* its data goes to host memory when it completes: DMA_UNMAP waits */
			s->dma_counted = true;
			c->dma_inflight++;
		}
		s->req.execute(&s->req);
	}
	sq->starved = false;
}

void nvmf_pcie_queue_response(struct nvmf_tgt_req *req)
{
	struct pcie_slot *s = (struct pcie_slot *)req;
	struct pcie_sq *sq = s->sq;
	struct nvmf_pcie_ctrl *c = sq->c;
	struct pcie_cq *cq = sq->cq;
	bool post = !c->tearing && !unlikely(req->fault.drop);

	s->in_core = false;
	if (post && req->data_dir == NVMF_DATA_C2H && !(req->cqe.status >> 1) &&
	    req->transfer_len) {
		uint16_t status = data_xfer(c, req, req->transfer_len, true);

		/*
		 * the CQE is filled already: the transfer's error replaces its success, and is
		 * logged as the core logs failed commands (Error Information, Base 2.0c 5.16.1.2)
		 */
		if (status) {
			req->cqe.status = (uint16_t)(status << 1);
			if (sq->sq.ctrl)
				nvmf_tgt_ctrl_add_error(req);
		}
	}
	if (s->dma_counted) {
		s->dma_counted = false;
		if (--c->dma_inflight == 0) {
			c->want_event = true;
			schedule(c);
		}
	}
	if (!post) {
		slot_put(sq, s);
		return;
	}
	if (cq->wait_head || cq_full(cq)) {
		s->next = NULL;
		if (cq->wait_tail)
			cq->wait_tail->next = s;
		else
			cq->wait_head = s;
		cq->wait_tail = s;
		return;
	}
	if (!cq_write(c, cq, &req->cqe)) {
		slot_put(sq, s);
		teardown(c, true, "completion queue not in host memory");
		return;
	}
	slot_put(sq, s);
}

/* ------------------------------------------------------------------------------------------
 * Create/Delete I/O queues (NVMe Base 2.0c 5.4-5.7)
 */

static uint16_t max_qid(const struct nvmf_pcie_ctrl *c)
{
	uint16_t n = c->ctrl->nr_io_queues;

	return n && n < c->max_io_queues ? n : c->max_io_queues;
}

static uint16_t qfail(struct nvmf_tgt_req *req, uint16_t loc, uint16_t status)
{
	req->error_loc = loc;
	return status | NVME_STATUS_DNR;
}

#define LOC_CDW10 ((uint16_t)offsetof(struct nvme_sqe, cdw10))
#define LOC_CDW11 ((uint16_t)offsetof(struct nvme_sqe, cdw11))
#define LOC_PRP1 ((uint16_t)offsetof(struct nvme_sqe, dptr))

/* The checks Create I/O CQ and SQ share: QID, QSIZE, PC, the ring's base and extent */
static uint16_t check_create(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req, bool sq)
{
	uint16_t qid = NVME_CREATE_QID(req->cmd.cdw10);
	uint32_t entries = (uint32_t)NVME_CREATE_QSIZE(req->cmd.cdw10) + 1;
	uint64_t base = req->cmd.dptr.prp[0];
	uint32_t es = sq ? (c->cc & NVME_CC_IOSQES_MASK) >> NVME_CC_IOSQES_SHIFT
			 : (c->cc & NVME_CC_IOCQES_MASK) >> NVME_CC_IOCQES_SHIFT;

	if (!qid || qid > max_qid(c) || (sq ? c->sqs[qid] != NULL : c->cqs[qid] != NULL))
		return qfail(req, LOC_CDW10, NVME_SC_QID_INVALID);
	if (entries < 2 || entries > c->max_queue_size)
		return qfail(req, LOC_CDW10 + 2, NVME_SC_QUEUE_SIZE);
	/* CAP.CQR is set: queues must be physically contiguous */
	if (!(req->cmd.cdw11 & NVME_QUEUE_PHYS_CONTIG))
		return qfail(req, LOC_CDW11, NVME_SC_INVALID_FIELD);
	if (es != (sq ? CC_IOSQES_NVM : CC_IOCQES_NVM))
		return qfail(req, 0xffff, NVME_SC_INVALID_FIELD);
	if (base & (PAGE - 1))
		return qfail(req, LOC_PRP1, NVME_SC_PRP_INVALID_OFFSET);
	if (!ring_mapped(c, base, (uint64_t)entries * (sq ? SQE_SIZE : CQE_SIZE), !sq))
		return qfail(req, LOC_PRP1, NVME_SC_INVALID_FIELD);
	return NVME_SC_SUCCESS;
}

static uint16_t create_cq(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req)
{
	bool ien = req->cmd.cdw11 & NVME_CQ_IRQ_ENABLED;
	uint16_t iv = NVME_CREATE_CQ_IV(req->cmd.cdw11);
	uint16_t status = check_create(c, req, false);

	if (status)
		return status;
	if (ien && iv >= c->p.nr_vectors)
		return qfail(req, LOC_CDW11 + 2, NVME_SC_INVALID_VECTOR);
	if (!cq_alloc(c, NVME_CREATE_QID(req->cmd.cdw10), NVME_CREATE_QSIZE(req->cmd.cdw10) + 1,
		      req->cmd.dptr.prp[0], ien, iv))
		return NVME_SC_INTERNAL;
	return NVME_SC_SUCCESS;
}

static uint16_t create_sq(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req)
{
	uint16_t qid = NVME_CREATE_QID(req->cmd.cdw10);
	uint16_t cqid = NVME_CREATE_SQ_CQID(req->cmd.cdw11);
	struct nvmf_tgt_ctrl *ctrl = c->ctrl;
	uint16_t status = check_create(c, req, true);
	struct pcie_sq *sq;

	if (status)
		return status;
	if (!cqid || cqid > NVMF_TGT_MAX_IO_QUEUES || !c->cqs[cqid])
		return qfail(req, LOC_CDW11 + 2, NVME_SC_CQ_INVALID);
	sq = sq_alloc(c, qid, NVME_CREATE_QSIZE(req->cmd.cdw10) + 1, req->cmd.dptr.prp[0],
		      c->cqs[cqid]);
	if (!sq)
		return NVME_SC_INTERNAL;
	/* the queue's controller reference: dropped by nvmf_tgt_sq_destroy() in sq_free() */
	nvmf_tgt_ctrl_get(ctrl);
	sq->sq.ctrl = ctrl;
	pthread_mutex_lock(&ctrl->lock);
	ctrl->sqs[qid] = &sq->sq;
	pthread_mutex_unlock(&ctrl->lock);
	return NVME_SC_SUCCESS;
}

static uint16_t delete_cq(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req)
{
	uint16_t qid = NVME_CREATE_QID(req->cmd.cdw10);
	struct pcie_cq *cq = qid && qid <= NVMF_TGT_MAX_IO_QUEUES ? c->cqs[qid] : NULL;

	if (!cq)
		return qfail(req, LOC_CDW10, NVME_SC_QID_INVALID);
	if (cq->nr_sqs)
		return qfail(req, LOC_CDW10, NVME_SC_INVALID_QUEUE_DELETION);
	c->cqs[qid] = NULL;
	free(cq);
	return NVME_SC_SUCCESS;
}

/* Delete I/O SQ completes once its commands are back (pcie_work()); nothing is posted after */
static bool delete_sq(struct nvmf_pcie_ctrl *c, struct nvmf_tgt_req *req, uint16_t *status)
{
	uint16_t qid = NVME_CREATE_QID(req->cmd.cdw10);
	struct pcie_sq *sq = qid && qid <= NVMF_TGT_MAX_IO_QUEUES ? c->sqs[qid] : NULL;

	if (!sq || sq->dying) {
		*status = qfail(req, LOC_CDW10, NVME_SC_QID_INVALID);
		return false;
	}
	sq->dying = true;
	sq->delete_req = req;
	/* held and delayed commands come back now */
	nvmf_tgt_sq_quiesce(&sq->sq);
	schedule(c);
	return true;
}

void nvmf_pcie_queue_admin(struct nvmf_tgt_req *req)
{
	struct nvmf_pcie_ctrl *c = ((struct pcie_sq *)req->sq)->c;
	uint16_t status;

	switch (req->cmd.opcode) {
	case nvme_admin_create_cq:
		status = create_cq(c, req);
		break;
	case nvme_admin_create_sq:
		status = create_sq(c, req);
		break;
	case nvme_admin_delete_cq:
		status = delete_cq(c, req);
		break;
	case nvme_admin_delete_sq:
		if (delete_sq(c, req, &status))
			return;
		break;
	default:
		status = NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
		break;
	}
	nvmf_tgt_req_complete(req, status);
}

/* ------------------------------------------------------------------------------------------
 * Enable, shutdown, teardown (NVMe Base 2.0c 3.5.1, 3.6)
 */

static bool cc_valid(uint32_t cc)
{
	/* 4 KiB pages only (CAP.MPSMIN = MPSMAX = 0), NVM command set, round robin */
	return (cc & NVME_CC_MPS_MASK) == 0 && (cc & NVME_CC_CSS_MASK) == 0 &&
	       (cc & NVME_CC_AMS_MASK) == 0;
}

static void enable(struct nvmf_pcie_ctrl *c)
{
	struct nvmf_tgt *tgt = c->p.tgt;
	struct nvmf_tgt_port *port = c->p.port;
	uint32_t asqs = (c->aqa & NVME_AQA_ASQS_MASK) + 1;
	uint32_t acqs = ((c->aqa >> NVME_AQA_ACQS_SHIFT) & NVME_AQA_ASQS_MASK) + 1;
	static const uint8_t hostid[16];
	const char *why = "no controller ID free";
	struct nvmf_tgt_subsys *subsys;
	struct nvmf_tgt_ctrl *ctrl;
	struct pcie_cq *cq;
	struct pcie_sq *sq;
	uint16_t status;

	if (!cc_valid(c->cc) || asqs < 2 || acqs < 2 || (c->asq & (PAGE - 1)) ||
	    (c->acq & (PAGE - 1))) {
		nvmf_warn("vfio-user port %u: enable refused: CC %#x AQA %#x ASQ %#llx ACQ %#llx",
			  port->portid, c->cc, c->aqa, (unsigned long long)c->asq,
			  (unsigned long long)c->acq);
		set_csts(c, c->csts | NVME_CSTS_CFS);
		return;
	}
	cq = cq_alloc(c, 0, (uint16_t)acqs, c->acq, true, 0);
	sq = cq ? sq_alloc(c, 0, (uint16_t)asqs, c->asq, cq) : NULL;
	if (!sq) {
		free(cq);
		c->cqs[0] = NULL;
		set_csts(c, c->csts | NVME_CSTS_CFS);
		return;
	}
	/*
	 * The subsystem and the controller's place in it under the configuration lock. A PCIe
	 * controller has no host NQN to check against a subsystem's allowed hosts: only a
	 * subsystem open to any host is exported, never one with an allow list.
	 */
	pthread_rwlock_rdlock(&tgt->cfg_lock);
	subsys = port->nr_subsys ? port->subsys[0] : NULL;
	if (!subsys)
		why = "the port exports no subsystem";
	else if (!subsys->allow_any_host)
		why = "its subsystem allows only listed hosts, and a PCIe controller has no host "
		      "NQN";
	status = subsys && subsys->allow_any_host
			 ? nvmf_tgt_ctrl_alloc(subsys, port, &sq->sq, "", hostid, 0, &ctrl)
			 : NVME_SC_INTERNAL;
	pthread_rwlock_unlock(&tgt->cfg_lock);
	if (status) {
		nvmf_warn("vfio-user port %u: enable failed: %s", port->portid, why);
		sq_free(c, sq);
		free(cq);
		c->cqs[0] = NULL;
		set_csts(c, c->csts | NVME_CSTS_CFS);
		return;
	}
	ctrl->pcie = true;
	ctrl->kas = port->vfu.kas;
	ctrl->accept_kato = port->vfu.accept_kato == NVMF_TGT_VFU_KATO_DEFAULT
				    ? port->vfu.kas != 0
				    : port->vfu.accept_kato == NVMF_TGT_VFU_KATO_ACCEPT;
	ctrl->io_queue_depth = c->max_queue_size;
	ctrl->max_io_queues = c->max_io_queues;
	c->vs = subsys->version;
	c->ctrl = ctrl;
	c->failed = false;
	atomic_store(&ctrl->cc, c->cc);
	set_csts(c, NVME_CSTS_RDY);
}

/* Every SQ is drained: free the queues, release the controller, CSTS.RDY to 0 */
static void teardown_finish(struct nvmf_pcie_ctrl *c)
{
	for (int qid = NVMF_TGT_MAX_IO_QUEUES; qid >= 0; qid--)
		if (c->sqs[qid])
			sq_free(c, c->sqs[qid]);
	for (int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
		free(c->cqs[qid]);
		c->cqs[qid] = NULL;
	}
	c->ctrl = NULL; /* the admin SQ's destroy dropped the last reference we knew of */
	c->tearing = false;
	c->shutting = false;
	c->dma_inflight = 0;
	if (c->reset_all) {
		c->reset_all = false;
		c->cc = c->aqa = c->intms = 0;
		c->asq = c->acq = 0;
		set_csts(c, 0);
	} else if (c->failed) {
		set_csts(c, NVME_CSTS_CFS);
	} else {
		set_csts(c, 0);
	}
	c->want_event = true;
	nvmf_info("vfio-user port %u: controller disabled", c->p.port->portid);
	/* the host enabled again before CSTS.RDY went to 0: do it now */
	if ((c->cc & NVME_CC_ENABLE) && !c->failed)
		enable(c);
}

static bool drained(const struct nvmf_pcie_ctrl *c)
{
	for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++)
		if (c->sqs[qid] && c->sqs[qid]->nr_busy)
			return false;
	return true;
}

static void teardown(struct nvmf_pcie_ctrl *c, bool failed, const char *why)
{
	if (failed && !c->failed) {
		c->failed = true;
		set_csts(c, c->csts | NVME_CSTS_CFS);
	}
	if (c->tearing || !c->sqs[0])
		return;
	nvmf_info("vfio-user port %u: controller teardown: %s", c->p.port->portid, why);
	c->tearing = true;
	c->shutting = false;
	/* completions waiting for CQ room are ours: they will never be posted */
	for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
		struct pcie_cq *cq = c->cqs[qid];

		while (cq && cq->wait_head) {
			struct pcie_slot *s = cq->wait_head;

			cq->wait_head = s->next;
			slot_put(s->sq, s);
		}
		if (cq)
			cq->wait_tail = NULL;
	}
	/* I/O queues first, the admin queue last: its quiesce fails the core's controller */
	for (int qid = NVMF_TGT_MAX_IO_QUEUES; qid >= 0; qid--) {
		struct pcie_sq *sq = c->sqs[qid];

		if (!sq)
			continue;
		sq->dying = true;
		if (sq->delete_req) {
			struct nvmf_tgt_req *req = sq->delete_req;

			sq->delete_req = NULL;
			nvmf_tgt_req_complete(req, NVME_SC_ABORT_QUEUE);
		}
		nvmf_tgt_sq_quiesce(&sq->sq);
	}
	schedule(c);
}

/* Shutdown (CC.SHN): done when nothing but parked AERs is outstanding */
static bool shutdown_done(const struct nvmf_pcie_ctrl *c)
{
	for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
		const struct pcie_sq *sq = c->sqs[qid];

		if (!sq || !sq->nr_busy)
			continue;
		for (unsigned int i = 0; i < sq->nr_slots; i++) {
			const struct pcie_slot *s = &sq->slots[i];

			if (s->in_core &&
			    !(qid == 0 && s->req.cmd.opcode == nvme_admin_async_event))
				return false;
		}
		if (sq->cq->wait_head)
			return false;
	}
	return true;
}

static void pcie_work(struct nvmf_deferred *d)
{
	struct nvmf_pcie_ctrl *c =
		(struct nvmf_pcie_ctrl *)((char *)d - offsetof(struct nvmf_pcie_ctrl, work));

	if (c->tearing && drained(c))
		teardown_finish(c);
	/* Delete I/O SQ: answered once the queue gave every command back */
	for (unsigned int qid = 1; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
		struct pcie_sq *sq = c->sqs[qid];
		struct nvmf_tgt_req *req;

		if (!sq || !sq->delete_req || sq->nr_busy)
			continue;
		req = sq->delete_req;
		sq->delete_req = NULL;
		sq_free(c, sq);
		nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
	}
	if (c->shutting && shutdown_done(c)) {
		c->shutting = false;
		set_csts(c, (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_CMPLT);
		nvmf_info("vfio-user port %u: shutdown complete", c->p.port->portid);
	}
	if (c->want_kick) {
		c->want_kick = false;
		for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++)
			if (c->sqs[qid] && c->sqs[qid]->starved)
				sq_fetch(c->sqs[qid]);
	}
	/* one interrupt per vector per batch; MSI-X masking is the client's (QEMU's) job */
	for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++) {
		struct pcie_cq *cq = c->cqs[qid];

		if (cq && cq->irq_pending) {
			cq->irq_pending = false;
			c->p.ops->irq(c->p.priv, cq->vector);
		}
	}
	/* last: the owner may free the controller from here (nothing of it is used after) */
	c->want_event = false;
	c->p.ops->event(c->p.priv);
}

/* ------------------------------------------------------------------------------------------
 * Registers (NVMe Base 2.0c 3.1.4; NVMe PCIe 1.0c 3.1)
 */

static uint64_t cap(const struct nvmf_pcie_ctrl *c)
{
	/* DSTRD 0 (4-byte doorbells), MPSMIN = MPSMAX = 0 (4 KiB), NVM command set only */
	return (uint64_t)(c->max_queue_size - 1) | NVME_CAP_CQR |
	       ((uint64_t)NVMF_TGT_CAP_TO << NVME_CAP_TO_SHIFT) | NVME_CAP_CSS_NVM;
}

/*
 * VS is the version of the subsystem the controller belongs to, before CC.EN as after it (a
 * host may read it first, as libnvmf does); 1.3 while the port exports none.
 */
static uint32_t vs(const struct nvmf_pcie_ctrl *c)
{
	struct nvmf_tgt *tgt = c->p.tgt;
	struct nvmf_tgt_port *port = c->p.port;
	uint32_t v;

	if (c->ctrl)
		return c->vs;
	pthread_rwlock_rdlock(&tgt->cfg_lock);
	v = port->nr_subsys ? port->subsys[0]->version : c->vs;
	pthread_rwlock_unlock(&tgt->cfg_lock);
	return v;
}

static void regs_image(const struct nvmf_pcie_ctrl *c, uint8_t img[REGS_LEN])
{
	uint64_t v64 = cap(c);
	uint32_t v32;

	memset(img, 0, REGS_LEN);
	memcpy(img + NVME_REG_CAP, &v64, 8);
	v32 = vs(c);
	memcpy(img + NVME_REG_VS, &v32, 4);
	memcpy(img + NVME_REG_INTMS, &c->intms, 4);
	memcpy(img + NVME_REG_INTMC, &c->intms, 4);
	memcpy(img + NVME_REG_CC, &c->cc, 4);
	memcpy(img + NVME_REG_CSTS, &c->csts, 4);
	memcpy(img + NVME_REG_AQA, &c->aqa, 4);
	memcpy(img + NVME_REG_ASQ, &c->asq, 8);
	memcpy(img + NVME_REG_ACQ, &c->acq, 8);
}

int nvmf_pcie_bar0_read(struct nvmf_pcie_ctrl *c, uint64_t off, void *buf, uint32_t len)
{
	uint8_t img[REGS_LEN];

	if (off > NVMF_PCIE_BAR0_SIZE || len > NVMF_PCIE_BAR0_SIZE - off)
		return -EINVAL;
	memset(buf, 0, len);
	if (off < REGS_LEN) {
		uint32_t n = REGS_LEN - (uint32_t)off < len ? REGS_LEN - (uint32_t)off : len;

		regs_image(c, img);
		memcpy(buf, img + off, n);
	}
	return 0;
}

static void cc_write(struct nvmf_pcie_ctrl *c, uint32_t val)
{
	uint32_t old = c->cc;

	c->cc = val;
	if (c->ctrl)
		atomic_store(&c->ctrl->cc, val);
	if ((val & NVME_CC_ENABLE) && !(old & NVME_CC_ENABLE)) {
		/* during a teardown the enable waits for its end (teardown_finish()) */
		if (!c->tearing && !c->sqs[0]) {
			c->failed = false;
			set_csts(c, c->csts & ~NVME_CSTS_CFS);
			enable(c);
		}
	} else if (!(val & NVME_CC_ENABLE) && (old & NVME_CC_ENABLE)) {
		c->failed = false;
		if (c->sqs[0])
			teardown(c, false, "CC.EN cleared");
		else
			set_csts(c, 0);
	}
	if ((val & NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK)) {
		if (c->sqs[0] && !c->tearing) {
			c->shutting = true;
			set_csts(c, (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_OCCUR);
			schedule(c);
		} else {
			set_csts(c, (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_CMPLT);
		}
	} else if (!(val & NVME_CC_SHN_MASK) && (old & NVME_CC_SHN_MASK)) {
		c->shutting = false;
		set_csts(c, c->csts & ~NVME_CSTS_SHST_MASK);
	}
}

static void invalid_doorbell(struct nvmf_pcie_ctrl *c, uint8_t info, uint64_t off, uint32_t val)
{
	nvmf_warn("vfio-user port %u: invalid doorbell write %#x at %#llx", c->p.port->portid, val,
		  (unsigned long long)off);
	if (c->ctrl && !c->tearing)
		nvmf_tgt_ctrl_aen(c->ctrl, NVME_AER_TYPE_ERROR, info, NVME_LOG_ERROR);
}

static void doorbell_write(struct nvmf_pcie_ctrl *c, uint64_t off, uint32_t val)
{
	uint64_t idx = (off - NVME_REG_DBS) / 4;
	uint16_t qid = (uint16_t)(idx / 2);

	if (idx / 2 > NVMF_TGT_MAX_IO_QUEUES) {
		invalid_doorbell(c, AEN_INFO_INVALID_DB_REG, off, val);
		return;
	}
	if (idx % 2 == 0) {
		struct pcie_sq *sq = c->sqs[qid];

		if (!sq || sq->dying) {
			invalid_doorbell(c, AEN_INFO_INVALID_DB_REG, off, val);
			return;
		}
		if (val >= sq->size) {
			invalid_doorbell(c, AEN_INFO_INVALID_DB_VAL, off, val);
			return;
		}
		sq->tail = (uint16_t)val;
		sq_fetch(sq);
	} else {
		struct pcie_cq *cq = c->cqs[qid];

		if (!cq) {
			invalid_doorbell(c, AEN_INFO_INVALID_DB_REG, off, val);
			return;
		}
		/* the new head may not pass entries not posted yet (Base 2.0c 5.2, Figure 148) */
		if (val >= cq->size ||
		    (val + cq->size - cq->head) % cq->size >
			    (uint32_t)(cq->tail + cq->size - cq->head) % cq->size) {
			invalid_doorbell(c, AEN_INFO_INVALID_DB_VAL, off, val);
			return;
		}
		cq->head = (uint16_t)val;
		cq_flush(c, cq);
	}
}

static void reg_write32(struct nvmf_pcie_ctrl *c, uint64_t off, uint32_t val)
{
	bool disabled = !(c->cc & NVME_CC_ENABLE);

	switch (off) {
	case NVME_REG_INTMS:
		c->intms |= val;
		break;
	case NVME_REG_INTMC:
		c->intms &= ~val;
		break;
	case NVME_REG_CC:
		cc_write(c, val);
		break;
	case NVME_REG_NSSR:
		/* CAP.NSSRS is clear: NVM Subsystem Reset is not supported */
		break;
	/* the admin queue attributes may change only while the controller is disabled */
	case NVME_REG_AQA:
		if (disabled)
			c->aqa = val;
		break;
	case NVME_REG_ASQ:
	case NVME_REG_ASQ + 4:
	case NVME_REG_ACQ:
	case NVME_REG_ACQ + 4: {
		uint64_t *r = off < NVME_REG_ACQ ? &c->asq : &c->acq;
		unsigned int shift = (off & 4) ? 32 : 0;

		if (disabled)
			*r = (*r & ~(0xffffffffull << shift)) | ((uint64_t)val << shift);
		break;
	}
	default:
		nvmf_debug("vfio-user port %u: write %#x to read-only register %#llx",
			   c->p.port->portid, val, (unsigned long long)off);
		break;
	}
}

int nvmf_pcie_bar0_write(struct nvmf_pcie_ctrl *c, uint64_t off, const void *buf, uint32_t len)
{
	uint32_t v[2] = { 0, 0 };

	if (off > NVMF_PCIE_BAR0_SIZE || len > NVMF_PCIE_BAR0_SIZE - off)
		return -EINVAL;
	if ((len != 4 && len != 8) || (off & 3) || (off < NVME_REG_DBS && off + len > REGS_LEN) ||
	    (off >= NVME_REG_DBS && len != 4)) {
		nvmf_debug("vfio-user port %u: BAR0 write of %u bytes at %#llx ignored",
			   c->p.port->portid, len, (unsigned long long)off);
		return 0;
	}
	memcpy(v, buf, len);
	if (off >= NVME_REG_DBS) {
		doorbell_write(c, off, v[0]);
		return 0;
	}
	reg_write32(c, off, v[0]);
	if (len == 8)
		reg_write32(c, off + 4, v[1]);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Lifetime
 */

void nvmf_pcie_disconnect_sq(struct nvmf_tgt_sq *tsq)
{
	struct pcie_sq *sq = (struct pcie_sq *)tsq;

	/*
	 * Our own teardown's quiesce of the admin SQ has the core disconnect every queue: that
	 * echo is no failure (CSTS.CFS reports a fatal controller error, which an orderly
	 * CC.EN = 0 or reset is not), and the controller goes anyway.
	 */
	if (sq->c->tearing)
		return;
	/* the core fails the controller: keep-alive expiry, fail_controller, removal */
	teardown(sq->c, true, "controller failed");
}

void nvmf_pcie_reset(struct nvmf_pcie_ctrl *c)
{
	if (c->sqs[0] || c->tearing) {
		c->reset_all = true;
		c->failed = false;
		c->cc = 0;
		teardown(c, false, "function reset");
		return;
	}
	c->cc = c->aqa = c->intms = 0;
	c->asq = c->acq = 0;
	c->failed = false;
	set_csts(c, 0);
}

bool nvmf_pcie_busy(const struct nvmf_pcie_ctrl *c)
{
	return c->tearing || c->sqs[0] != NULL || c->work.queued;
}

bool nvmf_pcie_work_pending(const struct nvmf_pcie_ctrl *c)
{
	return c->work.queued;
}

bool nvmf_pcie_dma_busy(const struct nvmf_pcie_ctrl *c)
{
	return c->dma_inflight != 0;
}

uint32_t nvmf_pcie_csts(const struct nvmf_pcie_ctrl *c)
{
	return c->csts;
}

struct nvmf_pcie_ctrl *nvmf_pcie_ctrl_alloc(const struct nvmf_pcie_params *p)
{
	struct nvmf_pcie_ctrl *c = calloc(1, sizeof(*c));
	const struct nvmf_tgt_opts *o = &p->tgt->opts;

	if (!c)
		return NULL;
	c->p = *p;
	c->work.fn = pcie_work;
	c->vs = NVME_VS(1, 3, 0);
	c->max_io_queues =
		p->port->vfu.max_io_queues ? p->port->vfu.max_io_queues : o->max_io_queues;
	if (!c->max_io_queues || c->max_io_queues > NVMF_TGT_MAX_IO_QUEUES)
		c->max_io_queues = NVMF_TGT_MAX_IO_QUEUES;
	c->max_queue_size =
		p->port->vfu.max_queue_size ? p->port->vfu.max_queue_size : o->io_queue_depth;
	if (c->max_queue_size > NVMF_TGT_VFU_MAX_QUEUE_SIZE)
		c->max_queue_size = NVMF_TGT_VFU_MAX_QUEUE_SIZE;
	return c;
}

void nvmf_pcie_ctrl_free(struct nvmf_pcie_ctrl *c)
{
	free(c);
}
