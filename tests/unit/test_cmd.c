// SPDX-License-Identifier: MIT
/*
 * Admin, discovery and I/O commands driven through the core as a transport drives them:
 * a target built with the public API (never started), a fake transport whose queue_response
 * records the completion, SQEs fed through nvmf_tgt_req_init() and req->execute(). The
 * controllers are made the way Connect makes them (nvmf_tgt_ctrl_alloc() for the admin queue,
 * a real Connect capsule for the I/O queue) and enabled with Property Set CC.EN.
 *
 * Commands run in the test thread; the target's one reactor is only pumped (its message
 * queue drained) to deliver what other threads hand to it: asynchronous events and the
 * disconnect messages of the teardown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "target/core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KiB 1024u
#define MiB (1024u * 1024u)
#define NR_SLOTS 16
#define MDTS_BYTES (128 * KiB)
#define INLINE_BYTES 8192u

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6e1b4c2a-77a5-4b8e-9c3e-5a1f0d2b9e01"
#define OTHER_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000bad"
#define SUBNQN_A "nqn.2024-01.io.nvmf:test-a"
#define SUBNQN_B "nqn.2024-01.io.nvmf:test-b"
#define SERIAL_A "SN-A-123"
#define MODEL_A "nvmf test model"
#define FW_A "1.2.3"

/* Status field as the host sees it (CQE status >> 1) */
#define DNR(sc) ((uint16_t)((sc) | NVME_STATUS_DNR))

static const uint8_t ns1_eui64[8] = { 0x00, 0x25, 0x38, 0xb1, 0x11, 0x22, 0x33, 0x44 };
static const uint8_t ns1_nguid[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
				       0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
static const uint8_t ns1_uuid[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x46, 0xa7,
				      0x88, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };
static const uint8_t hostid[16] = { 0x6e, 0x1b, 0x4c, 0x2a, 0x77, 0xa5, 0x4b, 0x8e,
				    0x9c, 0x3e, 0x5a, 0x1f, 0x0d, 0x2b, 0x9e, 0x01 };

struct resp {
	unsigned int count;
	struct nvme_cqe cqe;
	uint32_t transfer_len;
};

struct tctx {
	struct nvmf_tgt *tgt;
	struct nvmf_reactor *r;
	struct nvmf_tgt_subsys *a, *b;
	struct nvmf_tgt_port *port;
	struct nvmf_tgt_sq asq, iosq, dsq; /* admin and I/O queue of A, discovery admin */
	struct nvmf_tgt_ctrl *ctrl, *dctrl;
	struct nvmf_tgt_req reqs[NR_SLOTS];
	struct resp resp[NR_SLOTS];
	uint8_t *bufs; /* NR_SLOTS * 2 * MDTS_BYTES: data buffer, then compare buffer */
	unsigned int disconnects;
	uint16_t cid;
};

static struct tctx *cur;

/* -------------------------------------------------------------------------------------- */
/* The fake transport */

static void fake_queue_response(struct nvmf_tgt_req *req)
{
	unsigned int i = (unsigned int)(req - cur->reqs);

	assert_true(i < NR_SLOTS);
	cur->resp[i].count++;
	cur->resp[i].cqe = req->cqe;
	cur->resp[i].transfer_len = req->transfer_len;
}

static void fake_disconnect_sq(struct nvmf_tgt_sq *sq)
{
	(void)sq;
	cur->disconnects++;
}

static int fake_add_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port)
{
	(void)tgt;
	(void)port;
	return 0;
}

static void fake_remove_port(struct nvmf_tgt_port *port)
{
	(void)port;
}

static void fake_stop(struct nvmf_tgt *tgt)
{
	(void)tgt;
}

static const struct nvmf_tgt_transport_ops fake_ops = {
	.name = "fake",
	.trtype = NVMF_TRTYPE_TCP,
	.add_port = fake_add_port,
	.remove_port = fake_remove_port,
	.queue_response = fake_queue_response,
	.disconnect_sq = fake_disconnect_sq,
	.stop = fake_stop,
};

/* Run every message queued for the reactor so far (the reactor thread is never started) */
static void pump(struct tctx *t)
{
	nvmf_reactor_stop(t->r);
	nvmf_reactor_run(t->r); /* stopped: the loop only drains the message queue */
}

/* -------------------------------------------------------------------------------------- */
/* Submitting commands */

static void *slot_buf(struct tctx *t, unsigned int slot)
{
	return t->bufs + (size_t)slot * 2 * MDTS_BYTES;
}

/*
 * Start @cmd in @slot of @sq: SGL of @len bytes (H2C from @h2c, in capsule when it fits, or
 * C2H/none), nvmf_tgt_req_init(), the transport's data fetch, execute.
 */
static void start(struct tctx *t, struct nvmf_tgt_sq *sq, unsigned int slot, struct nvme_sqe *cmd,
		  const void *h2c, uint32_t len)
{
	struct nvmf_tgt_req *req = &t->reqs[slot];
	uint16_t status;

	cmd->flags = NVME_CMD_PSDT_SGL_MPTR_CONTIG;
	cmd->cid = ++t->cid;
	memset(&cmd->dptr, 0, sizeof(cmd->dptr));
	cmd->dptr.sgl.length = len;
	cmd->dptr.sgl.type =
		h2c && len <= sq->icd_max ? NVME_SGL_ID_INCAPSULE : NVME_SGL_ID_TCP_TRANSPORT;
	memset(&t->resp[slot], 0, sizeof(t->resp[slot]));
	memset(req, 0, sizeof(*req));
	req->cmd = *cmd;
	req->sq = sq;
	req->buf = slot_buf(t, slot);
	req->buf_len = MDTS_BYTES;
	req->cmp_buf = (uint8_t *)slot_buf(t, slot) + MDTS_BYTES;
	memset(req->buf, 0xa5, MDTS_BYTES); /* stale data a handler must not leak */

	status = nvmf_tgt_req_init(req);
	if (status) {
		nvmf_tgt_req_complete(req, status);
		return;
	}
	if (req->data_dir == NVMF_DATA_H2C)
		memcpy(req->buf, h2c, req->data_len);
	req->execute(req);
}

/* Status (host view) of the one completion of @slot */
static uint16_t status_of(struct tctx *t, unsigned int slot)
{
	assert_int_equal(t->resp[slot].count, 1);
	assert_int_equal(t->resp[slot].cqe.cid, t->reqs[slot].cmd.cid);
	return t->resp[slot].cqe.status >> 1;
}

static uint16_t run(struct tctx *t, struct nvmf_tgt_sq *sq, struct nvme_sqe *cmd, const void *h2c,
		    uint32_t len)
{
	start(t, sq, 0, cmd, h2c, len);
	return status_of(t, 0);
}

static void *data0(struct tctx *t)
{
	return slot_buf(t, 0);
}

static uint32_t dw0(struct tctx *t)
{
	return t->resp[0].cqe.result.dw0;
}

static struct nvme_sqe identify_cmd(uint8_t cns, uint32_t nsid, uint8_t csi)
{
	struct nvme_sqe c = { .opcode = nvme_admin_identify, .nsid = nsid };

	c.cdw10 = cns;
	c.cdw11 = (uint32_t)csi << 24;
	return c;
}

static uint16_t identify(struct tctx *t, struct nvmf_tgt_sq *sq, uint8_t cns, uint32_t nsid,
			 uint8_t csi)
{
	struct nvme_sqe c = identify_cmd(cns, nsid, csi);

	return run(t, sq, &c, NULL, NVME_IDENTIFY_DATA_SIZE);
}

static struct nvme_sqe get_log_cmd(uint8_t lid, uint32_t nsid, uint32_t len, uint64_t lpo, bool rae)
{
	struct nvme_sqe c = { .opcode = nvme_admin_get_log_page, .nsid = nsid };
	uint32_t numd = len / 4 - 1;

	c.cdw10 = lid | (rae ? NVME_LOG_RAE : 0) | (numd & 0xffff) << 16;
	c.cdw11 = numd >> 16;
	c.cdw12 = (uint32_t)lpo;
	c.cdw13 = (uint32_t)(lpo >> 32);
	return c;
}

static uint16_t get_log(struct tctx *t, struct nvmf_tgt_sq *sq, uint8_t lid, uint32_t len,
			uint64_t lpo, bool rae)
{
	struct nvme_sqe c = get_log_cmd(lid, NVME_NSID_ALL, len, lpo, rae);

	return run(t, sq, &c, NULL, len);
}

static uint16_t set_feature(struct tctx *t, struct nvmf_tgt_sq *sq, uint32_t cdw10, uint32_t cdw11,
			    const void *data, uint32_t len)
{
	struct nvme_sqe c = { .opcode = nvme_admin_set_features };

	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	return run(t, sq, &c, data, len);
}

static uint16_t get_feature(struct tctx *t, struct nvmf_tgt_sq *sq, uint8_t fid, uint8_t sel,
			    uint32_t cdw11, uint32_t len)
{
	struct nvme_sqe c = { .opcode = nvme_admin_get_features };

	c.cdw10 = fid | (uint32_t)sel << 8;
	c.cdw11 = cdw11;
	return run(t, sq, &c, NULL, len);
}

static struct nvme_sqe rw_cmd(uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	struct nvme_sqe c = { .opcode = opcode, .nsid = nsid };

	c.cdw10 = (uint32_t)slba;
	c.cdw11 = (uint32_t)(slba >> 32);
	c.cdw12 = nlb - 1;
	return c;
}

