// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP host transport (lib/host/transport-tcp.c) against a scripted fake controller:
 * a thread on a loopback socket driving one queue of the transport directly, with a bare
 * controller as the core has while it sets up an association.
 *
 * What the daemon never sends (H2CData split by a small MAXH2CDATA, C2HData SUCCESS, data
 * digest errors, padded C2HData) and hostile input (unknown CIDs, data out of range, bad
 * digests, early responses, termination requests, EOF mid-PDU, a bad ICResp). Each ends the
 * connection with the right H2CTermReq, completes the command exactly once, and never
 * writes outside its buffer. Needs no daemon; test_host_tcp.c runs the host against one.
 */
#include "host/ctrl.h"
#include "host/host-internal.h"
#include "host/queue.h"
#include "tcp/pdu.h"
#include "common/crc32c.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "host_test_util.h"

struct fake;
typedef void (*fake_script)(struct fake *f, int fd);

enum {
	IC_OK,	     /* an ICResp as the host asked */
	IC_BAD_DGST, /* an ICResp with header digests the host did not ask for */
	IC_TERM,     /* a C2HTermReq */
};

struct fake {
	int lfd;
	char port[16];
	pthread_t thr;
	fake_script script;
	/* ICResp */
	bool hdgst, ddgst; /* negotiated (the host's ICReq is echoed unless forced) */
	int ic_mode;	   /* IC_*: how the fake answers the ICReq */
	uint32_t maxh2cdata;
	struct nvmf_tcp_params p;
	/* results, checked by the test after the join */
	bool ok;
	int term_fes; /* an H2CTermReq came: its FES, else -1 */
	uint32_t term_fei;
	char msg[256];
};

static void fk_fail(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fk_fail(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

static int fk_read(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			return -1;
		n = recv(fd, (uint8_t *)buf + got, len - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void fk_write(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
	}
}

/* One PDU into @buf; its length, or -1 on EOF/garbage. Records an H2CTermReq. */
static ssize_t fk_read_pdu(struct fake *f, int fd, uint8_t *buf, size_t cap)
{
	struct nvme_tcp_hdr *h = (struct nvme_tcp_hdr *)buf;

	if (fk_read(fd, buf, sizeof(*h)) || h->plen < sizeof(*h) || h->plen > cap ||
	    fk_read(fd, buf + sizeof(*h), h->plen - sizeof(*h)))
		return -1;
	if (h->type == nvme_tcp_h2c_term) {
		const struct nvme_tcp_term_pdu *t = (const void *)buf;

		f->term_fes = t->fes;
		f->term_fei = t->fei;
	}
	return h->plen;
}

/* The next Command Capsule: its SQE (and in-capsule data into @icd, up to @icd_cap). */
static int fk_read_cmd(struct fake *f, int fd, struct nvme_sqe *sqe, uint8_t *icd, size_t icd_cap,
		       size_t *icd_len)
{
	static uint8_t buf[1 << 17];
	const struct nvme_tcp_cmd_pdu *c = (const void *)buf;
	ssize_t n = fk_read_pdu(f, fd, buf, sizeof(buf));
	size_t len;

	if (n < 0 || c->hdr.type != nvme_tcp_cmd) {
		fk_fail(f, "no command capsule");
		return -1;
	}
	if (f->hdgst && !nvmf_tcp_hdgst_ok(buf, sizeof(*c))) {
		fk_fail(f, "capsule header digest");
		return -1;
	}
	*sqe = c->cmd;
	len = nvmf_tcp_pdu_data_len(&c->hdr, &f->p);
	if (icd_len)
		*icd_len = len;
	if (len) {
		if (len > icd_cap) {
			fk_fail(f, "unexpected in-capsule data");
			return -1;
		}
		memcpy(icd, buf + c->hdr.pdo, len);
		if (f->ddgst) {
			uint32_t dg;

			memcpy(&dg, buf + c->hdr.pdo + len, 4);
			if (dg != nvmf_crc32c(icd, len)) {
				fk_fail(f, "in-capsule data digest");
				return -1;
			}
		}
	}
	return 0;
}

static void fk_send_rsp(struct fake *f, int fd, uint16_t cid, uint16_t status)
{
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 4];
	struct nvme_cqe cqe = { .cid = cid, .sq_id = 1, .status = (uint16_t)(status << 1) };
	size_t n = nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, f->hdgst);

	fk_write(fd, buf, n);
}

/* One C2HData PDU; @bad_ddgst corrupts its data digest. */
static void fk_send_c2h(struct fake *f, int fd, uint16_t cid, uint32_t datao, const void *data,
			uint32_t datal, uint8_t flags, bool bad_ddgst)
{
	uint8_t hdr[256];
	size_t hl = nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)hdr, nvme_tcp_c2h_data, cid,
					    0, datao, datal, flags, &f->p);
	uint32_t dg = nvmf_crc32c(data, datal) ^ (bad_ddgst ? 1 : 0);

	fk_write(fd, hdr, hl);
	fk_write(fd, data, datal);
	if (f->ddgst)
		fk_write(fd, &dg, 4);
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	struct nvme_tcp_icreq_pdu icreq;
	struct nvme_tcp_icresp_pdu icresp;
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };
	static uint8_t buf[(2u << 20) + 256];
	int fd;

	if (poll(&pfd, 1, 10000) <= 0)
		return NULL;
	fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (fk_read(fd, &icreq, sizeof(icreq)) || icreq.hdr.type != nvme_tcp_icreq) {
		fk_fail(f, "no ICReq");
		goto out;
	}
	f->hdgst = icreq.digest & NVME_TCP_HDR_DIGEST_ENABLE;
	f->ddgst = icreq.digest & NVME_TCP_DATA_DIGEST_ENABLE;
	nvmf_tcp_build_icresp(&icresp, f->hdgst, f->ddgst, 0, f->maxh2cdata);
	if (f->ic_mode == IC_BAD_DGST)
		icresp.digest = NVME_TCP_HDR_DIGEST_ENABLE;
	if (f->ic_mode == IC_TERM) {
		struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_UNSUPPORTED_PARAM, 10 };
		uint8_t term[sizeof(struct nvme_tcp_term_pdu) + 128];

		fk_write(fd, term,
			 nvmf_tcp_build_term(term, nvme_tcp_c2h_term, &err, &icreq, sizeof(icreq)));
		goto drain;
	}
	fk_write(fd, &icresp, sizeof(icresp));
	f->p = (struct nvmf_tcp_params){ .hdgst = f->hdgst,
					 .ddgst = f->ddgst,
					 .maxh2cdata = f->maxh2cdata,
					 .max_c2h_data = UINT32_MAX };
	if (f->script)
		f->script(f, fd);
