// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP target transport (NVMe/TCP Transport 1.0c).
 *
 * One TCP connection is one queue. The listener runs on reactor 0 and hands each accepted
 * socket to a reactor (round robin); the queue lives there until it is freed.
 *
 * Receive: a small staging buffer takes PDU headers; payloads (in-capsule data, H2CData) are
 * copied from it or, when large, received straight into the command's slot buffer.
 * Send: completed slots are chained and written with one sendmsg() per loop iteration
 * (header, data and digest iovecs of many responses together).
 * Teardown: the socket is shut down, parked requests released, then the queue waits until
 * every slot handed to the core came back before it frees anything (seed 000: never
 * complete a request on behalf of a party that may still complete it).
 */
#include "core.h"

#include "common/crc32c.h"
#include "common/log.h"
#include "tcp/pdu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_RX_BUF 65536
#define TCP_DIRECT_RECV_MIN 4096 /* payloads this large are received in place */
#define TCP_TX_IOV 128
#define TCP_HDR_MAX (sizeof(struct nvme_tcp_icreq_pdu) + NVME_TCP_DIGEST_LEN)

enum slot_state {
	SLOT_FREE = 0,
	SLOT_RECV, /* command received, its in-capsule data not yet: not in the core */
	SLOT_H2C,  /* R2T queued or sent, waiting for H2CData: not in the core */
	SLOT_EXEC, /* owned by the core / a backend */
	SLOT_TX,   /* response queued for sending */
};

enum tx_kind {
	TX_NONE = 0,
	TX_R2T,
	TX_RESP,
};

struct tcp_queue;

struct tcp_slot {
	struct nvmf_tgt_req req;
	struct tcp_queue *q;
	uint16_t idx; /* also the R2T transfer tag */
	uint8_t state;
	uint8_t tx_kind;
	uint32_t h2c_off;      /* bytes of H2C data received so far */
	uint16_t h2c_status;   /* a data digest error: fail the command once all data came */
	struct tcp_slot *next; /* free list or tx list */
	/* transmit: up to header+pad, data, ddgst, response */
	struct iovec iov[5];
	int iovcnt;
	uint32_t ddgst;
	union {
		struct nvme_tcp_data_pdu c2h;
		struct nvme_tcp_r2t_pdu r2t;
		uint8_t raw[sizeof(struct nvme_tcp_data_pdu) + NVME_TCP_DIGEST_LEN + 128];
	} tx_hdr;
	uint8_t rsp[sizeof(struct nvme_tcp_rsp_pdu) + NVME_TCP_DIGEST_LEN];
};

enum rx_stage {
	RX_HDR,	     /* the 8-byte common header */
	RX_HDR_REST, /* rest of the header and its digest */
	RX_PAD,	     /* padding between header and data (PDO) */
	RX_DATA,     /* payload into rx_dst */
	RX_DDGST,    /* data digest */
};

struct tcp_port {
	struct nvmf_tgt_port *port;
	struct nvmf_tgt *tgt;
	struct nvmf_reactor *reactor;
	struct nvmf_fd_handler h;
};

struct tcp_queue {
	struct nvmf_tgt_sq sq;
	struct nvmf_fd_handler h;
	struct nvmf_reactor *r;
	char peer[64];

	bool ic_done;
	bool dead;	  /* teardown started */
	bool in_teardown; /* releasing slots: do not free yet */
	bool freed;
	struct tcp_queue *all_next; /* every queue of the transport, under queues_lock */
	struct nvmf_tcp_params params;

	/* receive */
	uint8_t *rxbuf;
	size_t rx_pos, rx_len; /* unread bytes are rxbuf[rx_pos, rx_len) */
	enum rx_stage stage;
	union {
		struct nvme_tcp_hdr common;
		struct nvme_tcp_icreq_pdu icreq;
		struct nvme_tcp_cmd_pdu cmd;
		struct nvme_tcp_data_pdu data;
		struct nvme_tcp_term_pdu term;
		uint8_t raw[TCP_HDR_MAX];
	} hdr;
	size_t hdr_got, hdr_need;
	uint8_t *rx_dst;
	size_t rx_got, rx_need;
	uint8_t ddgst_buf[NVME_TCP_DIGEST_LEN];
	struct tcp_slot *rx_slot; /* slot receiving data */
	uint16_t rx_status;	  /* for in-capsule data of a command that already failed */
	bool rx_discard;

	/* slots */
	struct tcp_slot *slots;
	uint16_t nr_slots;
	uint16_t nr_busy;
	struct tcp_slot *free_list;
	uint8_t *bufs; /* nr_slots * 2 * buf_len bytes, anonymous mmap */
	size_t bufs_len;
	uint32_t buf_len;
	const void *zeroes; /* zero_region_get(buf_len), or NULL: reads are memset */

	/* transmit */
	struct tcp_slot *tx_head, *tx_tail;
	size_t tx_sent; /* bytes of the head already sent */
	uint8_t ctl_pdu[sizeof(struct nvme_tcp_icresp_pdu) + NVME_TCP_TERM_MAX_DATA];
	size_t ctl_len, ctl_sent; /* ICResp or C2HTermReq, ahead of everything else */
	bool close_after_ctl;
	bool want_out;
	struct nvmf_deferred flush;
};

static void queue_teardown(struct tcp_queue *q, const char *why);
static void queue_flush(struct nvmf_deferred *d);
static void queue_free(struct tcp_queue *q);

