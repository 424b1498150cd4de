// SPDX-License-Identifier: MIT
/*
 * Host commands: the asynchronous submission API, the synchronous helpers built on it, and
 * passthrough with the Commands Supported and Effects log and the passthrough filter.
 */
#include "ctrl.h"
#include "mpath.h"
#include "queue.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Submit on the reactor thread: send when LIVE, park while reconnecting. */
static int submit_local(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
			void *buf, uint32_t len, unsigned int timeout_ms, nvmf_host_cb cb,
			void *arg)
{
	struct nvmf_host_queue *q;
	struct nvmf_host_req *req;

	switch (atomic_load(&ctrl->state)) {
	case NVMF_CTRL_LIVE:
		break;
	case NVMF_CTRL_NEW:
	case NVMF_CTRL_CONNECTING:
	case NVMF_CTRL_RESETTING:
		/* Linux holds I/O for a reconnect unless fast_io_fail_tmo has expired */
		if (ctrl->fail_fast)
			return -ENOLINK;
		return nvmf_host_park(ctrl, qid, cmd, buf, len, timeout_ms, 0, false, cb, arg);
	default:
		return -ENOLINK;
	}
	q = qid ? (qid <= ctrl->nr_io_queues ? ctrl->ioq[qid] : NULL) : &ctrl->admin;
	if (!q)
		return -EINVAL;
	req = nvmf_host_tag_get(q, false);
	if (!req)
		return -EAGAIN;
	nvmf_host_req_prep(req, cmd, buf, len, cb, arg, false, timeout_ms);
	return nvmf_host_queue_send(q, req, timeout_ms);
}

int nvmf_host_submit_mpath(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
			   void *buf, uint32_t len, nvmf_host_cb cb, void *arg)
{
	struct nvmf_host_queue *q;
	struct nvmf_host_req *req;
	int ret;

	/* never parked: a head sends only to LIVE paths and fails over itself */
	if (atomic_load(&ctrl->state) != NVMF_CTRL_LIVE)
		return -ENOLINK;
	q = qid && qid <= ctrl->nr_io_queues ? ctrl->ioq[qid] : NULL;
	if (!q)
		return -EINVAL;
	req = nvmf_host_tag_get(q, false);
	if (!req)
		return -EAGAIN;
	nvmf_host_req_prep(req, cmd, buf, len, cb, arg, false, ctrl->opts.io_timeout_ms);
	req->mpath = true;
	ret = nvmf_host_queue_send(q, req, ctrl->opts.io_timeout_ms);
	if (!ret)
		nvmf_counter_add(&ctrl->stats.submitted, 1);
	return ret;
}

struct submit_msg {
	struct nvmf_host_ctrl *ctrl;
	struct nvme_sqe cmd;
	uint16_t qid;
	void *buf;
	uint32_t len;
	unsigned int timeout_ms;
	nvmf_host_cb cb;
	void *arg;
};

static void submit_on_reactor(void *p)
{
	struct submit_msg *m = p;
	int ret;

	/* submit() told the caller 0: accepted, and a refusal is its one completion */
	nvmf_counter_add(&m->ctrl->stats.submitted, 1);
	ret = submit_local(m->ctrl, m->qid, &m->cmd, m->buf, m->len, m->timeout_ms, m->cb, m->arg);
	if (ret < 0)
		nvmf_host_user_done(m->ctrl, m->cb, m->arg, ret);
	free(m);
}

static int passthru_refused(struct nvmf_host_ctrl *ctrl, bool admin, const struct nvme_sqe *cmd);

static int submit(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd, void *buf,
		  uint32_t len, unsigned int timeout_ms, nvmf_host_cb cb, void *arg)
{
	struct submit_msg *m;
	int ret;

	/*
	 * Every user command passes here (nvmf_host_submit_admin/_io, the synchronous helpers,
	 * nvmf_host_passthru): the filter refuses before anything is counted or sent, on the
	 * caller's thread (seed 003: every passthrough path)
	 */
	ret = passthru_refused(ctrl, !qid, cmd);
	if (ret)
		return ret;

	if (!ctrl->own_thread || nvmf_reactor_current() == ctrl->reactor) {
		ret = submit_local(ctrl, qid, cmd, buf, len, timeout_ms, cb, arg);
		if (!ret)
			nvmf_counter_add(&ctrl->stats.submitted, 1);
		return ret;
	}
	/* another thread: hand it over (threaded mode's price: one small message) */
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct submit_msg){ ctrl, *cmd, qid, buf, len, timeout_ms, cb, arg };
	ret = nvmf_reactor_send(ctrl->reactor, submit_on_reactor, m);
	if (ret < 0)
		free(m);
	return ret;
}

