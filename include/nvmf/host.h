/* SPDX-License-Identifier: MIT */
/*
 * libnvmf host (initiator) API: connect to an NVMe over Fabrics controller (NVMe/TCP, or an
 * embedded target through the in-process loop transport) with the Linux host's semantics,
 * or to an NVMe PCIe controller emulated by a vfio-user server (trtype "vfio-user"), driven
 * as the Linux PCIe driver drives one.
 *
 * Threads. A controller is driven by one reactor (event loop). With
 * nvmf_host_opts.threaded the library runs it in a thread of its own and every function
 * here may be called from any thread; otherwise the caller drives it with
 * nvmf_host_poll() and calls everything from that one thread. Completion callbacks run on
 * the reactor's thread.
 *
 * Return values. Functions return 0 on success, a negative errno for local and transport
 * failures, and a positive NVMe status (SCT/SC with the DNR/More bits, as NVME_SC_* in
 * nvmf/spec.h) when the controller completed the command with an error.
 *
 * Controller states (Linux drivers/nvme/host/core.c, nvme_change_ctrl_state()):
 *
 *   NEW -> CONNECTING -> LIVE            first association
 *   LIVE -> RESETTING -> CONNECTING      reset, keep-alive loss, transport error
 *   CONNECTING -> CONNECTING             reconnect attempt failed, retry after
 *                                        reconnect_delay until ctrl_loss_tmo
 *   CONNECTING -> LIVE                   reconnected
 *   CONNECTING -> DEAD                   ctrl_loss_tmo expired (or a DNR Connect failure)
 *   any -> DELETING -> DEAD              nvmf_host_ctrl_delete()
 *
 * While RESETTING/CONNECTING, new I/O waits for the controller to come back (up to
 * fast_io_fail_tmo), then fails with -ENOLINK; requests in flight when the association
 * broke are taken back once the transport has drained them (never while the target could
 * still complete them) and sent again on the next association, as Linux requeues what it
 * cancels with Host Aborted Command: at most 5 times, then they fail with -ENOLINK. Either
 * way each one completes exactly once; nvmf_host_ctrl_delete() fails them with -ENOLINK.
 */
#ifndef NVMF_HOST_H
#define NVMF_HOST_H

#include "nvmf/spec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvmf_host_ctrl;
struct nvmf_tgt;

enum nvmf_host_ctrl_state {
	NVMF_CTRL_NEW = 0,
	NVMF_CTRL_CONNECTING,
	NVMF_CTRL_LIVE,
	NVMF_CTRL_RESETTING,
	NVMF_CTRL_DELETING,
	NVMF_CTRL_DEAD,
};

/** nvmf_host_ctrl_state_name() - "new", "connecting", "live", ... as in Linux sysfs */
const char *nvmf_host_ctrl_state_name(enum nvmf_host_ctrl_state state);

/**
 * typedef nvmf_host_cb - completion of an asynchronous command
 * @arg: the caller's argument
 * @status: 0, a positive NVMe status, or a negative errno (-ENOLINK: the controller
 *	went away; -ETIMEDOUT: the command timed out and was aborted; or the refusal of a
 *	command handed over from another thread, see nvmf_host_submit_admin())
 * @cqe: the completion queue entry (result in cqe->result), or NULL for errno failures
 */
typedef void (*nvmf_host_cb)(void *arg, int status, const struct nvme_cqe *cqe);

