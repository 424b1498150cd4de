/* SPDX-License-Identifier: MIT */
/*
 * Target core: the objects (target, subsystem, namespace, port, controller, SQ, request), the
 * request lifecycle and the interfaces transports and backends plug into. Internal to libnvmf.
 *
 * Request lifecycle (after Linux nvmet):
 *   transport receives a capsule into a preallocated slot (struct nvmf_tgt_req)
 *   -> nvmf_tgt_req_init(): validate, pick req->execute, set req->data_len / data_dir
 *   -> (H2C data: transport fetches it into req->buf, in-capsule or R2T/H2CData)
 *   -> req->execute(req)                 (may go asynchronous through a backend)
 *   -> nvmf_tgt_req_complete(req, status): exactly once; fills the CQE, calls
 *      sq->ops->queue_response(req); the transport sends C2H data + the response and then
 *      reuses the slot.
 *
 * Threads: each SQ lives on one reactor and all of its requests execute and complete there.
 * A controller's SQs may be on different reactors; shared controller state is either atomic
 * or under ctrl->lock (control path only).
 */
#ifndef NVMF_TARGET_CORE_H
#define NVMF_TARGET_CORE_H

#include "nvmf/spec.h"
#include "nvmf/target.h"
#include "../common/counter.h"
#include "../common/reactor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define NVMF_TGT_ADMIN_QUEUE_DEPTH 32 /* entries, as the Linux host's NVME_AQ_DEPTH */
#define NVMF_TGT_MAX_IO_QUEUES 128
#define NVMF_TGT_AERL 4 /* 0's based: 5 outstanding AERs */
#define NVMF_TGT_MAX_ANA_GROUPS 128
#define NVMF_TGT_ERR_LOG_ENTRIES 64
#define NVMF_TGT_DISC_KATO_MS 120000 /* like nvmet: discovery controllers get 120 s */
#define NVMF_TGT_MAX_AEN_PENDING 16
#define NVMF_TGT_CAP_TO 15   /* CAP.TO, 500 ms units: 7.5 s */
#define NVMF_TGT_MIN_NN 1024 /* Identify Controller NN, as nvmet's NVMET_MAX_NAMESPACES */

struct nvmf_tgt_ns;
struct nvmf_tgt_req;
struct nvmf_tgt_sq;

/* -------------------------------------------------------------------------------------- */
/* Transport interface */

/**
 * struct nvmf_tgt_transport_ops - what the core needs from a transport
 * @name: "tcp", "loop"
 * @trtype: NVMF_TRTYPE_*
 * @add_port: start listening on @port (called from nvmf_tgt_start()); 0 or -errno
 * @remove_port: stop listening on @port
 * @queue_response: send the completion for @req (and, for a successful C2H transfer,
 *	req->transfer_len bytes of req->buf first). Called on the SQ's reactor. The slot is
 *	the transport's again afterwards. Fault injection: with req->fault.drop set, send
 *	nothing; req->fault.corrupt names a digest to corrupt (transports without digests
 *	never see it).
 * @stop: disconnect every queue of @tgt, connected to a controller or not (target stopping)
 * @disconnect_sq: tear the queue's connection down (called on the SQ's reactor). The transport
 *	must wait until every slot handed to the core came back through @queue_response, then
 *	call nvmf_tgt_sq_destroy(). Never completes a request itself.
 * @data_in: PCIe queues only (sq->pcie): copy the command's req->data_len bytes of
 *	host-to-controller data, described by its PRPs or SGL, into req->buf, synchronously.
 *	Returns NVMe status (Data Transfer Error, PRP Offset Invalid, SGL errors).
 * @queue_admin: PCIe queues only: execute Create/Delete I/O SQ/CQ (NVMe Base 2.0c 5.4-5.7),
 *	completing @req through nvmf_tgt_req_complete() (possibly later).
 */
struct nvmf_tgt_transport_ops {
	const char *name;
	uint8_t trtype;
	int (*add_port)(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port);
	void (*remove_port)(struct nvmf_tgt_port *port);
	void (*queue_response)(struct nvmf_tgt_req *req);
	void (*disconnect_sq)(struct nvmf_tgt_sq *sq);
	void (*stop)(struct nvmf_tgt *tgt);
	uint16_t (*data_in)(struct nvmf_tgt_req *req);
	void (*queue_admin)(struct nvmf_tgt_req *req);
};

extern const struct nvmf_tgt_transport_ops nvmf_tgt_tcp_ops;

/**
 * nvmf_tgt_vfio_user_ops - vfio-user ports (transport-vfio-user.c): each exports one PCIe NVMe
 * controller (pcie.c) to one client at a time on a UNIX socket (QEMU docs/interop/
 * vfio-user.rst). Its queues are sq->pcie queues: no Connect, PRPs/SGLs in host memory.
 */
extern const struct nvmf_tgt_transport_ops nvmf_tgt_vfio_user_ops;

/**
 * nvmf_tgt_tcp_adopt_fd() - serve an already connected stream socket as an NVMe/TCP queue
 * of @port (tests and fuzzing use a socketpair). The fd must be non-blocking; the queue owns
 * it from now on and closes it when it goes.
 * @tgt: started target
 * @port: a started TCP port of @tgt
 * @fd: connected stream socket
 * @peer: name for logs
 *
 * Return: 0, -ENOTCONN if @port is not listening, -ENOMEM.
 */
int nvmf_tgt_tcp_adopt_fd(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port, int fd,
			  const char *peer);

