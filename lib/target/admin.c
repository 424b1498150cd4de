// SPDX-License-Identifier: MIT
/*
 * Admin commands of I/O controllers (NVMe Base 2.0c 5): Identify, Get Log Page, Set/Get
 * Features, Keep Alive, Abort, and the Asynchronous Event Request machinery shared with
 * discovery controllers. Behaviour follows the Linux target (drivers/nvme/target/
 * admin-cmd.c) unless a comment says otherwise.
 *
 * Every handler runs on the admin queue's reactor (ctrl->reactor), so the AER/AEN state of
 * the controller needs no lock; the error log and the changed namespace list are written by
 * other reactors and are read under ctrl->lock.
 */
#include "core.h"
#include "logpage.h"
#include "../common/log.h"

#include <stdlib.h>
#include <string.h>

/* Byte offsets in the SQE of the fields named in the Error Information log */
#define LOC_OPCODE ((uint16_t)offsetof(struct nvme_sqe, opcode))
#define LOC_NSID ((uint16_t)offsetof(struct nvme_sqe, nsid))
#define LOC_SGL_LEN ((uint16_t)(offsetof(struct nvme_sqe, dptr) + 8))
#define LOC_CDW10 ((uint16_t)offsetof(struct nvme_sqe, cdw10))
#define LOC_CDW11 ((uint16_t)offsetof(struct nvme_sqe, cdw11))
#define LOC_CDW12 ((uint16_t)offsetof(struct nvme_sqe, cdw12))
#define LOC_CDW14 ((uint16_t)offsetof(struct nvme_sqe, cdw14))
#define LOC_CSI_IDENTIFY ((uint16_t)(offsetof(struct nvme_sqe, cdw11) + 3))
#define LOC_CSI_LOG ((uint16_t)(offsetof(struct nvme_sqe, cdw14) + 3))

/* CTRATT bit 6: traffic based keep alive (the core counts every command as activity) */
#define CTRATT_TBKAS (1u << 6)
/* KAS: keep-alive granularity in 100 ms units; our timer has millisecond resolution */
#define ID_KAS 1
#define KATO_GRANULARITY_MS 100
/* Composite temperature we report, and the thresholds (Kelvin) */
#define TEMP_COMPOSITE_K 323
#define TEMP_WCTEMP_K 343
#define TEMP_CCTEMP_K 358
/* Identify Namespace (CNS 08h) NSTAT bit 0: namespace ready */
#define ID_NSTAT_NRDY (1u << 0)
/* Supported Log Pages log (LID 00h): LSUPP bit of a LID's dword */
#define LOG_LSUPP (1u << 0)
/* Get Log Page cdw14 bit 23: OT, the offset is an index (LPA bit 6 OTS is not advertised) */
#define LOG_OT (1u << 23)
/* Get Features Supported Capabilities (SEL 011b) result bits */
#define FEAT_CAP_CHANGEABLE (1u << 2)
/* Identify Get Features Host Identifier cdw11 bit 0: EXHID, 128-bit host identifier */
#define FEAT_HOSTID_EXHID (1u << 0)
/* Asynchronous Event Configuration bits 7:0: SMART / health critical warnings */
#define AEN_CFG_SMART_MASK 0xffu
#define AEN_CFG_IO_MASK (AEN_CFG_SMART_MASK | NVME_AEN_CFG_NS_ATTR | NVME_AEN_CFG_ANA_CHANGE)
#define ID_CTRL_OAES (NVME_OAES_NS_ATTR | NVME_OAES_ANA_CHANGE)
#define HOST_BEHAVIOR_LEN 512
#define HOST_ID_LEN 16
#define SUPPORTED_LOG_LEN 1024
/* Identify Controller SGLS bit 16: SGL Bit Bucket descriptors supported */
#define ID_SGLS_BIT_BUCKET (1u << 16)

static_assert((NVMF_TGT_ERR_LOG_ENTRIES & (NVMF_TGT_ERR_LOG_ENTRIES - 1)) == 0,
	      "error log ring indexing needs a power of two");
static_assert(sizeof(((struct nvmf_tgt_ctrl *)0)->host_behavior) == HOST_BEHAVIOR_LEN,
	      "host behavior feature size");

/*
 * Commands Supported and Effects (NVMe Base 2.0c 5.16.1.6), indexed by opcode. These tables
 * are the one source of truth: the parse functions accept exactly the opcodes marked CSUPP
 * and the Commands Supported and Effects log reports them.
 */
static const uint32_t admin_effects[256] = {
	[nvme_admin_get_log_page] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_identify] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_abort_cmd] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_set_features] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_get_features] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_async_event] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_admin_keep_alive] = NVME_CMD_EFFECTS_CSUPP,
};

static const uint32_t io_effects[256] = {
	[nvme_cmd_flush] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_cmd_write] = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC,
	[nvme_cmd_read] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_cmd_compare] = NVME_CMD_EFFECTS_CSUPP,
	[nvme_cmd_write_zeroes] = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC,
	[nvme_cmd_dsm] = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC,
};

/**
 * nvmf_tgt_admin_effects() - Commands Supported and Effects entry of an admin opcode
 * @opcode: admin command opcode
 *
 * NVMe Base 2.0c 5.16.1.6, Figure 210/211. An entry without NVME_CMD_EFFECTS_CSUPP means
 * the command is not supported.
 * Return: the entry (CSUPP, LBCC, NCC, NIC, CCC, CSE bits).
 */
uint32_t nvmf_tgt_admin_effects(uint8_t opcode)
{
	return admin_effects[opcode];
}

/**
 * nvmf_tgt_io_effects() - Commands Supported and Effects entry of an NVM I/O opcode
 * @opcode: I/O command opcode (NVM Command Set 1.0c Figure 17)
 *
 * NVMe Base 2.0c 5.16.1.6. io.c accepts exactly the opcodes that have
 * NVME_CMD_EFFECTS_CSUPP here.
 * Return: the entry (CSUPP, LBCC, NCC, NIC, CCC, CSE bits).
 */
uint32_t nvmf_tgt_io_effects(uint8_t opcode)
{
	return io_effects[opcode];
}

/* -------------------------------------------------------------------------------------- */
/* Helpers */

static bool is_disc_ctrl(const struct nvmf_tgt_ctrl *ctrl)
{
	return ctrl->subsys->subtype == NVME_NQN_CURR;
}

static void set_dw0(struct nvmf_tgt_req *req, uint32_t dw0)
{
	req->cqe.result.dw0 = dw0;
	req->cqe.result.dw1 = 0;
}

static uint16_t fail(struct nvmf_tgt_req *req, uint16_t loc, uint16_t status)
{
	req->error_loc = loc;
	return status;
}

/*
 * The SGL must describe exactly @len bytes (nvmf_tgt_check_transfer_len() completes the
 * request otherwise), and the slot's buffer must hold them.
 */
