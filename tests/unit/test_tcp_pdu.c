// SPDX-License-Identifier: MIT
/*
 * Unit tests for the NVMe/TCP PDU codec (lib/tcp/pdu.c): builders, header validation in both
 * directions and both connection phases, ICReq/ICResp checks, digests.
 */
#include "common/crc32c.h"
#include "tcp/pdu.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MAX_ICD 8192u
#define MAXH2CDATA 65536u
#define MAX_C2H_DATA 131072u

/* FEI values: byte offsets in the common header */
#define FEI_TYPE 0
#define FEI_FLAGS 1
#define FEI_HLEN 2
#define FEI_PDO 3
#define FEI_PLEN 4

#define FES_HDR NVME_TCP_FES_INVALID_PDU_HDR
#define FES_SEQ NVME_TCP_FES_PDU_SEQ_ERR
#define FES_LIMIT NVME_TCP_FES_DATA_LIMIT_EXCEEDED
#define FES_PARAM NVME_TCP_FES_UNSUPPORTED_PARAM

#define HD NVME_TCP_F_HDGST
#define DD NVME_TCP_F_DDGST
#define LAST NVME_TCP_F_DATA_LAST
#define SUCCESS NVME_TCP_F_DATA_SUCCESS

/* One buffer viewed as any PDU; filled with 0xa5 first so unset reserved bytes show. */
union pdu_buf {
	uint8_t b[512];
	struct nvme_tcp_hdr hdr;
	struct nvme_tcp_icreq_pdu icreq;
	struct nvme_tcp_icresp_pdu icresp;
	struct nvme_tcp_term_pdu term;
	struct nvme_tcp_cmd_pdu cmd;
	struct nvme_tcp_rsp_pdu rsp;
	struct nvme_tcp_data_pdu data;
	struct nvme_tcp_r2t_pdu r2t;
};