static uint16_t property_set_cc(struct tctx *t, struct nvmf_tgt_sq *sq, uint32_t cc)
{
	struct nvme_sqe c;
	struct nvmf_property_cmd *p = (struct nvmf_property_cmd *)&c;

	memset(&c, 0, sizeof(c));
	p->opcode = nvme_fabrics_command;
	p->fctype = nvme_fabrics_type_property_set;
	p->offset = NVME_REG_CC;
	p->value = cc;
	return run(t, sq, &c, NULL, 0);
}

/* The newest Error Information log entry */
static struct nvme_error_log_entry newest_error(struct tctx *t, struct nvmf_tgt_sq *sq)
{
	struct nvme_error_log_entry e;

	assert_int_equal(
		get_log(t, sq, NVME_LOG_ERROR, NVMF_TGT_ERR_LOG_ENTRIES * sizeof(e), 0, false), 0);
	memcpy(&e, data0(t), sizeof(e));
	return e;
}

/* -------------------------------------------------------------------------------------- */
/* Fixture: subsystems A (any host) and B (HOSTNQN only) on one port, a referral */

#define CC_ENABLE (NVME_CC_ENABLE | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT))

static void connect_io_queue(struct tctx *t)
{
	struct nvmf_connect_data d;
	struct nvme_sqe c;
	struct nvmf_connect_cmd *cc = (struct nvmf_connect_cmd *)&c;

	memset(&d, 0, sizeof(d));
	memcpy(d.hostid, hostid, sizeof(d.hostid));
	d.cntlid = t->ctrl->cntlid;
	strcpy(d.subsysnqn, SUBNQN_A);
	strcpy(d.hostnqn, HOSTNQN);
	memset(&c, 0, sizeof(c));
	cc->opcode = nvme_fabrics_command;
	cc->fctype = nvme_fabrics_type_connect;
	cc->qid = 1;
	cc->sqsize = 31;
	assert_int_equal(run(t, &t->iosq, &c, &d, sizeof(d)), 0);
	assert_ptr_equal(t->iosq.ctrl, t->ctrl);
	assert_int_equal(t->iosq.qid, 1);
}

static int setup(void **state)
{
	struct nvmf_tgt_opts opts = { .nr_reactors = 1, .mdts_bytes = MDTS_BYTES };
	struct nvmf_tgt_subsys_params sa = {
		.nqn = SUBNQN_A,
		.serial = SERIAL_A,
		.model = MODEL_A,
		.firmware = FW_A,
		.version = NVME_VS(1, 4, 0),
		.allow_any_host = true,
	};
	struct nvmf_tgt_subsys_params sb = { .nqn = SUBNQN_B };
	struct nvmf_tgt_ns_params ns1 = {
		.nsid = 1,
		.backend = NVMF_TGT_BACKEND_MEM,
		.size_bytes = 1 * MiB,
		.block_size = 4096,
		.anagrpid = 1,
		.eui64 = ns1_eui64,
		.nguid = ns1_nguid,
		.uuid = ns1_uuid,
		.enable = true,
	};
	struct nvmf_tgt_ns_params ns2 = {
		.nsid = 2,
		.backend = NVMF_TGT_BACKEND_MEM,
		.size_bytes = 64 * KiB,
		.enable = false,
	};
	struct nvmf_tgt_ns_params ns5 = {
		.nsid = 5,
		.backend = NVMF_TGT_BACKEND_MEM,
		.size_bytes = 2 * MiB,
		.block_size = 512,
		.anagrpid = 2,
		.enable = true,
	};
	struct nvmf_tgt_ns_params nsb = {
		.nsid = 1,
		.backend = NVMF_TGT_BACKEND_MEM,
		.size_bytes = 64 * KiB,
		.enable = true,
	};
	struct nvmf_tgt_port_params pp = {
		.portid = 1,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "127.0.0.1",
		.trsvcid = "4420",
		.treq = NVMF_TREQ_NOT_SPECIFIED,
	};
	struct nvmf_tgt_port_params ref = {
		.portid = 7,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "10.0.0.2",
		.trsvcid = "8009",
		.treq = NVMF_TREQ_NOT_REQUIRED,
	};
	struct tctx *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	cur = t;
	t->bufs = aligned_alloc(4096, (size_t)NR_SLOTS * 2 * MDTS_BYTES);
	assert_non_null(t->bufs);

	t->tgt = nvmf_tgt_create(&opts);
	assert_non_null(t->tgt);
	t->r = t->tgt->reactors[0];
	assert_int_equal(nvmf_tgt_add_subsys(t->tgt, &sa, &t->a), 0);
	assert_int_equal(nvmf_tgt_add_subsys(t->tgt, &sb, &t->b), 0);
	assert_int_equal(nvmf_tgt_subsys_allow_host(t->b, HOSTNQN), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(t->a, &ns1), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(t->a, &ns2), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(t->a, &ns5), 0);
	assert_int_equal(nvmf_tgt_subsys_add_ns(t->b, &nsb), 0);
	assert_int_equal(nvmf_tgt_add_port(t->tgt, &pp, &t->port), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(t->port, t->a), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(t->port, t->b), 0);
	assert_int_equal(nvmf_tgt_port_add_referral(t->port, &ref), 0);

	/* admin queue of subsystem A, as an admin Connect would set it up */
	nvmf_tgt_sq_init(&t->asq, t->tgt, t->port, t->r, &fake_ops);
	t->asq.size = NVMF_TGT_ADMIN_QUEUE_DEPTH;
	assert_int_equal(nvmf_tgt_ctrl_alloc(t->a, t->port, &t->asq, HOSTNQN, hostid, 0, &t->ctrl),
			 0);
	assert_ptr_equal(t->asq.ctrl, t->ctrl);
	assert_int_equal(property_set_cc(t, &t->asq, CC_ENABLE), 0);
	assert_true(atomic_load(&t->ctrl->csts) & NVME_CSTS_RDY);

	nvmf_tgt_sq_init(&t->iosq, t->tgt, t->port, t->r, &fake_ops);
	connect_io_queue(t);

	/* a discovery controller on the same port */
	nvmf_tgt_sq_init(&t->dsq, t->tgt, t->port, t->r, &fake_ops);
	t->dsq.size = NVMF_TGT_ADMIN_QUEUE_DEPTH;
	assert_int_equal(nvmf_tgt_ctrl_alloc(t->tgt->disc_subsys, t->port, &t->dsq, HOSTNQN, hostid,
					     0, &t->dctrl),
			 0);
	assert_int_equal(property_set_cc(t, &t->dsq, CC_ENABLE), 0);
	*state = t;
	return 0;
}

/* The transport's teardown: quiesce, let the disconnects run, destroy the queues */
static int teardown(void **state)
{
	struct tctx *t = *state;

	nvmf_tgt_sq_quiesce(&t->asq);
	nvmf_tgt_sq_quiesce(&t->dsq);
	pump(t);
	pump(t);
	nvmf_tgt_sq_destroy(&t->iosq);
	nvmf_tgt_sq_destroy(&t->asq);
	nvmf_tgt_sq_destroy(&t->dsq);
	pump(t);
	/* every reference (queues, AEN messages, disconnects) came back: controllers freed */
	assert_int_equal(atomic_load(&t->tgt->nr_ctrls), 0);
	assert_int_equal(atomic_load(&t->tgt->nr_sqs), 0);
	nvmf_tgt_destroy(t->tgt);
	free(t->bufs);
	free(t);
	cur = NULL;
	return 0;
}

/* -------------------------------------------------------------------------------------- */
/* Identify */

static void test_identify_ctrl(void **state)
{
	struct tctx *t = *state;
	struct nvme_id_ctrl id;

	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CTRL, 0, 0), 0);
	assert_int_equal(t->resp[0].transfer_len, NVME_IDENTIFY_DATA_SIZE);
	memcpy(&id, data0(t), sizeof(id));

	assert_memory_equal(id.sn, SERIAL_A "            ", sizeof(id.sn)); /* spaces, no NUL */
	assert_memory_equal(id.mn, MODEL_A "                         ", sizeof(id.mn));
	assert_memory_equal(id.fr, FW_A "   ", sizeof(id.fr));
	assert_int_equal(id.mdts, 5); /* 128 KiB in 4 KiB units: 2^5 */
	assert_int_equal(id.cntlid, t->ctrl->cntlid);
	assert_int_equal(id.ver, NVME_VS(1, 4, 0));
	assert_int_equal(id.cntrltype, NVME_CTRL_TYPE_IO);
	assert_int_equal(id.ioccsz, (64 + INLINE_BYTES) / 16);
	assert_int_equal(id.iorcsz, 1);
	assert_int_equal(id.icdoff, 0);
	assert_int_equal(id.msdbd, 1);
	assert_string_equal(id.subnqn, SUBNQN_A);
	assert_int_equal(id.sqes, 0x66);
	assert_int_equal(id.cqes, 0x44);
	assert_int_equal(id.maxcmd, 128);
	assert_int_equal(id.nn, NVMF_TGT_MIN_NN); /* at least 1024, as nvmet */
	assert_int_equal(id.aerl, NVMF_TGT_AERL);
	assert_int_equal(id.elpe, NVMF_TGT_ERR_LOG_ENTRIES - 1);
	assert_int_equal(id.lpa, NVME_LPA_CMD_EFFECTS | NVME_LPA_EXT_DATA);
	assert_int_equal(id.kas, 1);
	assert_int_equal(id.ctratt, NVME_CTRATT_HOST_ID_128 | (1u << 6));
	assert_int_equal(id.oaes, NVME_OAES_NS_ATTR | NVME_OAES_ANA_CHANGE);
	assert_true(id.cmic & NVME_CTRL_CMIC_ANA);
	assert_int_equal(id.oncs, NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES);
	assert_int_equal(id.vwc, 0x07);
	assert_int_equal(id.sgls, NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET);
	assert_int_equal(id.anagrpmax, NVMF_TGT_MAX_ANA_GROUPS);
	assert_int_equal(id.nanagrpid, NVMF_TGT_MAX_ANA_GROUPS);
	assert_int_equal(id.frmw, 0x3);
	assert_int_equal(id.psd[0].max_power, 0x9c4);
	assert_int_equal(id.vs[0], 0); /* nothing stale from the buffer */
}

