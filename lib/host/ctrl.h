/* SPDX-License-Identifier: MIT */
/* Host controller functions shared inside the host core (ctrl.c). */
#ifndef NVMF_HOST_CTRL_H
#define NVMF_HOST_CTRL_H

#include "host-internal.h"

/** nvmf_host_set_state() - change state if the Linux host's rules allow it; Return: done */
bool nvmf_host_set_state(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state state);

/**
 * nvmf_host_sync_cmd() - send an internal command and run the loop until it completes
 * @q: queue
 * @tag: a reserved tag (Connect, Keep Alive), or -1 for any normal tag
 * @cmd: SQE (cid is filled in)
 * @buf: data or NULL
 * @len: bytes of @buf
 * @timeout_ms: give up after this long (the queue is stopped), 0 for none
 * @cqe: the completion, may be NULL
 *
 * Only from the reactor thread and never from inside a transport callback.
 * Return: 0, a positive NVMe status, or -errno (-ETIMEDOUT, -ENOLINK, -EAGAIN: no tag).
 */
int nvmf_host_sync_cmd(struct nvmf_host_queue *q, int tag, const struct nvme_sqe *cmd, void *buf,
		       uint32_t len, unsigned int timeout_ms, struct nvme_cqe *cqe);

/** nvmf_host_scan_ns() - read the active namespace list, each namespace, the ANA log */
int nvmf_host_scan_ns(struct nvmf_host_ctrl *ctrl);

/** nvmf_host_ka_start() - (re)arm keep-alive for ctrl->kato_ms (0: stop it) */
void nvmf_host_ka_start(struct nvmf_host_ctrl *ctrl);

/** nvmf_host_start_reset() - LIVE -> RESETTING, teardown and reconnect as deferred work */
void nvmf_host_start_reset(struct nvmf_host_ctrl *ctrl);

/** nvmf_host_kick_pending() - resubmit parked commands that waited for a free tag */
void nvmf_host_kick_pending(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_call() - run @fn on the controller's reactor thread and return its result
 * (directly when already there, or when the controller is polled by the caller)
 */
int nvmf_host_call(struct nvmf_host_ctrl *ctrl, int (*fn)(struct nvmf_host_ctrl *ctrl));

#endif