/* ------------------------------------------------------------------------------------------
 * Slots
 */

static struct tcp_slot *slot_get(struct tcp_queue *q)
{
	struct tcp_slot *s = q->free_list;

	if (!s)
		return NULL;
	q->free_list = s->next;
	s->next = NULL;
	s->state = SLOT_RECV;
	s->h2c_off = 0;
	s->h2c_status = NVME_SC_SUCCESS;
	s->tx_kind = TX_NONE;
	q->nr_busy++;
	return s;
}

static void queue_maybe_free(struct tcp_queue *q);

static void slot_put(struct tcp_queue *q, struct tcp_slot *s)
{
	s->state = SLOT_FREE;
	s->tx_kind = TX_NONE;
	s->next = q->free_list;
	q->free_list = s;
	q->nr_busy--;
	if (q->dead)
		queue_maybe_free(q);
}

/*
 * Read-only zeroes for C2H data a backend reported as zero (struct nvmf_tgt_req.zero_data):
 * anonymous pages never written all map the kernel's zero page, so this costs no memory.
 * One region for the process, grown (never shrunk or unmapped: queues may still send from
 * an older one) when a queue has larger slots.
 */
static pthread_mutex_t zero_lock = PTHREAD_MUTEX_INITIALIZER;
static const void *zero_region;
static size_t zero_region_len;

static const void *zero_region_get(size_t len)
{
	const void *z;

	pthread_mutex_lock(&zero_lock);
	if (zero_region_len < len) {
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			       -1, 0);

		if (m != MAP_FAILED) {
			zero_region = m;
			zero_region_len = len;
		}
	}
	z = zero_region_len >= len ? zero_region : NULL;
	pthread_mutex_unlock(&zero_lock);
	return z;
}

static int queue_alloc_slots(struct tcp_queue *q, uint16_t nr, uint32_t buf_len)
{
	size_t len = (size_t)nr * buf_len * 2;
	void *bufs;

	q->slots = calloc(nr, sizeof(*q->slots));
	if (!q->slots)
		return -ENOMEM;
	/* lazily populated: a slot's pages are touched only when it carries that much data */
	bufs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (bufs == MAP_FAILED) {
		free(q->slots);
		q->slots = NULL;
		return -ENOMEM;
	}
	q->bufs = bufs;
	q->bufs_len = len;
	q->buf_len = buf_len;
	q->zeroes = zero_region_get(buf_len);
	q->nr_slots = nr;
	for (int i = nr - 1; i >= 0; i--) {
		struct tcp_slot *s = &q->slots[i];

		s->q = q;
		s->idx = (uint16_t)i;
		s->req.sq = &q->sq;
		s->req.buf = q->bufs + (size_t)i * buf_len * 2;
		s->req.cmp_buf = (uint8_t *)s->req.buf + buf_len;
		s->req.buf_len = buf_len;
		s->req.zero_data_ok = q->zeroes != NULL;
		s->next = q->free_list;
		q->free_list = s;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------
 * Transmit
 */

static void tx_kick(struct tcp_queue *q)
{
	nvmf_reactor_defer(q->r, &q->flush);
}

static void tx_enqueue(struct tcp_queue *q, struct tcp_slot *s)
{
	s->next = NULL;
	if (q->tx_tail)
		q->tx_tail->next = s;
	else
		q->tx_head = s;
	q->tx_tail = s;
	tx_kick(q);
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* A sent item is done: R2T -> wait for data; response -> the slot is free again. */
static void tx_item_done(struct tcp_queue *q, struct tcp_slot *s)
{
	if (s->tx_kind == TX_R2T) {
		/* the slot stays in SLOT_H2C: from now on H2CData for it is valid */
		s->tx_kind = TX_NONE;
		return;
	}
	slot_put(q, s);
}

static int tx_send_ctl(struct tcp_queue *q)
{
	while (q->ctl_sent < q->ctl_len) {
		ssize_t n = send(q->h.fd, q->ctl_pdu + q->ctl_sent, q->ctl_len - q->ctl_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return -EAGAIN;
			return -errno;
		}
		q->ctl_sent += (size_t)n;
	}
	q->ctl_len = q->ctl_sent = 0;
	return 0;
}

static void queue_flush(struct nvmf_deferred *d)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)d - offsetof(struct tcp_queue, flush));
	struct iovec iov[TCP_TX_IOV];
	int ret;

	if (q->dead) {
		/* queue_maybe_free() deferred the free to here: see there why */
		if (!q->nr_busy && !q->in_teardown && !q->freed && !q->flush.queued) {
			q->freed = true;
			queue_free(q);
		}
		return;
	}
	if (q->ctl_len) {
		ret = tx_send_ctl(q);
		if (ret == -EAGAIN)
			goto want_out;
		if (ret < 0) {
			queue_teardown(q, strerror(-ret));
			return;
		}
		if (q->close_after_ctl) {
			queue_teardown(q, "fatal transport error");
			return;
		}
	}
	while (q->tx_head) {
		struct tcp_slot *s = q->tx_head;
		size_t skip = q->tx_sent;
		int cnt = 0;
		ssize_t n;

		/* gather as many queued items as fit, the head's sent part skipped */
		for (; s && cnt < TCP_TX_IOV; s = s->next) {
			for (int i = 0; i < s->iovcnt && cnt < TCP_TX_IOV; i++) {
				if (skip >= s->iov[i].iov_len) {
					skip -= s->iov[i].iov_len;
					continue;
				}
				iov[cnt].iov_base = (char *)s->iov[i].iov_base + skip;
				iov[cnt].iov_len = s->iov[i].iov_len - skip;
				skip = 0;
				cnt++;
			}
		}
		{
			struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };

			n = sendmsg(q->h.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				goto want_out;
			queue_teardown(q, strerror(errno));
			return;
		}
		/* retire what went out */
		q->tx_sent += (size_t)n;
		while (q->tx_head) {
			size_t len = iov_total(q->tx_head->iov, q->tx_head->iovcnt);

			if (q->tx_sent < len)
				break;
			q->tx_sent -= len;
			s = q->tx_head;
			q->tx_head = s->next;
			if (!q->tx_head)
				q->tx_tail = NULL;
			s->next = NULL;
			tx_item_done(q, s);
			if (q->dead)
				return;
		}
		if ((size_t)n < iov_total(iov, cnt))
			goto want_out;
	}
	if (q->want_out) {
		q->want_out = false;
		nvmf_reactor_fd_mod(q->r, &q->h, EPOLLIN);
	}
	return;

want_out:
	if (!q->want_out) {
		q->want_out = true;
		nvmf_reactor_fd_mod(q->r, &q->h, EPOLLIN | EPOLLOUT);
	}
}

