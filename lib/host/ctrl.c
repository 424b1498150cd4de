// SPDX-License-Identifier: MIT
/*
 * Host controller: the Linux host's state machine (NEW, CONNECTING, LIVE, RESETTING,
 * DELETING, DEAD), setting up an association (Connect, CC.EN/CSTS.RDY, Identify, queues),
 * keep-alive (NVMe Base 2.0c 3.9.4), command timeouts, reset and reconnect with
 * reconnect_delay / ctrl_loss_tmo / fast_io_fail_tmo, delete, and asynchronous events.
 *
 * Synchronous steps (the association setup, a namespace scan) wait by running the reactor
 * loop nested. They only run from the caller's thread, a message or deferred work, never
 * from inside a transport's receive path, so a transport is never re-entered.
 */
#include "ctrl.h"
#include "mpath.h"
#include "queue.h"
#include "common/ana.h"
#include "common/hex.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTRL_TIMER_MS 1000
#define CONNECT_TIMEOUT_MS 10000

static const char *const state_names[] = {
	[NVMF_CTRL_NEW] = "new",	   [NVMF_CTRL_CONNECTING] = "connecting",
	[NVMF_CTRL_LIVE] = "live",	   [NVMF_CTRL_RESETTING] = "resetting",
	[NVMF_CTRL_DELETING] = "deleting", [NVMF_CTRL_DEAD] = "dead",
};

const char *nvmf_host_ctrl_state_name(enum nvmf_host_ctrl_state state)
{
	return (unsigned int)state <= NVMF_CTRL_DEAD ? state_names[state] : "unknown";
}

/* Allowed transitions, as nvme_change_ctrl_state() in the Linux host. */
static bool transition_ok(int old, int new)
{
	switch (new) {
	case NVMF_CTRL_CONNECTING:
		return old == NVMF_CTRL_NEW || old == NVMF_CTRL_RESETTING ||
		       old == NVMF_CTRL_CONNECTING;
	case NVMF_CTRL_LIVE:
		return old == NVMF_CTRL_CONNECTING;
	case NVMF_CTRL_RESETTING:
		return old == NVMF_CTRL_LIVE;
	case NVMF_CTRL_DELETING:
		return old != NVMF_CTRL_DELETING && old != NVMF_CTRL_DEAD;
	case NVMF_CTRL_DEAD:
		return old == NVMF_CTRL_DELETING || old == NVMF_CTRL_CONNECTING;
	default:
		return false;
	}
}

bool nvmf_host_set_state(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state state)
{
	int old = atomic_load(&ctrl->state);

	if (!transition_ok(old, state))
		return false;
	pthread_mutex_lock(&ctrl->lock);
	atomic_store(&ctrl->state, (int)state);
	pthread_cond_broadcast(&ctrl->cond);
	pthread_mutex_unlock(&ctrl->lock);
	if (old != (int)state) {
		nvmf_info("host %s: %s -> %s", ctrl->subnqn, nvmf_host_ctrl_state_name(old),
			  nvmf_host_ctrl_state_name(state));
		/* the library acts first (a path's heads), then tells the user */
		if (ctrl->mpath)
			nvmf_host_mpath_ctrl_state(ctrl, old, state);
		if (ctrl->opts.state_cb) {
			ctrl->nest++;
			ctrl->opts.state_cb(ctrl, old, state, ctrl->opts.cb_arg);
			ctrl->nest--;
		}
	}
	return true;
}

void nvmf_host_poll_nested(struct nvmf_host_ctrl *ctrl, int timeout_ms)
{
	ctrl->nest++;
	nvmf_reactor_poll_once(ctrl->reactor, timeout_ms);
	ctrl->nest--;
}

enum nvmf_host_ctrl_state nvmf_host_ctrl_get_state(struct nvmf_host_ctrl *ctrl)
{
	return atomic_load(&ctrl->state);
}

/* ------------------------------------------------------------------------------------------
 * Synchronous commands on the reactor thread
 */

struct sync_ctx {
	bool done;
	int status;
	struct nvme_cqe cqe;
};

static void sync_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct sync_ctx *c = arg;

	c->status = status;
	if (cqe)
		c->cqe = *cqe;
	c->done = true;
}

/*
 * Send @cmd on @q from tag @tag (or any normal tag if @tag < 0) and run the loop until it
 * completes. Internal: never parked, never retried.
 */
int nvmf_host_sync_cmd(struct nvmf_host_queue *q, int tag, const struct nvme_sqe *cmd, void *buf,
		       uint32_t len, unsigned int timeout_ms, struct nvme_cqe *cqe)
{
	struct nvmf_host_ctrl *ctrl = q->ctrl;
	struct sync_ctx c = { 0 };
	struct nvmf_host_req *req;
	int ret;

	req = tag >= 0 ? nvmf_host_tag_get_fixed(q, (uint16_t)tag) : nvmf_host_tag_get(q, false);
	if (!req)
		return -EAGAIN;
	nvmf_host_req_prep(req, cmd, buf, len, sync_done, &c, true, timeout_ms);
	ret = nvmf_host_queue_send(q, req, timeout_ms);
	if (ret < 0)
		return ret;
	while (!c.done) {
		if (req->state == NVMF_HREQ_SENT && req->deadline_ns &&
		    nvmf_now_ns() > req->deadline_ns) {
			/* no reset from here: the caller owns the association and gives up */
			nvmf_warn("host %s: qid %u: opcode 0x%02x timed out", ctrl->subnqn, q->qid,
				  cmd->opcode);
			nvmf_counter_add(&ctrl->stats.timeouts, 1);
			req->timed_out = true;
			ctrl->ops->queue_stop(q);
			q->live = false;
			while (!c.done)
				nvmf_host_poll_nested(ctrl, 10);
			return -ETIMEDOUT;
		}
		nvmf_host_poll_nested(ctrl, 10);
	}
	if (cqe)
		*cqe = c.cqe;
	return c.status;
}

static int fabrics_connect(struct nvmf_host_ctrl *ctrl, struct nvmf_host_queue *q)
{
	struct nvmf_connect_data *d;
	struct nvmf_connect_cmd c = { 0 };
	struct nvme_cqe cqe;
	int ret;

	/* the connect data must stay valid while the command is in flight: not the stack
	 * of a callback, but this function waits for it */
	d = aligned_alloc(4096, 4096);
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	memcpy(d->hostid, ctrl->hostid, sizeof(d->hostid));
	d->cntlid = q->qid ? ctrl->cntlid : NVME_CNTLID_DYNAMIC;
	snprintf(d->subsysnqn, sizeof(d->subsysnqn), "%s", ctrl->subnqn);
	snprintf(d->hostnqn, sizeof(d->hostnqn), "%s", ctrl->hostnqn);
	c.opcode = nvme_fabrics_command;
	c.fctype = nvme_fabrics_type_connect;
	c.qid = q->qid;
	c.sqsize = (uint16_t)(q->depth - 1);
	c.kato = q->qid ? 0 : ctrl->kato_ms;
	ret = nvmf_host_sync_cmd(q, NVMF_HOST_CONNECT_TAG, (const struct nvme_sqe *)&c, d,
				 sizeof(*d), CONNECT_TIMEOUT_MS, &cqe);
	free(d);
	if (ret > 0)
		nvmf_warn("host %s: connect qid %u failed: status 0x%x (dw0 0x%x)", ctrl->subnqn,
			  q->qid, ret, cqe.result.dw0);
	if (ret)
		return ret;
	if (!q->qid)
		ctrl->cntlid = (uint16_t)cqe.result.dw0;
	q->live = true;
	return 0;
}

static int prop_get(struct nvmf_host_ctrl *ctrl, uint32_t offset, bool eight, uint64_t *val)
{
	struct nvmf_property_cmd c = { 0 };
	struct nvme_cqe cqe;
	int ret;

	/* PCIe: the registers themselves (NVMe PCIe Transport 1.0c 3.1) */
	if (!ctrl->ops->fabrics) {
		*val = 0;
		return ctrl->ops->reg_read(ctrl, offset, eight ? 8 : 4, val);
	}
	c.opcode = nvme_fabrics_command;
	c.fctype = nvme_fabrics_type_property_get;
	c.attrib = eight ? 1 : 0;
	c.offset = offset;
	ret = nvmf_host_sync_cmd(&ctrl->admin, -1, (const struct nvme_sqe *)&c, NULL, 0,
				 ctrl->opts.admin_timeout_ms, &cqe);
	if (!ret)
		*val = eight ? cqe.result.u64 : cqe.result.dw0;
	return ret;
}

static int prop_set(struct nvmf_host_ctrl *ctrl, uint32_t offset, uint32_t val)
{
	struct nvmf_property_cmd c = { 0 };

	if (!ctrl->ops->fabrics)
		return ctrl->ops->reg_write(ctrl, offset, 4, val);
	c.opcode = nvme_fabrics_command;
	c.fctype = nvme_fabrics_type_property_set;
	c.offset = offset;
	c.value = val;
	return nvmf_host_sync_cmd(&ctrl->admin, -1, (const struct nvme_sqe *)&c, NULL, 0,
				  ctrl->opts.admin_timeout_ms, NULL);
}

