// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP PDU codec (NVMe/TCP Transport 1.0c 3.6): the contract is in pdu.h. Where the
 * specification leaves a choice, this file does what the Linux NVMe/TCP host and target do.
 */
#include "pdu.h"

#include "common/crc32c.h"

#include <errno.h>
#include <string.h>

/* FEI values: byte offsets of the common header fields (NVMe/TCP 1.0c Figure 18) */
#define FEI_TYPE offsetof(struct nvme_tcp_hdr, type)
#define FEI_FLAGS offsetof(struct nvme_tcp_hdr, flags)
#define FEI_HLEN offsetof(struct nvme_tcp_hdr, hlen)
#define FEI_PDO offsetof(struct nvme_tcp_hdr, pdo)
#define FEI_PLEN offsetof(struct nvme_tcp_hdr, plen)

/* The smallest MAXH2CDATA a controller may return, bytes (NVMe/TCP 1.0c 3.6.2.3) */
#define NVMF_TCP_MIN_MAXH2CDATA 4096u

static int pdu_fail(struct nvmf_tcp_pdu_error *err, uint16_t fes, uint32_t fei)
{
	if (err) {
		err->fes = fes;
		err->fei = fei;
	}
	return -EPROTO;
}

/*
 * PDA in bytes from its 0's based dword count. Values above 31 are reserved and refused by
 * nvmf_tcp_check_icreq()/nvmf_tcp_check_icresp(); clamping keeps a caller that skipped them
 * from computing a PDO that does not fit in its 8-bit field.
 */
static uint32_t pda_bytes(uint8_t pda)
{
	if (pda > NVME_TCP_MAX_HPDA)
		pda = NVME_TCP_MAX_HPDA;
	return ((uint32_t)pda + 1) * 4;
}

static uint32_t round_up(uint32_t v, uint32_t align)
{
	return (v + align - 1) / align * align;
}

static bool pdu_is_h2c(uint8_t type)
{
	switch (type) {
	case nvme_tcp_icreq:
	case nvme_tcp_h2c_term:
	case nvme_tcp_cmd:
	case nvme_tcp_h2c_data:
		return true;
	default:
		return false;
	}
}

static bool pdu_is_c2h(uint8_t type)
{
	switch (type) {
	case nvme_tcp_icresp:
	case nvme_tcp_c2h_term:
	case nvme_tcp_rsp:
	case nvme_tcp_c2h_data:
	case nvme_tcp_r2t:
		return true;
	default:
		return false;
	}
}

/**
 * nvmf_tcp_pdu_hlen() - the fixed header length of a PDU type (NVMe/TCP 1.0c 3.6.2)
 * @type: enum nvme_tcp_pdu_type
 *
 * Return: bytes (HLEN field value), or 0 for an unknown type.
 */
uint8_t nvmf_tcp_pdu_hlen(uint8_t type)
{
	switch (type) {
	case nvme_tcp_icreq:
		return sizeof(struct nvme_tcp_icreq_pdu);
	case nvme_tcp_icresp:
		return sizeof(struct nvme_tcp_icresp_pdu);
	case nvme_tcp_h2c_term:
	case nvme_tcp_c2h_term:
		return sizeof(struct nvme_tcp_term_pdu);
	case nvme_tcp_cmd:
		return sizeof(struct nvme_tcp_cmd_pdu);
	case nvme_tcp_rsp:
		return sizeof(struct nvme_tcp_rsp_pdu);
	case nvme_tcp_h2c_data:
	case nvme_tcp_c2h_data:
		return sizeof(struct nvme_tcp_data_pdu);
	case nvme_tcp_r2t:
		return sizeof(struct nvme_tcp_r2t_pdu);
	default:
		return 0;
	}
}

static bool hdgstf_ok(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p)
{
	return !!(hdr->flags & NVME_TCP_F_HDGST) == p->hdgst;
}

/* CapsuleResp and R2T: no data, so PDO is 0 and PLEN is exactly the header and its digest. */
static int check_nodata_pdu(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p,
			    struct nvmf_tcp_pdu_error *err)
{
	uint32_t hd = p->hdgst ? NVME_TCP_DIGEST_LEN : 0;

