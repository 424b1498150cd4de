/* SPDX-License-Identifier: MIT */
/*
 * libnvmf host internals: controller, queues with their tag sets, requests, and the
 * interface transports plug into. Everything here runs on the controller's reactor thread.
 *
 * Tag sets (seed 002, Linux "nvme: reserve a keep-alive admin tag for all transports"):
 *   admin queue, depth NVMF_HOST_AQ_DEPTH (32):
 *     tags 0 .. 30   the block-layer-like pool; tags 0 and 1 are RESERVED: 0 for Connect
 *                    (fabrics), 1 for Keep Alive. Normal submissions never take them.
 *                    Non-fabrics (vfio-user): only tag 0 is reserved, for Keep Alive
 *                    (nvmf_host_ka_tag()); there is no Connect.
 *     tag 31         the AER, outside the pool (NVME_AQ_BLK_MQ_DEPTH in Linux)
 *   I/O queues, depth = SQSIZE + 1: tag 0 reserved for Connect, the rest normal
 *   (non-fabrics: no reserved tag, and the hardware queue has depth + 1 entries).
 * The CID on the wire is the tag.
 *
 * Request lifecycle: tag taken -> submitted to the transport -> the transport calls
 * nvmf_host_req_done() exactly once (response, or -ENOLINK after its queue drained) ->
 * the user callback runs -> tag free. A request is never completed while the transport
 * may still receive its response (seed 000).
 */
#ifndef NVMF_HOST_INTERNAL_H
#define NVMF_HOST_INTERNAL_H

#include "nvmf/host.h"
#include "nvmf/spec.h"
#include "../common/counter.h"
#include "../common/reactor.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define NVMF_HOST_AQ_DEPTH 32
#define NVMF_HOST_AER_TAG (NVMF_HOST_AQ_DEPTH - 1)
#define NVMF_HOST_CONNECT_TAG 0
#define NVMF_HOST_KA_TAG 1
#define NVMF_HOST_AQ_RESERVED 2	 /* Connect + Keep Alive on fabrics */
#define NVMF_HOST_IOQ_RESERVED 1 /* Connect */
#define NVMF_HOST_MAX_IO_QUEUES 128
#define NVMF_HOST_MAX_NS 1024

struct nvmf_host_queue;

enum nvmf_host_req_state {
	NVMF_HREQ_FREE = 0,
	NVMF_HREQ_SENT, /* owned by the transport */
};

/**
 * struct nvmf_host_req - one command in flight, preallocated per tag
 * @cmd: the SQE as sent (cid = tag)
 * @cqe: the completion, filled by the transport
 * @buf: the caller's data buffer (never copied by the library)
 * @len: bytes of @buf
 * @dir: NVMF_HOST_DATA_NONE/H2C/C2H (see nvmf_host_data_dir())
 * @deadline_ns: CLOCK_MONOTONIC time at which the command times out (0: none)
 * @xfer: transport progress: bytes of C2H data received or H2C data sent
 */
struct nvmf_host_req {
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	struct nvmf_host_queue *q;
	uint16_t tag;
	uint8_t state;
	uint8_t dir;
	bool internal;	 /* library-owned (keep-alive, AER, connect): never retried */
	bool mpath;	 /* a namespace head's I/O (Linux REQ_NVME_MPATH): never parked or
			  * retried by the controller; the head fails it over (mpath.c) */
	bool timed_out;	 /* expired and aborted: report -ETIMEDOUT */
	uint8_t retries; /* times re-sent after a reset */
	unsigned int timeout_ms;
	void *buf;
	uint32_t len;
	uint32_t xfer;
	uint64_t deadline_ns;
	nvmf_host_cb cb;
	void *arg;
	struct nvmf_host_req *next; /* free list or waiting list */
};

#define NVMF_HOST_DATA_NONE 0
#define NVMF_HOST_DATA_H2C 1
#define NVMF_HOST_DATA_C2H 2