/* Poll CSTS until (CSTS & @mask) == @want, within @timeout_ms. */
static int wait_csts_ms(struct nvmf_host_ctrl *ctrl, uint32_t mask, uint32_t want,
			uint64_t timeout_ms, bool cfs_fatal)
{
	uint64_t deadline = nvmf_now_ns() + timeout_ms * 1000000ull;
	uint64_t csts;
	int ret;

	for (;;) {
		ret = prop_get(ctrl, NVME_REG_CSTS, false, &csts);
		if (ret)
			return ret;
		if (cfs_fatal && (csts & NVME_CSTS_CFS))
			return -EIO;
		if ((csts & mask) == want)
			return 0;
		if (nvmf_now_ns() > deadline)
			return -ETIMEDOUT;
		for (int i = 0; i < 5; i++)
			nvmf_host_poll_nested(ctrl, 2);
	}
}

/* Poll CSTS until (CSTS & @mask) == @want, within CAP.TO (500 ms units). */
static int wait_csts(struct nvmf_host_ctrl *ctrl, uint32_t mask, uint32_t want)
{
	return wait_csts_ms(ctrl, mask, want,
			    ((ctrl->cap >> NVME_CAP_TO_SHIFT) & 0xff) * 500ull + 500ull, true);
}

static int admin_cmd(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd, void *buf,
		     uint32_t len, struct nvme_cqe *cqe)
{
	return nvmf_host_sync_cmd(&ctrl->admin, -1, cmd, buf, len, ctrl->opts.admin_timeout_ms,
				  cqe);
}

/* ------------------------------------------------------------------------------------------
 * Non-fabrics (PCIe) controllers: registers instead of Connect and Property Get/Set, queues
 * created with admin commands, as the Linux PCIe driver does (nvme_pci_configure_admin_queue,
 * nvme_enable_ctrl, nvme_create_queue, nvme_disable_ctrl)
 */

/* Linux nvme-core's default shutdown_timeout, seconds: how long CSTS.SHST may take */
#define PCIE_SHUTDOWN_TIMEOUT_MS 5000

static uint64_t cap_to_ms(const struct nvmf_host_ctrl *ctrl)
{
	return NVME_CAP_TO(ctrl->cap) * 500ull + 500ull;
}

/* CC.EN = 0, then CSTS.RDY = 0 within CAP.TO (NVMe Base 2.0c 3.5.2): a fatal status is no
 * reason to stop waiting here, a disable is how one recovers from it */
static int pcie_disable(struct nvmf_host_ctrl *ctrl)
{
	uint64_t cc;
	int ret;

	ret = prop_get(ctrl, NVME_REG_CC, false, &cc);
	if (ret)
		return ret;
	if (cc & NVME_CC_ENABLE) {
		ret = prop_set(ctrl, NVME_REG_CC, (uint32_t)cc & ~NVME_CC_ENABLE);
		if (ret)
			return ret;
	}
	return wait_csts_ms(ctrl, NVME_CSTS_RDY, 0, cap_to_ms(ctrl), false);
}