drain:
	/* until the host closes: note any H2CTermReq */
	while (fk_read_pdu(f, fd, buf, sizeof(buf)) > 0)
		;
out:
	close(fd);
	return NULL;
}

static void fake_start_ic(struct fake *f, fake_script script, uint32_t maxh2cdata, int rcvbuf,
			  int ic_mode)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->script = script;
	f->maxh2cdata = maxh2cdata;
	f->ic_mode = ic_mode;
	f->term_fes = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	/* inherited by the accepted socket: a small window makes the host's sends partial */
	if (rcvbuf)
		setsockopt(f->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(f->port, sizeof(f->port), "%u", ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&f->thr, NULL, fake_thread, f), 0);
}

static void fake_start(struct fake *f, fake_script script, uint32_t maxh2cdata, int rcvbuf)
{
	fake_start_ic(f, script, maxh2cdata, rcvbuf, IC_OK);
}

static void fake_join(struct fake *f)
{
	pthread_join(f->thr, NULL);
	close(f->lfd);
	if (f->msg[0])
		fail_msg("fake controller: %s", f->msg);
}

/*
 * The host side: a bare controller and one I/O queue driven through the transport ops, as
 * the core does while it sets up an association (in_associate: a queue error stops the
 * queue at once instead of scheduling a reset).
 */
struct hq {
	struct nvmf_host_ctrl *ctrl;
	struct nvmf_host_queue q;
};

static int hq_connect(struct hq *h, const char *traddr, const char *port, bool hdgst, bool ddgst)
{
	h->ctrl = calloc(1, sizeof(*h->ctrl));
	assert_non_null(h->ctrl);
	h->ctrl->reactor = nvmf_reactor_create(0, 0);
	assert_non_null(h->ctrl->reactor);
	snprintf(h->ctrl->traddr, sizeof(h->ctrl->traddr), "%s", traddr);
	snprintf(h->ctrl->trsvcid, sizeof(h->ctrl->trsvcid), "%s", port);
	h->ctrl->opts.hdgst = hdgst;
	h->ctrl->opts.ddgst = ddgst;
	h->ctrl->ops = &nvmf_host_tcp_ops;
	h->ctrl->in_associate = true;
	h->ctrl->pending_tail = &h->ctrl->pending;
	atomic_init(&h->ctrl->state, NVMF_CTRL_LIVE);
	assert_int_equal(nvmf_host_queue_init(h->ctrl, &h->q, 1, 16, NVMF_HOST_IOQ_RESERVED), 0);
	h->q.icd_max = 8192;
	return nvmf_host_tcp_ops.queue_connect(&h->q);
}