static void test_identify_ns(void **state)
{
	struct tctx *t = *state;
	struct nvme_id_ns id;
	uint8_t zero[NVME_IDENTIFY_DATA_SIZE] = { 0 };

	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 1, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.nsze, 1 * MiB / 4096);
	assert_int_equal(id.ncap, id.nsze);
	assert_int_equal(id.nuse, id.nsze);
	assert_int_equal(id.nlbaf, 0);
	assert_int_equal(id.flbas, 0);
	assert_int_equal(id.lbaf[0].ds, 12);
	assert_int_equal(id.lbaf[0].ms, 0);
	assert_int_equal(id.nmic, NVME_NS_NMIC_SHARED);
	assert_int_equal(id.dlfeat, NVME_NS_DLFEAT_READ_ZEROES | NVME_NS_DLFEAT_WZ_DEAC);
	assert_int_equal(id.anagrpid, 1);
	assert_memory_equal(id.nguid, ns1_nguid, 16);
	assert_memory_equal(id.eui64, ns1_eui64, 8);

	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 5, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.nsze, 2 * MiB / 512);
	assert_int_equal(id.lbaf[0].ds, 9);
	assert_int_equal(id.anagrpid, 2);

	/* inactive (disabled, and never created) NSIDs read as zeroes */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 2, 0), 0);
	assert_memory_equal(data0(t), zero, sizeof(zero));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 4, 0), 0);
	assert_memory_equal(data0(t), zero, sizeof(zero));

	/* invalid NSIDs */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 0, 0), DNR(NVME_SC_INVALID_NS));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, NVMF_TGT_MIN_NN + 1, 0),
			 DNR(NVME_SC_INVALID_NS));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, NVME_NSID_ALL, 0),
			 DNR(NVME_SC_INVALID_NS));
	assert_int_equal(t->resp[0].transfer_len, 0);

	/* an inaccessible ANA group: NUSE 0, as nvmet */
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 1, NVME_ANA_INACCESSIBLE), 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 1, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.nsze, 1 * MiB / 4096);
	assert_int_equal(id.nuse, 0);
}

static void test_identify_lists(void **state)
{
	struct tctx *t = *state;
	const uint8_t *p = data0(t);
	uint32_t list[4];
	uint64_t iocs;

	/* active NSIDs above the one given, ascending */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_ACTIVE_LIST, 0, 0), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 1);
	assert_int_equal(list[1], 5);
	assert_int_equal(list[2], 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_ACTIVE_LIST, 1, 0), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 5);
	assert_int_equal(list[1], 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_ACTIVE_LIST, 0xfffffffe, 0),
			 DNR(NVME_SC_INVALID_NS));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_ACTIVE_LIST_CS, 0, NVME_CSI_NVM), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 1);
	assert_int_equal(list[1], 5);

	/* descriptors: EUI-64, NGUID, UUID, CSI */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_DESC_LIST, 1, 0), 0);
	assert_int_equal(p[0], NVME_NIDT_EUI64);
	assert_int_equal(p[1], NVME_NIDT_EUI64_LEN);
	assert_memory_equal(p + 4, ns1_eui64, 8);
	p += 4 + 8;
	assert_int_equal(p[0], NVME_NIDT_NGUID);
	assert_int_equal(p[1], NVME_NIDT_NGUID_LEN);
	assert_memory_equal(p + 4, ns1_nguid, 16);
	p += 4 + 16;
	assert_int_equal(p[0], NVME_NIDT_UUID);
	assert_int_equal(p[1], NVME_NIDT_UUID_LEN);
	assert_memory_equal(p + 4, ns1_uuid, 16);
	p += 4 + 16;
	assert_int_equal(p[0], NVME_NIDT_CSI);
	assert_int_equal(p[1], NVME_NIDT_CSI_LEN);
	assert_int_equal(p[4], NVME_CSI_NVM);
	assert_int_equal(p[5], 0); /* end of list */
	/* a derived UUID/NGUID and no EUI-64 for namespace 5: NGUID first */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_DESC_LIST, 5, 0), 0);
	p = data0(t);
	assert_int_equal(p[0], NVME_NIDT_NGUID);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_DESC_LIST, 2, 0),
			 DNR(NVME_SC_INVALID_NS));

	/* I/O command set independent namespace: ready, ANA group */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS_CS_INDEP, 5, 0), 0);
	{
		struct nvme_id_ns_cs_indep id;

		memcpy(&id, data0(t), sizeof(id));
		assert_int_equal(id.nstat, 1);
		assert_int_equal(id.anagrpid, 2);
		assert_int_equal(id.nmic, NVME_NS_NMIC_SHARED);
	}

	/* command set specific structures: NVM only */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CS_NS, 1, NVME_CSI_NVM), 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CS_NS, 1, NVME_CSI_ZNS),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CS_CTRL, 0, NVME_CSI_NVM), 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CS_CTRL, 0, NVME_CSI_KV),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CTRL_IOCS, 0, 0), 0);
	memcpy(&iocs, data0(t), sizeof(iocs));
	assert_int_equal(iocs, 1);
}

static void test_identify_errors(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = identify_cmd(NVME_ID_CNS_CTRL, 0, 0);
	struct nvme_error_log_entry e;

	/* unknown CNS */
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_CTRL_LIST, 0, 0),
			 DNR(NVME_SC_INVALID_FIELD));
	e = newest_error(t, &t->asq);
	assert_int_equal(e.status_field >> 1, DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(e.param_error_location, offsetof(struct nvme_sqe, cdw10));
	assert_int_equal(e.sqid, 0);

	/* an SGL that does not describe the 4 KiB */
	assert_int_equal(run(t, &t->asq, &c, NULL, 2048), DNR(NVME_SC_SGL_INVALID_DATA));
	assert_int_equal(t->resp[0].transfer_len, 0);
}

/* -------------------------------------------------------------------------------------- */
/* Opcodes and the effects tables */

static void test_unsupported_opcodes(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = { .opcode = nvme_admin_format_nvm };
	struct nvme_error_log_entry e;
	uint16_t cid;
	unsigned int op;

	assert_int_equal(run(t, &t->asq, &c, NULL, 0), DNR(NVME_SC_INVALID_OPCODE));
	cid = t->reqs[0].cmd.cid;
	e = newest_error(t, &t->asq);
	assert_int_equal(e.status_field >> 1, DNR(NVME_SC_INVALID_OPCODE));
	assert_int_equal(e.param_error_location, 0);
	assert_int_equal(e.cmdid, cid);

	/* the admin parser accepts exactly what the effects table calls supported */
	for (op = 0; op < 256; op++) {
		struct nvmf_tgt_req *req = &t->reqs[1];
		uint16_t status;

		if (op == nvme_fabrics_command)
			continue;
		memset(req, 0, sizeof(*req));
		req->sq = &t->asq;
		req->cmd.opcode = (uint8_t)op;
		status = nvmf_tgt_parse_admin_cmd(req);
		if (nvmf_tgt_admin_effects((uint8_t)op) & NVME_CMD_EFFECTS_CSUPP) {
			assert_int_equal(status, 0);
			assert_non_null(req->execute);
		} else {
			assert_int_equal(status, DNR(NVME_SC_INVALID_OPCODE));
		}
	}

	/* I/O: Write Uncorrectable is not supported */
	c = rw_cmd(nvme_cmd_write_uncor, 1, 0, 1);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 0), DNR(NVME_SC_INVALID_OPCODE));

	/* the discovery controller: no Abort, no namespaces */
	c = (struct nvme_sqe){ .opcode = nvme_admin_abort_cmd };
	assert_int_equal(run(t, &t->dsq, &c, NULL, 0), DNR(NVME_SC_INVALID_OPCODE));
}

static void test_abort_keep_alive(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = { .opcode = nvme_admin_abort_cmd };

	c.cdw10 = 5u << 16; /* CID 5 on SQ 0 */
	assert_int_equal(run(t, &t->asq, &c, NULL, 0), 0);
	assert_int_equal(dw0(t), 1); /* not aborted */
	c = (struct nvme_sqe){ .opcode = nvme_admin_keep_alive };
	assert_int_equal(run(t, &t->asq, &c, NULL, 0), 0);
	assert_int_equal(run(t, &t->dsq, &c, NULL, 0), 0);
}

/* -------------------------------------------------------------------------------------- */
/* Log pages */

