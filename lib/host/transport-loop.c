// SPDX-License-Identifier: MIT
/*
 * The loop transport, host half: a controller of an embedded target (nvmf_host_opts.loop_tgt)
 * reached without sockets, as Linux nvme-loop. Connect and every other command go through
 * the target's real code (fabrics, admin, I/O, backends); only the wire is missing.
 *
 * A host queue owns a target queue (struct nvmf_tgt_loop_sq) and one target slot per host
 * tag. Submitting copies the SQE into the tag's slot and points the slot at the host's
 * buffer: no copy in either direction (write data is in place before execute, read data
 * lands in place). The one exception is a file namespace and a buffer that is not page
 * aligned: direct I/O cannot use it, so the data goes through the slot's own buffer.
 *
 * Everything runs on the host controller's reactor, which is the target queue's reactor too:
 * backends complete there (the file backend's io_uring is that reactor's ring).
 *
 * Completion: the target's response never completes the host request on the spot (a
 * callback that resubmits would recurse through a synchronous backend without bound). The
 * slot goes on the queue's done list; a deferred work item at the end of the loop iteration
 * completes the batch. Responses produced by those callbacks wait for the next iteration.
 *
 * Teardown (seed 000): queue_stop quiesces the target queue and completes with -ENOLINK
 * every request whose slot is back; slots still in a backend are waited for, each host
 * request completing (-ENOLINK, never the late response) when its slot returns, and the
 * target queue is destroyed once the last one did. queue_free releases the queue at once
 * if it is drained, else when the last slot returns.
 */
#include "target/core.h"

#include "common/log.h"
#include "host-internal.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum loop_slot_state {
	LOOP_SLOT_FREE = 0,
	LOOP_SLOT_EXEC, /* owned by the target core or a backend */
	LOOP_SLOT_DONE, /* back from the target, on the done list */
};

struct loop_queue;

struct loop_slot {
	struct nvmf_tgt_req req; /* first: the core hands us &req */
	struct loop_queue *lq;
	struct nvmf_host_req *hreq; /* the host request it carries, LOOP_SLOT_EXEC/DONE */
	void *bounce;		    /* mdts bytes of the queue's mapping */
	void *hbuf;		    /* the host buffer while req.buf is @bounce */
	int err;		    /* 0, or -ENOLINK: never reached the target */
	uint8_t state;
	struct loop_slot *next; /* done list */
};

struct loop_queue {
	struct nvmf_tgt_loop_sq lsq;
	struct nvmf_host_queue *hq; /* NULL once the host freed the queue */
	struct nvmf_reactor *r;
	struct loop_slot *slots; /* by host tag */
	uint16_t nr_slots;
	uint32_t mdts;	     /* bytes, the target's MDTS */
	uintptr_t dio_align; /* page size: what direct I/O needs of a buffer */
	uint8_t *bufs;	     /* per slot: bounce buffer, then compare buffer */
	size_t bufs_len;

	unsigned int nr_exec; /* slots in the target */
	struct loop_slot *done_head, **done_tail;
	unsigned int nr_done;
	struct nvmf_deferred drain;
	struct nvmf_timer kick; /* a drain for the next iteration */
	unsigned int in_drain;	/* completing host requests (may nest) */
	bool in_stop;		/* quiescing: stop completes what comes back */
	bool broken;		/* the target disconnected the queue */
	bool stopped;		/* no submissions; completions are -ENOLINK */
	bool destroyed;		/* nvmf_tgt_loop_sq_destroy() done */
	bool freeing;		/* the host let go: free once drained */
};

static struct loop_queue *to_loop_queue(struct nvmf_tgt_loop_sq *lsq)
{
	return (struct loop_queue *)((char *)lsq - offsetof(struct loop_queue, lsq));
}

/* ------------------------------------------------------------------------------------------
 * Completion
 */

/*
 * Complete the host requests of at most @max slots that came back, oldest first. The slots
 * stay on the list until their turn, so a queue_stop() from inside a callback completes the
 * rest itself. With -ENOLINK once the queue is stopped: the host said it takes no response
 * any more, and the target is done with those requests.
 */
