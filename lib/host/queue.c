// SPDX-License-Identifier: MIT
/*
 * Host queues: tag sets with reserved tags (seed 002), submission to the transport, the one
 * completion path (nvmf_host_req_done), and parking of user commands while the controller
 * is not LIVE so that a reset retries them instead of failing them (as the Linux host
 * requeues requests cancelled with Host Aborted Command).
 */
#include "queue.h"
#include "ctrl.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nvmf_host_live nvmf_host_live;

int nvmf_host_queue_init(struct nvmf_host_ctrl *ctrl, struct nvmf_host_queue *q, uint16_t qid,
			 uint16_t depth, uint16_t nr_reserved)
{
	uint16_t pool_end = depth;

	memset(q, 0, sizeof(*q));
	q->ctrl = ctrl;
	q->qid = qid;
	q->depth = depth;
	q->nr_reserved = nr_reserved;
	q->reqs = calloc(depth, sizeof(*q->reqs));
	if (!q->reqs)
		return -ENOMEM;
	/* paired with nvmf_host_queue_release(), which sees q->reqs set */
	nvmf_host_live_add(&nvmf_host_live.queues, 1);
	nvmf_host_live_add(&nvmf_host_live.reqs, depth);
	/* the admin queue's last tag is the AER's, outside both pools */
	if (qid == 0 && depth == NVMF_HOST_AQ_DEPTH)
		pool_end = NVMF_HOST_AER_TAG;
	for (int t = (int)depth - 1; t >= 0; t--) {
		struct nvmf_host_req *req = &q->reqs[t];

		req->q = q;
		req->tag = (uint16_t)t;
		if (t >= pool_end)
			continue;
		if (t < nr_reserved) {
			req->next = q->free_reserved;
			q->free_reserved = req;
		} else {
			req->next = q->free_list;
			q->free_list = req;
		}
	}
	return 0;
}

void nvmf_host_queue_release(struct nvmf_host_queue *q)
{
	if (q->reqs) {
		nvmf_host_live_add(&nvmf_host_live.queues, -1);
		nvmf_host_live_add(&nvmf_host_live.reqs, -(int64_t)q->depth);
	}
	free(q->reqs);
	q->reqs = NULL;
	q->free_list = q->free_reserved = NULL;
}

struct nvmf_host_req *nvmf_host_tag_get(struct nvmf_host_queue *q, bool reserved)
{
	struct nvmf_host_req **list = reserved ? &q->free_reserved : &q->free_list;
	struct nvmf_host_req *req = *list;

	if (!req)
		return NULL;
	*list = req->next;
	req->next = NULL;
	return req;
}

struct nvmf_host_req *nvmf_host_tag_get_fixed(struct nvmf_host_queue *q, uint16_t tag)
{
	struct nvmf_host_req **pp;

	if (tag >= q->depth)
		return NULL;
	if (q->qid == 0 && tag == NVMF_HOST_AER_TAG)
		return q->reqs[tag].state == NVMF_HREQ_FREE ? &q->reqs[tag] : NULL;
	for (pp = &q->free_reserved; *pp; pp = &(*pp)->next) {
		if ((*pp)->tag == tag) {
			struct nvmf_host_req *req = *pp;

			*pp = req->next;
			req->next = NULL;
			return req;
		}
	}
	return NULL;
}

static void tag_put(struct nvmf_host_queue *q, struct nvmf_host_req *req)
{
	req->state = NVMF_HREQ_FREE;
	req->cb = NULL;
	req->buf = NULL;
	if (q->qid == 0 && req->tag == NVMF_HOST_AER_TAG && q->depth == NVMF_HOST_AQ_DEPTH)
		return;
	if (req->tag < q->nr_reserved) {
		req->next = q->free_reserved;
		q->free_reserved = req;
	} else {
		req->next = q->free_list;
		q->free_list = req;
	}
}

struct nvmf_host_req *nvmf_host_find_req(struct nvmf_host_queue *q, uint16_t cid)
{
	if (cid >= q->depth || q->reqs[cid].state != NVMF_HREQ_SENT)
		return NULL;
	return &q->reqs[cid];
}