static void hq_submit(struct hq *h, uint8_t opcode, void *buf, uint32_t len, struct io_ctx *c)
{
	struct nvmf_host_req *req = nvmf_host_tag_get(&h->q, false);

	assert_non_null(req);
	memset(&req->cmd, 0, sizeof(req->cmd));
	req->cmd.opcode = opcode;
	req->cmd.nsid = 1;
	req->buf = buf;
	req->len = len;
	req->cb = io_cb;
	req->arg = c;
	req->internal = true;
	assert_int_equal(nvmf_host_queue_send(&h->q, req, 0), 0);
}

static void hq_wait(struct hq *h, struct io_ctx *c)
{
	uint64_t deadline = now_ms() + 10000;

	while (!c->calls && now_ms() < deadline)
		nvmf_reactor_poll_once(h->ctrl->reactor, 10);
	/* a little more: a second completion would show up here */
	for (int i = 0; i < 5; i++)
		nvmf_reactor_poll_once(h->ctrl->reactor, 2);
	assert_int_equal(c->calls, 1);
}

static void hq_close(struct hq *h)
{
	nvmf_host_tcp_ops.queue_stop(&h->q);
	nvmf_host_tcp_ops.queue_free(&h->q);
	assert_null(h->q.tr);
	assert_int_equal(h->q.nr_sent, 0);
	nvmf_host_queue_release(&h->q);
	nvmf_reactor_destroy(h->ctrl->reactor);
	free(h->ctrl);
}

/* A whole scenario: fake @script, one command from the host, its outcome. */
struct scen {
	fake_script script;
	uint32_t maxh2cdata;
	bool hdgst, ddgst;
	uint8_t opcode;
	uint32_t len;	    /* the command's buffer */
	uint32_t buf_extra; /* allocated beyond it, must stay untouched */
	int want_status;    /* of the callback */
	int want_term_fes;  /* -1: no H2CTermReq expected */
	bool check_read;    /* the buffer must hold the pattern the fake sends */
	bool second_ok;	    /* a second read must still work on the same connection */
	int rcvbuf;	    /* the fake's SO_RCVBUF, 0: default */
};

#define FAKE_SEED 77

static void fake_pattern(uint8_t *buf, uint32_t len)
{
	fill(buf, len, FAKE_SEED);
}

static void run_scen(const struct scen *s)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t *buf = malloc(s->len + s->buf_extra + 1);
	uint8_t *want = malloc(s->len + 1);

	assert_non_null(buf);
	fake_start(&f, s->script, s->maxh2cdata ? s->maxh2cdata : 1u << 20, s->rcvbuf);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, s->hdgst, s->ddgst), 0);
	if (s->opcode == nvme_cmd_write)
		fake_pattern(buf, s->len);
	else
		memset(buf, 0xee, s->len);
	memset(buf + s->len, 0xee, s->buf_extra);
	hq_submit(&h, s->opcode, buf, s->len, &c);
	hq_wait(&h, &c);
	assert_int_equal(c.status, s->want_status);
	for (uint32_t i = 0; i < s->buf_extra; i++)
		assert_int_equal(buf[s->len + i], 0xee);
	if (s->check_read) {
		fake_pattern(want, s->len);
		assert_memory_equal(buf, want, s->len);
	}
	if (s->second_ok) {
		struct io_ctx c2 = { 0 };

		memset(buf, 0, s->len);
		hq_submit(&h, nvme_cmd_read, buf, s->len, &c2);
		hq_wait(&h, &c2);
		assert_int_equal(c2.status, 0);
		fake_pattern(want, s->len);
		assert_memory_equal(buf, want, s->len);
	}
	assert_int_equal(h.q.nr_sent, 0); /* nothing left behind */
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, s->want_term_fes);
	free(buf);
	free(want);
}

/* Scripts. Each reads the host's command first. */