static void buf_poison(union pdu_buf *u)
{
	memset(u, 0xa5, sizeof(*u));
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static struct nvmf_tcp_params mkp(bool hdgst, bool ddgst)
{
	return (struct nvmf_tcp_params){
		.hdgst = hdgst,
		.ddgst = ddgst,
		.maxh2cdata = MAXH2CDATA,
		.max_icd = MAX_ICD,
		.max_c2h_data = MAX_C2H_DATA,
	};
}

static struct nvme_tcp_hdr mkhdr(uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo,
				 uint32_t plen)
{
	return (struct nvme_tcp_hdr){
		.type = type, .flags = flags, .hlen = hlen, .pdo = pdo, .plen = plen
	};
}

/* Macros, not functions, so that a failure names the line of the case that failed. */
#define assert_hdr_ok(h, p, ctrl_side)                                                             \
	do {                                                                                       \
		struct nvme_tcp_hdr h_ = (h);                                                      \
		struct nvmf_tcp_pdu_error e_ = { 0, 0 };                                           \
		assert_int_equal(nvmf_tcp_check_hdr(&h_, (p), (ctrl_side), &e_), 0);               \
	} while (0)

#define assert_hdr_err(h, p, ctrl_side, want_fes, want_fei)                                        \
	do {                                                                                       \
		struct nvme_tcp_hdr h_ = (h);                                                      \
		struct nvmf_tcp_pdu_error e_ = { 0xffff, 0xffffffff };                             \
		assert_int_equal(nvmf_tcp_check_hdr(&h_, (p), (ctrl_side), &e_), -EPROTO);         \
		assert_int_equal(e_.fes, (want_fes));                                              \
		assert_int_equal(e_.fei, (want_fei));                                              \
	} while (0)

#define assert_pdu_err(call, want_fes, want_fei)                                                   \
	do {                                                                                       \
		struct nvmf_tcp_pdu_error e_ = { 0xffff, 0xffffffff };                             \
		assert_int_equal(call(&e_), -EPROTO);                                              \
		assert_int_equal(e_.fes, (want_fes));                                              \
		assert_int_equal(e_.fei, (want_fei));                                              \
	} while (0)

/* ---------------------------------------------------------------------------------------
 * CRC32C and digests
 */
static void test_crc32c_vector(void **state)
{
	uint8_t b[16] = "123456789";

	(void)state;
	assert_int_equal(nvmf_crc32c(b, 9), 0xe3069283u);

	/* The digest goes on the wire little-endian, right after the bytes it covers. */
	memset(b + 9, 0, 4);
	nvmf_tcp_hdgst_set(b, 9);
	assert_int_equal(b[9], 0x83);
	assert_int_equal(b[10], 0x92);
	assert_int_equal(b[11], 0x06);
	assert_int_equal(b[12], 0xe3);
	assert_true(nvmf_tcp_hdgst_ok(b, 9));
}

static void test_hdgst_ok_corrupted(void **state)
{
	struct nvmf_tcp_params p = mkp(true, false);
	union pdu_buf u;
	size_t n;

	(void)state;
	buf_poison(&u);
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 7, 0, 0, 4096, LAST, &p);
	assert_int_equal(n, 28);
	assert_true(nvmf_tcp_hdgst_ok(&u, 24));

	/* Every single-bit flip in the header or in the digest itself must be caught. */
	for (size_t i = 0; i < 28; i++) {
		for (int bit = 0; bit < 8; bit++) {
			u.b[i] ^= (uint8_t)(1u << bit);
			assert_false(nvmf_tcp_hdgst_ok(&u, 24));
			u.b[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_true(nvmf_tcp_hdgst_ok(&u, 24));

	/* A zeroed digest is not a valid digest of a non-trivial header. */
	memset(u.b + 24, 0, 4);
	assert_false(nvmf_tcp_hdgst_ok(&u, 24));
}

/* ---------------------------------------------------------------------------------------
 * Small helpers
 */
static void test_pdu_hlen(void **state)
{
	(void)state;
	for (unsigned int t = 0; t < 256; t++) {
		uint8_t want;

		switch (t) {
		case nvme_tcp_icreq:
		case nvme_tcp_icresp:
			want = 128;
			break;
		case nvme_tcp_cmd:
			want = 72;
			break;
		case nvme_tcp_h2c_term:
		case nvme_tcp_c2h_term:
		case nvme_tcp_rsp:
		case nvme_tcp_h2c_data:
		case nvme_tcp_c2h_data:
		case nvme_tcp_r2t:
			want = 24;
			break;
		default:
			want = 0;
			break;
		}
		assert_int_equal(nvmf_tcp_pdu_hlen((uint8_t)t), want);
	}
}

static void test_fes_str(void **state)
{
	const char *s[7];

	(void)state;
	for (uint16_t fes = 1; fes <= 6; fes++) {
		s[fes] = nvmf_tcp_fes_str(fes);
		assert_non_null(s[fes]);
		assert_string_not_equal(s[fes], "unknown");
		for (uint16_t j = 1; j < fes; j++)
			assert_string_not_equal(s[fes], s[j]);
	}
	assert_string_equal(nvmf_tcp_fes_str(0), "unknown");
	assert_string_equal(nvmf_tcp_fes_str(7), "unknown");
	assert_string_equal(nvmf_tcp_fes_str(0xffff), "unknown");
}

/* ---------------------------------------------------------------------------------------
 * Builders
 */
static void test_build_icreq(void **state)
{
	struct nvmf_tcp_pdu_error e;
	union pdu_buf u;

	(void)state;
	buf_poison(&u);
	nvmf_tcp_build_icreq(&u.icreq, true, false, 3, 0x12345678);
	assert_int_equal(u.icreq.hdr.type, nvme_tcp_icreq);
	assert_int_equal(u.icreq.hdr.flags, 0);
	assert_int_equal(u.icreq.hdr.hlen, 128);
	assert_int_equal(u.icreq.hdr.pdo, 0);
	assert_int_equal(u.icreq.hdr.plen, 128);
	assert_int_equal(u.icreq.pfv, NVME_TCP_PFV_1_0);
	assert_int_equal(u.icreq.hpda, 3);
	assert_int_equal(u.icreq.digest, NVME_TCP_HDR_DIGEST_ENABLE);
	assert_int_equal(u.icreq.maxr2t, 0x12345678);
	assert_true(all_zero(u.icreq.rsvd2, sizeof(u.icreq.rsvd2)));
	assert_int_equal(u.b[128], 0xa5); /* nothing written past the PDU */
	assert_int_equal(nvmf_tcp_check_icreq(&u.icreq, &e), 0);

	nvmf_tcp_build_icreq(&u.icreq, false, true, 0, 0);
	assert_int_equal(u.icreq.digest, NVME_TCP_DATA_DIGEST_ENABLE);
	nvmf_tcp_build_icreq(&u.icreq, true, true, 31, 0);
	assert_int_equal(u.icreq.digest, NVME_TCP_HDR_DIGEST_ENABLE | NVME_TCP_DATA_DIGEST_ENABLE);
	assert_int_equal(nvmf_tcp_check_icreq(&u.icreq, &e), 0);
	nvmf_tcp_build_icreq(&u.icreq, false, false, 0, 0);
	assert_int_equal(u.icreq.digest, 0);
}

static void test_build_icresp(void **state)
{
	struct nvmf_tcp_pdu_error e;
	union pdu_buf u;

	(void)state;
	buf_poison(&u);
	nvmf_tcp_build_icresp(&u.icresp, true, true, 2, 0x400000);
	assert_int_equal(u.icresp.hdr.type, nvme_tcp_icresp);
	assert_int_equal(u.icresp.hdr.flags, 0);
	assert_int_equal(u.icresp.hdr.hlen, 128);
	assert_int_equal(u.icresp.hdr.pdo, 0);
	assert_int_equal(u.icresp.hdr.plen, 128);
	assert_int_equal(u.icresp.pfv, NVME_TCP_PFV_1_0);
	assert_int_equal(u.icresp.cpda, 2);
	assert_int_equal(u.icresp.digest, NVME_TCP_HDR_DIGEST_ENABLE | NVME_TCP_DATA_DIGEST_ENABLE);
	assert_int_equal(u.icresp.maxdata, 0x400000);
	assert_true(all_zero(u.icresp.rsvd, sizeof(u.icresp.rsvd)));
	assert_int_equal(u.b[128], 0xa5);
	assert_int_equal(nvmf_tcp_check_icresp(&u.icresp, true, true, &e), 0);

	nvmf_tcp_build_icresp(&u.icresp, false, false, 0, 4096);
	assert_int_equal(u.icresp.digest, 0);
	assert_int_equal(nvmf_tcp_check_icresp(&u.icresp, false, false, &e), 0);
}

static void test_build_rsp(void **state)
{
	struct nvme_cqe cqe = {
		.result.u64 = 0x1122334455667788ull,
		.sq_head = 5,
		.sq_id = 2,
		.cid = 0xbeef,
		.status = 0x0004,
	};
	union pdu_buf u;
	uint32_t dgst;

	(void)state;
	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_rsp(&u.rsp, &cqe, false), 24);
	assert_int_equal(u.rsp.hdr.type, nvme_tcp_rsp);
	assert_int_equal(u.rsp.hdr.flags, 0);
	assert_int_equal(u.rsp.hdr.hlen, 24);
	assert_int_equal(u.rsp.hdr.pdo, 0);
	assert_int_equal(u.rsp.hdr.plen, 24);
	assert_memory_equal(&u.rsp.cqe, &cqe, sizeof(cqe));
	assert_int_equal(u.b[24], 0xa5);

	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_rsp(&u.rsp, &cqe, true), 28);
	assert_int_equal(u.rsp.hdr.flags, HD);
	assert_int_equal(u.rsp.hdr.plen, 28);
	assert_int_equal(u.rsp.hdr.pdo, 0);
	assert_memory_equal(&u.rsp.cqe, &cqe, sizeof(cqe));
	memcpy(&dgst, u.b + 24, 4);
	assert_int_equal(dgst, nvmf_crc32c(u.b, 24));
	assert_true(nvmf_tcp_hdgst_ok(u.b, 24));

	/* The CQE may already sit in the PDU it is built into. */
	buf_poison(&u);
	memcpy(&u.rsp.cqe, &cqe, sizeof(cqe));
	nvmf_tcp_build_rsp(&u.rsp, &u.rsp.cqe, false);
	assert_memory_equal(&u.rsp.cqe, &cqe, sizeof(cqe));
	assert_int_equal(u.rsp.hdr.plen, 24);
}

static void test_build_data_hdr_c2h(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);
	union pdu_buf u;
	size_t n;

	(void)state;
	buf_poison(&u);
	/* 0x80 is no data PDU flag: dropped. */
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 0x1234, 0x55, 8192, 1000,
				    LAST | SUCCESS | 0x80, &p);
	assert_int_equal(n, 28);
	assert_int_equal(u.data.hdr.type, nvme_tcp_c2h_data);
	assert_int_equal(u.data.hdr.flags, HD | DD | LAST | SUCCESS);
	assert_int_equal(u.data.hdr.hlen, 24);
	assert_int_equal(u.data.hdr.pdo, 28);
	assert_int_equal(u.data.hdr.plen, 28 + 1000 + 4);
	assert_int_equal(u.data.cccid, 0x1234);
	assert_int_equal(u.data.ttag, 0x55);
	assert_int_equal(u.data.datao, 8192);
	assert_int_equal(u.data.datal, 1000);
	assert_true(all_zero(u.data.rsvd, sizeof(u.data.rsvd)));
	assert_true(nvmf_tcp_hdgst_ok(u.b, 24));
	assert_int_equal(u.b[28], 0xa5);
}

