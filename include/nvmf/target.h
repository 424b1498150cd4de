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
 * @nr_reactors: reactor threads; 0 = one per online CPU
 * @spin_us: microseconds a reactor keeps polling after its last event; default 100
 * @mdts_bytes: largest data transfer of one command in bytes (power of two, >= 4096);
 *	default 131072. Reported as MDTS in 4 KiB (CAP.MPSMIN) units.
 * @io_queue_depth: entries per I/O queue, reported as CAP.MQES + 1; default 128
 * @max_io_queues: I/O queues per controller; default 64
 * @inline_data_size: in-capsule data bytes on I/O queues (IOCCSZ = 4 + this / 16); default 8192
 */
struct nvmf_tgt_opts {
	unsigned int nr_reactors;
	unsigned int spin_us;
	uint32_t mdts_bytes;
	uint16_t io_queue_depth;
	uint16_t max_io_queues;
	uint32_t inline_data_size;
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

/**
 * struct nvmf_tgt_port_params - one listener (NVMe Base 2.0c 5.16.1.23 discovery fields)
 * @portid: port ID as reported in the discovery log
 * @trtype: NVMF_TRTYPE_TCP, or NVMF_TRTYPE_LOOP for the in-process loop transport (hosts
 *	of this process reach it through nvmf_host_opts.loop_tgt)
 * @adrfam: NVMF_ADRFAM_IPV4 or NVMF_ADRFAM_IPV6 for TCP; anything for loop
 *	(NVMF_ADRFAM_LOOP is the natural value), reported as given
 * @traddr: address to listen on (TCP); for loop optional (NULL: ""), only reported
 * @trsvcid: TCP port, as a decimal string; for loop optional (NULL: ""), only reported
 * @treq: transport requirements (NVMF_TREQ_*)
 */
struct nvmf_tgt_port_params {
	uint16_t portid;
	uint8_t trtype;
	uint8_t adrfam;
	const char *traddr;
	const char *trsvcid;
	uint8_t treq;
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
 * nvmf_tgt_add_port() - add a port: a TCP listener listens once the target is started; a
 * loop port listens on nothing and serves the in-process hosts that name this target in
 * nvmf_host_opts.loop_tgt, started or not (nvmf_tgt_stop() closes it, nvmf_tgt_start() opens
 * it again). Delete those hosts' controllers before nvmf_tgt_destroy().
 * @tgt: target, not started
 * @p: parameters (copied)
 * @out: the new port
 *
 * Return: 0, -EEXIST (duplicate portid), -EPROTONOSUPPORT (trtype neither TCP nor loop),
 * -EINVAL (target started; TCP without traddr/trsvcid or with an adrfam other than IPv4/IPv6),
 * -ENOMEM.
 */
int nvmf_tgt_add_port(struct nvmf_tgt *tgt, const struct nvmf_tgt_port_params *p,
		      struct nvmf_tgt_port **out);

/**
 * nvmf_tgt_port_add_subsys() - export @subsys on @port (and list it in its discovery log)
 * Return: 0 or -ENOMEM.
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
 * nvmf_tgt_port_set_ana_state() - set an ANA group's state as seen through @port
 * @port: port
 * @anagrpid: ANA group ID, 1..NVMF_TGT_MAX_ANA_GROUPS
 * @state: enum nvme_ana_state value
 *
 * Return: 0 or -EINVAL.
 */
int nvmf_tgt_port_set_ana_state(struct nvmf_tgt_port *port, uint32_t anagrpid, uint8_t state);

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

#endif