/**
 * nvmf_tgt_vfio_user_adopt_fd() - serve an already connected UNIX stream socket as a client
 * of the vfio-user port @port, as if it had connected to the port's socket (tests and
 * fuzzing use a socketpair). The fd must be non-blocking; the port owns it from now on and
 * closes it when the client ends (or at once if the port already has a live client).
 * @tgt: started target
 * @port: a started vfio-user port of @tgt
 * @fd: connected UNIX stream socket (descriptors may come with its messages)
 *
 * Return: 0, -ENOTCONN if @port is not a listening vfio-user port, -ENOMEM.
 */
int nvmf_tgt_vfio_user_adopt_fd(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port, int fd);

/**
 * nvmf_tgt_loop_ops - the in-process loop transport (NVMF_TRTYPE_LOOP, as Linux nvme-loop)
 *
 * A loop port listens on nothing. The host library's loop transport (lib/host/
 * transport-loop.c) creates the queues itself, each a struct nvmf_tgt_loop_sq, and submits
 * into them on the host controller's reactor; the data buffers are the host's (zero copy).
 * @queue_response and @disconnect_sq forward to the host side's struct nvmf_tgt_loop_sq_ops;
 * @remove_port closes the port to new queues (@add_port opens it again); @stop disconnects
 * every loop queue of the target, connected to a controller or not.
 */
extern const struct nvmf_tgt_transport_ops nvmf_tgt_loop_ops;

/* -------------------------------------------------------------------------------------- */
/* Backend interface */

/**
 * struct nvmf_bdev_ops - a namespace's storage
 * @name: "file", "null", "mem"
 * @open: open per @p; set ns->size_bytes and ns->blksz_shift. Return 0 or -errno.
 * @close: release everything @open took
 * @rw: read or write @len bytes at byte offset @off to/from @buf. FUA: durable before
 *	completion. Completes through nvmf_bdev_complete() on the calling reactor.
 * @flush: make every completed write durable; completes through nvmf_bdev_complete()
 * @write_zeroes: zero @len bytes at @off; @deallocate may punch a hole instead
 * @discard: deallocate (hint) @len bytes at @off; completes through nvmf_bdev_complete()
 * @resize: optional (NULL: the size is fixed). Make the medium hold *@size_bytes bytes (a
 *	regular file is extended or truncated; a block device must already be that large), or
 *	with *@size_bytes 0 store the medium's current size there. Control path; called on a
 *	namespace no command can reach beyond the smaller of the two sizes. 0 or -errno.
 *
 * Offsets and lengths are in bytes and already checked against the namespace size and
 * aligned to its block size. Completion may be synchronous (inside the call).
 */
struct nvmf_bdev_ops {
	const char *name;
	int (*open)(struct nvmf_tgt_ns *ns, const struct nvmf_tgt_ns_params *p);
	void (*close)(struct nvmf_tgt_ns *ns);
	void (*rw)(struct nvmf_tgt_req *req, bool write, void *buf, uint64_t off, uint32_t len,
		   bool fua);
	void (*flush)(struct nvmf_tgt_req *req);
	void (*write_zeroes)(struct nvmf_tgt_req *req, uint64_t off, uint64_t len, bool deallocate);
	void (*discard)(struct nvmf_tgt_req *req, uint64_t off, uint64_t len);
	int (*resize)(struct nvmf_tgt_ns *ns, uint64_t *size_bytes);
};

extern const struct nvmf_bdev_ops nvmf_bdev_file_ops;
extern const struct nvmf_bdev_ops nvmf_bdev_null_ops;
extern const struct nvmf_bdev_ops nvmf_bdev_mem_ops;

/**
 * nvmf_bdev_blksz_shift() - check a namespace's LBA data size (struct nvmf_tgt_ns_params)
 * @block_size: bytes, 0 for the default of 512
 *
 * Return: log2 of the size, or -EINVAL unless it is a power of two in 512..65536.
 */
static inline int nvmf_bdev_blksz_shift(uint32_t block_size)
{
	if (!block_size)
		return 9;
	if (block_size < 512 || block_size > 65536 || (block_size & (block_size - 1)))
		return -EINVAL;
	return __builtin_ctz(block_size);
}

/**
 * struct nvmf_bdev_io - a backend's state for the one operation a request has in flight
 * Kept in the request so that an operation resubmitted in parts (short reads and writes,
 * fallbacks) needs no allocation. Owned by the backend from its call until
 * nvmf_bdev_complete(); nobody else reads it.
 * @buf: next byte of data to transfer
 * @off: next byte offset on the medium
 * @left: bytes still to do
 * @op: backend-defined operation
 * @flags: backend-defined
 */
struct nvmf_bdev_io {
	void *buf;
	uint64_t off;
	uint64_t left;
	uint32_t flags;
	uint8_t op;
};

/* -------------------------------------------------------------------------------------- */
/* Objects */

struct nvmf_tgt_ns {
	uint32_t nsid;
	bool enabled;
	uint32_t anagrpid;
	uint8_t uuid[16];
	uint8_t nguid[16];
	uint8_t eui64[8];
	bool has_eui64;
	struct nvmf_tgt_subsys *subsys;
	const struct nvmf_bdev_ops *ops;
	void *bdev; /* backend private */
	int fd;	    /* file backend */
	bool buffered;
	uint64_t size_bytes;
	uint8_t blksz_shift; /* log2 LBA data size */
	char *path;
};

static inline uint64_t nvmf_tgt_ns_nsze(const struct nvmf_tgt_ns *ns)
{
	return ns->size_bytes >> ns->blksz_shift;
}

/* Per-SQ I/O statistics: written by the SQ's reactor only, read by anyone (relaxed). */
struct nvmf_tgt_stats {
	_Atomic uint64_t read_bytes;
	_Atomic uint64_t write_bytes;
	_Atomic uint64_t read_cmds;
	_Atomic uint64_t write_cmds;
};