/* A fatal protocol error: send a C2HTermReq, then close (NVMe/TCP 1.0c 3.6.2.4). */
static void queue_fatal(struct tcp_queue *q, const struct nvmf_tcp_pdu_error *err,
			const void *bad_hdr, size_t bad_len)
{
	nvmf_warn("tcp %s qid %u: fatal: %s (fei %u)", q->peer, q->sq.qid,
		  nvmf_tcp_fes_str(err->fes), err->fei);
	q->ctl_len = nvmf_tcp_build_term(q->ctl_pdu, nvme_tcp_c2h_term, err, bad_hdr, bad_len);
	q->ctl_sent = 0;
	q->close_after_ctl = true;
	/* nothing more is read from this connection */
	nvmf_reactor_fd_mod(q->r, &q->h, EPOLLOUT);
	q->want_out = true;
	tx_kick(q);
}

static void queue_r2t(struct tcp_queue *q, struct tcp_slot *s)
{
	size_t hl = nvmf_tcp_build_r2t(&s->tx_hdr.r2t, s->req.cmd.cid, s->idx, 0, s->req.data_len,
				       q->params.hdgst);

	s->iov[0].iov_base = &s->tx_hdr;
	s->iov[0].iov_len = hl;
	s->iovcnt = 1;
	s->tx_kind = TX_R2T;
	s->state = SLOT_H2C;
	tx_enqueue(q, s);
}

static void tcp_queue_response(struct nvmf_tgt_req *req)
{
	struct tcp_slot *s = (struct tcp_slot *)req;
	struct tcp_queue *q = s->q;
	bool success = (req->cqe.status >> 1) == 0;
	bool send_rsp = true;
	int n = 0;

	/* a dying queue sends nothing; nor does a response fault injection drops */
	if (q->dead || unlikely(req->fault.drop)) {
		slot_put(q, s);
		return;
	}
	s->state = SLOT_TX;
	s->tx_kind = TX_RESP;
	if (req->data_dir == NVMF_DATA_C2H && success && req->transfer_len) {
		uint8_t flags = NVME_TCP_F_DATA_LAST;
		size_t hl;

		/* C2H SUCCESS: the data PDU completes the command when SQ flow control is off */
		if (q->sq.sqhd_disabled) {
			flags |= NVME_TCP_F_DATA_SUCCESS;
			send_rsp = false;
		}
		/* the builder pads the header up to the host's HPDA alignment */
		hl = nvmf_tcp_build_data_hdr(&s->tx_hdr.c2h, nvme_tcp_c2h_data, req->cmd.cid, 0, 0,
					     req->transfer_len, flags, &q->params);
		const void *data = req->zero_data ? q->zeroes : req->buf;

		s->iov[n].iov_base = &s->tx_hdr;
		s->iov[n++].iov_len = hl;
		s->iov[n].iov_base = (void *)data;
		s->iov[n++].iov_len = req->transfer_len;
		if (q->params.ddgst) {
			s->ddgst = nvmf_crc32c(data, req->transfer_len);
			if (unlikely(req->fault.corrupt == NVMF_TGT_FAULT_CORRUPT_DDGST))
				s->ddgst ^= 1;
			s->iov[n].iov_base = &s->ddgst;
			s->iov[n++].iov_len = NVME_TCP_DIGEST_LEN;
		}
	}
	if (send_rsp) {
		s->iov[n].iov_base = s->rsp;
		s->iov[n++].iov_len = nvmf_tcp_build_rsp((struct nvme_tcp_rsp_pdu *)s->rsp,
							 &req->cqe, q->params.hdgst);
	}
	if (unlikely(req->fault.corrupt == NVMF_TGT_FAULT_CORRUPT_HDGST) && q->params.hdgst) {
		/* the digest right after the last header: the response's, or C2H SUCCESS data's */
		if (send_rsp)
			s->rsp[sizeof(struct nvme_tcp_rsp_pdu)] ^= 1;
		else
			s->tx_hdr.raw[sizeof(struct nvme_tcp_data_pdu)] ^= 1;
	}
	s->iovcnt = n;
	tx_enqueue(q, s);
}