	/* DDGSTF is reserved in these PDUs: not checked, as the Linux host does not. */
	if (!hdgstf_ok(hdr, p))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_FLAGS);
	if (hdr->pdo)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PDO);
	if (hdr->plen != hdr->hlen + hd)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PLEN);
	return 0;
}

/*
 * CapsuleCmd, H2CData, C2HData. A Command Capsule carries data iff PLEN goes past the header
 * and its digest; H2CData and C2HData always do, at least one byte as the Linux target and
 * host require.
 */
static int check_data_pdu(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p,
			  struct nvmf_tcp_pdu_error *err)
{
	uint32_t hd = p->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t base = hdr->hlen + hd;
	uint32_t plen = hdr->plen;
	uint32_t dd, pda, limit, data_len;
	bool has_data;

	if (!hdgstf_ok(hdr, p))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_FLAGS);
	if (plen < base)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PLEN);

	has_data = hdr->type != nvme_tcp_cmd || plen > base;
	dd = p->ddgst && has_data ? NVME_TCP_DIGEST_LEN : 0;
	if (!!(hdr->flags & NVME_TCP_F_DDGST) != !!dd)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_FLAGS);
	/* SUCCESS completes the command, so it may only come with the last PDU. */
	if (hdr->type == nvme_tcp_c2h_data && (hdr->flags & NVME_TCP_F_DATA_SUCCESS) &&
	    !(hdr->flags & NVME_TCP_F_DATA_LAST))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_FLAGS);

	if (!has_data) {
		if (hdr->pdo)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PDO);
		return 0;
	}

	/* The receiver's alignment: the host's HPDA for C2HData, else the controller's CPDA. */
	pda = pda_bytes(hdr->type == nvme_tcp_c2h_data ? p->hpda : p->cpda);
	if (hdr->pdo < base || hdr->pdo % pda)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PDO);
	if (plen <= hdr->pdo + dd)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PLEN);

	data_len = plen - hdr->pdo - dd;
	switch (hdr->type) {
	case nvme_tcp_cmd:
		limit = p->max_icd;
		break;
	case nvme_tcp_h2c_data:
		limit = p->maxh2cdata;
		break;
	default:
		limit = p->max_c2h_data;
		break;
	}
	if (data_len > limit)
		return pdu_fail(err, NVME_TCP_FES_DATA_LIMIT_EXCEEDED, FEI_PLEN);
	return 0;
}

/**
 * nvmf_tcp_check_hdr() - validate the common header of a received PDU (NVMe/TCP 1.0c 3.6.1)
 * @hdr: the common header
 * @p: negotiated parameters; NULL before the ICReq/ICResp exchange
 * @ctrl_side: true if the receiver is the controller
 * @err: set on failure; FEI is the byte offset of the offending common header field
 *
 * Termination requests are accepted in both phases: a controller answers a bad ICReq with a
 * C2HTermReq, and refusing it would hide its reason and invite a termination request in
 * reply to one. Their flags and PDO are not checked: they never carry digests, the
 * connection is going away, and the error they bring is worth more than the check. Their
 * PLEN must be 24 to 152 bytes, as the Linux host requires.
 *
 * Return: 0 if valid, -EPROTO with @err filled otherwise.
 */
int nvmf_tcp_check_hdr(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p,
		       bool ctrl_side, struct nvmf_tcp_pdu_error *err)
{
	uint8_t type = hdr->type;
	uint8_t hlen = nvmf_tcp_pdu_hlen(type);
	bool ic = type == nvme_tcp_icreq || type == nvme_tcp_icresp;
	bool term = type == nvme_tcp_h2c_term || type == nvme_tcp_c2h_term;

	if (!hlen || !(ctrl_side ? pdu_is_h2c(type) : pdu_is_c2h(type)))
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_TYPE);
	if (!term && ic != !p)
		return pdu_fail(err, NVME_TCP_FES_PDU_SEQ_ERR, FEI_TYPE);
	if (hdr->hlen != hlen)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_HLEN);

	switch (type) {
	case nvme_tcp_icreq:
	case nvme_tcp_icresp:
		if (hdr->pdo)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PDO);
		if (hdr->plen != hlen)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PLEN);
		return 0;
	case nvme_tcp_h2c_term:
	case nvme_tcp_c2h_term:
		if (hdr->plen < hlen || hdr->plen > hlen + (uint32_t)NVME_TCP_TERM_MAX_DATA)
			return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_PLEN);
		return 0;
	case nvme_tcp_rsp:
	case nvme_tcp_r2t:
		return check_nodata_pdu(hdr, p, err);
	default:
		return check_data_pdu(hdr, p, err);
	}
}