static void sc_read_ok(struct fake *f, int fd, const struct nvme_sqe *sqe, bool bad_ddgst)
{
	uint32_t len = sqe->dptr.sgl.length;
	uint8_t *data = malloc(len);

	fake_pattern(data, len);
	if (sqe->dptr.sgl.type != NVME_SGL_ID_TCP_TRANSPORT ||
	    (sqe->flags & NVME_CMD_PSDT_MASK) != NVME_CMD_PSDT_SGL_MPTR_CONTIG)
		fk_fail(f, "read SGL type 0x%x flags 0x%x", sqe->dptr.sgl.type, sqe->flags);
	/* in two PDUs, the last one flagged LAST */
	fk_send_c2h(f, fd, sqe->cid, 0, data, len / 2, 0, bad_ddgst);
	fk_send_c2h(f, fd, sqe->cid, len / 2, data + len / 2, len - len / 2, NVME_TCP_F_DATA_LAST,
		    false);
	fk_send_rsp(f, fd, sqe->cid, 0);
	free(data);
}

static void sc_c2h_out_of_range(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[8192];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0xaa, sizeof(data));
	/* twice the buffer */
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_c2h_out_of_range(void **state)
{
	struct scen s = { .script = sc_c2h_out_of_range,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 8192,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
	s.ddgst = s.hdgst = true;
	run_scen(&s);
}

static void sc_c2h_out_of_order(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[1024];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0xaa, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 2048, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_c2h_out_of_order(void **state)
{
	struct scen s = { .script = sc_c2h_out_of_order,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
}

static void sc_unknown_cid(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, (uint16_t)(sqe.cid + 5), 0);
}

static void sc_c2h_unknown_cid(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[512] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, 0xfff0, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

static void test_fake_unknown_cid(void **state)
{
	struct scen s = { .script = sc_unknown_cid,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
	s.script = sc_c2h_unknown_cid;
	run_scen(&s);
}

static void sc_ddgst_error(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, true);
	/* the connection lives on: serve the next read properly */
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* A data digest error fails the command (Data Transfer Error), not the connection. */
static void test_fake_ddgst_error(void **state)
{
	struct scen s = { .script = sc_ddgst_error,
			  .ddgst = true,
			  .opcode = nvme_cmd_read,
			  .len = 16384,
			  .buf_extra = 64,
			  .want_status = NVME_SC_DATA_XFER_ERROR,
			  .want_term_fes = -1,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
}

static void sc_read_good(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* 128 KiB: staged copies and the direct receive into the caller's buffer */
static void test_fake_read(void **state)
{
	struct scen s = { .script = sc_read_good,
			  .opcode = nvme_cmd_read,
			  .len = 131072 + 512,
			  .buf_extra = 4096,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_bad_hdgst(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 4];
	struct nvme_cqe cqe = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	cqe.cid = sqe.cid;
	nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, true);
	buf[sizeof(buf) - 1] ^= 0x40;
	fk_write(fd, buf, sizeof(buf));
}

static void test_fake_hdgst_error(void **state)
{
	struct scen s = { .script = sc_bad_hdgst,
			  .hdgst = true,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_HDR_DIGEST_ERR };

	(void)state;
	run_scen(&s);
}

/*
 * Serve a write through R2Ts of @r2tl bytes, checking every H2CData PDU against MAXH2CDATA;
 * after each R2T, let the host run into a full socket for @slow_ms.
 */
static void serve_write(struct fake *f, int fd, const struct nvme_sqe *sqe, uint32_t r2tl,
			int slow_ms)
{
	uint32_t len = sqe->dptr.sgl.length, off = 0;
	uint8_t *want = malloc(len), *got = calloc(1, len);
	static uint8_t buf[(1u << 20) + 256];

	fake_pattern(want, len);
	if (sqe->dptr.sgl.type != NVME_SGL_ID_TCP_TRANSPORT) {
		fk_fail(f, "write SGL type 0x%x", sqe->dptr.sgl.type);
		goto out;
	}
	while (off < len) {
		uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];
		uint32_t n = len - off < r2tl ? len - off : r2tl, recvd = 0;
		uint16_t ttag = (uint16_t)(0x100 + off / r2tl);

		fk_write(fd, r2t,
			 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe->cid, ttag, off, n,
					    f->hdgst));
		if (slow_ms)
			usleep((useconds_t)slow_ms * 1000);
		while (recvd < n) {
			const struct nvme_tcp_data_pdu *d = (const void *)buf;
			uint32_t datal, dg;

			if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0 ||
			    d->hdr.type != nvme_tcp_h2c_data) {
				fk_fail(f, "no H2CData");
				goto out;
			}
			datal = nvmf_tcp_pdu_data_len(&d->hdr, &f->p);
			if (d->cccid != sqe->cid || d->ttag != ttag || d->datao != off + recvd ||
			    d->datal != datal || datal > f->maxh2cdata || datal > n - recvd ||
			    !!(d->hdr.flags & NVME_TCP_F_DATA_LAST) != (recvd + datal == n)) {
				fk_fail(f, "H2CData cccid %u ttag %u datao %u datal %u flags 0x%x",
					d->cccid, d->ttag, d->datao, d->datal, d->hdr.flags);
				goto out;
			}
			if (f->hdgst && !nvmf_tcp_hdgst_ok(buf, sizeof(*d))) {
				fk_fail(f, "H2CData header digest");
				goto out;
			}
			memcpy(got + d->datao, buf + d->hdr.pdo, datal);
			memcpy(&dg, buf + d->hdr.pdo + datal, 4);
			if (f->ddgst && dg != nvmf_crc32c(buf + d->hdr.pdo, datal)) {
				fk_fail(f, "H2CData data digest");
				goto out;
			}
			recvd += datal;
		}
		off += n;
	}
	if (memcmp(want, got, len)) {
		fk_fail(f, "written data differs");
		goto out;
	}
	f->ok = true;
	fk_send_rsp(f, fd, sqe->cid, 0);
out:
	free(want);
	free(got);
}

static void sc_write_r2t(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	serve_write(f, fd, &sqe, 12288, 0);
}

static void sc_write_slow(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	serve_write(f, fd, &sqe, sqe.dptr.sgl.length, 300);
}

/* One R2T for 16 MiB to a slow reader: partial sends, EPOLLOUT, the rest later. */
static void test_fake_write_slow_reader(void **state)
{
	struct scen s = { .script = sc_write_slow,
			  .maxh2cdata = 1u << 20,
			  .opcode = nvme_cmd_write,
			  .len = 16u << 20,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .rcvbuf = 4096 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

/* R2Ts of 12 KiB answered in H2CData PDUs of at most MAXH2CDATA (4 KiB), LAST per R2T. */
static void test_fake_write_r2t(void **state)
{
	struct scen s = { .script = sc_write_r2t,
			  .maxh2cdata = 4096,
			  .opcode = nvme_cmd_write,
			  .len = 40000,
			  .want_status = 0,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_early_rsp(struct fake *f, int fd)
{
	static uint8_t buf[(1u << 20) + 256];
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];
	unsigned int extra = 0;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0,
				    sqe.dptr.sgl.length, f->hdgst));
	usleep(200000);
	if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0) {
		fk_fail(f, "no H2CData");
		return;
	}
	/* fail the command while its data is still coming, as nvmet on a digest error */
	fk_send_rsp(f, fd, sqe.cid, NVME_SC_DATA_XFER_ERROR);
	/* the PDUs already on their way, then nothing but the next command */
	for (;;) {
		const struct nvme_tcp_hdr *h = (const void *)buf;

		if (fk_read_pdu(f, fd, buf, sizeof(buf)) < 0) {
			fk_fail(f, "stream broken after the early response");
			return;
		}
		if (h->type == nvme_tcp_cmd)
			break;
		if (h->type != nvme_tcp_h2c_data || ++extra > 16) {
			fk_fail(f, "PDU type %u after the early response", h->type);
			return;
		}
	}
	sqe = ((const struct nvme_tcp_cmd_pdu *)buf)->cmd;
	sc_read_ok(f, fd, &sqe, false);
}

/*
 * A response in the middle of a long H2C transfer: the PDU on the wire is finished, the rest
 * of the R2T is not sent, the command completes once with the response's status, and the
 * connection goes on.
 */
static void test_fake_early_rsp(void **state)
{
	struct scen s = { .script = sc_early_rsp,
			  .maxh2cdata = 1u << 20,
			  .opcode = nvme_cmd_write,
			  .len = 16u << 20,
			  .want_status = NVME_SC_DATA_XFER_ERROR,
			  .want_term_fes = -1,
			  .second_ok = true,
			  .rcvbuf = 4096 };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_read_padded(struct fake *f, int fd)
{
	struct nvmf_tcp_params p = f->p;
	struct nvme_sqe sqe;
	uint8_t hdr[256], data[6000];
	size_t hl;
	uint32_t dg;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fake_pattern(data, sizeof(data));
	/* PDO past the header: legal for any HPDA that divides it (16 bytes here) */
	p.hpda = 3;
	hl = nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)hdr, nvme_tcp_c2h_data, sqe.cid, 0,
				     0, sizeof(data),
				     NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, &p);
	if (hl <= sizeof(struct nvme_tcp_data_pdu) + (f->hdgst ? 4 : 0))
		fk_fail(f, "no padding (PDO %zu)", hl);
	dg = nvmf_crc32c(data, sizeof(data));
	fk_write(fd, hdr, hl);
	fk_write(fd, data, sizeof(data));
	if (f->ddgst)
		fk_write(fd, &dg, 4);
}

/* C2HData whose PDO leaves padding after the header */
static void test_fake_read_padded(void **state)
{
	struct scen s = { .script = sc_read_padded,
			  .opcode = nvme_cmd_read,
			  .len = 6000,
			  .buf_extra = 64,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_c2h_for_write(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[512] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

/* C2HData for a write */
static void test_fake_c2h_for_write(void **state)
{
	struct scen s = { .script = sc_c2h_for_write,
			  .opcode = nvme_cmd_write,
			  .len = 65536,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_after_last(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[2048] = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
	fk_send_c2h(f, fd, sqe.cid, sizeof(data), data, sizeof(data), NVME_TCP_F_DATA_LAST, false);
}

/* C2HData after the LAST one of the command */
static void test_fake_c2h_after_last(void **state)
{
	struct scen s = { .script = sc_c2h_after_last,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_PDU_SEQ_ERR };

	(void)state;
	run_scen(&s);
}

static void sc_bad_plen(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_rsp_pdu) + 8] = { 0 };
	struct nvme_cqe cqe = { 0 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	cqe.cid = sqe.cid;
	nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)buf, &cqe, false);
	((struct nvme_tcp_hdr *)buf)->plen += 8; /* a CapsuleResp carries no data */
	fk_write(fd, buf, sizeof(buf));
}

static void sc_icresp_again(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	struct nvme_tcp_icresp_pdu icresp;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	nvmf_tcp_build_icresp(&icresp, f->hdgst, f->ddgst, 0, f->maxh2cdata);
	fk_write(fd, &icresp, sizeof(icresp));
}

/* A malformed PDU header, and a PDU out of sequence (a second ICResp) */
static void test_fake_bad_header(void **state)
{
	struct scen s = { .script = sc_bad_plen,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
	s.script = sc_icresp_again;
	s.want_term_fes = NVME_TCP_FES_PDU_SEQ_ERR;
	run_scen(&s);
}

static void sc_write_icd(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t icd[8192], want[8192];
	size_t len = 0;

	if (fk_read_cmd(f, fd, &sqe, icd, sizeof(icd), &len))
		return;
	fake_pattern(want, (uint32_t)len);
	if (sqe.dptr.sgl.type != NVME_SGL_ID_INCAPSULE || sqe.dptr.sgl.length != len ||
	    sqe.dptr.sgl.addr || len != 4096 || memcmp(icd, want, len)) {
		fk_fail(f, "in-capsule write: SGL type 0x%x length %u, %zu bytes",
			sqe.dptr.sgl.type, sqe.dptr.sgl.length, len);
		return;
	}
	f->ok = true;
	fk_send_rsp(f, fd, sqe.cid, 0);
}

/* A write up to icd_max goes inside the capsule; "localhost" is resolved. */
static void test_fake_write_icd(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t buf[4096];

	(void)state;
	for (int dg = 0; dg < 2; dg++) {
		memset(&c, 0, sizeof(c));
		fake_start(&f, sc_write_icd, 1u << 20, 0);
		assert_int_equal(hq_connect(&h, "localhost", f.port, dg, dg), 0);
		fake_pattern(buf, sizeof(buf));
		hq_submit(&h, nvme_cmd_write, buf, sizeof(buf), &c);
		hq_wait(&h, &c);
		assert_int_equal(c.status, 0);
		hq_close(&h);
		fake_join(&f);
		assert_true(f.ok);
		assert_int_equal(f.term_fes, -1);
	}
}

static void sc_r2t_bad_offset(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 4096, 4096,
				    f->hdgst));
}

static void sc_r2t_too_long(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0,
				    sqe.dptr.sgl.length + 4096, f->hdgst));
}

static void test_fake_r2t_out_of_range(void **state)
{
	struct scen s = { .script = sc_r2t_bad_offset,
			  .opcode = nvme_cmd_write,
			  .len = 65536,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_DATA_OUT_OF_RANGE };

	(void)state;
	run_scen(&s);
	s.script = sc_r2t_too_long;
	run_scen(&s);
}

static void sc_r2t_for_read(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t r2t[sizeof(struct nvme_tcp_r2t_pdu) + 4];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, r2t,
		 nvmf_tcp_build_r2t((struct nvme_tcp_r2t_pdu *)r2t, sqe.cid, 1, 0, 4096, f->hdgst));
}

