// SPDX-License-Identifier: MIT
/*
 * The discovery service (NVMe Base 2.0c 3.1.3, 5.16.1.23): the commands a discovery
 * controller accepts and the discovery log page. Set/Get Features, Keep Alive and the
 * Asynchronous Event Request are shared with I/O controllers and live in admin.c.
 */
#include "core.h"
#include "logpage.h"

#include <string.h>

#define LOC_OPCODE ((uint16_t)offsetof(struct nvme_sqe, opcode))
#define LOC_SGL_LEN ((uint16_t)(offsetof(struct nvme_sqe, dptr) + 8))
#define LOC_CDW10 ((uint16_t)offsetof(struct nvme_sqe, cdw10))
#define LOC_CDW12 ((uint16_t)offsetof(struct nvme_sqe, cdw12))
#define LOC_CDW14 ((uint16_t)offsetof(struct nvme_sqe, cdw14))

/* CTRATT bit 6: traffic based keep alive; Identify KAS in 100 ms units (as admin.c) */
#define CTRATT_TBKAS (1u << 6)
#define ID_KAS 1
/* Identify Controller DCTYPE: 1 = direct discovery controller */
#define ID_DCTYPE_DDC 1
#define LOG_LSUPP (1u << 0)
#define LOG_OT (1u << 23)
#define SUPPORTED_LOG_LEN 1024

static const char *disc_nqn(const struct nvmf_tgt_port *port)
{
	return port->tgt->disc_subsys ? port->tgt->disc_subsys->nqn : NVME_DISC_SUBSYS_NAME;
}

static bool disc_lists_subsys(const struct nvmf_tgt_subsys *subsys, const char *hostnqn)
{
	return subsys->subtype == NVME_NQN_NVME && nvmf_tgt_host_allowed(subsys, hostnqn);
}

static void put_entry(struct log_win *w, uint8_t subtype, uint16_t portid, uint8_t trtype,
		      uint8_t adrfam, uint8_t treq, const char *traddr, const char *trsvcid,
		      const char *subnqn)
{
	struct nvmf_disc_log_entry e;

	memset(&e, 0, sizeof(e));
	e.trtype = trtype;
	e.adrfam = adrfam;
	e.subtype = subtype;
	e.treq = treq;
	e.portid = portid;
	e.cntlid = NVME_CNTLID_DYNAMIC; /* dynamic controller model only */
	e.asqsz = NVMF_TGT_ADMIN_QUEUE_DEPTH;
	/*
	 * Our own entry: we support explicit persistent connections (KATO, discovery log
	 * change AEN). DUPRETINFO is not set: each port returns its own log.
	 */
	if (subtype == NVME_NQN_CURR)
		e.eflags = NVMF_DISC_EFLAGS_EPCSD;
	nvmf_copy_str(e.trsvcid, sizeof(e.trsvcid), trsvcid);
	nvmf_copy_str(e.subnqn, sizeof(e.subnqn), subnqn);
	nvmf_copy_str(e.traddr, sizeof(e.traddr), traddr);
	if (trtype == NVMF_TRTYPE_TCP)
		e.tsas.tcp.sectype = NVMF_TCP_SECTYPE_NONE;
	log_put(w, &e, sizeof(e));
}

/*
 * The address a host should dial for @p. A port listening on the wildcard address
 * (0.0.0.0, ::) is reported with the local address of the connection the host asked
 * through, @local, when it is of the same family, as Linux nvmet does
 * (nvmet_format_discovery_entry()); "0.0.0.0" would be of no use to a host.
 */
static const char *entry_traddr(const struct nvmf_tgt_port *p, const char *local)
{
	bool local_v6;

	if (p->trtype != NVMF_TRTYPE_TCP || !local || !*local)
		return p->traddr;
	local_v6 = strchr(local, ':') != NULL;
	if (p->adrfam == NVMF_ADRFAM_IPV4 && !local_v6 &&
	    (!strcmp(p->traddr, "0.0.0.0") || !*p->traddr))
		return local;
	if (p->adrfam == NVMF_ADRFAM_IPV6 && local_v6 && (!strcmp(p->traddr, "::") || !*p->traddr))
		return local;
	return p->traddr;
}