/**
 * struct nvmf_host_opts - how to reach and run a controller (zero means the default)
 * @trtype: "tcp" (default), "loop", or "vfio-user" (a PCIe controller behind a vfio-user
 *	server's UNIX socket, vfio-user.rst protocol 0.1: not fabrics, so no Connect, no
 *	discovery, registers instead of properties; read and write data is copied through
 *	per-command bounce buffers the server can map, and a command may carry at most
 *	min(MDTS, 1 MiB) bytes, more is refused with -EINVAL)
 * @traddr: TCP address (numeric IPv4/IPv6 or a host name); for "vfio-user" the path of the
 *	server's socket
 * @trsvcid: TCP port (default "4420"); unused by "vfio-user"
 * @loop_tgt: the embedded target for "loop" (started or not)
 * @subnqn: subsystem NQN (default the discovery NQN); unused by "vfio-user", whose
 *	controller names its subsystem in Identify
 * @hostnqn: host NQN (default /etc/nvme/hostnqn, else one derived from the host ID)
 * @hostid: host identifier, 16 bytes (default /etc/nvme/hostid, else random)
 * @hdgst: request header digests
 * @ddgst: request data digests
 * @nr_io_queues: I/O queues to ask for (default 1; 0 for a discovery controller)
 * @queue_size: entries per I/O queue (default 128; clamped to CAP.MQES + 1 and MAXCMD)
 * @kato_ms: Keep Alive Timeout, ms (0: the default, 5000 as Linux NVME_DEFAULT_KATO, or
 *	none for a discovery controller; negative: no keep-alive). "vfio-user": none unless
 *	> 0, as the Linux PCIe driver; then, if the controller supports it (Identify KAS != 0),
 *	the library sets Feature KATO (NVMe Base 2.0c 5.27.1.12) and sends Keep Alive, else it
 *	logs that there is none
 * @reconnect_delay_s: seconds between reconnect attempts (Linux default 10)
 * @ctrl_loss_tmo_s: seconds to keep reconnecting before DEAD (Linux default 600;
 *	negative = forever)
 * @fast_io_fail_tmo_s: seconds queued I/O waits for a reconnect before failing (Linux
 *	default -1: wait until ctrl_loss_tmo)
 * @admin_timeout_ms: admin command timeout (Linux default 60000)
 * @io_timeout_ms: I/O command timeout (Linux default 30000)
 * @threaded: drive the controller from a library thread
 * @state_cb: called on every state change (on the reactor thread)
 * @aen_cb: called for every asynchronous event (CQE dw0), after the library acted on it
 * @cb_arg: argument of @state_cb and @aen_cb
 */
struct nvmf_host_opts {
	const char *trtype;
	const char *traddr;
	const char *trsvcid;
	struct nvmf_tgt *loop_tgt;
	const char *subnqn;
	const char *hostnqn;
	const uint8_t *hostid;
	bool hdgst;
	bool ddgst;
	unsigned int nr_io_queues;
	unsigned int queue_size;
	int kato_ms;
	int reconnect_delay_s;
	int ctrl_loss_tmo_s;
	int fast_io_fail_tmo_s;
	unsigned int admin_timeout_ms;
	unsigned int io_timeout_ms;
	bool threaded;
	void (*state_cb)(struct nvmf_host_ctrl *ctrl, enum nvmf_host_ctrl_state old,
			 enum nvmf_host_ctrl_state state, void *arg);
	void (*aen_cb)(struct nvmf_host_ctrl *ctrl, uint32_t dw0, void *arg);
	void *cb_arg;
};

/**
 * nvmf_host_ctrl_connect() - create a controller and bring it to LIVE
 * @opts: options (copied)
 * @out: the controller
 *
 * Connects the admin queue, enables the controller (CC.EN, waits CSTS.RDY within CAP.TO),
 * identifies it, negotiates the I/O queues (Set Features Number of Queues, NVMe Base 2.0c
 * 5.27.1.5), connects them, scans namespaces, starts keep-alive and posts AERs.
 * "vfio-user" instead resets the controller (CC.EN 0, CSTS.RDY 0), programs AQA/ASQ/ACQ
 * and CC, waits CSTS.RDY within CAP.TO, and creates each I/O queue pair with Create I/O
 * CQ (interrupts on, one MSI-X vector per queue) and SQ (NVMe PCIe Transport 1.0c).
 * Return: 0, -errno (e.g. -ECONNREFUSED) or a positive NVMe status from Connect.
 */
int nvmf_host_ctrl_connect(const struct nvmf_host_opts *opts, struct nvmf_host_ctrl **out);

/**
 * nvmf_host_ctrl_delete() - shut the controller down (CC.SHN), disconnect and free it
 * @ctrl: controller; pending commands complete with -ENOLINK before this returns
 *
 * "vfio-user": idle I/O queues are deleted first (Delete I/O SQ, then CQ), and the wait for
 * CSTS.SHST complete is bounded by max(CAP.TO, 5 s), as Linux's shutdown_timeout.
 * A path controller of a host subsystem is removed from it, as by
 * nvmf_host_subsys_remove_path() (logged and left alone if that refuses).
 */