/* ------------------------------------------------------------------------------------------
 * Receive
 */

static void rx_expect_hdr(struct tcp_queue *q)
{
	q->stage = RX_HDR;
	q->hdr_got = 0;
	q->hdr_need = sizeof(struct nvme_tcp_hdr);
}

static void slot_execute(struct tcp_slot *s)
{
	s->state = SLOT_EXEC;
	s->req.execute(&s->req);
}

static void handle_icreq(struct tcp_queue *q)
{
	struct nvmf_tcp_pdu_error err;
	struct nvme_tcp_icresp_pdu *resp = (struct nvme_tcp_icresp_pdu *)q->ctl_pdu;

	if (nvmf_tcp_check_icreq(&q->hdr.icreq, &err) < 0) {
		queue_fatal(q, &err, &q->hdr.icreq, sizeof(q->hdr.icreq));
		return;
	}
	q->params.hdgst = !!(q->hdr.icreq.digest & NVME_TCP_HDR_DIGEST_ENABLE);
	q->params.ddgst = !!(q->hdr.icreq.digest & NVME_TCP_DATA_DIGEST_ENABLE);
	q->sq.hdgst = q->params.hdgst;
	q->sq.ddgst = q->params.ddgst;
	q->params.hpda = q->hdr.icreq.hpda;
	q->params.cpda = 0;
	q->params.maxh2cdata = q->sq.tgt->opts.mdts_bytes;
	q->params.max_icd = q->sq.tgt->opts.inline_data_size > NVME_TCP_ADMIN_CCSZ
				    ? q->sq.tgt->opts.inline_data_size
				    : NVME_TCP_ADMIN_CCSZ;
	q->params.max_c2h_data = 0;
	nvmf_tcp_build_icresp(resp, q->params.hdgst, q->params.ddgst, 0, q->params.maxh2cdata);
	q->ctl_len = sizeof(*resp);
	q->ctl_sent = 0;
	q->ic_done = true;
	tx_kick(q);
	nvmf_debug("tcp %s: icreq hdgst %d ddgst %d hpda %u", q->peer, q->params.hdgst,
		   q->params.ddgst, q->params.hpda);
}

static void start_data(struct tcp_queue *q, uint8_t *dst, size_t len)
{
	size_t pad = q->hdr.common.pdo - q->hdr.common.hlen - (q->params.hdgst ? 4 : 0);

	q->rx_dst = dst;
	q->rx_got = 0;
	q->rx_need = len;
	if (pad) {
		q->stage = RX_PAD;
		q->hdr_got = 0;
		q->hdr_need = pad;
	} else {
		q->stage = RX_DATA;
	}
}

/* A command that failed before its in-capsule data was read: skip the data, then fail it. */
static void start_discard(struct tcp_queue *q, struct tcp_slot *s, uint16_t status, size_t len)
{
	q->rx_slot = s;
	q->rx_status = status;
	q->rx_discard = true;
	start_data(q, NULL, len);
}

static void handle_cmd(struct tcp_queue *q)
{
	uint32_t icd = nvmf_tcp_pdu_data_len(&q->hdr.common, &q->params);
	struct tcp_slot *s = NULL;
	struct nvmf_tgt_req *req;
	uint16_t status;

	/* once connected, at most SQSIZE + 1 commands may be outstanding (Connect SQSIZE) */
	if (!q->sq.size || q->nr_busy < q->sq.size)
		s = slot_get(q);
	if (!s) {
		/* more commands outstanding than the queue has entries: host bug */
		struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_INVALID_PDU_HDR, 0 };

		nvmf_warn("tcp %s qid %u: SQ overflow (%u entries)", q->peer, q->sq.qid,
			  q->sq.size ? q->sq.size : q->nr_slots);
		queue_fatal(q, &err, &q->hdr.cmd, sizeof(q->hdr.cmd));
		return;
	}
	req = &s->req;
	memcpy(&req->cmd, &q->hdr.cmd.cmd, sizeof(req->cmd));
	status = nvmf_tgt_req_init(req);
	if (!status && icd) {
		/* in-capsule data must be exactly what the SGL describes */
		if (req->cmd.dptr.sgl.type != NVME_SGL_ID_INCAPSULE || icd != req->data_len) {
			req->error_loc = offsetof(struct nvme_sqe, dptr);
			status = NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
		}
	}
	if (!status && !icd && req->data_dir == NVMF_DATA_H2C &&
	    req->cmd.dptr.sgl.type == NVME_SGL_ID_INCAPSULE) {
		req->error_loc = offsetof(struct nvme_sqe, dptr);
		status = NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	}
	if (status) {
		if (icd) {
			start_discard(q, s, status, icd);
			return;
		}
		rx_expect_hdr(q);
		s->state = SLOT_EXEC; /* in the core now: teardown must not put it too */
		nvmf_tgt_req_complete(req, status);
		return;
	}
	if (icd) {
		q->rx_slot = s;
		q->rx_discard = false;
		start_data(q, req->buf, icd);
		return;
	}
	rx_expect_hdr(q);
	if (req->data_dir == NVMF_DATA_H2C) {
		queue_r2t(q, s);
		return;
	}
	slot_execute(s);
}