/*
 * A subsystem's namespaces by NSID - 1. Published with a release store and replaced, never
 * changed in place, by the control path (reconfig.c); readers load it once per lookup and
 * never keep it past the reactor callback they run in (the control path frees an old table
 * after every reactor that could hold it has gone through its loop: nvmf_tgt_sync_reactors()).
 */
struct nvmf_tgt_ns_table {
	uint32_t max_nsid;
	uint32_t nr_ns;
	struct nvmf_tgt_ns *ns[];
};

struct nvmf_tgt_subsys {
	struct nvmf_tgt *tgt;
	char nqn[NVME_NQN_FIELD_LEN];
	uint8_t subtype; /* NVME_NQN_NVME or NVME_NQN_CURR (discovery) */
	char serial[21];
	char model[41];
	char firmware[9];
	uint32_t version;
	uint16_t cntlid_min;
	uint16_t cntlid_max;
	uint16_t next_cntlid;
	bool allow_any_host;
	char **allowed_hosts;
	size_t nr_allowed_hosts;

	_Atomic(struct nvmf_tgt_ns_table *) nst; /* never NULL */

	pthread_mutex_t lock; /* ctrls list, cntlid allocation, stats fold */
	struct nvmf_tgt_ctrl *ctrls;
	uint64_t power_on_ns; /* CLOCK_MONOTONIC at creation */
	/* stats of SQs that are gone */
	uint64_t read_bytes, write_bytes, read_cmds, write_cmds;
	_Atomic uint64_t err_count; /* every error log entry ever made */
};

struct nvmf_tgt_referral {
	struct nvmf_tgt_port_params p;
	char traddr[256];
	char trsvcid[32];
};

struct nvmf_tgt_port {
	struct nvmf_tgt *tgt;
	uint16_t portid;
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t treq;
	char traddr[256];
	char trsvcid[32];
	struct nvmf_tgt_subsys **subsys;
	size_t nr_subsys;
	struct nvmf_tgt_referral *referrals;
	size_t nr_referrals;
	/*
	 * In service (nvmf_tgt_port_disable/enable()): listening, taking Connects, listed in
	 * discovery logs. Written under cfg_lock (and ctl_lock), read under cfg_lock.
	 */
	bool enabled;
	_Atomic uint8_t ana_state[NVMF_TGT_MAX_ANA_GROUPS + 1]; /* by ANA group ID */
	/* groups whose state nvmf_tgt_port_set_ana_state() set: nvmetcli's ana_groups */
	atomic_bool ana_set[NVMF_TGT_MAX_ANA_GROUPS + 1];
	_Atomic uint64_t ana_chgcnt; /* ANA log Change Count through this port */
	const struct nvmf_tgt_transport_ops *ops;
	void *priv;			      /* transport's listener */
	struct nvmf_tgt_vfio_user_params vfu; /* vfio-user ports: the controller's options */
};

struct nvmf_tgt {
	struct nvmf_tgt_opts opts;
	struct nvmf_reactor **reactors;
	unsigned int nr_reactors;
	int *cpus; /* reactor i is pinned to cpus[i]; NULL when unpinned (opts.cpus copied) */
	atomic_uint next_reactor;
	bool started;

	/*
	 * Configuration: the lists below, port->subsys/referrals, subsys->allowed_hosts and
	 * allow_any_host. Read-locked by Connect and the discovery log (never by I/O),
	 * write-locked by the control path. ctl_lock serialises control operations, which may
	 * wait for reactors (never taken on a reactor).
	 */
	pthread_rwlock_t cfg_lock;
	pthread_mutex_t ctl_lock;
	/*
	 * Namespace grace periods (reconfig.c): I/O commands count themselves in their SQ's
	 * ns_refs[ns_epoch & 1] from nvmf_tgt_req_init() to completion; removing or replacing
	 * a namespace flips the epoch and waits for the old half to drain before freeing.
	 */
	_Atomic uint32_t ns_epoch;
	/* objects taken out of service whose last users could not be waited for: freed by
	 * nvmf_tgt_destroy() */
	struct nvmf_tgt_retired *retired;

	struct nvmf_tgt_subsys *disc_subsys;
	struct nvmf_tgt_subsys **subsys;
	size_t nr_subsys;
	struct nvmf_tgt_port **ports;
	size_t nr_ports;
	_Atomic uint64_t disc_genctr;

	atomic_int nr_ctrls;
	atomic_int nr_sqs;

	/* fault injection rules (fault.c): in match order, under fault_lock */
	pthread_mutex_t fault_lock;
	struct nvmf_tgt_fault_rule **fault_rules;
	unsigned int nr_fault_rules;
	uint32_t fault_next_id;
	uint64_t fault_seq;		/* orders holds against releases */
	_Atomic unsigned int nr_faults; /* rules listed: 0 keeps the I/O path out of fault.c */
};

/* Controller states as seen in CC/CSTS; the controller dies when its admin queue goes. */
struct nvmf_tgt_ctrl {
	struct nvmf_tgt_ctrl *next; /* subsys->ctrls, under subsys->lock */
	struct nvmf_tgt_subsys *subsys;
	struct nvmf_tgt_port *port;
	uint16_t cntlid;
	char hostnqn[NVME_NQN_FIELD_LEN];
	uint8_t hostid[16];
	atomic_int refs; /* one per connected SQ; the last put frees */

	struct nvmf_reactor *reactor; /* the admin queue's: runs keep-alive and AEN */
	_Atomic uint32_t cc;
	_Atomic uint32_t csts;
	_Atomic bool fatal; /* teardown started */