void nvmf_host_ctrl_delete(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_ctrl_reset() - start a controller reset (LIVE -> RESETTING -> CONNECTING -> LIVE)
 * Return: 0, or -EBUSY if the controller is not LIVE.
 */
int nvmf_host_ctrl_reset(struct nvmf_host_ctrl *ctrl);

/** nvmf_host_ctrl_get_state() - the current state */
enum nvmf_host_ctrl_state nvmf_host_ctrl_get_state(struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_poll() - drive a non-threaded controller: run completions, timers, keep-alive
 * @ctrl: controller created without @threaded
 * @timeout_ms: how long to wait for an event when there is nothing to do (0: do not wait)
 * Return: 0 or -errno.
 */
int nvmf_host_poll(struct nvmf_host_ctrl *ctrl, int timeout_ms);

/** nvmf_host_ctrl_id() - the Identify Controller data of the current association */
const struct nvme_id_ctrl *nvmf_host_ctrl_id(struct nvmf_host_ctrl *ctrl);
/** nvmf_host_ctrl_cntlid() - the controller ID of the current association */
uint16_t nvmf_host_ctrl_cntlid(struct nvmf_host_ctrl *ctrl);
/** nvmf_host_ctrl_nr_io_queues() - I/O queues of the current association (QIDs 1..n) */
unsigned int nvmf_host_ctrl_nr_io_queues(struct nvmf_host_ctrl *ctrl);
/**
 * nvmf_host_ctrl_io_queue_size() - entries of each I/O queue of the current association
 * @ctrl: controller
 *
 * opts.queue_size capped by CAP.MQES + 1 and MAXCMD, as the Linux host does. At most this
 * minus one commands are in flight per queue: one tag stays reserved for Connect ("vfio-user":
 * all of them, each hardware queue has one entry more, within CAP.MQES + 1).
 * Return: entries (0 before the I/O queues exist).
 */
unsigned int nvmf_host_ctrl_io_queue_size(struct nvmf_host_ctrl *ctrl);
/** nvmf_host_ctrl_cap() - the CAP property */
uint64_t nvmf_host_ctrl_cap(struct nvmf_host_ctrl *ctrl);

/* -------------------------------------------------------------------------------------- */
/* Statistics. Counted on the controller's reactor thread (single writer, no locked
 * read-modify-write on the I/O path), readable from any thread. */

/**
 * struct nvmf_host_ctrl_stats - what one controller did since nvmf_host_ctrl_connect(),
 * cumulative across resets and reconnects. All fields are counts of events.
 * @submitted: user commands accepted: nvmf_host_submit_admin()/_io() calls that returned
 *	0, and the commands the synchronous helpers and nvmf_host_passthru() submit (not the
 *	library's own: Connect, Property Get/Set, the setup's Identify, Keep Alive, AERs...).
 *	Each one finishes exactly once, counted in @completed. A command handed over from
 *	another thread is counted when the reactor takes it. On a path of a host subsystem,
 *	every attempt of a namespace head's I/O sent on this controller counts too.
 * @completed: user commands finished: their callback was invoked (counted just before)
 * @completed_error: of @completed, those that finished with a non-zero status (a positive
 *	NVMe status or a negative errno)
 * @outstanding: @submitted - @completed when the counters were read: commands in flight
 *	on a queue or parked while the controller reconnects
 * @retried: times a user command was requeued because its association broke under it, to
 *	be sent again on the next one (a command counts once per reset it lives through, at
 *	most 5 times, as Linux nvme_max_retries)
 * @stray_cqes: completions the library dropped because no command was in flight with their
 *	CID (NVMe/TCP CapsuleResp for an unknown CID, which also ends the connection as a
 *	protocol error, or a second completion of one command by a transport). Always 0 with
 *	a correct controller and transport.
 * @timeouts: commands (user or internal) that exceeded their timeout
 * @keep_alives: Keep Alive commands sent (NVMe Base 2.0c 5.27.1.12)
 * @keep_alive_failures: Keep Alive commands that timed out or failed with an NVMe status
 *	(not those cut short by a reset that had another cause)
 * @resets: LIVE -> RESETTING transitions: nvmf_host_ctrl_reset(), a keep-alive or command
 *	timeout, a transport error
 * @reconnects: associations established again after a reset (CONNECTING -> LIVE; the
 *	first association is not counted)
 * @reconnect_failures: association attempts after a reset that failed (each one followed
 *	by another attempt after reconnect_delay_s, until ctrl_loss_tmo_s)
 */
struct nvmf_host_ctrl_stats {
	uint64_t submitted;
	uint64_t completed;
	uint64_t completed_error;
	uint64_t outstanding;
	uint64_t retried;
	uint64_t stray_cqes;
	uint64_t timeouts;
	uint64_t keep_alives;
	uint64_t keep_alive_failures;
	uint64_t resets;
	uint64_t reconnects;
	uint64_t reconnect_failures;
};

/**
 * nvmf_host_ctrl_get_stats() - read the counters of @ctrl
 * @ctrl: controller
 * @st: filled with the counters
 *
 * Callable from any thread, completion callbacks and the state callback included (there
 * the values are exact; from another thread each counter is read on its own, so they may
 * be a few events apart). In the state callback for DEAD after nvmf_host_ctrl_delete()
 * they are final: every user command has completed by then.
 * Return: 0, or -EINVAL if @ctrl or @st is NULL.
 */
int nvmf_host_ctrl_get_stats(struct nvmf_host_ctrl *ctrl, struct nvmf_host_ctrl_stats *st);

/**
 * struct nvmf_host_objects - library objects alive in this process right now, all
 * controllers together (all 0 once every controller was deleted)
 * @ctrls: controllers (nvmf_host_ctrl_connect() to nvmf_host_ctrl_delete())
 * @queues: admin and I/O queues with their tag sets
 * @reqs: request slots of those tag sets (one per tag: the queues' depths summed)
 * @transport_queues: transport per-queue states (a TCP connection, a loop queue and its
 *	target queue); a loop queue outlives its host queue until the target gave back every
 *	command it held (seed 000)
 * @subsystems: multipath host subsystems (nvmf_host_subsys_create() to _destroy())
 * @ns_heads: namespace heads of those subsystems, pending removals included
 */
struct nvmf_host_objects {
	uint64_t ctrls;
	uint64_t queues;
	uint64_t reqs;
	uint64_t transport_queues;
	uint64_t subsystems;
	uint64_t ns_heads;
};

/**
 * nvmf_host_get_objects() - count the library's live objects (for leak checks)
 * @o: filled with the counts; callable from any thread
 */
void nvmf_host_get_objects(struct nvmf_host_objects *o);

/**
 * struct nvmf_host_ns_info - what the library knows of an active namespace
 * @nsid: namespace ID
 * @nsze: size in logical blocks
 * @lba_shift: log2 of the LBA data size in bytes
 * @anagrpid: ANA group (0 if the controller does not report ANA)
 * @ana_state: enum nvme_ana_state from the last ANA log read (0 if none)
 */
struct nvmf_host_ns_info {
	uint32_t nsid;
	uint64_t nsze;
	uint8_t lba_shift;
	uint32_t anagrpid;
	uint8_t ana_state;
};

/**
 * nvmf_host_ns_list() - the active namespaces, as of the last scan (ascending NSIDs)
 * @ctrl: controller
 * @info: output array
 * @max: entries in @info
 * Return: the number of active namespaces (may exceed @max).
 */
size_t nvmf_host_ns_list(struct nvmf_host_ctrl *ctrl, struct nvmf_host_ns_info *info, size_t max);

/* -------------------------------------------------------------------------------------- */
/* Asynchronous commands. @buf stays the caller's and must remain valid until @cb runs;
 * the library sends from and receives into it in place. */

/**
 * nvmf_host_submit_admin() - queue an admin command
 * @ctrl: controller
 * @cmd: the SQE; CID, PSDT and the data pointer are filled in by the library
 * @buf: data buffer (direction from the opcode's low bits), or NULL
 * @len: bytes of @buf
 * @cb: completion callback
 * @arg: its argument
 * From a thread other than the controller's reactor (a threaded controller), the command
 * travels to the reactor as a message: 0 then means handed over, and a refusal there
 * (-EAGAIN, -ENOLINK, -EINVAL) is reported to @cb instead, still exactly once.
 * Return: 0 if queued (@cb will run exactly once), or -errno (-EAGAIN: no free tag;
 * -ENOLINK: the controller is being deleted or is dead, or fast_io_fail_tmo expired;
 * -EOPNOTSUPP: refused by the passthrough filter, see nvmf_host_passthru(), nothing sent).
 */
int nvmf_host_submit_admin(struct nvmf_host_ctrl *ctrl, const struct nvme_sqe *cmd, void *buf,
			   uint32_t len, nvmf_host_cb cb, void *arg);

/**
 * nvmf_host_submit_io() - queue an I/O command on queue @qid (1..nr_io_queues)
 * Same contract as nvmf_host_submit_admin().
 */
int nvmf_host_submit_io(struct nvmf_host_ctrl *ctrl, uint16_t qid, const struct nvme_sqe *cmd,
			void *buf, uint32_t len, nvmf_host_cb cb, void *arg);

/* -------------------------------------------------------------------------------------- */
/* Synchronous helpers: submit, then wait (polling the controller when it is not threaded).
 * Return: 0, a positive NVMe status, or -errno. */

int nvmf_host_identify(struct nvmf_host_ctrl *ctrl, uint8_t cns, uint32_t nsid, uint8_t csi,
		       void *buf /* 4096 bytes */);
int nvmf_host_get_log(struct nvmf_host_ctrl *ctrl, uint8_t lid, uint32_t nsid, uint8_t lsp,
		      uint64_t lpo_bytes, bool rae, void *buf, uint32_t len);
int nvmf_host_get_feature(struct nvmf_host_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint8_t sel,
			  uint32_t cdw11, void *buf, uint32_t len, uint32_t *result);
int nvmf_host_set_feature(struct nvmf_host_ctrl *ctrl, uint8_t fid, uint32_t nsid, uint32_t cdw11,
			  bool save, void *buf, uint32_t len, uint32_t *result);
/* @nlb: number of logical blocks (1-based, not the wire's 0's based value) */
int nvmf_host_read(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		   void *buf);
int nvmf_host_write(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		    const void *buf, bool fua);
int nvmf_host_compare(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
		      const void *buf);
int nvmf_host_flush(struct nvmf_host_ctrl *ctrl, uint32_t nsid);
int nvmf_host_write_zeroes(struct nvmf_host_ctrl *ctrl, uint32_t nsid, uint64_t slba, uint32_t nlb,
			   bool deallocate);
int nvmf_host_dsm(struct nvmf_host_ctrl *ctrl, uint32_t nsid, const struct nvme_dsm_range *ranges,
		  unsigned int nr, uint32_t attributes);

/**
 * nvmf_host_passthru() - a raw admin or I/O command, as NVME_IOCTL_ADMIN_CMD / IO_CMD
 * @ctrl: controller
 * @admin: admin queue (else the first I/O queue)
 * @cmd: the SQE; CID/PSDT/data pointer are the library's; cdw10.. are sent as given
 * @buf: data, or NULL
 * @len: bytes of @buf
 * @timeout_ms: 0 for the default of the queue
 * @result: CQE dw0, may be NULL
 *
 * Honours the Commands Supported and Effects log (a command with LBCC/NCC/NIC/CCC effects
 * triggers a namespace rescan afterwards) and the passthrough filter (seed 003): Set
 * Features Keep Alive Timer (FID 0x0f) is refused with -EOPNOTSUPP on a non-fabrics
 * controller, without being sent (there keep-alive is the library's own business); the
 * filter guards every way a user command comes in: this function, nvmf_host_submit_admin()
 * and nvmf_host_set_feature(). On fabrics it is sent and, on success, the host's KATO
 * becomes ceil(cdw11 / 1000) s, as the Linux host's DIV_ROUND_UP(cdw11, 1000), with
 * keep-alive re-armed at that pace (every KATO / 2, KATO / 4 with TBKAS) and kept for
 * later Connects. Anything else, unknown or unsupported Feature Identifiers included, is
 * sent as given and the controller's answer returned (e.g. Invalid Field in Command with
 * DNR, 0x4002, for a Feature Identifier the controller does not support).
 * Return: 0, a positive NVMe status, or -errno (-EOPNOTSUPP: refused by the filter).
 */
int nvmf_host_passthru(struct nvmf_host_ctrl *ctrl, bool admin, const struct nvme_sqe *cmd,
		       void *buf, uint32_t len, unsigned int timeout_ms, uint32_t *result);

/* -------------------------------------------------------------------------------------- */
/*
 * Multipath (Linux drivers/nvme/host/multipath.c, NVMe Base 2.0c 8.1 ANA). A host
 * subsystem groups the controllers ("paths") of one NVM subsystem; the same namespace seen
 * through several of them (same NSID and the same NGUID, EUI-64 or UUID, whichever the
 * controllers report) is one namespace head, and I/O to a head goes to one path chosen by
 * the I/O policy: ANA optimized paths first, non-optimized next, inaccessible,
 * persistent-loss and change never, nor a path whose controller is not LIVE or whose ANA
 * state is being re-read after an ANA error.
 *
 * Threads. Every path controller of a subsystem runs on the subsystem's one reactor. With
 * nvmf_host_subsys_opts.threaded the library runs it in a thread of its own and every
 * function here may be called from any thread; otherwise the caller drives it with
 * nvmf_host_subsys_poll() and calls everything from that one thread. The path
 * controllers' own functions (nvmf_host_ctrl_*, nvmf_host_submit_*, synchronous helpers)
 * work on them as on any controller, from the same thread(s). Callbacks (completion,
 * state_cb, aen_cb) may submit I/O, but may not wait: adding or removing a path, the
 * synchronous helpers and nvmf_host_subsys_poll() return -EDEADLK there, and
 * nvmf_host_subsys_destroy() is refused (logged).
 *
 * Failover (nvme_failover_req()). An I/O that fails on a path with a path error (-ENOLINK,
 * -ETIMEDOUT, or an NVMe status of Status Code Type 3h, Path Related, without DNR: ANA
 * Inaccessible / Persistent Loss / Transition, Host Path Error, Host Aborted Command...)
 * goes to the head's requeue list and is sent again on another path. An ANA status also
 * marks that path's namespace ANA-pending and re-reads that controller's ANA log; so does
 * an ANA Change asynchronous event. A path in ANA state change for longer than twice the
 * controller's ANATT (seconds; Linux doubles it for the slack of event delivery) resets
 * that controller, as Linux's nvme_anatt_timeout(); the time runs from the first ANA log
 * read that shows a group in change. A head I/O fails over at most 16 times, then completes
 * with the status of its last attempt: a target that answers every attempt with a path
 * error cannot keep it going round.
 * A path controller does not park or retry head I/O itself while it reconnects: the head
 * does. I/O waits on the requeue list while no path is usable but a path controller is
 * LIVE, RESETTING or CONNECTING; it is resent when a path becomes usable (controller LIVE,
 * ANA log read, path added); meanwhile the ANA logs of the LIVE paths it waits for are read
 * again every second (Linux relies on the ANA Change event alone). With no such controller
 * it fails with -ENOLINK, unless removal is pending or delayed_removal_secs is not 0 (Linux
 * queue_if_no_path: the I/O waits for a path or for the head's removal, below).
 *
 * Delayed removal (seed 001, nvme_mpath_remove_disk() with delayed_removal_secs). When the
 * last path of a head goes away (nvmf_host_subsys_remove_path(), or its controller went
 * DEAD), a head is removed at once (queued I/O fails with -ENOLINK) if
 * delayed_removal_secs is 0. Otherwise the head and its queued I/O are kept that long:
 * removal is pending, and the pending removal holds one reference on the subsystem (the
 * library context: Linux's module reference) and one on the head. A path that brings the
 * same namespace back (nvmf_host_subsys_add_path()) before then cancels the removal and
 * resumes the queued I/O; otherwise, when the delay expires, queued I/O fails with
 * -ENOLINK and the head goes. Either way those references are dropped exactly once
 * (nvmf_host_subsys_get_refs() shows them).
 */

struct nvmf_host_subsys;

/**
 * enum nvmf_host_iopolicy - how a head picks a path (Linux iopolicy)
 * @NVMF_IOPOLICY_NUMA: the first usable path, kept while it stays usable (Linux "numa":
 *	fabrics controllers have no NUMA node, so every path is at the same distance and the
 *	current path sticks)
 * @NVMF_IOPOLICY_ROUND_ROBIN: the next usable path after the last one used, among the
 *	best ANA state available
 * @NVMF_IOPOLICY_QUEUE_DEPTH: the usable path with the fewest head I/Os in flight, among
 *	the best ANA state available
 */
enum nvmf_host_iopolicy {
	NVMF_IOPOLICY_NUMA = 0,
	NVMF_IOPOLICY_ROUND_ROBIN,
	NVMF_IOPOLICY_QUEUE_DEPTH,
};

/** nvmf_host_iopolicy_name() - "numa", "round-robin" or "queue-depth" (Linux sysfs names) */
const char *nvmf_host_iopolicy_name(enum nvmf_host_iopolicy policy);
/** nvmf_host_iopolicy_parse() - the policy named @name, or -EINVAL */
int nvmf_host_iopolicy_parse(const char *name);

/**
 * struct nvmf_host_subsys_opts - a multipath host subsystem (zero means the default)
 * @subnqn: the NVM subsystem's NQN (required); every path must reach it
 * @iopolicy: path selection (default NVMF_IOPOLICY_NUMA, as Linux)
 * @delayed_removal_secs: seconds a head with no path left is kept with its queued I/O
 *	(default 0: removed at once, as Linux)
 * @threaded: run the subsystem's reactor in a library thread
 * @max_queued: head I/Os in flight or queued at once, all heads together (default 4096);
 *	their slots are allocated at creation, none per I/O
 */
struct nvmf_host_subsys_opts {
	const char *subnqn;
	enum nvmf_host_iopolicy iopolicy;
	unsigned int delayed_removal_secs;
	bool threaded;
	unsigned int max_queued;
};

/**
 * nvmf_host_subsys_create() - a host subsystem with no path yet
 * @opts: options (copied)
 * @out: the subsystem
 * Return: 0, -EINVAL (no subnqn) or -ENOMEM.
 */
int nvmf_host_subsys_create(const struct nvmf_host_subsys_opts *opts,
			    struct nvmf_host_subsys **out);

/**
 * nvmf_host_subsys_destroy() - delete every path controller, fail queued I/O with -ENOLINK,
 * cancel pending removals (dropping their references once), free the subsystem
 * @s: subsystem; every head I/O has completed when this returns. Not from a callback
 * (refused and logged: the frames above it still use @s).
 */
void nvmf_host_subsys_destroy(struct nvmf_host_subsys *s);

/**
 * nvmf_host_subsys_add_path() - connect one more controller of the subsystem (a path)
 * @s: subsystem
 * @opts: how to reach it, as for nvmf_host_ctrl_connect(); subnqn NULL or @s's,
 *	threaded ignored (the path runs on @s's reactor), state_cb/aen_cb called as usual
 * @out: the path controller, owned by @s (NULL allowed)
 *
 * Its namespaces join the heads with the same NSID and identifiers, or make new heads;
 * a namespace whose NSID is taken by a head with other identifiers is left out (logged).
 * A pending removal of a head it brings back is cancelled. Return: 0, -errno, a positive
 * NVMe status from Connect, -EINVAL (the controller's SUBNQN is not @s's, or a second
 * path to a subsystem whose controllers do not report CMIC multi-controller), -EDEADLK
 * (called from a callback).
 */
int nvmf_host_subsys_add_path(struct nvmf_host_subsys *s, const struct nvmf_host_opts *opts,
			      struct nvmf_host_ctrl **out);

/**
 * nvmf_host_subsys_remove_path() - disconnect and free one path (as nvme disconnect of one
 * controller): its head I/Os in flight fail over, heads left with no path are removed, at
 * once or after delayed_removal_secs
 * Return: 0, -ENOENT if @ctrl is not a path of @s, -EDEADLK (called from a callback).
 */
int nvmf_host_subsys_remove_path(struct nvmf_host_subsys *s, struct nvmf_host_ctrl *ctrl);

/**
 * nvmf_host_subsys_poll() - drive a non-threaded subsystem (all its paths)
 * @s: subsystem created without @threaded
 * @timeout_ms: longest wait for an event when there is nothing to do
 * Return: 0 or -errno (-EINVAL: a threaded subsystem; -EDEADLK: inside a head I/O's
 * callback).
 */
int nvmf_host_subsys_poll(struct nvmf_host_subsys *s, int timeout_ms);

/** nvmf_host_subsys_set_iopolicy() - change the I/O policy (0, or -EINVAL) */
int nvmf_host_subsys_set_iopolicy(struct nvmf_host_subsys *s, enum nvmf_host_iopolicy policy);
/** nvmf_host_subsys_set_delayed_removal() - change delayed_removal_secs for later removals */
int nvmf_host_subsys_set_delayed_removal(struct nvmf_host_subsys *s, unsigned int secs);

/**
 * struct nvmf_host_path_info - one path (controller) of a subsystem, and if asked for a
 * namespace, that namespace through it
 * @ctrl: the path controller
 * @cntlid: its controller ID
 * @trtype: "tcp", "loop", "vfio-user"
 * @traddr: transport address
 * @trsvcid: transport service ID
 * @state: controller state
 * @anagrpid: the namespace's ANA group through this path (0: none or no namespace asked)
 * @ana_state: enum nvme_ana_state of that group from the last ANA log read (0: none)
 * @ana_pending: an ANA error or event was seen and the ANA log is being re-read: not used
 * @current: the path the numa policy sends the namespace's I/O to now
 * @inflight: head I/Os on this path now
 * @submitted: head I/Os sent on this path (cumulative)
 * @failovers: head I/Os that failed on this path with a path error and were requeued
 */
struct nvmf_host_path_info {
	struct nvmf_host_ctrl *ctrl;
	uint16_t cntlid;
	char trtype[16];
	char traddr[256];
	char trsvcid[32];
	enum nvmf_host_ctrl_state state;
	uint32_t anagrpid;
	uint8_t ana_state;
	bool ana_pending;
	bool current;
	uint64_t inflight;
	uint64_t submitted;
	uint64_t failovers;
};

/**
 * nvmf_host_subsys_paths() - the paths of @s in the order they were added
 * @s: subsystem
 * @nsid: a namespace to report the ANA group and state of (0: none)
 * @info: output array
 * @max: entries in @info
 * Return: the number of paths (may exceed @max).
 */
size_t nvmf_host_subsys_paths(struct nvmf_host_subsys *s, uint32_t nsid,
			      struct nvmf_host_path_info *info, size_t max);

/**
 * struct nvmf_host_head_info - a namespace head
 * @nsid: namespace ID
 * @nsze: size in logical blocks
 * @lba_shift: log2 of the LBA data size in bytes
 * @nguid: NGUID (zeros if not reported)
 * @eui64: EUI-64 (zeros if not reported)
 * @uuid: UUID from the Namespace Identification Descriptor list (zeros if none)
 * @nr_paths: paths it is reachable through now (controllers that report it)
 * @nr_queued: head I/Os on its requeue list
 * @removal_pending: no path left, kept for delayed_removal_secs
 * @refs: references on the head: one per path namespace, one while removal is pending
 */
struct nvmf_host_head_info {
	uint32_t nsid;
	uint64_t nsze;
	uint8_t lba_shift;
	uint8_t nguid[16];
	uint8_t eui64[8];
	uint8_t uuid[16];
	unsigned int nr_paths;
	unsigned int nr_queued;
	bool removal_pending;
	unsigned int refs;
};

/**
 * nvmf_host_subsys_heads() - the namespace heads of @s (ascending NSIDs)
 * Return: the number of heads (may exceed @max).
 */
size_t nvmf_host_subsys_heads(struct nvmf_host_subsys *s, struct nvmf_host_head_info *info,
			      size_t max);

/**
 * struct nvmf_host_subsys_refs - reference counts, for tests (seed 001)
 * @subsys: references on the subsystem: 1 for the caller's handle, 1 per path controller,
 *	1 per head whose removal is pending
 * @heads: heads alive
 * @head_refs: references on all heads together (see struct nvmf_host_head_info.refs)
 * @removals_pending: heads whose delayed removal is pending
 */
struct nvmf_host_subsys_refs {
	unsigned int subsys;
	unsigned int heads;
	unsigned int head_refs;
	unsigned int removals_pending;
};

/** nvmf_host_subsys_get_refs() - read the reference counts of @s (0, or -EINVAL) */
int nvmf_host_subsys_get_refs(struct nvmf_host_subsys *s, struct nvmf_host_subsys_refs *r);

/**
 * nvmf_host_mpath_submit_io() - queue an I/O command on namespace head cmd->nsid
 * @s: subsystem
 * @cmd: the SQE (nsid selects the head); CID, PSDT and the data pointer are the library's
 * @buf: data buffer, valid until @cb runs
 * @len: bytes of @buf
 * @cb: completion callback, run exactly once on the subsystem's reactor thread
 * @arg: its argument
 * Return: 0 if queued; -ENODEV (no such head), -EAGAIN (max_queued head I/Os in flight, or
 * every I/O queue of the usable paths of the best ANA state full), -ENOLINK (no path and
 * no controller that could come back), -EINVAL (@s, @cmd or @cb NULL); from another thread of a
 * threaded subsystem, 0 means handed over and a refusal is reported to @cb instead.
 */
int nvmf_host_mpath_submit_io(struct nvmf_host_subsys *s, const struct nvme_sqe *cmd, void *buf,
			      uint32_t len, nvmf_host_cb cb, void *arg);

/* Synchronous helpers on a head, as nvmf_host_read()/nvmf_host_write(). @nlb is 1-based.
 * Return: 0, a positive NVMe status, or -errno. */
int nvmf_host_mpath_read(struct nvmf_host_subsys *s, uint32_t nsid, uint64_t slba, uint32_t nlb,
			 void *buf);
int nvmf_host_mpath_write(struct nvmf_host_subsys *s, uint32_t nsid, uint64_t slba, uint32_t nlb,
			  const void *buf, bool fua);

#endif