/** nvmf_host_data_dir() - data direction of a command from its opcode (fabrics: fctype) */
static inline uint8_t nvmf_host_data_dir(const struct nvme_sqe *cmd)
{
	uint8_t opc = cmd->opcode;

	if (opc == nvme_fabrics_command)
		opc = ((const struct nvmf_common_cmd *)cmd)->fctype;
	return (opc & 3) == 1	? NVMF_HOST_DATA_H2C
	       : (opc & 3) == 2 ? NVMF_HOST_DATA_C2H
				: NVMF_HOST_DATA_NONE;
}

/**
 * struct nvmf_host_queue - an admin or I/O queue pair and its tag set
 * @depth: entries (tags), SQSIZE + 1
 * @nr_reserved: tags 0..nr_reserved-1 are reserved (see the top of this file)
 * @icd_max: in-capsule data bytes the controller accepts on this queue (IOCCSZ; the
 *	transport sends writes up to this size inside the capsule)
 * @tr: the transport's per-queue state
 * @sq_dma: non-fabrics: device (DMA) address of the SQ, set by queue_connect()
 * @cq_dma: non-fabrics: device address of the CQ, set by queue_connect()
 * @hw_entries: non-fabrics: entries of the SQ and of the CQ (at least @depth + 1: a full
 *	queue holds one entry less than its size, NVMe Base 2.0c 3.3.1.5)
 * @cq_vector: non-fabrics: the MSI-X vector of the CQ (0 for the admin queue)
 */
struct nvmf_host_queue {
	struct nvmf_host_ctrl *ctrl;
	uint16_t qid;
	uint16_t depth;
	uint16_t nr_reserved;
	uint32_t icd_max;
	struct nvmf_host_req *reqs;
	struct nvmf_host_req *free_list;     /* normal tags */
	struct nvmf_host_req *free_reserved; /* reserved tags */
	unsigned int nr_sent;
	bool live; /* transport connected and fabrics Connect done */
	void *tr;
	uint64_t sq_dma;
	uint64_t cq_dma;
	uint16_t hw_entries;
	uint16_t cq_vector;
};

/**
 * struct nvmf_host_transport_ops - a host transport
 * @name: "tcp", "loop"
 * @queue_connect: establish the transport connection of @q (TCP: connect + ICReq/ICResp),
 *	synchronously, on the reactor thread. 0 or -errno.
 * @queue_submit: send @req (SQE, and in-capsule or R2T/H2C data from req->buf). The
 *	transport calls nvmf_host_req_done() for it exactly once. 0 or -errno (not sent).
 * @queue_stop: break the connection: no new responses are accepted; every SENT request
 *	is completed with -ENOLINK through nvmf_host_req_done() once the transport knows the
 *	peer can no longer complete it (socket shut down, or loop target drained). May
 *	complete them before returning.
 * @queue_free: release the transport state of a stopped queue
 * @reg_read: non-fabrics only (used instead of Property Get): read the controller register
 *	at byte offset @off (NVME_REG_*), @size 4 or 8 bytes, into @val. Synchronous, on the
 *	reactor thread, callable once the admin queue's queue_connect() succeeded. 0 or -errno
 *	(-ENOTCONN: the device connection is gone).
 * @reg_write: non-fabrics only (used instead of Property Set): write @val to the register
 *	at @off, @size 4 or 8 bytes; returns once the device took it. 0 or -errno.
 * @fabrics: true for fabrics transports (Connect, reserved Connect tag, KATO from Connect).
 *	False (PCIe-like, NVMe PCIe Transport 1.0c): no Connect; registers through @reg_read and
 *	@reg_write; queue_connect() of the admin queue reaches the device and places the admin
 *	SQ/CQ (struct nvmf_host_queue.sq_dma/cq_dma, programmed into ASQ/ACQ by the core),
 *	queue_connect() of an I/O queue places its SQ/CQ and picks its interrupt vector, which
 *	the core then creates with Create I/O CQ/SQ. queue_stop() gives requests back only once
 *	the controller cannot complete them any more (disabled: CC.EN 0 and CSTS.RDY 0, shut
 *	down, or the device connection closed).
 */
struct nvmf_host_transport_ops {
	const char *name;
	int (*queue_connect)(struct nvmf_host_queue *q);
	int (*queue_submit)(struct nvmf_host_queue *q, struct nvmf_host_req *req);
	void (*queue_stop)(struct nvmf_host_queue *q);
	void (*queue_free)(struct nvmf_host_queue *q);
	int (*reg_read)(struct nvmf_host_ctrl *ctrl, uint32_t off, unsigned int size,
			uint64_t *val);
	int (*reg_write)(struct nvmf_host_ctrl *ctrl, uint32_t off, unsigned int size,
			 uint64_t val);
	bool fabrics;
};