static void loop_complete(struct loop_queue *lq, unsigned int max)
{
	lq->in_drain++;
	while (max-- && lq->done_head) {
		struct loop_slot *s = lq->done_head;
		struct nvmf_host_req *hreq = s->hreq;
		int err = lq->stopped ? -ENOLINK : s->err;

		lq->done_head = s->next;
		if (!lq->done_head)
			lq->done_tail = &lq->done_head;
		lq->nr_done--;
		s->next = NULL;
		s->hreq = NULL;
		s->state = LOOP_SLOT_FREE;
		/* the slot is free first: the callback may reuse the tag */
		if (lq->hq)
			nvmf_host_req_done(hreq, err);
	}
	lq->in_drain--;
}

static void loop_free(struct loop_queue *lq)
{
	nvmf_timer_cancel(lq->r, &lq->kick);
	if (lq->bufs)
		munmap(lq->bufs, lq->bufs_len);
	free(lq->slots);
	free(lq);
	nvmf_host_live_add(&nvmf_host_live.transport_queues, -1);
}

/*
 * The teardown steps that wait for the target: once stopped and every slot is back, the
 * target queue goes; once the host let go too, the queue is freed, but never while its work
 * item is queued in the reactor or this queue's completion loop is on the stack.
 */
static void loop_progress(struct loop_queue *lq)
{
	if (!lq->stopped || lq->nr_exec || lq->in_drain || lq->in_stop)
		return;
	if (!lq->destroyed) {
		lq->destroyed = true;
		nvmf_tgt_loop_sq_destroy(&lq->lsq);
	}
	if (lq->freeing && !lq->drain.queued)
		loop_free(lq);
}

static void loop_drain(struct nvmf_deferred *d)
{
	struct loop_queue *lq =
		(struct loop_queue *)((char *)d - offsetof(struct loop_queue, drain));

	/* this batch only: what its callbacks cause waits for loop_kick() */
	loop_complete(lq, lq->nr_done);
	loop_progress(lq);
}

static void loop_kick(struct nvmf_timer *t)
{
	struct loop_queue *lq =
		(struct loop_queue *)((char *)t - offsetof(struct loop_queue, kick));

	nvmf_reactor_defer(lq->r, &lq->drain);
}

/* A slot is back: queue its host request for completion. */
static void loop_slot_done(struct loop_queue *lq, struct loop_slot *s)
{
	s->state = LOOP_SLOT_DONE;
	s->next = NULL;
	*lq->done_tail = s;
	lq->done_tail = &s->next;
	lq->nr_done++;
	if (lq->in_stop)
		return; /* loop_queue_stop() completes it right after the quiesce */
	if (lq->in_drain)
		/*
		 * A callback of this batch submitted and a synchronous backend answered: the
		 * reactor would run a deferred drain again before going back to its events,
		 * timers and messages, for as long as the callbacks resubmit. Wait for the
		 * next iteration instead (a timer due now).
		 */
		nvmf_timer_arm(lq->r, &lq->kick, 0);
	else
		nvmf_reactor_defer(lq->r, &lq->drain);
}

/* nvmf_tgt_loop_sq_ops.response: the target completed a request of this queue. */
static void loop_response(struct nvmf_tgt_loop_sq *lsq, struct nvmf_tgt_req *treq)
{
	struct loop_queue *lq = to_loop_queue(lsq);
	struct loop_slot *s = (struct loop_slot *)treq;
	struct nvmf_host_req *hreq = s->hreq;

	lq->nr_exec--;
	if (!lq->stopped && lq->hq) {
		if (treq->data_dir == NVMF_DATA_C2H && !(treq->cqe.status >> 1)) {
			/* zero copy: the data is in the host's buffer already, unless bounced */
			if (s->hbuf && treq->transfer_len)
				memcpy(s->hbuf, treq->buf, treq->transfer_len);
			hreq->xfer = treq->transfer_len;
		}
		hreq->cqe = treq->cqe;
	}
	s->hbuf = NULL;
	loop_slot_done(lq, s);
}