/* The NVM subsystem entries of one exporting port: those that admit @hostnqn. */
static uint64_t port_entries(const struct nvmf_tgt_port *p, const char *hostnqn, const char *local,
			     struct log_win *w)
{
	uint64_t n = 0;

	/* a disabled port (nvmf_tgt_port_disable()) takes no connections: not listed */
	if (!p->enabled)
		return 0;
	for (size_t i = 0; i < p->nr_subsys; i++) {
		const struct nvmf_tgt_subsys *subsys = p->subsys[i];

		if (!disc_lists_subsys(subsys, hostnqn))
			continue;
		n++;
		if (w)
			put_entry(w, NVME_NQN_NVME, p->portid, p->trtype, p->adrfam, p->treq,
				  entry_traddr(p, local), p->trsvcid, subsys->nqn);
	}
	return n;
}

/*
 * The ports whose subsystems the log through @port lists: @port itself when it exports
 * subsystems (Linux nvmet: each port reports its own), or every port of the target when
 * @port is a discovery-only port (no subsystems of its own, like 8009), as SPDK's
 * discovery service does. Loop ports are reachable only from inside this process: a host
 * that came in over the network never hears of them (a Linux host told "trtype loop" by
 * connect-all would try its own kernel's nvme-loop). Writes their entries into @w (if not
 * NULL); returns the count.
 */
static uint64_t for_listed_ports(const struct nvmf_tgt_port *port, const char *hostnqn,
				 const char *local, struct log_win *w)
{
	const struct nvmf_tgt *tgt = port->tgt;
	uint64_t n = 0;

	if (port->nr_subsys)
		return port_entries(port, hostnqn, local, w);
	for (size_t i = 0; i < tgt->nr_ports; i++) {
		const struct nvmf_tgt_port *p = tgt->ports[i];

		if (p->trtype == NVMF_TRTYPE_LOOP && port->trtype != NVMF_TRTYPE_LOOP)
			continue;
		/* a PCIe function over vfio-user is no fabrics address (spec.h) */
		if (p->trtype == NVMF_TRTYPE_VFIO_USER)
			continue;
		n += port_entries(p, hostnqn, local, w);
	}
	return n;
}

/*
 * The discovery log as seen by @hostnqn through @port, written into window @w: the current
 * discovery subsystem first (as Linux nvmet), then the NVM subsystems that admit the host
 * (see for_listed_ports()), then the referrals. Return: the size of the whole log in bytes.
 */
static uint64_t disc_log(struct nvmf_tgt_port *port, const char *hostnqn, const char *local,
			 struct log_win *w)
{
	struct nvmf_disc_rsp_page_hdr hdr;
	uint64_t numrec = 1 + port->nr_referrals + for_listed_ports(port, hostnqn, local, NULL);
	size_t i;

	memset(&hdr, 0, sizeof(hdr));
	hdr.genctr = atomic_load_explicit(&port->tgt->disc_genctr, memory_order_acquire);
	hdr.numrec = numrec;
	hdr.recfmt = 0;
	log_put(w, &hdr, sizeof(hdr));

	put_entry(w, NVME_NQN_CURR, port->portid, port->trtype, port->adrfam, port->treq,
		  entry_traddr(port, local), port->trsvcid, disc_nqn(port));
	for_listed_ports(port, hostnqn, local, w);
	for (i = 0; i < port->nr_referrals; i++) {
		const struct nvmf_tgt_referral *r = &port->referrals[i];

		put_entry(w, NVME_NQN_DISC, r->p.portid, r->p.trtype, r->p.adrfam, r->p.treq,
			  r->traddr, r->trsvcid, NVME_DISC_SUBSYS_NAME);
	}
	return w->pos;
}