	pthread_mutex_t lock;				     /* sqs[], error log, changed NS list */
	struct nvmf_tgt_sq *sqs[NVMF_TGT_MAX_IO_QUEUES + 1]; /* by QID */
	uint16_t nr_io_queues; /* granted by Set Features Number of Queues */
	uint16_t io_queue_depth;
	uint16_t max_io_queues; /* grantable I/O queues; 0: tgt->opts.max_io_queues */
	uint16_t kas;		/* Identify KAS (100 ms units) */
	bool accept_kato;	/* Set Features Keep Alive Timer is supported */
	bool pcie;		/* a PCIe controller (pcie.c): no Connect, made at CC.EN */

	/* keep-alive (NVMe Base 2.0c 3.9.4), admin reactor only but for ka_activity */
	_Atomic uint32_t kato_ms; /* read by nvmf_tgt_ctrl_list() */
	struct nvmf_timer ka_timer;
	_Atomic bool ka_activity;
	_Atomic uint64_t ka_count;   /* Keep Alive commands received (admin reactor writes) */
	_Atomic uint64_t ka_last_ns; /* CLOCK_MONOTONIC of the last one, 0 if none */

	/* asynchronous events (NVMe Base 2.0c 5.2), admin reactor only */
	struct nvmf_tgt_req *aer_reqs[NVMF_TGT_AERL + 1];
	unsigned int nr_aer_reqs;
	uint32_t aen_pending[NVMF_TGT_MAX_AEN_PENDING]; /* CQE dw0 values */
	unsigned int nr_aen_pending;
	uint32_t aen_masked;	      /* event types sent and not yet cleared by reading the log */
	_Atomic uint32_t aen_enabled; /* Asynchronous Event Configuration feature */

	/* features */
	_Atomic bool vwc_enabled;
	uint8_t host_behavior[512];
	uint32_t features_temp_thresh;

	/* error information log, under lock; newest first when read */
	struct nvme_error_log_entry err_log[NVMF_TGT_ERR_LOG_ENTRIES];
	unsigned int err_log_next;

	/* changed namespace list, under lock */
	uint32_t changed_ns[NVME_MAX_CHANGED_NAMESPACES];
	unsigned int nr_changed_ns;
};

/**
 * struct nvmf_tgt_sq - one submission/completion queue pair (fabrics queues are pairs)
 * The transport embeds it in its queue object and sets @ops, @reactor, @port, @tgt.
 */
struct nvmf_tgt_sq {
	struct nvmf_tgt *tgt;
	struct nvmf_tgt_port *port;
	struct nvmf_reactor *reactor;
	const struct nvmf_tgt_transport_ops *ops;
	struct nvmf_tgt_ctrl *ctrl; /* NULL until Connect */
	uint16_t qid;
	uint16_t size; /* entries (Connect SQSIZE + 1) */
	uint16_t sqhd;
	bool sqhd_disabled;
	/*
	 * A PCIe queue (vfio-user): no fabrics commands, PRPs or SGLs in host memory fetched by
	 * ops->data_in once the command's transfer length is known, Create/Delete I/O queue
	 * commands through ops->queue_admin.
	 */
	bool pcie;
	uint32_t icd_max; /* in-capsule data bytes this queue accepts */
	/* I/O commands in flight per namespace epoch half (single writer: this reactor) */
	_Atomic uint32_t ns_refs[2];
	char local_traddr[64]; /* our numeric address on this connection ("" if none) */
	struct nvmf_tgt_stats stats;
	bool hdgst, ddgst; /* NVMe/TCP digests negotiated (fault injection looks) */
	/* fault injection (fault.c), SQ's reactor only but for @fault_held */
	struct nvmf_tgt_req *fault_reqs; /* delayed, held and parked requests */
	_Atomic unsigned int fault_held; /* of which held, written under tgt->fault_lock */
	bool fault_quiesced;		 /* nvmf_tgt_sq_quiesce() ran: no more faults */
};

/**
 * struct nvmf_tgt_req_fault - what fault injection (fault.c) did to a request
 * @timer: DELAY: fires on the SQ's reactor to complete the request
 * @next: the SQ's list of delayed, held and parked requests
 * @pprev: the pointer to this request in that list (NULL: not on it)
 * @seq: HOLD: tgt->fault_seq when held (a release covers the holds before it)
 * @id: the rule that acted on the request (0: none)
 * @status: the completion status put off by a delay, hold or park
 * @state: enum nvmf_tgt_fault_state (fault.c)
 * @seen: fault injection is done with this request (never matched again)
 * @drop: transports free the slot without sending the response or C2H data
 * @corrupt: NVMF_TGT_FAULT_CORRUPT_HDGST or _DDGST: the transport corrupts that digest
 */
struct nvmf_tgt_req_fault {
	struct nvmf_timer timer;
	struct nvmf_tgt_req *next;
	struct nvmf_tgt_req **pprev;
	uint64_t seq;
	uint32_t id;
	uint16_t status;
	uint8_t state;
	bool seen;
	bool drop;
	uint8_t corrupt;
};

enum nvmf_tgt_data_dir {
	NVMF_DATA_NONE = 0,
	NVMF_DATA_H2C = 1, /* host to controller: write */
	NVMF_DATA_C2H = 2, /* controller to host: read */
};

/**
 * struct nvmf_tgt_req - one command, in a transport's preallocated slot
 * @cmd: the SQE as received
 * @cqe: the completion, filled by nvmf_tgt_req_complete()
 * @buf: data buffer owned by the slot, @buf_len bytes (>= opts.mdts_bytes)
 * @data_len: bytes the SGL describes (0 when no data)
 * @transfer_len: bytes actually sent to the host for C2H (may be < @data_len)
 * @data_dir: enum nvmf_tgt_data_dir
 * @execute: runs the command once its H2C data (if any) is in @buf
 * @error_loc: byte offset in the SQE of the field at fault (Error Information log)
 * @bdev_end_io: called by nvmf_bdev_complete()
 * @bdev_io: the backend's progress through the operation in flight (backend-owned)
 * @fault: fault injection state (fault.c), reset by nvmf_tgt_req_init()
 * @zero_data_ok: set by a transport that can send read data from a shared zero region: a
 *	backend whose read returns only zeroes may then set @zero_data instead of filling @buf
 * @zero_data: the C2H data of this command is @transfer_len zero bytes, not in @buf; cleared
 *	by nvmf_tgt_req_init()
 */
