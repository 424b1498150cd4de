/* SPDX-License-Identifier: MIT */
/*
 * Public target API: build a target (subsystems, namespaces, ports), start its reactors and
 * serve NVMe over Fabrics. The daemon nvmf-tgt is a thin layer over this API; a program can
 * embed a target the same way. All functions here are control path; call them from one
 * thread. Errors are negative errno values.
 */
#ifndef NVMF_TARGET_H
#define NVMF_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nvmf_tgt;
struct nvmf_tgt_subsys;
struct nvmf_tgt_port;

/**
 * struct nvmf_tgt_opts - target-wide settings (zero means the default)
 * @nr_reactors: reactor threads; 0 = one per online CPU, or one per entry of @cpus when
 *	@nr_cpus is set. nvmf_tgt_create() fails with EINVAL when both are set and differ.
 * @spin_us: microseconds a reactor keeps polling after its last event; default 100
 * @mdts_bytes: largest data transfer of one command in bytes (power of two, >= 4096);
 *	default 131072. Reported as MDTS in 4 KiB (CAP.MPSMIN) units.
 * @io_queue_depth: entries per I/O queue, reported as CAP.MQES + 1; default 128
 * @max_io_queues: I/O queues per controller; default 64
 * @inline_data_size: in-capsule data bytes on I/O queues (IOCCSZ = 4 + this / 16); default 8192
 * @cpus: @nr_cpus CPU numbers (as in sched_setaffinity(2), 0..CPU_SETSIZE-1): reactor i runs
 *	pinned to @cpus[i]. Read only by nvmf_tgt_create() (the caller keeps ownership). A CPU
 *	may repeat; one outside 0..CPU_SETSIZE-1 fails nvmf_tgt_create() with EINVAL; one the
 *	process may not run on fails nvmf_tgt_start() with -EINVAL. NULL = no pinning (default).
 * @nr_cpus: entries in @cpus; 0 = no pinning
 */
struct nvmf_tgt_opts {
	unsigned int nr_reactors;
	unsigned int spin_us;
	uint32_t mdts_bytes;
	uint16_t io_queue_depth;
	uint16_t max_io_queues;
	uint32_t inline_data_size;
	const int *cpus;
	unsigned int nr_cpus;
};

/**
 * struct nvmf_tgt_subsys_params - one NVM subsystem
 * @nqn: subsystem NQN (NVMe Base 2.0c 4.5), <= 223 bytes
 * @serial: SN, <= 20 ASCII characters
 * @model: MN, <= 40 ASCII characters
 * @firmware: FR, <= 8 ASCII characters
 * @version: VS register value, NVME_VS() encoding
 * @cntlid_min: lowest dynamic controller ID
 * @cntlid_max: highest dynamic controller ID
 * @allow_any_host: accept any host NQN; otherwise only those added with
 *	nvmf_tgt_subsys_allow_host()
 */
struct nvmf_tgt_subsys_params {
	const char *nqn;
	const char *serial;
	const char *model;
	const char *firmware;
	uint32_t version;
	uint16_t cntlid_min;
	uint16_t cntlid_max;
	bool allow_any_host;
};

enum nvmf_tgt_backend {
	NVMF_TGT_BACKEND_FILE = 0, /* regular file or block device, io_uring */
	NVMF_TGT_BACKEND_NULL = 1, /* reads return zeroes, writes are dropped */
	NVMF_TGT_BACKEND_MEM = 2,  /* anonymous memory */
};

/**
 * struct nvmf_tgt_ns_params - one namespace
 * @nsid: namespace ID, 1..0xfffffffe
 * @backend: enum nvmf_tgt_backend
 * @path: file or block device (file backend)
 * @size_bytes: size; required for null/mem; for a file, creates/extends a sparse file to this
 *	size if it is smaller (0 = use the file's size)
 * @block_size: LBA data size in bytes, power of two 512..65536 (0 = 512, or the device's
 *	logical block size)
 * @buffered: never use O_DIRECT
 * @anagrpid: ANA group ID (0 = 1)
 * @uuid: namespace UUID, NULL to derive one from the subsystem NQN and NSID
 * @nguid: namespace NGUID, NULL to derive one
 * @eui64: IEEE EUI-64, NULL for none
 * @enable: namespace is active
 */
