// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP host transport (NVMe/TCP Transport 1.0c): one TCP connection per queue.
 *
 * Connect: a TCP connect and the ICReq/ICResp exchange, blocking with a timeout, then the
 * socket joins the controller's reactor.
 * Send: queue_submit() builds the Command Capsule header in the tag's preallocated slot and
 * chains iovecs (header, the caller's buffer in place, data digest) on a per-queue list; one
 * sendmsg() per reactor loop iteration writes as many of them as fit. An R2T chains H2CData
 * PDUs, each at most MAXH2CDATA bytes, straight from the caller's buffer.
 * Receive: PDU headers go through a staging buffer; C2HData payloads are copied from it or,
 * when large, received straight into the caller's buffer at DATAO, once DATAO and DATAL were
 * checked against the command.
 * Errors: malformed or hostile input ends the connection (with an H2CTermReq when the byte
 * stream is at a PDU boundary) and is reported with nvmf_host_queue_error(); queue_stop()
 * then shuts the socket down and only after that completes every request with -ENOLINK
 * (seed 000: nothing is completed while the controller could still complete it).
 */
#include "host-internal.h"

#include "common/crc32c.h"
#include "common/log.h"
#include "tcp/pdu.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_CONNECT_TIMEOUT_MS 10000 /* TCP connect, and ICReq/ICResp */
#define TCP_TERM_TIMEOUT_MS 1000     /* best effort for an H2CTermReq during connect */
#define TCP_RX_BUF 65536
#define TCP_DIRECT_RECV_MIN 4096 /* payloads this large are received in place */
/*
 * While large C2HData PDUs stream in, the staging buffer takes at most this much at a time:
 * the next header and a little of its payload, whose rest goes straight to the caller's
 * buffer. A 64 KiB staging read would copy half of every 128 KiB payload twice.
 */
#define TCP_RX_SMALL 512
#define TCP_LARGE_PAYLOAD (32u * 1024)
#define TCP_TX_IOV 128
#define TCP_HDR_ROOM 256 /* a header, its digest and padding up to PDO (an 8-bit field) */
#define TCP_RX_HDR_MAX (sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

enum tx_kind {
	TX_CMD = 1, /* Command Capsule, with its in-capsule data */
	TX_H2C,	    /* one H2CData PDU answering an R2T */
};

/*
 * Per-tag transport state, preallocated at connect time. A tag has at most one item on the
 * transmit list at a time: its capsule, then (maxr2t 0: one R2T at a time) the H2CData PDUs
 * of an R2T one after the other.
 */
struct tcp_htag {
	struct nvmf_host_req *req; /* while active */
	struct tcp_htag *tx_next;
	uint32_t len;	   /* data bytes the SGL describes */
	bool active;	   /* submitted, not completed yet */
	bool queued;	   /* on the transmit list */
	bool icd;	   /* the data went inside the capsule */
	bool c2h_last;	   /* a C2HData PDU with LAST arrived */
	bool ddgst_err;	   /* a C2HData digest mismatched: fail with Data Transfer Error */
	bool rsp_pending;  /* CapsuleResp came mid-PDU: complete once the PDU is out */
	uint8_t kind;	   /* enum tx_kind of the queued item */
	uint16_t ttag;	   /* of the current R2T */
	uint32_t h2c_len;  /* DATAL of the queued H2CData PDU */
	uint32_t h2c_next; /* DATAO of the next H2CData PDU of the current R2T */
	uint32_t r2t_left; /* bytes of the current R2T not queued yet */
	uint32_t ddgst;
	int iovcnt;
	struct iovec iov[3]; /* header (+ digest + padding), data, data digest */
	union {
		struct nvme_tcp_cmd_pdu cmd;
		struct nvme_tcp_data_pdu data;
		uint8_t raw[TCP_HDR_ROOM];
	} hdr;
};

enum rx_stage {
	RX_HDR,	     /* the 8-byte common header */
	RX_HDR_REST, /* the rest of the header and its digest */
	RX_PAD,	     /* padding up to PDO */
	RX_DATA,     /* C2HData payload into the caller's buffer */
	RX_DDGST,    /* its data digest */
};

/*
 * Per-queue state (q->tr). Lifetime: allocated by queue_connect(), freed by queue_free(),
 * but never while one of our own entry points is on the stack (@busy) or our deferred flush
 * is queued in the reactor: then the last of them frees it. @q is not used after
 * queue_free(), which may be followed at once by the core freeing the queue.
 */
struct tcp_hq {
	struct nvmf_host_queue *q;
	struct nvmf_reactor *r;
	struct nvmf_fd_handler h;
	struct nvmf_deferred flush;
	struct nvmf_tcp_params params;
	char name[300]; /* "traddr:trsvcid qid N" for logs */
	uint16_t qid;
	uint16_t depth;
	unsigned int busy;
	bool registered;   /* in the reactor's epoll set */
	bool failed;	   /* fatal error: nothing more is read or sent */
	bool dead;	   /* stopped */
	bool free_pending; /* queue_free() came while busy or with the flush queued */
	bool want_out;

	/* receive */
	uint8_t *rxbuf;
	size_t rx_pos, rx_len; /* unread staged bytes are rxbuf[rx_pos, rx_len) */
	bool rx_large;	       /* the last payload was >= TCP_LARGE_PAYLOAD: stage little */
	enum rx_stage stage;
	union {
		struct nvme_tcp_hdr common;
		struct nvme_tcp_rsp_pdu rsp;
		struct nvme_tcp_data_pdu data;
		struct nvme_tcp_r2t_pdu r2t;
		struct nvme_tcp_term_pdu term;
		uint8_t raw[TCP_RX_HDR_MAX];
	} hdr;
	size_t hdr_got, hdr_need;
	struct tcp_htag *rx_tag; /* receiving C2HData */
	uint8_t *rx_dst;
	size_t rx_got, rx_need;
	uint8_t ddgst_buf[NVME_TCP_DIGEST_LEN];

	/* transmit */
	struct tcp_htag *tx_head, *tx_tail;
	size_t tx_sent; /* bytes of the head item already sent */

	struct tcp_htag *tags; /* [depth] */
};

static bool tq_alive(const struct tcp_hq *tq)
{
	return !tq->dead && !tq->failed;
}

static void tq_release(struct tcp_hq *tq)
{
	if (tq->h.fd >= 0)
		close(tq->h.fd);
	free(tq->tags);
	free(tq->rxbuf);
	free(tq);
	nvmf_host_live_add(&nvmf_host_live.transport_queues, -1);
}

/* Leave one of our entry points: free the queue if queue_free() asked while we ran. */
static void tq_put(struct tcp_hq *tq)
{
	if (--tq->busy == 0 && tq->free_pending && !tq->flush.queued)
		tq_release(tq);
}

/* ------------------------------------------------------------------------------------------
 * Connection errors and completion
 */

/*
 * The connection is unusable: stop reading and sending at once, tell the peer why when the
 * byte stream allows it (@err; not in the middle of a PDU we are sending), and report it
 * to the core, which resets the controller and stops the queue (now or from deferred work).
 */
static void tcp_fail(struct tcp_hq *tq, const struct nvmf_tcp_pdu_error *err, const void *bad_hdr,
		     size_t bad_len, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void tcp_fail(struct tcp_hq *tq, const struct nvmf_tcp_pdu_error *err, const void *bad_hdr,
		     size_t bad_len, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (!tq_alive(tq))
		return;
	tq->failed = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err && !tq->tx_sent) {
		uint8_t term[sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA];
		size_t n = nvmf_tcp_build_term(term, nvme_tcp_h2c_term, err, bad_hdr, bad_len);

		/* best effort: the connection is going away whatever happens */
		if (send(tq->h.fd, term, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			nvmf_debug("tcp %s: H2CTermReq: %s", tq->name, strerror(errno));
	}
	if (tq->registered) {
		nvmf_reactor_fd_del(tq->r, &tq->h);
		tq->registered = false;
	}
	shutdown(tq->h.fd, SHUT_RDWR);
	tq->rx_tag = NULL;
	nvmf_host_queue_error(tq->q, why);
}

/* A protocol violation in the received PDU header: FES/FEI go into the H2CTermReq. */
#define tcp_fatal(tq, fes_, fei_, ...)                                                             \
	do {                                                                                       \
		struct nvmf_tcp_pdu_error e_ = { .fes = (fes_), .fei = (uint32_t)(fei_) };         \
		tcp_fail(tq, &e_, (tq)->hdr.raw, (tq)->hdr.common.hlen, __VA_ARGS__);              \
	} while (0)

/*
 * Hand @t's request back to the core. @t is free (and may be reused by a new submission
 * from the completion callback) from here on: the callers touch neither it nor its request
 * afterwards.
 */
static void tag_finish(struct tcp_htag *t, int err)
{
	struct nvmf_host_req *req = t->req;

	/*
	 * A data digest error fails the command but not the connection, as in the Linux host
	 * (drivers/nvme/host/tcp.c: NVME_SC_DATA_XFER_ERROR): NVMe/TCP 1.0c 3.3.3.2.2.
	 */
	if (!err && t->ddgst_err)
		req->cqe.status = (uint16_t)(NVME_SC_DATA_XFER_ERROR << 1);
	t->active = false;
	t->req = NULL;
	nvmf_host_req_done(req, err);
}

static bool cqe_success(const struct nvme_cqe *cqe)
{
	return !(nvmf_host_status(cqe) & (NVME_SCT_MASK | NVME_SC_MASK));
}

/*
 * Complete @t with the CQE in its request (CapsuleResp, or C2HData with SUCCESS), once
 * nothing of it is left to send. A successful command must have moved its data: all the
 * H2C data, and all the C2H data or a shorter transfer the controller ended with LAST (as
 * Linux nvmet does for commands whose SGL may exceed what they return).
 */
static void tag_complete(struct tcp_hq *tq, struct tcp_htag *t)
{
	struct nvmf_host_req *req = t->req;

	if (cqe_success(&req->cqe) && !t->ddgst_err && req->xfer < t->len &&
	    (req->dir == NVMF_HOST_DATA_H2C || !t->c2h_last)) {
		tcp_fail(tq, NULL, NULL, 0, "cid %u completed after %u of its %u data bytes",
			 req->tag, req->xfer, t->len);
		return;
	}
	/*
	 * A read the controller ended early with LAST (nvmet does for short admin data):
	 * what was not sent reads as zeroes, never as the buffer's old contents.
	 */
	if (cqe_success(&req->cqe) && req->dir == NVMF_HOST_DATA_C2H && req->xfer < t->len)
		memset((uint8_t *)req->buf + req->xfer, 0, t->len - req->xfer);
	tag_finish(t, 0);
}

/* ------------------------------------------------------------------------------------------
 * Transmit
 */

static void tx_enqueue(struct tcp_hq *tq, struct tcp_htag *t)
{
	t->tx_next = NULL;
	t->queued = true;
	if (tq->tx_tail)
		tq->tx_tail->tx_next = t;
	else
		tq->tx_head = t;
	tq->tx_tail = t;
	nvmf_reactor_defer(tq->r, &tq->flush);
}

/* Take @t, which must not have started going out, off the transmit list. */
static void tx_unlink(struct tcp_hq *tq, struct tcp_htag *t)
{
	struct tcp_htag *prev = NULL;

	for (struct tcp_htag *it = tq->tx_head; it; prev = it, it = it->tx_next) {
		if (it != t)
			continue;
		if (prev)
			prev->tx_next = t->tx_next;
		else
			tq->tx_head = t->tx_next;
		if (tq->tx_tail == t)
			tq->tx_tail = prev;
		break;
	}
	t->tx_next = NULL;
	t->queued = false;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Queue the next H2CData PDU of @t's R2T (NVMe/TCP 1.0c 3.6.2.8), from the caller's buffer. */
static void h2c_queue_next(struct tcp_hq *tq, struct tcp_htag *t)
{
	struct nvmf_host_req *req = t->req;
	uint32_t datal = t->r2t_left < tq->params.maxh2cdata ? t->r2t_left : tq->params.maxh2cdata;
	uint8_t flags = datal == t->r2t_left ? NVME_TCP_F_DATA_LAST : 0;
	uint8_t *data = (uint8_t *)req->buf + t->h2c_next;
	size_t hl;
	int n = 0;

	hl = nvmf_tcp_build_data_hdr(&t->hdr.data, nvme_tcp_h2c_data, req->tag, t->ttag,
				     t->h2c_next, datal, flags, &tq->params);
	t->iov[n].iov_base = t->hdr.raw;
	t->iov[n++].iov_len = hl;
	t->iov[n].iov_base = data;
	t->iov[n++].iov_len = datal;
	if (tq->params.ddgst) {
		t->ddgst = nvmf_crc32c(data, datal);
		t->iov[n].iov_base = &t->ddgst;
		t->iov[n++].iov_len = NVME_TCP_DIGEST_LEN;
	}
	t->iovcnt = n;
	t->kind = TX_H2C;
	t->h2c_len = datal;
	t->h2c_next += datal;
	t->r2t_left -= datal;
	tx_enqueue(tq, t);
}

/* @t's queued item went out completely. */
static void tx_item_sent(struct tcp_hq *tq, struct tcp_htag *t)
{
	struct nvmf_host_req *req = t->req;

	if (t->kind == TX_H2C)
		req->xfer += t->h2c_len;
	else if (t->icd)
		req->xfer = t->len;
	if (t->rsp_pending) {
		t->rsp_pending = false;
		tag_complete(tq, t);
		return;
	}
	if (t->kind == TX_H2C && t->r2t_left)
		h2c_queue_next(tq, t);
}

/* Retire the items that @n more sent bytes completed. */
static void tx_retire(struct tcp_hq *tq, size_t n)
{
	tq->tx_sent += n;
	while (tq->tx_head && tq_alive(tq)) {
		struct tcp_htag *t = tq->tx_head;
		size_t len = iov_total(t->iov, t->iovcnt);

		if (tq->tx_sent < len)
			break;
		tq->tx_sent -= len;
		tq->tx_head = t->tx_next;
		if (!tq->tx_head)
			tq->tx_tail = NULL;
		t->tx_next = NULL;
		t->queued = false;
		/* may complete a request; the list is re-read from @tq afterwards */
		tx_item_sent(tq, t);
	}
}

/* Write as much of the transmit list as the socket takes: one sendmsg() per round. */
static void tx_flush(struct tcp_hq *tq)
{
	struct iovec iov[TCP_TX_IOV];

	while (tq->tx_head && tq_alive(tq)) {
		size_t skip = tq->tx_sent, total;
		struct msghdr msg = { .msg_iov = iov };
		int cnt = 0;
		ssize_t n;

		/* gather as many queued items as fit, the head's sent part skipped */
		for (struct tcp_htag *t = tq->tx_head; t && cnt < TCP_TX_IOV; t = t->tx_next) {
			for (int i = 0; i < t->iovcnt && cnt < TCP_TX_IOV; i++) {
				if (skip >= t->iov[i].iov_len) {
					skip -= t->iov[i].iov_len;
					continue;
				}
				iov[cnt].iov_base = (uint8_t *)t->iov[i].iov_base + skip;
				iov[cnt++].iov_len = t->iov[i].iov_len - skip;
				skip = 0;
			}
		}
		msg.msg_iovlen = (size_t)cnt;
		total = iov_total(iov, cnt);
		n = sendmsg(tq->h.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				goto want_out;
			tcp_fail(tq, NULL, NULL, 0, "send: %s", strerror(errno));
			return;
		}
		tx_retire(tq, (size_t)n);
		if ((size_t)n < total)
			goto want_out;
	}
	if (tq->want_out && tq_alive(tq)) {
		tq->want_out = false;
		nvmf_reactor_fd_mod(tq->r, &tq->h, EPOLLIN);
	}
	return;

want_out:
	if (!tq->want_out && tq_alive(tq)) {
		tq->want_out = true;
		nvmf_reactor_fd_mod(tq->r, &tq->h, EPOLLIN | EPOLLOUT);
	}
}

/* The deferred flush: once per reactor loop iteration, after every submission of it. */
static void tcp_flush(struct nvmf_deferred *d)
{
	struct tcp_hq *tq = container_of(d, struct tcp_hq, flush);

	tq->busy++;
	if (tq_alive(tq))
		tx_flush(tq);
	tq_put(tq);
}

/* ------------------------------------------------------------------------------------------
 * Receive
 */

static void rx_expect_hdr(struct tcp_hq *tq)
{
	tq->stage = RX_HDR;
	tq->hdr_got = 0;
	tq->hdr_need = sizeof(struct nvme_tcp_hdr);
}

/*
 * The SENT request with CID @cid, as both the core and this transport know it; NULL for
 * an unknown CID.
 */
static struct tcp_htag *tag_lookup(struct tcp_hq *tq, uint16_t cid)
{
	struct tcp_htag *t;

	if (cid >= tq->depth)
		return NULL;
	t = &tq->tags[cid];
	if (!t->active || nvmf_host_find_req(tq->q, cid) != t->req)
		return NULL;
	return t;
}

/* CapsuleResp (NVMe/TCP 1.0c 3.6.2.6) */
static void handle_rsp(struct tcp_hq *tq)
{
	const struct nvme_cqe *cqe = &tq->hdr.rsp.cqe;
	struct tcp_htag *t = tag_lookup(tq, cqe->cid);

	if (!t) {
		nvmf_counter_add(&tq->q->ctrl->stats.stray_cqes, 1);
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  sizeof(struct nvme_tcp_hdr) + offsetof(struct nvme_cqe, cid),
			  "CapsuleResp for unknown cid %u", cqe->cid);
		return;
	}
	if (t->queued && t->kind == TX_CMD && !(t == tq->tx_head && tq->tx_sent)) {
		/* the controller cannot know a command it has not received a byte of */
		tcp_fatal(tq, NVME_TCP_FES_PDU_SEQ_ERR,
			  sizeof(struct nvme_tcp_hdr) + offsetof(struct nvme_cqe, cid),
			  "CapsuleResp for cid %u before the command was sent", cqe->cid);
		return;
	}
	t->req->cqe = *cqe;
	rx_expect_hdr(tq);
	if (t->queued) {
		/*
		 * The controller ended the command while its data was still going out (Linux
		 * nvmet does so on an H2C data digest error). A PDU already started must be
		 * finished, the stream would break otherwise; the rest of the R2T is not sent.
		 */
		t->r2t_left = 0;
		if (t == tq->tx_head && tq->tx_sent) {
			t->rsp_pending = true;
			return;
		}
		tx_unlink(tq, t);
	}
	tag_complete(tq, t);
}

static void start_data(struct tcp_hq *tq, struct tcp_htag *t, uint8_t *dst, size_t len)
{
	size_t hd = tq->params.hdgst ? NVME_TCP_DIGEST_LEN : 0;
	size_t pad = tq->hdr.common.pdo - tq->hdr.common.hlen - hd;

	tq->rx_tag = t;
	tq->rx_dst = dst;
	tq->rx_got = 0;
	tq->rx_need = len;
	if (pad) {
		tq->stage = RX_PAD;
		tq->hdr_got = 0;
		tq->hdr_need = pad;
	} else {
		tq->stage = RX_DATA;
	}
}

/* C2HData header (NVMe/TCP 1.0c 3.6.2.7): where its payload goes, after checking that. */
static void handle_c2h_data(struct tcp_hq *tq)
{
	const struct nvme_tcp_data_pdu *d = &tq->hdr.data;
	uint32_t datal = nvmf_tcp_pdu_data_len(&tq->hdr.common, &tq->params);
	struct tcp_htag *t = tag_lookup(tq, d->cccid);
	struct nvmf_host_req *req;

	if (!t) {
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  offsetof(struct nvme_tcp_data_pdu, cccid), "C2HData for unknown cid %u",
			  d->cccid);
		return;
	}
	req = t->req;
	if (req->dir != NVMF_HOST_DATA_C2H) {
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  offsetof(struct nvme_tcp_data_pdu, cccid),
			  "C2HData for cid %u, which reads no data", d->cccid);
		return;
	}
	if (t->queued || t->c2h_last) {
		tcp_fatal(tq, NVME_TCP_FES_PDU_SEQ_ERR, offsetof(struct nvme_tcp_data_pdu, cccid),
			  "C2HData for cid %u %s", d->cccid,
			  t->queued ? "before the command was sent" : "after its LAST PDU");
		return;
	}
	if (d->datal != datal) {
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  offsetof(struct nvme_tcp_data_pdu, datal),
			  "C2HData cid %u: DATAL %u, but PLEN holds %u bytes", d->cccid, d->datal,
			  datal);
		return;
	}
	/* in order and inside the buffer: never write outside req->buf */
	if (d->datao != req->xfer || datal > t->len - req->xfer) {
		tcp_fatal(tq, NVME_TCP_FES_DATA_OUT_OF_RANGE,
			  offsetof(struct nvme_tcp_data_pdu, datao),
			  "C2HData cid %u: DATAO %u DATAL %u, expected DATAO %u of %u bytes",
			  d->cccid, d->datao, datal, req->xfer, t->len);
		return;
	}
	start_data(tq, t, (uint8_t *)req->buf + d->datao, datal);
}