/**
 * nvmf_tgt_discovery_log() - build the discovery log page for a host on @port
 * @port: the port the discovery controller is connected through
 * @hostnqn: the host's NQN (subsystems it may not use are left out)
 * @local_traddr: our address on the host's connection, for wildcard listeners (or NULL)
 * @buf: output, @len bytes; zeroed past the end of the log
 * @len: bytes of @buf
 *
 * NVMe Base 2.0c 5.16.1.23: GENCTR from the target's discovery generation counter, one
 * entry for this discovery subsystem (SUBTYPE 3h), one per NVM subsystem (2h) exported on
 * @port that allows @hostnqn (on every enabled port when @port exports none: a
 * discovery-only port; disabled ports are never listed), one per referral (1h). Record
 * format 0.
 * Return: total size of the log page in bytes (may exceed @len; @buf holds the first @len).
 */
size_t nvmf_tgt_discovery_log(struct nvmf_tgt_port *port, const char *hostnqn,
			      const char *local_traddr, void *buf, size_t len)
{
	uint8_t none;
	struct log_win w;

	size_t n;

	log_win_init(&w, buf ? buf : &none, 0, buf ? len : 0);
	pthread_rwlock_rdlock(&port->tgt->cfg_lock);
	n = (size_t)disc_log(port, hostnqn, local_traddr, &w);
	pthread_rwlock_unlock(&port->tgt->cfg_lock);
	return n;
}

/* -------------------------------------------------------------------------------------- */
/* Commands */

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

static void complete_err(struct nvmf_tgt_req *req, uint16_t loc, uint16_t status)
{
	req->error_loc = loc;
	nvmf_tgt_req_complete(req, status);
}

