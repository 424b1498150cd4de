// SPDX-License-Identifier: MIT
/*
 * NVM command set I/O commands (NVM Command Set 1.0c chapter 3): Read, Write, Compare, Flush,
 * Write Zeroes, Dataset Management. Parsing checks NSID, ANA state, LBA range and transfer
 * length; execution hands byte ranges to the namespace's backend and completes on the
 * calling reactor.
 */
#include "core.h"

#include "common/log.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define CDW10_OFF offsetof(struct nvme_sqe, cdw10)
#define CDW12_OFF offsetof(struct nvme_sqe, cdw12)

static inline uint64_t cmd_slba(const struct nvme_sqe *c)
{
	return (uint64_t)c->cdw10 | ((uint64_t)c->cdw11 << 32);
}

static inline uint32_t cmd_nlb(const struct nvme_sqe *c)
{
	return (c->cdw12 & NVME_RW_NLB_MASK) + 1;
}

/* Is [slba, slba + nlb) inside the namespace? */
static uint16_t check_lba_range(struct nvmf_tgt_req *req, uint64_t slba, uint64_t nlb)
{
	uint64_t nsze = nvmf_tgt_ns_nsze(req->ns);

	if (slba >= nsze || nlb > nsze - slba) {
		req->error_loc = CDW10_OFF;
		req->error_lba = slba;
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	}
	return NVME_SC_SUCCESS;
}

static uint16_t bdev_status(const struct nvmf_tgt_req *req, int err)
{
	if (!err)
		return NVME_SC_SUCCESS;
	if (err == -EIO || err == -ENODATA)
		return (req->cmd.opcode == nvme_cmd_read || req->cmd.opcode == nvme_cmd_compare
				? NVME_SC_READ_ERROR
				: NVME_SC_WRITE_FAULT) |
		       NVME_STATUS_DNR;
	return nvmf_tgt_errno_to_status(err);
}

static void rw_end_io(struct nvmf_tgt_req *req, int err)
{
	struct nvmf_tgt_stats *st = &req->sq->stats;

	if (!err) {
		if (req->cmd.opcode == nvme_cmd_read) {
			req->transfer_len = req->data_len;
			nvmf_counter_add(&st->read_bytes, req->data_len);
			nvmf_counter_add(&st->read_cmds, 1);
		} else {
			nvmf_counter_add(&st->write_bytes, req->data_len);
			nvmf_counter_add(&st->write_cmds, 1);
		}
	} else {
		req->error_lba = cmd_slba(&req->cmd);
		nvmf_warn("nsid %u: %s at LBA %llu failed: %s", req->ns->nsid,
			  req->cmd.opcode == nvme_cmd_read ? "read" : "write",
			  (unsigned long long)req->error_lba, strerror(-err));
	}
	nvmf_tgt_req_complete(req, bdev_status(req, err));
}

static void execute_rw(struct nvmf_tgt_req *req)
{
	const struct nvme_sqe *c = &req->cmd;
	bool write = c->opcode == nvme_cmd_write;
	uint64_t off = cmd_slba(c) << req->ns->blksz_shift;
	/* with the volatile write cache disabled every write is written through */
	bool fua =
		write && ((c->cdw12 & NVME_RW_FUA) ||
			  !atomic_load_explicit(&req->sq->ctrl->vwc_enabled, memory_order_relaxed));

	req->bdev_end_io = rw_end_io;
	req->ns->ops->rw(req, write, req->buf, off, req->data_len, fua);
}

static void compare_end_io(struct nvmf_tgt_req *req, int err)
{
	uint16_t status = bdev_status(req, err);

	if (!status && memcmp(req->buf, req->cmp_buf, req->data_len)) {
		req->error_lba = cmd_slba(&req->cmd);
		status = NVME_SC_COMPARE_FAILED | NVME_STATUS_DNR;
	}
	if (!status) {
		nvmf_counter_add(&req->sq->stats.read_bytes, req->data_len);
		nvmf_counter_add(&req->sq->stats.read_cmds, 1);
	}
	nvmf_tgt_req_complete(req, status);
}

static void execute_compare(struct nvmf_tgt_req *req)
{
	uint64_t off = cmd_slba(&req->cmd) << req->ns->blksz_shift;

	req->bdev_end_io = compare_end_io;
	req->ns->ops->rw(req, false, req->cmp_buf, off, req->data_len, false);
}

static void simple_end_io(struct nvmf_tgt_req *req, int err)
{
	nvmf_tgt_req_complete(req, bdev_status(req, err));
}