static void test_build_data_hdr_h2c(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);
	union pdu_buf u;
	size_t n;

	(void)state;
	buf_poison(&u);
	/* SUCCESS is reserved in H2CData: dropped. */
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 3, 9, 0, 4096, LAST | SUCCESS, &p);
	assert_int_equal(n, 24);
	assert_int_equal(u.data.hdr.type, nvme_tcp_h2c_data);
	assert_int_equal(u.data.hdr.flags, LAST);
	assert_int_equal(u.data.hdr.hlen, 24);
	assert_int_equal(u.data.hdr.pdo, 24);
	assert_int_equal(u.data.hdr.plen, 24 + 4096);
	assert_int_equal(u.data.cccid, 3);
	assert_int_equal(u.data.ttag, 9);
	assert_int_equal(u.data.datao, 0);
	assert_int_equal(u.data.datal, 4096);
	assert_true(all_zero(u.data.rsvd, sizeof(u.data.rsvd)));
	assert_int_equal(u.b[24], 0xa5);

	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 3, 9, 4096, 512, 0, &p);
	assert_int_equal(u.data.hdr.flags, 0);
	assert_int_equal(u.data.hdr.plen, 24 + 512);
}

/* PDO follows the receiver's PDA: the host's HPDA for C2HData, the controller's CPDA for H2C. */
static void test_build_data_hdr_pda(void **state)
{
	struct nvmf_tcp_params p = mkp(true, false);
	struct nvmf_tcp_pdu_error e;
	union pdu_buf u;
	size_t n;

	(void)state;
	p.hpda = 7; /* 32 bytes */
	buf_poison(&u);
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 1, 0, 0, 100, LAST, &p);
	assert_int_equal(n, 32);
	assert_int_equal(u.data.hdr.pdo, 32);
	assert_int_equal(u.data.hdr.plen, 32 + 100);
	assert_true(nvmf_tcp_hdgst_ok(u.b, 24));
	assert_true(all_zero(u.b + 28, 4));
	assert_int_equal(u.b[32], 0xa5);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);
	assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), 100);

	/* CPDA is still 0: H2CData is not padded. */
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 1, 0, 0, 100, LAST, &p);
	assert_int_equal(n, 28);
	assert_int_equal(u.data.hdr.pdo, 28);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);

	p.cpda = 31; /* 128 bytes */
	buf_poison(&u);
	n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 1, 0, 0, 100, LAST, &p);
	assert_int_equal(n, 128);
	assert_int_equal(u.data.hdr.pdo, 128);
	assert_int_equal(u.data.hdr.plen, 128 + 100);
	assert_true(all_zero(u.b + 28, 100));
	assert_int_equal(u.b[128], 0xa5);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
	assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), 100);
}

static void test_build_r2t(void **state)
{
	union pdu_buf u;

	(void)state;
	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_r2t(&u.r2t, 0x10, 0x20, 4096, 65536, true), 28);
	assert_int_equal(u.r2t.hdr.type, nvme_tcp_r2t);
	assert_int_equal(u.r2t.hdr.flags, HD);
	assert_int_equal(u.r2t.hdr.hlen, 24);
	assert_int_equal(u.r2t.hdr.pdo, 0);
	assert_int_equal(u.r2t.hdr.plen, 28);
	assert_int_equal(u.r2t.cccid, 0x10);
	assert_int_equal(u.r2t.ttag, 0x20);
	assert_int_equal(u.r2t.r2to, 4096);
	assert_int_equal(u.r2t.r2tl, 65536);
	assert_true(all_zero(u.r2t.rsvd, sizeof(u.r2t.rsvd)));
	assert_true(nvmf_tcp_hdgst_ok(u.b, 24));
	assert_int_equal(u.b[28], 0xa5);

	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_r2t(&u.r2t, 1, 2, 0, 512, false), 24);
	assert_int_equal(u.r2t.hdr.flags, 0);
	assert_int_equal(u.r2t.hdr.plen, 24);
	assert_int_equal(u.b[24], 0xa5);
}