extern const struct nvmf_host_transport_ops nvmf_host_tcp_ops;
extern const struct nvmf_host_transport_ops nvmf_host_loop_ops;
extern const struct nvmf_host_transport_ops nvmf_host_vfio_user_ops;

/**
 * nvmf_host_ka_tag() - the admin tag Keep Alive is sent from (seed 002): the second
 * reserved tag on fabrics (the first is Connect's), the only one on other transports
 */
static inline uint16_t nvmf_host_ka_tag(const struct nvmf_host_transport_ops *ops)
{
	return ops->fabrics ? NVMF_HOST_KA_TAG : 0;
}

#define NVMF_HOST_MAX_RETRIES 5 /* as Linux nvme_max_retries */

/* A user command waiting for the controller to be LIVE again (holds no tag). */
struct nvmf_host_pending {
	struct nvmf_host_pending *next;
	struct nvme_sqe cmd;
	uint16_t qid;
	void *buf;
	uint32_t len;
	unsigned int timeout_ms;
	unsigned int retries;
	bool timed_out;
	nvmf_host_cb cb;
	void *arg;
};

/*
 * An active namespace as the last scan saw it: the public info, and the identifiers a
 * namespace head is matched on (Identify Namespace NGUID/EUI-64/NMIC, the Namespace
 * Identification Descriptor list's UUID; zeros when not reported).
 */
struct nvmf_host_ns {
	struct nvmf_host_ns_info info;
	uint8_t nguid[16];
	uint8_t eui64[8];
	uint8_t uuid[16];
	bool shared; /* NMIC bit 0: may be reached through other controllers */
};

struct nvmf_host_mpath_path;

/*
 * Counters of struct nvmf_host_ctrl_stats (outstanding is derived). Written only on the
 * controller's reactor thread, read from any thread: see nvmf_counter_add().
 */
struct nvmf_host_ctrl_counters {
	_Atomic uint64_t submitted;
	_Atomic uint64_t completed;
	_Atomic uint64_t completed_error;
	_Atomic uint64_t retried;
	_Atomic uint64_t stray_cqes;
	_Atomic uint64_t timeouts;
	_Atomic uint64_t keep_alives;
	_Atomic uint64_t keep_alive_failures;
	_Atomic uint64_t resets;
	_Atomic uint64_t reconnects;
	_Atomic uint64_t reconnect_failures;
};

/* One writer (the reactor): a relaxed load and store, no locked read-modify-write. */
/*
 * Live objects of the whole process (nvmf_host_get_objects()). Many controllers, many
 * threads: atomic adds, on the control path only (connect, queue setup and teardown).
 */
struct nvmf_host_live {
	_Atomic int64_t ctrls;
	_Atomic int64_t queues;
	_Atomic int64_t reqs;
	_Atomic int64_t transport_queues;
	_Atomic int64_t subsystems;
	_Atomic int64_t ns_heads;
};

extern struct nvmf_host_live nvmf_host_live;