static void test_fake_r2t_for_read(void **state)
{
	struct scen s = { .script = sc_r2t_for_read,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = NVME_TCP_FES_INVALID_PDU_HDR };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_term(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_term_pdu) + 8];
	struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_PDU_SEQ_ERR, 2 };

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_write(fd, buf, nvmf_tcp_build_term(buf, nvme_tcp_c2h_term, &err, "\x04\0\0\0\0\0\0", 8));
}

/* A C2HTermReq ends the connection, without a termination request in reply. */
static void test_fake_c2h_term(void **state)
{
	struct scen s = { .script = sc_c2h_term,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
}

static void sc_eof_mid_pdu(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t buf[sizeof(struct nvme_tcp_data_pdu) + 1000];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	nvmf_tcp_build_data_hdr((struct nvme_tcp_data_pdu *)buf, nvme_tcp_c2h_data, sqe.cid, 0, 0,
				4096, NVME_TCP_F_DATA_LAST, &f->p);
	memset(buf + sizeof(struct nvme_tcp_data_pdu), 0x11, 1000);
	fk_write(fd, buf, sizeof(buf));
	shutdown(fd, SHUT_WR);
}

static void test_fake_eof_mid_pdu(void **state)
{
	struct scen s = { .script = sc_eof_mid_pdu,
			  .opcode = nvme_cmd_read,
			  .len = 4096,
			  .buf_extra = 64,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
}

static void sc_rsp_before_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[4096];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	memset(data, 0x22, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data), 0, false);
	fk_send_rsp(f, fd, sqe.cid, 0);
}