static void test_build_cmd(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);
	uint8_t sqe[64];
	union pdu_buf u;

	(void)state;
	for (size_t i = 0; i < sizeof(sqe); i++)
		sqe[i] = (uint8_t)(i * 7 + 1);

	/* No in-capsule data: PDO 0 and no DDGSTF, even with data digests on. */
	buf_poison(&u);
	memcpy(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 0, &p), 76);
	assert_int_equal(u.cmd.hdr.type, nvme_tcp_cmd);
	assert_int_equal(u.cmd.hdr.flags, HD);
	assert_int_equal(u.cmd.hdr.hlen, 72);
	assert_int_equal(u.cmd.hdr.pdo, 0);
	assert_int_equal(u.cmd.hdr.plen, 76);
	assert_memory_equal(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_true(nvmf_tcp_hdgst_ok(u.b, 72));
	assert_int_equal(u.b[76], 0xa5);

	/* 512 bytes in capsule, both digests */
	buf_poison(&u);
	memcpy(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 512, &p), 76);
	assert_int_equal(u.cmd.hdr.flags, HD | DD);
	assert_int_equal(u.cmd.hdr.pdo, 76);
	assert_int_equal(u.cmd.hdr.plen, 76 + 512 + 4);
	assert_memory_equal(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_true(nvmf_tcp_hdgst_ok(u.b, 72));

	/* No digests */
	p = mkp(false, false);
	buf_poison(&u);
	memcpy(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 512, &p), 72);
	assert_int_equal(u.cmd.hdr.flags, 0);
	assert_int_equal(u.cmd.hdr.pdo, 72);
	assert_int_equal(u.cmd.hdr.plen, 72 + 512);
	assert_int_equal(u.b[72], 0xa5);

	/* CPDA 31: PDO 128, the padding zeroed */
	p = mkp(true, false);
	p.cpda = 31;
	buf_poison(&u);
	memcpy(&u.cmd.cmd, sqe, sizeof(sqe));
	assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 4096, &p), 128);
	assert_int_equal(u.cmd.hdr.pdo, 128);
	assert_int_equal(u.cmd.hdr.plen, 128 + 4096);
	assert_true(nvmf_tcp_hdgst_ok(u.b, 72));
	assert_true(all_zero(u.b + 76, 128 - 76));
	assert_int_equal(u.b[128], 0xa5);
	assert_memory_equal(&u.cmd.cmd, sqe, sizeof(sqe));

	/* CPDA 17 (72 bytes) with a digest: 76 rounds up to 144, the largest PDO there is. */
	p.cpda = 17;
	assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 1, &p), 144);
	assert_int_equal(u.cmd.hdr.pdo, 144);
}

/* Whatever PDA was negotiated, the builders' PDO fits in 256 bytes and passes the check. */
static void test_build_pdo_every_pda(void **state)
{
	struct nvmf_tcp_pdu_error e;
	union pdu_buf u;

	(void)state;
	for (uint8_t pda = 0; pda <= NVME_TCP_MAX_HPDA; pda++) {
		for (int hd = 0; hd < 2; hd++) {
			struct nvmf_tcp_params p = mkp(hd, false);
			size_t n;

			p.cpda = pda;
			p.hpda = pda;
			n = nvmf_tcp_build_cmd(&u.cmd, 1, &p);
			assert_in_range(n, 72, 255);
			assert_int_equal(n % ((pda + 1u) * 4), 0);
			assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
			n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 0, 0, 0, 1, LAST,
						    &p);
			assert_int_equal(n % ((pda + 1u) * 4), 0);
			assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
			n = nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 0, 0, 0, 1, LAST,
						    &p);
			assert_int_equal(n % ((pda + 1u) * 4), 0);
			assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);
		}
	}

	/* Reserved PDA values (refused in ICReq/ICResp) count as 31: PDO still fits 8 bits. */
	{
		struct nvmf_tcp_params p = mkp(true, false);

		p.cpda = 0xff;
		assert_int_equal(nvmf_tcp_build_cmd(&u.cmd, 1, &p), 128);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
	}
}

static void test_build_term(void **state)
{
	struct nvmf_tcp_pdu_error err = { .fes = FES_HDR, .fei = FEI_PDO };
	uint8_t bad[200];
	union pdu_buf u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++)
		bad[i] = (uint8_t)(i + 1);

	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_term(&u, nvme_tcp_c2h_term, &err, bad, sizeof(bad)), 152);
	assert_int_equal(u.term.hdr.type, nvme_tcp_c2h_term);
	assert_int_equal(u.term.hdr.flags, 0);
	assert_int_equal(u.term.hdr.hlen, 24);
	assert_int_equal(u.term.hdr.pdo, 0);
	assert_int_equal(u.term.hdr.plen, 152);
	assert_int_equal(u.term.fes, FES_HDR);
	assert_int_equal(u.term.fei, FEI_PDO);
	assert_true(all_zero(u.term.rsvd, sizeof(u.term.rsvd)));
	assert_memory_equal(u.b + 24, bad, 128);
	assert_int_equal(u.b[152], 0xa5);

	buf_poison(&u);
	assert_int_equal(nvmf_tcp_build_term(&u, nvme_tcp_h2c_term, &err, NULL, 100), 24);
	assert_int_equal(u.term.hdr.type, nvme_tcp_h2c_term);
	assert_int_equal(u.term.hdr.plen, 24);
	assert_int_equal(u.b[24], 0xa5);

	/* The offending header may be in the very buffer the PDU is built into. */
	buf_poison(&u);
	memcpy(u.b, bad, 72);
	assert_int_equal(nvmf_tcp_build_term(&u, nvme_tcp_c2h_term, &err, u.b, 72), 96);
	assert_int_equal(u.term.hdr.plen, 96);
	assert_memory_equal(u.b + 24, bad, 72);
}