static void disc_identify(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	struct nvmf_tgt_subsys *subsys = ctrl->subsys;
	const struct nvmf_tgt_opts *opts = &subsys->tgt->opts;
	struct nvme_id_ctrl *id = req->buf;

	if (!check_data_len(req, NVME_IDENTIFY_DATA_SIZE))
		return;
	/* a discovery controller has no namespaces: Identify Controller only */
	if ((req->cmd.cdw10 & 0xff) != NVME_ID_CNS_CTRL) {
		complete_err(req, LOC_CDW10, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}

	memset(id, 0, sizeof(*id));
	nvmf_copy_padded(id->sn, sizeof(id->sn), subsys->serial);
	nvmf_copy_padded(id->mn, sizeof(id->mn), subsys->model);
	nvmf_copy_padded(id->fr, sizeof(id->fr), subsys->firmware);
	id->mdts = nvmf_ilog2_u32(opts->mdts_bytes / 4096);
	id->cntlid = ctrl->cntlid;
	id->ver = subsys->version;
	id->oaes = NVME_OAES_DISC_CHANGE;
	id->ctratt = NVME_CTRATT_HOST_ID_128 | CTRATT_TBKAS;
	id->cntrltype = NVME_CTRL_TYPE_DISC;
	id->aerl = NVMF_TGT_AERL;
	/* extended NUMD and LPO: hosts read big discovery logs in pieces */
	id->lpa = NVME_LPA_EXT_DATA;
	id->kas = ID_KAS;
	/*
	 * As CAP.MQES + 1, like an I/O controller: the Linux TCP host clamps its queue size to
	 * MAXCMD and warns about it on every discovery if MAXCMD is the admin queue's 32.
	 */
	id->maxcmd = ctrl->io_queue_depth ? ctrl->io_queue_depth : opts->io_queue_depth;
	id->sgls = NVME_SGLS_SUPPORTED | NVME_SGLS_OFFSET;
	nvmf_copy_str(id->subnqn, sizeof(id->subnqn), subsys->nqn);
	id->dctype = ID_DCTYPE_DDC;

	req->transfer_len = NVME_IDENTIFY_DATA_SIZE;
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

static void disc_get_log_page(struct nvmf_tgt_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	uint32_t cdw10 = req->cmd.cdw10;
	uint8_t lid = cdw10 & 0xff;
	bool rae = cdw10 & NVME_LOG_RAE;
	/* NUMD, 0's based dwords: NUMDU (cdw11 15:0) : NUMDL (cdw10 31:16) */
	uint64_t numd = (((uint64_t)(req->cmd.cdw11 & 0xffff) << 16) | (cdw10 >> 16)) + 1;
	uint64_t lpo = ((uint64_t)req->cmd.cdw13 << 32) | req->cmd.cdw12;
	uint32_t lsupp[SUPPORTED_LOG_LEN / sizeof(uint32_t)];
	struct log_win w;
	uint32_t len;

	if (numd * 4 > UINT32_MAX) {
		complete_err(req, LOC_SGL_LEN, NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR);
		return;
	}
	len = (uint32_t)(numd * 4);
	if (!check_data_len(req, len))
		return;
	if (lpo & 3) { /* the offset must be dword aligned */
		complete_err(req, LOC_CDW12, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}
	if (req->cmd.cdw14 & LOG_OT) {
		complete_err(req, LOC_CDW14, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		return;
	}

	log_win_init(&w, req->buf, lpo, len);
	switch (lid) {
	case NVME_LOG_DISC:
		/*
		 * Any offset is served: the Linux host reads the header, then the whole log,
		 * then the header again to see whether GENCTR moved; a log that shrank between
		 * the reads must not fail them (the zeroed tail and the new GENCTR tell it).
		 */
		pthread_rwlock_rdlock(&ctrl->subsys->tgt->cfg_lock);
		disc_log(ctrl->port, ctrl->hostnqn, req->sq->local_traddr, &w);
		pthread_rwlock_unlock(&ctrl->subsys->tgt->cfg_lock);
		break;
	case NVME_LOG_SUPPORTED:
		memset(lsupp, 0, sizeof(lsupp));
		lsupp[NVME_LOG_SUPPORTED] = LOG_LSUPP;
		lsupp[NVME_LOG_DISC] = LOG_LSUPP;
		log_put(&w, lsupp, sizeof(lsupp));
		break;
	default:
		/* the spec's status for an unsupported LID (admin.c says why not nvmet's) */
		complete_err(req, LOC_CDW10, NVME_SC_INVALID_LOG_PAGE | NVME_STATUS_DNR);
		return;
	}
	if (!rae)
		nvmf_tgt_ctrl_aen_clear(ctrl, lid);
	req->transfer_len = len;
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

/**
 * nvmf_tgt_parse_discovery_cmd() - choose the handler of a discovery controller's command
 * @req: request on the admin queue of a discovery controller (subsys->subtype NVME_NQN_CURR)
 *
 * NVMe Base 2.0c 3.1.3 (the discovery controller's command set): Identify (CNS 01h
 * only), Get Log Page (discovery log 70h, supported log pages 00h), Set/Get Features (KATO,
 * Asynchronous Event Configuration), Keep Alive and Asynchronous Event Request.
 * Return: NVME_SC_SUCCESS with req->execute set, or Invalid Opcode (DNR) with req->error_loc.
 */
uint16_t nvmf_tgt_parse_discovery_cmd(struct nvmf_tgt_req *req)
{
	switch (req->cmd.opcode) {
	case nvme_admin_identify:
		req->execute = disc_identify;
		return NVME_SC_SUCCESS;
	case nvme_admin_get_log_page:
		req->execute = disc_get_log_page;
		return NVME_SC_SUCCESS;
	case nvme_admin_set_features:
	case nvme_admin_get_features:
	case nvme_admin_keep_alive:
	case nvme_admin_async_event:
		/* admin.c limits the features to those of a discovery controller */
		return nvmf_tgt_parse_admin_cmd(req);
	default:
		req->error_loc = LOC_OPCODE;
		return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
	}
}
