// SPDX-License-Identifier: MIT
/*
 * Fabrics commands: Connect (NVMe Base 2.0c 6.3), Property Get (6.5) and Property Set (6.6),
 * with the CC.EN -> CSTS.RDY and CC.SHN -> CSTS.SHST controller register semantics (3.1.4).
 */
#include "core.h"

#include "common/log.h"

#include <stddef.h>
#include <string.h>

/* Connect response dw0 for Invalid Parameters: IATTR (bit 16) and IPO (15:0), Figure 549 */
#define CONNECT_IPO_DATA(field) ((1u << 16) | (uint32_t)offsetof(struct nvmf_connect_data, field))
#define CONNECT_IPO_SQE(field) ((uint32_t)offsetof(struct nvmf_connect_cmd, field))

uint64_t nvmf_tgt_cap(const struct nvmf_tgt *tgt, const struct nvmf_tgt_ctrl *ctrl)
{
	uint64_t mqes = (uint64_t)(ctrl ? ctrl->io_queue_depth : tgt->opts.io_queue_depth) - 1;

	/* MPSMIN = MPSMAX = 0 (4 KiB), CSS: NVM command set, CQR: queues are contiguous */
	return mqes | NVME_CAP_CQR | ((uint64_t)NVMF_TGT_CAP_TO << NVME_CAP_TO_SHIFT) |
	       NVME_CAP_CSS_NVM;
}

static void connect_fail(struct nvmf_tgt_req *req, uint16_t status, uint32_t ipo)
{
	req->cqe.result.dw0 = ipo;
	req->error_loc = offsetof(struct nvme_sqe, dptr);
	nvmf_tgt_req_complete(req, status);
}