/* ---------------------------------------------------------------------------------------
 * nvmf_tcp_check_hdr(): valid PDUs, each in its direction, with and without digests
 */
static void test_check_hdr_accepts_valid(void **state)
{
	struct nvme_cqe cqe = { .cid = 1 };
	struct nvmf_tcp_pdu_error e;
	union pdu_buf u;

	(void)state;
	nvmf_tcp_build_icreq(&u.icreq, true, true, 0, 0);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, NULL, true, &e), 0);
	nvmf_tcp_build_icresp(&u.icresp, true, true, 0, 65536);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, NULL, false, &e), 0);

	for (int d = 0; d < 4; d++) {
		struct nvmf_tcp_params p = mkp(d & 1, d & 2);
		uint32_t hd = p.hdgst ? 4 : 0, dd = p.ddgst ? 4 : 0;

		nvmf_tcp_build_cmd(&u.cmd, 0, &p);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
		assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), 0);

		nvmf_tcp_build_cmd(&u.cmd, MAX_ICD, &p);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
		assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), MAX_ICD);

		nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_h2c_data, 1, 2, 0, MAXH2CDATA, LAST, &p);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &e), 0);
		assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), MAXH2CDATA);

		nvmf_tcp_build_rsp(&u.rsp, &cqe, p.hdgst);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);

		nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 1, 0, 0, 1, LAST | SUCCESS, &p);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);
		assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), 1);

		nvmf_tcp_build_data_hdr(&u.data, nvme_tcp_c2h_data, 1, 0, 0, MAX_C2H_DATA, 0, &p);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);

		nvmf_tcp_build_r2t(&u.r2t, 1, 2, 0, 4096, p.hdgst);
		assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &e), 0);

		/* Hand-made, for what the builders never produce: padding larger than needed. */
		assert_hdr_ok(mkhdr(nvme_tcp_h2c_data, HD * p.hdgst | DD * p.ddgst | LAST, 24, 64,
				    64 + 10 + dd),
			      &p, true);
		assert_hdr_ok(mkhdr(nvme_tcp_cmd, HD * p.hdgst | DD * p.ddgst, 72, 72 + hd,
				    72 + hd + 1 + dd),
			      &p, true);
	}
}

/* Termination requests are valid in both phases, whatever their flags and PDO. */
static void test_check_hdr_term_any_phase(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);
	struct nvmf_tcp_pdu_error err = { .fes = FES_PARAM, .fei = 10 };
	union pdu_buf u;
	uint8_t bad[128] = { 0 };

	(void)state;
	nvmf_tcp_build_term(&u, nvme_tcp_c2h_term, &err, bad, sizeof(bad));
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, NULL, false, &err), 0);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, false, &err), 0);
	assert_int_equal(nvmf_tcp_pdu_data_len(&u.hdr, &p), 0);
	nvmf_tcp_build_term(&u, nvme_tcp_h2c_term, &err, NULL, 0);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, NULL, true, &err), 0);
	assert_int_equal(nvmf_tcp_check_hdr(&u.hdr, &p, true, &err), 0);

	assert_hdr_ok(mkhdr(nvme_tcp_c2h_term, HD | DD, 24, 24, 152), &p, false);
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 30), NULL, true);
}

/* ---------------------------------------------------------------------------------------
 * nvmf_tcp_check_hdr(): rejections, each with its FES and FEI
 */
static void test_check_hdr_unknown_type(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);
	static const uint8_t types[] = { 0x08, 0x0a, 0x0b, 0x10, 0x7f, 0x80, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		for (int side = 0; side < 2; side++) {
			assert_hdr_err(mkhdr(types[i], 0, 24, 0, 24), &p, side, FES_HDR, FEI_TYPE);
			assert_hdr_err(mkhdr(types[i], 0, 24, 0, 24), NULL, side, FES_HDR,
				       FEI_TYPE);
		}
	}
}

static void test_check_hdr_wrong_direction(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);

	(void)state;
	/* Controller receiving controller-to-host PDUs */
	assert_hdr_err(mkhdr(nvme_tcp_icresp, 0, 128, 0, 128), NULL, true, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 24), &p, true, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 24), NULL, true, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 0, 24), &p, true, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, LAST, 24, 24, 25), &p, true, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 24, 0, 24), &p, true, FES_HDR, FEI_TYPE);
	/* Host receiving host-to-controller PDUs */
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 128, 0, 128), NULL, false, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 24), &p, false, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 0, 72), &p, false, FES_HDR, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, LAST, 24, 24, 25), &p, false, FES_HDR, FEI_TYPE);
}

static void test_check_hdr_sequence(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);

	(void)state;
	/* IC PDUs after negotiation */
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 128, 0, 128), &p, true, FES_SEQ, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_icresp, 0, 128, 0, 128), &p, false, FES_SEQ, FEI_TYPE);
	/* Anything but IC and termination PDUs before it */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 0, 72), NULL, true, FES_SEQ, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, LAST, 24, 24, 25), NULL, true, FES_SEQ, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 0, 24), NULL, false, FES_SEQ, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, LAST, 24, 24, 25), NULL, false, FES_SEQ, FEI_TYPE);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 24, 0, 24), NULL, false, FES_SEQ, FEI_TYPE);
}