/**
 * nvmf_tcp_pdu_data_len() - payload bytes of a PDU whose header passed nvmf_tcp_check_hdr()
 * @hdr: common header
 * @p: negotiated parameters (NULL: no data digest)
 *
 * Only Command Capsules with in-capsule data, H2CData and C2HData carry PDU data (data at
 * PDO); the error data of a termination request is not PDU data and counts 0 here.
 *
 * Return: PLEN - PDO - DDGST when the PDU carries data, else 0.
 */
uint32_t nvmf_tcp_pdu_data_len(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p)
{
	uint32_t dd = p && p->ddgst ? NVME_TCP_DIGEST_LEN : 0;

	switch (hdr->type) {
	case nvme_tcp_cmd:
	case nvme_tcp_h2c_data:
	case nvme_tcp_c2h_data:
		break;
	default:
		return 0;
	}
	/* Never underflow, even for a header that was not checked. */
	if (!hdr->pdo || hdr->plen <= hdr->pdo + dd)
		return 0;
	return hdr->plen - hdr->pdo - dd;
}

/**
 * nvmf_tcp_check_icreq() - validate a received ICReq (NVMe/TCP 1.0c 3.6.2.2)
 * @req: the 128-byte PDU
 * @err: set on failure
 *
 * The common header is checked as by nvmf_tcp_check_hdr() before negotiation, and must be
 * an ICReq's: a termination request, which that check lets through, is an invalid type here
 * (FEI 0). PFV other than 1.0 and HPDA above 31 are unsupported parameters (FEI 8 and 10).
 * Any MAXR2T is accepted: the controller never has more than one R2T outstanding per command.
 *
 * Return: 0 or -EPROTO.
 */
int nvmf_tcp_check_icreq(const struct nvme_tcp_icreq_pdu *req, struct nvmf_tcp_pdu_error *err)
{
	int ret = nvmf_tcp_check_hdr(&req->hdr, NULL, true, err);

	if (ret)
		return ret;
	if (req->hdr.type != nvme_tcp_icreq)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_TYPE);
	if (req->pfv != NVME_TCP_PFV_1_0)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icreq_pdu, pfv));
	if (req->hpda > NVME_TCP_MAX_HPDA)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icreq_pdu, hpda));
	return 0;
}

/**
 * nvmf_tcp_check_icresp() - validate a received ICResp (NVMe/TCP 1.0c 3.6.2.3)
 * @resp: the 128-byte PDU
 * @want_hdgst: header digest the host asked for
 * @want_ddgst: data digest the host asked for
 * @err: set on failure
 *
 * The common header is checked as by nvmf_tcp_check_hdr() before negotiation, and must be
 * an ICResp's (a C2HTermReq is an invalid type here, FEI 0). Every field the host cannot work
 * with is an unsupported parameter, FEI its offset: PFV other than 1.0 (8), CPDA above 31
 * (10), digests other than those requested, either way, as the Linux host refuses them (11),
 * MAXH2CDATA below 4096 or not a multiple of 4 (12).
 *
 * Return: 0 or -EPROTO.
 */
int nvmf_tcp_check_icresp(const struct nvme_tcp_icresp_pdu *resp, bool want_hdgst, bool want_ddgst,
			  struct nvmf_tcp_pdu_error *err)
{
	int ret = nvmf_tcp_check_hdr(&resp->hdr, NULL, false, err);