struct nvmf_tgt_ns_params {
	uint32_t nsid;
	enum nvmf_tgt_backend backend;
	const char *path;
	uint64_t size_bytes;
	uint32_t block_size;
	bool buffered;
	uint32_t anagrpid;
	const uint8_t *uuid;
	const uint8_t *nguid;
	const uint8_t *eui64;
	bool enable;
};

/* struct nvmf_tgt_vfio_user_params.accept_kato */
enum {
	NVMF_TGT_VFU_KATO_DEFAULT = 0, /* accepted iff kas != 0 */
	NVMF_TGT_VFU_KATO_ACCEPT = 1,
	NVMF_TGT_VFU_KATO_REFUSE = 2,
};

#define NVMF_TGT_VFU_MAX_QUEUE_SIZE 4096 /* entries: CAP.MQES + 1 at most */

/**
 * struct nvmf_tgt_vfio_user_params - the PCIe controller a vfio-user port exports, for
 * driver testing (all zero: a plain PCIe NVMe device without keep-alive)
 * @kas: Identify Controller KAS, 100 ms units (NVMe Base 2.0c 5.17.2.1); 0 (the default, as
 *	on real PCIe devices): the Keep Alive command is not supported (Invalid Opcode)
 * @accept_kato: NVMF_TGT_VFU_KATO_*: whether Set Features Keep Alive Timer (5.27.1.12) is
 *	accepted; with a KATO set, the keep-alive timer runs as on fabrics and its expiry sets
 *	CSTS.CFS
 * @max_io_queues: I/O queue pairs granted by Set Features Number of Queues, 1..128; 0: the
 *	target's nvmf_tgt_opts.max_io_queues
 * @max_queue_size: entries per I/O queue (CAP.MQES + 1), 2..NVMF_TGT_VFU_MAX_QUEUE_SIZE; 0:
 *	the target's nvmf_tgt_opts.io_queue_depth
 */
struct nvmf_tgt_vfio_user_params {
	uint16_t kas;
	uint8_t accept_kato;
	uint16_t max_io_queues;
	uint16_t max_queue_size;
};

/**
 * struct nvmf_tgt_port_params - one listener (NVMe Base 2.0c 5.16.1.23 discovery fields)
 * @portid: port ID as reported in the discovery log
 * @trtype: NVMF_TRTYPE_TCP, NVMF_TRTYPE_LOOP for the in-process loop transport (hosts
 *	of this process reach it through nvmf_host_opts.loop_tgt), or NVMF_TRTYPE_VFIO_USER:
 *	one PCIe NVMe controller of the port's first subsystem, served to one vfio-user
 *	client at a time (QEMU's vfio-user-pci) on the UNIX socket @traddr; never listed in
 *	discovery logs
 * @adrfam: NVMF_ADRFAM_IPV4 or NVMF_ADRFAM_IPV6 for TCP; anything for loop and vfio-user
 *	(NVMF_ADRFAM_LOOP is the natural value), reported as given
 * @traddr: address to listen on (TCP); the socket path (vfio-user, at most 107 bytes; a
 *	stale socket there is replaced, any other file is an error); for loop optional (NULL:
 *	""), only reported
 * @trsvcid: TCP port, as a decimal string; for loop and vfio-user optional (NULL: ""), only
 *	reported
 * @treq: transport requirements (NVMF_TREQ_*)
 * @vfio_user: vfio-user ports only: the exported controller's options
 * @ana_default_state: the ANA state (enum nvme_ana_state) of groups 2..128 through this port
 *	until nvmf_tgt_port_set_ana_state() sets theirs; 0 means NVME_ANA_OPTIMIZED. Group 1
 *	always starts optimized. Linux nvmet (and nvmf-tgt) use NVME_ANA_INACCESSIBLE: a group
 *	a port does not list is inaccessible through it.
 */
struct nvmf_tgt_port_params {
	uint16_t portid;
	uint8_t trtype;
	uint8_t adrfam;
	const char *traddr;
	const char *trsvcid;
	uint8_t treq;
	struct nvmf_tgt_vfio_user_params vfio_user;
	uint8_t ana_default_state;
};