/* A C2HData payload (and its digest) arrived. */
static void data_done(struct tcp_hq *tq)
{
	struct tcp_htag *t = tq->rx_tag;
	struct nvmf_host_req *req = t->req;
	uint8_t flags = tq->hdr.common.flags;

	if (tq->params.ddgst) {
		uint32_t want;

		memcpy(&want, tq->ddgst_buf, sizeof(want));
		if (nvmf_crc32c(tq->rx_dst, tq->rx_need) != want) {
			nvmf_warn("tcp %s: cid %u: data digest error (DATAO %u)", tq->name,
				  req->tag, req->xfer);
			t->ddgst_err = true;
		}
	}
	req->xfer += (uint32_t)tq->rx_need;
	tq->rx_tag = NULL;
	rx_expect_hdr(tq);
	if (flags & NVME_TCP_F_DATA_LAST)
		t->c2h_last = true;
	if (flags & NVME_TCP_F_DATA_SUCCESS) {
		/* no CapsuleResp follows (NVMe/TCP 1.0c 3.6.2.7): a successful CQE of our own */
		memset(&req->cqe, 0, sizeof(req->cqe));
		req->cqe.sq_id = tq->qid;
		req->cqe.cid = req->tag;
		tag_complete(tq, t);
	}
}

/* R2T (NVMe/TCP 1.0c 3.6.2.9): send the requested range as H2CData PDUs. */
static void handle_r2t(struct tcp_hq *tq)
{
	const struct nvme_tcp_r2t_pdu *r = &tq->hdr.r2t;
	struct tcp_htag *t = tag_lookup(tq, r->cccid);
	struct nvmf_host_req *req;

	if (!t) {
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  offsetof(struct nvme_tcp_r2t_pdu, cccid), "R2T for unknown cid %u",
			  r->cccid);
		return;
	}
	req = t->req;
	if (req->dir != NVMF_HOST_DATA_H2C || t->icd) {
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR,
			  offsetof(struct nvme_tcp_r2t_pdu, cccid), "R2T for cid %u, which has %s",
			  r->cccid, t->icd ? "in-capsule data" : "no data to write");
		return;
	}
	if (t->queued && t->kind == TX_CMD) {
		tcp_fatal(tq, NVME_TCP_FES_PDU_SEQ_ERR, offsetof(struct nvme_tcp_r2t_pdu, cccid),
			  "R2T for cid %u before the command was sent", r->cccid);
		return;
	}
	/* MAXR2T 0 in our ICReq: one R2T at a time */
	if (t->queued || t->r2t_left) {
		tcp_fatal(tq, NVME_TCP_FES_R2T_LIMIT_EXCEEDED,
			  offsetof(struct nvme_tcp_r2t_pdu, cccid),
			  "R2T for cid %u while the previous one is served", r->cccid);
		return;
	}
	if (!r->r2tl || r->r2to != req->xfer || r->r2tl > t->len - req->xfer) {
		tcp_fatal(tq, NVME_TCP_FES_DATA_OUT_OF_RANGE,
			  r->r2to != req->xfer ? offsetof(struct nvme_tcp_r2t_pdu, r2to)
					       : offsetof(struct nvme_tcp_r2t_pdu, r2tl),
			  "R2T cid %u: R2TO %u R2TL %u, expected R2TO %u of %u bytes", r->cccid,
			  r->r2to, r->r2tl, req->xfer, t->len);
		return;
	}
	rx_expect_hdr(tq);
	t->ttag = r->ttag;
	t->h2c_next = r->r2to;
	t->r2t_left = r->r2tl;
	h2c_queue_next(tq, t);
}