struct nvmf_tgt_req {
	struct nvme_sqe cmd;
	struct nvme_cqe cqe;
	struct nvmf_tgt_sq *sq;
	struct nvmf_tgt_ns *ns;
	void *buf;
	uint32_t buf_len;
	uint32_t data_len;
	uint32_t transfer_len;
	uint8_t data_dir;
	bool completed;
	uint16_t error_loc;
	uint64_t error_lba;
	void (*execute)(struct nvmf_tgt_req *req);
	void (*bdev_end_io)(struct nvmf_tgt_req *req, int err);
	struct nvmf_uring_cb uring_cb; /* backends that use the reactor's io_uring */
	struct nvmf_bdev_io bdev_io;
	void *cmp_buf; /* Compare: media data is read here (a second @buf_len area) */
	struct nvmf_tgt_req_fault fault;
	uint8_t ns_ref; /* 0, or 1 + the ns_refs[] half this I/O command counts in */
	bool zero_data_ok;
	bool zero_data;
};

/** nvmf_tgt_ns_table() - the current namespace table of @s (see struct nvmf_tgt_ns_table) */
static inline struct nvmf_tgt_ns_table *nvmf_tgt_ns_table(const struct nvmf_tgt_subsys *s)
{
	return atomic_load_explicit(&((struct nvmf_tgt_subsys *)s)->nst, memory_order_acquire);
}

/* single-writer counter update: a load and a release store, no locked read-modify-write */
static inline void nvmf_tgt_ns_ref_add(_Atomic uint32_t *c, int32_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (uint32_t)v,
			      memory_order_release);
}

/*
 * An I/O command enters its namespace grace period before it can look a namespace up (the
 * acquire load of the epoch orders the later table load) and leaves it when it completes.
 */
static inline void nvmf_tgt_req_ns_enter(struct nvmf_tgt_req *req)
{
	uint32_t e = atomic_load_explicit(&req->sq->tgt->ns_epoch, memory_order_acquire) & 1;

	nvmf_tgt_ns_ref_add(&req->sq->ns_refs[e], 1);
	req->ns_ref = (uint8_t)(1 + e);
}

static inline void nvmf_tgt_req_ns_leave(struct nvmf_tgt_req *req)
{
	if (req->ns_ref) {
		nvmf_tgt_ns_ref_add(&req->sq->ns_refs[req->ns_ref - 1], -1);
		req->ns_ref = 0;
	}
}

/**
 * nvmf_bdev_complete() - a backend operation finished; runs req->bdev_end_io
 * @req: request
 * @err: 0, or -errno (mapped to an NVMe status by the caller of the backend)
 */
static inline void nvmf_bdev_complete(struct nvmf_tgt_req *req, int err)
{
	req->bdev_end_io(req, err);
}

/* -------------------------------------------------------------------------------------- */
/* Core functions (core.c) */

/**
 * nvmf_tgt_req_init() - validate a received command and choose how to execute it
 * @req: request with @cmd, @sq, @buf, @buf_len set by the transport
 *
 * Sets @execute, @data_len, @data_dir. On failure the caller completes the request with the
 * returned status (after discarding any in-capsule data).
 * Return: NVME_SC_SUCCESS, or an NVMe status (SGL, opcode, state errors).
 */
uint16_t nvmf_tgt_req_init(struct nvmf_tgt_req *req);

/**
 * nvmf_tgt_req_complete() - finish @req with @status; fills the CQE and hands it to the
 * transport. Called exactly once per request, on the SQ's reactor.
 * @req: request
 * @status: NVMe status (NVME_SC_*, NVME_STATUS_DNR / MORE bits)
 */
void nvmf_tgt_req_complete(struct nvmf_tgt_req *req, uint16_t status);

/**
 * nvmf_tgt_errno_to_status() - the NVMe status for a backend -errno
 * @err: negative errno
 *
 * Return: NVMe status (e.g. -EIO on read -> NVME_SC_READ_ERROR is decided by the caller;
 * this maps -ENOSPC to CAP_EXCEEDED, -EINVAL to INVALID_FIELD, others to INTERNAL).
 */
uint16_t nvmf_tgt_errno_to_status(int err);

/**
 * nvmf_tgt_check_transfer_len() - the SGL must describe exactly @len bytes
 * @req: request
 * @len: bytes the command transfers
 *
 * On a PCIe queue the PRPs/SGL carry no length of their own: @len becomes req->data_len
 * and host-to-controller data is fetched (nvmf_tgt_req_set_data_len()).
 *
 * Return: true if it does; otherwise the request has been completed with SGL Invalid Data.
 */
bool nvmf_tgt_check_transfer_len(struct nvmf_tgt_req *req, uint32_t len);

/**
 * nvmf_tgt_req_set_data_len() - PCIe queues: the command transfers @len bytes; for
 * host-to-controller data, fetch them into req->buf now (ops->data_in)
 * @req: request on a queue with sq->pcie set, from its parse function or handler
 * @len: bytes the command's fields say it transfers
 *
 * Return: NVMe status: success, Invalid Field if @len exceeds the slot buffer, or the
 * transfer's error (Data Transfer Error, PRP Offset Invalid, SGL errors).
 */
