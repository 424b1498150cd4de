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

/**
 * nvmf_host_scan_ns() - read the active namespace list, each namespace (Identify Namespace,
 * and its Namespace Identification Descriptor list on NVMe 1.3 and later), the ANA log; a
 * path of a host subsystem then updates its namespace heads
 * Return: 0, a positive NVMe status, or -errno.
 */
int nvmf_host_scan_ns(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_read_ana() - read the ANA log page (NVMe Base 2.0c 5.16.1.12) into the namespaces'
 * ana_state, count the groups in change (ctrl->ana_nr_change), and tell the host subsystem
 * of a path. Nothing without CMIC.ANA. On the reactor thread, not from a transport callback.
 * Return: 0, a positive NVMe status, or -errno (-EPROTO: a malformed log).
 */
int nvmf_host_read_ana(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_ctrl_connect_on() - nvmf_host_ctrl_connect() on an existing reactor, for the
 * paths of a host subsystem; on the reactor's thread
 * @opts: options (copied); opts->threaded is ignored
 * @r: the reactor; the controller never destroys, stops or joins it
 * @threaded: @r runs in a thread of its own (calls from other threads travel as messages)
 * @out: the controller, LIVE
 * Return: 0, -errno or a positive NVMe status from Connect.
 */
int nvmf_host_ctrl_connect_on(const struct nvmf_host_opts *opts, struct nvmf_reactor *r,
			      bool threaded, struct nvmf_host_ctrl **out);

/**
 * nvmf_host_ctrl_delete_on() - nvmf_host_ctrl_delete() of a controller made by
 * nvmf_host_ctrl_connect_on(): shut down, drain, and free it once none of its deferred work
 * or timers is queued on the shared reactor; on the reactor's thread, from no nested frame
 * of the controller
 */
void nvmf_host_ctrl_delete_on(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_submit_mpath() - send a namespace head's I/O on @qid of a path controller
 * @ctrl: the path controller
 * @qid: I/O queue, 1..nr_io_queues
 * @cmd: SQE
 * @buf: data, @len bytes
 * @len: bytes
 * @cb: completion, run exactly once if this returns 0: with -ENOLINK when the association
 *	broke under it (after the transport drained it), never parked or resent here
 * @arg: its argument
 * On the reactor thread. Return: 0, -ENOLINK (controller not LIVE), -EAGAIN (no free tag on
 * @qid), -EINVAL (no such queue), or the transport's -errno (not sent).
 */
int nvmf_host_submit_mpath(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
			   void *buf, uint32_t len, nvmf_host_cb cb, void *arg);

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