static void test_supported_and_effects_logs(void **state)
{
	struct tctx *t = *state;
	static const uint8_t lids[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0c };
	struct nvme_effects_log log;
	uint32_t lsupp[256];
	uint32_t two[2];
	struct nvme_sqe c;
	unsigned int i, n = 0;

	assert_int_equal(get_log(t, &t->asq, NVME_LOG_SUPPORTED, sizeof(lsupp), 0, false), 0);
	memcpy(lsupp, data0(t), sizeof(lsupp));
	for (i = 0; i < sizeof(lids); i++)
		assert_int_equal(lsupp[lids[i]], 1);
	for (i = 0; i < 256; i++)
		n += lsupp[i] != 0;
	assert_int_equal(n, sizeof(lids));

	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CMD_EFFECTS, sizeof(log), 0, false), 0);
	memcpy(&log, data0(t), sizeof(log));
	assert_int_equal(log.acs[nvme_admin_identify], NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(log.acs[nvme_admin_format_nvm], 0);
	assert_int_equal(log.iocs[nvme_cmd_write], NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(log.iocs[nvme_cmd_write_zeroes],
			 NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC);
	assert_int_equal(log.iocs[nvme_cmd_read], NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(log.iocs[nvme_cmd_compare], NVME_CMD_EFFECTS_CSUPP);
	assert_int_equal(log.iocs[nvme_cmd_write_uncor], 0);
	for (i = 0; i < 256; i++) {
		assert_int_equal(log.acs[i], nvmf_tgt_admin_effects((uint8_t)i));
		assert_int_equal(log.iocs[i], nvmf_tgt_io_effects((uint8_t)i));
	}

	/* a window into the log: LPO 4, 8 bytes = ACS[1], ACS[2] */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CMD_EFFECTS, 8, 4, false), 0);
	memcpy(two, data0(t), sizeof(two));
	assert_int_equal(two[0], log.acs[1]);
	assert_int_equal(two[1], log.acs[2]);
	assert_int_equal(((uint8_t *)data0(t))[8], 0xa5); /* nothing written past the window */
	/* past the end: zeroes */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CMD_EFFECTS, 8, 8192, false), 0);
	memcpy(two, data0(t), sizeof(two));
	assert_int_equal(two[0], 0);
	assert_int_equal(two[1], 0);

	/* a command set other than NVM */
	c = get_log_cmd(NVME_LOG_CMD_EFFECTS, NVME_NSID_ALL, sizeof(log), 0, false);
	c.cdw14 = (uint32_t)NVME_CSI_ZNS << 24;
	assert_int_equal(run(t, &t->asq, &c, NULL, sizeof(log)), DNR(NVME_SC_INVALID_FIELD));

	/* unknown LID, unaligned offset, a length the SGL does not match */
	assert_int_equal(get_log(t, &t->asq, 0x99, 512, 0, false), DNR(NVME_SC_INVALID_LOG_PAGE));
	assert_int_equal(newest_error(t, &t->asq).param_error_location,
			 offsetof(struct nvme_sqe, cdw10));
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_SMART, 512, 2, false),
			 DNR(NVME_SC_INVALID_FIELD));
	c = get_log_cmd(NVME_LOG_SMART, NVME_NSID_ALL, 512, 0, false);
	assert_int_equal(run(t, &t->asq, &c, NULL, 256), DNR(NVME_SC_SGL_INVALID_DATA));
	/* the discovery log is not an I/O controller's */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_DISC, 1024, 0, false),
			 DNR(NVME_SC_INVALID_LOG_PAGE));
}

static void smart(struct tctx *t, struct nvme_smart_log *log)
{
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_SMART, sizeof(*log), 0, false), 0);
	memcpy(log, data0(t), sizeof(*log));
}

static uint64_t le128_lo(const uint8_t v[16])
{
	uint64_t lo, hi;

	memcpy(&lo, v, 8);
	memcpy(&hi, v + 8, 8);
	assert_int_equal(hi, 0);
	return lo;
}

static void test_smart_and_io(void **state)
{
	struct tctx *t = *state;
	struct nvme_smart_log before, after;
	uint8_t pattern[32 * KiB];
	struct nvme_sqe c;
	unsigned int i;

	smart(t, &before);
	assert_int_equal(before.temperature, 323);
	assert_int_equal(before.avail_spare, 100);
	assert_int_equal(before.spare_thresh, 10);
	assert_int_equal(le128_lo(before.power_cycles), 1);
	assert_int_equal(le128_lo(before.host_writes), 0);

	/* 8 blocks of 4 KiB: written in one command (not in capsule: 32 KiB > 8 KiB) */
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	c = rw_cmd(nvme_cmd_write, 1, 16, 8);
	assert_int_equal(run(t, &t->iosq, &c, pattern, sizeof(pattern)), 0);
	c = rw_cmd(nvme_cmd_read, 1, 16, 8);
	assert_int_equal(run(t, &t->iosq, &c, NULL, sizeof(pattern)), 0);
	assert_int_equal(t->resp[0].transfer_len, sizeof(pattern));
	assert_memory_equal(data0(t), pattern, sizeof(pattern));
	c = rw_cmd(nvme_cmd_compare, 1, 16, 8);
	assert_int_equal(run(t, &t->iosq, &c, pattern, sizeof(pattern)), 0);
	pattern[100] ^= 1;
	assert_int_equal(run(t, &t->iosq, &c, pattern, sizeof(pattern)),
			 DNR(NVME_SC_COMPARE_FAILED));

	smart(t, &after);
	assert_int_equal(le128_lo(after.host_writes), le128_lo(before.host_writes) + 1);
	/* Read and the successful Compare */
	assert_int_equal(le128_lo(after.host_reads), le128_lo(before.host_reads) + 2);
	/* 64 units of 512 bytes: one data unit (thousands, rounded up) */
	assert_int_equal(le128_lo(after.data_units_written), 1);
	assert_int_equal(le128_lo(after.data_units_read), 1);
	assert_int_equal(le128_lo(after.num_err_log_entries), atomic_load(&t->a->err_count));
	assert_true(le128_lo(after.num_err_log_entries) >= 1); /* the failed Compare */

	/* per-namespace SMART is not supported (LPA bit 0 clear) */
	c = get_log_cmd(NVME_LOG_SMART, 1, 512, 0, false);
	assert_int_equal(run(t, &t->asq, &c, NULL, 512), DNR(NVME_SC_INVALID_FIELD));
	c = get_log_cmd(NVME_LOG_SMART, 0, 512, 0, false);
	assert_int_equal(run(t, &t->asq, &c, NULL, 512), 0);
}

static void test_io_errors(void **state)
{
	struct tctx *t = *state;
	struct nvme_error_log_entry e;
	struct nvme_sqe c;
	uint64_t count;

	/* the last LBA + 1 */
	c = rw_cmd(nvme_cmd_read, 1, 1 * MiB / 4096, 1);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 4096), DNR(NVME_SC_LBA_RANGE));
	e = newest_error(t, &t->asq);
	assert_int_equal(e.status_field >> 1, DNR(NVME_SC_LBA_RANGE));
	assert_int_equal(e.sqid, 1);
	assert_int_equal(e.nsid, 1);
	assert_int_equal(e.lba, 1 * MiB / 4096);
	assert_int_equal(e.param_error_location, offsetof(struct nvme_sqe, cdw10));
	count = e.error_count;

	/* a range running past the end */
	c = rw_cmd(nvme_cmd_write, 1, 1 * MiB / 4096 - 1, 2);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 8192), DNR(NVME_SC_LBA_RANGE));

	/* namespaces that do not exist or are inactive */
	c = rw_cmd(nvme_cmd_read, 9, 0, 1);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 4096), DNR(NVME_SC_INVALID_NS));
	c = rw_cmd(nvme_cmd_read, 2, 0, 1);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 512), DNR(NVME_SC_INVALID_NS));

	/* the SGL describes one block, NLB says two */
	c = rw_cmd(nvme_cmd_read, 1, 0, 2);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 4096), DNR(NVME_SC_SGL_INVALID_DATA));

	/* newest first, one more entry per failure */
	e = newest_error(t, &t->asq);
	assert_int_equal(e.status_field >> 1, DNR(NVME_SC_SGL_INVALID_DATA));
	assert_int_equal(e.error_count, count + 4);
	{
		struct nvme_error_log_entry older;

		memcpy(&older, (uint8_t *)data0(t) + sizeof(older), sizeof(older));
		assert_int_equal(older.error_count, count + 3);
		assert_int_equal(older.status_field >> 1, DNR(NVME_SC_INVALID_NS));
	}
}

static void test_fw_slot_and_changed_ns_logs(void **state)
{
	struct tctx *t = *state;
	struct nvme_fw_slot_log fw;
	uint32_t list[4];

	assert_int_equal(get_log(t, &t->asq, NVME_LOG_FW_SLOT, sizeof(fw), 0, false), 0);
	memcpy(&fw, data0(t), sizeof(fw));
	assert_int_equal(fw.afi, 1);
	assert_memory_equal(fw.frs[0], FW_A "   ", 8);

	/* what the core records when namespaces change */
	pthread_mutex_lock(&t->ctrl->lock);
	t->ctrl->changed_ns[0] = 1;
	t->ctrl->changed_ns[1] = 5;
	t->ctrl->nr_changed_ns = 2;
	pthread_mutex_unlock(&t->ctrl->lock);
	/* RAE: read, keep */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, true), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 1);
	assert_int_equal(list[1], 5);
	assert_int_equal(list[2], 0);
	/* read and clear */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, false), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 1);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, false), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 0);
	/* more than the list holds */
	pthread_mutex_lock(&t->ctrl->lock);
	t->ctrl->nr_changed_ns = NVME_MAX_CHANGED_NAMESPACES + 1;
	pthread_mutex_unlock(&t->ctrl->lock);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, false), 0);
	memcpy(list, data0(t), sizeof(list));
	assert_int_equal(list[0], 0xffffffff);
	assert_int_equal(list[1], 0);
}