/* Admin queue registers, CC, then CSTS.RDY (NVMe Base 2.0c 3.5.1, steps 1-6) */
static int pcie_enable(struct nvmf_host_ctrl *ctrl)
{
	const struct nvmf_host_queue *q = &ctrl->admin;
	uint32_t aqa = (uint32_t)(q->hw_entries - 1) |
		       ((uint32_t)(q->hw_entries - 1) << NVME_AQA_ACQS_SHIFT);
	uint32_t cc;
	int ret;

	/* PRPs are built for 4 KiB memory pages (CC.MPS 0) and NVM command set I/O */
	if (NVME_CAP_MPSMIN(ctrl->cap) > 0 || !(ctrl->cap & NVME_CAP_CSS_NVM)) {
		nvmf_warn("host %s: CAP 0x%llx: no 4 KiB pages or no NVM command set", ctrl->traddr,
			  (unsigned long long)ctrl->cap);
		return -EOPNOTSUPP;
	}
	ret = pcie_disable(ctrl);
	if (ret) {
		nvmf_warn("host %s: controller did not disable (CSTS.RDY stays 1): %s",
			  ctrl->traddr, strerror(ret < 0 ? -ret : EIO));
		return ret;
	}
	/* ASQ/ACQ as two 4-byte writes, low half first, as Linux lo_hi_writeq() */
	ret = prop_set(ctrl, NVME_REG_AQA, aqa);
	if (!ret)
		ret = prop_set(ctrl, NVME_REG_ASQ, (uint32_t)q->sq_dma);
	if (!ret)
		ret = prop_set(ctrl, NVME_REG_ASQ + 4, (uint32_t)(q->sq_dma >> 32));
	if (!ret)
		ret = prop_set(ctrl, NVME_REG_ACQ, (uint32_t)q->cq_dma);
	if (!ret)
		ret = prop_set(ctrl, NVME_REG_ACQ + 4, (uint32_t)(q->cq_dma >> 32));
	if (ret)
		return ret;
	/* CSS NVM (000b), MPS 4 KiB, AMS round robin, SQE 64 B, CQE 16 B; then EN */
	cc = (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	ret = prop_set(ctrl, NVME_REG_CC, cc);
	if (!ret)
		ret = prop_set(ctrl, NVME_REG_CC, cc | NVME_CC_ENABLE);
	if (!ret)
		ret = wait_csts_ms(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY, cap_to_ms(ctrl), true);
	if (ret)
		return ret;
	ctrl->admin.live = true;
	return 0;
}

/* Create I/O Completion Queue, then Submission Queue (NVMe Base 2.0c 5.4, 5.5) */
static int pcie_create_queue(struct nvmf_host_ctrl *ctrl, struct nvmf_host_queue *q)
{
	struct nvme_sqe c = { .opcode = nvme_admin_create_cq };
	uint32_t qsize = (uint32_t)(q->hw_entries - 1) << 16;
	int ret;

	/* internal commands without data keep their PRP1: here, the queue's base */
	c.dptr.prp[0] = q->cq_dma;
	c.cdw10 = qsize | q->qid;
	c.cdw11 = ((uint32_t)q->cq_vector << 16) | NVME_CQ_IRQ_ENABLED | NVME_QUEUE_PHYS_CONTIG;
	ret = admin_cmd(ctrl, &c, NULL, 0, NULL);
	if (ret) {
		nvmf_warn("host %s: Create I/O CQ %u failed: %d", ctrl->subnqn, q->qid, ret);
		return ret;
	}
	memset(&c, 0, sizeof(c));
	c.opcode = nvme_admin_create_sq;
	c.dptr.prp[0] = q->sq_dma;
	c.cdw10 = qsize | q->qid;
	c.cdw11 = ((uint32_t)q->qid << 16) | NVME_QUEUE_PHYS_CONTIG;
	ret = admin_cmd(ctrl, &c, NULL, 0, NULL);
	if (ret) {
		nvmf_warn("host %s: Create I/O SQ %u failed: %d", ctrl->subnqn, q->qid, ret);
		memset(&c, 0, sizeof(c));
		c.opcode = nvme_admin_delete_cq;
		c.cdw10 = q->qid;
		admin_cmd(ctrl, &c, NULL, 0, NULL); /* best effort: the teardown disables anyway */
		return ret;
	}
	q->live = true;
	return 0;
}

/*
 * Before a shutdown: Delete I/O SQs, then CQs (NVMe Base 2.0c 3.6.1 asks for it), only for
 * idle queues: a deletion would complete commands in flight with Command Aborted due to SQ
 * Deletion, and nvmf_host_ctrl_delete() promises them -ENOLINK.
 */
static void pcie_delete_io_queues(struct nvmf_host_ctrl *ctrl)
{
	struct nvme_sqe c = { 0 };
	bool idle[NVMF_HOST_MAX_IO_QUEUES + 1] = { false };

	for (unsigned int qid = 1; qid <= ctrl->nr_io_queues; qid++) {
		const struct nvmf_host_queue *q = ctrl->ioq[qid];

		idle[qid] = q && q->live && !q->nr_sent;
	}
	c.opcode = nvme_admin_delete_sq;
	for (unsigned int qid = 1; qid <= ctrl->nr_io_queues; qid++) {
		c.cdw10 = qid;
		if (idle[qid] && admin_cmd(ctrl, &c, NULL, 0, NULL))
			idle[qid] = false; /* its CQ stays too */
	}
	c.opcode = nvme_admin_delete_cq;
	for (unsigned int qid = 1; qid <= ctrl->nr_io_queues; qid++) {
		c.cdw10 = qid;
		if (idle[qid] && !admin_cmd(ctrl, &c, NULL, 0, NULL))
			ctrl->ioq[qid]->live = false;
	}
}

/*
 * Keep-alive is optional on PCIe and off unless set (KATO default 0h, NVMe Base 2.0c
 * 5.27.1.12), as the Linux PCIe driver leaves it: only when asked (opts.kato_ms > 0) and
 * supported (KAS != 0) does the library set Feature KATO itself, and run keep-alive from the
 * reserved tag (seed 002). Passthrough may never set it (seed 003, cmd.c).
 */
static int pcie_kato(struct nvmf_host_ctrl *ctrl)
{
	struct nvme_sqe c = { .opcode = nvme_admin_set_features };
	int ret;

	ctrl->kato_ms = 0;
	if (ctrl->opts.kato_ms <= 0)
		return 0;
	if (!ctrl->id.kas) {
		nvmf_notice("host %s: keep-alive of %d ms asked for, but the controller has none "
			    "(KAS 0): no keep-alive",
			    ctrl->subnqn, ctrl->opts.kato_ms);
		return 0;
	}
	c.cdw10 = NVME_FEAT_KATO;
	c.cdw11 = (uint32_t)ctrl->opts.kato_ms;
	ret = admin_cmd(ctrl, &c, NULL, 0, NULL);
	if (ret) {
		nvmf_warn("host %s: Set Features KATO %d ms failed (%d): no keep-alive",
			  ctrl->subnqn, ctrl->opts.kato_ms, ret);
		return ret < 0 ? ret : 0;
	}
	ctrl->kato_ms = (unsigned int)ctrl->opts.kato_ms;
	nvmf_info("host %s: keep-alive every %u ms (KATO %u ms, KAS %u x 100 ms)", ctrl->subnqn,
		  ctrl->kato_ms / 2, ctrl->kato_ms, ctrl->id.kas);
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Namespaces and ANA
 */

/* ANA groups the log is sized for: NANAGRPID, within bounds a hostile controller cannot push */
#define ANA_LOG_MIN_GROUPS 128u
#define ANA_LOG_MAX_GROUPS 1024u

/*
 * Walk the group descriptors of an ANA log of @len bytes (NVMe Base 2.0c Figure 204), as
 * Linux nvme_parse_ana_log(): every descriptor and its NSID list inside the log, group IDs
 * 1..ANAGRPMAX, known states. Applies the states to the namespaces only if all of it holds.
 */
static int parse_ana(struct nvmf_host_ctrl *ctrl, const uint8_t *buf, size_t len, bool apply)
{
	const struct nvme_ana_rsp_hdr *h = (const void *)buf;
	size_t off = sizeof(*h);
	unsigned int nr_change = 0;

	for (unsigned int g = 0; g < h->ngrps; g++) {
		struct nvme_ana_group_desc d;

		if (off + sizeof(d) > len) {
			nvmf_warn("host %s: ANA log: group %u beyond the log", ctrl->subnqn, g);
			return -EPROTO;
		}
		memcpy(&d, buf + off, sizeof(d));
		if (!d.grpid || (ctrl->id.anagrpmax && d.grpid > ctrl->id.anagrpmax) ||
		    !nvmf_ana_state_valid(d.state)) {
			nvmf_warn("host %s: ANA log: group %u: ANAGRPID %u, state 0x%x invalid",
				  ctrl->subnqn, g, d.grpid, d.state);
			return -EPROTO;
		}
		off += sizeof(d);
		if ((uint64_t)d.nnsids * 4 > len - off) {
			nvmf_warn("host %s: ANA log: group %u: %u NSIDs beyond the log",
				  ctrl->subnqn, d.grpid, d.nnsids);
			return -EPROTO;
		}
		if (d.state == NVME_ANA_CHANGE)
			nr_change++;
		/*
		 * Group and state per NSID listed, as Linux nvme_update_ana_state(): a namespace
		 * moved to another group says so here first (an ANA Change event, no rescan).
		 */
		for (uint32_t n = 0; apply && n < d.nnsids; n++) {
			uint32_t nsid;

			memcpy(&nsid, buf + off + (size_t)n * 4, sizeof(nsid));
			for (size_t i = 0; i < ctrl->nr_ns; i++)
				if (ctrl->ns[i].info.nsid == nsid) {
					ctrl->ns[i].info.anagrpid = d.grpid;
					ctrl->ns[i].info.ana_state = d.state;
				}
		}
		off += (size_t)d.nnsids * 4;
	}
	if (apply)
		ctrl->ana_nr_change = nr_change;
	return 0;
}

int nvmf_host_read_ana(struct nvmf_host_ctrl *ctrl)
{
	unsigned int groups = ctrl->id.nanagrpid;
	struct nvme_sqe c = { 0 };
	uint8_t *buf;
	size_t len;
	int ret;

	if (!(ctrl->id.cmic & NVME_CTRL_CMIC_ANA))
		return 0;
	if (groups < ANA_LOG_MIN_GROUPS)
		groups = ANA_LOG_MIN_GROUPS;
	if (groups > ANA_LOG_MAX_GROUPS)
		groups = ANA_LOG_MAX_GROUPS;
	len = sizeof(struct nvme_ana_rsp_hdr) + groups * sizeof(struct nvme_ana_group_desc) +
	      ctrl->nr_ns * 4;
	len = (len + 4095) & ~(size_t)4095;
	buf = aligned_alloc(4096, len);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, len);
	c.opcode = nvme_admin_get_log_page;
	c.nsid = NVME_NSID_ALL;
	c.cdw10 = NVME_LOG_ANA | ((uint32_t)((len / 4 - 1) & 0xffff) << 16);
	c.cdw11 = (uint32_t)((len / 4 - 1) >> 16);
	ret = admin_cmd(ctrl, &c, buf, (uint32_t)len, NULL);
	if (!ret)
		ret = parse_ana(ctrl, buf, len, false);
	if (!ret)
		parse_ana(ctrl, buf, len, true);
	free(buf);
	if (!ret && ctrl->mpath)
		nvmf_host_mpath_ana_read(ctrl);
	return ret;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/*
 * The Namespace Identification Descriptor list of @nsid (CNS 03h, NVMe Base 2.0c 5.17.2.3):
 * UUID, and NGUID/EUI-64 where Identify Namespace had none. A controller that refuses it
 * (an NVMe status) just reports no more identifiers; a transport error fails the scan.
 */
static int read_ns_descs(struct nvmf_host_ctrl *ctrl, struct nvmf_host_ns *ns, uint8_t *buf)
{
	struct nvme_sqe c = { 0 };
	size_t off = 0;
	int ret;

	if (ctrl->vs < NVME_VS(1, 3, 0))
		return 0;
	c.opcode = nvme_admin_identify;
	c.nsid = ns->info.nsid;
	c.cdw10 = NVME_ID_CNS_NS_DESC_LIST;
	ret = admin_cmd(ctrl, &c, buf, NVME_IDENTIFY_DATA_SIZE, NULL);
	if (ret > 0) {
		nvmf_debug("host %s: nsid %u: no identification descriptors (status 0x%x)",
			   ctrl->subnqn, ns->info.nsid, ret);
		return 0;
	}
	if (ret)
		return ret;
	while (off + sizeof(struct nvme_ns_id_desc) <= NVME_IDENTIFY_DATA_SIZE) {
		struct nvme_ns_id_desc d;
		const uint8_t *id;

		memcpy(&d, buf + off, sizeof(d));
		if (!d.nidl)
			break; /* the list ends with a zero descriptor */
		off += sizeof(d);
		if (off + d.nidl > NVME_IDENTIFY_DATA_SIZE) {
			nvmf_warn("host %s: nsid %u: identification descriptor of %u bytes beyond "
				  "the list",
				  ctrl->subnqn, ns->info.nsid, d.nidl);
			break;
		}
		id = buf + off;
		off += d.nidl;
		switch (d.nidt) {
		case NVME_NIDT_EUI64:
			if (d.nidl == NVME_NIDT_EUI64_LEN && is_zero(ns->eui64, 8))
				memcpy(ns->eui64, id, 8);
			break;
		case NVME_NIDT_NGUID:
			if (d.nidl == NVME_NIDT_NGUID_LEN && is_zero(ns->nguid, 16))
				memcpy(ns->nguid, id, 16);
			break;
		case NVME_NIDT_UUID:
			if (d.nidl == NVME_NIDT_UUID_LEN)
				memcpy(ns->uuid, id, 16);
			break;
		default:
			break;
		}
	}
	return 0;
}

int nvmf_host_scan_ns(struct nvmf_host_ctrl *ctrl)
{
	uint32_t *list;
	struct nvme_id_ns *id;
	struct nvmf_host_ns *ns = NULL;
	size_t nr = 0;
	struct nvme_sqe c = { 0 };
	int ret;

	list = aligned_alloc(4096, 4096);
	id = aligned_alloc(4096, 4096);
	if (!list || !id) {
		ret = -ENOMEM;
		goto out;
	}
	c.opcode = nvme_admin_identify;
	c.cdw10 = NVME_ID_CNS_NS_ACTIVE_LIST;
	ret = admin_cmd(ctrl, &c, list, 4096, NULL);
	if (ret)
		goto out;
	ns = calloc(NVMF_HOST_MAX_NS, sizeof(*ns));
	if (!ns) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < NVMF_HOST_MAX_NS && list[i]; i++) {
		uint8_t fmt;

		memset(&c, 0, sizeof(c));
		c.opcode = nvme_admin_identify;
		c.nsid = list[i];
		c.cdw10 = NVME_ID_CNS_NS;
		ret = admin_cmd(ctrl, &c, id, 4096, NULL);
		if (ret)
			goto out;
		if (!id->nsze)
			continue;
		fmt = id->flbas & 0xf;
		/* LBADS is a log2: 512 bytes .. 2 GiB is all a shift can carry (NVM 1.0c 4.1.5) */
		if (id->lbaf[fmt].ds && (id->lbaf[fmt].ds < 9 || id->lbaf[fmt].ds > 31)) {
			nvmf_warn("host %s: nsid %u: LBA data size 2^%u unusable, skipped",
				  ctrl->subnqn, list[i], id->lbaf[fmt].ds);
			continue;
		}
		ns[nr].info.nsid = list[i];
		ns[nr].info.nsze = id->nsze;
		ns[nr].info.lba_shift = id->lbaf[fmt].ds ? id->lbaf[fmt].ds : 9;
		ns[nr].info.anagrpid = id->anagrpid;
		memcpy(ns[nr].nguid, id->nguid, sizeof(ns[nr].nguid));
		memcpy(ns[nr].eui64, id->eui64, sizeof(ns[nr].eui64));
		ns[nr].shared = !!(id->nmic & NVME_NS_NMIC_SHARED);
		/* the Identify Namespace buffer is free again: the list goes there */
		ret = read_ns_descs(ctrl, &ns[nr], (uint8_t *)id);
		if (ret)
			goto out;
		nr++;
	}
	free(ctrl->ns);
	ctrl->ns = ns;
	ctrl->nr_ns = nr;
	ns = NULL;
	ret = nvmf_host_read_ana(ctrl);
	/* paths join or leave their heads whether or not the ANA log could be read */
	if (ctrl->mpath)
		nvmf_host_mpath_scanned(ctrl);
out:
	free(ns);
	free(list);
	free(id);
	return ret;
}

size_t nvmf_host_ns_list(struct nvmf_host_ctrl *ctrl, struct nvmf_host_ns_info *info, size_t max)
{
	for (size_t i = 0; i < ctrl->nr_ns && i < max; i++)
		info[i] = ctrl->ns[i].info;
	return ctrl->nr_ns;
}

/* ------------------------------------------------------------------------------------------
 * Asynchronous events (NVMe Base 2.0c 5.2)
 */

static void aer_done(void *arg, int status, const struct nvme_cqe *cqe);

static void aer_post(struct nvmf_host_ctrl *ctrl)
{
	const struct nvme_sqe c = { .opcode = nvme_admin_async_event };
	struct nvmf_host_req *req;

	/* live first: a controller deleted during aen_work()'s waits has no tag set left */
	if (!ctrl->admin.live)
		return;
	req = nvmf_host_tag_get_fixed(&ctrl->admin, NVMF_HOST_AER_TAG);
	if (!req)
		return;
	/* no timeout: an AER completes only when an event happens */
	nvmf_host_req_prep(req, &c, NULL, 0, aer_done, ctrl, true, 0);
	if (nvmf_host_queue_send(&ctrl->admin, req, 0) < 0)
		nvmf_warn("host %s: cannot post an AER", ctrl->subnqn);
}

static void aen_work(struct nvmf_deferred *d)
{
	struct nvmf_host_ctrl *ctrl =
		(struct nvmf_host_ctrl *)((char *)d - offsetof(struct nvmf_host_ctrl, aen_work));
	uint32_t dw0 = ctrl->aen_dw0;
	uint8_t type = dw0 & 7, info = (dw0 >> 8) & 0xff, lid = (dw0 >> 16) & 0xff;
	uint8_t *buf;

	if (atomic_load(&ctrl->state) != NVMF_CTRL_LIVE)
		return;
	/* act first (reading the log also clears the event), then tell the user */
	if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_NS_CHANGED) {
		buf = aligned_alloc(4096, 4096);
		if (buf) {
			struct nvme_sqe c = { 0 };

			c.opcode = nvme_admin_get_log_page;
			c.nsid = NVME_NSID_ALL;
			c.cdw10 = NVME_LOG_CHANGED_NS | (1023u << 16);
			admin_cmd(ctrl, &c, buf, 4096, NULL);
			free(buf);
		}
		nvmf_host_scan_ns(ctrl);
	} else if (type == NVME_AER_TYPE_NOTICE && info == NVME_AER_NOTICE_ANA) {
		nvmf_host_read_ana(ctrl);
	} else if (lid) {
		/* other events: read the log page they name, without RAE, to re-arm them */
		buf = aligned_alloc(4096, 4096);
		if (buf) {
			struct nvme_sqe c = { 0 };

			c.opcode = nvme_admin_get_log_page;
			c.nsid = NVME_NSID_ALL;
			c.cdw10 = lid | (1023u << 16);
			admin_cmd(ctrl, &c, buf, lid == NVME_LOG_DISC ? 1024 : 4096, NULL);
			free(buf);
		}
	}
	if (ctrl->opts.aen_cb) {
		ctrl->nest++;
		ctrl->opts.aen_cb(ctrl, dw0, ctrl->opts.cb_arg);
		ctrl->nest--;
	}
	aer_post(ctrl);
}