int nvmf_host_submit_admin(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd, void *buf,
			   uint32_t len, nvmf_host_cb cb, void *arg)
{
	return submit(ctrl, 0, cmd, buf, len, ctrl->opts.admin_timeout_ms, cb, arg);
}

int nvmf_host_submit_io(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
			void *buf, uint32_t len, nvmf_host_cb cb, void *arg)
{
	if (!qid || qid > NVMF_HOST_MAX_IO_QUEUES)
		return -EINVAL;
	return submit(ctrl, qid, cmd, buf, len, ctrl->opts.io_timeout_ms, cb, arg);
}

/* ------------------------------------------------------------------------------------------
 * Synchronous helpers
 */

struct wait_ctx {
	struct nvmf_host_ctrl *ctrl;
	bool done;
	int status;
	struct nvme_cqe cqe;
};

static void wait_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct wait_ctx *w = arg;

	pthread_mutex_lock(&w->ctrl->lock);
	w->status = status;
	if (cqe)
		w->cqe = *cqe;
	w->done = true;
	pthread_cond_broadcast(&w->ctrl->cond);
	pthread_mutex_unlock(&w->ctrl->lock);
}

static int sync_submit(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
		       void *buf, uint32_t len, unsigned int timeout_ms, uint32_t *result)
{
	struct wait_ctx w = { .ctrl = ctrl };
	bool local = !ctrl->own_thread || nvmf_reactor_current() == ctrl->reactor;
	int ret;

	/* waiting inside a completion callback would re-enter the transport (or, inside a
	 * head I/O's callback, run the host subsystem's work under its own frame) */
	if (local && (ctrl->cb_depth || (ctrl->mpath && nvmf_host_mpath_in_cb(ctrl))))
		return -EDEADLK;
	if (!timeout_ms)
		timeout_ms = qid ? ctrl->opts.io_timeout_ms : ctrl->opts.admin_timeout_ms;
	ret = submit(ctrl, qid, cmd, buf, len, timeout_ms, wait_done, &w);
	if (ret < 0)
		return ret;
	if (local) {
		while (!w.done)
			nvmf_host_poll_nested(ctrl, 10);
	} else {
		pthread_mutex_lock(&ctrl->lock);
		while (!w.done)
			pthread_cond_wait(&ctrl->cond, &ctrl->lock);
		pthread_mutex_unlock(&ctrl->lock);
	}
	if (result)
		*result = w.cqe.result.dw0;
	return w.status;
}

int nvmf_host_identify(struct nvmf_host_ctrl *ctrl, uint8_t cns, uint32_t nsid, uint8_t csi,
		       void *buf)
{
	struct nvme_sqe c = { .opcode = nvme_admin_identify, .nsid = nsid };

	c.cdw10 = cns;
	c.cdw11 = (uint32_t)csi << 24;
	return sync_submit(ctrl, 0, &c, buf, NVME_IDENTIFY_DATA_SIZE, 0, NULL);
}

int nvmf_host_get_log(struct nvmf_host_ctrl *ctrl, uint8_t lid, uint32_t nsid, uint8_t lsp,
		      uint64_t lpo_bytes, bool rae, void *buf, uint32_t len)
{
	struct nvme_sqe c = { .opcode = nvme_admin_get_log_page, .nsid = nsid };
	uint32_t numd;

	if (!len || len % 4 || lpo_bytes % 4)
		return -EINVAL;
	numd = len / 4 - 1;
	c.cdw10 = lid | ((uint32_t)(lsp & 0x7f) << 8) | (rae ? NVME_LOG_RAE : 0) |
		  ((numd & 0xffff) << 16);
	c.cdw11 = numd >> 16;
	c.cdw12 = (uint32_t)lpo_bytes;
	c.cdw13 = (uint32_t)(lpo_bytes >> 32);
	return sync_submit(ctrl, 0, &c, buf, len, 0, NULL);
}