static void test_ana_log(void **state)
{
	struct tctx *t = *state;
	const uint8_t *p = data0(t);
	struct nvme_ana_rsp_hdr hdr;
	struct nvme_ana_group_desc d = { 0 };
	uint32_t nsid;
	uint16_t status;
	struct nvme_sqe c;

	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_NONOPTIMIZED), 0);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, false), 0);
	memcpy(&hdr, p, sizeof(hdr));
	assert_int_equal(hdr.chgcnt, atomic_load(&t->port->ana_chgcnt));
	assert_int_equal(hdr.ngrps, 2);
	p += sizeof(hdr);
	memcpy(&d, p, sizeof(d));
	assert_int_equal(d.grpid, 1);
	assert_int_equal(d.nnsids, 1);
	assert_int_equal(d.state, NVME_ANA_OPTIMIZED);
	memcpy(&nsid, p + sizeof(d), 4);
	assert_int_equal(nsid, 1);
	p += sizeof(d) + 4;
	memcpy(&d, p, sizeof(d));
	assert_int_equal(d.grpid, 2);
	assert_int_equal(d.nnsids, 1);
	assert_int_equal(d.state, NVME_ANA_NONOPTIMIZED);
	memcpy(&nsid, p + sizeof(d), 4);
	assert_int_equal(nsid, 5);
	assert_int_equal(p[sizeof(d) + 4], 0);

	/* groups only (LSP bit 0) */
	c = get_log_cmd(NVME_LOG_ANA, NVME_NSID_ALL, 4096, 0, false);
	c.cdw10 |= NVME_ANA_LOG_RGO << 8;
	status = run(t, &t->asq, &c, NULL, 4096);
	assert_int_equal(status, 0);
	p = data0(t);
	memcpy(&d, p + sizeof(hdr) + sizeof(d), sizeof(d));
	assert_int_equal(d.grpid, 2);
	assert_int_equal(d.nnsids, 0);

	/* I/O to an inaccessible group is refused */
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_INACCESSIBLE), 0);
	c = rw_cmd(nvme_cmd_read, 5, 0, 1);
	assert_int_equal(run(t, &t->iosq, &c, NULL, 512), NVME_SC_ANA_INACCESSIBLE);
}

#define ANA_CHANGE_DW0                                                                             \
	(NVME_AER_TYPE_NOTICE | NVME_AER_NOTICE_ANA << 8 | (uint32_t)NVME_LOG_ANA << 16)

/* Admin Connect on @sq (not yet connected) to subsystem A; returns the status */
static uint16_t connect_admin(struct tctx *t, struct nvmf_tgt_sq *sq, unsigned int slot)
{
	struct nvmf_connect_data d;
	struct nvme_sqe c;
	struct nvmf_connect_cmd *cc = (struct nvmf_connect_cmd *)&c;

	memset(&d, 0, sizeof(d));
	memcpy(d.hostid, hostid, sizeof(d.hostid));
	d.cntlid = NVME_CNTLID_DYNAMIC;
	strcpy(d.subsysnqn, SUBNQN_A);
	strcpy(d.hostnqn, HOSTNQN);
	memset(&c, 0, sizeof(c));
	cc->opcode = nvme_fabrics_command;
	cc->fctype = nvme_fabrics_type_connect;
	cc->qid = 0;
	cc->sqsize = 31;
	start(t, sq, slot, &c, &d, sizeof(d));
	return status_of(t, slot);
}

/* A queue the test made itself goes as a transport's would: quiesce, drain, destroy */
static void drop_queue(struct tctx *t, struct nvmf_tgt_sq *sq)
{
	nvmf_tgt_sq_quiesce(sq);
	pump(t);
	nvmf_tgt_sq_destroy(sq);
	pump(t);
}

/* The header and the descriptor of group @grpid (NULL if absent) of the ANA log in slot 0 */
static const uint8_t *ana_desc(struct tctx *t, uint32_t grpid, struct nvme_ana_rsp_hdr *hdr,
			       struct nvme_ana_group_desc *d)
{
	const uint8_t *p = data0(t);

	memcpy(hdr, p, sizeof(*hdr));
	p += sizeof(*hdr);
	for (unsigned int i = 0; i < hdr->ngrps; i++) {
		memcpy(d, p, sizeof(*d));
		if (d->grpid == grpid)
			return p;
		p += sizeof(*d) + d->nnsids * sizeof(uint32_t);
	}
	return NULL;
}

/*
 * nvmf_tgt_port_set_ana_state() raises ANA Change on the controllers of that port only,
 * gated by the Asynchronous Event Configuration and masked until the ANA log is read
 * without RAE; each call counts in the port's change count (nvmet's ana_state store).
 */
static void test_ana_state_aen(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe aer = { .opcode = nvme_admin_async_event };
	struct nvmf_tgt_port_params pp2 = {
		.portid = 2,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "127.0.0.1",
		.trsvcid = "4421",
		.ana_default_state = NVME_ANA_INACCESSIBLE,
	};
	struct nvmf_tgt_port *p2;
	struct nvmf_tgt_sq sq2;
	struct nvme_ana_rsp_hdr hdr;
	struct nvme_ana_group_desc d = { 0 };
	uint64_t cnt = atomic_load(&t->port->ana_chgcnt);
	uint64_t cnt2;

	/* a second port exporting A, whose groups 2..128 start inaccessible (as nvmet's) */
	assert_int_equal(nvmf_tgt_add_port(t->tgt, &pp2, &p2), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(p2, t->a), 0);
	assert_int_equal(atomic_load(&p2->ana_state[1]), NVME_ANA_OPTIMIZED);
	assert_int_equal(atomic_load(&p2->ana_state[2]), NVME_ANA_INACCESSIBLE);
	assert_int_equal(atomic_load(&p2->ana_state[128]), NVME_ANA_INACCESSIBLE);
	pp2.portid = 3;
	pp2.ana_default_state = 5; /* reserved: no ANA state */
	assert_int_equal(nvmf_tgt_add_port(t->tgt, &pp2, NULL), -EINVAL);
	nvmf_tgt_sq_init(&sq2, t->tgt, p2, t->r, &fake_ops);
	assert_int_equal(connect_admin(t, &sq2, 8), 0);
	assert_int_equal(property_set_cc(t, &sq2, CC_ENABLE), 0);
	cnt2 = atomic_load(&p2->ana_chgcnt);

	/* ANA Change Notices off: the event is dropped, the count still moves */
	start(t, &t->asq, 1, &aer, NULL, 0);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_NONOPTIMIZED), 0);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	assert_int_equal(atomic_load(&t->port->ana_chgcnt), cnt + 1);

	/* on: the parked AER completes with Notice / ANA Change / log 0Ch */
	assert_int_equal(
		set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_ANA_CHANGE, NULL, 0),
		0);
	assert_int_equal(
		set_feature(t, &sq2, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_ANA_CHANGE, NULL, 0), 0);
	start(t, &sq2, 2, &aer, NULL, 0);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_INACCESSIBLE), 0);
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, ANA_CHANGE_DW0);
	/* the controller on the other port heard nothing and sees its own state */
	assert_int_equal(t->resp[2].count, 0);
	assert_int_equal(atomic_load(&p2->ana_chgcnt), cnt2);
	assert_int_equal(get_log(t, &sq2, NVME_LOG_ANA, 4096, 0, true), 0);
	assert_non_null(ana_desc(t, 2, &hdr, &d));
	assert_int_equal(d.state, NVME_ANA_INACCESSIBLE); /* p2's default, not port 1's change */
	assert_int_equal(hdr.chgcnt, cnt2);

	/* the same state again is an event too (nvmet), but masked until the log is read */
	start(t, &t->asq, 1, &aer, NULL, 0);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_INACCESSIBLE), 0);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	assert_int_equal(atomic_load(&t->port->ana_chgcnt), cnt + 3);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, true), 0); /* RAE */
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_CHANGE), 0);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, false), 0);
	assert_non_null(ana_desc(t, 2, &hdr, &d));
	assert_int_equal(d.state, NVME_ANA_CHANGE);
	assert_int_equal(hdr.chgcnt, cnt + 4);
	assert_int_equal(d.chgcnt, cnt + 4);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_PERSISTENT_LOSS), 0);
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, ANA_CHANGE_DW0);

	/* bad group IDs and states change nothing */
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 0, NVME_ANA_OPTIMIZED), -EINVAL);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 129, NVME_ANA_OPTIMIZED), -EINVAL);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, 0), -EINVAL);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, 5), -EINVAL);
	assert_int_equal(atomic_load(&t->port->ana_chgcnt), cnt + 5);
	assert_int_equal(atomic_load(&t->port->ana_state[2]), NVME_ANA_PERSISTENT_LOSS);

	/* I/O status per state, never with DNR (the host may retry on another path) */
	{
		static const struct {
			uint8_t state;
			uint16_t status;
		} io[] = {
			{ NVME_ANA_INACCESSIBLE, NVME_SC_ANA_INACCESSIBLE },
			{ NVME_ANA_PERSISTENT_LOSS, NVME_SC_ANA_PERSISTENT_LOSS },
			{ NVME_ANA_CHANGE, NVME_SC_ANA_TRANSITION },
			{ NVME_ANA_NONOPTIMIZED, NVME_SC_SUCCESS },
			{ NVME_ANA_OPTIMIZED, NVME_SC_SUCCESS },
		};
		struct nvme_sqe c = rw_cmd(nvme_cmd_read, 5, 0, 1);

		for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
			assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, io[i].state), 0);
			assert_int_equal(run(t, &t->iosq, &c, NULL, 512), io[i].status);
		}
	}
	pump(t);
	drop_queue(t, &sq2);
}

/*
 * nvmf_tgt_subsys_set_ns_anagrpid(): Identify Namespace and the ANA log show the new group,
 * new I/O sees its state, every controller of the subsystem hears ANA Change, and every port
 * exporting the subsystem counts the change. The call waits for the reactors, so the one
 * reactor runs on its thread meanwhile.
 */