static void handle_h2c_data(struct tcp_queue *q)
{
	const struct nvme_tcp_data_pdu *d = &q->hdr.data;
	uint32_t datal = nvmf_tcp_pdu_data_len(&q->hdr.common, &q->params);
	struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_INVALID_PDU_HDR, 0 };
	struct tcp_slot *s;

	if (d->ttag >= q->nr_slots) {
		err.fei = offsetof(struct nvme_tcp_data_pdu, ttag);
		goto fatal;
	}
	s = &q->slots[d->ttag];
	/* data is only valid for a command whose R2T went out (NVMe/TCP 1.0c 3.6.2.8) */
	if (s->state != SLOT_H2C || s->tx_kind != TX_NONE || q->rx_slot == s) {
		err.fes = NVME_TCP_FES_PDU_SEQ_ERR;
		err.fei = offsetof(struct nvme_tcp_data_pdu, ttag);
		goto fatal;
	}
	if (s->req.cmd.cid != d->cccid) {
		err.fei = offsetof(struct nvme_tcp_data_pdu, cccid);
		goto fatal;
	}
	if (d->datal != datal) {
		err.fei = offsetof(struct nvme_tcp_data_pdu, datal);
		goto fatal;
	}
	if (d->datao != s->h2c_off || datal > s->req.data_len - s->h2c_off) {
		err.fes = NVME_TCP_FES_DATA_OUT_OF_RANGE;
		err.fei = offsetof(struct nvme_tcp_data_pdu, datao);
		goto fatal;
	}
	q->rx_slot = s;
	q->rx_discard = false;
	start_data(q, (uint8_t *)s->req.buf + d->datao, datal);
	return;

fatal:
	queue_fatal(q, &err, d, sizeof(*d));
}

static void handle_hdr(struct tcp_queue *q)
{
	const struct nvme_tcp_hdr *h = &q->hdr.common;

	if (q->params.hdgst && h->type != nvme_tcp_icreq && h->type != nvme_tcp_h2c_term &&
	    !nvmf_tcp_hdgst_ok(q->hdr.raw, h->hlen)) {
		struct nvmf_tcp_pdu_error err = { NVME_TCP_FES_HDR_DIGEST_ERR, 0 };

		queue_fatal(q, &err, q->hdr.raw, h->hlen);
		return;
	}
	switch (h->type) {
	case nvme_tcp_icreq:
		handle_icreq(q);
		rx_expect_hdr(q);
		break;
	case nvme_tcp_cmd:
		handle_cmd(q);
		break;
	case nvme_tcp_h2c_data:
		handle_h2c_data(q);
		break;
	case nvme_tcp_h2c_term:
		nvmf_warn("tcp %s qid %u: host terminated the connection: %s (fei %u)", q->peer,
			  q->sq.qid, nvmf_tcp_fes_str(q->hdr.term.fes), q->hdr.term.fei);
		queue_teardown(q, "H2CTermReq");
		break;
	default:
		/* nvmf_tcp_check_hdr() lets nothing else through */
		queue_teardown(q, "unexpected PDU");
		break;
	}
}

static void data_done(struct tcp_queue *q)
{
	struct tcp_slot *s = q->rx_slot;
	bool digest_bad = false;

	if (q->params.ddgst && !q->rx_discard) {
		uint32_t want;

		memcpy(&want, q->ddgst_buf, sizeof(want));
		digest_bad = nvmf_crc32c(q->rx_dst, q->rx_need) != want;
	}
	q->rx_slot = NULL;
	rx_expect_hdr(q);
	if (q->rx_discard) {
		q->rx_discard = false;
		s->state = SLOT_EXEC;
		nvmf_tgt_req_complete(&s->req, q->rx_status);
		return;
	}
	if (digest_bad) {
		/*
		 * A data digest error fails the command, not the connection (NVMe/TCP 1.0c
		 * 3.3.3.2.2): Transient Transport Error, which the host may retry. The host
		 * sends the rest of an R2T's H2CData regardless, so the command is failed only
		 * once all of it came: completing it now would free the slot and turn that
		 * data into a PDU sequence error.
		 */
		nvmf_warn("tcp %s qid %u cid %u: data digest error", q->peer, q->sq.qid,
			  s->req.cmd.cid);
		s->h2c_status = NVME_SC_TRANSIENT_TR_ERR;
	}
	if (q->hdr.common.type == nvme_tcp_cmd) {
		if (s->h2c_status)
			goto fail;
		slot_execute(s);
		return;
	}
	s->h2c_off += (uint32_t)q->rx_need;
	if (s->h2c_off < s->req.data_len)
		return;
	if (s->h2c_status)
		goto fail;
	slot_execute(s);
	return;

fail:
	s->state = SLOT_EXEC;
	nvmf_tgt_req_complete(&s->req, s->h2c_status);
}

static void hdr8_done(struct tcp_queue *q)
{
	struct nvmf_tcp_pdu_error err;
	const struct nvme_tcp_hdr *h = &q->hdr.common;
	size_t rest;

	if (nvmf_tcp_check_hdr(h, q->ic_done ? &q->params : NULL, true, &err) < 0) {
		queue_fatal(q, &err, h, sizeof(*h));
		return;
	}
	rest = h->hlen - sizeof(*h);
	if (q->params.hdgst && h->type != nvme_tcp_icreq && h->type != nvme_tcp_h2c_term)
		rest += NVME_TCP_DIGEST_LEN;
	if (h->type == nvme_tcp_h2c_term)
		rest = h->plen - sizeof(*h) > sizeof(q->hdr) - sizeof(*h)
			       ? sizeof(q->hdr) - sizeof(*h)
			       : h->plen - sizeof(*h);
	q->stage = RX_HDR_REST;
	q->hdr_need = sizeof(*h) + rest;
}