static void sc_rsp_no_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, sqe.cid, 0);
}

/* A successful response before all of a read's data is a protocol error ... */
static void test_fake_rsp_before_data(void **state)
{
	struct scen s = { .script = sc_rsp_before_data,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .want_status = -ENOLINK,
			  .want_term_fes = -1 };

	(void)state;
	run_scen(&s);
	s.script = sc_rsp_no_data;
	run_scen(&s);
}

static void sc_rsp_error_no_data(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fk_send_rsp(f, fd, sqe.cid, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* ... but an error response without data is just the command's status. */
static void test_fake_rsp_error(void **state)
{
	struct scen s = { .script = sc_rsp_error_no_data,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .want_status = NVME_SC_INVALID_FIELD | NVME_STATUS_DNR,
			  .want_term_fes = -1,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
}

static void sc_c2h_success(struct fake *f, int fd)
{
	struct nvme_sqe sqe;
	uint8_t data[8192];

	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	fake_pattern(data, sizeof(data));
	fk_send_c2h(f, fd, sqe.cid, 0, data, sizeof(data),
		    NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, false);
	/* no CapsuleResp: the next command must work */
	if (fk_read_cmd(f, fd, &sqe, NULL, 0, NULL))
		return;
	sc_read_ok(f, fd, &sqe, false);
}

/* C2HData with SUCCESS completes the command without a CapsuleResp. */
static void test_fake_c2h_success(void **state)
{
	struct scen s = { .script = sc_c2h_success,
			  .opcode = nvme_cmd_read,
			  .len = 8192,
			  .buf_extra = 64,
			  .want_status = 0,
			  .want_term_fes = -1,
			  .check_read = true,
			  .second_ok = true };

	(void)state;
	run_scen(&s);
	s.hdgst = s.ddgst = true;
	run_scen(&s);
}

static void sc_silent(struct fake *f, int fd)
{
	struct nvme_sqe sqe;

	fk_read_cmd(f, fd, &sqe, NULL, 0, NULL);
}

/* queue_stop() with a command in flight: -ENOLINK exactly once, after the shutdown. */
static void test_fake_stop_in_flight(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c = { 0 };
	uint8_t buf[4096];

	(void)state;
	fake_start(&f, sc_silent, 1u << 20, 0);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, false), 0);
	hq_submit(&h, nvme_cmd_read, buf, sizeof(buf), &c);
	for (int i = 0; i < 20; i++)
		nvmf_reactor_poll_once(h.ctrl->reactor, 5);
	assert_int_equal(c.calls, 0);
	assert_int_equal(h.q.nr_sent, 1);
	nvmf_host_tcp_ops.queue_stop(&h.q);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.status, -ENOLINK);
	/* stopping again, or submitting to a stopped queue, completes nothing twice */
	nvmf_host_tcp_ops.queue_stop(&h.q);
	assert_int_equal(c.calls, 1);
	{
		struct nvmf_host_req *req = nvmf_host_tag_get(&h.q, false);

		req->buf = NULL;
		req->len = 0;
		memset(&req->cmd, 0, sizeof(req->cmd));
		assert_int_equal(nvmf_host_queue_send(&h.q, req, 0), -ENOLINK);
	}
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(c.calls, 1);
}