/* A whole PDU header (and its digest) arrived. */
static void handle_hdr(struct tcp_hq *tq)
{
	const struct nvme_tcp_hdr *h = &tq->hdr.common;

	if (h->type == nvme_tcp_c2h_term) {
		tcp_fail(tq, NULL, NULL, 0, "controller terminated the connection: %s (fei %u)",
			 nvmf_tcp_fes_str(tq->hdr.term.fes), tq->hdr.term.fei);
		return;
	}
	if (tq->params.hdgst && !nvmf_tcp_hdgst_ok(tq->hdr.raw, h->hlen)) {
		tcp_fatal(tq, NVME_TCP_FES_HDR_DIGEST_ERR, 0, "header digest error (PDU type %u)",
			  h->type);
		return;
	}
	switch (h->type) {
	case nvme_tcp_rsp:
		handle_rsp(tq);
		break;
	case nvme_tcp_c2h_data:
		handle_c2h_data(tq);
		break;
	case nvme_tcp_r2t:
		handle_r2t(tq);
		break;
	default:
		/* nvmf_tcp_check_hdr() lets nothing else through on a host */
		tcp_fatal(tq, NVME_TCP_FES_INVALID_PDU_HDR, offsetof(struct nvme_tcp_hdr, type),
			  "unexpected PDU type %u", h->type);
		break;
	}
}