	if (ret)
		return ret;
	if (resp->hdr.type != nvme_tcp_icresp)
		return pdu_fail(err, NVME_TCP_FES_INVALID_PDU_HDR, FEI_TYPE);
	if (resp->pfv != NVME_TCP_PFV_1_0)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icresp_pdu, pfv));
	if (resp->cpda > NVME_TCP_MAX_HPDA)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icresp_pdu, cpda));
	if (!!(resp->digest & NVME_TCP_HDR_DIGEST_ENABLE) != want_hdgst ||
	    !!(resp->digest & NVME_TCP_DATA_DIGEST_ENABLE) != want_ddgst)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icresp_pdu, digest));
	if (resp->maxdata < NVMF_TCP_MIN_MAXH2CDATA || resp->maxdata % 4)
		return pdu_fail(err, NVME_TCP_FES_UNSUPPORTED_PARAM,
				offsetof(struct nvme_tcp_icresp_pdu, maxdata));
	return 0;
}

/**
 * nvmf_tcp_hdgst_ok() - check the header digest that follows @hlen header bytes
 * @hdr: header followed by its 4-byte digest, little-endian (NVMe/TCP 1.0c 3.3.3)
 * @hlen: header bytes
 *
 * Return: true if the digest matches.
 */
bool nvmf_tcp_hdgst_ok(const void *hdr, size_t hlen)
{
	uint32_t wire;

	memcpy(&wire, (const uint8_t *)hdr + hlen, sizeof(wire));
	return wire == nvmf_crc32c(hdr, hlen);
}

/**
 * nvmf_tcp_hdgst_set() - write the header digest of @hlen bytes right after them
 * @hdr: header, followed by 4 bytes of room
 * @hlen: header bytes
 */
void nvmf_tcp_hdgst_set(void *hdr, size_t hlen)
{
	uint32_t crc = nvmf_crc32c(hdr, hlen);

	memcpy((uint8_t *)hdr + hlen, &crc, sizeof(crc));
}

static void hdr_init(struct nvme_tcp_hdr *hdr, uint8_t type, uint8_t flags, uint8_t pdo,
		     uint32_t plen)
{
	hdr->type = type;
	hdr->flags = flags;
	hdr->hlen = nvmf_tcp_pdu_hlen(type);
	hdr->pdo = pdo;
	hdr->plen = plen;
}

/**
 * nvmf_tcp_build_icreq() - an ICReq PDU (NVMe/TCP 1.0c 3.6.2.2)
 * @pdu: output, 128 bytes, fully initialised
 * @hdgst: request header digests
 * @ddgst: request data digests
 * @hpda: host PDU data alignment, 0's based dwords (0 to 31)
 * @maxr2t: maximum outstanding R2Ts per command, 0's based
 */
void nvmf_tcp_build_icreq(struct nvme_tcp_icreq_pdu *pdu, bool hdgst, bool ddgst, uint8_t hpda,
			  uint32_t maxr2t)
{
	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, nvme_tcp_icreq, 0, 0, sizeof(*pdu));
	pdu->pfv = NVME_TCP_PFV_1_0;
	pdu->hpda = hpda;
	pdu->digest = (hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) |
		      (ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0);
	pdu->maxr2t = maxr2t;
}

/**
 * nvmf_tcp_build_icresp() - an ICResp PDU (NVMe/TCP 1.0c 3.6.2.3)
 * @pdu: output, 128 bytes, fully initialised
 * @hdgst: header digests enabled
 * @ddgst: data digests enabled
 * @cpda: controller PDU data alignment, 0's based dwords (0 to 31)
 * @maxh2cdata: largest H2CData payload accepted, bytes
 */
void nvmf_tcp_build_icresp(struct nvme_tcp_icresp_pdu *pdu, bool hdgst, bool ddgst, uint8_t cpda,
			   uint32_t maxh2cdata)
{
	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, nvme_tcp_icresp, 0, 0, sizeof(*pdu));
	pdu->pfv = NVME_TCP_PFV_1_0;
	pdu->cpda = cpda;
	pdu->digest = (hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) |
		      (ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0);
	pdu->maxdata = maxh2cdata;
}

/**
 * nvmf_tcp_build_rsp() - a CapsuleResp PDU for @cqe (NVMe/TCP 1.0c 3.6.2.6)
 * @pdu: output; followed by room for a header digest when @hdgst
 * @cqe: completion queue entry; may point into @pdu
 * @hdgst: append the header digest
 *
 * Return: bytes to send (24, or 28 with the digest).
 */