static inline void nvmf_host_live_add(_Atomic int64_t *c, int64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

struct nvmf_host_ctrl {
	struct nvmf_host_opts opts;
	char traddr[256];
	char trsvcid[32];
	char subnqn[NVME_NQN_FIELD_LEN];
	char hostnqn[NVME_NQN_FIELD_LEN];
	uint8_t hostid[16];
	const struct nvmf_host_transport_ops *ops;

	struct nvmf_reactor *reactor;
	bool own_thread;
	bool own_reactor;     /* false: a host subsystem's shared reactor, not destroyed with it */
	pthread_mutex_t lock; /* state changes seen from other threads; waiters */
	pthread_cond_t cond;
	_Atomic int state;

	/* current association */
	uint16_t cntlid;
	uint64_t cap;
	uint32_t vs;
	struct nvme_id_ctrl id;
	struct nvmf_host_queue admin;
	struct nvmf_host_queue *ioq[NVMF_HOST_MAX_IO_QUEUES + 1]; /* by QID */
	unsigned int nr_io_queues;
	unsigned int io_depth;
	bool tbkas;

	/* keep-alive (NVMe Base 2.0c 3.9.4) */
	unsigned int kato_ms;
	unsigned int ka_interval_ms;
	struct nvmf_timer ka_timer;
	bool ka_inflight;
	uint64_t last_completion_ns;

	/* timeouts, reconnect */
	struct nvmf_timer timeout_timer;
	struct nvmf_timer reconnect_timer;
	uint64_t loss_deadline_ns;	   /* ctrl_loss_tmo */
	uint64_t fail_io_deadline_ns;	   /* fast_io_fail_tmo */
	struct nvmf_host_pending *pending; /* user commands parked while not LIVE */
	struct nvmf_host_pending **pending_tail;
	bool fail_fast; /* fast_io_fail_tmo expired: fail I/O while not LIVE */
	struct nvmf_deferred reset_work;
	bool in_associate;
	bool pending_retry;    /* parked commands wait for a free tag */
	unsigned int cb_depth; /* inside a completion callback: no synchronous waits */

	/* passthrough: Commands Supported and Effects log, KATO set through passthrough */
	bool effects_loaded;
	uint32_t acs_effects[256];
	uint32_t iocs_effects[256];
	_Atomic unsigned int passthru_kato_ms;

	/* asynchronous events */
	struct nvmf_deferred aen_work;
	uint32_t aen_dw0;

	/* namespaces */
	struct nvmf_host_ns *ns;
	size_t nr_ns;
	unsigned int ana_nr_change; /* ANA groups in change in the last ANA log read */

	/* multipath: the path this controller is of a host subsystem (NULL: none) */
	struct nvmf_host_mpath_path *mpath;
	/*
	 * Frames of this controller on its reactor's stack that may run the loop nested or
	 * call the user: nested polls (synchronous steps), state and event callbacks. A host
	 * subsystem frees nothing of its paths while one is open (mpath.c).
	 */
	unsigned int nest;

	struct nvmf_host_ctrl_counters stats;

	/* non-fabrics: how the last nvmf_host_ctrl_delete()'s shutdown went (CSTS.SHST
	 * complete: 0; else -errno), for the state callback of DEAD */
	int shutdown_status;
};

/* core (ctrl.c, queue.c); see also queue.h */

/**
 * nvmf_host_req_done() - the transport finished @req: status from the CQE, or @err
 * @req: request
 * @err: 0 (use req->cqe), or a negative errno (-ENOLINK, -EIO, -ETIMEDOUT)
 */
void nvmf_host_req_done(struct nvmf_host_req *req, int err);

/**
 * nvmf_host_queue_error() - the transport found the connection broken or the peer hostile:
 * log @why and start a controller reset (the transport stops accepting input at once).
 */
void nvmf_host_queue_error(struct nvmf_host_queue *q, const char *why);

/**
 * nvmf_host_user_done() - a user command finished outside a tag (parked, or refused after it
 * was accepted): count it, then run its callback
 * @ctrl: controller
 * @cb: callback, may be NULL
 * @arg: its argument
 * @status: 0, a positive NVMe status or a negative errno
 */
void nvmf_host_user_done(struct nvmf_host_ctrl *ctrl, nvmf_host_cb cb, void *arg, int status);

/**
 * nvmf_host_poll_nested() - run one iteration of the controller's reactor from a frame that
 * waits (a synchronous step), counted in ctrl->nest
 * @ctrl: controller
 * @timeout_ms: as nvmf_reactor_poll_once()
 */
void nvmf_host_poll_nested(struct nvmf_host_ctrl *ctrl, int timeout_ms);

/** nvmf_host_find_req() - the SENT request with CID @cid on @q, or NULL (unknown CID) */
struct nvmf_host_req *nvmf_host_find_req(struct nvmf_host_queue *q, uint16_t cid);

/** nvmf_host_status() - the NVMe status of a CQE (SCT/SC/DNR/More, phase stripped) */
static inline int nvmf_host_status(const struct nvme_cqe *cqe)
{
	return (cqe->status >> 1) & 0x7fff;
}

#endif