/* The common header arrived: validate it and size the rest of the header. */
static void hdr8_done(struct tcp_hq *tq)
{
	const struct nvme_tcp_hdr *h = &tq->hdr.common;
	struct nvmf_tcp_pdu_error err;
	size_t rest;

	if (nvmf_tcp_check_hdr(h, &tq->params, false, &err) < 0) {
		tcp_fail(tq, &err, h, sizeof(*h),
			 "invalid PDU header (type %u flags 0x%x hlen %u pdo %u plen %u): %s, "
			 "field at byte %u",
			 h->type, h->flags, h->hlen, h->pdo, h->plen, nvmf_tcp_fes_str(err.fes),
			 err.fei);
		return;
	}
	if (h->type == nvme_tcp_c2h_term) {
		/* no digests; its error data is only kept as far as the buffer goes */
		rest = (h->plen < sizeof(tq->hdr.raw) ? h->plen : sizeof(tq->hdr.raw)) - sizeof(*h);
	} else {
		rest = h->hlen - sizeof(*h) + (tq->params.hdgst ? NVME_TCP_DIGEST_LEN : 0);
	}
	tq->stage = RX_HDR_REST;
	tq->hdr_need = sizeof(*h) + rest;
}

/*
 * Feed staged bytes (and large payloads straight from the socket) to the state machine.
 * Every handler advances the state before it may call out (a completion runs the caller's
 * callback, which may submit, or stop the queue), so the loop re-reads everything from @tq.
 * Return: 1 when the staged bytes are used up, 0 when the socket has no more, -1 when the
 * queue stopped reading.
 */
