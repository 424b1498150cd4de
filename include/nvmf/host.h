/* SPDX-License-Identifier: MIT */
/*
 * libnvmf host (initiator) API: connect to an NVMe over Fabrics controller (NVMe/TCP, or an
 * embedded target through the in-process loop transport) with the Linux host's semantics.
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
 * broke are completed exactly once, after the transport has drained them, never while the
 * target could still complete them.
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
 *	went away; -ETIMEDOUT: the command timed out and was aborted)
 * @cqe: the completion queue entry (result in cqe->result), or NULL for errno failures
 */
typedef void (*nvmf_host_cb)(void *arg, int status, const struct nvme_cqe *cqe);

/**
 * struct nvmf_host_opts - how to reach and run a controller (zero means the default)
 * @trtype: "tcp" (default) or "loop"
 * @traddr: TCP address (numeric IPv4/IPv6 or a host name)
 * @trsvcid: TCP port (default "4420")
 * @loop_tgt: the embedded target for "loop" (started or not)
 * @subnqn: subsystem NQN (default the discovery NQN)
 * @hostnqn: host NQN (default /etc/nvme/hostnqn, else one derived from the host ID)
 * @hostid: host identifier, 16 bytes (default /etc/nvme/hostid, else random)
 * @hdgst: request header digests
 * @ddgst: request data digests
 * @nr_io_queues: I/O queues to ask for (default 1; 0 for a discovery controller)
 * @queue_size: entries per I/O queue (default 128; clamped to CAP.MQES + 1 and MAXCMD)
 * @kato_ms: Keep Alive Timeout, ms (default 5000 as Linux NVME_DEFAULT_KATO; 0 = none;
 *	discovery controllers default to 0)
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
 * Return: 0, -errno (e.g. -ECONNREFUSED) or a positive NVMe status from Connect.
 */
int nvmf_host_ctrl_connect(const struct nvmf_host_opts *opts, struct nvmf_host_ctrl **out);

/**
 * nvmf_host_ctrl_delete() - shut the controller down (CC.SHN), disconnect and free it
 * @ctrl: controller; pending commands complete with -ENOLINK before this returns
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
/** nvmf_host_ctrl_cap() - the CAP property */
uint64_t nvmf_host_ctrl_cap(struct nvmf_host_ctrl *ctrl);

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
 * Return: 0 if queued (@cb will run exactly once), or -errno (-EAGAIN: no free tag).
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
 * triggers a namespace rescan afterwards) and the passthrough filter: Set Features KATO is
 * refused with -EOPNOTSUPP on a non-fabrics controller; on fabrics it is sent and, on
 * success, the keep-alive interval becomes ceil(cdw11 / 1000) s, as the Linux host does.
 * Return: 0, a positive NVMe status, or -errno.
 */
int nvmf_host_passthru(struct nvmf_host_ctrl *ctrl, bool admin, const struct nvme_sqe *cmd,
		       void *buf, uint32_t len, unsigned int timeout_ms, uint32_t *result);

#endif