/*
 * Feed bytes to the state machine. Returns false when the queue went away or stopped
 * reading (fatal error).
 */
static bool rx_process(struct tcp_queue *q)
{
	while (!q->dead && !q->close_after_ctl) {
		size_t avail = q->rx_len - q->rx_pos;
		uint8_t *src = q->rxbuf + q->rx_pos;
		size_t n;

		switch (q->stage) {
		case RX_HDR:
		case RX_HDR_REST:
		case RX_PAD:
			if (!avail)
				return true;
			n = q->hdr_need - q->hdr_got;
			if (n > avail)
				n = avail;
			if (q->stage != RX_PAD)
				memcpy(q->hdr.raw + q->hdr_got, src, n);
			q->rx_pos += n;
			q->hdr_got += n;
			if (q->hdr_got < q->hdr_need)
				return true;
			if (q->stage == RX_HDR)
				hdr8_done(q);
			else if (q->stage == RX_HDR_REST)
				handle_hdr(q);
			else
				q->stage = RX_DATA;
			break;
		case RX_DATA:
			if (q->rx_got == q->rx_need) {
				if (q->params.ddgst) {
					q->stage = RX_DDGST;
					q->hdr_got = 0;
					q->hdr_need = NVME_TCP_DIGEST_LEN;
				} else {
					data_done(q);
				}
				break;
			}
			if (!avail) {
				ssize_t r;

				/* large payloads go from the socket straight into the slot */
				if (q->rx_discard || q->rx_need - q->rx_got < TCP_DIRECT_RECV_MIN)
					return true;
				r = recv(q->h.fd, q->rx_dst + q->rx_got, q->rx_need - q->rx_got,
					 MSG_DONTWAIT);
				if (r <= 0) {
					if (r < 0 && (errno == EAGAIN || errno == EINTR))
						return true;
					queue_teardown(q, r == 0 ? "connection closed"
								 : strerror(errno));
					return false;
				}
				q->rx_got += (size_t)r;
				break;
			}
			n = q->rx_need - q->rx_got;
			if (n > avail)
				n = avail;
			if (!q->rx_discard)
				memcpy(q->rx_dst + q->rx_got, src, n);
			q->rx_pos += n;
			q->rx_got += n;
			break;
		case RX_DDGST:
			if (!avail)
				return true;
			n = q->hdr_need - q->hdr_got;
			if (n > avail)
				n = avail;
			memcpy(q->ddgst_buf + q->hdr_got, src, n);
			q->rx_pos += n;
			q->hdr_got += n;
			if (q->hdr_got == q->hdr_need)
				data_done(q);
			break;
		}
	}
	return false;
}

/* Receive and handle what the socket has; true if a recv() returned data. */
static bool queue_read(struct tcp_queue *q)
{
	bool drained = false, got = false;

	/* bounded so that one busy connection cannot starve the others on this reactor */
	for (int rounds = 0; rounds < 16 && !q->dead && !q->close_after_ctl; rounds++) {
		ssize_t r;

		if (q->rx_pos == q->rx_len)
			q->rx_pos = q->rx_len = 0;
		if (!rx_process(q))
			return got;
		/* direct receive may have consumed the socket; refill the staging buffer */
		if (q->rx_pos < q->rx_len)
			continue;
		/*
		 * A read that did not fill the buffer emptied the socket: another recv() would
		 * only say EAGAIN (one system call per event saved); level-triggered epoll
		 * reports what arrives later.
		 */
		if (drained)
			return got;
		q->rx_pos = q->rx_len = 0;
		r = recv(q->h.fd, q->rxbuf, TCP_RX_BUF, MSG_DONTWAIT);
		if (r == 0) {
			queue_teardown(q, "connection closed by host");
			return true;
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return got;
			queue_teardown(q, strerror(errno));
			return true;
		}
		got = true;
		q->rx_len = (size_t)r;
		drained = (size_t)r < TCP_RX_BUF;
	}
	if (!q->dead && !q->close_after_ctl)
		rx_process(q);
	return got;
}

/* struct nvmf_fd_handler.poll: the reactor reads this busy connection without epoll */
static bool queue_poll(struct nvmf_fd_handler *h)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)h - offsetof(struct tcp_queue, h));

	if (q->dead || q->close_after_ctl)
		return false;
	return queue_read(q);
}

static void queue_event(struct nvmf_fd_handler *h, uint32_t events)
{
	struct tcp_queue *q = (struct tcp_queue *)((char *)h - offsetof(struct tcp_queue, h));

	if (q->dead)
		return;
	if (events & EPOLLOUT)
		queue_flush(&q->flush);
	if (q->dead)
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (q->close_after_ctl) {
			if (events & (EPOLLHUP | EPOLLERR))
				queue_teardown(q, "connection reset");
			return;
		}
		queue_read(q);
	}
}

/* ------------------------------------------------------------------------------------------
 * Queue lifetime
 */

static pthread_mutex_t queues_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tcp_queue *all_queues;