static void test_ns_anagrpid(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe aer = { .opcode = nvme_admin_async_event };
	struct nvme_sqe rd = rw_cmd(nvme_cmd_read, 1, 0, 1);
	uint64_t cnt = atomic_load(&t->port->ana_chgcnt);
	struct nvme_ana_rsp_hdr hdr;
	struct nvme_ana_group_desc d = { 0 };
	const uint8_t *p;
	struct nvme_id_ns id;
	uint32_t nsids[2];

	assert_int_equal(
		set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_ANA_CHANGE, NULL, 0),
		0);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 2, NVME_ANA_INACCESSIBLE), 0);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, false), 0); /* unmask */
	pump(t);
	start(t, &t->asq, 1, &aer, NULL, 0);
	assert_int_equal(run(t, &t->iosq, &rd, NULL, 4096), 0);

	assert_int_equal(nvmf_reactor_start(t->r), 0);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(t->a, 1, 2), 0);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(t->a, 9, 2), -ENOENT);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(t->a, 1, 0), -EINVAL);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(t->a, 1, 129), -EINVAL);
	nvmf_reactor_stop(t->r);
	nvmf_reactor_join(t->r);

	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, ANA_CHANGE_DW0);
	assert_int_equal(atomic_load(&t->port->ana_chgcnt), cnt + 2);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 1, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.anagrpid, 2);
	assert_int_equal(id.nuse, 0); /* inaccessible through this port */
	assert_int_equal(id.nsze, 1 * MiB / 4096);
	assert_int_equal(run(t, &t->iosq, &rd, NULL, 4096), NVME_SC_ANA_INACCESSIBLE);

	/* group 1 has no namespace left: one descriptor, NSIDs 1 and 5 */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, false), 0);
	p = ana_desc(t, 2, &hdr, &d);
	assert_non_null(p);
	assert_int_equal(hdr.ngrps, 1);
	assert_int_equal(hdr.chgcnt, cnt + 2);
	assert_int_equal(d.nnsids, 2);
	assert_int_equal(d.state, NVME_ANA_INACCESSIBLE);
	memcpy(nsids, p + sizeof(d), sizeof(nsids));
	assert_int_equal(nsids[0], 1);
	assert_int_equal(nsids[1], 5);
	assert_null(ana_desc(t, 1, &hdr, &d));

	/* and back: the namespace serves again; its backend (and data) went with it */
	assert_int_equal(nvmf_reactor_start(t->r), 0);
	assert_int_equal(nvmf_tgt_subsys_set_ns_anagrpid(t->a, 1, 1), 0);
	nvmf_reactor_stop(t->r);
	nvmf_reactor_join(t->r);
	assert_int_equal(run(t, &t->iosq, &rd, NULL, 4096), 0);
	assert_int_equal(identify(t, &t->asq, NVME_ID_CNS_NS, 1, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.anagrpid, 1);
	assert_memory_equal(id.nguid, ns1_nguid, 16);
}

/*
 * nvmf_tgt_port_disable(): the controllers of the port fail, Connect on a queue of the port
 * is refused (Connect Restart Discovery, no DNR), discovery logs leave it out and GENCTR
 * moves; the configuration stays, and nvmf_tgt_port_enable() brings it all back.
 */
static void test_port_disable_enable(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_port_params dp = {
		.portid = 9,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "127.0.0.1",
		.trsvcid = "8009",
	};
	const size_t esz = sizeof(struct nvmf_disc_log_entry);
	const size_t hsz = sizeof(struct nvmf_disc_rsp_page_hdr);
	uint8_t *buf = calloc(1, hsz + 8 * esz);
	struct nvmf_tgt_port *disc;
	struct nvmf_tgt_sq sq;
	uint64_t genctr;

	assert_non_null(buf);
	/* a discovery-only port lists every port's subsystems: A and B on port 1 */
	assert_int_equal(nvmf_tgt_add_port(t->tgt, &dp, &disc), 0);
	assert_int_equal(nvmf_tgt_discovery_log(disc, HOSTNQN, NULL, buf, hsz + 8 * esz),
			 hsz + 3 * esz);
	assert_int_equal(nvmf_tgt_port_set_ana_state(t->port, 3, NVME_ANA_NONOPTIMIZED), 0);
	genctr = atomic_load(&t->tgt->disc_genctr);

	assert_int_equal(nvmf_tgt_port_disable(t->port), 0);
	assert_true(atomic_load(&t->ctrl->fatal));
	assert_true(atomic_load(&t->dctrl->fatal));
	assert_true(atomic_load(&t->ctrl->csts) & NVME_CSTS_CFS);
	pump(t);
	assert_int_equal(t->disconnects, 3); /* admin, I/O and discovery queues */
	assert_true(atomic_load(&t->tgt->disc_genctr) > genctr);
	assert_int_equal(nvmf_tgt_discovery_log(disc, HOSTNQN, NULL, buf, hsz + 8 * esz),
			 hsz + esz);
	nvmf_tgt_sq_init(&sq, t->tgt, t->port, t->r, &fake_ops);
	assert_int_equal(connect_admin(t, &sq, 3), NVME_SC_CONNECT_RESTART_DISC);
	assert_null(sq.ctrl);
	/* again: nothing to do; the configuration is still there */
	genctr = atomic_load(&t->tgt->disc_genctr);
	assert_int_equal(nvmf_tgt_port_disable(t->port), 0);
	assert_int_equal(atomic_load(&t->tgt->disc_genctr), genctr);
	assert_int_equal(t->port->nr_subsys, 2);
	assert_int_equal(t->port->nr_referrals, 1);
	assert_int_equal(atomic_load(&t->port->ana_state[3]), NVME_ANA_NONOPTIMIZED);

	assert_int_equal(nvmf_tgt_port_enable(t->port), 0);
	assert_true(atomic_load(&t->tgt->disc_genctr) > genctr);
	assert_int_equal(nvmf_tgt_port_enable(t->port), 0);
	assert_int_equal(nvmf_tgt_discovery_log(disc, HOSTNQN, NULL, buf, hsz + 8 * esz),
			 hsz + 3 * esz);
	assert_int_equal(connect_admin(t, &sq, 3), 0);
	assert_non_null(sq.ctrl);
	assert_false(atomic_load(&sq.ctrl->fatal));
	drop_queue(t, &sq);

	/* a removed port is no port of the target any more */
	assert_int_equal(nvmf_tgt_remove_port(t->tgt, disc), 0);
	assert_int_equal(nvmf_tgt_port_disable(disc), -ENOENT);
	assert_int_equal(nvmf_tgt_port_enable(disc), -ENOENT);
	free(buf);
}

/* A disabled loop port refuses new loop queues; enabled again, it takes them. */
static void test_loop_port_disable(void **state)
{
	struct tctx *t = *state;
	struct nvmf_tgt_port_params lp = { .portid = 4, .trtype = NVMF_TRTYPE_LOOP };
	static const struct nvmf_tgt_loop_sq_ops no_ops;
	struct nvmf_tgt_loop_sq lsq;
	struct nvmf_tgt_port *port;

	assert_int_equal(nvmf_tgt_add_port(t->tgt, &lp, &port), 0);
	assert_int_equal(nvmf_tgt_port_disable(port), 0);
	assert_int_equal(nvmf_tgt_loop_sq_init(&lsq, t->tgt, port, t->r, &no_ops), -ECONNREFUSED);
	assert_int_equal(nvmf_tgt_port_enable(port), 0);
	assert_int_equal(nvmf_tgt_loop_sq_init(&lsq, t->tgt, port, t->r, &no_ops), 0);
	nvmf_tgt_loop_sq_destroy(&lsq);
}

/* -------------------------------------------------------------------------------------- */
/* Features */

static void test_features_queues_kato(void **state)
{
	struct tctx *t = *state;

	/* more than the target's 64: granted 64, 0's based in both halves */
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_NUM_QUEUES, 199 | 199u << 16, NULL, 0),
			 0);
	assert_int_equal(dw0(t), 63 | 63u << 16);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_NUM_QUEUES, 3 | 3u << 16, NULL, 0), 0);
	assert_int_equal(dw0(t), 3 | 3u << 16);
	assert_int_equal(t->ctrl->nr_io_queues, 4);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_NUM_QUEUES, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 3 | 3u << 16);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_NUM_QUEUES, 0xffff, NULL, 0),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(newest_error(t, &t->asq).param_error_location,
			 offsetof(struct nvme_sqe, cdw11));
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_NUM_QUEUES | NVME_FEAT_SV, 0, NULL, 0),
			 DNR(NVME_SC_FEATURE_NOT_SAVEABLE));

	/* KATO in ms, rounded up to KAS (100 ms); it (re)arms or stops the timer */
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_KATO, 5000, NULL, 0), 0);
	assert_int_equal(t->ctrl->kato_ms, 5000);
	assert_true(t->ctrl->ka_timer.armed);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_KATO, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 5000);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_KATO, 1234, NULL, 0), 0);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_KATO, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 1300);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_KATO, 0, NULL, 0), 0);
	assert_false(t->ctrl->ka_timer.armed);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_KATO, NVME_FEAT_SEL_SUPPORTED, 0, 0), 0);
	assert_int_equal(dw0(t), 1u << 2); /* changeable, not saveable */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_KATO, 4, 0, 0),
			 DNR(NVME_SC_INVALID_FIELD));
}

