/* SPDX-License-Identifier: MIT */
/* Host queue and tag set functions (queue.c), internal to the host core. */
#ifndef NVMF_HOST_QUEUE_H
#define NVMF_HOST_QUEUE_H

#include "host-internal.h"

/**
 * nvmf_host_queue_init() - set up @q's tag set
 * @ctrl: controller
 * @q: queue
 * @qid: 0 for admin
 * @depth: entries = tags (SQSIZE + 1)
 * @nr_reserved: tags 0..nr_reserved-1 only for nvmf_host_tag_get(q, true)
 * Return: 0 or -ENOMEM.
 */
int nvmf_host_queue_init(struct nvmf_host_ctrl *ctrl, struct nvmf_host_queue *q, uint16_t qid,
			 uint16_t depth, uint16_t nr_reserved);
/** nvmf_host_queue_release() - free the tag set of a drained queue */
void nvmf_host_queue_release(struct nvmf_host_queue *q);

/** nvmf_host_tag_get() - a free normal (or reserved) tag, or NULL */
struct nvmf_host_req *nvmf_host_tag_get(struct nvmf_host_queue *q, bool reserved);
/** nvmf_host_tag_get_fixed() - a specific reserved tag (Connect, Keep Alive, AER) if free */
struct nvmf_host_req *nvmf_host_tag_get_fixed(struct nvmf_host_queue *q, uint16_t tag);

/**
 * nvmf_host_req_prep() - fill a request taken with nvmf_host_tag_get*() before sending it
 * @req: request
 * @cmd: SQE to send (copied; the CID and data pointer are set when sent)
 * @buf: data buffer or NULL, @len bytes
 * @len: bytes
 * @cb: completion callback (NULL: none)
 * @arg: its argument
 * @internal: library-owned: never parked or retried across a reset
 * @timeout_ms: command timeout, also used when it is resent after a reset
 */
static inline void nvmf_host_req_prep(struct nvmf_host_req *req, const struct nvme_sqe *cmd,
				      void *buf, uint32_t len, nvmf_host_cb cb, void *arg,
				      bool internal, unsigned int timeout_ms)
{
	req->cmd = *cmd;
	req->buf = buf;
	req->len = len;
	req->cb = cb;
	req->arg = arg;
	req->internal = internal;
	req->mpath = false;
	req->retries = 0;
	req->timeout_ms = timeout_ms;
}

/**
 * nvmf_host_queue_send() - hand a prepared request to the transport
 * @q: queue
 * @req: request with cmd/buf/len/cb/arg set
 * @timeout_ms: command timeout (0: none)
 * Return: 0 (the request completes through nvmf_host_req_done()), or -errno (not sent;
 * the tag is free again).
 */
int nvmf_host_queue_send(struct nvmf_host_queue *q, struct nvmf_host_req *req,
			 unsigned int timeout_ms);

/** nvmf_host_park() - keep a user command until the controller is LIVE. 0 or -ENOMEM. */
int nvmf_host_park(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd, void *buf,
		   uint32_t len, unsigned int timeout_ms, unsigned int retries, bool timed_out,
		   nvmf_host_cb cb, void *arg);

#endif