static void aer_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_host_ctrl *ctrl = arg;

	if (status || !cqe)
		return; /* aborted at teardown, or refused: posted again on reconnect */
	ctrl->aen_dw0 = cqe->result.dw0;
	/* not from inside the transport's receive path: see the top of this file */
	nvmf_reactor_defer(ctrl->reactor, &ctrl->aen_work);
}

/* ------------------------------------------------------------------------------------------
 * Keep-alive and timeouts
 */

static void ka_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_host_ctrl *ctrl = arg;

	(void)cqe;
	ctrl->ka_inflight = false;
	/* -ENOLINK: a reset with another cause tore the queue down under it */
	if (status && status != -ENOLINK)
		nvmf_counter_add(&ctrl->stats.keep_alive_failures, 1);
	if (status && atomic_load(&ctrl->state) == NVMF_CTRL_LIVE) {
		nvmf_warn("host %s: keep-alive failed (%d): resetting", ctrl->subnqn, status);
		nvmf_host_start_reset(ctrl);
	}
}

static void ka_timer_fn(struct nvmf_timer *t)
{
	static const struct nvme_sqe ka_cmd = { .opcode = nvme_admin_keep_alive };
	struct nvmf_host_ctrl *ctrl =
		(struct nvmf_host_ctrl *)((char *)t - offsetof(struct nvmf_host_ctrl, ka_timer));
	struct nvmf_host_req *req;
	uint64_t now = nvmf_now_ns();

	if (atomic_load(&ctrl->state) != NVMF_CTRL_LIVE || !ctrl->ka_interval_ms)
		return;
	nvmf_timer_arm(ctrl->reactor, &ctrl->ka_timer, ctrl->ka_interval_ms);
	/* traffic-based keep-alive (TBKAS): completions flowing are proof of life */
	if (ctrl->tbkas && now - ctrl->last_completion_ns < ctrl->ka_interval_ms * 1000000ull)
		return;
	if (ctrl->ka_inflight)
		return;
	/* the reserved tag: Keep Alive goes out even when every other admin tag is busy */
	req = nvmf_host_tag_get_fixed(&ctrl->admin, nvmf_host_ka_tag(ctrl->ops));
	if (!req)
		return;
	/* Linux gives the keep-alive command a timeout of one KATO */
	nvmf_host_req_prep(req, &ka_cmd, NULL, 0, ka_done, ctrl, true, ctrl->kato_ms);
	ctrl->ka_inflight = true;
	if (nvmf_host_queue_send(&ctrl->admin, req, ctrl->kato_ms) < 0)
		ctrl->ka_inflight = false;
	else
		nvmf_counter_add(&ctrl->stats.keep_alives, 1);
}

void nvmf_host_ka_start(struct nvmf_host_ctrl *ctrl)
{
	if (!ctrl->kato_ms) {
		ctrl->ka_interval_ms = 0;
		nvmf_timer_cancel(ctrl->reactor, &ctrl->ka_timer);
		return;
	}
	/* Linux nvme_keep_alive_work_period(): KATO / 2, halved again with TBKAS */
	ctrl->ka_interval_ms = ctrl->kato_ms / 2;
	if (ctrl->tbkas)
		ctrl->ka_interval_ms /= 2;
	if (!ctrl->ka_interval_ms)
		ctrl->ka_interval_ms = 1;
	nvmf_timer_arm(ctrl->reactor, &ctrl->ka_timer, ctrl->ka_interval_ms);
}