int nvmf_host_get_feature(struct nvmf_host_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint8_t sel,
			  uint32_t cdw11, void *buf, uint32_t len, uint32_t *result)
{
	struct nvme_sqe c = { .opcode = nvme_admin_get_features, .nsid = nsid };

	c.cdw10 = fid | ((uint32_t)(sel & 7) << 8);
	c.cdw11 = cdw11;
	return sync_submit(ctrl, 0, &c, buf, len, 0, result);
}

int nvmf_host_set_feature(struct nvmf_host_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			  bool save, void *buf, uint32_t len, uint32_t *result)
{
	struct nvme_sqe c = { .opcode = nvme_admin_set_features, .nsid = nsid };

	c.cdw10 = fid | (save ? NVME_FEAT_SV : 0);
	c.cdw11 = cdw11;
	return sync_submit(ctrl, 0, &c, buf, len, 0, result);
}

static int ns_shift(struct nvmf_host_ctrl *ctrl, uint32_t nsid)
{
	for (size_t i = 0; i < ctrl->nr_ns; i++)
		if (ctrl->ns[i].info.nsid == nsid)
			return ctrl->ns[i].info.lba_shift;
	return -ENXIO;
}

static int rw(struct nvmf_host_ctrl *ctrl, uint8_t opcode, uint32_t nsid, uint64_t slba,
	      uint32_t nlb, void *buf, uint32_t flags)
{
	struct nvme_sqe c = { .opcode = opcode, .nsid = nsid };
	int shift = ns_shift(ctrl, nsid);
	uint64_t len;

	if (shift < 0)
		return shift;
	if (!nlb || nlb > 0x10000)
		return -EINVAL;
	len = (uint64_t)nlb << shift;
	if (len > UINT32_MAX)
		return -EINVAL;
	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = (nlb - 1) | flags;
	return sync_submit(ctrl, 1, &c, opcode == nvme_cmd_write_zeroes ? NULL : buf,
			   opcode == nvme_cmd_write_zeroes ? 0 : (uint32_t)len, 0, NULL);
}

int nvmf_host_read(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		   void *buf)
{
	return rw(ctrl, nvme_cmd_read, nsid, slba, nlb, buf, 0);
}

int nvmf_host_write(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    const void *buf, bool fua)
{
	/* the buffer is only read: the library never writes into an H2C buffer */
	return rw(ctrl, nvme_cmd_write, nsid, slba, nlb, (void *)buf, fua ? NVME_RW_FUA : 0);
}

int nvmf_host_compare(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		      const void *buf)
{
	return rw(ctrl, nvme_cmd_compare, nsid, slba, nlb, (void *)buf, 0);
}

int nvmf_host_write_zeroes(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
			   bool deallocate)
{
	return rw(ctrl, nvme_cmd_write_zeroes, nsid, slba, nlb, NULL,
		  deallocate ? NVME_WZ_DEAC : 0);
}

int nvmf_host_flush(struct nvmf_host_ctrl *ctrl, uint32_t nsid)
{
	struct nvme_sqe c = { .opcode = nvme_cmd_flush, .nsid = nsid };

	return sync_submit(ctrl, 1, &c, NULL, 0, 0, NULL);
}