static void queue_unlink(struct tcp_queue *q)
{
	pthread_mutex_lock(&queues_lock);
	for (struct tcp_queue **pp = &all_queues; *pp; pp = &(*pp)->all_next) {
		if (*pp == q) {
			*pp = q->all_next;
			break;
		}
	}
	pthread_mutex_unlock(&queues_lock);
}

static void queue_free(struct tcp_queue *q)
{
	nvmf_debug("tcp %s qid %u: freed", q->peer, q->sq.qid);
	queue_unlink(q);
	close(q->h.fd);
	nvmf_tgt_sq_destroy(&q->sq);
	if (q->bufs)
		munmap(q->bufs, q->bufs_len);
	free(q->slots);
	free(q->rxbuf);
	free(q);
}

/*
 * The last slot is back: free the queue, but not here. Teardown starts deep inside this
 * queue's own receive and transmit paths (a termination request, a send error) and from
 * the slot release of a backend completion, whose callers still look at the queue after
 * we return; and a flush of the queue may already be waiting in the reactor's deferred
 * list. queue_flush() frees it at the end of this loop iteration instead, where nothing
 * of the queue is on the stack and its deferred entry is no longer in the list.
 */
static void queue_maybe_free(struct tcp_queue *q)
{
	if (q->nr_busy || q->freed || q->in_teardown)
		return;
	nvmf_reactor_defer(q->r, &q->flush);
}

static void queue_teardown(struct tcp_queue *q, const char *why)
{
	struct tcp_slot *s;

	if (q->dead)
		return;
	q->dead = true;
	q->in_teardown = true;
	nvmf_info("tcp %s qid %u: disconnect: %s", q->peer, q->sq.qid, why);
	nvmf_reactor_fd_del(q->r, &q->h);
	shutdown(q->h.fd, SHUT_RDWR);

	/* queued responses and R2Ts will not be sent */
	s = q->tx_head;
	q->tx_head = q->tx_tail = NULL;
	while (s) {
		struct tcp_slot *next = s->next;

		s->next = NULL;
		s->tx_kind = TX_NONE;
		slot_put(q, s);
		s = next;
	}
	/* slots that never reached the core (waiting for data) are ours to release */
	for (unsigned int i = 0; i < q->nr_slots; i++) {
		s = &q->slots[i];
		if (s->state == SLOT_RECV || s->state == SLOT_H2C)
			slot_put(q, s);
	}
	q->rx_slot = NULL;
	/* AERs parked in the controller come back through queue_response() */
	nvmf_tgt_sq_quiesce(&q->sq);
	q->in_teardown = false;
	/* backend I/O still in flight completes into queue_response(), which frees slots */
	queue_maybe_free(q);
}

static void tcp_disconnect_sq(struct nvmf_tgt_sq *sq)
{
	struct tcp_queue *q = (struct tcp_queue *)sq;

	queue_teardown(q, "controller teardown");
}

/*
 * Not the listener (struct tcp_port): tcp_remove_port() frees that while this message may
 * still wait on another reactor. The target and its ports live until nvmf_tgt_destroy(),
 * after every reactor has drained its messages and stopped.
 */
struct accept_msg {
	struct nvmf_tgt *tgt;
	struct nvmf_tgt_port *port;
	int fd;
	struct nvmf_reactor *r;
	char peer[64];
};