static void send_abort(struct nvmf_host_ctrl *ctrl, const struct nvmf_host_req *victim)
{
	struct nvmf_host_req *req = nvmf_host_tag_get(&ctrl->admin, false);
	struct nvme_sqe c = { .opcode = nvme_admin_abort_cmd };

	if (!req)
		return;
	/* Abort: SQID in cdw10 15:0, CID in 31:16 (NVMe Base 2.0c 5.1) */
	c.cdw10 = victim->q->qid | ((uint32_t)victim->tag << 16);
	nvmf_host_req_prep(req, &c, NULL, 0, NULL, NULL, true, ctrl->opts.admin_timeout_ms);
	nvmf_host_queue_send(&ctrl->admin, req, ctrl->opts.admin_timeout_ms);
}

static bool scan_timeouts(struct nvmf_host_ctrl *ctrl, struct nvmf_host_queue *q, uint64_t now)
{
	for (unsigned int t = 0; t < q->depth; t++) {
		struct nvmf_host_req *req = &q->reqs[t];

		if (req->state != NVMF_HREQ_SENT || !req->deadline_ns || now < req->deadline_ns ||
		    req->timed_out)
			continue;
		req->timed_out = true;
		nvmf_counter_add(&ctrl->stats.timeouts, 1);
		nvmf_warn("host %s: qid %u cid %u (opcode 0x%02x) timed out: abort and reset",
			  ctrl->subnqn, q->qid, req->tag, req->cmd.opcode);
		/* an expired command is aborted, then the controller is reset */
		if (req->cmd.opcode != nvme_admin_keep_alive || q->qid)
			send_abort(ctrl, req);
		return true;
	}
	return false;
}

static void fail_pending(struct nvmf_host_ctrl *ctrl, int err)
{
	struct nvmf_host_pending *p = ctrl->pending;

	ctrl->pending = NULL;
	ctrl->pending_tail = &ctrl->pending;
	while (p) {
		struct nvmf_host_pending *next = p->next;

		nvmf_host_user_done(ctrl, p->cb, p->arg, p->timed_out ? -ETIMEDOUT : err);
		free(p);
		p = next;
	}
}

static void ctrl_timer_fn(struct nvmf_timer *t)
{
	struct nvmf_host_ctrl *ctrl =
		(struct nvmf_host_ctrl *)((char *)t -
					  offsetof(struct nvmf_host_ctrl, timeout_timer));
	int state = atomic_load(&ctrl->state);
	uint64_t now = nvmf_now_ns();
	bool expired = false;

	nvmf_timer_arm(ctrl->reactor, &ctrl->timeout_timer, CTRL_TIMER_MS);
	if (state == NVMF_CTRL_LIVE) {
		if (ctrl->admin.reqs)
			expired |= scan_timeouts(ctrl, &ctrl->admin, now);
		for (unsigned int q = 1; q <= ctrl->nr_io_queues; q++)
			if (ctrl->ioq[q])
				expired |= scan_timeouts(ctrl, ctrl->ioq[q], now);
		if (expired)
			nvmf_host_start_reset(ctrl);
		return;
	}
	if ((state == NVMF_CTRL_CONNECTING || state == NVMF_CTRL_RESETTING) &&
	    ctrl->fail_io_deadline_ns && now > ctrl->fail_io_deadline_ns && !ctrl->fail_fast) {
		/* fast_io_fail_tmo: stop holding I/O for a reconnect that is slow to come */
		ctrl->fail_fast = true;
		nvmf_notice("host %s: fast_io_fail_tmo expired: failing queued I/O", ctrl->subnqn);
		fail_pending(ctrl, -ENOLINK);
		/* a host subsystem stops holding head I/O for this path too */
		if (ctrl->mpath)
			nvmf_host_mpath_kick(ctrl);
	}
}

/* ------------------------------------------------------------------------------------------
 * Association setup and teardown
 */

static void free_io_queues(struct nvmf_host_ctrl *ctrl)
{
	for (unsigned int q = 1; q <= NVMF_HOST_MAX_IO_QUEUES; q++) {
		if (!ctrl->ioq[q])
			continue;
		nvmf_host_queue_release(ctrl->ioq[q]);
		free(ctrl->ioq[q]);
		ctrl->ioq[q] = NULL;
	}
	ctrl->nr_io_queues = 0;
}

/* Stop every queue, wait until the transport gave every request back, free them. */
static void teardown(struct nvmf_host_ctrl *ctrl)
{
	nvmf_timer_cancel(ctrl->reactor, &ctrl->ka_timer);
	ctrl->ka_inflight = false;
	for (unsigned int q = 1; q <= NVMF_HOST_MAX_IO_QUEUES; q++) {
		struct nvmf_host_queue *ioq = ctrl->ioq[q];

		if (ioq && ioq->tr) {
			ctrl->ops->queue_stop(ioq);
			ioq->live = false;
		}
	}
	if (ctrl->admin.tr) {
		ctrl->ops->queue_stop(&ctrl->admin);
		ctrl->admin.live = false;
	}
	/* seed 000: wait for the transport to drain, never complete on its behalf */
	for (;;) {
		unsigned int sent = ctrl->admin.reqs ? ctrl->admin.nr_sent : 0;

		for (unsigned int q = 1; q <= NVMF_HOST_MAX_IO_QUEUES; q++)
			if (ctrl->ioq[q])
				sent += ctrl->ioq[q]->nr_sent;
		if (!sent)
			break;
		nvmf_host_poll_nested(ctrl, 10);
	}
	for (unsigned int q = 1; q <= NVMF_HOST_MAX_IO_QUEUES; q++) {
		struct nvmf_host_queue *ioq = ctrl->ioq[q];

		if (ioq && ioq->tr) {
			ctrl->ops->queue_free(ioq);
			ioq->tr = NULL;
		}
	}
	free_io_queues(ctrl);
	if (ctrl->admin.tr) {
		ctrl->ops->queue_free(&ctrl->admin);
		ctrl->admin.tr = NULL;
	}
	nvmf_host_queue_release(&ctrl->admin);
}

static int setup_io_queues(struct nvmf_host_ctrl *ctrl)
{
	unsigned int want = ctrl->opts.nr_io_queues;
	uint32_t granted;
	struct nvme_sqe c = { 0 };
	struct nvme_cqe cqe;
	unsigned int depth;
	int ret;

	if (!want)
		return 0;
	if (want > NVMF_HOST_MAX_IO_QUEUES)
		want = NVMF_HOST_MAX_IO_QUEUES;
	c.opcode = nvme_admin_set_features;
	c.cdw10 = NVME_FEAT_NUM_QUEUES;
	c.cdw11 = (want - 1) | ((want - 1) << 16);
	ret = admin_cmd(ctrl, &c, NULL, 0, &cqe);
	if (ret)
		return ret;
	granted = (cqe.result.dw0 & 0xffff) < (cqe.result.dw0 >> 16) ? (cqe.result.dw0 & 0xffff)
								     : (cqe.result.dw0 >> 16);
	if (granted + 1 < want)
		want = granted + 1;
	/* queue size: ours, capped by CAP.MQES + 1 and MAXCMD, as the Linux host does */
	depth = ctrl->opts.queue_size;
	if (depth > NVME_CAP_MQES(ctrl->cap) + 1)
		depth = (unsigned int)NVME_CAP_MQES(ctrl->cap) + 1;
	if (ctrl->id.maxcmd && depth > ctrl->id.maxcmd)
		depth = ctrl->id.maxcmd;
	/* PCIe: the queue gets one entry more than its tags (q->hw_entries), within MQES + 1 */
	if (!ctrl->ops->fabrics && depth > NVME_CAP_MQES(ctrl->cap))
		depth = (unsigned int)NVME_CAP_MQES(ctrl->cap);
	if (depth < 2)
		return -EINVAL;
	ctrl->io_depth = depth;
	for (unsigned int qid = 1; qid <= want; qid++) {
		struct nvmf_host_queue *q;

		/* deleted during the last queue's Connect: the controller is gone on the target */
		if (atomic_load(&ctrl->state) == NVMF_CTRL_DELETING)
			return -ENOLINK;
		q = calloc(1, sizeof(*q));
		if (!q)
			return -ENOMEM;
		ctrl->ioq[qid] = q;
		ret = nvmf_host_queue_init(ctrl, q, (uint16_t)qid, (uint16_t)depth,
					   ctrl->ops->fabrics ? NVMF_HOST_IOQ_RESERVED : 0);
		if (ret)
			return ret;
		/* IOCCSZ counts the 64-byte SQE too (NVMe Base 2.0c Figure 275) */
		q->icd_max = ctrl->id.ioccsz > 4 ? (ctrl->id.ioccsz - 4) * 16 : 0;
		ret = ctrl->ops->queue_connect(q);
		if (ret)
			return ret;
		ret = ctrl->ops->fabrics ? fabrics_connect(ctrl, q) : pcie_create_queue(ctrl, q);
		if (ret)
			return ret;
		ctrl->nr_io_queues = qid;
	}
	return 0;
}