uint16_t nvmf_tgt_req_set_data_len(struct nvmf_tgt_req *req, uint32_t len);

/** nvmf_tgt_sq_init() - prepare an SQ embedded in a transport queue (not connected yet) */
void nvmf_tgt_sq_init(struct nvmf_tgt_sq *sq, struct nvmf_tgt *tgt, struct nvmf_tgt_port *port,
		      struct nvmf_reactor *reactor, const struct nvmf_tgt_transport_ops *ops);

/**
 * nvmf_tgt_sq_quiesce() - the transport starts tearing @sq down: release the requests the
 * core holds parked (AERs, and fault injection's delayed, held and dropped ones: they come
 * back through queue_response before this returns), stop the keep-alive timer and, for an
 * admin queue, fail the controller so that its I/O queues go too. Called once, on the SQ's
 * reactor, before the transport waits for its slots.
 */
void nvmf_tgt_sq_quiesce(struct nvmf_tgt_sq *sq);

/**
 * nvmf_tgt_sq_destroy() - the transport has drained @sq: unregister it from its controller
 * and drop the controller reference it held. Called on the SQ's reactor.
 */
void nvmf_tgt_sq_destroy(struct nvmf_tgt_sq *sq);

/* Loop transport queues (transport-loop.c) */

struct nvmf_tgt_loop_sq;

/**
 * struct nvmf_tgt_loop_sq_ops - how the target reaches the host half of a loop queue
 * @response: the core completed @req: its CQE is filled and, for a successful C2H command,
 *	req->transfer_len bytes are in req->buf. Called on the queue's reactor, possibly deep
 *	inside a submission or a backend completion: must not re-enter the core or complete
 *	the host's request synchronously. The slot is the host side's again afterwards.
 * @disconnect: the target tears the queue down (controller failed, target stopping): the
 *	host side must stop the queue (nvmf_tgt_sq_quiesce()), wait until every slot came back
 *	through @response, then nvmf_tgt_loop_sq_destroy(). Called at most once, on the
 *	queue's reactor, never from inside the core's request processing.
 */
struct nvmf_tgt_loop_sq_ops {
	void (*response)(struct nvmf_tgt_loop_sq *lsq, struct nvmf_tgt_req *req);
	void (*disconnect)(struct nvmf_tgt_loop_sq *lsq, const char *why);
};

/**
 * struct nvmf_tgt_loop_sq - the target half of a loop queue, embedded by the host side
 * @sq: the SQ (sq.ops is &nvmf_tgt_loop_ops)
 * @ops: the host side's callbacks
 * @next: every loop SQ of the process, under transport-loop.c's lock (for @stop)
 * @disconnected: @ops->disconnect was called (queue's reactor only)
 */
struct nvmf_tgt_loop_sq {
	struct nvmf_tgt_sq sq;
	const struct nvmf_tgt_loop_sq_ops *ops;
	struct nvmf_tgt_loop_sq *next;
	bool disconnected;
};

/**
 * nvmf_tgt_loop_sq_init() - set up @lsq as a new queue of loop port @port (not connected
 * until a fabrics Connect on it succeeds). On success pairs with nvmf_tgt_loop_sq_destroy().
 * @lsq: queue
 * @tgt: target
 * @port: a port of @tgt with trtype NVMF_TRTYPE_LOOP
 * @reactor: the reactor every request of the queue executes and completes on (the host
 *	controller's); the target's own reactors are not involved
 * @ops: the host side's callbacks
 *
 * A loop port is open from its creation (a target need not be started to serve loop hosts),
 * closed by nvmf_tgt_stop() and open again after nvmf_tgt_start().
 * Return: 0, or -ECONNREFUSED if @port is closed.
 */
int nvmf_tgt_loop_sq_init(struct nvmf_tgt_loop_sq *lsq, struct nvmf_tgt *tgt,
			  struct nvmf_tgt_port *port, struct nvmf_reactor *reactor,
			  const struct nvmf_tgt_loop_sq_ops *ops);

/**
 * nvmf_tgt_loop_sq_destroy() - the host side drained @lsq (nvmf_tgt_sq_quiesce() done and
 * every slot back through ops->response): forget it and nvmf_tgt_sq_destroy() it. On the
 * queue's reactor.
 * @lsq: queue
 */
void nvmf_tgt_loop_sq_destroy(struct nvmf_tgt_loop_sq *lsq);

/** nvmf_tgt_pick_reactor() - round-robin reactor for a new connection */
struct nvmf_reactor *nvmf_tgt_pick_reactor(struct nvmf_tgt *tgt);

/** nvmf_tgt_find_subsys() - subsystem by NQN (the discovery NQN included), or NULL */
struct nvmf_tgt_subsys *nvmf_tgt_find_subsys(struct nvmf_tgt *tgt, const char *nqn);

/** nvmf_tgt_port_has_subsys() - is @subsys exported on @port (discovery: always) */
bool nvmf_tgt_port_has_subsys(const struct nvmf_tgt_port *port,
			      const struct nvmf_tgt_subsys *subsys);

/** nvmf_tgt_host_allowed() - may @hostnqn connect to @subsys */
bool nvmf_tgt_host_allowed(const struct nvmf_tgt_subsys *subsys, const char *hostnqn);

/** nvmf_tgt_find_ns() - active namespace by NSID, or NULL */
struct nvmf_tgt_ns *nvmf_tgt_find_ns(const struct nvmf_tgt_subsys *subsys, uint32_t nsid);

/** nvmf_tgt_ns_lookup() - namespace by NSID, enabled or not, or NULL */
struct nvmf_tgt_ns *nvmf_tgt_ns_lookup(const struct nvmf_tgt_subsys *subsys, uint32_t nsid);