static bool check_data_len(struct nvmf_tgt_req *req, uint32_t len)
{
	if (!nvmf_tgt_check_transfer_len(req, len))
		return false;
	if (len > req->buf_len) {
		req->error_loc = LOC_SGL_LEN;
		nvmf_tgt_req_complete(req, NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR);
		return false;
	}
	return true;
}

/* Finish a command that returns @len bytes of req->buf (on success) */
static void complete_data(struct nvmf_tgt_req *req, uint32_t len, uint16_t status)
{
	req->transfer_len = status ? 0 : len;
	nvmf_tgt_req_complete(req, status);
}

static void put_le128(uint8_t dst[16], uint64_t v)
{
	memset(dst, 0, 16);
	memcpy(dst, &v, sizeof(v));
}

static uint64_t div_round_up(uint64_t n, uint64_t d)
{
	return n / d + (n % d != 0);
}

/*
 * NN: the highest NSID the subsystem can hold (NSIDs 1..NN are valid, some inactive). Like
 * nvmet's NVMET_MAX_NAMESPACES, at least 1024, so that namespaces added at run time under
 * NN do not change Identify Controller.
 */
static uint32_t subsys_nn(const struct nvmf_tgt_subsys *subsys)
{
	uint32_t max = nvmf_tgt_ns_table(subsys)->max_nsid;

	return max > NVMF_TGT_MIN_NN ? max : NVMF_TGT_MIN_NN;
}

static struct nvmf_tgt_ns *next_active_ns(const struct nvmf_tgt_subsys *subsys, uint32_t after)
{
	uint32_t max = nvmf_tgt_ns_table(subsys)->max_nsid;
	uint32_t nsid;

	for (nsid = after + 1; nsid != 0 && nsid <= max; nsid++) {
		struct nvmf_tgt_ns *ns = nvmf_tgt_find_ns(subsys, nsid);

		if (ns)
			return ns;
	}
	return NULL;
}

static uint16_t max_io_queues(const struct nvmf_tgt_ctrl *ctrl)
{
	uint16_t n =
		ctrl->max_io_queues ? ctrl->max_io_queues : ctrl->subsys->tgt->opts.max_io_queues;

	if (!n || n > NVMF_TGT_MAX_IO_QUEUES)
		n = NVMF_TGT_MAX_IO_QUEUES;
	return n;
}

/* ANA state of group @grpid as seen through @port; 0 (never set) means optimized */
static uint8_t ana_state(const struct nvmf_tgt_port *port, uint32_t grpid)
{
	uint8_t state;

	if (!port || grpid == 0 || grpid > NVMF_TGT_MAX_ANA_GROUPS)
		return NVME_ANA_OPTIMIZED;
	state = atomic_load_explicit(&((struct nvmf_tgt_port *)port)->ana_state[grpid],
				     memory_order_relaxed);
	return state ? state : NVME_ANA_OPTIMIZED;
}

/* Over temperature threshold of the composite temperature, Kelvin (ctrl.c sets WCTEMP) */
static uint16_t temp_thresh(const struct nvmf_tgt_ctrl *ctrl)
{
	return (uint16_t)ctrl->features_temp_thresh;
}

/* -------------------------------------------------------------------------------------- */
/* Identify (NVMe Base 2.0c 5.17) */

static void identify_ctrl(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	struct nvmf_tgt_subsys *subsys = ctrl->subsys;
	const struct nvmf_tgt_opts *opts = &subsys->tgt->opts;
	struct nvme_id_ctrl *id = req->buf;
	uint32_t nn = subsys_nn(subsys);

	id->vid = 0;
	id->ssvid = 0;
	nvmf_copy_padded(id->sn, sizeof(id->sn), subsys->serial);
	nvmf_copy_padded(id->mn, sizeof(id->mn), subsys->model);
	nvmf_copy_padded(id->fr, sizeof(id->fr), subsys->firmware);
	id->rab = 6;
	/* no IEEE OUI assigned: leave zero, as nvmet does by default */
	id->cmic = NVME_CTRL_CMIC_MULTI_PORT | NVME_CTRL_CMIC_MULTI_CTRL | NVME_CTRL_CMIC_ANA;
	id->mdts = opts->mdts_bytes >= 4096 ? nvmf_ilog2_u32(opts->mdts_bytes / 4096) : 0;
	id->cntlid = ctrl->cntlid;
	id->ver = subsys->version;
	id->oaes = ID_CTRL_OAES;
	id->ctratt = NVME_CTRATT_HOST_ID_128 | CTRATT_TBKAS;
	id->cntrltype = NVME_CTRL_TYPE_IO;
	id->oacs = 0;
	/* Abort never aborts anything, so the spec's minimum of 4 is plenty */
	id->acl = 3;
	id->aerl = NVMF_TGT_AERL;
	/* one firmware slot, read-only */
	id->frmw = (1u << 1) | (1u << 0);
	id->lpa = NVME_LPA_CMD_EFFECTS | NVME_LPA_EXT_DATA;
	id->elpe = NVMF_TGT_ERR_LOG_ENTRIES - 1;
	id->npss = 0;
	id->wctemp = TEMP_WCTEMP_K;
	id->cctemp = TEMP_CCTEMP_K;
	id->kas = ID_KAS;
	id->anatt = 10;
	id->anacap = NVME_ANACAP_OPTIMIZED | NVME_ANACAP_NON_OPTIMIZED | NVME_ANACAP_INACCESSIBLE |
		     NVME_ANACAP_PERSISTENT_LOSS | NVME_ANACAP_CHANGE;
	id->anagrpmax = NVMF_TGT_MAX_ANA_GROUPS;
	id->nanagrpid = NVMF_TGT_MAX_ANA_GROUPS;
	id->sqes = (6u << 4) | 6u;
	id->cqes = (4u << 4) | 4u;
	id->maxcmd = ctrl->io_queue_depth ? ctrl->io_queue_depth : opts->io_queue_depth;
	id->nn = nn;
	id->mnan = nn;
	id->oncs = NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES;
	id->fuses = 0;
	id->vwc = NVME_VWC_PRESENT | NVME_VWC_NSID_ALL_FLUSH;
	id->awun = 0;
	id->awupf = 0;
	/* SGLs; offsets in in-capsule data (the admin queue always takes in-capsule data) */
	id->sgls = NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET;
	memcpy(id->subnqn, subsys->nqn, strnlen(subsys->nqn, sizeof(id->subnqn) - 1));
	id->ioccsz = (uint32_t)(sizeof(struct nvme_sqe) + opts->inline_data_size) / 16;
	id->iorcsz = sizeof(struct nvme_cqe) / 16;
	id->icdoff = 0;
	id->fcatt = 0; /* dynamic controller model */
	id->msdbd = 1;
	if (req->sq->pcie) {
		/*
		 * A PCIe function: no fabrics fields (NVMe Base 2.0c 5.17.2.1, reserved for
		 * NVMe over PCIe); SGLs in host memory (Data Block, Segment, Last Segment, Bit
		 * Bucket) without alignment rules; keep-alive as the port says.
		 */
		id->sgls = NVME_SGLS_SUPPORTED | ID_SGLS_BIT_BUCKET;
		id->ioccsz = 0;
		id->iorcsz = 0;
		id->msdbd = 0;
		id->kas = ctrl->kas;
	}
	/* no real power states: the same made-up PS0 as nvmet and QEMU */
	id->psd[0].max_power = 0x9c4;
	id->psd[0].entry_lat = 0x10;
	id->psd[0].exit_lat = 0x4;
}