static void test_check_hdr_bad_hlen(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);

	(void)state;
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 24, 0, 128), NULL, true, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_icresp, 0, 0, 0, 128), NULL, false, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_term, 0, 128, 0, 128), &p, true, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_term, 0, 23, 0, 24), NULL, false, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 24, 0, 72), &p, true, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 76, 0, 76), &p, true, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 72, 72, 80), &p, true, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 72, 0, 72), &p, false, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, 0, 28, 28, 40), &p, false, FES_HDR, FEI_HLEN);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 255, 0, 24), &p, false, FES_HDR, FEI_HLEN);
}

static void test_check_hdr_hdgst_flag(void **state)
{
	struct nvmf_tcp_params on = mkp(true, false), off = mkp(false, false);

	(void)state;
	/* Negotiated, flag missing */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 0, 76), &on, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, LAST, 24, 28, 40), &on, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 0, 28), &on, false, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, LAST, 24, 28, 40), &on, false, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 24, 0, 28), &on, false, FES_HDR, FEI_FLAGS);
	/* Not negotiated, flag set */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD, 72, 0, 72), &off, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, HD, 24, 24, 40), &off, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, HD, 24, 0, 24), &off, false, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, HD, 24, 24, 40), &off, false, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, HD, 24, 0, 24), &off, false, FES_HDR, FEI_FLAGS);
}

static void test_check_hdr_ddgst_flag(void **state)
{
	struct nvmf_tcp_params on = mkp(false, true), off = mkp(false, false);

	(void)state;
	/* Negotiated, data present, flag missing */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 72, 72 + 8 + 4), &on, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, LAST, 24, 24, 40), &on, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, LAST, 24, 24, 40), &on, false, FES_HDR, FEI_FLAGS);
	/* Negotiated, but a capsule without data carries no data digest */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, DD, 72, 0, 72), &on, true, FES_HDR, FEI_FLAGS);
	assert_hdr_ok(mkhdr(nvme_tcp_cmd, 0, 72, 0, 72), &on, true);
	/* Not negotiated, flag set */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, DD, 72, 72, 80), &off, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, DD, 24, 24, 40), &off, true, FES_HDR, FEI_FLAGS);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, DD, 24, 24, 40), &off, false, FES_HDR, FEI_FLAGS);
	/* DDGSTF is reserved in CapsuleResp and R2T: ignored there */
	assert_hdr_ok(mkhdr(nvme_tcp_rsp, DD, 24, 0, 24), &off, false);
	assert_hdr_ok(mkhdr(nvme_tcp_r2t, DD, 24, 0, 24), &on, false);
}

static void test_check_hdr_success_without_last(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false);

	(void)state;
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, SUCCESS, 24, 24, 40), &p, false, FES_HDR,
		       FEI_FLAGS);
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_data, SUCCESS | LAST, 24, 24, 40), &p, false);
	/* SUCCESS is reserved in H2CData: ignored there */
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_data, SUCCESS, 24, 24, 40), &p, true);
}

static void test_check_hdr_bad_pdo(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false), ph = mkp(true, false);

	(void)state;
	/* Too small: inside the header or its digest */
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 24, 20, 40), &p, true, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, HD, 24, 24, 40), &ph, true, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, 0, 24, 0, 40), &p, false, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 0, 80), &p, true, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD, 72, 72, 84), &ph, true, FES_HDR, FEI_PDO);

	/* Not a multiple of 4 bytes, the smallest PDA */
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 24, 26, 40), &p, true, FES_HDR, FEI_PDO);

	/* Misaligned for the receiver's PDA: CPDA for CapsuleCmd and H2CData, HPDA for C2HData */
	ph.cpda = 1; /* 8 bytes */
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, HD, 24, 28, 40), &ph, true, FES_HDR, FEI_PDO);
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_data, HD, 24, 32, 40), &ph, true);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD, 72, 76, 84), &ph, true, FES_HDR, FEI_PDO);
	assert_hdr_ok(mkhdr(nvme_tcp_cmd, HD, 72, 80, 84), &ph, true);
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_data, HD, 24, 28, 40), &ph, false);
	ph.cpda = 0;
	ph.hpda = 3; /* 16 bytes */
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, HD, 24, 28, 40), &ph, false, FES_HDR, FEI_PDO);
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_data, HD, 24, 32, 40), &ph, false);
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_data, HD, 24, 28, 40), &ph, true);

	/* Nonzero without data */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 72, 72), &p, true, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 24, 24), &p, false, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 24, 24, 24), &p, false, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 128, 128, 128), NULL, true, FES_HDR, FEI_PDO);
	assert_hdr_err(mkhdr(nvme_tcp_icresp, 0, 128, 4, 128), NULL, false, FES_HDR, FEI_PDO);
}

static void test_check_hdr_bad_plen(void **state)
{
	struct nvmf_tcp_params p = mkp(false, false), ph = mkp(true, false), pd = mkp(false, true);

	(void)state;
	/* Shorter than the header (and its digest) */
	assert_hdr_err(mkhdr(nvme_tcp_cmd, 0, 72, 0, 71), &p, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD, 72, 0, 75), &ph, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 24, 24, 0), &p, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, HD, 24, 28, 24), &ph, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 0, 23), &p, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, HD, 24, 0, 24), &ph, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 128, 0, 127), NULL, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 23), &p, true, FES_HDR, FEI_PLEN);
	/* Longer than a PDU without data can be */
	assert_hdr_err(mkhdr(nvme_tcp_rsp, 0, 24, 0, 28), &p, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_r2t, 0, 24, 0, 25), &p, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_icreq, 0, 128, 0, 129), NULL, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_icresp, 0, 128, 0, 256), NULL, false, FES_HDR, FEI_PLEN);
	/* Truncated: data PDUs must carry at least one byte, plus its digest */
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 24, 24, 24), &p, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, 0, 24, 32, 30), &p, true, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, DD, 24, 24, 28), &pd, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, DD, 72, 72, 76), &pd, true, FES_HDR, FEI_PLEN);
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_data, DD, 24, 24, 29), &pd, false);
}