/* @empty_ok: an empty NQN is accepted (the host NQN, as nvmet and SPDK accept it) */
static bool nqn_copy(char *dst, const char *src, bool empty_ok)
{
	size_t len = strnlen(src, NVME_NQN_FIELD_LEN);

	if ((len == 0 && !empty_ok) || len >= NVME_NQN_FIELD_LEN)
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

static void connect_locked(struct nvmf_tgt_req *req)
{
	const struct nvmf_connect_cmd *c = (const struct nvmf_connect_cmd *)&req->cmd;
	const struct nvmf_connect_data *d = req->buf;
	struct nvmf_tgt_sq *sq = req->sq;
	struct nvmf_tgt *tgt = sq->tgt;
	char subnqn[NVME_NQN_FIELD_LEN], hostnqn[NVME_NQN_FIELD_LEN];
	struct nvmf_tgt_subsys *s;
	struct nvmf_tgt_ctrl *ctrl;
	uint16_t status;

	if (!nvmf_tgt_check_transfer_len(req, sizeof(*d)))
		return;
	if (c->recfmt != 0) {
		nvmf_warn("connect: unsupported record format %u", c->recfmt);
		connect_fail(req, NVME_SC_CONNECT_FORMAT | NVME_STATUS_DNR,
			     CONNECT_IPO_SQE(recfmt));
		return;
	}
	if (!nqn_copy(subnqn, d->subsysnqn, false)) {
		connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
			     CONNECT_IPO_DATA(subsysnqn));
		return;
	}
	/*
	 * An empty host NQN (spdk_nvme_perf sends one unless given hostnqn:) is let through as
	 * the Linux target does: only a subsystem that allows any host admits it.
	 */
	if (!nqn_copy(hostnqn, d->hostnqn, true)) {
		connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
			     CONNECT_IPO_DATA(hostnqn));
		return;
	}
	/*
	 * A queue accepted before its port was disabled (nvmf_tgt_port_disable()): the port is
	 * out of service, the subsystem may be reachable elsewhere. No DNR: it may come back.
	 */
	if (!sq->port->enabled) {
		nvmf_warn("connect: host %s: port %u is disabled", hostnqn, sq->port->portid);
		connect_fail(req, NVME_SC_CONNECT_RESTART_DISC, CONNECT_IPO_DATA(subsysnqn));
		return;
	}
	s = nvmf_tgt_find_subsys(tgt, subnqn);
	if (!s || !nvmf_tgt_port_has_subsys(sq->port, s)) {
		nvmf_warn("connect: host %s: subsystem %s not found on port %u", hostnqn, subnqn,
			  sq->port->portid);
		connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
			     CONNECT_IPO_DATA(subsysnqn));
		return;
	}
	if (!nvmf_tgt_host_allowed(s, hostnqn)) {
		nvmf_warn("connect: host %s not allowed on %s", hostnqn, subnqn);
		connect_fail(req, NVME_SC_CONNECT_INVALID_HOST | NVME_STATUS_DNR,
			     CONNECT_IPO_DATA(hostnqn));
		return;
	}
	/* SQSIZE is 0's based and must be at least 1 (two entries) */
	if (c->sqsize == 0 || (uint32_t)c->sqsize + 1 > tgt->opts.io_queue_depth) {
		connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
			     CONNECT_IPO_SQE(sqsize));
		return;
	}

	if (c->qid == 0) {
		if (d->cntlid != NVME_CNTLID_DYNAMIC) {
			/* we only implement the dynamic controller model (FCATT bit 0 = 0) */
			connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
				     CONNECT_IPO_DATA(cntlid));
			return;
		}
		status = nvmf_tgt_ctrl_alloc(s, sq->port, sq, hostnqn, d->hostid, c->kato, &ctrl);
		if (status) {
			nvmf_tgt_req_complete(req, status);
			return;
		}
	} else {
		if (c->qid > tgt->opts.max_io_queues) {
			connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
				     CONNECT_IPO_SQE(qid));
			return;
		}
		ctrl = nvmf_tgt_ctrl_find_get(s, d->cntlid);
		if (!ctrl) {
			connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
				     CONNECT_IPO_DATA(cntlid));
			return;
		}
		if (strcmp(ctrl->hostnqn, hostnqn)) {
			nvmf_tgt_ctrl_put(ctrl);
			connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
				     CONNECT_IPO_DATA(hostnqn));
			return;
		}
		if (!(atomic_load(&ctrl->cc) & NVME_CC_ENABLE)) {
			nvmf_tgt_ctrl_put(ctrl);
			connect_fail(req, NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR, 0);
			return;
		}
		pthread_mutex_lock(&ctrl->lock);
		if (ctrl->sqs[c->qid]) {
			pthread_mutex_unlock(&ctrl->lock);
			nvmf_tgt_ctrl_put(ctrl);
			connect_fail(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR,
				     CONNECT_IPO_SQE(qid));
			return;
		}
		ctrl->sqs[c->qid] = sq;
		pthread_mutex_unlock(&ctrl->lock);
		/* the reference taken by find_get now belongs to the queue */
		sq->ctrl = ctrl;
	}
	sq->qid = c->qid;
	sq->size = (uint16_t)(c->sqsize + 1);
	sq->sqhd = 0;
	sq->sqhd_disabled = !!(c->cattr & NVMF_CONNECT_CATTR_DISABLE_SQFLOW);
	sq->icd_max = c->qid ? tgt->opts.inline_data_size : NVME_TCP_ADMIN_CCSZ;
	req->cqe.result.dw0 = ctrl->cntlid;
	nvmf_debug("connect: ctrl %u qid %u sqsize %u%s", ctrl->cntlid, c->qid, sq->size,
		   sq->sqhd_disabled ? " (sq flow control disabled)" : "");
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

/*
 * The subsystem, its export on this port, its host list and (for an admin queue) the new
 * controller's place in the subsystem are read and made under the configuration lock, so a
 * concurrent removal either sees the controller (and fails it) or the Connect fails.
 */
static void execute_connect(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt *tgt = req->sq->tgt;

	pthread_rwlock_rdlock(&tgt->cfg_lock);
	connect_locked(req);
	pthread_rwlock_unlock(&tgt->cfg_lock);
}

