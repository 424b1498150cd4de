/*
 * nvmf-tgt configuration: the JSON that Linux `nvmetcli save` writes, plus a few documented
 * "nvmf_" extension keys that nvmetcli ignores.
 *
 * Format (every key optional unless marked *; unknown keys are ignored, except unknown keys
 * starting with "nvmf_", which are typos of ours and rejected):
 *
 *   hosts[]          { nqn*, dhchap{} }
 *   subsystems[]     { nqn*, attr{ allow_any_host, serial, model, firmware, version,
 *                      cntlid_min, cntlid_max, ieee_oui, pi_enable, qid_max },
 *                      allowed_hosts[] (NQNs listed in hosts[]),
 *                      namespaces[]{ nsid*, enable, ana_grpid, device*{ path, uuid, nguid,
 *                                    eui64, nvmf_backend, nvmf_size, nvmf_block_size,
 *                                    nvmf_buffered } },
 *                      passthru (must not be enabled) }
 *   ports[]          { portid*, addr*{ trtype*, adrfam, traddr, trsvcid, treq, tsas },
 *                      param{ inline_data_size, max_queue_size, pi_enable },
 *                      subsystems[] (NQNs listed in subsystems[]),
 *                      referrals[]{ name, enable, portid, addr{...} },
 *                      ana_groups[]{ grpid*, ana{ state } },
 *                      enabled (ours, as save_config writes it; false: loaded disabled) }
 *   nvmf             { reactors, cpumask, kato_default_ms, rpc_socket }  (ours; every key
 *                    checked)
 *
 * nvmetcli writes most attribute values as strings ("1", "16384", "0x000000"); every integer
 * or boolean here may be a JSON number, a JSON boolean where it makes sense, or a string.
 * Integers in strings are decimal or 0x-prefixed hexadecimal.
 */
#ifndef NVMF_TGT_CONFIG_H
#define NVMF_TGT_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf/target.h"

/* NVMe Base 2.0c 4.5 (NVMe Qualified Names): at most 223 bytes, plus our NUL. */
#define NVMF_CFG_NQN_SIZE 224
/* Identify Controller SN, MN, FR: space-padded ASCII of 20, 40 and 8 bytes, plus our NUL. */
#define NVMF_CFG_SERIAL_SIZE 21
#define NVMF_CFG_MODEL_SIZE 41
#define NVMF_CFG_FIRMWARE_SIZE 9
/* Discovery Log Page Entry TRADDR (256 bytes) and TRSVCID (32 bytes), NUL included. */
#define NVMF_CFG_TRADDR_SIZE 256
#define NVMF_CFG_TRSVCID_SIZE 32
#define NVMF_CFG_NAME_SIZE 256
/* Highest ANA group ID; the same limit as Linux nvmet (NVMET_MAX_ANAGRPS). */
#define NVMF_CFG_MAX_ANAGRPID 128
/* Highest nvmf.reactors value. */
#define NVMF_CFG_MAX_REACTORS 1024

#define NVMF_CFG_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
#define NVMF_CFG_DEFAULT_NQN "nqn.2014-08.org.nvmexpress:nvmf-default"
#define NVMF_CFG_DEFAULT_MODEL "nvmf"
#define NVMF_CFG_DEFAULT_FIRMWARE "0.1"
#define NVMF_CFG_DEFAULT_VERSION 0x00010300u /* NVMe 1.3, VS register encoding */
#define NVMF_CFG_DEFAULT_QID_MAX 128

/* Discovery Log Page Entry TRTYPE values (NVMe Base 2.0c, Discovery Log Page). */
#define NVMF_CFG_TRTYPE_RDMA 1
#define NVMF_CFG_TRTYPE_FC 2
#define NVMF_CFG_TRTYPE_TCP 3
#define NVMF_CFG_TRTYPE_LOOP 0xfe
#define NVMF_CFG_TRTYPE_VFIO_USER 0xfd /* ours: a PCIe controller over vfio-user (spec.h) */
#define NVMF_TGT_MAX_IO_QUEUES_CFG 128 /* as the target's NVMF_TGT_MAX_IO_QUEUES */

/* Discovery Log Page Entry ADRFAM values. */
#define NVMF_CFG_ADRFAM_PCI 0
#define NVMF_CFG_ADRFAM_IPV4 1
#define NVMF_CFG_ADRFAM_IPV6 2
#define NVMF_CFG_ADRFAM_IB 3
#define NVMF_CFG_ADRFAM_FC 4
#define NVMF_CFG_ADRFAM_LOOP 0xfe

/* Discovery Log Page Entry TREQ secure channel field (bits 1:0). */
#define NVMF_CFG_TREQ_NOT_SPECIFIED 0
#define NVMF_CFG_TREQ_REQUIRED 1
#define NVMF_CFG_TREQ_NOT_REQUIRED 2