static int rx_process(struct tcp_hq *tq)
{
	while (tq_alive(tq)) {
		size_t avail = tq->rx_len - tq->rx_pos;
		const uint8_t *src = tq->rxbuf + tq->rx_pos;
		uint8_t *dst;
		size_t n;
		ssize_t r;

		switch (tq->stage) {
		case RX_HDR:
		case RX_HDR_REST:
		case RX_PAD:
		case RX_DDGST:
			if (!avail)
				return 1;
			n = tq->hdr_need - tq->hdr_got;
			if (n > avail)
				n = avail;
			dst = tq->stage == RX_DDGST ? tq->ddgst_buf
			      : tq->stage == RX_PAD ? NULL
						    : tq->hdr.raw;
			if (dst)
				memcpy(dst + tq->hdr_got, src, n);
			tq->rx_pos += n;
			tq->hdr_got += n;
			if (tq->hdr_got < tq->hdr_need)
				return 1;
			if (tq->stage == RX_HDR)
				hdr8_done(tq);
			else if (tq->stage == RX_HDR_REST)
				handle_hdr(tq);
			else if (tq->stage == RX_PAD)
				tq->stage = RX_DATA;
			else
				data_done(tq);
			break;
		case RX_DATA:
			tq->rx_large = tq->rx_need >= TCP_LARGE_PAYLOAD;
			if (tq->rx_got == tq->rx_need) {
				if (tq->params.ddgst) {
					tq->stage = RX_DDGST;
					tq->hdr_got = 0;
					tq->hdr_need = NVME_TCP_DIGEST_LEN;
				} else {
					data_done(tq);
				}
				break;
			}
			if (avail) {
				n = tq->rx_need - tq->rx_got;
				if (n > avail)
					n = avail;
				memcpy(tq->rx_dst + tq->rx_got, src, n);
				tq->rx_pos += n;
				tq->rx_got += n;
				break;
			}
			/*
			 * Large payloads go from the socket straight into the caller's buffer;
			 * what follows them (the next PDU header) into the empty staging buffer,
			 * in the same system call.
			 */
			if (tq->rx_need - tq->rx_got < TCP_DIRECT_RECV_MIN)
				return 1;
			{
				size_t want = tq->rx_need - tq->rx_got;
				struct iovec iov[2] = {
					{ tq->rx_dst + tq->rx_got, want },
					{ tq->rxbuf, tq->rx_large ? TCP_RX_SMALL : TCP_RX_BUF },
				};
				struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

				tq->rx_pos = tq->rx_len = 0;
				r = recvmsg(tq->h.fd, &msg, MSG_DONTWAIT);
				if (r > 0) {
					if ((size_t)r <= want) {
						tq->rx_got += (size_t)r;
					} else {
						tq->rx_got = tq->rx_need;
						tq->rx_len = (size_t)r - want;
					}
					break;
				}
			}
			if (r < 0 && errno == EINTR)
				break;
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return 0;
			tcp_fail(tq, NULL, NULL, 0, "%s",
				 r ? strerror(errno) : "connection closed by the controller");
			return -1;
		}
	}
	return -1;
}