/**
 * nvmf_tgt_create() - make an empty, stopped target with its discovery subsystem
 * @opts: settings, or NULL for the defaults
 *
 * Return: the target, or NULL with errno set.
 */
struct nvmf_tgt *nvmf_tgt_create(const struct nvmf_tgt_opts *opts);

/**
 * nvmf_tgt_add_subsys() - add an NVM subsystem
 * @tgt: target
 * @p: parameters (copied)
 * @out: the new subsystem
 *
 * Return: 0, -EEXIST for a duplicate NQN, -EINVAL for bad parameters, -ENOMEM.
 */
int nvmf_tgt_add_subsys(struct nvmf_tgt *tgt, const struct nvmf_tgt_subsys_params *p,
			struct nvmf_tgt_subsys **out);

/**
 * nvmf_tgt_subsys_allow_host() - add @hostnqn to the subsystem's allowed hosts
 * @subsys: subsystem
 * @hostnqn: host NQN
 *
 * Return: 0 or -ENOMEM / -EINVAL.
 */
int nvmf_tgt_subsys_allow_host(struct nvmf_tgt_subsys *subsys, const char *hostnqn);

/**
 * nvmf_tgt_subsys_add_ns() - open a backend and add it as a namespace
 * @subsys: subsystem
 * @p: parameters (copied)
 *
 * Return: 0, -EEXIST for a duplicate NSID, -EINVAL, or the backend's -errno (-ENOENT...).
 */
int nvmf_tgt_subsys_add_ns(struct nvmf_tgt_subsys *subsys, const struct nvmf_tgt_ns_params *p);

/**
 * nvmf_tgt_add_port() - add a port: a TCP listener listens once the target is started (at once
 * when it already is: see "Changing a running target" below); a
 * loop port listens on nothing and serves the in-process hosts that name this target in
 * nvmf_host_opts.loop_tgt, started or not (nvmf_tgt_stop() closes it, nvmf_tgt_start() opens
 * it again). Delete those hosts' controllers before nvmf_tgt_destroy().
 * @tgt: target
 * @p: parameters (copied)
 * @out: the new port
 *
 * Return: 0, -EEXIST (duplicate portid), -EPROTONOSUPPORT (trtype neither TCP nor loop),
 * -EINVAL (TCP without traddr/trsvcid or with an adrfam other than IPv4/IPv6; a traddr of 256
 * bytes or more, a trsvcid of 32 or more; an ana_default_state that is no ANA state), -ENOMEM,
 * or the listener's -errno (e.g. -EADDRINUSE) on a started target.
 */
int nvmf_tgt_add_port(struct nvmf_tgt *tgt, const struct nvmf_tgt_port_params *p,
		      struct nvmf_tgt_port **out);

/**
 * nvmf_tgt_port_add_subsys() - export @subsys on @port (and list it in its discovery log)
 * Return: 0 (also when already exported), -EINVAL (the discovery subsystem) or -ENOMEM.
 */
int nvmf_tgt_port_add_subsys(struct nvmf_tgt_port *port, struct nvmf_tgt_subsys *subsys);

/**
 * nvmf_tgt_port_add_referral() - list another discovery service in @port's discovery log
 * @port: port
 * @p: the referred port (portid, trtype, adrfam, traddr, trsvcid, treq)
 *
 * Return: 0 or -ENOMEM / -EINVAL.
 */
int nvmf_tgt_port_add_referral(struct nvmf_tgt_port *port, const struct nvmf_tgt_port_params *p);

/**
 * nvmf_tgt_port_set_ana_state() - set an ANA group's state as seen through @port, and tell
 * the hosts (NVMe Base 2.0c 8.1, ANA log 5.16.1.12, asynchronous events 5.2)
 * @port: port
 * @anagrpid: ANA group ID, 1..128 (NVMF_TGT_MAX_ANA_GROUPS)
 * @state: enum nvme_ana_state value: NVME_ANA_OPTIMIZED, _NONOPTIMIZED, _INACCESSIBLE,
 *	_PERSISTENT_LOSS or _CHANGE
 *
 * As nvmet's configfs ana_state does, every call (the same state again included) increments
 * the change count of @port's ANA log and raises an Asynchronous Event (Notice, ANA Change,
 * log page 0Ch) on every controller connected through @port whose Asynchronous Event
 * Configuration enables ANA Change Notices and whose last ANA event has been cleared by a
 * read of the ANA log without RAE. Commands parsed afterwards on @port see @state (I/O to
 * an inaccessible, persistent-loss or change group fails with the matching ANA status); a
 * command already executing finishes. The group is listed by the daemon from then on (as a
 * configfs ana_groups entry). Callable from any thread; does not wait.
 *
 * Return: 0 or -EINVAL (group ID or state out of range).
 */