/* Build a new association. On failure everything is torn down again. */
static int associate(struct nvmf_host_ctrl *ctrl)
{
	uint32_t cc = NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	struct nvme_sqe c = { 0 };
	uint64_t v;
	int ret;

	ctrl->in_associate = true;
	ret = nvmf_host_queue_init(ctrl, &ctrl->admin, 0, NVMF_HOST_AQ_DEPTH,
				   ctrl->ops->fabrics ? NVMF_HOST_AQ_RESERVED : 1);
	if (ret)
		goto out;
	ctrl->admin.icd_max = NVME_TCP_ADMIN_CCSZ;
	ret = ctrl->ops->queue_connect(&ctrl->admin);
	if (ret)
		goto out;
	if (ctrl->ops->fabrics) {
		ret = fabrics_connect(ctrl, &ctrl->admin);
		if (ret)
			goto out;
	}
	ret = prop_get(ctrl, NVME_REG_CAP, true, &ctrl->cap);
	if (ret)
		goto out;
	ret = prop_get(ctrl, NVME_REG_VS, false, &v);
	if (ret)
		goto out;
	ctrl->vs = (uint32_t)v;
	if (ctrl->ops->fabrics) {
		ret = prop_set(ctrl, NVME_REG_CC, cc);
		if (!ret)
			ret = wait_csts(ctrl, NVME_CSTS_RDY, NVME_CSTS_RDY);
	} else {
		ret = pcie_enable(ctrl);
	}
	if (ret)
		goto out;
	c.opcode = nvme_admin_identify;
	c.cdw10 = NVME_ID_CNS_CTRL;
	ret = admin_cmd(ctrl, &c, &ctrl->id, sizeof(ctrl->id), NULL);
	if (ret)
		goto out;
	ctrl->tbkas = !!(ctrl->id.ctratt & (1u << 6));
	if (!ctrl->ops->fabrics) {
		/* no Connect named the subsystem: Identify does (the field is NUL-padded) */
		snprintf(ctrl->subnqn, sizeof(ctrl->subnqn), "%.*s", (int)sizeof(ctrl->id.subnqn),
			 ctrl->id.subnqn);
		ctrl->cntlid = ctrl->id.cntlid;
		ret = pcie_kato(ctrl);
		if (ret)
			goto out;
	}
	if (ctrl->id.cntrltype != NVME_CTRL_TYPE_DISC) {
		ret = setup_io_queues(ctrl);
		if (ret)
			goto out;
		ret = nvmf_host_scan_ns(ctrl);
		if (ret)
			goto out;
	}
	/* ask for the events we act on, then keep an AER outstanding */
	memset(&c, 0, sizeof(c));
	c.opcode = nvme_admin_set_features;
	c.cdw10 = NVME_FEAT_ASYNC_EVENT;
	c.cdw11 = ctrl->id.oaes &
		  (NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE | NVME_AEN_CFG_DISC_CHANGE);
	if (c.cdw11)
		admin_cmd(ctrl, &c, NULL, 0, NULL); /* optional: a refusal is not fatal */
	ctrl->last_completion_ns = nvmf_now_ns();
out:
	ctrl->in_associate = false;
	if (ret) {
		nvmf_warn("host %s: association failed: %s", ctrl->subnqn,
			  ret < 0 ? strerror(-ret) : "NVMe status");
		teardown(ctrl);
	}
	return ret;
}

static void resubmit_pending(struct nvmf_host_ctrl *ctrl);

static void go_live(struct nvmf_host_ctrl *ctrl)
{
	ctrl->fail_fast = false;
	ctrl->fail_io_deadline_ns = 0;
	ctrl->loss_deadline_ns = 0;
	nvmf_host_set_state(ctrl, NVMF_CTRL_LIVE);
	aer_post(ctrl);
	nvmf_host_ka_start(ctrl);
	resubmit_pending(ctrl);
}

static void reconnect(struct nvmf_host_ctrl *ctrl)
{
	int ret;

	if (atomic_load(&ctrl->state) != NVMF_CTRL_CONNECTING)
		return;
	ret = associate(ctrl);
	if (atomic_load(&ctrl->state) == NVMF_CTRL_DELETING) {
		/* do_delete() came during the association and left the rest to us */
		if (!ret)
			teardown(ctrl);
		fail_pending(ctrl, -ENOLINK);
		nvmf_host_set_state(ctrl, NVMF_CTRL_DEAD);
		return;
	}
	if (!ret) {
		nvmf_notice("host %s: reconnected (cntlid %u)", ctrl->subnqn, ctrl->cntlid);
		nvmf_counter_add(&ctrl->stats.reconnects, 1);
		go_live(ctrl);
		return;
	}
	nvmf_counter_add(&ctrl->stats.reconnect_failures, 1);
	if ((ret > 0 && (ret & NVME_STATUS_DNR)) ||
	    (ctrl->loss_deadline_ns && nvmf_now_ns() > ctrl->loss_deadline_ns)) {
		nvmf_warn("host %s: giving up (ctrl_loss_tmo %d s)", ctrl->subnqn,
			  ctrl->opts.ctrl_loss_tmo_s);
		nvmf_host_set_state(ctrl, NVMF_CTRL_DEAD);
		fail_pending(ctrl, -ENOLINK);
		return;
	}
	/* not when a delete came during the failed association's teardown */
	if (!nvmf_host_set_state(ctrl, NVMF_CTRL_CONNECTING))
		return;
	nvmf_timer_arm(ctrl->reactor, &ctrl->reconnect_timer,
		       (uint64_t)ctrl->opts.reconnect_delay_s * 1000);
}

static void reconnect_timer_fn(struct nvmf_timer *t)
{
	struct nvmf_host_ctrl *ctrl =
		(struct nvmf_host_ctrl *)((char *)t -
					  offsetof(struct nvmf_host_ctrl, reconnect_timer));

	/* not from the timer callback itself: deferred work is the place for nested waits */
	nvmf_reactor_defer(ctrl->reactor, &ctrl->reset_work);
}

static void reset_work_fn(struct nvmf_deferred *d)
{
	struct nvmf_host_ctrl *ctrl =
		(struct nvmf_host_ctrl *)((char *)d - offsetof(struct nvmf_host_ctrl, reset_work));
	int state = atomic_load(&ctrl->state);

	if (state == NVMF_CTRL_RESETTING) {
		teardown(ctrl);
		if (!nvmf_host_set_state(ctrl, NVMF_CTRL_CONNECTING))
			return;
		if (ctrl->opts.ctrl_loss_tmo_s >= 0 && !ctrl->loss_deadline_ns)
			ctrl->loss_deadline_ns =
				nvmf_now_ns() +
				(uint64_t)ctrl->opts.ctrl_loss_tmo_s * 1000000000ull;
		if (ctrl->opts.fast_io_fail_tmo_s >= 0 && !ctrl->fail_io_deadline_ns)
			ctrl->fail_io_deadline_ns =
				nvmf_now_ns() +
				(uint64_t)ctrl->opts.fast_io_fail_tmo_s * 1000000000ull;
		reconnect(ctrl);
	} else if (state == NVMF_CTRL_CONNECTING) {
		reconnect(ctrl);
	}
}

void nvmf_host_start_reset(struct nvmf_host_ctrl *ctrl)
{
	if (!nvmf_host_set_state(ctrl, NVMF_CTRL_RESETTING))
		return;
	nvmf_counter_add(&ctrl->stats.resets, 1);
	nvmf_reactor_defer(ctrl->reactor, &ctrl->reset_work);
}

void nvmf_host_queue_error(struct nvmf_host_queue *q, const char *why)
{
	struct nvmf_host_ctrl *ctrl = q->ctrl;

	nvmf_warn("host %s: qid %u: %s", ctrl->subnqn, q->qid, why);
	if (ctrl->in_associate) {
		/* a synchronous setup step is waiting on this queue: let it fail now */
		if (q->tr)
			ctrl->ops->queue_stop(q);
		q->live = false;
		return;
	}
	nvmf_host_start_reset(ctrl);
}

static void resubmit_pending(struct nvmf_host_ctrl *ctrl)
{
	while (ctrl->pending && atomic_load(&ctrl->state) == NVMF_CTRL_LIVE) {
		struct nvmf_host_pending *p = ctrl->pending;
		uint16_t qid = p->qid;
		struct nvmf_host_queue *q;
		struct nvmf_host_req *req;

		if (qid && ctrl->nr_io_queues)
			qid = (uint16_t)((qid - 1) % ctrl->nr_io_queues + 1);
		q = qid ? ctrl->ioq[qid] : &ctrl->admin;
		if (!q) {
			ctrl->pending = p->next;
			if (!ctrl->pending)
				ctrl->pending_tail = &ctrl->pending;
			nvmf_host_user_done(ctrl, p->cb, p->arg, -ENOLINK);
			free(p);
			continue;
		}
		req = nvmf_host_tag_get(q, false);
		if (!req) {
			/* the queue is full: try again when a command completes */
			ctrl->pending_retry = true;
			return;
		}
		ctrl->pending = p->next;
		if (!ctrl->pending)
			ctrl->pending_tail = &ctrl->pending;
		nvmf_host_req_prep(req, &p->cmd, p->buf, p->len, p->cb, p->arg, false,
				   p->timeout_ms);
		req->retries = (uint8_t)p->retries;
		if (nvmf_host_queue_send(q, req, p->timeout_ms) < 0)
			nvmf_host_user_done(ctrl, p->cb, p->arg, -ENOLINK);
		free(p);
	}
}