/** nvmf_tgt_find_port() - port by port ID, or NULL (caller holds cfg_lock or ctl_lock) */
struct nvmf_tgt_port *nvmf_tgt_find_port(struct nvmf_tgt *tgt, uint16_t portid);

/** nvmf_tgt_ns_free() - close a namespace's backend and free it */
void nvmf_tgt_ns_free(struct nvmf_tgt_ns *ns);

/** nvmf_tgt_subsys_free() - free a subsystem that has no controller left, and its namespaces */
void nvmf_tgt_subsys_free(struct nvmf_tgt_subsys *subsys);

/* Run-time changes (reconfig.c) */

/**
 * nvmf_tgt_publish_ns() - make @ns (opened, not yet visible) namespace ns->nsid of @subsys and
 * tell the connected controllers (Namespace Attribute Changed)
 * Return: 0, -EEXIST, -ENOMEM.
 */
int nvmf_tgt_publish_ns(struct nvmf_tgt_subsys *subsys, struct nvmf_tgt_ns *ns);

/** nvmf_tgt_sync_reactors() - see reconfig.c; Return: 0 or -errno */
int nvmf_tgt_sync_reactors(struct nvmf_tgt *tgt, struct nvmf_tgt_subsys *subsys);

/** nvmf_tgt_disc_changed() - bump GENCTR and send Discovery Log Page Change events */
void nvmf_tgt_disc_changed(struct nvmf_tgt *tgt);

/**
 * nvmf_tgt_ana_changed() - raise ANA Change (Notice 03h, log 0Ch; NVMe Base 2.0c 5.2) on
 * every live controller that came in through @port, of any subsystem (@port set), or on
 * every live controller of @subsys (@subsys set). The admin reactor applies the Asynchronous
 * Event Configuration and the masking. Callable from any thread; takes cfg_lock (read) when
 * @port is set.
 * @tgt: target
 * @port: port, or NULL
 * @subsys: subsystem, or NULL
 */
void nvmf_tgt_ana_changed(struct nvmf_tgt *tgt, const struct nvmf_tgt_port *port,
			  struct nvmf_tgt_subsys *subsys);

/** nvmf_tgt_retired_free_all() - free what reconfig.c kept until exit (target stopped) */
void nvmf_tgt_retired_free_all(struct nvmf_tgt *tgt);

/* Controller (ctrl.c) */

/**
 * nvmf_tgt_ctrl_alloc() - a new controller for an admin queue Connect
 * @subsys: subsystem
 * @port: port the host came in on
 * @sq: the admin SQ (on the calling reactor)
 * @hostnqn: host NQN (NUL-terminated)
 * @hostid: host identifier, 16 bytes
 * @kato_ms: Keep Alive Timeout from Connect, ms (0 = none; discovery gets 120 s)
 * @out: the controller, holding one reference for @sq
 *
 * Return: NVMe status: success, NVME_SC_CONNECT_CTRL_BUSY when no controller ID is free,
 * NVME_SC_INTERNAL on allocation failure.
 */
uint16_t nvmf_tgt_ctrl_alloc(struct nvmf_tgt_subsys *subsys, struct nvmf_tgt_port *port,
			     struct nvmf_tgt_sq *sq, const char *hostnqn, const uint8_t *hostid,
			     uint32_t kato_ms, struct nvmf_tgt_ctrl **out);

/**
 * nvmf_tgt_ctrl_find_get() - the controller @cntlid of @subsys with a new reference
 * Return: the controller or NULL.
 */
struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_find_get(struct nvmf_tgt_subsys *subsys, uint16_t cntlid);

/** nvmf_tgt_ctrl_get() - take a reference */
void nvmf_tgt_ctrl_get(struct nvmf_tgt_ctrl *ctrl);
/** nvmf_tgt_ctrl_put() - drop a reference; the last one unlinks and frees the controller */
void nvmf_tgt_ctrl_put(struct nvmf_tgt_ctrl *ctrl);

/**
 * nvmf_tgt_ctrl_local_sq() - queue @qid of @ctrl, if it is connected on the calling reactor
 * @ctrl: controller (the caller holds a reference)
 * @qid: queue ID, 0..NVMF_TGT_MAX_IO_QUEUES
 *
 * For work sent to an SQ's reactor: an SQ is only freed on its own reactor, so one found
 * here stays valid until the caller returns to the loop. Takes and drops ctrl->lock.
 * Return: the SQ, or NULL if it went away (or moved) since the work was sent.
 */
struct nvmf_tgt_sq *nvmf_tgt_ctrl_local_sq(struct nvmf_tgt_ctrl *ctrl, uint16_t qid);

/**
 * nvmf_tgt_ctrl_fatal() - keep-alive expiry, admin queue loss or a transport error: set
 * CSTS.CFS and disconnect every queue of the controller (each on its own reactor). Callable
 * from any reactor; idempotent.
 */
void nvmf_tgt_ctrl_fatal(struct nvmf_tgt_ctrl *ctrl, const char *why);

/**
 * nvmf_tgt_ctrl_disconnect_queue() - disconnect queue @qid of @ctrl alone, on its own reactor
 * (a message: callable from inside request processing, and from any thread). Losing the
 * admin queue fails the controller (nvmf_tgt_sq_quiesce()). Nothing happens if @qid is not
 * connected.
 * @ctrl: controller
 * @qid: queue ID
 */
void nvmf_tgt_ctrl_disconnect_queue(struct nvmf_tgt_ctrl *ctrl, uint16_t qid);

/** nvmf_tgt_ctrl_ka_start() - arm the keep-alive timer (on the admin queue's reactor) */
void nvmf_tgt_ctrl_ka_start(struct nvmf_tgt_ctrl *ctrl);