/* Flush with NSID FFFFFFFFh (VWC bits 2:1 = 11b): every namespace in turn */
static void flush_all_next(struct nvmf_tgt_req *req, int err)
{
	const struct nvmf_tgt_subsys *s = req->sq->ctrl->subsys;
	uint32_t nsid = req->ns ? req->ns->nsid : 0;

	if (err) {
		nvmf_tgt_req_complete(req, bdev_status(req, err));
		return;
	}
	for (nsid++; nsid <= nvmf_tgt_ns_table(s)->max_nsid; nsid++) {
		struct nvmf_tgt_ns *ns = nvmf_tgt_find_ns(s, nsid);

		if (ns) {
			req->ns = ns;
			ns->ops->flush(req);
			return;
		}
	}
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

static void execute_flush(struct nvmf_tgt_req *req)
{
	if (req->cmd.nsid == NVME_NSID_ALL) {
		req->ns = NULL;
		req->bdev_end_io = flush_all_next;
		flush_all_next(req, 0);
		return;
	}
	req->bdev_end_io = simple_end_io;
	req->ns->ops->flush(req);
}

static void execute_write_zeroes(struct nvmf_tgt_req *req)
{
	const struct nvme_sqe *c = &req->cmd;
	uint8_t shift = req->ns->blksz_shift;

	req->bdev_end_io = simple_end_io;
	req->ns->ops->write_zeroes(req, cmd_slba(c) << shift, (uint64_t)cmd_nlb(c) << shift,
				   !!(c->cdw12 & NVME_WZ_DEAC));
}

/* Dataset Management deallocate: one range at a time; the index rides in transfer_len */
static void dsm_next(struct nvmf_tgt_req *req, int err)
{
	const struct nvme_dsm_range *ranges = req->buf;
	uint32_t nr = (req->cmd.cdw10 & 0xff) + 1;
	uint8_t shift = req->ns->blksz_shift;

	if (err && err != -EOPNOTSUPP) {
		nvmf_tgt_req_complete(req, bdev_status(req, err));
		return;
	}
	while (req->transfer_len < nr) {
		const struct nvme_dsm_range *r = &ranges[req->transfer_len++];
		uint16_t status;

		if (!r->nlb)
			continue;
		status = check_lba_range(req, r->slba, r->nlb);
		if (status) {
			req->transfer_len = 0;
			nvmf_tgt_req_complete(req, status);
			return;
		}
		req->ns->ops->discard(req, r->slba << shift, (uint64_t)r->nlb << shift);
		return;
	}
	req->transfer_len = 0;
	nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
}

static void execute_dsm(struct nvmf_tgt_req *req)
{
	if (!(req->cmd.cdw11 & NVME_DSMGMT_AD)) {
		/* integral read/write attributes are hints we have no use for */
		nvmf_tgt_req_complete(req, NVME_SC_SUCCESS);
		return;
	}
	req->transfer_len = 0;
	req->bdev_end_io = dsm_next;
	dsm_next(req, 0);
}

static uint16_t check_ana(struct nvmf_tgt_req *req)
{
	uint8_t state = atomic_load_explicit(&req->sq->port->ana_state[req->ns->anagrpid],
					     memory_order_relaxed);

	switch (state) {
	case NVME_ANA_INACCESSIBLE:
		return NVME_SC_ANA_INACCESSIBLE;
	case NVME_ANA_PERSISTENT_LOSS:
		return NVME_SC_ANA_PERSISTENT_LOSS;
	case NVME_ANA_CHANGE:
		return NVME_SC_ANA_TRANSITION;
	default:
		return NVME_SC_SUCCESS;
	}
}

static uint16_t parse_rw(struct nvmf_tgt_req *req)
{
	const struct nvme_sqe *c = &req->cmd;
	uint64_t len = (uint64_t)cmd_nlb(c) << req->ns->blksz_shift;
	uint16_t status;

	status = check_lba_range(req, cmd_slba(c), cmd_nlb(c));
	if (status)
		return status;
	if (len > req->sq->tgt->opts.mdts_bytes) {
		req->error_loc = CDW12_OFF;
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	/* PCIe: the PRPs/SGL describe NLB blocks by definition; fetch write data now */
	if (req->sq->pcie)
		return nvmf_tgt_req_set_data_len(req, (uint32_t)len);
	/* the SGL must describe exactly NLB blocks (nvmet_check_transfer_len) */
	if (req->data_len != len) {
		req->error_loc =
			offsetof(struct nvme_sqe, dptr) + offsetof(struct nvme_sgl_desc, length);
		return NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	}
	return NVME_SC_SUCCESS;
}

uint16_t nvmf_tgt_parse_io_cmd(struct nvmf_tgt_req *req)
{
	const struct nvme_sqe *c = &req->cmd;
	uint16_t status;

	if (!(nvmf_tgt_io_effects(c->opcode) & NVME_CMD_EFFECTS_CSUPP)) {
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
	}
	if (c->opcode == nvme_cmd_flush && c->nsid == NVME_NSID_ALL) {
		if (req->data_len)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = execute_flush;
		return NVME_SC_SUCCESS;
	}
	req->ns = nvmf_tgt_find_ns(req->sq->ctrl->subsys, c->nsid);
	if (!req->ns) {
		req->error_loc = offsetof(struct nvme_sqe, nsid);
		return NVME_SC_INVALID_NS | NVME_STATUS_DNR;
	}
	status = check_ana(req);
	if (status)
		return status;

	switch (c->opcode) {
	case nvme_cmd_read:
	case nvme_cmd_write:
		status = parse_rw(req);
		req->execute = execute_rw;
		break;
	case nvme_cmd_compare:
		status = parse_rw(req);
		req->execute = execute_compare;
		break;
	case nvme_cmd_flush:
		if (req->data_len)
			status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = execute_flush;
		break;
	case nvme_cmd_write_zeroes:
		status = check_lba_range(req, cmd_slba(c), cmd_nlb(c));
		if (!status && req->data_len)
			status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = execute_write_zeroes;
		break;
	case nvme_cmd_dsm:
		if (req->sq->pcie)
			status = nvmf_tgt_req_set_data_len(
				req, ((c->cdw10 & 0xff) + 1) * sizeof(struct nvme_dsm_range));
		/* the ranges may be followed by slack, as nvmet allows (data_len_lte) */
		if (!status &&
		    req->data_len < ((c->cdw10 & 0xff) + 1) * sizeof(struct nvme_dsm_range)) {
			req->error_loc = offsetof(struct nvme_sqe, dptr) +
					 offsetof(struct nvme_sgl_desc, length);
			status = NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
		}
		req->execute = execute_dsm;
		break;
	default:
		req->error_loc = offsetof(struct nvme_sqe, opcode);
		status = NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
		break;
	}
	return status;
}