int nvmf_host_queue_send(struct nvmf_host_queue *q, struct nvmf_host_req *req,
			 unsigned int timeout_ms)
{
	int ret;

	req->cmd.cid = req->tag;
	req->dir = nvmf_host_data_dir(&req->cmd);
	req->xfer = 0;
	req->timed_out = false;
	memset(&req->cqe, 0, sizeof(req->cqe));
	req->deadline_ns = timeout_ms ? nvmf_now_ns() + (uint64_t)timeout_ms * 1000000ull : 0;
	req->state = NVMF_HREQ_SENT;
	q->nr_sent++;
	/* I/O in flight keeps the reactor polling (hybrid polling; admin commands such as the
	 * AER stay out: they may be outstanding for hours) */
	if (q->qid)
		nvmf_reactor_inflight_add(q->ctrl->reactor, 1);
	ret = q->ctrl->ops->queue_submit(q, req);
	if (ret < 0) {
		q->nr_sent--;
		if (q->qid)
			nvmf_reactor_inflight_add(q->ctrl->reactor, -1);
		tag_put(q, req);
	}
	return ret;
}

/* A user command that must wait for the controller: kept outside any tag set. */
int nvmf_host_park(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd, void *buf,
		   uint32_t len, unsigned int timeout_ms, unsigned int retries, bool timed_out,
		   nvmf_host_cb cb, void *arg)
{
	struct nvmf_host_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->cmd = *cmd;
	p->qid = qid;
	p->buf = buf;
	p->len = len;
	p->timeout_ms = timeout_ms;
	p->retries = retries;
	p->timed_out = timed_out;
	p->cb = cb;
	p->arg = arg;
	*ctrl->pending_tail = p;
	ctrl->pending_tail = &p->next;
	return 0;
}

/* a user command's callback is about to run (struct nvmf_host_ctrl_stats) */
static void count_done(struct nvmf_host_ctrl *ctrl, int status)
{
	nvmf_counter_add(&ctrl->stats.completed, 1);
	if (status)
		nvmf_counter_add(&ctrl->stats.completed_error, 1);
}

void nvmf_host_req_done(struct nvmf_host_req *req, int err)
{
	struct nvmf_host_queue *q = req->q;
	struct nvmf_host_ctrl *ctrl = q->ctrl;
	struct nvme_cqe cqe = req->cqe;
	nvmf_host_cb cb = req->cb;
	void *arg = req->arg;
	int status;

	if (req->state != NVMF_HREQ_SENT) {
		nvmf_err("host: qid %u tag %u completed twice (state %u)", q->qid, req->tag,
			 req->state);
		nvmf_counter_add(&ctrl->stats.stray_cqes, 1);
		return;
	}
	q->nr_sent--;
	if (q->qid)
		nvmf_reactor_inflight_add(ctrl->reactor, -1);
	ctrl->last_completion_ns = nvmf_now_ns();
	status = err ? err : nvmf_host_status(&cqe);

	/*
	 * The association broke under a user command. The transport only reports that once
	 * the target can no longer complete it (seed 000), so retrying it on the next
	 * association cannot complete it twice: park it, as Linux requeues requests it
	 * cancelled with Host Aborted Command. Not a head's I/O: it completes with -ENOLINK
	 * now and its head fails it over to another path (mpath.c).
	 */
	if (err == -ENOLINK && !req->internal && !req->mpath && !req->timed_out &&
	    req->retries < NVMF_HOST_MAX_RETRIES &&
	    atomic_load(&ctrl->state) != NVMF_CTRL_DELETING &&
	    atomic_load(&ctrl->state) != NVMF_CTRL_DEAD) {
		if (!nvmf_host_park(ctrl, q->qid, &req->cmd, req->buf, req->len, req->timeout_ms,
				    req->retries + 1, req->timed_out, cb, arg)) {
			nvmf_counter_add(&ctrl->stats.retried, 1);
			tag_put(q, req);
			return;
		}
	}
	if (req->timed_out && err)
		status = -ETIMEDOUT;
	/* before the callback: a caller that saw it finds the counters final */
	if (!req->internal)
		count_done(ctrl, status);
	tag_put(q, req);
	if (cb) {
		ctrl->cb_depth++;
		cb(arg, status, err ? NULL : &cqe);
		ctrl->cb_depth--;
	}
	nvmf_host_kick_pending(ctrl);
}

void nvmf_host_user_done(struct nvmf_host_ctrl *ctrl, nvmf_host_cb cb, void *arg, int status)
{
	count_done(ctrl, status);
	if (cb)
		cb(arg, status, NULL);
}