int nvmf_tgt_port_set_ana_state(struct nvmf_tgt_port *port, uint32_t anagrpid, uint8_t state);

/* -------------------------------------------------------------------------------------- */
/* Changing a running target. Control path: call from one thread that is not a reactor (the
 * calls may wait, up to 10 s, for reactors and in-flight commands). nvmf_tgt_add_subsys(),
 * nvmf_tgt_subsys_add_ns(), nvmf_tgt_subsys_allow_host(), nvmf_tgt_add_port() (which then
 * listens at once), nvmf_tgt_port_add_subsys() and nvmf_tgt_port_add_referral() work on a
 * running target too. Connected hosts hear of each change through asynchronous events
 * (NVMe Base 2.0c 5.2): Namespace Attribute Changed with the Changed Namespace List for
 * namespaces, Discovery Log Page Change for ports, exports and hosts. */

/**
 * nvmf_tgt_find_subsys_by_nqn() - the NVM subsystem @nqn, or NULL
 */
struct nvmf_tgt_subsys *nvmf_tgt_find_subsys_by_nqn(struct nvmf_tgt *tgt, const char *nqn);

/**
 * nvmf_tgt_find_port_by_id() - the port with port ID @portid, or NULL
 */
struct nvmf_tgt_port *nvmf_tgt_find_port_by_id(struct nvmf_tgt *tgt, uint16_t portid);

/**
 * nvmf_tgt_subsys_remove_ns() - take namespace @nsid out of @subsys: new commands get Invalid
 * Namespace, commands in flight finish, then the backend is closed
 * Return: 0 or -ENOENT / -ENOMEM.
 */
int nvmf_tgt_subsys_remove_ns(struct nvmf_tgt_subsys *subsys, uint32_t nsid);

/**
 * nvmf_tgt_subsys_resize_ns() - change namespace @nsid's size (NSZE/NCAP/NUSE), like nvmet's
 * revalidate_size
 * @subsys: subsystem
 * @nsid: namespace
 * @size_bytes: new size in bytes, rounded down to the LBA size; 0 re-reads the medium's size
 *	(after the file or device was resized underneath)
 * @new_size: the size in force afterwards, bytes (may be NULL)
 *
 * A regular file grows (sparse) or is truncated; a block device must be at least that
 * large; the null backend takes any size; the mem backend cannot be resized.
 * Return: 0, -ENOENT, -EINVAL (less than one LBA), -EOPNOTSUPP (mem), or the medium's -errno.
 */
int nvmf_tgt_subsys_resize_ns(struct nvmf_tgt_subsys *subsys, uint32_t nsid, uint64_t size_bytes,
			      uint64_t *new_size);

/**
 * nvmf_tgt_subsys_disallow_host() - remove @hostnqn from the allowed hosts (controllers it
 * has stay connected, as with nvmet)
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_subsys_disallow_host(struct nvmf_tgt_subsys *subsys, const char *hostnqn);

/** nvmf_tgt_subsys_set_allow_any_host() - nvmetcli's attr_allow_any_host */
void nvmf_tgt_subsys_set_allow_any_host(struct nvmf_tgt_subsys *subsys, bool allow);