/* ANA states (NVMe Base 2.0c, Asymmetric Namespace Access Reporting). */
#define NVMF_CFG_ANA_OPTIMIZED 0x1
#define NVMF_CFG_ANA_NONOPTIMIZED 0x2
#define NVMF_CFG_ANA_INACCESSIBLE 0x3
#define NVMF_CFG_ANA_PERSISTENT_LOSS 0x4
#define NVMF_CFG_ANA_CHANGE 0xf

enum nvmf_cfg_backend {
	NVMF_CFG_BACKEND_FILE, /* regular file or block device at @path */
	NVMF_CFG_BACKEND_NULL, /* reads return zeroes, writes are dropped */
	NVMF_CFG_BACKEND_MEM,  /* RAM, lost at exit */
};

/**
 * struct nvmf_cfg_ns - one namespace of a subsystem
 * @nsid: namespace ID, 1..0xfffffffe, unique within the subsystem
 * @enable: false if "enable" is 0; absent means enabled. A disabled namespace is loaded
 *	but its path is not checked.
 * @anagrpid: ANA group ID, 1..%NVMF_CFG_MAX_ANAGRPID (default 1)
 * @path: absolute path of the backing file or block device; a relative "device.path" is
 *	resolved against the directory of the config file (nvmf_cfg_load_file()) or the
 *	current directory (nvmf_cfg_load_string()). Empty for the null and mem backends,
 *	and for a disabled namespace saved with an empty path.
 * @uuid: namespace UUID, valid if @has_uuid (an all-zero value counts as absent)
 * @has_uuid: @uuid was given
 * @nguid: namespace globally unique identifier, valid if @has_nguid (all-zero = absent)
 * @has_nguid: @nguid was given
 * @eui64: IEEE extended unique identifier, valid if @has_eui64 (all-zero = absent)
 * @has_eui64: @eui64 was given
 * @backend: "device.nvmf_backend"
 * @size_bytes: "device.nvmf_size", a multiple of @block_size. Always > 0 for null and
 *	mem. For file: 0 = use the existing file as it is; > 0 = if the file does not exist,
 *	the daemon creates it sparse with this size (the loader checked that its directory
 *	exists).
 * @block_size: logical block size in bytes, a power of two in 512..65536 (default 512)
 * @buffered: "device.nvmf_buffered": use buffered instead of direct I/O
 */
struct nvmf_cfg_ns {
	uint32_t nsid;
	bool enable;
	uint32_t anagrpid;
	char path[PATH_MAX];
	uint8_t uuid[16];
	bool has_uuid;
	uint8_t nguid[16];
	bool has_nguid;
	uint8_t eui64[8];
	bool has_eui64;
	enum nvmf_cfg_backend backend;
	uint64_t size_bytes;
	uint32_t block_size;
	bool buffered;
};

/**
 * struct nvmf_cfg_subsys - one NVM subsystem
 * @nqn: subsystem NQN, unique, never the discovery NQN
 * @allow_any_host: any host may connect; otherwise only @allowed_hosts (default false, as
 *	in nvmet). Never true together with a non-empty @allowed_hosts.
 * @serial: serial number, printable ASCII, 1..20 bytes. Default: 16 hex digits derived
 *	from @nqn (stable across restarts and machines).
 * @model: model number, printable ASCII, 1..40 bytes (default "nvmf")
 * @firmware: firmware revision, printable ASCII, 1..8 bytes (default "0.1")
 * @version: NVMe version in VS register encoding, major << 16 | minor << 8 | tertiary
 *	(default 0x00010300 = 1.3)
 * @cntlid_min: lowest controller ID to allocate, 1..0xffef (default 1)
 * @cntlid_max: highest controller ID to allocate, @cntlid_min..0xffef (default 0xffef)
 * @ieee_oui: IEEE OUI, 24 bits (default 0)
 * @pi_enable: protection information requested (loaded only; default false)
 * @qid_max: highest I/O queue ID a host may create, 1..65535 (default 128)
 * @allowed_hosts: host NQNs, each also listed in &nvmf_cfg.hosts
 * @nr_allowed_hosts: entries in @allowed_hosts
 * @ns: namespaces, in file order, NSIDs unique
 * @nr_ns: entries in @ns
 */
struct nvmf_cfg_subsys {
	char nqn[NVMF_CFG_NQN_SIZE];
	bool allow_any_host;
	char serial[NVMF_CFG_SERIAL_SIZE];
	char model[NVMF_CFG_MODEL_SIZE];
	char firmware[NVMF_CFG_FIRMWARE_SIZE];
	uint32_t version;
	uint16_t cntlid_min;
	uint16_t cntlid_max;
	uint32_t ieee_oui;
	bool pi_enable;
	uint16_t qid_max;
	char (*allowed_hosts)[NVMF_CFG_NQN_SIZE];
	size_t nr_allowed_hosts;
	struct nvmf_cfg_ns *ns;
	size_t nr_ns;
};