/* nvmf_tgt_loop_sq_ops.disconnect: the target tears the queue down. */
static void loop_disconnect(struct nvmf_tgt_loop_sq *lsq, const char *why)
{
	struct loop_queue *lq = to_loop_queue(lsq);

	if (lq->stopped || lq->broken || !lq->hq)
		return;
	lq->broken = true;
	/* the host resets the controller, which stops this queue */
	nvmf_host_queue_error(lq->hq, why);
}

static const struct nvmf_tgt_loop_sq_ops loop_sq_ops = {
	.response = loop_response,
	.disconnect = loop_disconnect,
};

/* ------------------------------------------------------------------------------------------
 * Host transport operations
 */

/*
 * A loop port of @tgt, preferring one that exports @subnqn (any one serves the discovery
 * NQN). Ports are fixed while hosts use the target, as subsystems are.
 */
static struct nvmf_tgt_port *loop_find_port(struct nvmf_tgt *tgt, const char *subnqn)
{
	struct nvmf_tgt_subsys *s = subnqn[0] ? nvmf_tgt_find_subsys(tgt, subnqn) : NULL;
	struct nvmf_tgt_port *first = NULL;

	for (size_t i = 0; i < tgt->nr_ports; i++) {
		struct nvmf_tgt_port *port = tgt->ports[i];

		if (port->trtype != NVMF_TRTYPE_LOOP)
			continue;
		if (!s || nvmf_tgt_port_has_subsys(port, s))
			return port;
		if (!first)
			first = port; /* Connect then fails with the target's own status */
	}
	return first;
}

static int loop_queue_connect(struct nvmf_host_queue *q)
{
	struct nvmf_host_ctrl *ctrl = q->ctrl;
	struct nvmf_tgt *tgt = ctrl->opts.loop_tgt;
	struct nvmf_tgt_port *port;
	struct loop_queue *lq;
	long page = sysconf(_SC_PAGESIZE);
	void *bufs;
	int ret = -ENOMEM;

	if (!tgt || !q->depth)
		return -EINVAL;
	port = loop_find_port(tgt, ctrl->subnqn);
	if (!port)
		return -ENOENT;
	lq = calloc(1, sizeof(*lq));
	if (!lq)
		return -ENOMEM;
	/* paired with loop_free(), or with out_free below */
	nvmf_host_live_add(&nvmf_host_live.transport_queues, 1);
	lq->slots = calloc(q->depth, sizeof(*lq->slots));
	if (!lq->slots)
		goto out_free;
	lq->mdts = tgt->opts.mdts_bytes;
	lq->bufs_len = (size_t)q->depth * 2 * lq->mdts;
	/* lazily populated: only bounced transfers and Compare touch their pages */
	bufs = mmap(NULL, lq->bufs_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bufs == MAP_FAILED)
		goto out_free;
	lq->bufs = bufs;
	lq->dio_align = page > 0 ? (uintptr_t)page : 4096;
	lq->nr_slots = q->depth;
	for (uint16_t i = 0; i < q->depth; i++) {
		struct loop_slot *s = &lq->slots[i];
		uint8_t *base = lq->bufs + (size_t)i * 2 * lq->mdts;

		s->lq = lq;
		s->req.sq = &lq->lsq.sq;
		s->bounce = base;
		s->req.cmp_buf = base + lq->mdts;
	}
	lq->done_tail = &lq->done_head;
	lq->drain.fn = loop_drain;
	lq->kick.fn = loop_kick;
	lq->r = ctrl->reactor;
	lq->hq = q;
	ret = nvmf_tgt_loop_sq_init(&lq->lsq, tgt, port, ctrl->reactor, &loop_sq_ops);
	if (ret < 0)
		goto out_unmap;
	q->tr = lq;
	nvmf_debug("loop: qid %u: queue of %u entries on port %u", q->qid, q->depth, port->portid);
	return 0;

out_unmap:
	munmap(lq->bufs, lq->bufs_len);
out_free:
	free(lq->slots);
	free(lq);
	nvmf_host_live_add(&nvmf_host_live.transport_queues, -1);
	return ret;
}