/* Receive and handle what the socket has; true if a recv() returned data. */
static bool rx_read(struct tcp_hq *tq)
{
	bool drained = false, got = false;

	/* bounded, so that one busy queue cannot starve the others of the reactor */
	for (int rounds = 0; rounds < 16 && tq_alive(tq); rounds++) {
		size_t chunk;
		ssize_t r;

		/*
		 * A read that did not fill the buffer emptied the socket: asking again would only
		 * return EAGAIN (one system call per event saved); level-triggered epoll reports
		 * whatever arrives later.
		 */
		if (rx_process(tq) <= 0 || drained)
			return got;
		chunk = tq->rx_large ? TCP_RX_SMALL : TCP_RX_BUF;
		tq->rx_pos = tq->rx_len = 0;
		r = recv(tq->h.fd, tq->rxbuf, chunk, MSG_DONTWAIT);
		if (r == 0) {
			tcp_fail(tq, NULL, NULL, 0, "connection closed by the controller");
			return true;
		}
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return got;
			tcp_fail(tq, NULL, NULL, 0, "recv: %s", strerror(errno));
			return true;
		}
		got = true;
		tq->rx_len = (size_t)r;
		drained = (size_t)r < chunk;
	}
	if (tq_alive(tq))
		rx_process(tq);
	return got;
}

static void tcp_event(struct nvmf_fd_handler *h, uint32_t events)
{
	struct tcp_hq *tq = container_of(h, struct tcp_hq, h);

	tq->busy++;
	if (tq_alive(tq) && (events & EPOLLOUT))
		tx_flush(tq);
	if (tq_alive(tq) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		rx_read(tq);
	tq_put(tq);
}

/* struct nvmf_fd_handler.poll: the reactor reads this busy queue without epoll */
static bool tcp_poll(struct nvmf_fd_handler *h)
{
	struct tcp_hq *tq = container_of(h, struct tcp_hq, h);
	bool got = false;

	tq->busy++;
	if (tq_alive(tq))
		got = rx_read(tq);
	tq_put(tq);
	return got;
}

/* ------------------------------------------------------------------------------------------
 * Connect: TCP, then ICReq/ICResp (NVMe/TCP 1.0c 3.3.2), blocking with a deadline
 */

/* Wait until @fd is ready for @events or @deadline_ns passed. 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t now = nvmf_now_ns();
		int ret;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const void *buf, size_t len, uint64_t deadline_ns)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, (const uint8_t *)buf + done, len - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		int ret;

		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = wait_fd(fd, POLLOUT, deadline_ns);
		if (ret)
			return ret;
	}
	return 0;
}

static int recv_all(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, (uint8_t *)buf + done, len - done, MSG_DONTWAIT);
		int ret;

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (!n)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = wait_fd(fd, POLLIN, deadline_ns);
		if (ret)
			return ret;
	}
	return 0;
}

static int gai_errno(int gai)
{
	switch (gai) {
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_SERVICE:
	case EAI_BADFLAGS:
	case EAI_SOCKTYPE:
	case EAI_FAMILY:
		return -EINVAL;
	default: /* no such host */
		return -EHOSTUNREACH;
	}
}

/* A connected, non-blocking TCP socket to @host:@serv (names or numbers), or -errno. */
static int tcp_dial(const char *host, const char *serv, uint64_t deadline_ns)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -1, ret = -EHOSTUNREACH, one = 1;

	ret = getaddrinfo(host, serv, &hints, &res);
	if (ret)
		return gai_errno(ret);
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				ret = -errno;
				goto next;
			}
			ret = wait_fd(fd, POLLOUT, deadline_ns);
			if (ret)
				goto next;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr) {
				ret = -soerr;
				goto next;
			}
		}
		/* the capsules are small and latency bound: no Nagle */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
		if (ret == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	return ret;
}

/* Refuse the controller's ICResp with an H2CTermReq (best effort), then fail the connect. */
static int ic_refuse(struct tcp_hq *tq, const struct nvmf_tcp_pdu_error *err, const void *pdu,
		     size_t len)
{
	uint8_t term[sizeof(struct nvme_tcp_term_pdu) + NVME_TCP_TERM_MAX_DATA];
	size_t n = nvmf_tcp_build_term(term, nvme_tcp_h2c_term, err, pdu, len);

	nvmf_warn("tcp %s: ICResp refused: %s (fei %u)", tq->name, nvmf_tcp_fes_str(err->fes),
		  err->fei);
	send_all(tq->h.fd, term, n, nvmf_now_ns() + TCP_TERM_TIMEOUT_MS * 1000000ull);
	return -EPROTO;
}