static void test_check_hdr_data_limits(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);

	(void)state;
	p.cpda = 3;
	p.hpda = 7;
	/* In-capsule data: 80 is 76 rounded up to 16 */
	assert_hdr_ok(mkhdr(nvme_tcp_cmd, HD | DD, 72, 80, 80 + MAX_ICD + 4), &p, true);
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD | DD, 72, 80, 80 + MAX_ICD + 5), &p, true, FES_LIMIT,
		       FEI_PLEN);
	/* H2CData above MAXH2CDATA */
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_data, HD | DD, 24, 32, 32 + MAXH2CDATA + 4), &p, true);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, HD | DD, 24, 32, 32 + MAXH2CDATA + 5), &p, true,
		       FES_LIMIT, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_data, HD | DD, 24, 32, 0xffffffffu), &p, true, FES_LIMIT,
		       FEI_PLEN);
	/* C2HData above what the host accepts */
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_data, HD | DD, 24, 32, 32 + MAX_C2H_DATA + 4), &p, false);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_data, HD | DD, 24, 32, 32 + MAX_C2H_DATA + 5), &p, false,
		       FES_LIMIT, FEI_PLEN);

	/* A limit of 0 admits no data at all */
	p.max_icd = 0;
	assert_hdr_err(mkhdr(nvme_tcp_cmd, HD | DD, 72, 80, 80 + 1 + 4), &p, true, FES_LIMIT,
		       FEI_PLEN);
	assert_hdr_ok(mkhdr(nvme_tcp_cmd, HD, 72, 0, 76), &p, true);
}

static void test_check_hdr_term_too_long(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);

	(void)state;
	assert_hdr_ok(mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 152), &p, true);
	assert_hdr_err(mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 153), &p, true, FES_HDR, FEI_PLEN);
	assert_hdr_ok(mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 152), NULL, false);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 153), NULL, false, FES_HDR, FEI_PLEN);
	assert_hdr_err(mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 0xffffffffu), &p, false, FES_HDR,
		       FEI_PLEN);
}

static void test_check_hdr_null_err(void **state)
{
	struct nvme_tcp_hdr h = mkhdr(0xff, 0, 0, 0, 0);

	(void)state;
	assert_int_equal(nvmf_tcp_check_hdr(&h, NULL, true, NULL), -EPROTO);
}

/* ---------------------------------------------------------------------------------------
 * nvmf_tcp_pdu_data_len()
 */
static void test_pdu_data_len(void **state)
{
	struct nvmf_tcp_params p = mkp(true, true);
	struct nvme_tcp_hdr h;

	(void)state;
	h = mkhdr(nvme_tcp_cmd, HD | DD, 72, 80, 80 + 512 + 4);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 512);
	h = mkhdr(nvme_tcp_cmd, HD, 72, 0, 76);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
	h = mkhdr(nvme_tcp_h2c_data, HD | DD, 24, 28, 28 + 4096 + 4);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 4096);
	h = mkhdr(nvme_tcp_c2h_data, 0, 24, 24, 24 + 4096);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, NULL), 4096);
	h = mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 152);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
	h = mkhdr(nvme_tcp_rsp, HD, 24, 0, 28);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
	h = mkhdr(nvme_tcp_r2t, HD, 24, 0, 28);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
	/* Unchecked garbage never underflows */
	h = mkhdr(nvme_tcp_h2c_data, 0, 24, 200, 100);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
	h = mkhdr(nvme_tcp_h2c_data, 0, 24, 24, 26);
	assert_int_equal(nvmf_tcp_pdu_data_len(&h, &p), 0);
}

/* ---------------------------------------------------------------------------------------
 * ICReq and ICResp
 */
static union pdu_buf icreq_buf;
static union pdu_buf icresp_buf;

static int check_icreq_buf(struct nvmf_tcp_pdu_error *e)
{
	return nvmf_tcp_check_icreq(&icreq_buf.icreq, e);
}

static void test_check_icreq(void **state)
{
	struct nvme_tcp_icreq_pdu *req = &icreq_buf.icreq;
	struct nvmf_tcp_pdu_error e;

	(void)state;
	nvmf_tcp_build_icreq(req, true, true, 0, 0);
	assert_int_equal(nvmf_tcp_check_icreq(req, &e), 0);

	req->pfv = 1;
	assert_pdu_err(check_icreq_buf, FES_PARAM, 8);
	req->pfv = NVME_TCP_PFV_1_0;

	req->hpda = 31;
	assert_int_equal(nvmf_tcp_check_icreq(req, &e), 0);
	req->hpda = 32;
	assert_pdu_err(check_icreq_buf, FES_PARAM, 10);
	req->hpda = 0xff;
	assert_pdu_err(check_icreq_buf, FES_PARAM, 10);
	req->hpda = 0;

	/* Any MAXR2T, and reserved DGST bits, are accepted */
	req->maxr2t = 0xffffffffu;
	req->digest = 0xff;
	assert_int_equal(nvmf_tcp_check_icreq(req, &e), 0);

	/* The common header is checked too */
	req->hdr.plen = 127;
	assert_pdu_err(check_icreq_buf, FES_HDR, FEI_PLEN);
	req->hdr.plen = 128;
	req->hdr.hlen = 72;
	assert_pdu_err(check_icreq_buf, FES_HDR, FEI_HLEN);
	req->hdr.hlen = 128;
	req->hdr.type = nvme_tcp_icresp;
	assert_pdu_err(check_icreq_buf, FES_HDR, FEI_TYPE);
	req->hdr.type = nvme_tcp_cmd;
	assert_pdu_err(check_icreq_buf, FES_SEQ, FEI_TYPE);

	/*
	 * A termination request passes the common header check before negotiation, but is no
	 * ICReq, however its bytes 8-12 look (found by fuzz_tcp_pdu).
	 */
	nvmf_tcp_build_icreq(req, false, false, 0, 0);
	req->hdr = mkhdr(nvme_tcp_h2c_term, 0, 24, 0, 48);
	assert_int_equal(nvmf_tcp_check_hdr(&req->hdr, NULL, true, &e), 0);
	assert_pdu_err(check_icreq_buf, FES_HDR, FEI_TYPE);
}