void nvmf_host_kick_pending(struct nvmf_host_ctrl *ctrl)
{
	if (ctrl->pending_retry && atomic_load(&ctrl->state) == NVMF_CTRL_LIVE) {
		ctrl->pending_retry = false;
		resubmit_pending(ctrl);
	}
}

/* ------------------------------------------------------------------------------------------
 * Public API
 */

static void read_id_file(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, out, len - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
}

/* Host NQN and host ID as nvme-cli finds them: options, /etc/nvme, then generated. */
static void host_identity(struct nvmf_host_ctrl *ctrl)
{
	char buf[NVME_NQN_FIELD_LEN] = "";
	const char *uuid;

	if (ctrl->opts.hostid) {
		memcpy(ctrl->hostid, ctrl->opts.hostid, 16);
	} else {
		read_id_file("/etc/nvme/hostid", buf, sizeof(buf));
		if (!nvmf_hex_parse_16(buf, ctrl->hostid)) {
			int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

			if (fd < 0 || read(fd, ctrl->hostid, 16) != 16)
				memset(ctrl->hostid, 0x5a, 16);
			if (fd >= 0)
				close(fd);
			ctrl->hostid[6] = (ctrl->hostid[6] & 0x0f) | 0x40;
			ctrl->hostid[8] = (ctrl->hostid[8] & 0x3f) | 0x80;
		}
	}
	if (ctrl->opts.hostnqn && *ctrl->opts.hostnqn) {
		snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", ctrl->opts.hostnqn);
		return;
	}
	read_id_file("/etc/nvme/hostnqn", buf, sizeof(buf));
	uuid = strstr(buf, ":uuid:");
	if (buf[0] && (!uuid || ctrl->opts.hostid || nvmf_hex_parse_16(uuid + 6, ctrl->hostid))) {
		snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn), "%s", buf);
		return;
	}
	{
		const uint8_t *u = ctrl->hostid;

		snprintf(ctrl->hostnqn, sizeof(ctrl->hostnqn),
			 "nqn.2014-08.org.nvmexpress:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x",
			 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
			 u[12], u[13], u[14], u[15]);
	}
}

/* @r: a shared reactor to run on (not owned), or NULL for one of the controller's own */
static int ctrl_init(struct nvmf_host_ctrl *ctrl, const struct nvmf_host_opts *opts,
		     struct nvmf_reactor *r)
{
	bool disc;

	ctrl->opts = *opts;
	if (!opts->trtype || !strcmp(opts->trtype, "tcp")) {
		ctrl->ops = &nvmf_host_tcp_ops;
		if (!opts->traddr)
			return -EINVAL;
	} else if (!strcmp(opts->trtype, "loop")) {
		ctrl->ops = &nvmf_host_loop_ops;
		if (!opts->loop_tgt)
			return -EINVAL;
	} else if (!strcmp(opts->trtype, "vfio-user")) {
		ctrl->ops = &nvmf_host_vfio_user_ops;
		if (!opts->traddr || !*opts->traddr)
			return -EINVAL;
	} else {
		return -EPROTONOSUPPORT;
	}
	snprintf(ctrl->traddr, sizeof(ctrl->traddr), "%s", opts->traddr ? opts->traddr : "");
	snprintf(ctrl->subnqn, sizeof(ctrl->subnqn), "%s",
		 opts->subnqn && *opts->subnqn ? opts->subnqn : NVME_DISC_SUBSYS_NAME);
	/* no discovery controller behind a PCIe function: Identify names the subsystem */
	disc = ctrl->ops->fabrics && !strcmp(ctrl->subnqn, NVME_DISC_SUBSYS_NAME);
	snprintf(ctrl->trsvcid, sizeof(ctrl->trsvcid), "%s",
		 opts->trsvcid && *opts->trsvcid ? opts->trsvcid
		 : disc				 ? "8009"
						 : "4420");
	host_identity(ctrl);
	/* Linux defaults: KATO 5 s (none for discovery), reconnect 10 s, loss 600 s */
	if (!opts->kato_ms)
		ctrl->kato_ms = disc ? 0 : 5000;
	else
		ctrl->kato_ms = opts->kato_ms < 0 ? 0 : (unsigned int)opts->kato_ms;
	/* PCIe: none unless asked for and supported, decided per association (pcie_kato()) */
	if (!ctrl->ops->fabrics)
		ctrl->kato_ms = 0;
	if (!ctrl->opts.reconnect_delay_s)
		ctrl->opts.reconnect_delay_s = 10;
	if (!ctrl->opts.ctrl_loss_tmo_s)
		ctrl->opts.ctrl_loss_tmo_s = 600;
	if (!ctrl->opts.fast_io_fail_tmo_s)
		ctrl->opts.fast_io_fail_tmo_s = -1;
	if (!ctrl->opts.admin_timeout_ms)
		ctrl->opts.admin_timeout_ms = 60000;
	if (!ctrl->opts.io_timeout_ms)
		ctrl->opts.io_timeout_ms = 30000;
	if (!ctrl->opts.queue_size)
		ctrl->opts.queue_size = 128;
	if (!ctrl->opts.nr_io_queues && !disc)
		ctrl->opts.nr_io_queues = 1;
	if (disc)
		ctrl->opts.nr_io_queues = 0;
	ctrl->pending_tail = &ctrl->pending;
	ctrl->ka_timer.fn = ka_timer_fn;
	ctrl->timeout_timer.fn = ctrl_timer_fn;
	ctrl->reconnect_timer.fn = reconnect_timer_fn;
	ctrl->reset_work.fn = reset_work_fn;
	ctrl->aen_work.fn = aen_work;
	pthread_mutex_init(&ctrl->lock, NULL);
	pthread_cond_init(&ctrl->cond, NULL);
	atomic_init(&ctrl->state, NVMF_CTRL_NEW);
	if (r) {
		ctrl->reactor = r;
		return 0;
	}
	ctrl->reactor = nvmf_reactor_create(0, opts->threaded ? 50 : 0);
	ctrl->own_reactor = ctrl->reactor != NULL;
	return ctrl->reactor ? 0 : -errno;
}

/* The first association, on the reactor thread. */
static int first_connect(struct nvmf_host_ctrl *ctrl)
{
	int ret;

	nvmf_host_set_state(ctrl, NVMF_CTRL_CONNECTING);
	nvmf_timer_arm(ctrl->reactor, &ctrl->timeout_timer, CTRL_TIMER_MS);
	ret = associate(ctrl);
	if (ret) {
		nvmf_timer_cancel(ctrl->reactor, &ctrl->timeout_timer);
		nvmf_host_set_state(ctrl, NVMF_CTRL_DEAD);
		return ret;
	}
	go_live(ctrl);
	return 0;
}

struct call_msg {
	struct nvmf_host_ctrl *ctrl;
	int (*fn)(struct nvmf_host_ctrl *ctrl);
	int ret;
	bool done;
};

static void call_on_reactor(void *arg)
{
	struct call_msg *m = arg;
	int ret = m->fn(m->ctrl);

	pthread_mutex_lock(&m->ctrl->lock);
	m->ret = ret;
	m->done = true;
	pthread_cond_broadcast(&m->ctrl->cond);
	pthread_mutex_unlock(&m->ctrl->lock);
}

/* Run @fn on the controller's reactor thread and wait for it. */
int nvmf_host_call(struct nvmf_host_ctrl *ctrl, int (*fn)(struct nvmf_host_ctrl *ctrl))
{
	struct call_msg m = { .ctrl = ctrl, .fn = fn };
	int ret;

	if (!ctrl->own_thread || nvmf_reactor_current() == ctrl->reactor)
		return fn(ctrl);
	ret = nvmf_reactor_send(ctrl->reactor, call_on_reactor, &m);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&ctrl->lock);
	while (!m.done)
		pthread_cond_wait(&ctrl->cond, &ctrl->lock);
	pthread_mutex_unlock(&ctrl->lock);
	return m.ret;
}

static void ctrl_free(struct nvmf_host_ctrl *ctrl)
{
	if (ctrl->reactor && ctrl->own_reactor)
		nvmf_reactor_destroy(ctrl->reactor);
	free(ctrl->ns);
	pthread_cond_destroy(&ctrl->cond);
	pthread_mutex_destroy(&ctrl->lock);
	free(ctrl);
	nvmf_host_live_add(&nvmf_host_live.ctrls, -1);
}