/** nvmf_tgt_ctrl_ka_activity() - note a command on any queue (traffic-based keep-alive) */
static inline void nvmf_tgt_ctrl_ka_activity(struct nvmf_tgt_ctrl *ctrl)
{
	/* read first so that busy I/O queues do not bounce the cache line */
	if (!atomic_load_explicit(&ctrl->ka_activity, memory_order_relaxed))
		atomic_store_explicit(&ctrl->ka_activity, true, memory_order_relaxed);
}

/**
 * nvmf_tgt_ctrl_add_error() - record a failed command in the Error Information log
 * @req: the failed request (after its CQE is filled)
 */
void nvmf_tgt_ctrl_add_error(struct nvmf_tgt_req *req);

/**
 * nvmf_tgt_ctrl_aen() - queue an asynchronous event for @ctrl; callable from any thread
 * @ctrl: controller (a reference is taken while the message is in flight)
 * @type: NVME_AER_TYPE_*
 * @info: NVME_AER_NOTICE_* / info field
 * @lid: log page that clears it
 */
void nvmf_tgt_ctrl_aen(struct nvmf_tgt_ctrl *ctrl, uint8_t type, uint8_t info, uint8_t lid);

/** nvmf_tgt_ctrl_aen_clear() - the host read log page @lid (without RAE): unmask its type */
void nvmf_tgt_ctrl_aen_clear(struct nvmf_tgt_ctrl *ctrl, uint8_t lid);

/** nvmf_tgt_ctrl_abort_aers() - complete queued AERs with Abort SQ Deleted (teardown) */
void nvmf_tgt_ctrl_abort_aers(struct nvmf_tgt_ctrl *ctrl);

/** nvmf_tgt_ctrl_stats() - I/O counters of every SQ of @ctrl's subsystem, live and gone */
void nvmf_tgt_subsys_stats(struct nvmf_tgt_subsys *subsys, uint64_t *read_bytes,
			   uint64_t *write_bytes, uint64_t *read_cmds, uint64_t *write_cmds);

/* Command sets: parse functions pick req->execute and set req->data_len checks */
uint16_t nvmf_tgt_parse_fabrics_cmd(struct nvmf_tgt_req *req);	 /* fabrics.c */
uint16_t nvmf_tgt_parse_admin_cmd(struct nvmf_tgt_req *req);	 /* admin.c */
uint16_t nvmf_tgt_parse_discovery_cmd(struct nvmf_tgt_req *req); /* discovery.c */
uint16_t nvmf_tgt_parse_io_cmd(struct nvmf_tgt_req *req);	 /* io.c */

/**
 * nvmf_tgt_discovery_log() - build the discovery log page for a host on @port
 * @port: the port the discovery controller is connected through
 * @hostnqn: the host's NQN (subsystems it may not use are left out)
 * @local_traddr: our numeric address on the host's connection: reported instead of a
 *	wildcard listen address of the same family (NULL or "" for none)
 * @buf: output
 * @len: bytes of @buf
 *
 * Return: total size of the log page in bytes (may exceed @len; @buf holds the first @len).
 */
size_t nvmf_tgt_discovery_log(struct nvmf_tgt_port *port, const char *hostnqn,
			      const char *local_traddr, void *buf, size_t len);

/** nvmf_tgt_effects() - Commands Supported and Effects entry for an opcode (admin or I/O) */
uint32_t nvmf_tgt_admin_effects(uint8_t opcode);
uint32_t nvmf_tgt_io_effects(uint8_t opcode);

/** nvmf_tgt_cap() - the CAP property for a controller of @tgt */
uint64_t nvmf_tgt_cap(const struct nvmf_tgt *tgt, const struct nvmf_tgt_ctrl *ctrl);

/* -------------------------------------------------------------------------------------- */
/* Fault injection (fault.c; the public API is at the end of nvmf/target.h) */

#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/** nvmf_tgt_fault_init() - empty rule list (nvmf_tgt_create()) */
void nvmf_tgt_fault_init(struct nvmf_tgt *tgt);
/** nvmf_tgt_fault_fini() - free the rules (nvmf_tgt_destroy(), every queue gone) */
void nvmf_tgt_fault_fini(struct nvmf_tgt *tgt);

/** nvmf_tgt_req_fault_reset() - a new command: no fault injected yet (nvmf_tgt_req_init()) */
static inline void nvmf_tgt_req_fault_reset(struct nvmf_tgt_req *req)
{
	req->fault.seen = false;
	req->fault.drop = false;
	req->fault.corrupt = 0;
}

/**
 * nvmf_tgt_fault_req_init() - a command parsed successfully while rules exist: a STATUS rule
 * may replace req->execute by a completion with its status. On the SQ's reactor.
 * @req: request
 */
void nvmf_tgt_fault_req_init(struct nvmf_tgt_req *req);

/**
 * nvmf_tgt_fault_complete() - @req completes with @status while rules exist: apply the
 * first matching rule (once per request). On the SQ's reactor.
 * @req: request
 * @status: its NVMe status
 *
 * Return: true if fault injection took the request over (delayed, held, parked: it completes
 * later through nvmf_tgt_req_complete() again); false to complete it now, possibly with
 * req->fault.drop or req->fault.corrupt set for the transport.
 */
bool nvmf_tgt_fault_complete(struct nvmf_tgt_req *req, uint16_t status);

/**
 * nvmf_tgt_fault_quiesce() - @sq is going: complete every request fault injection holds on
 * it now (delays cut short, holds released) and inject nothing more on it. From
 * nvmf_tgt_sq_quiesce(), on the SQ's reactor.
 * @sq: submission queue
 */
void nvmf_tgt_fault_quiesce(struct nvmf_tgt_sq *sq);

#endif