size_t nvmf_tcp_build_rsp(struct nvme_tcp_rsp_pdu *pdu, const struct nvme_cqe *cqe, bool hdgst)
{
	struct nvme_cqe c = *cqe;
	uint32_t len = sizeof(*pdu) + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, nvme_tcp_rsp, hdgst ? NVME_TCP_F_HDGST : 0, 0, len);
	pdu->cqe = c;
	if (hdgst)
		nvmf_tcp_hdgst_set(pdu, sizeof(*pdu));
	return len;
}

/* Zero the bytes between the header (and its digest) and PDO. */
static void pad_to_pdo(void *pdu, uint32_t hdr_bytes, uint32_t pdo)
{
	if (pdo > hdr_bytes)
		memset((uint8_t *)pdu + hdr_bytes, 0, pdo - hdr_bytes);
}

/**
 * nvmf_tcp_build_data_hdr() - the header of a C2HData or H2CData PDU (NVMe/TCP 1.0c 3.6.2.7,
 *	3.6.2.8)
 * @pdu: output; followed by room for the header digest and padding: the returned bytes
 * @type: nvme_tcp_c2h_data or nvme_tcp_h2c_data
 * @cccid: command identifier
 * @ttag: transfer tag (H2CData), 0 for C2HData
 * @datao: offset of this payload in the command's data, bytes
 * @datal: payload bytes
 * @flags: NVME_TCP_F_DATA_LAST, and NVME_TCP_F_DATA_SUCCESS for C2HData; others are dropped
 * @p: negotiated digests and alignment
 *
 * PDO is HLEN + HDGST rounded up to the receiver's PDA: the host's HPDA for C2HData, the
 * controller's CPDA for H2CData. The padding is zeroed.
 *
 * Return: PDO, the bytes to send before the payload (24, or 28 with the digest, when the
 * receiver asks for no alignment).
 */
size_t nvmf_tcp_build_data_hdr(struct nvme_tcp_data_pdu *pdu, uint8_t type, uint16_t cccid,
			       uint16_t ttag, uint32_t datao, uint32_t datal, uint8_t flags,
			       const struct nvmf_tcp_params *p)
{
	bool c2h = type == nvme_tcp_c2h_data;
	uint32_t hdr_bytes = sizeof(*pdu) + (p->hdgst ? NVME_TCP_DIGEST_LEN : 0);
	uint32_t pdo = round_up(hdr_bytes, pda_bytes(c2h ? p->hpda : p->cpda));
	uint32_t dd = p->ddgst ? NVME_TCP_DIGEST_LEN : 0;

	flags &= c2h ? NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS : NVME_TCP_F_DATA_LAST;
	if (p->hdgst)
		flags |= NVME_TCP_F_HDGST;
	if (p->ddgst)
		flags |= NVME_TCP_F_DDGST;

	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, type, flags, pdo, pdo + datal + dd);
	pdu->cccid = cccid;
	pdu->ttag = ttag;
	pdu->datao = datao;
	pdu->datal = datal;
	if (p->hdgst)
		nvmf_tcp_hdgst_set(pdu, sizeof(*pdu));
	pad_to_pdo(pdu, hdr_bytes, pdo);
	return pdo;
}

/**
 * nvmf_tcp_build_r2t() - an R2T PDU (NVMe/TCP 1.0c 3.6.2.9)
 * @pdu: output; followed by room for a header digest when @hdgst
 * @cccid: command identifier
 * @ttag: transfer tag the host echoes in its H2CData PDUs
 * @r2to: offset of the requested data in the command's data, bytes
 * @r2tl: requested bytes
 * @hdgst: append the header digest
 *
 * Return: bytes to send (24, or 28 with the digest).
 */
size_t nvmf_tcp_build_r2t(struct nvme_tcp_r2t_pdu *pdu, uint16_t cccid, uint16_t ttag,
			  uint32_t r2to, uint32_t r2tl, bool hdgst)
{
	uint32_t len = sizeof(*pdu) + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, nvme_tcp_r2t, hdgst ? NVME_TCP_F_HDGST : 0, 0, len);
	pdu->cccid = cccid;
	pdu->ttag = ttag;
	pdu->r2to = r2to;
	pdu->r2tl = r2tl;
	if (hdgst)
		nvmf_tcp_hdgst_set(pdu, sizeof(*pdu));
	return len;
}

