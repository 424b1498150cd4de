// SPDX-License-Identifier: MIT
/*
 * Controllers: dynamic controller IDs, references (one per connected queue), the fatal path
 * that disconnects every queue on its own reactor, keep-alive (NVMe Base 2.0c 3.9.4) and the
 * Error Information log (5.16.1.2).
 */
#include "core.h"

#include "common/log.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ka_expired(struct nvmf_timer *t)
{
	struct nvmf_tgt_ctrl *ctrl =
		(struct nvmf_tgt_ctrl *)((char *)t - offsetof(struct nvmf_tgt_ctrl, ka_timer));

	/*
	 * Like nvmet: a command on any queue during the last period counts as keep-alive
	 * (traffic-based keep-alive, CTRATT.TBKAS), so an expiry is a whole KATO of silence.
	 */
	if (atomic_exchange_explicit(&ctrl->ka_activity, false, memory_order_relaxed)) {
		nvmf_timer_arm(ctrl->reactor, &ctrl->ka_timer, ctrl->kato_ms);
		return;
	}
	nvmf_warn("ctrl %u (%s): keep-alive timeout (%u ms), host %s", ctrl->cntlid,
		  ctrl->subsys->nqn, ctrl->kato_ms, ctrl->hostnqn);
	nvmf_tgt_ctrl_fatal(ctrl, "keep-alive timeout");
}

void nvmf_tgt_ctrl_ka_start(struct nvmf_tgt_ctrl *ctrl)
{
	if (atomic_load(&ctrl->fatal))
		return;
	if (!ctrl->kato_ms) {
		nvmf_timer_cancel(ctrl->reactor, &ctrl->ka_timer);
		return;
	}
	atomic_store_explicit(&ctrl->ka_activity, false, memory_order_relaxed);
	nvmf_timer_arm(ctrl->reactor, &ctrl->ka_timer, ctrl->kato_ms);
}

static bool cntlid_in_use(struct nvmf_tgt_subsys *s, uint16_t cntlid)
{
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next)
		if (c->cntlid == cntlid)
			return true;
	return false;
}

uint16_t nvmf_tgt_ctrl_alloc(struct nvmf_tgt_subsys *s, struct nvmf_tgt_port *port,
			     struct nvmf_tgt_sq *sq, const char *hostnqn, const uint8_t *hostid,
			     uint32_t kato_ms, struct nvmf_tgt_ctrl **out)
{
	struct nvmf_tgt_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	unsigned int span = (unsigned int)s->cntlid_max - s->cntlid_min + 1;
	bool found = false;

	if (!ctrl)
		return NVME_SC_INTERNAL;
	ctrl->subsys = s;
	ctrl->port = port;
	ctrl->reactor = sq->reactor;
	ctrl->io_queue_depth = s->tgt->opts.io_queue_depth;
	snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", hostnqn);
	memcpy(ctrl->hostid, hostid, sizeof(ctrl->hostid));
	atomic_init(&ctrl->refs, 1);
	pthread_mutex_init(&ctrl->lock, NULL);
	ctrl->ka_timer.fn = ka_expired;
	/* Linux nvmet gives discovery controllers a keep-alive even when the host asks none */
	if (!kato_ms && s->subtype == NVME_NQN_CURR)
		kato_ms = NVMF_TGT_DISC_KATO_MS;
	ctrl->kato_ms = kato_ms;
	atomic_init(&ctrl->vwc_enabled, true);
	ctrl->features_temp_thresh = 0x0157; /* 70 C in Kelvin */
	ctrl->sqs[0] = sq;

	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < span; i++) {
		uint16_t id = s->next_cntlid;

		s->next_cntlid = id >= s->cntlid_max ? s->cntlid_min : (uint16_t)(id + 1);
		if (!cntlid_in_use(s, id)) {
			ctrl->cntlid = id;
			found = true;
			break;
		}
	}
	if (!found) {
		pthread_mutex_unlock(&s->lock);
		pthread_mutex_destroy(&ctrl->lock);
		free(ctrl);
		return NVME_SC_CONNECT_CTRL_BUSY | NVME_STATUS_DNR;
	}
	ctrl->next = s->ctrls;
	s->ctrls = ctrl;
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add(&s->tgt->nr_ctrls, 1);

	sq->ctrl = ctrl;
	nvmf_tgt_ctrl_ka_start(ctrl);
	/* a PCIe controller has no host NQN: name the port's transport instead */
	nvmf_info("ctrl %u: %s connected to %s (kato %u ms)", ctrl->cntlid,
		  *hostnqn ? hostnqn : port->ops->name, s->nqn, kato_ms);
	*out = ctrl;
	return NVME_SC_SUCCESS;
}

struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_find_get(struct nvmf_tgt_subsys *s, uint16_t cntlid)
{
	struct nvmf_tgt_ctrl *c;

	pthread_mutex_lock(&s->lock);
	for (c = s->ctrls; c; c = c->next) {
		if (c->cntlid == cntlid && !atomic_load(&c->fatal)) {
			nvmf_tgt_ctrl_get(c);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return c;
}

void nvmf_tgt_ctrl_get(struct nvmf_tgt_ctrl *ctrl)
{
	atomic_fetch_add_explicit(&ctrl->refs, 1, memory_order_relaxed);
}

void nvmf_tgt_ctrl_put(struct nvmf_tgt_ctrl *ctrl)
{
	struct nvmf_tgt_subsys *s = ctrl->subsys;
	struct nvmf_tgt *tgt = s->tgt;
	struct nvmf_tgt_ctrl **pp;

	if (atomic_fetch_sub_explicit(&ctrl->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_lock(&s->lock);
	for (pp = &s->ctrls; *pp; pp = &(*pp)->next) {
		if (*pp == ctrl) {
			*pp = ctrl->next;
			break;
		}
	}
	nvmf_info("ctrl %u (%s): freed", ctrl->cntlid, s->nqn);
	/*
	 * The last touch of the subsystem: a removed subsystem is freed as soon as its
	 * controller list is empty (nvmf_tgt_remove_subsys()).
	 */
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_sub(&tgt->nr_ctrls, 1);
	pthread_mutex_destroy(&ctrl->lock);
	free(ctrl);
}

struct disconnect_msg {
	struct nvmf_tgt_ctrl *ctrl; /* holds a reference */
	uint16_t qid;
};

struct nvmf_tgt_sq *nvmf_tgt_ctrl_local_sq(struct nvmf_tgt_ctrl *ctrl, uint16_t qid)
{
	struct nvmf_tgt_sq *sq;

	/*
	 * The queue may have gone between the send and now: it is only freed on this reactor,
	 * so if it is still registered here it is still alive.
	 */
	pthread_mutex_lock(&ctrl->lock);
	sq = ctrl->sqs[qid];
	if (sq && sq->reactor != nvmf_reactor_current())
		sq = NULL;
	pthread_mutex_unlock(&ctrl->lock);
	return sq;
}

static void disconnect_on_reactor(void *arg)
{
	struct disconnect_msg *m = arg;
	struct nvmf_tgt_ctrl *ctrl = m->ctrl;
	struct nvmf_tgt_sq *sq = nvmf_tgt_ctrl_local_sq(ctrl, m->qid);

	if (sq)
		sq->ops->disconnect_sq(sq);
	nvmf_tgt_ctrl_put(ctrl);
	free(m);
}

/* Under ctrl->lock: have queue @qid, if connected, disconnected on its own reactor. */
static void disconnect_send(struct nvmf_tgt_ctrl *ctrl, uint16_t qid)
{
	struct nvmf_tgt_sq *sq = ctrl->sqs[qid];
	struct disconnect_msg *m;

	if (!sq)
		return;
	m = malloc(sizeof(*m));
	if (!m) {
		nvmf_err("ctrl %u: out of memory disconnecting qid %u", ctrl->cntlid, qid);
		return;
	}
	m->ctrl = ctrl;
	m->qid = qid;
	nvmf_tgt_ctrl_get(ctrl); /* dropped in disconnect_on_reactor() */
	if (nvmf_reactor_send(sq->reactor, disconnect_on_reactor, m) < 0) {
		nvmf_tgt_ctrl_put(ctrl);
		free(m);
	}
}

void nvmf_tgt_ctrl_fatal(struct nvmf_tgt_ctrl *ctrl, const char *why)
{
	if (atomic_exchange(&ctrl->fatal, true))
		return;
	nvmf_info("ctrl %u (%s): tearing down: %s", ctrl->cntlid, ctrl->subsys->nqn, why);
	atomic_fetch_or(&ctrl->csts, NVME_CSTS_CFS);
	pthread_mutex_lock(&ctrl->lock);
	for (unsigned int qid = 0; qid <= NVMF_TGT_MAX_IO_QUEUES; qid++)
		disconnect_send(ctrl, (uint16_t)qid);
	pthread_mutex_unlock(&ctrl->lock);
}

void nvmf_tgt_ctrl_disconnect_queue(struct nvmf_tgt_ctrl *ctrl, uint16_t qid)
{
	if (qid > NVMF_TGT_MAX_IO_QUEUES)
		return;
	pthread_mutex_lock(&ctrl->lock);
	disconnect_send(ctrl, qid);
	pthread_mutex_unlock(&ctrl->lock);
}

void nvmf_tgt_ctrl_add_error(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	struct nvme_error_log_entry *e;
	uint64_t count = atomic_fetch_add(&ctrl->subsys->err_count, 1) + 1;

	pthread_mutex_lock(&ctrl->lock);
	e = &ctrl->err_log[ctrl->err_log_next];
	ctrl->err_log_next = (ctrl->err_log_next + 1) % NVMF_TGT_ERR_LOG_ENTRIES;
	memset(e, 0, sizeof(*e));
	e->error_count = count;
	e->sqid = req->sq->qid;
	e->cmdid = req->cmd.cid;
	e->status_field = req->cqe.status;
	e->param_error_location = req->error_loc;
	e->lba = req->error_lba;
	e->nsid = req->cmd.nsid;
	e->trtype = req->sq->port ? req->sq->port->trtype : 0;
	pthread_mutex_unlock(&ctrl->lock);
}

void nvmf_tgt_subsys_stats(struct nvmf_tgt_subsys *s, uint64_t *read_bytes, uint64_t *write_bytes,
			   uint64_t *read_cmds, uint64_t *write_cmds)
{
	uint64_t rb, wb, rc, wc;

	pthread_mutex_lock(&s->lock);
	rb = s->read_bytes;
	wb = s->write_bytes;
	rc = s->read_cmds;
	wc = s->write_cmds;
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next) {
		pthread_mutex_lock(&c->lock);
		for (unsigned int q = 0; q <= NVMF_TGT_MAX_IO_QUEUES; q++) {
			struct nvmf_tgt_sq *sq = c->sqs[q];

			if (!sq)
				continue;
			rb += atomic_load_explicit(&sq->stats.read_bytes, memory_order_relaxed);
			wb += atomic_load_explicit(&sq->stats.write_bytes, memory_order_relaxed);
			rc += atomic_load_explicit(&sq->stats.read_cmds, memory_order_relaxed);
			wc += atomic_load_explicit(&sq->stats.write_cmds, memory_order_relaxed);
		}
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&s->lock);
	*read_bytes = rb;
	*write_bytes = wb;
	*read_cmds = rc;
	*write_cmds = wc;
}

static const char *ctrl_state(const struct nvmf_tgt_ctrl *ctrl, uint32_t cc, uint32_t csts)
{
	if (atomic_load(&ctrl->fatal) || (csts & NVME_CSTS_CFS))
		return "failed";
	if ((cc & NVME_CC_SHN_MASK) || (csts & NVME_CSTS_SHST_MASK))
		return "shutdown";
	if (csts & NVME_CSTS_RDY)
		return (cc & NVME_CC_ENABLE) ? "live" : "disabled";
	return (cc & NVME_CC_ENABLE) ? "enabling" : "disabled";
}

static size_t list_subsys_ctrls(struct nvmf_tgt_subsys *s, struct nvmf_tgt_ctrl_info *info,
				size_t n, size_t max)
{
	uint64_t now = nvmf_now_ns();

	pthread_mutex_lock(&s->lock);
	for (struct nvmf_tgt_ctrl *c = s->ctrls; c; c = c->next, n++) {
		struct nvmf_tgt_ctrl_info *i = &info[n];
		uint64_t last;

		if (n >= max)
			continue;
		memset(i, 0, sizeof(*i));
		snprintf(i->subsys_nqn, sizeof(i->subsys_nqn), "%s", s->nqn);
		snprintf(i->hostnqn, sizeof(i->hostnqn), "%s", c->hostnqn);
		i->cntlid = c->cntlid;
		i->portid = c->port ? c->port->portid : 0;
		i->cc = atomic_load(&c->cc);
		i->csts = atomic_load(&c->csts);
		i->state = ctrl_state(c, i->cc, i->csts);
		i->kato_ms = atomic_load_explicit(&c->kato_ms, memory_order_relaxed);
		pthread_mutex_lock(&c->lock);
		for (unsigned int q = 1; q <= NVMF_TGT_MAX_IO_QUEUES; q++)
			i->nr_io_queues += c->sqs[q] != NULL;
		pthread_mutex_unlock(&c->lock);
		i->keep_alive_count = atomic_load_explicit(&c->ka_count, memory_order_relaxed);
		last = atomic_load_explicit(&c->ka_last_ns, memory_order_relaxed);
		i->last_keep_alive_ms = last ? (now - last) / 1000000 : UINT64_MAX;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t nvmf_tgt_ctrl_list(struct nvmf_tgt *tgt, const char *nqn, struct nvmf_tgt_ctrl_info *info,
			  size_t max)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	if (!nqn || !strcmp(nqn, tgt->disc_subsys->nqn))
		n = list_subsys_ctrls(tgt->disc_subsys, info, n, max);
	for (size_t i = 0; i < tgt->nr_subsys; i++)
		if (!nqn || !strcmp(nqn, tgt->subsys[i]->nqn))
			n = list_subsys_ctrls(tgt->subsys[i], info, n, max);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	return n;
}

int nvmf_tgt_ctrl_fail(struct nvmf_tgt *tgt, const char *nqn, uint16_t cntlid)
{
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_ctrl *c = NULL;

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	s = nqn ? nvmf_tgt_find_subsys(tgt, nqn) : NULL;
	if (s)
		c = nvmf_tgt_ctrl_find_get(s, cntlid);
	pthread_rwlock_unlock(&tgt->cfg_lock);
	if (!c)
		return -ENOENT;
	nvmf_tgt_ctrl_fatal(c, "failed through the control interface");
	nvmf_tgt_ctrl_put(c);
	return 0;
}
