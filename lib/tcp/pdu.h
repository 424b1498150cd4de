/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDU codec (NVMe/TCP Transport 1.0c 3.6), one copy shared by host and target:
 * header validation for received PDUs, digests, and builders for the PDUs we send. No I/O
 * here: callers own the sockets and the buffers.
 */
#ifndef NVMF_TCP_PDU_H
#define NVMF_TCP_PDU_H

#include "nvmf/spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct nvmf_tcp_params - what one connection negotiated in ICReq/ICResp
 * @hdgst: header digest enabled
 * @ddgst: data digest enabled
 * @cpda: controller PDU data alignment, 0's based dwords (we send 0: no padding)
 * @hpda: host PDU data alignment requested in ICReq, 0's based dwords
 * @maxh2cdata: MAXH2CDATA, bytes: the largest H2CData payload the controller accepts
 * @max_icd: largest in-capsule data, bytes, the receiver accepts in a Command Capsule
 * @max_c2h_data: largest C2HData payload, bytes, the receiver accepts (host side)
 */
struct nvmf_tcp_params {
	bool hdgst;
	bool ddgst;
	uint8_t cpda;
	uint8_t hpda;
	uint32_t maxh2cdata;
	uint32_t max_icd;
	uint32_t max_c2h_data;
};

/**
 * struct nvmf_tcp_pdu_error - why a received PDU is fatal (goes into a termination PDU)
 * @fes: NVME_TCP_FES_*
 * @fei: field error information: byte offset of the bad field in the PDU header, or for
 *	FES "unsupported parameter", the offset too (NVMe/TCP 1.0c Figure 23)
 */
struct nvmf_tcp_pdu_error {
	uint16_t fes;
	uint32_t fei;
};

/**
 * nvmf_tcp_pdu_hlen() - the fixed header length of a PDU type
 * @type: enum nvme_tcp_pdu_type
 *
 * Return: bytes (HLEN field value), or 0 for an unknown type.
 */
uint8_t nvmf_tcp_pdu_hlen(uint8_t type);

/**
 * nvmf_tcp_check_hdr() - validate the 8-byte common header of a received PDU
 * @hdr: the common header
 * @p: negotiated parameters; NULL before ICReq/ICResp exchange (only IC PDUs and termination
 *	requests are valid then)
 * @ctrl_side: true if the receiver is the controller (expects host-to-controller PDUs)
 * @err: set on failure
 *
 * Checks the PDU type for the direction and connection phase, HLEN, the HDGSTF/DDGSTF
 * flags against the negotiated digests, PDO (present only with data, >= HLEN + HDGST,
 * aligned to the receiver's PDA) and PLEN (>= header + digests, <= the receiver's limits:
 * in-capsule data for Command Capsules, MAXH2CDATA for H2CData, max_c2h_data for C2HData,
 * NVME_TCP_TERM_MAX_DATA for termination requests).
 *
 * Return: 0 if valid, -EPROTO with @err filled otherwise.
 */
int nvmf_tcp_check_hdr(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p,
		       bool ctrl_side, struct nvmf_tcp_pdu_error *err);

/**
 * nvmf_tcp_pdu_data_len() - payload bytes of a PDU whose header passed nvmf_tcp_check_hdr()
 * @hdr: common header
 * @p: negotiated parameters
 *
 * Return: PLEN - PDO - DDGST when the PDU carries data (a Command Capsule with in-capsule
 * data, H2CData, C2HData), else 0: the error data of a termination request is not PDU data.
 */
uint32_t nvmf_tcp_pdu_data_len(const struct nvme_tcp_hdr *hdr, const struct nvmf_tcp_params *p);

/**
 * nvmf_tcp_check_icreq() - validate a received ICReq (NVMe/TCP 1.0c 3.6.2.2)
 * @req: the 128-byte PDU
 * @err: set on failure (e.g. FES unsupported parameter, FEI = offset of PFV/HPDA/MAXR2T)
 *
 * Return: 0 or -EPROTO.
 */
int nvmf_tcp_check_icreq(const struct nvme_tcp_icreq_pdu *req, struct nvmf_tcp_pdu_error *err);

/**
 * nvmf_tcp_check_icresp() - validate a received ICResp (host side)
 * @resp: the 128-byte PDU
 * @want_hdgst: header digest the host asked for
 * @want_ddgst: data digest the host asked for
 * @err: set on failure
 *
 * Return: 0 or -EPROTO.
 */
int nvmf_tcp_check_icresp(const struct nvme_tcp_icresp_pdu *resp, bool want_hdgst, bool want_ddgst,
			  struct nvmf_tcp_pdu_error *err);