/**
 * nvmf_tgt_remove_subsys() - remove @subsys from every port and the target, disconnect its
 * controllers, and free it once they have gone
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_remove_subsys(struct nvmf_tgt *tgt, struct nvmf_tgt_subsys *subsys);

/**
 * nvmf_tgt_port_remove_subsys() - stop exporting @subsys on @port; its controllers that came
 * in through @port are disconnected (as nvmet's port unlink)
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_port_remove_subsys(struct nvmf_tgt_port *port, struct nvmf_tgt_subsys *subsys);

/**
 * nvmf_tgt_remove_port() - stop listening on @port and disconnect every controller that came
 * in through it. @port must not be used afterwards.
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_remove_port(struct nvmf_tgt *tgt, struct nvmf_tgt_port *port);

/**
 * nvmf_tgt_subsys_set_ns_anagrpid() - move namespace @nsid of @subsys to ANA group @anagrpid
 * (nvmet's namespaces/N/ana_grpid; NVMe Base 2.0c 8.1, Identify Namespace ANAGRPID)
 * @subsys: subsystem
 * @nsid: namespace ID (enabled or not)
 * @anagrpid: ANA group ID, 1..128 (NVMF_TGT_MAX_ANA_GROUPS)
 *
 * Commands executing on the namespace finish under its old group; commands parsed from then
 * on see the state of @anagrpid on their port, and Identify Namespace and the ANA log report
 * the new group. As nvmet, every call (the same group again included) increments the ANA log
 * change count of each port that exports @subsys and raises ANA Change (Notice, log 0Ch) on
 * every controller of @subsys, subject to its Asynchronous Event Configuration and masking.
 * May wait up to 10 s for commands in flight (see "Changing a running target").
 *
 * Return: 0, -EINVAL (@anagrpid out of range), -ENOENT (no namespace @nsid), -ENOMEM.
 */
int nvmf_tgt_subsys_set_ns_anagrpid(struct nvmf_tgt_subsys *subsys, uint32_t nsid,
				    uint32_t anagrpid);

/**
 * nvmf_tgt_port_disable() - take @port out of service but keep its configuration
 * @port: port of a target
 *
 * Stops listening (TCP), closes the port to new loop queues, or ends the vfio-user client and
 * removes its socket; fails every controller that came in through @port (discovery
 * controllers included) as nvmf_tgt_remove_port() does, and refuses Connect on queues of
 * @port that were accepted before (Connect Restart Discovery). The exported subsystems,
 * referrals and ANA group states stay. Discovery logs leave the port out from then on, and
 * discovery controllers get a Discovery Log Page Change event. Disabling a disabled port
 * does nothing. Control path; does not wait for the controllers to go.
 *
 * Return: 0 or -ENOENT (@port is not a port of its target any more).
 */
int nvmf_tgt_port_disable(struct nvmf_tgt_port *port);

/**
 * nvmf_tgt_port_enable() - put a port taken out by nvmf_tgt_port_disable() back in service:
 * listen again on the same address (at once if the target is started, at nvmf_tgt_start()
 * otherwise; a loop port opens at once), list it in discovery logs again and raise Discovery
 * Log Page Change. Enabling an enabled port does nothing.
 * @port: port of a target
 *
 * Return: 0, -ENOENT, or the listener's -errno (e.g. -EADDRINUSE: the port stays disabled).
 */
int nvmf_tgt_port_enable(struct nvmf_tgt_port *port);

/**
 * struct nvmf_tgt_ctrl_info - one controller as the control socket lists it
 * @subsys_nqn: its subsystem
 * @hostnqn: the host's NQN
 * @cntlid: controller ID
 * @portid: the port its admin queue came in on
 * @state: "enabling" (connected, CC.EN not yet 1), "live" (CSTS.RDY), "shutdown" (CC.SHN
 *	seen), "disabled" (CC.EN cleared), "failed" (fatal: being torn down)
 * @cc: CC property
 * @csts: CSTS property
 * @kato_ms: keep-alive timeout in force, ms (0: none)
 * @nr_io_queues: I/O queues connected right now
 * @keep_alive_count: Keep Alive commands received (NVMe Base 2.0c 5.25)
 * @last_keep_alive_ms: ms since the last Keep Alive command (UINT64_MAX: none yet)
 */
struct nvmf_tgt_ctrl_info {
	char subsys_nqn[256];
	char hostnqn[256];
	uint16_t cntlid;
	uint16_t portid;
	const char *state;
	uint32_t cc;
	uint32_t csts;
	uint32_t kato_ms;
	uint16_t nr_io_queues;
	uint64_t keep_alive_count;
	uint64_t last_keep_alive_ms;
};