/**
 * struct nvmf_cfg_addr - a transport address as in a Discovery Log Page Entry
 * @trtype: NVMF_CFG_TRTYPE_*; ports are tcp, loop or vfio-user, referrals also rdma or fc
 * @adrfam: NVMF_CFG_ADRFAM_*; ipv4 or ipv6 for tcp; for loop, %NVMF_CFG_ADRFAM_LOOP
 *	unless the file names another
 * @treq: NVMF_CFG_TREQ_* (default not specified)
 * @traddr: NUL-terminated; for tcp a numeric IPv4/IPv6 address (IPv6 may carry %scope)
 * @trsvcid: NUL-terminated; for tcp a decimal port number 1..65535
 */
struct nvmf_cfg_addr {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t treq;
	char traddr[NVMF_CFG_TRADDR_SIZE];
	char trsvcid[NVMF_CFG_TRSVCID_SIZE];
};

/**
 * struct nvmf_cfg_referral - a discovery referral advertised by a port
 * @name: "name" (informational; empty if absent)
 * @enable: advertised; absent means enabled
 * @portid: port ID reported in the referral entry, from "addr.portid" (nvmetcli) or
 *	"portid" (default 0)
 * @addr: address of the referred discovery controller
 */
struct nvmf_cfg_referral {
	char name[NVMF_CFG_NAME_SIZE];
	bool enable;
	uint16_t portid;
	struct nvmf_cfg_addr addr;
};

/**
 * struct nvmf_cfg_ana_group - ANA state of one group as seen through one port
 * @grpid: ANA group ID, 1..%NVMF_CFG_MAX_ANAGRPID
 * @state: NVMF_CFG_ANA_*; "ana.state" absent means optimized
 */
struct nvmf_cfg_ana_group {
	uint32_t grpid;
	uint8_t state;
};

/**
 * struct nvmf_cfg_port - one listening port
 * @portid: port ID, 0..65535, unique
 * @addr: listen address
 * @inline_data_size: "param.inline_data_size" in bytes; -1 = transport default
 * @max_queue_size: "param.max_queue_size" in entries, 2..65536; -1 = transport default
 * @pi_enable: "param.pi_enable" (loaded only)
 * @subsys_idx: subsystems exposed on this port, as indexes into &nvmf_cfg.subsys; empty
 *	for a port that only serves discovery
 * @nr_subsys: entries in @subsys_idx
 * @referrals: discovery referrals
 * @nr_referrals: entries in @referrals
 * @ana_groups: ANA group states on this port, in file order. Group 1 is always present
 *	(added as optimized if the file does not list it, as nvmet does); a group not
 *	listed here is inaccessible through this port, as in nvmet.
 * @nr_ana_groups: entries in @ana_groups, >= 1
 * @vfio_user: vfio-user ports: "vfio_user": {"kas": 100 ms units (0..65535, default 0),
 *	"accept_kato": bool (default: kas != 0), "max_io_queues": 1..128, "max_queue_size":
 *	entries, 2..4096} (0 / absent: the defaults); accept_kato is stored as
 *	NVMF_TGT_VFU_KATO_*
 * @disabled: "enabled" is false (the control socket's disable_port, saved by save_config):
 *	the port is added but does not listen until enable_port; absent means enabled
 */
struct nvmf_cfg_port {
	uint16_t portid;
	struct nvmf_cfg_addr addr;
	int32_t inline_data_size;
	int32_t max_queue_size;
	bool pi_enable;
	size_t *subsys_idx;
	size_t nr_subsys;
	struct nvmf_cfg_referral *referrals;
	size_t nr_referrals;
	struct nvmf_cfg_ana_group *ana_groups;
	size_t nr_ana_groups;
	struct nvmf_tgt_vfio_user_params vfio_user;
	bool disabled;
};

/**
 * struct nvmf_cfg_host - a host known to the target
 * @nqn: host NQN, unique
 */
struct nvmf_cfg_host {
	char nqn[NVMF_CFG_NQN_SIZE];
};