static void test_features_misc(void **state)
{
	struct tctx *t = *state;
	uint8_t behavior[512];

	/* volatile write cache */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_VOLATILE_WC, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 1);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_VOLATILE_WC, 0, NULL, 0), 0);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_VOLATILE_WC, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 0);
	assert_int_equal(
		get_feature(t, &t->asq, NVME_FEAT_VOLATILE_WC, NVME_FEAT_SEL_DEFAULT, 0, 0), 0);
	assert_int_equal(dw0(t), 1);

	/* asynchronous event configuration: only what OAES advertises (and SMART) */
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT,
				     NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE, NULL, 0),
			 0);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT, 0, 0, 0), 0);
	assert_int_equal(dw0(t), NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE);
	assert_int_equal(
		set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_DISC_CHANGE, NULL, 0),
		DNR(NVME_SC_INVALID_FIELD));

	/* host identifier: 128-bit only, not settable */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_HOST_ID, 0, 0, 16),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_HOST_ID, 0, 1, 16), 0);
	assert_int_equal(t->resp[0].transfer_len, 16);
	assert_memory_equal(data0(t), hostid, 16);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_HOST_ID, 0, hostid, 16),
			 DNR(NVME_SC_CMD_SEQ_ERROR));

	/* temperature threshold of the composite sensor */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_TEMP_THRESH, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 343);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_TEMP_THRESH, 350, NULL, 0), 0);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_TEMP_THRESH, 0, 0, 0), 0);
	assert_int_equal(dw0(t), 350);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_TEMP_THRESH, 300 | 1u << 20, NULL, 0),
			 DNR(NVME_SC_INVALID_FIELD)); /* no under threshold */
	/* at or below our 323 K: SMART raises the temperature warning */
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_TEMP_THRESH, 320, NULL, 0), 0);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_SMART, 512, 0, false), 0);
	assert_int_equal(((uint8_t *)data0(t))[0], 1u << 1);

	/* host behavior support: 512 bytes in and out */
	memset(behavior, 0, sizeof(behavior));
	behavior[0] = 1;
	assert_int_equal(
		set_feature(t, &t->asq, NVME_FEAT_HOST_BEHAVIOR, 0, behavior, sizeof(behavior)), 0);
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_HOST_BEHAVIOR, 0, 0, 512), 0);
	assert_memory_equal(data0(t), behavior, sizeof(behavior));

	/* fixed features: current value reads back, other values are refused */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_ARBITRATION, 0, 0, 0), 0);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_ARBITRATION, 0, NULL, 0), 0);
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_POWER_MGMT, 1, NULL, 0),
			 DNR(NVME_SC_FEATURE_NOT_CHANGEABLE));
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_IRQ_CONFIG, 0, 3, 0), 0);
	assert_int_equal(dw0(t), 3);

	/* unsupported features */
	assert_int_equal(get_feature(t, &t->asq, NVME_FEAT_TIMESTAMP, 0, 0, 0),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(set_feature(t, &t->asq, 0x77, 0, NULL, 0), DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(newest_error(t, &t->asq).param_error_location,
			 offsetof(struct nvme_sqe, cdw10));
}

/* -------------------------------------------------------------------------------------- */
/* Asynchronous events */

static void test_aer(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = { .opcode = nvme_admin_async_event };
	uint32_t ns_changed = NVME_AER_TYPE_NOTICE | NVME_AER_NOTICE_NS_CHANGED << 8 |
			      (uint32_t)NVME_LOG_CHANGED_NS << 16;
	uint32_t ana =
		NVME_AER_TYPE_NOTICE | NVME_AER_NOTICE_ANA << 8 | (uint32_t)NVME_LOG_ANA << 16;
	unsigned int i;

	assert_int_equal(
		set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_NS_ATTR, NULL, 0), 0);

	/* parked until an event comes */
	start(t, &t->asq, 1, &c, NULL, 0);
	assert_int_equal(t->resp[1].count, 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
	assert_int_equal(t->resp[1].count, 0); /* delivered on the admin reactor */
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, ns_changed);

	/* the same event again: masked until the host reads the changed namespace list */
	start(t, &t->asq, 1, &c, NULL, 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	/* RAE keeps it masked */
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, true), 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_CHANGED_NS, 4096, 0, false), 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, ns_changed);

	/* disabled in the configuration: dropped */
	start(t, &t->asq, 1, &c, NULL, 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);

	/* enabled, then an event with no AER outstanding waits for the next AER */
	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT,
				     NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE, NULL, 0),
			 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	pump(t);
	assert_int_equal(status_of(t, 1), 0); /* the parked one took it */
	assert_int_equal(t->resp[1].cqe.result.dw0, ana);
	assert_int_equal(get_log(t, &t->asq, NVME_LOG_ANA, 4096, 0, false), 0);
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA);
	pump(t);
	start(t, &t->asq, 2, &c, NULL, 0);
	assert_int_equal(status_of(t, 2), 0);
	assert_int_equal(t->resp[2].cqe.result.dw0, ana);

	/* AERL + 1 outstanding at most */
	for (i = 0; i <= NVMF_TGT_AERL; i++) {
		start(t, &t->asq, 3 + i, &c, NULL, 0);
		assert_int_equal(t->resp[3 + i].count, 0);
	}
	start(t, &t->asq, 3 + i, &c, NULL, 0);
	assert_int_equal(status_of(t, 3 + i), DNR(NVME_SC_ASYNC_LIMIT));

	/* teardown gives the parked ones back, aborted */
	nvmf_tgt_sq_quiesce(&t->asq);
	for (i = 0; i <= NVMF_TGT_AERL; i++)
		assert_int_equal(status_of(t, 3 + i), NVME_SC_ABORT_QUEUE);
	/* an AER after that is not parked */
	start(t, &t->asq, 1, &c, NULL, 0);
	assert_int_equal(t->resp[1].count, 1);
	/* an event racing with the teardown holds its reference until delivered */
	nvmf_tgt_ctrl_aen(t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
			  NVME_LOG_CHANGED_NS);
}

struct aen_thread {
	struct nvmf_tgt_ctrl *ctrl;
	uint8_t type, info, lid;
};

static void *aen_thread_fn(void *arg)
{
	struct aen_thread *a = arg;

	nvmf_tgt_ctrl_aen(a->ctrl, a->type, a->info, a->lid);
	return NULL;
}

/* Events raised on four threads at once reach the AERs parked on the running reactor */
static void test_aen_other_threads(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = { .opcode = nvme_admin_async_event };
	struct aen_thread a[4] = {
		{ t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED, NVME_LOG_CHANGED_NS },
		{ t->ctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_ANA, NVME_LOG_ANA },
		{ t->ctrl, NVME_AER_TYPE_SMART, 0x01, NVME_LOG_SMART }, /* temperature */
		{ t->ctrl, NVME_AER_TYPE_ERROR, 0x00, NVME_LOG_ERROR },
	};
	pthread_t th[4];
	bool seen[4] = { false };
	unsigned int i, j;

	assert_int_equal(set_feature(t, &t->asq, NVME_FEAT_ASYNC_EVENT,
				     NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE | 1u << 1, NULL,
				     0),
			 0);
	for (i = 0; i < 4; i++) {
		start(t, &t->asq, 1 + i, &c, NULL, 0);
		assert_int_equal(t->resp[1 + i].count, 0);
	}
	assert_int_equal(nvmf_reactor_start(t->r), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, aen_thread_fn, &a[i]), 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	/* the reactor drains its messages before its thread returns */
	nvmf_reactor_stop(t->r);
	nvmf_reactor_join(t->r);

	for (i = 0; i < 4; i++) {
		uint32_t v;

		assert_int_equal(status_of(t, 1 + i), 0);
		v = t->resp[1 + i].cqe.result.dw0;
		for (j = 0; j < 4; j++) {
			if (v == (uint32_t)(a[j].type | a[j].info << 8 | a[j].lid << 16)) {
				assert_false(seen[j]);
				seen[j] = true;
			}
		}
	}
	for (j = 0; j < 4; j++)
		assert_true(seen[j]);
}

/* -------------------------------------------------------------------------------------- */
/* Discovery */

static void check_entry(const struct nvmf_disc_log_entry *e, uint8_t subtype, uint16_t portid,
			const char *traddr, const char *trsvcid, const char *subnqn)
{
	assert_int_equal(e->trtype, NVMF_TRTYPE_TCP);
	assert_int_equal(e->adrfam, NVMF_ADRFAM_IPV4);
	assert_int_equal(e->subtype, subtype);
	assert_int_equal(e->portid, portid);
	assert_int_equal(e->cntlid, 0xffff);
	assert_int_equal(e->asqsz, 32);
	assert_string_equal(e->traddr, traddr);
	assert_string_equal(e->trsvcid, trsvcid);
	assert_string_equal(e->subnqn, subnqn);
	assert_int_equal(e->tsas.tcp.sectype, NVMF_TCP_SECTYPE_NONE);
}

static void test_discovery_identify_features(void **state)
{
	struct tctx *t = *state;
	struct nvme_id_ctrl id;

	assert_int_equal(identify(t, &t->dsq, NVME_ID_CNS_CTRL, 0, 0), 0);
	memcpy(&id, data0(t), sizeof(id));
	assert_int_equal(id.cntrltype, NVME_CTRL_TYPE_DISC);
	assert_string_equal(id.subnqn, NVME_DISC_SUBSYS_NAME);
	assert_int_equal(id.oaes, NVME_OAES_DISC_CHANGE);
	assert_int_equal(id.lpa, NVME_LPA_EXT_DATA);
	assert_int_equal(id.cntlid, t->dctrl->cntlid);
	assert_int_equal(id.mdts, 5);
	assert_int_equal(id.maxcmd, 128);
	assert_int_equal(id.nn, 0);
	assert_int_not_equal(id.sn[19], 0);
	assert_int_equal(identify(t, &t->dsq, NVME_ID_CNS_NS, 1, 0), DNR(NVME_SC_INVALID_FIELD));

	assert_int_equal(get_feature(t, &t->dsq, NVME_FEAT_KATO, 0, 0, 0), 0);
	assert_int_equal(dw0(t), NVMF_TGT_DISC_KATO_MS);
	assert_int_equal(
		set_feature(t, &t->dsq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_DISC_CHANGE, NULL, 0),
		0);
	assert_int_equal(
		set_feature(t, &t->dsq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_NS_ATTR, NULL, 0),
		DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(set_feature(t, &t->dsq, NVME_FEAT_NUM_QUEUES, 0, NULL, 0),
			 DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_SMART, 512, 0, false),
			 DNR(NVME_SC_INVALID_LOG_PAGE));
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_SUPPORTED, 1024, 0, false), 0);
	{
		uint32_t lsupp[256];

		memcpy(lsupp, data0(t), sizeof(lsupp));
		assert_int_equal(lsupp[NVME_LOG_DISC], 1);
		assert_int_equal(lsupp[NVME_LOG_SMART], 0);
	}
}