/**
 * nvmf_tgt_ctrl_list() - the controllers of subsystem @nqn (NULL: of every subsystem, the
 * discovery subsystem included). Callable from any thread.
 * @tgt: target
 * @nqn: subsystem NQN or NULL
 * @info: output array
 * @max: entries of @info
 *
 * Return: the number of controllers (may exceed @max; @info holds the first @max).
 */
size_t nvmf_tgt_ctrl_list(struct nvmf_tgt *tgt, const char *nqn, struct nvmf_tgt_ctrl_info *info,
			  size_t max);

/**
 * nvmf_tgt_ctrl_fail() - force controller @cntlid of subsystem @nqn into the fatal state:
 * CSTS.CFS is set and every queue of it disconnected, as on a keep-alive timeout
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_ctrl_fail(struct nvmf_tgt *tgt, const char *nqn, uint16_t cntlid);

/**
 * nvmf_tgt_start() - start the reactors and listen on every port
 * @tgt: target
 *
 * Return: 0 or -errno (e.g. -EADDRINUSE); on error nothing is left running.
 */
int nvmf_tgt_start(struct nvmf_tgt *tgt);

/**
 * nvmf_tgt_stop() - stop listening, disconnect every controller, wait for in-flight I/O to
 * drain, and stop the reactors. Safe to call on a target that never started.
 * Loop queues drain on their host controllers' reactors: those of a polled (not threaded)
 * loop host driven by the calling thread cannot, and the wait lasts its 30 s bound; delete
 * such controllers first.
 * @tgt: target
 */
void nvmf_tgt_stop(struct nvmf_tgt *tgt);

/**
 * nvmf_tgt_destroy() - free a stopped target, closing every backend
 * @tgt: target
 */
void nvmf_tgt_destroy(struct nvmf_tgt *tgt);

/* -------------------------------------------------------------------------------------- */
/* Fault injection (for driver and test developers; lib/target/fault.c) */

/**
 * enum nvmf_tgt_fault_action - what a matching command suffers
 * @NVMF_TGT_FAULT_DELAY: complete it @delay_ms later than it would have completed
 * @NVMF_TGT_FAULT_HOLD: keep its completion until nvmf_tgt_fault_release() (or until its
 *	queue goes away: a held command never blocks a disconnect)
 * @NVMF_TGT_FAULT_STATUS: do not execute it; complete it with @status
 * @NVMF_TGT_FAULT_DROP: execute it but never send its response (nor its C2H data)
 * @NVMF_TGT_FAULT_DISCONNECT: close the command's connection (queue) once @after matching
 *	commands have been seen (and again after each disconnect, @count permitting); the
 *	command that trips it gets no response
 * @NVMF_TGT_FAULT_CORRUPT_HDGST: flip a bit of the response PDU's header digest (TCP with
 *	header digest only: other commands do not match the rule)
 * @NVMF_TGT_FAULT_CORRUPT_DDGST: flip a bit of the C2H data digest (TCP with data digest,
 *	commands that return data only: other commands do not match the rule)
 * @NVMF_TGT_FAULT_NO_KEEP_ALIVE: stop answering Keep Alive: a DROP restricted to the admin
 *	Keep Alive command (opcode 0x18); the command still counts as host activity
 */
enum nvmf_tgt_fault_action {
	NVMF_TGT_FAULT_DELAY = 1,
	NVMF_TGT_FAULT_HOLD,
	NVMF_TGT_FAULT_STATUS,
	NVMF_TGT_FAULT_DROP,
	NVMF_TGT_FAULT_DISCONNECT,
	NVMF_TGT_FAULT_CORRUPT_HDGST,
	NVMF_TGT_FAULT_CORRUPT_DDGST,
	NVMF_TGT_FAULT_NO_KEEP_ALIVE,
};

/**
 * nvmf_tgt_fault_action_name() - the action's name as the control socket spells it ("delay",
 * "hold", "status", "drop", "disconnect", "corrupt_hdgst", "corrupt_ddgst", "no_keep_alive")
 * Return: the name, or "unknown".
 */
const char *nvmf_tgt_fault_action_name(enum nvmf_tgt_fault_action action);