/* ICReq/ICResp (NVMe/TCP 1.0c 3.6.2.2, 3.6.2.3): negotiate digests, CPDA, MAXH2CDATA. */
static int ic_exchange(struct tcp_hq *tq, bool hdgst, bool ddgst)
{
	uint64_t deadline = nvmf_now_ns() + TCP_CONNECT_TIMEOUT_MS * 1000000ull;
	struct nvme_tcp_icreq_pdu icreq;
	union {
		struct nvme_tcp_hdr hdr;
		struct nvme_tcp_icresp_pdu icresp;
		struct nvme_tcp_term_pdu term;
		uint8_t raw[TCP_RX_HDR_MAX];
	} rx;
	struct nvmf_tcp_pdu_error err;
	int ret;

	/* HPDA 0: no alignment of C2HData; MAXR2T 0: one R2T per command, as Linux */
	nvmf_tcp_build_icreq(&icreq, hdgst, ddgst, 0, 0);
	ret = send_all(tq->h.fd, &icreq, sizeof(icreq), deadline);
	if (!ret)
		ret = recv_all(tq->h.fd, &rx.hdr, sizeof(rx.hdr), deadline);
	if (ret) {
		nvmf_warn("tcp %s: ICReq/ICResp: %s", tq->name, strerror(-ret));
		return ret;
	}
	if (nvmf_tcp_check_hdr(&rx.hdr, NULL, false, &err) < 0)
		return ic_refuse(tq, &err, &rx.hdr, sizeof(rx.hdr));
	if (rx.hdr.type == nvme_tcp_c2h_term) {
		/* the controller refused our ICReq: say why, if it says (PLEN <= 152 checked) */
		memset(rx.raw + sizeof(rx.hdr), 0, sizeof(rx.raw) - sizeof(rx.hdr));
		recv_all(tq->h.fd, rx.raw + sizeof(rx.hdr), rx.hdr.plen - sizeof(rx.hdr), deadline);
		nvmf_warn("tcp %s: controller refused the connection: %s (fei %u)", tq->name,
			  nvmf_tcp_fes_str(rx.term.fes), rx.term.fei);
		return -ECONNREFUSED;
	}
	/* an ICResp: the check above fixed its PLEN at 128 */
	ret = recv_all(tq->h.fd, rx.raw + sizeof(rx.hdr), sizeof(rx.icresp) - sizeof(rx.hdr),
		       deadline);
	if (ret) {
		nvmf_warn("tcp %s: ICResp: %s", tq->name, strerror(-ret));
		return ret;
	}
	if (nvmf_tcp_check_icresp(&rx.icresp, hdgst, ddgst, &err) < 0)
		return ic_refuse(tq, &err, &rx.icresp, sizeof(rx.icresp));
	tq->params.hdgst = hdgst;
	tq->params.ddgst = ddgst;
	tq->params.cpda = rx.icresp.cpda;
	tq->params.hpda = 0;
	tq->params.maxh2cdata = rx.icresp.maxdata;
	tq->params.max_icd = 0; /* a host receives no capsules */
	/* any C2HData length passes here: each one is checked against its command */
	tq->params.max_c2h_data = UINT32_MAX;
	return 0;
}

/**
 * tcp_queue_connect() - connect @q: TCP, ICReq/ICResp, then the reactor watches the socket
 * @q: queue with its tag set (q->depth) in place; q->ctrl gives the address and digests
 *
 * The TCP connect and the ICResp wait each time out after 10 s. An ICResp the host cannot
 * work with (NVMe/TCP 1.0c 3.6.2.3: PFV, digests other than requested, CPDA, MAXH2CDATA) is
 * answered with an H2CTermReq. On failure nothing is left behind (q->tr stays NULL).
 *
 * Return: 0; -errno from name resolution or connect (-ECONNREFUSED, -ETIMEDOUT, ...);
 * -EPROTO for an unusable ICResp; -ECONNREFUSED when the controller answers with a
 * C2HTermReq; -ENOMEM.
 */
static int tcp_queue_connect(struct nvmf_host_queue *q)
{
	struct nvmf_host_ctrl *ctrl = q->ctrl;
	struct tcp_hq *tq;
	int ret;

	if (!q->depth)
		return -EINVAL;
	tq = calloc(1, sizeof(*tq));
	if (!tq)
		return -ENOMEM;
	nvmf_host_live_add(&nvmf_host_live.transport_queues, 1); /* paired with tq_release() */
	tq->h.fd = -1;
	tq->tags = calloc(q->depth, sizeof(*tq->tags));
	tq->rxbuf = malloc(TCP_RX_BUF);
	if (!tq->tags || !tq->rxbuf) {
		ret = -ENOMEM;
		goto out_free;
	}
	tq->q = q;
	tq->r = ctrl->reactor;
	tq->qid = q->qid;
	tq->depth = q->depth;
	tq->flush.fn = tcp_flush;
	tq->h.cb = tcp_event;
	tq->h.poll = tcp_poll;
	snprintf(tq->name, sizeof(tq->name), "%s:%s qid %u", ctrl->traddr, ctrl->trsvcid, q->qid);
	rx_expect_hdr(tq);

	ret = tcp_dial(ctrl->traddr, ctrl->trsvcid,
		       nvmf_now_ns() + TCP_CONNECT_TIMEOUT_MS * 1000000ull);
	if (ret < 0) {
		nvmf_warn("tcp %s: connect: %s", tq->name, strerror(-ret));
		goto out_free;
	}
	tq->h.fd = ret;
	ret = ic_exchange(tq, ctrl->opts.hdgst, ctrl->opts.ddgst);
	if (ret)
		goto out_free;
	ret = nvmf_reactor_fd_add(tq->r, &tq->h, EPOLLIN);
	if (ret < 0) {
		nvmf_err("tcp %s: epoll: %s", tq->name, strerror(-ret));
		goto out_free;
	}
	tq->registered = true;
	q->tr = tq;
	nvmf_debug("tcp %s: connected: hdgst %d ddgst %d cpda %u maxh2cdata %u", tq->name,
		   tq->params.hdgst, tq->params.ddgst, tq->params.cpda, tq->params.maxh2cdata);
	return 0;

out_free:
	tq_release(tq);
	return ret;
}

/**
 * tcp_queue_submit() - send @req: a Command Capsule, with its data in-capsule when it fits
 * @q: connected queue
 * @req: request whose tag is free in this transport; req->cmd.cid is set to the tag
 *
 * Fills PSDT (SGL, NVMe Base 2.0c 4.1.2) and the SGL of the SQE: a Data Block (offset 0,
 * length len) for H2C data up to q->icd_max sent inside the capsule, else a Transport SGL
 * Data Block of length len (NVMe/TCP 1.0c 3.5.1): C2H data, or H2C data the controller asks
 * for with R2Ts. Nothing is copied: the capsule's iovecs point at req->buf. The capsule goes
 * out with the queue's next flush, at the end of this reactor loop iteration.
 *
 * Return: 0 (nvmf_host_req_done() will be called exactly once), -ENOLINK if the connection
 * is stopped or broken, -EINVAL for a tag outside the set, -EBUSY if the tag is in flight.
 */