int nvmf_host_dsm(struct nvmf_host_ctrl *ctrl, uint32_t nsid, const struct nvme_dsm_range *ranges,
		  unsigned int nr, uint32_t attributes)
{
	struct nvme_sqe c = { .opcode = nvme_cmd_dsm, .nsid = nsid };

	if (!nr || nr > NVME_DSM_MAX_RANGES)
		return -EINVAL;
	c.cdw10 = nr - 1;
	c.cdw11 = attributes;
	return sync_submit(ctrl, 1, &c, (void *)ranges, nr * (uint32_t)sizeof(*ranges), 0, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Passthrough (NVME_IOCTL_ADMIN_CMD / IO_CMD)
 */

static int restart_ka(struct nvmf_host_ctrl *ctrl)
{
	ctrl->kato_ms = atomic_load(&ctrl->passthru_kato_ms);
	if (atomic_load(&ctrl->state) == NVMF_CTRL_LIVE)
		nvmf_host_ka_start(ctrl);
	return 0;
}

static int rescan(struct nvmf_host_ctrl *ctrl)
{
	return atomic_load(&ctrl->state) == NVMF_CTRL_LIVE ? nvmf_host_scan_ns(ctrl) : 0;
}

/*
 * Set Features Keep Alive Timer (seed 003): a non-fabrics controller's keep-alive is the
 * driver's business, so passthrough may not change it (-EOPNOTSUPP); on fabrics it is sent
 * and the library follows the new value, as the Linux host's nvme_passthru_end() does.
 */
static int kato_before(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd)
{
	if ((cmd->cdw10 & 0xff) != NVME_FEAT_KATO)
		return 0;
	return ctrl->ops->fabrics ? 0 : -EOPNOTSUPP;
}

static void kato_after(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd, int status)
{
	if ((cmd->cdw10 & 0xff) != NVME_FEAT_KATO || status)
		return;
	/* ceil(cdw11 / 1000) seconds, like the kernel's DIV_ROUND_UP(cdw11, 1000) */
	atomic_store(&ctrl->passthru_kato_ms, ((cmd->cdw11 + 999) / 1000) * 1000);
	nvmf_host_call(ctrl, restart_ka);
}

/*
 * The passthrough filter: commands the library must see or refuse. A table so that more
 * entries can join (the Linux host's nvme_cmd_allowed() grew the same way).
 */
static const struct passthru_filter {
	bool admin;
	uint8_t opcode;
	int (*before)(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd);
	void (*after)(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd, int status);
} passthru_filters[] = {
	{ true, nvme_admin_set_features, kato_before, kato_after },
};

/* A filter's refusal (-EOPNOTSUPP) of @cmd, or 0. */
static int passthru_refused(struct nvmf_host_ctrl *ctrl, bool admin, const struct nvme_sqe *cmd)
{
	for (size_t i = 0; i < sizeof(passthru_filters) / sizeof(passthru_filters[0]); i++) {
		const struct passthru_filter *f = &passthru_filters[i];

		if (f->admin == admin && f->opcode == cmd->opcode && f->before)
			return f->before(ctrl, cmd);
	}
	return 0;
}

static int load_effects(struct nvmf_host_ctrl *ctrl)
{
	struct nvme_effects_log *log;
	int ret;

	if (ctrl->effects_loaded || !(ctrl->id.lpa & NVME_LPA_CMD_EFFECTS))
		return 0;
	log = aligned_alloc(4096, sizeof(*log));
	if (!log)
		return -ENOMEM;
	ret = nvmf_host_get_log(ctrl, NVME_LOG_CMD_EFFECTS, 0, 0, 0, false, log, sizeof(*log));
	if (!ret) {
		memcpy(ctrl->acs_effects, log->acs, sizeof(ctrl->acs_effects));
		memcpy(ctrl->iocs_effects, log->iocs, sizeof(ctrl->iocs_effects));
		ctrl->effects_loaded = true;
	}
	free(log);
	return ret;
}

int nvmf_host_passthru(struct nvmf_host_ctrl *ctrl, bool admin, const struct nvme_sqe *cmd,
		       void *buf, uint32_t len, unsigned int timeout_ms, uint32_t *result)
{
	const struct passthru_filter *f = NULL;
	uint32_t effects = 0;
	int ret;

	for (size_t i = 0; i < sizeof(passthru_filters) / sizeof(passthru_filters[0]); i++) {
		if (passthru_filters[i].admin == admin &&
		    passthru_filters[i].opcode == cmd->opcode) {
			f = &passthru_filters[i];
			break;
		}
	}
	if (f && f->before) {
		ret = f->before(ctrl, cmd);
		if (ret)
			return ret;
	}
	if (!load_effects(ctrl) && ctrl->effects_loaded)
		effects = admin ? ctrl->acs_effects[cmd->opcode] : ctrl->iocs_effects[cmd->opcode];
	ret = sync_submit(ctrl, admin ? 0 : 1, cmd, buf, len, timeout_ms, result);
	if (f && f->after)
		f->after(ctrl, cmd, ret);
	/* namespace inventory or capabilities may have changed: look again */
	if (!ret &&
	    (effects & (NVME_CMD_EFFECTS_NCC | NVME_CMD_EFFECTS_NIC | NVME_CMD_EFFECTS_CCC)))
		nvmf_host_call(ctrl, rescan);
	return ret;
}