/* struct nvmf_tgt_fault.queue */
#define NVMF_TGT_FAULT_QUEUE_ANY (-1)	/* every queue */
#define NVMF_TGT_FAULT_QUEUE_ADMIN (-2) /* the admin queue (QID 0) */
#define NVMF_TGT_FAULT_QUEUE_IO (-3)	/* every I/O queue (QID >= 1) */

/**
 * struct nvmf_tgt_fault - one fault injection rule; a command matches when every selector
 * that is set matches it. Rules are tried in the order they were added; the first match wins
 * (when @probability then spares the command, no other rule acts on it).
 * @subsys_nqn: subsystem NQN, NULL or "" for any (the discovery subsystem included)
 * @cntlid: controller ID, -1 for any
 * @queue: a QID >= 0, or NVMF_TGT_FAULT_QUEUE_ANY / _ADMIN / _IO
 * @opcode: command opcode 0..255 (admin or I/O per the queue), -1 for any; fabrics commands
 *	(Connect, Property Get/Set) and Asynchronous Event Requests are never matched
 * @nsid: NSID, -1 for any (0 matches commands with NSID 0)
 * @count: the rule acts on at most this many commands, then stays listed, spent (0: no limit)
 * @probability: chance in 0..1 that a matching command is acted on (0 means 1: always)
 * @action: enum nvmf_tgt_fault_action
 * @delay_ms: DELAY: milliseconds added to the completion
 * @delay_max_ms: DELAY: when > @delay_ms, each command is delayed a uniformly random time in
 *	[@delay_ms, @delay_max_ms]
 * @status: STATUS: NVMe status (SCT << 8 | SC, plus NVME_STATUS_DNR / _MORE)
 * @after: DISCONNECT: matching commands to let through before the one that disconnects
 */
struct nvmf_tgt_fault {
	const char *subsys_nqn;
	int32_t cntlid;
	int32_t queue;
	int32_t opcode;
	int64_t nsid;
	uint64_t count;
	double probability;
	enum nvmf_tgt_fault_action action;
	uint32_t delay_ms;
	uint32_t delay_max_ms;
	uint16_t status;
	uint32_t after;
};

/**
 * struct nvmf_tgt_fault_info - a listed rule
 * @id: rule ID (from nvmf_tgt_fault_add())
 * @rule: the rule as added (@rule.subsys_nqn points into the target; valid until the rule is
 *	removed)
 * @hits: commands the rule acted on so far
 * @held: commands it holds right now (HOLD)
 */
struct nvmf_tgt_fault_info {
	uint32_t id;
	struct nvmf_tgt_fault rule;
	uint64_t hits;
	uint32_t held;
};

/**
 * nvmf_tgt_fault_add() - add a fault injection rule; it applies to commands that complete
 * from now on. Callable from any thread, target started or not.
 * @tgt: target
 * @f: the rule (copied)
 * @id: its ID (>= 1)
 *
 * Return: 0, -EINVAL (unknown action, probability outside 0..1, queue < -3, opcode > 255,
 * cntlid/nsid out of range, NQN too long, a STATUS status without SCT/SC), -ENOSPC (more
 * than 64 rules), -ENOMEM.
 */
int nvmf_tgt_fault_add(struct nvmf_tgt *tgt, const struct nvmf_tgt_fault *f, uint32_t *id);

/**
 * nvmf_tgt_fault_remove() - remove rule @id (0: every rule), releasing what it holds
 * Return: 0 or -ENOENT.
 */
int nvmf_tgt_fault_remove(struct nvmf_tgt *tgt, uint32_t id);

/**
 * nvmf_tgt_fault_release() - complete the commands rule @id holds (0: every rule's), each on
 * its own reactor, as they would have completed; the rule goes on holding new ones
 * Return: the number of commands released, or -ENOENT.
 */
int nvmf_tgt_fault_release(struct nvmf_tgt *tgt, uint32_t id);

/**
 * nvmf_tgt_fault_list() - the rules, in match order
 * @tgt: target
 * @info: output array
 * @max: entries of @info
 *
 * Return: the number of rules (may exceed @max; @info holds the first @max).
 */
size_t nvmf_tgt_fault_list(struct nvmf_tgt *tgt, struct nvmf_tgt_fault_info *info, size_t max);

#endif