static void queue_create(void *arg)
{
	struct accept_msg *m = arg;
	struct nvmf_tgt *tgt = m->tgt;
	struct tcp_queue *q = calloc(1, sizeof(*q));
	uint16_t nr_slots = tgt->opts.io_queue_depth;
	int ret;

	if (!q)
		goto out_close;
	q->rxbuf = malloc(TCP_RX_BUF);
	if (!q->rxbuf)
		goto out_free;
	ret = queue_alloc_slots(q, nr_slots, tgt->opts.mdts_bytes);
	if (ret < 0)
		goto out_free;
	q->r = m->r;
	snprintf(q->peer, sizeof(q->peer), "%s", m->peer);
	nvmf_tgt_sq_init(&q->sq, tgt, m->port, m->r, &nvmf_tgt_tcp_ops);
	{
		/* the discovery log reports this address for wildcard listeners */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (!getsockname(m->fd, (struct sockaddr *)&ss, &sl) &&
		    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
			getnameinfo((struct sockaddr *)&ss, sl, q->sq.local_traddr,
				    sizeof(q->sq.local_traddr), NULL, 0, NI_NUMERICHOST);
	}
	q->flush.fn = queue_flush;
	q->h.fd = m->fd;
	q->h.cb = queue_event;
	q->h.poll = queue_poll;
	rx_expect_hdr(q);
	ret = nvmf_reactor_fd_add(q->r, &q->h, EPOLLIN);
	if (ret < 0) {
		nvmf_err("tcp %s: epoll: %s", q->peer, strerror(-ret));
		q->freed = true;
		queue_free(q);
		free(m);
		return;
	}
	pthread_mutex_lock(&queues_lock);
	q->all_next = all_queues;
	all_queues = q;
	pthread_mutex_unlock(&queues_lock);
	nvmf_debug("tcp %s: connected on reactor %u", q->peer, nvmf_reactor_id(q->r));
	free(m);
	return;

out_free:
	free(q->rxbuf);
	free(q);
out_close:
	nvmf_err("tcp %s: out of memory for a new queue", m->peer);
	close(m->fd);
	free(m);
}

static void listener_event(struct nvmf_fd_handler *h, uint32_t events)
{
	struct tcp_port *tp = (struct tcp_port *)((char *)h - offsetof(struct tcp_port, h));

	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct accept_msg *m;
		char host[INET6_ADDRSTRLEN] = "?", serv[16] = "?";
		int one = 1;
		int fd = accept4(h->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nvmf_err("port %u: accept: %s", tp->port->portid, strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		m = calloc(1, sizeof(*m));
		if (!m) {
			close(fd);
			continue;
		}
		m->tgt = tp->tgt;
		m->port = tp->port;
		m->fd = fd;
		m->r = nvmf_tgt_pick_reactor(tp->tgt);
		snprintf(m->peer, sizeof(m->peer), "%s:%s", host, serv);
		if (nvmf_reactor_send(m->r, queue_create, m) < 0) {
			close(fd);
			free(m);
		}
	}
}

static int tcp_listen(const struct nvmf_tgt_port *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
	struct addrinfo *ai;
	int fd, one = 1, ret;

	hints.ai_family = port->adrfam == NVMF_ADRFAM_IPV6 ? AF_INET6 : AF_INET;
	ret = getaddrinfo(port->traddr, port->trsvcid, &hints, &ai);
	if (ret)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		ret = -errno;
		close(fd);
		goto out;
	}
	ret = fd;
out:
	freeaddrinfo(ai);
	return ret;
}

struct port_msg {
	struct tcp_port *tp;
	atomic_int done; /* 0 pending, 1 done */
	int ret;
};

static void listener_add_on_reactor(void *arg)
{
	struct port_msg *m = arg;

	m->ret = nvmf_reactor_fd_add(m->tp->reactor, &m->tp->h, EPOLLIN);
	atomic_store(&m->done, 1);
}

static void listener_del_on_reactor(void *arg)
{
	struct port_msg *m = arg;

	nvmf_reactor_fd_del(m->tp->reactor, &m->tp->h);
	close(m->tp->h.fd);
	atomic_store(&m->done, 1);
}

static void wait_done(struct port_msg *m)
{
	while (!atomic_load(&m->done)) {
		struct timespec ts = { .tv_nsec = 100000 };

		nanosleep(&ts, NULL);
	}
}

static int tcp_add_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port)
{
	struct tcp_port *tp = calloc(1, sizeof(*tp));
	struct port_msg m = { 0 };
	int fd;

	if (!tp)
		return -ENOMEM;
	fd = tcp_listen(port);
	if (fd < 0) {
		free(tp);
		return fd;
	}
	tp->port = port;
	tp->tgt = tgt;
	tp->reactor = tgt->reactors[0];
	tp->h.fd = fd;
	tp->h.cb = listener_event;
	m.tp = tp;
	if (nvmf_reactor_send(tp->reactor, listener_add_on_reactor, &m) < 0) {
		close(fd);
		free(tp);
		return -ENOMEM;
	}
	wait_done(&m);
	if (m.ret < 0) {
		close(fd);
		free(tp);
		return m.ret;
	}
	port->priv = tp;
	return 0;
}

static void tcp_remove_port(struct nvmf_tgt_port *port)
{
	struct tcp_port *tp = port->priv;
	struct port_msg m = { 0 };

	if (!tp)
		return;
	m.tp = tp;
	if (nvmf_reactor_send(tp->reactor, listener_del_on_reactor, &m) == 0)
		wait_done(&m);
	port->priv = NULL;
	free(tp);
}

int nvmf_tgt_tcp_adopt_fd(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port, int fd,
			  const char *peer)
{
	struct accept_msg *m;
	struct tcp_port *tp = port->priv;
	int ret;

	if (!tp)
		return -ENOTCONN;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->tgt = tgt;
	m->port = port;
	m->fd = fd;
	m->r = nvmf_tgt_pick_reactor(tgt);
	snprintf(m->peer, sizeof(m->peer), "%s", peer ? peer : "adopted");
	ret = nvmf_reactor_send(m->r, queue_create, m);
	if (ret < 0)
		free(m);
	return ret;
}

/* Tear down every queue of @arg's target that lives on the calling reactor. */
static void disconnect_local(void *arg)
{
	struct nvmf_tgt *tgt = arg;
	struct nvmf_reactor *r = nvmf_reactor_current();
	struct tcp_queue *local[256];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&queues_lock);
		for (struct tcp_queue *q = all_queues; q && n < 256; q = q->all_next)
			if (q->r == r && q->sq.tgt == tgt && !q->dead)
				local[n++] = q;
		pthread_mutex_unlock(&queues_lock);
		/* queues are only freed on their own reactor, i.e. not while we run */
		for (size_t i = 0; i < n; i++)
			queue_teardown(local[i], "target stopping");
	} while (n == 256);
}

static void tcp_stop(struct nvmf_tgt *tgt)
{
	for (unsigned int i = 0; i < tgt->nr_reactors; i++)
		nvmf_reactor_send(tgt->reactors[i], disconnect_local, tgt);
}

const struct nvmf_tgt_transport_ops nvmf_tgt_tcp_ops = {
	.stop = tcp_stop,
	.name = "tcp",
	.trtype = NVMF_TRTYPE_TCP,
	.add_port = tcp_add_port,
	.remove_port = tcp_remove_port,
	.queue_response = tcp_queue_response,
	.disconnect_sq = tcp_disconnect_sq,
};