/* Direct I/O on a file namespace needs a page-aligned buffer; anything else takes ours. */
static bool loop_needs_bounce(const struct loop_queue *lq, const struct nvmf_tgt_req *treq)
{
	return treq->data_len && treq->ns && treq->ns->ops == &nvmf_bdev_file_ops &&
	       ((uintptr_t)treq->buf & (lq->dio_align - 1));
}

static int loop_queue_submit(struct nvmf_host_queue *q, struct nvmf_host_req *req)
{
	struct loop_queue *lq = q->tr;
	struct nvmf_tgt_req *treq;
	struct loop_slot *s;
	uint32_t len = req->buf ? req->len : 0;
	uint16_t status;

	if (!lq || lq->stopped)
		return -ENOLINK;
	if (req->tag >= lq->nr_slots || lq->slots[req->tag].state != LOOP_SLOT_FREE) {
		nvmf_err("loop: qid %u: tag %u submitted while in use", q->qid, req->tag);
		return -EBUSY;
	}
	s = &lq->slots[req->tag];
	s->hreq = req;
	s->hbuf = NULL;
	s->err = 0;
	req->xfer = 0;
	if (lq->broken) {
		/* the target dropped the queue: as a dead connection, never answered */
		s->err = -ENOLINK;
		loop_slot_done(lq, s);
		return 0;
	}
	treq = &s->req;
	treq->cmd = req->cmd;
	treq->cmd.flags =
		(uint8_t)((treq->cmd.flags & ~NVME_CMD_PSDT_MASK) | NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	memset(&treq->cmd.dptr, 0, sizeof(treq->cmd.dptr));
	treq->cmd.dptr.sgl.type = NVME_SGL_ID_TCP_TRANSPORT;
	treq->cmd.dptr.sgl.length = len;
	treq->buf = req->buf;
	/* beyond MDTS the target refuses the SGL, as it would over TCP */
	treq->buf_len = len < lq->mdts ? len : lq->mdts;
	s->state = LOOP_SLOT_EXEC;
	lq->nr_exec++;

	status = nvmf_tgt_req_init(treq);
	if (status) {
		nvmf_tgt_req_complete(treq, status);
		return 0;
	}
	if (loop_needs_bounce(lq, treq)) {
		s->hbuf = treq->buf;
		treq->buf = s->bounce;
		if (treq->data_dir == NVMF_DATA_H2C)
			memcpy(treq->buf, s->hbuf, treq->data_len);
	}
	if (treq->data_dir == NVMF_DATA_H2C)
		req->xfer = treq->data_len;
	treq->execute(treq);
	return 0;
}

static void loop_queue_stop(struct nvmf_host_queue *q)
{
	struct loop_queue *lq = q->tr;

	if (!lq || lq->stopped)
		return;
	lq->stopped = true;
	/* parked requests (AERs) come back through loop_response() during this */
	lq->in_stop = true;
	nvmf_tgt_sq_quiesce(&lq->lsq.sq);
	lq->in_stop = false;
	if (lq->nr_exec)
		nvmf_debug("loop: qid %u: waiting for %u commands in the target", q->qid,
			   lq->nr_exec);
	/* the target is done with these: -ENOLINK now; the others as they come back */
	loop_complete(lq, UINT_MAX);
	loop_progress(lq);
}

static void loop_queue_free(struct nvmf_host_queue *q)
{
	struct loop_queue *lq = q->tr;

	if (!lq)
		return;
	loop_queue_stop(q);
	q->tr = NULL;
	if (lq->nr_exec || lq->nr_done)
		nvmf_warn("loop: qid %u: freed with %u commands outstanding: their completions "
			  "are dropped",
			  q->qid, lq->nr_exec + lq->nr_done);
	lq->hq = NULL;
	lq->freeing = true;
	loop_progress(lq);
}

const struct nvmf_host_transport_ops nvmf_host_loop_ops = {
	.name = "loop",
	.queue_connect = loop_queue_connect,
	.queue_submit = loop_queue_submit,
	.queue_stop = loop_queue_stop,
	.queue_free = loop_queue_free,
	.fabrics = true,
};