/**
 * nvmf_tcp_hdgst_ok() - check the header digest that follows @hlen header bytes
 * @hdr: header followed by its 4-byte digest
 * @hlen: header bytes
 *
 * Return: true if the digest matches.
 */
bool nvmf_tcp_hdgst_ok(const void *hdr, size_t hlen);

/** nvmf_tcp_hdgst_set() - write the header digest of @hlen bytes right after them */
void nvmf_tcp_hdgst_set(void *hdr, size_t hlen);

/**
 * nvmf_tcp_build_icreq() / nvmf_tcp_build_icresp() - the Initialize Connection PDUs
 * @pdu: output, 128 bytes, fully initialised (reserved bytes zero)
 */
void nvmf_tcp_build_icreq(struct nvme_tcp_icreq_pdu *pdu, bool hdgst, bool ddgst, uint8_t hpda,
			  uint32_t maxr2t);
void nvmf_tcp_build_icresp(struct nvme_tcp_icresp_pdu *pdu, bool hdgst, bool ddgst, uint8_t cpda,
			   uint32_t maxh2cdata);

/**
 * nvmf_tcp_build_rsp() - a CapsuleResp PDU for @cqe
 * @pdu: output; followed by room for a header digest when @hdgst
 * @cqe: completion queue entry
 * @hdgst: append the header digest
 *
 * Return: bytes to send (24, or 28 with the digest).
 */
size_t nvmf_tcp_build_rsp(struct nvme_tcp_rsp_pdu *pdu, const struct nvme_cqe *cqe, bool hdgst);

/**
 * nvmf_tcp_build_data_hdr() - the header of a C2HData or H2CData PDU
 * @pdu: output; followed by room for a header digest when @p->hdgst, and for the zeroed
 *	padding up to PDO: the returned bytes in all (256 always suffice)
 * @type: nvme_tcp_c2h_data or nvme_tcp_h2c_data
 * @cccid: command identifier
 * @ttag: transfer tag (H2CData), 0 for C2HData
 * @datao: offset of this payload in the command's data, bytes
 * @datal: payload bytes
 * @flags: NVME_TCP_F_DATA_LAST / NVME_TCP_F_DATA_SUCCESS (C2HData only; others dropped)
 * @p: negotiated digests and alignment (HDGSTF/DDGSTF are set from it; PDO is HLEN + HDGST
 *	rounded up to the receiver's PDA: @p->hpda for C2HData, @p->cpda for H2CData)
 *
 * Return: PDO: header bytes to send before the payload (24, or 28 with the digest, plus
 * padding when the receiver's PDA asks for it). The caller sends the payload and, with
 * @p->ddgst, its CRC32C.
 */
size_t nvmf_tcp_build_data_hdr(struct nvme_tcp_data_pdu *pdu, uint8_t type, uint16_t cccid,
			       uint16_t ttag, uint32_t datao, uint32_t datal, uint8_t flags,
			       const struct nvmf_tcp_params *p);

/**
 * nvmf_tcp_build_r2t() - an R2T PDU
 * Return: bytes to send (24, or 28 with the digest).
 */
size_t nvmf_tcp_build_r2t(struct nvme_tcp_r2t_pdu *pdu, uint16_t cccid, uint16_t ttag,
			  uint32_t r2to, uint32_t r2tl, bool hdgst);

/**
 * nvmf_tcp_build_cmd() - a Command Capsule header (host side)
 * @pdu: output; the caller has put the SQE in pdu->cmd. Followed by room for a header
 *	digest and the zeroed padding up to PDO: the returned bytes in all (256 always suffice)
 * @icd_len: in-capsule data bytes that follow the header
 * @p: negotiated digests and alignment (PDO honours the controller's CPDA)
 *
 * Return: header bytes to send (72, or 76 with the digest), plus padding up to PDO if any.
 */
size_t nvmf_tcp_build_cmd(struct nvme_tcp_cmd_pdu *pdu, uint32_t icd_len,
			  const struct nvmf_tcp_params *p);

/**
 * nvmf_tcp_build_term() - a C2HTermReq or H2CTermReq echoing the offending header
 * @buf: output, at least sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA bytes
 * @type: nvme_tcp_c2h_term or nvme_tcp_h2c_term
 * @err: FES and FEI
 * @bad_hdr: the offending PDU header bytes (may be NULL)
 * @bad_len: bytes of @bad_hdr (at most NVME_TCP_TERM_MAX_DATA are copied)
 *
 * Return: bytes to send.
 */
size_t nvmf_tcp_build_term(void *buf, uint8_t type, const struct nvmf_tcp_pdu_error *err,
			   const void *bad_hdr, size_t bad_len);

/** nvmf_tcp_fes_str() - a short name for a FES value, for logs */
const char *nvmf_tcp_fes_str(uint16_t fes);

#endif