static void execute_property_get(struct nvmf_tgt_req *req)
{
	const struct nvmf_property_cmd *c = (const struct nvmf_property_cmd *)&req->cmd;
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint16_t status = NVME_SC_SUCCESS;
	uint64_t val = 0;

	if (c->attrib & 1) {
		if (c->offset == NVME_REG_CAP)
			val = nvmf_tgt_cap(req->sq->tgt, ctrl);
		else
			status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	} else {
		switch (c->offset) {
		case NVME_REG_VS:
			val = ctrl->subsys->version;
			break;
		case NVME_REG_CC:
			val = atomic_load(&ctrl->cc);
			break;
		case NVME_REG_CSTS:
			val = atomic_load(&ctrl->csts);
			break;
		default:
			status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
			break;
		}
	}
	if (status)
		req->error_loc = offsetof(struct nvmf_property_cmd, offset);
	req->cqe.result.u64 = val;
	nvmf_tgt_req_complete(req, status);
}

static bool cc_valid(uint32_t cc)
{
	/* 64-byte SQEs, 16-byte CQEs, 4 KiB pages, round robin, NVM command set */
	return ((cc & NVME_CC_IOSQES_MASK) >> NVME_CC_IOSQES_SHIFT) == 6 &&
	       ((cc & NVME_CC_IOCQES_MASK) >> NVME_CC_IOCQES_SHIFT) == 4 &&
	       (cc & NVME_CC_MPS_MASK) == 0 && (cc & NVME_CC_AMS_MASK) == 0 &&
	       (cc & NVME_CC_CSS_MASK) == 0;
}

static void execute_property_set(struct nvmf_tgt_req *req)
{
	const struct nvmf_property_cmd *c = (const struct nvmf_property_cmd *)&req->cmd;
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t new, old, csts;

	if ((c->attrib & 1) || c->offset != NVME_REG_CC) {
		req->error_loc = offsetof(struct nvmf_property_cmd, offset);
		nvmf_tgt_req_complete(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}
	new = (uint32_t)c->value;
	old = atomic_exchange(&ctrl->cc, new);
	csts = atomic_load(&ctrl->csts);
	if ((new &NVME_CC_ENABLE) && !(old & NVME_CC_ENABLE)) {
		if (cc_valid(new)) {
			csts |= NVME_CSTS_RDY;
		} else {
			nvmf_warn("ctrl %u: invalid CC 0x%08x on enable", ctrl->cntlid, new);
			csts |= NVME_CSTS_CFS;
		}
	}
	if (!(new &NVME_CC_ENABLE) && (old & NVME_CC_ENABLE)) {
		/* controller reset: like nvmet, CC and CSTS.RDY return to their reset values */
		csts &= ~NVME_CSTS_RDY;
		atomic_store(&ctrl->cc, 0);
	}
	if ((new &NVME_CC_SHN_MASK) && !(old & NVME_CC_SHN_MASK)) {
		/*
		 * Shutdown: every write we completed was handed to the backend; FUA/flush
		 * semantics already made acknowledged data durable where the host asked.
		 */
		csts &= ~(NVME_CSTS_RDY | NVME_CSTS_SHST_MASK);
		csts |= NVME_CSTS_SHST_CMPLT;
		atomic_store(&ctrl->cc, new & ~NVME_CC_ENABLE);
	}
	if (!(new &NVME_CC_SHN_MASK) && (old & NVME_CC_SHN_MASK))
		csts &= ~NVME_CSTS_SHST_MASK;
	atomic_store(&ctrl->csts, csts);
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

uint16_t nvmf_tgt_parse_fabrics_cmd(struct nvmf_tgt_req *req)
{
	const struct nvmf_common_cmd *c = (const struct nvmf_common_cmd *)&req->cmd;
	struct nvmf_tgt_sq *sq = req->sq;

	req->error_loc = offsetof(struct nvmf_common_cmd, fctype);
	if (c->fctype == nvme_fabrics_type_connect) {
		if (sq->ctrl)
			return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
		req->execute = execute_connect;
		req->error_loc = 0xffff;
		return NVME_SC_SUCCESS;
	}
	if (!sq->ctrl) {
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
	}
	/* Property Get/Set only on the admin queue (NVMe Base 2.0c 6.5, 6.6) */
	if (sq->qid != 0)
		return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
	switch (c->fctype) {
	case nvme_fabrics_type_property_get:
		req->execute = execute_property_get;
		break;
	case nvme_fabrics_type_property_set:
		req->execute = execute_property_set;
		break;
	default:
		return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
	}
	req->error_loc = 0xffff;
	return NVME_SC_SUCCESS;
}