static int tcp_queue_submit(struct nvmf_host_queue *q, struct nvmf_host_req *req)
{
	struct tcp_hq *tq = q->tr;
	struct nvme_sgl_desc *sgl = &req->cmd.dptr.sgl;
	struct tcp_htag *t;
	uint32_t len = req->dir != NVMF_HOST_DATA_NONE && req->buf ? req->len : 0;
	bool icd = req->dir == NVMF_HOST_DATA_H2C && len && len <= q->icd_max;
	size_t hl;
	int n = 0;

	if (!tq || !tq_alive(tq))
		return -ENOLINK;
	if (req->tag >= tq->depth)
		return -EINVAL;
	t = &tq->tags[req->tag];
	if (t->active)
		return -EBUSY;

	req->cmd.cid = req->tag;
	req->cmd.flags =
		(uint8_t)((req->cmd.flags & ~NVME_CMD_PSDT_MASK) | NVME_CMD_PSDT_SGL_MPTR_CONTIG);
	memset(sgl, 0, sizeof(*sgl));
	sgl->length = len;
	sgl->type = icd ? NVME_SGL_ID_INCAPSULE : NVME_SGL_ID_TCP_TRANSPORT;
	req->xfer = 0;

	t->req = req;
	t->len = len;
	t->active = true;
	t->icd = icd;
	t->c2h_last = false;
	t->ddgst_err = false;
	t->rsp_pending = false;
	t->kind = TX_CMD;
	t->r2t_left = 0;
	t->hdr.cmd.cmd = req->cmd;
	hl = nvmf_tcp_build_cmd(&t->hdr.cmd, icd ? len : 0, &tq->params);
	t->iov[n].iov_base = t->hdr.raw;
	t->iov[n++].iov_len = hl;
	if (icd) {
		t->iov[n].iov_base = req->buf;
		t->iov[n++].iov_len = len;
		if (tq->params.ddgst) {
			t->ddgst = nvmf_crc32c(req->buf, len);
			t->iov[n].iov_base = &t->ddgst;
			t->iov[n++].iov_len = NVME_TCP_DIGEST_LEN;
		}
	}
	t->iovcnt = n;
	tx_enqueue(tq, t);
	return 0;
}

/*
 * Break the connection (idempotent), then give back every request still active. Re-entrant:
 * a completion callback may stop or free the queue again; each pass only finishes the
 * requests still marked active, and @tq is kept alive by the caller's busy count.
 */
static void tcp_stop(struct tcp_hq *tq)
{
	if (!tq->dead) {
		struct tcp_htag *t = tq->tx_head;

		tq->dead = true;
		if (tq->registered) {
			nvmf_reactor_fd_del(tq->r, &tq->h);
			tq->registered = false;
		}
		/* from here the controller cannot complete anything: seed 000 */
		if (tq->h.fd >= 0)
			shutdown(tq->h.fd, SHUT_RDWR);
		while (t) {
			struct tcp_htag *next = t->tx_next;

			t->tx_next = NULL;
			t->queued = false;
			t = next;
		}
		tq->tx_head = tq->tx_tail = NULL;
		tq->tx_sent = 0;
		tq->rx_tag = NULL;
	}
	for (unsigned int i = 0; i < tq->depth; i++) {
		struct tcp_htag *t = &tq->tags[i];

		if (t->active)
			tag_finish(t, -ENOLINK);
	}
}

/**
 * tcp_queue_stop() - shut the connection down, then complete every request with -ENOLINK
 * @q: queue (connected, failed or already stopped)
 *
 * Callable from inside this transport's own receive and send paths (through
 * nvmf_host_queue_error()) and from the requests' completion callbacks; the state it
 * frees is left to tcp_queue_free().
 */
static void tcp_queue_stop(struct nvmf_host_queue *q)
{
	struct tcp_hq *tq = q->tr;

	if (!tq)
		return;
	tq->busy++;
	tcp_stop(tq);
	tq_put(tq);
}

/**
 * tcp_queue_free() - close the socket and free the transport state of @q
 * @q: queue; stopped first if it was not. q->tr is NULL afterwards.
 *
 * The memory goes at once, or, when called from inside this transport's own callbacks or
 * with a flush still queued in the reactor, when the last of them returns. Must not be
 * called from inside a reactor fd callback of the same loop iteration (the core frees
 * queues from deferred work, messages, or outside the loop).
 */
static void tcp_queue_free(struct nvmf_host_queue *q)
{
	struct tcp_hq *tq = q->tr;

	if (!tq)
		return;
	q->tr = NULL;
	tq->busy++;
	tcp_stop(tq);
	tq->q = NULL;
	tq->free_pending = true;
	if (tq->h.fd >= 0) {
		close(tq->h.fd);
		tq->h.fd = -1;
	}
	tq_put(tq);
}

/**
 * nvmf_host_tcp_ops - the NVMe/TCP host transport (NVMe/TCP Transport 1.0c)
 * @name: "tcp"
 * @queue_connect: TCP connect to traddr:trsvcid (host names resolved, 10 s timeout),
 *	TCP_NODELAY, ICReq (digests as asked, HPDA 0, MAXR2T 0) and a validated ICResp;
 *	see tcp_queue_connect()
 * @queue_submit: Command Capsule with the SGL for in-capsule or transport data; H2C data
 *	beyond q->icd_max goes in H2CData PDUs of at most MAXH2CDATA bytes per R2T; one
 *	sendmsg() per reactor iteration; see tcp_queue_submit()
 * @queue_stop: shut the socket down, then complete every request with -ENOLINK
 * @queue_free: close the socket and free the per-queue and per-tag state
 * @fabrics: true
 *
 * Received PDUs are checked with nvmf_tcp_check_hdr() and against their command: unknown
 * CIDs, data outside the command's buffer or out of order, R2Ts beyond MAXR2T, bad header
 * digests, termination requests and EOF end the connection through nvmf_host_queue_error().
 * A data digest error fails only its command, with Data Transfer Error, as the Linux host.
 */
const struct nvmf_host_transport_ops nvmf_host_tcp_ops = {
	.name = "tcp",
	.queue_connect = tcp_queue_connect,
	.queue_submit = tcp_queue_submit,
	.queue_stop = tcp_queue_stop,
	.queue_free = tcp_queue_free,
	.fabrics = true,
};