int nvmf_host_ctrl_connect(const struct nvmf_host_opts *opts, struct nvmf_host_ctrl **out)
{
	struct nvmf_host_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	int ret;

	if (!ctrl)
		return -ENOMEM;
	nvmf_host_live_add(&nvmf_host_live.ctrls, 1); /* paired with ctrl_free() */
	ret = ctrl_init(ctrl, opts, NULL);
	if (ret) {
		ctrl_free(ctrl);
		return ret;
	}
	if (opts->threaded) {
		ret = nvmf_reactor_start(ctrl->reactor);
		if (ret) {
			ctrl_free(ctrl);
			return ret;
		}
		ctrl->own_thread = true;
	}
	ret = nvmf_host_call(ctrl, first_connect);
	if (ret) {
		if (ctrl->own_thread) {
			nvmf_reactor_stop(ctrl->reactor);
			nvmf_reactor_join(ctrl->reactor);
		} else {
			/* run deferred work (a transport's last flush frees its queue) */
			nvmf_reactor_poll_once(ctrl->reactor, 0);
		}
		ctrl_free(ctrl);
		return ret;
	}
	*out = ctrl;
	return 0;
}

static int do_delete(struct nvmf_host_ctrl *ctrl)
{
	int state = atomic_load(&ctrl->state);

	nvmf_timer_cancel(ctrl->reactor, &ctrl->reconnect_timer);
	nvmf_timer_cancel(ctrl->reactor, &ctrl->timeout_timer);
	if (!nvmf_host_set_state(ctrl, NVMF_CTRL_DELETING))
		return 0;
	if (ctrl->in_associate) {
		/*
		 * A reconnect's association is waiting in a nested loop, which served this
		 * message, and it owns the queues: freeing them under it would be a
		 * use-after-free. Make its waits fail now; reconnect() sees DELETING when
		 * associate() returns and finishes the delete, before the reactor stops.
		 */
		for (unsigned int q = 1; q <= NVMF_HOST_MAX_IO_QUEUES; q++) {
			if (ctrl->ioq[q] && ctrl->ioq[q]->tr) {
				ctrl->ops->queue_stop(ctrl->ioq[q]);
				ctrl->ioq[q]->live = false;
			}
		}
		if (ctrl->admin.tr) {
			ctrl->ops->queue_stop(&ctrl->admin);
			ctrl->admin.live = false;
		}
		return 0;
	}
	if (state == NVMF_CTRL_LIVE && ctrl->admin.live && !ctrl->ops->fabrics) {
		/* PCIe: as nvme_disable_ctrl(shutdown), bounded as Linux shutdown_timeout */
		uint64_t cc = 0;
		uint64_t tmo = cap_to_ms(ctrl);

		if (tmo < PCIE_SHUTDOWN_TIMEOUT_MS)
			tmo = PCIE_SHUTDOWN_TIMEOUT_MS;
		pcie_delete_io_queues(ctrl);
		ctrl->shutdown_status = -EIO;
		if (!prop_get(ctrl, NVME_REG_CC, false, &cc) &&
		    !prop_set(ctrl, NVME_REG_CC,
			      ((uint32_t)cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL))
			ctrl->shutdown_status = wait_csts_ms(ctrl, NVME_CSTS_SHST_MASK,
							     NVME_CSTS_SHST_CMPLT, tmo, false);
		if (ctrl->shutdown_status)
			nvmf_warn("host %s: shutdown did not complete (%d)", ctrl->subnqn,
				  ctrl->shutdown_status);
	} else if (state == NVMF_CTRL_LIVE && ctrl->admin.live) {
		/* normal shutdown (CC.SHN = 01b), as the Linux host does on delete */
		uint64_t cc = 0;

		if (!prop_get(ctrl, NVME_REG_CC, false, &cc) &&
		    !prop_set(ctrl, NVME_REG_CC,
			      ((uint32_t)cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL))
			wait_csts(ctrl, NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT);
	}
	teardown(ctrl);
	/* the deferred reset, if any, sees DELETING and does nothing */
	fail_pending(ctrl, -ENOLINK);
	nvmf_host_set_state(ctrl, NVMF_CTRL_DEAD);
	return 0;
}

/*
 * A controller on a shared reactor is freed while the reactor goes on: none of its deferred
 * work may still be queued there, none of its timers armed. The work items see DEAD and
 * return at once.
 */
static void unhook_from_reactor(struct nvmf_host_ctrl *ctrl)
{
	while (ctrl->reset_work.queued || ctrl->aen_work.queued)
		nvmf_host_poll_nested(ctrl, 0);
	nvmf_timer_cancel(ctrl->reactor, &ctrl->ka_timer);
	nvmf_timer_cancel(ctrl->reactor, &ctrl->timeout_timer);
	nvmf_timer_cancel(ctrl->reactor, &ctrl->reconnect_timer);
}

int nvmf_host_ctrl_connect_on(const struct nvmf_host_opts *opts, struct nvmf_reactor *r,
			      bool threaded, struct nvmf_host_ctrl **out)
{
	struct nvmf_host_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	int ret;

	if (!ctrl)
		return -ENOMEM;
	nvmf_host_live_add(&nvmf_host_live.ctrls, 1); /* paired with ctrl_free() */
	ret = ctrl_init(ctrl, opts, r);
	if (ret) {
		ctrl_free(ctrl);
		return ret;
	}
	ctrl->own_thread = threaded;
	ret = first_connect(ctrl);
	if (ret) {
		unhook_from_reactor(ctrl);
		ctrl_free(ctrl);
		return ret;
	}
	*out = ctrl;
	return 0;
}

void nvmf_host_ctrl_delete_on(struct nvmf_host_ctrl *ctrl)
{
	do_delete(ctrl);
	unhook_from_reactor(ctrl);
	ctrl_free(ctrl);
}

void nvmf_host_ctrl_delete(struct nvmf_host_ctrl *ctrl)
{
	if (!ctrl)
		return;
	/* a path belongs to its host subsystem: remove it there (heads, failover) */
	if (ctrl->mpath) {
		nvmf_host_mpath_delete_path(ctrl);
		return;
	}
	nvmf_host_call(ctrl, do_delete);
	if (ctrl->own_thread) {
		nvmf_reactor_stop(ctrl->reactor);
		nvmf_reactor_join(ctrl->reactor);
	} else {
		/* run what is still deferred (a queued reset sees DEAD and returns) */
		nvmf_reactor_poll_once(ctrl->reactor, 0);
	}
	ctrl_free(ctrl);
}

static int do_reset(struct nvmf_host_ctrl *ctrl)
{
	if (atomic_load(&ctrl->state) != NVMF_CTRL_LIVE)
		return -EBUSY;
	nvmf_host_start_reset(ctrl);
	return 0;
}

int nvmf_host_ctrl_reset(struct nvmf_host_ctrl *ctrl)
{
	return nvmf_host_call(ctrl, do_reset);
}

int nvmf_host_poll(struct nvmf_host_ctrl *ctrl, int timeout_ms)
{
	if (ctrl->own_thread)
		return -EINVAL;
	return nvmf_reactor_poll_once(ctrl->reactor, timeout_ms);
}

const struct nvme_id_ctrl *nvmf_host_ctrl_id(struct nvmf_host_ctrl *ctrl)
{
	return &ctrl->id;
}

uint16_t nvmf_host_ctrl_cntlid(struct nvmf_host_ctrl *ctrl)
{
	return ctrl->cntlid;
}

unsigned int nvmf_host_ctrl_nr_io_queues(struct nvmf_host_ctrl *ctrl)
{
	return ctrl->nr_io_queues;
}

unsigned int nvmf_host_ctrl_io_queue_size(struct nvmf_host_ctrl *ctrl)
{
	return ctrl->nr_io_queues ? ctrl->io_depth : 0;
}

uint64_t nvmf_host_ctrl_cap(struct nvmf_host_ctrl *ctrl)
{
	return ctrl->cap;
}

int nvmf_host_ctrl_get_stats(struct nvmf_host_ctrl *ctrl, struct nvmf_host_ctrl_stats *st)
{
	const struct nvmf_host_ctrl_counters *c;

	if (!ctrl || !st)
		return -EINVAL;
	c = &ctrl->stats;
#define LOAD(f) atomic_load_explicit(&c->f, memory_order_relaxed)
	/* completed first: read from another thread, submitted is the later of the two */
	st->completed = LOAD(completed);
	st->completed_error = LOAD(completed_error);
	st->submitted = LOAD(submitted);
	st->retried = LOAD(retried);
	st->stray_cqes = LOAD(stray_cqes);
	st->timeouts = LOAD(timeouts);
	st->keep_alives = LOAD(keep_alives);
	st->keep_alive_failures = LOAD(keep_alive_failures);
	st->resets = LOAD(resets);
	st->reconnects = LOAD(reconnects);
	st->reconnect_failures = LOAD(reconnect_failures);
#undef LOAD
	/* relaxed loads of two counters are not ordered with each other: never negative */
	st->outstanding = st->submitted > st->completed ? st->submitted - st->completed : 0;
	return 0;
}

void nvmf_host_get_objects(struct nvmf_host_objects *o)
{
#define LOAD(f) (uint64_t) atomic_load_explicit(&nvmf_host_live.f, memory_order_relaxed)
	o->ctrls = LOAD(ctrls);
	o->queues = LOAD(queues);
	o->reqs = LOAD(reqs);
	o->transport_queues = LOAD(transport_queues);
	o->subsystems = LOAD(subsystems);
	o->ns_heads = LOAD(ns_heads);
#undef LOAD
}