static bool want_hd, want_dd;

static int check_icresp_buf(struct nvmf_tcp_pdu_error *e)
{
	return nvmf_tcp_check_icresp(&icresp_buf.icresp, want_hd, want_dd, e);
}

static void test_check_icresp(void **state)
{
	struct nvme_tcp_icresp_pdu *resp = &icresp_buf.icresp;
	struct nvmf_tcp_pdu_error e;

	(void)state;
	for (int d = 0; d < 4; d++) {
		bool hd = d & 1, dd = d & 2;

		nvmf_tcp_build_icresp(resp, hd, dd, 0, 4096);
		assert_int_equal(nvmf_tcp_check_icresp(resp, hd, dd, &e), 0);
		/* The controller went against the host's request, either way */
		want_hd = !hd;
		want_dd = dd;
		assert_pdu_err(check_icresp_buf, FES_PARAM, 11);
		want_hd = hd;
		want_dd = !dd;
		assert_pdu_err(check_icresp_buf, FES_PARAM, 11);
	}

	want_hd = want_dd = false;
	nvmf_tcp_build_icresp(resp, false, false, 31, 0x400000);
	assert_int_equal(nvmf_tcp_check_icresp(resp, false, false, &e), 0);
	resp->cpda = 32;
	assert_pdu_err(check_icresp_buf, FES_PARAM, 10);
	resp->cpda = 0;
	resp->pfv = 0x100;
	assert_pdu_err(check_icresp_buf, FES_PARAM, 8);
	resp->pfv = NVME_TCP_PFV_1_0;
	resp->maxdata = 4095;
	assert_pdu_err(check_icresp_buf, FES_PARAM, 12);
	resp->maxdata = 4098;
	assert_pdu_err(check_icresp_buf, FES_PARAM, 12);
	resp->maxdata = 0;
	assert_pdu_err(check_icresp_buf, FES_PARAM, 12);
	resp->maxdata = 4100;
	assert_int_equal(nvmf_tcp_check_icresp(resp, false, false, &e), 0);

	resp->hdr.pdo = 128;
	assert_pdu_err(check_icresp_buf, FES_HDR, FEI_PDO);
	resp->hdr.pdo = 0;
	resp->hdr.type = nvme_tcp_icreq;
	assert_pdu_err(check_icresp_buf, FES_HDR, FEI_TYPE);

	/* A C2HTermReq is valid before negotiation, but is no ICResp */
	nvmf_tcp_build_icresp(resp, false, false, 0, 4096);
	resp->hdr = mkhdr(nvme_tcp_c2h_term, 0, 24, 0, 128);
	assert_int_equal(nvmf_tcp_check_hdr(&resp->hdr, NULL, false, &e), 0);
	assert_pdu_err(check_icresp_buf, FES_HDR, FEI_TYPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vector),
		cmocka_unit_test(test_hdgst_ok_corrupted),
		cmocka_unit_test(test_pdu_hlen),
		cmocka_unit_test(test_fes_str),
		cmocka_unit_test(test_build_icreq),
		cmocka_unit_test(test_build_icresp),
		cmocka_unit_test(test_build_rsp),
		cmocka_unit_test(test_build_data_hdr_c2h),
		cmocka_unit_test(test_build_data_hdr_h2c),
		cmocka_unit_test(test_build_data_hdr_pda),
		cmocka_unit_test(test_build_r2t),
		cmocka_unit_test(test_build_cmd),
		cmocka_unit_test(test_build_pdo_every_pda),
		cmocka_unit_test(test_build_term),
		cmocka_unit_test(test_check_hdr_accepts_valid),
		cmocka_unit_test(test_check_hdr_term_any_phase),
		cmocka_unit_test(test_check_hdr_unknown_type),
		cmocka_unit_test(test_check_hdr_wrong_direction),
		cmocka_unit_test(test_check_hdr_sequence),
		cmocka_unit_test(test_check_hdr_bad_hlen),
		cmocka_unit_test(test_check_hdr_hdgst_flag),
		cmocka_unit_test(test_check_hdr_ddgst_flag),
		cmocka_unit_test(test_check_hdr_success_without_last),
		cmocka_unit_test(test_check_hdr_bad_pdo),
		cmocka_unit_test(test_check_hdr_bad_plen),
		cmocka_unit_test(test_check_hdr_data_limits),
		cmocka_unit_test(test_check_hdr_term_too_long),
		cmocka_unit_test(test_check_hdr_null_err),
		cmocka_unit_test(test_pdu_data_len),
		cmocka_unit_test(test_check_icreq),
		cmocka_unit_test(test_check_icresp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