static void test_discovery_log(void **state)
{
	struct tctx *t = *state;
	const size_t esz = sizeof(struct nvmf_disc_log_entry);
	struct nvmf_disc_rsp_page_hdr hdr;
	const struct nvmf_disc_log_entry *e;
	uint8_t *other;
	size_t total;

	/* the Linux host: the header first, then everything */
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_DISC, sizeof(hdr), 0, false), 0);
	memcpy(&hdr, data0(t), sizeof(hdr));
	assert_int_equal(hdr.genctr, atomic_load(&t->tgt->disc_genctr));
	assert_int_equal(hdr.numrec, 4); /* current, A, B, the referral */
	assert_int_equal(hdr.recfmt, 0);

	assert_int_equal(
		get_log(t, &t->dsq, NVME_LOG_DISC, (uint32_t)(sizeof(hdr) + 4 * esz), 0, false), 0);
	e = (const struct nvmf_disc_log_entry *)((uint8_t *)data0(t) + sizeof(hdr));
	check_entry(&e[0], NVME_NQN_CURR, 1, "127.0.0.1", "4420", NVME_DISC_SUBSYS_NAME);
	assert_int_equal(e[0].eflags, NVMF_DISC_EFLAGS_EPCSD);
	check_entry(&e[1], NVME_NQN_NVME, 1, "127.0.0.1", "4420", SUBNQN_A);
	assert_int_equal(e[1].eflags, 0);
	check_entry(&e[2], NVME_NQN_NVME, 1, "127.0.0.1", "4420", SUBNQN_B);
	check_entry(&e[3], NVME_NQN_DISC, 7, "10.0.0.2", "8009", NVME_DISC_SUBSYS_NAME);
	assert_int_equal(e[3].treq, NVMF_TREQ_NOT_REQUIRED);

	/* a window: the third entry alone, and past the end */
	assert_int_equal(
		get_log(t, &t->dsq, NVME_LOG_DISC, (uint32_t)esz, sizeof(hdr) + 2 * esz, false), 0);
	check_entry(data0(t), NVME_NQN_NVME, 1, "127.0.0.1", "4420", SUBNQN_B);
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_DISC, 1024, sizeof(hdr) + 4 * esz, false), 0);
	assert_int_equal(((uint8_t *)data0(t))[0], 0);
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_DISC, 1024, 6, false),
			 DNR(NVME_SC_INVALID_FIELD));

	/* another host: B does not admit it */
	other = calloc(1, 8 * esz);
	assert_non_null(other);
	total = nvmf_tgt_discovery_log(t->port, OTHER_HOSTNQN, NULL, other, 8 * esz);
	assert_int_equal(total, sizeof(hdr) + 3 * esz);
	memcpy(&hdr, other, sizeof(hdr));
	assert_int_equal(hdr.numrec, 3);
	e = (const struct nvmf_disc_log_entry *)(other + sizeof(hdr));
	check_entry(&e[1], NVME_NQN_NVME, 1, "127.0.0.1", "4420", SUBNQN_A);
	check_entry(&e[2], NVME_NQN_DISC, 7, "10.0.0.2", "8009", NVME_DISC_SUBSYS_NAME);
	assert_int_equal(other[sizeof(hdr) + 3 * esz], 0);
	/* a short buffer holds the start; the size is still the whole */
	assert_int_equal(nvmf_tgt_discovery_log(t->port, HOSTNQN, NULL, other, 16),
			 sizeof(hdr) + 4 * esz);
	assert_int_equal(nvmf_tgt_discovery_log(t->port, HOSTNQN, NULL, NULL, 0),
			 sizeof(hdr) + 4 * esz);
	free(other);
}

/* A wildcard listener is reported with our address on the asking connection (as nvmet). */
static void test_discovery_wildcard_traddr(void **state)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create(NULL);
	struct nvmf_tgt_subsys_params sp = { .nqn = SUBNQN_A, .allow_any_host = true };
	struct nvmf_tgt_port_params any = { .portid = 1,
					    .trtype = NVMF_TRTYPE_TCP,
					    .adrfam = NVMF_ADRFAM_IPV4,
					    .traddr = "0.0.0.0",
					    .trsvcid = "4420" };
	struct nvmf_tgt_port_params fixed = { .portid = 2,
					      .trtype = NVMF_TRTYPE_TCP,
					      .adrfam = NVMF_ADRFAM_IPV4,
					      .traddr = "127.0.0.1",
					      .trsvcid = "4421" };
	const size_t esz = sizeof(struct nvmf_disc_log_entry);
	const size_t len = sizeof(struct nvmf_disc_rsp_page_hdr) + 2 * esz;
	struct nvmf_tgt_port *p_any, *p_fixed;
	struct nvmf_tgt_subsys *s;
	const struct nvmf_disc_log_entry *e;
	uint8_t *buf = calloc(1, len);

	(void)state;
	assert_non_null(tgt);
	assert_non_null(buf);
	assert_int_equal(nvmf_tgt_add_subsys(tgt, &sp, &s), 0);
	assert_int_equal(nvmf_tgt_add_port(tgt, &any, &p_any), 0);
	assert_int_equal(nvmf_tgt_add_port(tgt, &fixed, &p_fixed), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(p_any, s), 0);
	assert_int_equal(nvmf_tgt_port_add_subsys(p_fixed, s), 0);
	e = (const struct nvmf_disc_log_entry *)(buf + sizeof(struct nvmf_disc_rsp_page_hdr));

	/* same family: the connection's address replaces 0.0.0.0, in both entries */
	assert_int_equal(nvmf_tgt_discovery_log(p_any, HOSTNQN, "192.0.2.7", buf, len), len);
	assert_string_equal(e[0].traddr, "192.0.2.7");
	assert_string_equal(e[1].traddr, "192.0.2.7");
	assert_string_equal(e[1].subnqn, SUBNQN_A);
	/* another family, or no connection address: left as configured */
	assert_int_equal(nvmf_tgt_discovery_log(p_any, HOSTNQN, "::1", buf, len), len);
	assert_string_equal(e[1].traddr, "0.0.0.0");
	assert_int_equal(nvmf_tgt_discovery_log(p_any, HOSTNQN, NULL, buf, len), len);
	assert_string_equal(e[1].traddr, "0.0.0.0");
	/* a port with a real address is never rewritten */
	assert_int_equal(nvmf_tgt_discovery_log(p_fixed, HOSTNQN, "192.0.2.7", buf, len), len);
	assert_string_equal(e[1].traddr, "127.0.0.1");
	free(buf);
	nvmf_tgt_destroy(tgt);
}

static void test_discovery_aen(void **state)
{
	struct tctx *t = *state;
	struct nvme_sqe c = { .opcode = nvme_admin_async_event };
	struct nvmf_tgt_port_params ref = {
		.portid = 8,
		.trtype = NVMF_TRTYPE_TCP,
		.adrfam = NVMF_ADRFAM_IPV4,
		.traddr = "10.0.0.3",
		.trsvcid = "8009",
	};
	uint64_t genctr = atomic_load(&t->tgt->disc_genctr);
	struct nvmf_disc_rsp_page_hdr hdr;

	assert_int_equal(
		set_feature(t, &t->dsq, NVME_FEAT_ASYNC_EVENT, NVME_AEN_CFG_DISC_CHANGE, NULL, 0),
		0);
	start(t, &t->dsq, 1, &c, NULL, 0);
	assert_int_equal(t->resp[1].count, 0);
	/* what the control path does when the log changes */
	assert_int_equal(nvmf_tgt_port_add_referral(t->port, &ref), 0);
	nvmf_tgt_ctrl_aen(t->dctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
			  NVME_LOG_DISC);
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
	assert_int_equal(t->resp[1].cqe.result.dw0, NVME_AER_TYPE_NOTICE |
							    NVME_AER_NOTICE_DISC_CHANGED << 8 |
							    (uint32_t)NVME_LOG_DISC << 16);

	/* masked until the log is read; the read shows the new GENCTR and entry */
	start(t, &t->dsq, 1, &c, NULL, 0);
	nvmf_tgt_ctrl_aen(t->dctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
			  NVME_LOG_DISC);
	pump(t);
	assert_int_equal(t->resp[1].count, 0);
	assert_int_equal(get_log(t, &t->dsq, NVME_LOG_DISC, sizeof(hdr), 0, false), 0);
	memcpy(&hdr, data0(t), sizeof(hdr));
	assert_true(hdr.genctr > genctr);
	assert_int_equal(hdr.numrec, 5);
	nvmf_tgt_ctrl_aen(t->dctrl, NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_DISC_CHANGED,
			  NVME_LOG_DISC);
	pump(t);
	assert_int_equal(status_of(t, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify_ctrl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_opcodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_supported_and_effects_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smart_and_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fw_slot_and_changed_ns_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ana_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ana_state_aen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ns_anagrpid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_disable_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_port_disable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_queues_kato, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_misc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aen_other_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_identify_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovery_log, setup, teardown),
		cmocka_unit_test(test_discovery_wildcard_traddr),
		cmocka_unit_test_setup_teardown(test_discovery_aen, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