/*
 * NSID of a command that names one namespace: 0 and anything above NN are invalid;
 * @ns is NULL for a valid but inactive NSID.
 */
static uint16_t lookup_nsid(struct nvmf_tgt_req *req, struct nvmf_tgt_ns **ns)
{
	struct nvmf_tgt_subsys *subsys = req->sq->ctrl->subsys;
	uint32_t nsid = req->cmd.nsid;

	*ns = NULL;
	if (nsid == 0 || nsid > subsys_nn(subsys))
		return fail(req, LOC_NSID, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
	*ns = nvmf_tgt_find_ns(subsys, nsid);
	return NVME_SC_SUCCESS;
}

static uint16_t identify_ns(struct nvmf_tgt_req *req)
{
	struct nvme_id_ns *id = req->buf;
	struct nvmf_tgt_ns *ns;
	uint16_t status;
	uint8_t state;

	/* FFFFFFFFh asks for capabilities common to all namespaces: needs NS Management */
	status = lookup_nsid(req, &ns);
	if (status || !ns)
		return status; /* an inactive NSID reads as zeroes */

	id->nsze = nvmf_tgt_ns_nsze(ns);
	id->ncap = id->nsze;
	state = ana_state(req->sq->ctrl->port, ns->anagrpid);
	if (state != NVME_ANA_INACCESSIBLE && state != NVME_ANA_PERSISTENT_LOSS)
		id->nuse = id->nsze;
	id->nsfeat = NVME_NS_FEAT_THIN;
	id->nlbaf = 0; /* one LBA format: the backend's */
	id->flbas = 0;
	id->nmic = NVME_NS_NMIC_SHARED;
	id->dlfeat = NVME_NS_DLFEAT_READ_ZEROES | NVME_NS_DLFEAT_WZ_DEAC;
	id->noiob = 0;
	put_le128(id->nvmcap, ns->size_bytes);
	id->anagrpid = ns->anagrpid;
	memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	if (ns->has_eui64)
		memcpy(id->eui64, ns->eui64, sizeof(id->eui64));
	id->lbaf[0].ms = 0;
	id->lbaf[0].ds = ns->blksz_shift;
	id->lbaf[0].rp = 0;
	return NVME_SC_SUCCESS;
}

static uint16_t identify_ns_list(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_subsys *subsys = req->sq->ctrl->subsys;
	uint32_t *list = req->buf;
	uint32_t min_nsid = req->cmd.nsid;
	struct nvmf_tgt_ns *ns;
	unsigned int i = 0;

	/* NVMe Base 2.0c 5.17, CNS 02h: FFFFFFFEh and FFFFFFFFh are invalid NSIDs here */
	if (min_nsid >= 0xfffffffeu)
		return fail(req, LOC_NSID, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
	for (ns = next_active_ns(subsys, min_nsid);
	     ns && i < NVME_IDENTIFY_DATA_SIZE / sizeof(uint32_t);
	     ns = next_active_ns(subsys, ns->nsid))
		list[i++] = ns->nsid;
	return NVME_SC_SUCCESS;
}

static void put_ns_desc(uint8_t *buf, size_t *off, uint8_t nidt, uint8_t nidl, const void *id)
{
	struct nvme_ns_id_desc desc = { .nidt = nidt, .nidl = nidl };

	memcpy(buf + *off, &desc, sizeof(desc));
	*off += sizeof(desc);
	memcpy(buf + *off, id, nidl);
	*off += nidl;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static uint16_t identify_ns_desc_list(struct nvmf_tgt_req *req)
{
	uint8_t csi = NVME_CSI_NVM;
	struct nvmf_tgt_ns *ns;
	size_t off = 0;
	uint16_t status;

	status = lookup_nsid(req, &ns);
	if (status)
		return status;
	if (!ns) /* as nvmet: only active namespaces have identifiers */
		return fail(req, LOC_NSID, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
	if (ns->has_eui64)
		put_ns_desc(req->buf, &off, NVME_NIDT_EUI64, NVME_NIDT_EUI64_LEN, ns->eui64);
	if (!all_zero(ns->nguid, sizeof(ns->nguid)))
		put_ns_desc(req->buf, &off, NVME_NIDT_NGUID, NVME_NIDT_NGUID_LEN, ns->nguid);
	if (!all_zero(ns->uuid, sizeof(ns->uuid)))
		put_ns_desc(req->buf, &off, NVME_NIDT_UUID, NVME_NIDT_UUID_LEN, ns->uuid);
	put_ns_desc(req->buf, &off, NVME_NIDT_CSI, NVME_NIDT_CSI_LEN, &csi);
	return NVME_SC_SUCCESS;
}

static uint16_t identify_ns_cs_indep(struct nvmf_tgt_req *req)
{
	struct nvme_id_ns_cs_indep *id = req->buf;
	struct nvmf_tgt_ns *ns;
	uint16_t status;

	status = lookup_nsid(req, &ns);
	if (status || !ns)
		return status;
	id->nsfeat = NVME_NS_FEAT_THIN;
	id->nmic = NVME_NS_NMIC_SHARED;
	id->anagrpid = ns->anagrpid;
	id->nstat = ID_NSTAT_NRDY;
	return NVME_SC_SUCCESS;
}

static void execute_identify(struct nvmf_tgt_req *req)
{
	uint8_t cns = req->cmd.cdw10 & 0xff;
	uint8_t csi = req->cmd.cdw11 >> 24;
	struct nvmf_tgt_ns *ns;
	uint16_t status = NVME_SC_SUCCESS;

	if (!check_data_len(req, NVME_IDENTIFY_DATA_SIZE))
		return;
	memset(req->buf, 0, NVME_IDENTIFY_DATA_SIZE);

	switch (cns) {
	case NVME_ID_CNS_NS:
		status = identify_ns(req);
		break;
	case NVME_ID_CNS_CTRL:
		identify_ctrl(req);
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST:
		status = identify_ns_list(req);
		break;
	case NVME_ID_CNS_NS_DESC_LIST:
		status = identify_ns_desc_list(req);
		break;
	case NVME_ID_CNS_CS_NS:
		/* NVM Command Set Identify Namespace: nothing beyond the defaults (all zero) */
		if (csi != NVME_CSI_NVM)
			status = fail(req, LOC_CSI_IDENTIFY,
				      NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		else
			status = lookup_nsid(req, &ns);
		break;
	case NVME_ID_CNS_CS_CTRL:
		/* NVM Command Set Identify Controller: no VSL/WZSL/WUSL/DMRL limits (all zero) */
		if (csi != NVME_CSI_NVM)
			status = fail(req, LOC_CSI_IDENTIFY,
				      NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST_CS:
		/* every namespace here uses the NVM Command Set */
		if (csi != NVME_CSI_NVM)
			status = fail(req, LOC_CSI_IDENTIFY,
				      NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		else
			status = identify_ns_list(req);
		break;
	case NVME_ID_CNS_NS_CS_INDEP:
		status = identify_ns_cs_indep(req);
		break;
	case NVME_ID_CNS_CTRL_IOCS:
		/* one I/O Command Set combination (index 0): NVM only */
		*(uint64_t *)req->buf = 1ull << NVME_CSI_NVM;
		break;
	default:
		status = fail(req, LOC_CDW10, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		break;
	}
	complete_data(req, NVME_IDENTIFY_DATA_SIZE, status);
}

/* -------------------------------------------------------------------------------------- */
/* Get Log Page (NVMe Base 2.0c 5.16) */

static void log_supported(struct log_win *w)
{
	static const uint8_t lids[] = {
		NVME_LOG_SUPPORTED,  NVME_LOG_ERROR,	   NVME_LOG_SMART, NVME_LOG_FW_SLOT,
		NVME_LOG_CHANGED_NS, NVME_LOG_CMD_EFFECTS, NVME_LOG_ANA,
	};
	uint32_t lsupp[SUPPORTED_LOG_LEN / sizeof(uint32_t)] = { 0 };
	size_t i;

	for (i = 0; i < sizeof(lids); i++)
		lsupp[lids[i]] = LOG_LSUPP;
	log_put(w, lsupp, sizeof(lsupp));
}

static void log_error(struct nvmf_tgt_ctrl *ctrl, struct log_win *w)
{
	unsigned int i;

	pthread_mutex_lock(&ctrl->lock);
	/* newest first; never-used slots are zero (error_count 0: invalid entry) */
	for (i = 0; i < NVMF_TGT_ERR_LOG_ENTRIES; i++) {
		unsigned int slot = (ctrl->err_log_next - 1u - i) % NVMF_TGT_ERR_LOG_ENTRIES;

		log_put(w, &ctrl->err_log[slot], sizeof(ctrl->err_log[slot]));
	}
	pthread_mutex_unlock(&ctrl->lock);
}

static uint16_t log_smart(struct nvmf_tgt_req *req, struct log_win *w)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	struct nvmf_tgt_subsys *subsys = ctrl->subsys;
	uint64_t read_bytes, write_bytes, read_cmds, write_cmds;
	struct nvme_smart_log log;
	uint64_t now = nvmf_now_ns();

	/*
	 * LPA bit 0 is clear: the log exists per controller only, so the NSID must be 0 or
	 * FFFFFFFFh (NVMe Base 2.0c 5.16.1.3). The Linux host and nvme-cli use FFFFFFFFh.
	 */
	if (req->cmd.nsid != 0 && req->cmd.nsid != NVME_NSID_ALL)
		return fail(req, LOC_NSID, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);

	memset(&log, 0, sizeof(log));
	nvmf_tgt_subsys_stats(subsys, &read_bytes, &write_bytes, &read_cmds, &write_cmds);
	log.temperature = TEMP_COMPOSITE_K;
	if (TEMP_COMPOSITE_K >= temp_thresh(ctrl))
		log.critical_warning |= 1u << 1; /* temperature at or above the threshold */
	log.avail_spare = 100;
	log.spare_thresh = 10;
	log.percent_used = 0;
	/* data units: thousands of 512-byte units, rounded up */
	put_le128(log.data_units_read, div_round_up(div_round_up(read_bytes, 512), 1000));
	put_le128(log.data_units_written, div_round_up(div_round_up(write_bytes, 512), 1000));
	put_le128(log.host_reads, read_cmds);
	put_le128(log.host_writes, write_cmds);
	put_le128(log.power_cycles, 1);
	put_le128(log.power_on_hours,
		  now > subsys->power_on_ns ? (now - subsys->power_on_ns) / 3600000000000ull : 0);
	put_le128(log.num_err_log_entries,
		  atomic_load_explicit(&subsys->err_count, memory_order_relaxed));
	log_put(w, &log, sizeof(log));
	return NVME_SC_SUCCESS;
}

static void log_fw_slot(struct nvmf_tgt_ctrl *ctrl, struct log_win *w)
{
	struct nvme_fw_slot_log log;

	memset(&log, 0, sizeof(log));
	/* slot 1 is active; the Linux host compares its FRS with Identify FR */
	log.afi = 1;
	nvmf_copy_padded(log.frs[0], sizeof(log.frs[0]), ctrl->subsys->firmware);
	log_put(w, &log, sizeof(log));
}

static void log_changed_ns(struct nvmf_tgt_ctrl *ctrl, struct log_win *w, bool rae)
{
	static const uint32_t overflow = 0xffffffffu;
	unsigned int n;

	pthread_mutex_lock(&ctrl->lock);
	n = ctrl->nr_changed_ns;
	/* more changes than the list holds: a single FFFFFFFFh entry (NVMe Base 2.0c 5.16.1.5) */
	if (n > NVME_MAX_CHANGED_NAMESPACES) {
		log_put(w, &overflow, sizeof(overflow));
		n = 1;
	} else {
		log_put(w, ctrl->changed_ns, n * sizeof(uint32_t));
	}
	log_skip(w, (NVME_MAX_CHANGED_NAMESPACES - n) * sizeof(uint32_t));
	if (!rae)
		ctrl->nr_changed_ns = 0;
	pthread_mutex_unlock(&ctrl->lock);
}

static uint16_t log_effects(struct nvmf_tgt_req *req, struct log_win *w)
{
	uint8_t csi = req->cmd.cdw14 >> 24;

	/* every namespace uses the NVM Command Set; the Linux host only asks for that */
	if (csi != NVME_CSI_NVM)
		return fail(req, LOC_CSI_LOG, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	if (req->sq->pcie) {
		uint32_t pcie_admin[256];

		memcpy(pcie_admin, admin_effects, sizeof(pcie_admin));
		pcie_admin[nvme_admin_delete_sq] = NVME_CMD_EFFECTS_CSUPP;
		pcie_admin[nvme_admin_create_sq] = NVME_CMD_EFFECTS_CSUPP;
		pcie_admin[nvme_admin_delete_cq] = NVME_CMD_EFFECTS_CSUPP;
		pcie_admin[nvme_admin_create_cq] = NVME_CMD_EFFECTS_CSUPP;
		if (!req->sq->ctrl->kas)
			pcie_admin[nvme_admin_keep_alive] = 0;
		log_put(w, pcie_admin, sizeof(pcie_admin));
	} else {
		log_put(w, admin_effects, sizeof(admin_effects));
	}
	log_put(w, io_effects, sizeof(io_effects));
	log_skip(w, sizeof(struct nvme_effects_log) - sizeof(admin_effects) - sizeof(io_effects));
	return NVME_SC_SUCCESS;
}

/*
 * ANA log (NVMe Base 2.0c 5.16.1.12): the change count of the controller's port, then one
 * descriptor per ANA group that holds active namespaces of this subsystem, in group order,
 * each with its NSIDs in ascending order (none with RGO, LSP bit 0). Groups without such
 * namespaces are left out, as the spec words it (nvmet also lists every group configured
 * on any port or used anywhere, with no NSIDs).
 */
static void log_ana(struct nvmf_tgt_ctrl *ctrl, struct log_win *w, uint8_t lsp)
{
	/*
	 * One table for the whole page, so that the counts match the NSIDs listed: its
	 * namespaces never change in place (reconfig.c describes a moved one anew).
	 */
	const struct nvmf_tgt_ns_table *t = nvmf_tgt_ns_table(ctrl->subsys);
	uint32_t nr_ns[NVMF_TGT_MAX_ANA_GROUPS + 1] = { 0 };
	uint64_t chgcnt = atomic_load_explicit(&ctrl->port->ana_chgcnt, memory_order_acquire);
	bool rgo = lsp & NVME_ANA_LOG_RGO;
	struct nvme_ana_rsp_hdr hdr;
	uint32_t grpid, i;

	memset(&hdr, 0, sizeof(hdr));
	for (i = 0; i < t->max_nsid; i++) {
		const struct nvmf_tgt_ns *ns = t->ns[i];

		if (ns && ns->enabled && ns->anagrpid >= 1 &&
		    ns->anagrpid <= NVMF_TGT_MAX_ANA_GROUPS && nr_ns[ns->anagrpid]++ == 0)
			hdr.ngrps++;
	}
	hdr.chgcnt = chgcnt;
	log_put(w, &hdr, sizeof(hdr));

	for (grpid = 1; grpid <= NVMF_TGT_MAX_ANA_GROUPS; grpid++) {
		struct nvme_ana_group_desc desc;

		if (!nr_ns[grpid])
			continue;
		memset(&desc, 0, sizeof(desc));
		desc.grpid = grpid;
		desc.nnsids = rgo ? 0 : nr_ns[grpid];
		desc.chgcnt = chgcnt;
		desc.state = ana_state(ctrl->port, grpid);
		log_put(w, &desc, sizeof(desc));
		for (i = 0; !rgo && i < t->max_nsid; i++) {
			const struct nvmf_tgt_ns *ns = t->ns[i];

			if (ns && ns->enabled && ns->anagrpid == grpid)
				log_put(w, &ns->nsid, sizeof(ns->nsid));
		}
	}
}

static void execute_get_log_page(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t cdw10 = req->cmd.cdw10;
	uint8_t lid = cdw10 & 0xff;
	uint8_t lsp = (cdw10 >> 8) & 0x7f;
	bool rae = cdw10 & NVME_LOG_RAE;
	/* NUMD, 0's based dwords: NUMDU (cdw11 15:0) : NUMDL (cdw10 31:16) */
	uint64_t numd = (((uint64_t)(req->cmd.cdw11 & 0xffff) << 16) | (cdw10 >> 16)) + 1;
	uint64_t lpo = ((uint64_t)req->cmd.cdw13 << 32) | req->cmd.cdw12;
	uint16_t status = NVME_SC_SUCCESS;
	struct log_win w;
	uint32_t len;

	if (numd * 4 > UINT32_MAX) {
		/* no SGL can describe that much: the lengths cannot match */
		req->error_loc = LOC_SGL_LEN;
		nvmf_tgt_req_complete(req, NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR);
		return;
	}
	len = (uint32_t)(numd * 4);
	if (!check_data_len(req, len))
		return;
	if (lpo & 3) { /* the offset must be dword aligned */
		complete_data(req, 0,
			      fail(req, LOC_CDW12, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR));
		return;
	}
	if (req->cmd.cdw14 & LOG_OT) { /* index offsets are not supported */
		complete_data(req, 0,
			      fail(req, LOC_CDW14, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR));
		return;
	}

	log_win_init(&w, req->buf, lpo, len);
	switch (lid) {
	case NVME_LOG_SUPPORTED:
		log_supported(&w);
		break;
	case NVME_LOG_ERROR:
		log_error(ctrl, &w);
		break;
	case NVME_LOG_SMART:
		status = log_smart(req, &w);
		break;
	case NVME_LOG_FW_SLOT:
		log_fw_slot(ctrl, &w);
		break;
	case NVME_LOG_CHANGED_NS:
		log_changed_ns(ctrl, &w, rae);
		break;
	case NVME_LOG_CMD_EFFECTS:
		status = log_effects(req, &w);
		break;
	case NVME_LOG_ANA:
		log_ana(ctrl, &w, lsp);
		break;
	default:
		/*
		 * nvmet answers Invalid Field in Command; the spec's status for an unsupported
		 * LID is Invalid Log Page. The Linux host treats every positive status of a Get
		 * Log Page alike (the log is unavailable, nothing retried with DNR set), so the
		 * spec's status costs nothing and tells nvme-cli users the exact reason.
		 */
		status = fail(req, LOC_CDW10, NVME_SC_INVALID_LOG_PAGE | NVME_STATUS_DNR);
		break;
	}
	if (!status && !rae)
		nvmf_tgt_ctrl_aen_clear(ctrl, lid);
	complete_data(req, len, status);
}

/* -------------------------------------------------------------------------------------- */
/* Set / Get Features (NVMe Base 2.0c 5.27) */

static bool feature_supported(const struct nvmf_tgt_ctrl *ctrl, uint8_t fid)
{
	switch (fid) {
	case NVME_FEAT_KATO:
		/* fabrics: always; a PCIe controller: as its port says */
		return !ctrl->pcie || ctrl->accept_kato;
	case NVME_FEAT_ASYNC_EVENT:
		return true;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_TEMP_THRESH:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_VOLATILE_WC:
	case NVME_FEAT_NUM_QUEUES:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_IRQ_CONFIG:
	case NVME_FEAT_WRITE_ATOMIC:
	case NVME_FEAT_HOST_BEHAVIOR:
	case NVME_FEAT_HOST_ID:
		/* a discovery controller has only KATO and AEC, as with Linux nvmet */
		return !is_disc_ctrl(ctrl);
	default:
		/* e.g. Timestamp: not supported */
		return false;
	}
}

static uint32_t aen_cfg_mask(const struct nvmf_tgt_ctrl *ctrl)
{
	return is_disc_ctrl(ctrl) ? NVME_AEN_CFG_DISC_CHANGE : AEN_CFG_IO_MASK;
}

static uint32_t num_queues_dw0(uint16_t n)
{
	return (uint32_t)(n - 1) | ((uint32_t)(n - 1) << 16);
}

/* Features whose value never changes: arbitration, power state 0, interrupts... */
static bool feature_fixed(uint8_t fid, uint32_t cdw11, uint32_t *val)
{
	switch (fid) {
	case NVME_FEAT_ARBITRATION:  /* arbitration burst 1, no weights (round robin) */
	case NVME_FEAT_POWER_MGMT:   /* power state 0, no workload hint */
	case NVME_FEAT_ERR_RECOVERY: /* no time limit, no deallocated block error */
	case NVME_FEAT_IRQ_COALESCE: /* no interrupts on fabrics: no coalescing */
	case NVME_FEAT_WRITE_ATOMIC: /* AWUN/AWUPF are 0: normal atomicity is one LBA */
		*val = 0;
		return true;
	case NVME_FEAT_IRQ_CONFIG: /* the vector asked about, coalescing disabled */
		*val = cdw11 & 0xffff;
		return true;
	default:
		return false;
	}
}

static uint16_t set_num_queues(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t nsqr = req->cmd.cdw11 & 0xffff;
	uint32_t ncqr = req->cmd.cdw11 >> 16;
	uint32_t n;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return fail(req, LOC_CDW11, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	/* fabrics queues are SQ/CQ pairs: grant the larger request, within the limits */
	n = (nsqr > ncqr ? nsqr : ncqr) + 1;
	if (n > max_io_queues(ctrl))
		n = max_io_queues(ctrl);
	/* under the lock: I/O queue Connects on other reactors read it */
	pthread_mutex_lock(&ctrl->lock);
	ctrl->nr_io_queues = (uint16_t)n;
	pthread_mutex_unlock(&ctrl->lock);
	set_dw0(req, num_queues_dw0((uint16_t)n));
	return NVME_SC_SUCCESS;
}

static uint16_t set_temp_thresh(struct nvmf_tgt_req *req)
{
	uint32_t cdw11 = req->cmd.cdw11;
	uint32_t tmpsel = (cdw11 >> 16) & 0xf;
	uint32_t thsel = (cdw11 >> 20) & 0x3;

	/* only the composite temperature's over threshold (TMPSEL Fh: all sensors = it) */
	if ((tmpsel != 0 && tmpsel != 0xf) || thsel != 0)
		return fail(req, LOC_CDW11, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	req->sq->ctrl->features_temp_thresh = cdw11 & 0xffff;
	return NVME_SC_SUCCESS;
}

static uint16_t set_kato(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint64_t ms = req->cmd.cdw11;

	/* round up to the KAS granularity, as the spec asks (NVMe Base 2.0c 5.27.1.12) */
	ms = div_round_up(ms, KATO_GRANULARITY_MS) * KATO_GRANULARITY_MS;
	if (ms > UINT32_MAX)
		ms = UINT32_MAX / KATO_GRANULARITY_MS * KATO_GRANULARITY_MS;
	ctrl->kato_ms = (uint32_t)ms;
	nvmf_tgt_ctrl_ka_start(ctrl);
	return NVME_SC_SUCCESS;
}

static uint16_t set_async_event(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t val = req->cmd.cdw11;

	if (val & ~aen_cfg_mask(ctrl))
		return fail(req, LOC_CDW11, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	atomic_store_explicit(&ctrl->aen_enabled, val, memory_order_relaxed);
	return NVME_SC_SUCCESS;
}

static void execute_set_features(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t cdw10 = req->cmd.cdw10;
	uint32_t cdw11 = req->cmd.cdw11;
	uint8_t fid = cdw10 & 0xff;
	uint16_t status = NVME_SC_SUCCESS;
	uint32_t len = 0;
	uint32_t val;

	if (!feature_supported(ctrl, fid)) {
		req->error_loc = LOC_CDW10;
		nvmf_tgt_req_complete(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}
	if (fid == NVME_FEAT_HOST_BEHAVIOR)
		len = HOST_BEHAVIOR_LEN;
	else if (fid == NVME_FEAT_HOST_ID)
		len = HOST_ID_LEN;
	if (!check_data_len(req, len))
		return;
	if (cdw10 & NVME_FEAT_SV) {
		req->error_loc = LOC_CDW10;
		nvmf_tgt_req_complete(req, NVME_SC_FEATURE_NOT_SAVEABLE | NVME_STATUS_DNR);
		return;
	}

	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		status = set_num_queues(req);
		break;
	case NVME_FEAT_ASYNC_EVENT:
		status = set_async_event(req);
		break;
	case NVME_FEAT_KATO:
		status = set_kato(req);
		break;
	case NVME_FEAT_VOLATILE_WC:
		atomic_store_explicit(&ctrl->vwc_enabled, cdw11 & 1, memory_order_relaxed);
		break;
	case NVME_FEAT_TEMP_THRESH:
		status = set_temp_thresh(req);
		break;
	case NVME_FEAT_HOST_BEHAVIOR:
		memcpy(ctrl->host_behavior, req->buf, HOST_BEHAVIOR_LEN);
		break;
	case NVME_FEAT_HOST_ID:
		/* fabrics hosts give their ID in Connect; changing it later is out of order */
		status = NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
		break;
	default:
		if (feature_fixed(fid, cdw11, &val) && cdw11 != val)
			status = fail(req, LOC_CDW11,
				      NVME_SC_FEATURE_NOT_CHANGEABLE | NVME_STATUS_DNR);
		break;
	}
	nvmf_tgt_req_complete(req, status);
}

static uint32_t feature_capabilities(uint8_t fid)
{
	uint32_t val;

	/* nothing is saveable or namespace specific; fixed features are not changeable */
	if (feature_fixed(fid, 0, &val) || fid == NVME_FEAT_HOST_ID)
		return 0;
	return FEAT_CAP_CHANGEABLE;
}

/* Current (@dflt false) or default value of a feature's dw0 */
static uint32_t feature_value(struct nvmf_tgt_ctrl *ctrl, uint8_t fid, uint32_t cdw11, bool dflt)
{
	uint16_t n;
	uint32_t val;

	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		n = dflt ? 0 : ctrl->nr_io_queues;
		return num_queues_dw0(n ? n : max_io_queues(ctrl));
	case NVME_FEAT_ASYNC_EVENT:
		return dflt ? 0 : atomic_load_explicit(&ctrl->aen_enabled, memory_order_relaxed);
	case NVME_FEAT_KATO:
		if (dflt)
			return is_disc_ctrl(ctrl) ? NVMF_TGT_DISC_KATO_MS : 0;
		return ctrl->kato_ms;
	case NVME_FEAT_VOLATILE_WC:
		return dflt ? 1 : atomic_load_explicit(&ctrl->vwc_enabled, memory_order_relaxed);
	case NVME_FEAT_TEMP_THRESH:
		return dflt ? TEMP_WCTEMP_K : temp_thresh(ctrl);
	default:
		if (feature_fixed(fid, cdw11, &val))
			return val;
		return 0;
	}
}

static void execute_get_features(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t cdw10 = req->cmd.cdw10;
	uint32_t cdw11 = req->cmd.cdw11;
	uint8_t fid = cdw10 & 0xff;
	uint8_t sel = (cdw10 >> 8) & 0x7;
	uint16_t status = NVME_SC_SUCCESS;
	uint32_t len = 0;

	if (!feature_supported(ctrl, fid) || sel > NVME_FEAT_SEL_SUPPORTED) {
		req->error_loc = LOC_CDW10;
		nvmf_tgt_req_complete(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}
	if (fid == NVME_FEAT_HOST_BEHAVIOR)
		len = HOST_BEHAVIOR_LEN;
	else if (fid == NVME_FEAT_HOST_ID)
		len = HOST_ID_LEN;
	/* supported capabilities come in dw0 alone; accept a data buffer or none */
	if (sel == NVME_FEAT_SEL_SUPPORTED && req->data_len == 0)
		len = 0;
	if (!check_data_len(req, len))
		return;

	if (sel == NVME_FEAT_SEL_SUPPORTED) {
		set_dw0(req, feature_capabilities(fid));
		if (len)
			memset(req->buf, 0, len);
		complete_data(req, len, NVME_SC_SUCCESS);
		return;
	}

	switch (fid) {
	case NVME_FEAT_TEMP_THRESH:
		/* only the composite temperature's over threshold exists (TMPSEL 0, THSEL 0) */
		if (cdw11 & 0x3f0000) {
			status = fail(req, LOC_CDW11, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
			break;
		}
		set_dw0(req, feature_value(ctrl, fid, cdw11, sel != NVME_FEAT_SEL_CURRENT));
		break;
	case NVME_FEAT_HOST_ID:
		/* only the 128-bit form exists on fabrics: EXHID must be set (as nvmet) */
		if (!(cdw11 & FEAT_HOSTID_EXHID)) {
			status = fail(req, LOC_CDW11, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
			break;
		}
		memcpy(req->buf, ctrl->hostid, HOST_ID_LEN);
		set_dw0(req, 0);
		break;
	case NVME_FEAT_HOST_BEHAVIOR:
		/* not saveable: the saved value is the default, all zero */
		if (sel == NVME_FEAT_SEL_CURRENT)
			memcpy(req->buf, ctrl->host_behavior, HOST_BEHAVIOR_LEN);
		else
			memset(req->buf, 0, HOST_BEHAVIOR_LEN);
		set_dw0(req, 0);
		break;
	default:
		set_dw0(req, feature_value(ctrl, fid, cdw11, sel != NVME_FEAT_SEL_CURRENT));
		break;
	}
	complete_data(req, len, status);
}

/* -------------------------------------------------------------------------------------- */
/* Keep Alive, Abort */

static void execute_keep_alive(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;

	/* nvmf_tgt_req_init() already counted this command as keep-alive activity */
	if (!check_data_len(req, 0))
		return;
	/* the admin queue is its only writer (read by nvmf_tgt_ctrl_list()) */
	nvmf_counter_add(&ctrl->ka_count, 1);
	atomic_store_explicit(&ctrl->ka_last_ns, nvmf_now_ns(), memory_order_relaxed);
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

static void execute_abort(struct nvmf_tgt_req *req)
{
	if (!check_data_len(req, 0))
		return;
	/*
	 * Abort is mandatory, but a command here is either done at once or owned by a backend
	 * that cannot take it back: answer "not aborted" (dw0 bit 0), as nvmet does.
	 */
	set_dw0(req, 1);
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

/* -------------------------------------------------------------------------------------- */
/* Asynchronous events (NVMe Base 2.0c 5.2) */

/* An event is masked from being sent until the host reads its log: one bit per LID */
static uint32_t aen_lid_bit(uint8_t lid)
{
	return lid < 31 ? 1u << lid : 1u << 31; /* 70h (discovery) is the only LID above */
}

/* The Asynchronous Event Configuration bit that enables an event, or 0 if none gates it */
static uint32_t aen_cfg_bit(uint8_t type, uint8_t info)
{
	if (type == NVME_AER_TYPE_SMART) {
		switch (info) {
		case 0x00: /* subsystem reliability */
			return 1u << 2;
		case 0x01: /* temperature threshold */
			return 1u << 1;
		case 0x02: /* spare below threshold */
			return 1u << 0;
		default:
			return 0;
		}
	}
	if (type != NVME_AER_TYPE_NOTICE)
		return 0; /* error events cannot be disabled */
	switch (info) {
	case NVME_AER_NOTICE_NS_CHANGED:
		return NVME_AEN_CFG_NS_ATTR;
	case NVME_AER_NOTICE_FW_ACT_STARTING:
		return NVME_AEN_CFG_FW_ACT;
	case NVME_AER_NOTICE_ANA:
		return NVME_AEN_CFG_ANA_CHANGE;
	case NVME_AER_NOTICE_DISC_CHANGED:
		return NVME_AEN_CFG_DISC_CHANGE;
	default:
		return 0;
	}
}

static void aer_complete(struct nvmf_tgt_req *req, uint32_t dw0)
{
	set_dw0(req, dw0);
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

/* On ctrl->reactor: report @dw0 now through a parked AER, or keep it for the next one */
static void aen_post(struct nvmf_tgt_ctrl *ctrl, uint32_t dw0)
{
	uint8_t type = dw0 & 0x7;
	uint8_t info = (dw0 >> 8) & 0xff;
	uint8_t lid = (dw0 >> 16) & 0xff;
	uint32_t cfg = aen_cfg_bit(type, info);
	uint32_t bit = aen_lid_bit(lid);
	struct nvmf_tgt_req *req;

	if (atomic_load_explicit(&ctrl->fatal, memory_order_acquire))
		return;
	if (cfg && !(atomic_load_explicit(&ctrl->aen_enabled, memory_order_relaxed) & cfg))
		return;
	if (ctrl->aen_masked & bit)
		return; /* the host has not read the log of the last such event yet */

	if (ctrl->nr_aer_reqs) {
		req = ctrl->aer_reqs[0];
		ctrl->nr_aer_reqs--;
		memmove(&ctrl->aer_reqs[0], &ctrl->aer_reqs[1],
			ctrl->nr_aer_reqs * sizeof(ctrl->aer_reqs[0]));
		ctrl->aen_masked |= bit;
		aer_complete(req, dw0);
		return;
	}
	if (ctrl->nr_aen_pending == NVMF_TGT_MAX_AEN_PENDING) {
		nvmf_warn("ctrl %u: asynchronous event %#x dropped, %u pending", ctrl->cntlid, dw0,
			  ctrl->nr_aen_pending);
		return;
	}
	ctrl->aen_pending[ctrl->nr_aen_pending++] = dw0;
	ctrl->aen_masked |= bit;
}

struct aen_msg {
	struct nvmf_tgt_ctrl *ctrl;
	uint32_t dw0;
};

static void aen_msg_fn(void *arg)
{
	struct aen_msg *m = arg;
	struct nvmf_tgt_ctrl *ctrl = m->ctrl;

	aen_post(ctrl, m->dw0);
	free(m);
	/* pairs with the get in nvmf_tgt_ctrl_aen(); may free the controller */
	nvmf_tgt_ctrl_put(ctrl);
}

/**
 * nvmf_tgt_ctrl_aen() - report an asynchronous event to @ctrl's host; callable from any thread
 * @ctrl: controller; a reference is held while the event travels to ctrl->reactor
 * @type: event type, NVME_AER_TYPE_*
 * @info: event information, e.g. NVME_AER_NOTICE_*
 * @lid: log page that describes (and, when read without RAE, clears) the event
 *
 * NVMe Base 2.0c 5.2. On the admin reactor the event is dropped if the Asynchronous Event
 * Configuration feature disables it or if an event for @lid was reported and its log not
 * read yet; otherwise it completes an outstanding AER, or waits for the next one.
 */
void nvmf_tgt_ctrl_aen(struct nvmf_tgt_ctrl *ctrl, uint8_t type, uint8_t info, uint8_t lid)
{
	struct aen_msg *m;

	if (!ctrl->reactor)
		return;
	m = malloc(sizeof(*m));
	if (!m) {
		nvmf_err("ctrl %u: no memory for asynchronous event %u/%#x", ctrl->cntlid, type,
			 info);
		return;
	}
	m->ctrl = ctrl;
	m->dw0 = (uint32_t)(type & 0x7) | ((uint32_t)info << 8) | ((uint32_t)lid << 16);
	nvmf_tgt_ctrl_get(ctrl);
	if (nvmf_reactor_send(ctrl->reactor, aen_msg_fn, m) < 0) {
		nvmf_err("ctrl %u: asynchronous event %#x lost", ctrl->cntlid, m->dw0);
		free(m);
		nvmf_tgt_ctrl_put(ctrl);
	}
}

/**
 * nvmf_tgt_ctrl_aen_clear() - the host read log page @lid with RAE clear: unmask its events
 * @ctrl: controller (on ctrl->reactor)
 * @lid: log page identifier
 *
 * NVMe Base 2.0c 5.2: an event type stays masked after it is reported until the host reads
 * the log page associated with it.
 */
void nvmf_tgt_ctrl_aen_clear(struct nvmf_tgt_ctrl *ctrl, uint8_t lid)
{
	ctrl->aen_masked &= ~aen_lid_bit(lid);
}

/**
 * nvmf_tgt_ctrl_abort_aers() - give back every outstanding AER of @ctrl (teardown)
 * @ctrl: controller (on ctrl->reactor, with ctrl->fatal set so that no AER is parked again)
 *
 * Completes them with Command Aborted due to SQ Deletion (NVMe Base 2.0c Figure 102). The
 * Linux host ignores a non-successful AER completion and does not resubmit it.
 */
void nvmf_tgt_ctrl_abort_aers(struct nvmf_tgt_ctrl *ctrl)
{
	while (ctrl->nr_aer_reqs) {
		struct nvmf_tgt_req *req = ctrl->aer_reqs[--ctrl->nr_aer_reqs];

		nvmf_tgt_req_complete(req, NVME_SC_ABORT_QUEUE);
	}
	ctrl->nr_aen_pending = 0;
}

static void execute_async_event(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t dw0;

	if (!check_data_len(req, 0))
		return;
	if (atomic_load_explicit(&ctrl->fatal, memory_order_acquire)) {
		/* teardown has begun: nvmf_tgt_ctrl_abort_aers() may already have run */
		nvmf_tgt_req_complete(req, NVME_SC_ABORT_QUEUE);
		return;
	}
	if (ctrl->nr_aer_reqs > NVMF_TGT_AERL) { /* AERL is 0's based */
		nvmf_tgt_req_complete(req, NVME_SC_ASYNC_LIMIT | NVME_STATUS_DNR);
		return;
	}
	if (ctrl->nr_aen_pending) {
		dw0 = ctrl->aen_pending[0];
		ctrl->nr_aen_pending--;
		memmove(&ctrl->aen_pending[0], &ctrl->aen_pending[1],
			ctrl->nr_aen_pending * sizeof(ctrl->aen_pending[0]));
		aer_complete(req, dw0);
		return;
	}
	/* parked: completed by aen_post() or nvmf_tgt_ctrl_abort_aers() */
	ctrl->aer_reqs[ctrl->nr_aer_reqs++] = req;
}

/* -------------------------------------------------------------------------------------- */

/**
 * nvmf_tgt_parse_admin_cmd() - choose the handler of an admin command
 * @req: request on an admin queue (qid 0) whose controller is set (req->sq->ctrl)
 *
 * Accepts the opcodes marked supported in the Commands Supported and Effects table
 * (NVMe Base 2.0c 5.16.1.6): Get Log Page, Identify, Abort, Set/Get Features, Asynchronous
 * Event Request and Keep Alive (NVMe Base 2.0c 5.1, 5.2, 5.16, 5.17, 5.27; opcodes Figure 28).
 * Discovery controllers reach here for Set/Get Features, Keep Alive and AER only.
 * nvmf_tgt_req_init() has checked CC.EN and CSTS.RDY already.
 * Return: NVME_SC_SUCCESS with req->execute set, or Invalid Opcode (DNR) with
 * req->error_loc set.
 */
static void execute_queue_admin(struct nvmf_tgt_req *req)
{
	req->sq->ops->queue_admin(req);
}

uint16_t nvmf_tgt_parse_admin_cmd(struct nvmf_tgt_req *req)
{
	uint8_t opcode = req->cmd.opcode;

	if (req->sq->pcie) {
		/* NVMe Base 2.0c 5.4-5.7: I/O queues of a PCIe controller are made by commands */
		switch (opcode) {
		case nvme_admin_create_sq:
		case nvme_admin_create_cq:
		case nvme_admin_delete_sq:
		case nvme_admin_delete_cq:
			req->execute = execute_queue_admin;
			return NVME_SC_SUCCESS;
		case nvme_admin_keep_alive:
			/* KAS 0: a device without keep-alive, as most PCIe devices are */
			if (!req->sq->ctrl->kas)
				return fail(req, LOC_OPCODE,
					    NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR);
			break;
		default:
			break;
		}
	}
	if (!(admin_effects[opcode] & NVME_CMD_EFFECTS_CSUPP))
		return fail(req, LOC_OPCODE, NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR);

	switch (opcode) {
	case nvme_admin_get_log_page:
		req->execute = execute_get_log_page;
		break;
	case nvme_admin_identify:
		req->execute = execute_identify;
		break;
	case nvme_admin_abort_cmd:
		req->execute = execute_abort;
		break;
	case nvme_admin_set_features:
		req->execute = execute_set_features;
		break;
	case nvme_admin_get_features:
		req->execute = execute_get_features;
		break;
	case nvme_admin_async_event:
		req->execute = execute_async_event;
		break;
	case nvme_admin_keep_alive:
		req->execute = execute_keep_alive;
		break;
	default:
		/* a CSUPP entry without a handler is a bug in this file */
		return fail(req, LOC_OPCODE, NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR);
	}
	return NVME_SC_SUCCESS;
}