/**
 * struct nvmf_cfg - a whole target configuration
 * @hosts: "hosts", file order
 * @nr_hosts: entries in @hosts
 * @subsys: "subsystems", file order
 * @nr_subsys: entries in @subsys
 * @ports: "ports", file order
 * @nr_ports: entries in @ports
 * @reactors: "nvmf.reactors": number of reactor threads, 0 = one per online CPU, or one per
 *	CPU of "nvmf.cpumask" (default 0, at most %NVMF_CFG_MAX_REACTORS; when both keys are
 *	given, the mask must have this many CPUs)
 * @cpus: "nvmf.cpumask": a string in SPDK's -m forms ("0x3", "[0,2-3]", "0,2-3"; see
 *	nvmf_cpumask_parse()), as its CPUs in ascending order: reactor i is pinned to @cpus[i].
 *	Every CPU must be one the loading process may run on (sched_getaffinity(2)). NULL when
 *	the key is absent.
 * @nr_cpus: entries in @cpus, 0 when "nvmf.cpumask" is absent
 * @kato_default_ms: "nvmf.kato_default_ms" in milliseconds, 0 = not set (default)
 * @rpc_socket: "nvmf.rpc_socket": the control socket's path ("" = none unless -r is given)
 */
struct nvmf_cfg {
	struct nvmf_cfg_host *hosts;
	size_t nr_hosts;
	struct nvmf_cfg_subsys *subsys;
	size_t nr_subsys;
	struct nvmf_cfg_port *ports;
	size_t nr_ports;
	unsigned int reactors;
	int *cpus;
	unsigned int nr_cpus;
	uint32_t kato_default_ms;
	char rpc_socket[108];
};

/**
 * nvmf_cfg_load_file() - read and validate a configuration file
 * @path: file to read (at most 16 MiB); relative namespace paths inside it are resolved
 *	against its directory
 * @out: on success, the new configuration, to be released with nvmf_cfg_free(); on error,
 *	set to NULL
 * @errbuf: on error, receives one NUL-terminated line "<path>: <where>: <what>", where
 *	<where> is the JSON path at fault in dotted form with [index]
 *	("subsystems[0].namespaces[1].device.path") or "line L, column C" for JSON syntax
 *	errors; truncated to @errlen. Set to "" on success. May be NULL.
 * @errlen: size of @errbuf in bytes
 *
 * Besides the checks of nvmf_cfg_load_string(), fails if @path cannot be read.
 *
 * Return: 0 on success or a negative errno: -EINVAL for malformed JSON or an invalid
 * value; -EOPNOTSUPP for valid nvmet settings nvmf cannot honour (rdma/fc ports, TLS,
 * DH-HMAC-CHAP, passthru); the errno of the failed open()/read()/stat() when reading
 * @path or checking a namespace's backing file (e.g. -ENOENT, -EACCES); -EFBIG if @path is
 * larger than 16 MiB; -ENAMETOOLONG if a resolved path exceeds PATH_MAX; -ENOMEM.
 */
int nvmf_cfg_load_file(const char *path, struct nvmf_cfg **out, char *errbuf, size_t errlen);

/**
 * nvmf_cfg_load_string() - parse and validate a configuration held in memory
 * @json: NUL-terminated JSON text
 * @out: on success, the new configuration, to be released with nvmf_cfg_free(); on error,
 *	set to NULL
 * @errbuf: on error, receives "<where>: <what>" (see nvmf_cfg_load_file()); set to "" on
 *	success. May be NULL.
 * @errlen: size of @errbuf in bytes
 *
 * Validates every field (see the struct documentation for the accepted ranges), that
 * names referred to exist (port subsystems, allowed hosts), that IDs are unique, and for
 * each enabled file-backed namespace that its path exists (stat()) or, when nvmf_size is
 * given, that its directory exists. Relative namespace paths are resolved against the
 * current directory.
 *
 * Return: 0 on success or a negative errno, as nvmf_cfg_load_file().
 */
int nvmf_cfg_load_string(const char *json, struct nvmf_cfg **out, char *errbuf, size_t errlen);

/**
 * nvmf_cfg_default() - build the configuration `make run` serves without a config file
 * @var_dir: directory for the backing file; relative paths are made absolute against the
 *	current directory. Neither it nor the file is created or checked here.
 * @out: on success, the new configuration, to be released with nvmf_cfg_free()
 *
 * Subsystem %NVMF_CFG_DEFAULT_NQN, any host allowed, one namespace (NSID 1, file backend
 * <var_dir>/nvmf-default.img, 1 GiB sparse, 512-byte blocks); port 1 tcp 127.0.0.1:4420
 * exposing it; port 2 tcp 127.0.0.1:8009 serving discovery only.
 *
 * Return: 0 on success; -EINVAL if @var_dir is empty; -ENAMETOOLONG if the image path
 * exceeds PATH_MAX; the errno of getcwd(); -ENOMEM.
 */
int nvmf_cfg_default(const char *var_dir, struct nvmf_cfg **out);

/**
 * nvmf_cfg_free() - release a configuration and everything it owns
 * @cfg: configuration from nvmf_cfg_load_file(), nvmf_cfg_load_string() or
 *	nvmf_cfg_default(); NULL is allowed
 */
void nvmf_cfg_free(struct nvmf_cfg *cfg);

#endif /* NVMF_TGT_CONFIG_H */
