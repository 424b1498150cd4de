// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the NVMe/TCP PDU codec (lib/tcp/pdu.c).
 *
 * Input: a 16-byte prefix that sets up the negotiated parameters, then the received bytes.
 *
 *   byte  0      bit 0 HDGST, bit 1 DDGST
 *   byte  1      CPDA (0's based dwords; values past 31 are fed as they are)
 *   byte  2      HPDA
 *   bytes 3-6    MAXH2CDATA, little-endian
 *   bytes 7-10   largest in-capsule data
 *   bytes 11-14  largest C2HData payload
 *   byte  15     seed for the builder round trips
 *   bytes 16-    the PDU
 *
 * Every input runs the header check in both directions, with and without negotiated
 * parameters, the ICReq/ICResp checks and the digest helpers, and asserts what they promise.
 * Then it builds PDUs from the same bytes and asserts that the receiving side accepts them.
 */
#include "common/crc32c.h"
#include "tcp/pdu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_LEN 16

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint32_t pda_bytes(uint8_t pda)
{
	return ((uint32_t)(pda > NVME_TCP_MAX_HPDA ? NVME_TCP_MAX_HPDA : pda) + 1) * 4;
}

static bool type_is_h2c(uint8_t t)
{
	return t == nvme_tcp_icreq || t == nvme_tcp_h2c_term || t == nvme_tcp_cmd ||
	       t == nvme_tcp_h2c_data;
}

static bool type_is_c2h(uint8_t t)
{
	return t == nvme_tcp_icresp || t == nvme_tcp_c2h_term || t == nvme_tcp_rsp ||
	       t == nvme_tcp_c2h_data || t == nvme_tcp_r2t;
}

static bool type_has_digests(uint8_t t)
{
	return t == nvme_tcp_cmd || t == nvme_tcp_rsp || t == nvme_tcp_h2c_data ||
	       t == nvme_tcp_c2h_data || t == nvme_tcp_r2t;
}

/* What nvmf_tcp_check_hdr() promises about one header, accepted or not. */
static void check_hdr_invariants(const struct nvme_tcp_hdr *h, const struct nvmf_tcp_params *p,
				 bool ctrl_side)
{
	struct nvmf_tcp_pdu_error err = { 0xffff, 0xffffffff };
	int ret = nvmf_tcp_check_hdr(h, p, ctrl_side, &err);
	uint8_t hlen = nvmf_tcp_pdu_hlen(h->type);
	uint32_t data_len = nvmf_tcp_pdu_data_len(h, p);

	/* Deterministic, and the same without an error record */
	CHECK(nvmf_tcp_check_hdr(h, p, ctrl_side, NULL) == ret);

	if (ret) {
		CHECK(ret == -EPROTO);
		CHECK(err.fes == NVME_TCP_FES_INVALID_PDU_HDR ||
		      err.fes == NVME_TCP_FES_PDU_SEQ_ERR ||
		      err.fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED);
		CHECK(err.fei <= offsetof(struct nvme_tcp_hdr, plen));
		if (err.fes == NVME_TCP_FES_PDU_SEQ_ERR)
			CHECK(err.fei == 0);
		if (err.fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED)
			CHECK(err.fei == offsetof(struct nvme_tcp_hdr, plen) && p);
		if (!hlen)
			CHECK(err.fes == NVME_TCP_FES_INVALID_PDU_HDR && err.fei == 0);
		return;
	}

	CHECK(err.fes == 0xffff && err.fei == 0xffffffff); /* untouched on success */
	CHECK(hlen && h->hlen == hlen);
	CHECK(ctrl_side ? type_is_h2c(h->type) : type_is_c2h(h->type));
	CHECK(h->plen >= hlen);

	switch (h->type) {
	case nvme_tcp_icreq:
	case nvme_tcp_icresp:
		CHECK(!p && h->plen == hlen && !h->pdo && !data_len);
		return;
	case nvme_tcp_h2c_term:
	case nvme_tcp_c2h_term:
		CHECK(h->plen <= hlen + NVME_TCP_TERM_MAX_DATA && !data_len);
		return;
	default:
		break;
	}

	CHECK(p && type_has_digests(h->type));
	{
		uint32_t hd = p->hdgst ? NVME_TCP_DIGEST_LEN : 0;
		uint32_t dd = p->ddgst && data_len ? NVME_TCP_DIGEST_LEN : 0;
		uint32_t limit;

		CHECK(!!(h->flags & NVME_TCP_F_HDGST) == p->hdgst);
		/* DDGSTF is reserved, so not checked, in CapsuleResp and R2T */
		if (h->type != nvme_tcp_rsp && h->type != nvme_tcp_r2t)
			CHECK(!!(h->flags & NVME_TCP_F_DDGST) == !!dd);
		CHECK((uint64_t)data_len + hlen + hd + dd <= h->plen);
		if (!data_len) {
			/* Only a Command Capsule may come without data */
			CHECK(h->type == nvme_tcp_cmd || h->type == nvme_tcp_rsp ||
			      h->type == nvme_tcp_r2t);
			CHECK(!h->pdo && h->plen == hlen + hd);
			return;
		}
		CHECK(h->type == nvme_tcp_cmd || h->type == nvme_tcp_h2c_data ||
		      h->type == nvme_tcp_c2h_data);
		CHECK(h->pdo >= hlen + hd);
		CHECK(h->pdo % pda_bytes(h->type == nvme_tcp_c2h_data ? p->hpda : p->cpda) == 0);
		CHECK((uint64_t)h->pdo + data_len + dd == h->plen);
		switch (h->type) {
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
		CHECK(data_len <= limit);
		if (h->type == nvme_tcp_c2h_data && (h->flags & NVME_TCP_F_DATA_SUCCESS))
			CHECK(h->flags & NVME_TCP_F_DATA_LAST);
	}
}

static void check_ic_invariants(const uint8_t *pdu)
{
	const struct nvme_tcp_icreq_pdu *req = (const void *)pdu;
	const struct nvme_tcp_icresp_pdu *resp = (const void *)pdu;
	struct nvmf_tcp_pdu_error err = { 0, 0 };
	int ret;

	ret = nvmf_tcp_check_icreq(req, &err);
	if (ret == 0) {
		CHECK(nvmf_tcp_check_hdr(&req->hdr, NULL, true, NULL) == 0);
		CHECK(req->hdr.type == nvme_tcp_icreq && req->hdr.plen == 128);
		CHECK(req->pfv == NVME_TCP_PFV_1_0 && req->hpda <= NVME_TCP_MAX_HPDA);
	} else {
		CHECK(ret == -EPROTO);
		if (err.fes == NVME_TCP_FES_UNSUPPORTED_PARAM)
			CHECK(err.fei == 8 || err.fei == 10);
		else /* a bad header, or a valid one of another type (a termination request) */
			CHECK(nvmf_tcp_check_hdr(&req->hdr, NULL, true, NULL) == -EPROTO ||
			      (req->hdr.type != nvme_tcp_icreq && err.fei == 0));
	}

	for (int d = 0; d < 4; d++) {
		bool hd = d & 1, dd = d & 2;

		ret = nvmf_tcp_check_icresp(resp, hd, dd, &err);
		if (ret == 0) {
			CHECK(nvmf_tcp_check_hdr(&resp->hdr, NULL, false, NULL) == 0);
			CHECK(resp->pfv == NVME_TCP_PFV_1_0 && resp->cpda <= NVME_TCP_MAX_HPDA);
			CHECK(!!(resp->digest & NVME_TCP_HDR_DIGEST_ENABLE) == hd);
			CHECK(!!(resp->digest & NVME_TCP_DATA_DIGEST_ENABLE) == dd);
			CHECK(resp->maxdata >= 4096 && resp->maxdata % 4 == 0);
		} else {
			CHECK(ret == -EPROTO);
			if (err.fes == NVME_TCP_FES_UNSUPPORTED_PARAM)
				CHECK(err.fei == 8 || err.fei == 10 || err.fei == 11 ||
				      err.fei == 12);
			else
				CHECK(nvmf_tcp_check_hdr(&resp->hdr, NULL, false, NULL) ==
					      -EPROTO ||
				      (resp->hdr.type != nvme_tcp_icresp && err.fei == 0));
		}
	}
}

/* hdgst_ok() reads exactly hlen + 4 bytes; hdgst_set() makes it true. */
static void check_digest_invariants(const uint8_t *pdu, size_t len)
{
	uint8_t hlen = nvmf_tcp_pdu_hlen(pdu[0]);
	uint8_t copy[128 + NVME_TCP_DIGEST_LEN];
	uint32_t wire;
	bool ok;

	if (!hlen || len < (size_t)hlen + NVME_TCP_DIGEST_LEN)
		return;
	ok = nvmf_tcp_hdgst_ok(pdu, hlen);
	memcpy(&wire, pdu + hlen, sizeof(wire));
	CHECK(ok == (wire == nvmf_crc32c(pdu, hlen)));

	memcpy(copy, pdu, hlen);
	nvmf_tcp_hdgst_set(copy, hlen);
	CHECK(nvmf_tcp_hdgst_ok(copy, hlen));
	copy[hlen / 2] ^= 0x01;
	CHECK(!nvmf_tcp_hdgst_ok(copy, hlen));
}

static void check_accepted(const void *pdu, const struct nvmf_tcp_params *p, bool ctrl_side,
			   uint32_t want_data_len)
{
	struct nvmf_tcp_pdu_error err = { 0, 0 };

	CHECK(nvmf_tcp_check_hdr(pdu, p, ctrl_side, &err) == 0);
	CHECK(nvmf_tcp_pdu_data_len(pdu, p) == want_data_len);
	check_hdr_invariants(pdu, p, ctrl_side);
}

/*
 * Payload bytes for a built PDU, 1 to @limit: bounded so that PDO + payload + digest fits
 * PLEN's 32 bits, which no real PDU comes near.
 */
static uint32_t pick_len(uint32_t v, uint32_t limit)
{
	if (limit > 1u << 30)
		limit = 1u << 30;
	return 1 + v % limit;
}

/* The builders and the checker agree: what one side builds, the other side accepts. */
static void check_round_trips(const struct nvmf_tcp_params *neg, uint8_t seed, const uint8_t *pdu,
			      size_t len)
{
	struct nvmf_tcp_params p = *neg;
	struct nvmf_tcp_pdu_error err = { 0, 0 };
	uint8_t buf[512];
	uint32_t v = len >= 4 ? get_le32(pdu) : seed;
	uint32_t datal;
	size_t n;

	/* What ICReq/ICResp validation guarantees */
	if (p.cpda > NVME_TCP_MAX_HPDA)
		p.cpda = NVME_TCP_MAX_HPDA;
	if (p.hpda > NVME_TCP_MAX_HPDA)
		p.hpda = NVME_TCP_MAX_HPDA;

	nvmf_tcp_build_icreq((void *)buf, p.hdgst, p.ddgst, p.hpda, v);
	CHECK(nvmf_tcp_check_icreq((void *)buf, &err) == 0);
	nvmf_tcp_build_icresp((void *)buf, p.hdgst, p.ddgst, p.cpda, (v | 4096) & ~3u);
	CHECK(nvmf_tcp_check_icresp((void *)buf, p.hdgst, p.ddgst, &err) == 0);

	memset(buf, 0, sizeof(buf));
	n = nvmf_tcp_build_cmd((void *)buf, 0, &p);
	CHECK(n == 72u + (p.hdgst ? 4 : 0));
	check_accepted(buf, &p, true, 0);
	if (p.max_icd) {
		datal = pick_len(v, p.max_icd);
		n = nvmf_tcp_build_cmd((void *)buf, datal, &p);
		CHECK(n == ((struct nvme_tcp_hdr *)buf)->pdo && n < 256);
		check_accepted(buf, &p, true, datal);
		if (p.hdgst)
			CHECK(nvmf_tcp_hdgst_ok(buf, 72));
	}
	/* One byte over the limit, when the PDU can say so */
	if (p.max_icd < 0xffffffffu - 1024) {
		nvmf_tcp_build_cmd((void *)buf, p.max_icd + 1, &p);
		CHECK(nvmf_tcp_check_hdr((void *)buf, &p, true, &err) == -EPROTO);
		CHECK(err.fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED && err.fei == 4);
	}

	if (p.maxh2cdata) {
		datal = pick_len(v, p.maxh2cdata);
		n = nvmf_tcp_build_data_hdr((void *)buf, nvme_tcp_h2c_data, 1, 2, 0, datal, seed,
					    &p);
		CHECK(n == ((struct nvme_tcp_hdr *)buf)->pdo && n < 256);
		check_accepted(buf, &p, true, datal);
	}
	if (p.maxh2cdata < 0xffffffffu - 1024) {
		nvmf_tcp_build_data_hdr((void *)buf, nvme_tcp_h2c_data, 1, 2, 0, p.maxh2cdata + 1,
					seed, &p);
		CHECK(nvmf_tcp_check_hdr((void *)buf, &p, true, &err) == -EPROTO);
		CHECK(err.fes == NVME_TCP_FES_DATA_LIMIT_EXCEEDED && err.fei == 4);
	}

	if (p.max_c2h_data) {
		/* SUCCESS only on the last PDU */
		uint8_t flags = seed & NVME_TCP_F_DATA_SUCCESS
					? NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS
					: seed;

		datal = pick_len(v, p.max_c2h_data);
		n = nvmf_tcp_build_data_hdr((void *)buf, nvme_tcp_c2h_data, 1, 0, 0, datal, flags,
					    &p);
		CHECK(n == ((struct nvme_tcp_hdr *)buf)->pdo && n < 256);
		check_accepted(buf, &p, false, datal);
	}

	{
		struct nvme_cqe cqe;

		memcpy(&cqe, pdu, len < sizeof(cqe) ? len : sizeof(cqe));
		if (len < sizeof(cqe))
			memset((uint8_t *)&cqe + len, 0, sizeof(cqe) - len);
		n = nvmf_tcp_build_rsp((void *)buf, &cqe, p.hdgst);
		CHECK(n == 24u + (p.hdgst ? 4 : 0));
		check_accepted(buf, &p, false, 0);
		CHECK(!memcmp(buf + 8, &cqe, sizeof(cqe)));
	}

	n = nvmf_tcp_build_r2t((void *)buf, 1, 2, v, v ^ 0x5a5a, p.hdgst);
	CHECK(n == 24u + (p.hdgst ? 4 : 0));
	check_accepted(buf, &p, false, 0);

	{
		struct nvmf_tcp_pdu_error e = { .fes = seed, .fei = v };

		n = nvmf_tcp_build_term(buf, nvme_tcp_c2h_term, &e, pdu, len);
		CHECK(n == 24 + (len < 128 ? len : 128));
		CHECK(!memcmp(buf + 24, pdu, n - 24));
		check_accepted(buf, &p, false, 0);
		check_accepted(buf, NULL, false, 0);
		nvmf_tcp_build_term(buf, nvme_tcp_h2c_term, &e, pdu, len);
		check_accepted(buf, &p, true, 0);
		check_accepted(buf, NULL, true, 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_tcp_params p;
	const uint8_t *in;
	uint8_t *pdu;
	size_t len;

	if (size < PREFIX_LEN)
		return 0;
	p = (struct nvmf_tcp_params){
		.hdgst = data[0] & 1,
		.ddgst = data[0] & 2,
		.cpda = data[1],
		.hpda = data[2],
		.maxh2cdata = get_le32(data + 3),
		.max_icd = get_le32(data + 7),
		.max_c2h_data = get_le32(data + 11),
	};
	in = data + PREFIX_LEN;
	len = size - PREFIX_LEN;

	/* An exact-size copy, so that AddressSanitizer sees any read past the bytes given. */
	pdu = malloc(len ? len : 1);
	if (!pdu)
		return 0;
	memcpy(pdu, in, len);

	if (len >= sizeof(struct nvme_tcp_hdr)) {
		const struct nvme_tcp_hdr *h = (const void *)pdu;

		for (int side = 0; side < 2; side++) {
			check_hdr_invariants(h, &p, side);
			check_hdr_invariants(h, NULL, side);
		}
	}
	if (len >= sizeof(struct nvme_tcp_icreq_pdu))
		check_ic_invariants(pdu);
	if (len)
		check_digest_invariants(pdu, len);
	check_round_trips(&p, data[15], pdu, len);

	free(pdu);
	return 0;
}