/* An ICResp with digests we did not ask for: refused with an H2CTermReq, -EPROTO. */
static void test_fake_icresp_refused(void **state)
{
	struct fake f;
	struct hq h;

	(void)state;
	fake_start_ic(&f, NULL, 1u << 20, 0, IC_BAD_DGST);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, false), -EPROTO);
	assert_null(h.q.tr);
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, NVME_TCP_FES_UNSUPPORTED_PARAM);
	assert_int_equal(f.term_fei, offsetof(struct nvme_tcp_icresp_pdu, digest));
}

/* A controller refusing the ICReq with a C2HTermReq: -ECONNREFUSED, no reply. */
static void test_fake_icreq_refused(void **state)
{
	struct fake f;
	struct hq h;

	(void)state;
	fake_start_ic(&f, NULL, 1u << 20, 0, IC_TERM);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, true, true), -ECONNREFUSED);
	assert_null(h.q.tr);
	hq_close(&h);
	fake_join(&f);
	assert_int_equal(f.term_fes, -1);
}

/*
 * Stopped and freed before the deferred flush ran: the capsule is never sent, the command
 * completes once with -ENOLINK, and the queue memory waits for the flush to go (ASan
 * checks both).
 */
static void test_fake_stop_before_flush(void **state)
{
	struct fake f;
	struct hq h;
	struct io_ctx c[3] = { 0 };
	uint8_t buf[3][8192];

	(void)state;
	fake_start(&f, NULL, 1u << 20, 0);
	assert_int_equal(hq_connect(&h, "127.0.0.1", f.port, false, true), 0);
	hq_submit(&h, nvme_cmd_write, buf[0], 4096, &c[0]);
	hq_submit(&h, nvme_cmd_write, buf[1], 8192, &c[1]);
	hq_submit(&h, nvme_cmd_read, buf[2], 8192, &c[2]);
	nvmf_host_tcp_ops.queue_stop(&h.q);
	nvmf_host_tcp_ops.queue_free(&h.q);
	assert_null(h.q.tr);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(c[i].calls, 1);
		assert_int_equal(c[i].status, -ENOLINK);
	}
	assert_int_equal(h.q.nr_sent, 0);
	nvmf_reactor_poll_once(h.ctrl->reactor, 0); /* runs the flush, which frees */
	hq_close(&h);
	fake_join(&f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(c[i].calls, 1);
}