/**
 * nvmf_tcp_build_cmd() - a Command Capsule header (NVMe/TCP 1.0c 3.6.2.5), host side
 * @pdu: output; the caller has put the SQE in pdu->cmd, which is left alone. Followed by
 *	room for the header digest and padding: the returned bytes
 * @icd_len: in-capsule data bytes that follow the header
 * @p: negotiated digests and alignment
 *
 * Without in-capsule data PDO is 0 and DDGSTF clear; with it PDO is HLEN + HDGST rounded up
 * to the controller's CPDA, the padding is zeroed, and DDGSTF follows @p->ddgst.
 *
 * Return: header bytes to send (72, or 76 with the digest), plus padding up to PDO if any.
 */
size_t nvmf_tcp_build_cmd(struct nvme_tcp_cmd_pdu *pdu, uint32_t icd_len,
			  const struct nvmf_tcp_params *p)
{
	uint32_t hdr_bytes = sizeof(*pdu) + (p->hdgst ? NVME_TCP_DIGEST_LEN : 0);
	uint8_t flags = p->hdgst ? NVME_TCP_F_HDGST : 0;
	uint32_t pdo = 0, plen = hdr_bytes;

	if (icd_len) {
		pdo = round_up(hdr_bytes, pda_bytes(p->cpda));
		plen = pdo + icd_len;
		if (p->ddgst) {
			flags |= NVME_TCP_F_DDGST;
			plen += NVME_TCP_DIGEST_LEN;
		}
	}
	hdr_init(&pdu->hdr, nvme_tcp_cmd, flags, pdo, plen);
	if (p->hdgst)
		nvmf_tcp_hdgst_set(pdu, sizeof(*pdu));
	pad_to_pdo(pdu, hdr_bytes, pdo);
	return pdo ? pdo : hdr_bytes;
}

/**
 * nvmf_tcp_build_term() - a C2HTermReq or H2CTermReq (NVMe/TCP 1.0c 3.6.2.4)
 * @buf: output, at least sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA bytes
 * @type: nvme_tcp_c2h_term or nvme_tcp_h2c_term
 * @err: FES and FEI
 * @bad_hdr: the offending PDU header bytes (may be NULL, and may lie in @buf)
 * @bad_len: bytes of @bad_hdr (at most NVME_TCP_TERM_MAX_DATA are copied)
 *
 * Return: bytes to send.
 */
size_t nvmf_tcp_build_term(void *buf, uint8_t type, const struct nvmf_tcp_pdu_error *err,
			   const void *bad_hdr, size_t bad_len)
{
	struct nvme_tcp_term_pdu *pdu = buf;
	size_t n = bad_hdr ? bad_len : 0;

	if (n > NVME_TCP_TERM_MAX_DATA)
		n = NVME_TCP_TERM_MAX_DATA;
	/* Copy first: the offending header may be the very buffer we write the PDU into. */
	if (n)
		memmove((uint8_t *)buf + sizeof(*pdu), bad_hdr, n);
	memset(pdu, 0, sizeof(*pdu));
	hdr_init(&pdu->hdr, type, 0, 0, sizeof(*pdu) + n);
	pdu->fes = err->fes;
	pdu->fei = err->fei;
	return sizeof(*pdu) + n;
}

/**
 * nvmf_tcp_fes_str() - a short name for a FES value, for logs (NVMe/TCP 1.0c Figure 23)
 * @fes: NVME_TCP_FES_*
 *
 * Return: a static string, "unknown" for values the specification does not define.
 */
const char *nvmf_tcp_fes_str(uint16_t fes)
{
	switch (fes) {
	case NVME_TCP_FES_INVALID_PDU_HDR:
		return "invalid PDU header field";
	case NVME_TCP_FES_PDU_SEQ_ERR:
		return "PDU sequence error";
	case NVME_TCP_FES_HDR_DIGEST_ERR:
		return "header digest error";
	case NVME_TCP_FES_DATA_OUT_OF_RANGE:
		return "data transfer out of range";
	case NVME_TCP_FES_DATA_LIMIT_EXCEEDED:
		return "data transfer limit exceeded";
	case NVME_TCP_FES_UNSUPPORTED_PARAM:
		return "unsupported parameter";
	default:
		return "unknown";
	}
}