static void test_connect_refused(void **state)
{
	struct hq h;
	char port[16];

	(void)state;
	free_port(port, sizeof(port));
	assert_int_equal(hq_connect(&h, "127.0.0.1", port, false, false), -ECONNREFUSED);
	hq_close(&h);
	assert_int_equal(hq_connect(&h, "no-such-host.invalid", port, false, false), -EHOSTUNREACH);
	hq_close(&h);
}

int main(void)
{
	const struct CMUnitTest fake_tests[] = {
		cmocka_unit_test(test_fake_read),
		cmocka_unit_test(test_fake_write_icd),
		cmocka_unit_test(test_fake_write_r2t),
		cmocka_unit_test(test_fake_write_slow_reader),
		cmocka_unit_test(test_fake_early_rsp),
		cmocka_unit_test(test_fake_read_padded),
		cmocka_unit_test(test_fake_c2h_success),
		cmocka_unit_test(test_fake_ddgst_error),
		cmocka_unit_test(test_fake_rsp_error),
		cmocka_unit_test(test_fake_c2h_out_of_range),
		cmocka_unit_test(test_fake_c2h_out_of_order),
		cmocka_unit_test(test_fake_c2h_for_write),
		cmocka_unit_test(test_fake_c2h_after_last),
		cmocka_unit_test(test_fake_bad_header),
		cmocka_unit_test(test_fake_unknown_cid),
		cmocka_unit_test(test_fake_hdgst_error),
		cmocka_unit_test(test_fake_r2t_out_of_range),
		cmocka_unit_test(test_fake_r2t_for_read),
		cmocka_unit_test(test_fake_c2h_term),
		cmocka_unit_test(test_fake_eof_mid_pdu),
		cmocka_unit_test(test_fake_rsp_before_data),
		cmocka_unit_test(test_fake_stop_in_flight),
		cmocka_unit_test(test_fake_stop_before_flush),
		cmocka_unit_test(test_fake_icresp_refused),
		cmocka_unit_test(test_fake_icreq_refused),
		cmocka_unit_test(test_connect_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("host tcp: fake controller", fake_tests, NULL, NULL);
}
