/* SPDX-License-Identifier: MIT */
/*
 * Wire formats: NVMe Base 2.0c, NVM Command Set 1.0c, NVMe over Fabrics (in the Base spec,
 * chapter 6) and the NVMe/TCP Transport 1.0c. Plain little-endian structs; every size and
 * key offset is checked with static_assert. Only x86-64/aarch64 little-endian hosts are
 * supported, so multi-byte fields are used directly (see nvmf_le_check below).
 */
#ifndef NVMF_SPEC_H
#define NVMF_SPEC_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nvmf supports little-endian hosts only"
#endif

#define NVMF_PACKED __attribute__((packed))

/* ---------------------------------------------------------------------------------------
 * NQNs and well-known values (NVMe Base 2.0c 4.5)
 */
#define NVME_NQN_MAX_LEN 223 /* bytes, without the terminating NUL */
#define NVME_NQN_FIELD_LEN 256
#define NVME_DISC_SUBSYS_NAME "nqn.2014-08.org.nvmexpress.discovery"
#define NVME_NSID_ALL 0xffffffffu

/* ---------------------------------------------------------------------------------------
 * Submission and completion queue entries (NVMe Base 2.0c 4.2, 4.6)
 */

/* SGL descriptor types (upper nibble) and sub types (lower nibble), NVMe Base 2.0c 4.1.8 */
#define NVME_SGL_TYPE_DATA_BLOCK 0x0
#define NVME_SGL_TYPE_BIT_BUCKET 0x1
#define NVME_SGL_TYPE_SEGMENT 0x2
#define NVME_SGL_TYPE_LAST_SEGMENT 0x3
#define NVME_SGL_TYPE_KEYED_DATA_BLOCK 0x4
#define NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK 0x5
#define NVME_SGL_SUBTYPE_ADDRESS 0x0
#define NVME_SGL_SUBTYPE_OFFSET 0x1
#define NVME_SGL_SUBTYPE_TRANSPORT 0xa
/* In-capsule data: Data Block, Offset. Host-transferred data on TCP: Transport Data Block. */
#define NVME_SGL_ID_INCAPSULE ((NVME_SGL_TYPE_DATA_BLOCK << 4) | NVME_SGL_SUBTYPE_OFFSET)
#define NVME_SGL_ID_TCP_TRANSPORT                                                                  \
	((NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK << 4) | NVME_SGL_SUBTYPE_TRANSPORT)

struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t length;
	uint8_t rsvd[3];
	uint8_t type; /* (descriptor type << 4) | sub type */
} NVMF_PACKED;
static_assert(sizeof(struct nvme_sgl_desc) == 16, "sgl desc");

/* Command flags byte: FUSE in bits 1:0, PSDT in bits 7:6 */
#define NVME_CMD_FUSE_MASK 0x03
#define NVME_CMD_PSDT_MASK 0xc0
#define NVME_CMD_PSDT_PRP 0x00		   /* PSDT 00b: PRPs (PCIe) */
#define NVME_CMD_PSDT_SGL_MPTR_CONTIG 0x40 /* PSDT 01b: SGL, metadata pointer contiguous */
#define NVME_CMD_PSDT_SGL_MPTR_SGL 0x80	   /* PSDT 10b: SGL, metadata pointer is an SGL */

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	union {
		struct nvme_sgl_desc sgl;
		uint64_t prp[2];
	} dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
} NVMF_PACKED;
static_assert(sizeof(struct nvme_sqe) == 64, "sqe");
static_assert(offsetof(struct nvme_sqe, dptr) == 24, "sqe dptr");
static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "sqe cdw10");

struct nvme_cqe {
	union {
		struct {
			uint32_t dw0;
			uint32_t dw1;
		};
		uint64_t u64;
	} result;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status; /* bit 0 phase, 15:1 status field (see NVME_SC_*) */
} NVMF_PACKED;
static_assert(sizeof(struct nvme_cqe) == 16, "cqe");
static_assert(offsetof(struct nvme_cqe, status) == 14, "cqe status");

/*
 * Status field, NVMe Base 2.0c 4.6.1. Held as in the Linux kernel: bits 7:0 SC, bits 10:8
 * SCT, bit 13 More, bit 14 DNR; shifted left by one into the CQE (bit 0 is the phase tag).
 */
#define NVME_SCT_GENERIC 0x000
#define NVME_SCT_CMD_SPECIFIC 0x100
#define NVME_SCT_MEDIA 0x200
#define NVME_SCT_PATH 0x300
#define NVME_SCT_MASK 0x700
#define NVME_SC_MASK 0x0ff
#define NVME_STATUS_MORE 0x2000
#define NVME_STATUS_DNR 0x4000

enum {
	/* Generic command status, NVMe Base 2.0c Figure 102 */
	NVME_SC_SUCCESS = 0x00,
	NVME_SC_INVALID_OPCODE = 0x01,
	NVME_SC_INVALID_FIELD = 0x02,
	NVME_SC_CMDID_CONFLICT = 0x03,
	NVME_SC_DATA_XFER_ERROR = 0x04,
	NVME_SC_POWER_LOSS = 0x05,
	NVME_SC_INTERNAL = 0x06,
	NVME_SC_ABORT_REQ = 0x07,
	NVME_SC_ABORT_QUEUE = 0x08,
	NVME_SC_FUSED_FAIL = 0x09,
	NVME_SC_FUSED_MISSING = 0x0a,
	NVME_SC_INVALID_NS = 0x0b,
	NVME_SC_CMD_SEQ_ERROR = 0x0c,
	NVME_SC_SGL_INVALID_LAST = 0x0d,
	NVME_SC_SGL_INVALID_COUNT = 0x0e,
	NVME_SC_SGL_INVALID_DATA = 0x0f,
	NVME_SC_SGL_INVALID_METADATA = 0x10,
	NVME_SC_SGL_INVALID_TYPE = 0x11,
	NVME_SC_SGL_INVALID_OFFSET = 0x16,
	NVME_SC_PRP_INVALID_OFFSET = 0x13,
	NVME_SC_SGL_INVALID_SUBTYPE = 0x17,
	NVME_SC_NS_WRITE_PROTECTED = 0x20,
	NVME_SC_CMD_INTERRUPTED = 0x21,
	NVME_SC_TRANSIENT_TR_ERR = 0x22,
	NVME_SC_INVALID_IO_CMD_SET = 0x2c,
	NVME_SC_LBA_RANGE = 0x80,
	NVME_SC_CAP_EXCEEDED = 0x81,
	NVME_SC_NS_NOT_READY = 0x82,
	NVME_SC_RESERVATION_CONFLICT = 0x83,

	/* Command specific, NVMe Base 2.0c Figure 103 (SCT 1) */
	NVME_SC_CQ_INVALID = NVME_SCT_CMD_SPECIFIC | 0x00,
	NVME_SC_QID_INVALID = NVME_SCT_CMD_SPECIFIC | 0x01,
	NVME_SC_QUEUE_SIZE = NVME_SCT_CMD_SPECIFIC | 0x02,
	NVME_SC_ABORT_LIMIT = NVME_SCT_CMD_SPECIFIC | 0x03,
	NVME_SC_INVALID_VECTOR = NVME_SCT_CMD_SPECIFIC | 0x08,
	NVME_SC_INVALID_QUEUE_DELETION = NVME_SCT_CMD_SPECIFIC | 0x0c,
	NVME_SC_ASYNC_LIMIT = NVME_SCT_CMD_SPECIFIC | 0x05,
	NVME_SC_INVALID_LOG_PAGE = NVME_SCT_CMD_SPECIFIC | 0x09,
	NVME_SC_FEATURE_NOT_SAVEABLE = NVME_SCT_CMD_SPECIFIC | 0x0d,
	NVME_SC_FEATURE_NOT_CHANGEABLE = NVME_SCT_CMD_SPECIFIC | 0x0e,
	NVME_SC_FEATURE_NOT_PER_NS = NVME_SCT_CMD_SPECIFIC | 0x0f,
	/* Fabrics command specific, NVMe Base 2.0c Figure 104 (Connect) */
	NVME_SC_CONNECT_FORMAT = NVME_SCT_CMD_SPECIFIC | 0x80,
	NVME_SC_CONNECT_CTRL_BUSY = NVME_SCT_CMD_SPECIFIC | 0x81,
	NVME_SC_CONNECT_INVALID_PARAM = NVME_SCT_CMD_SPECIFIC | 0x82,
	NVME_SC_CONNECT_RESTART_DISC = NVME_SCT_CMD_SPECIFIC | 0x83,
	NVME_SC_CONNECT_INVALID_HOST = NVME_SCT_CMD_SPECIFIC | 0x84,

	/* NVM command set specific (SCT 1), NVM Command Set 1.0c Figure 15 */
	NVME_SC_BAD_ATTRIBUTES = NVME_SCT_CMD_SPECIFIC | 0x80,

	/* Media and data integrity errors, NVMe Base 2.0c Figure 105 (SCT 2) */
	NVME_SC_WRITE_FAULT = NVME_SCT_MEDIA | 0x80,
	NVME_SC_READ_ERROR = NVME_SCT_MEDIA | 0x81,
	NVME_SC_COMPARE_FAILED = NVME_SCT_MEDIA | 0x85,
	NVME_SC_ACCESS_DENIED = NVME_SCT_MEDIA | 0x86,

	/* Path related status, NVMe Base 2.0c Figure 106 (SCT 3) */
	NVME_SC_ANA_PERSISTENT_LOSS = NVME_SCT_PATH | 0x01,
	NVME_SC_ANA_INACCESSIBLE = NVME_SCT_PATH | 0x02,
	NVME_SC_ANA_TRANSITION = NVME_SCT_PATH | 0x03,
	NVME_SC_CTRL_PATH_ERROR = NVME_SCT_PATH | 0x60,
	NVME_SC_HOST_PATH_ERROR = NVME_SCT_PATH | 0x70,
	NVME_SC_HOST_ABORTED_CMD = NVME_SCT_PATH | 0x71,
};

/* ---------------------------------------------------------------------------------------
 * Opcodes (NVMe Base 2.0c Figure 28, 84; NVM Command Set 1.0c Figure 17)
 */
enum nvme_admin_opcode {
	nvme_admin_delete_sq = 0x00,
	nvme_admin_create_sq = 0x01,
	nvme_admin_get_log_page = 0x02,
	nvme_admin_delete_cq = 0x04,
	nvme_admin_create_cq = 0x05,
	nvme_admin_identify = 0x06,
	nvme_admin_abort_cmd = 0x08,
	nvme_admin_set_features = 0x09,
	nvme_admin_get_features = 0x0a,
	nvme_admin_async_event = 0x0c,
	nvme_admin_ns_mgmt = 0x0d,
	nvme_admin_activate_fw = 0x10,
	nvme_admin_download_fw = 0x11,
	nvme_admin_dev_self_test = 0x14,
	nvme_admin_ns_attach = 0x15,
	nvme_admin_keep_alive = 0x18,
	nvme_admin_directive_send = 0x19,
	nvme_admin_directive_recv = 0x1a,
	nvme_admin_virtual_mgmt = 0x1c,
	nvme_admin_nvme_mi_send = 0x1d,
	nvme_admin_nvme_mi_recv = 0x1e,
	nvme_admin_dbbuf = 0x7c,
	nvme_admin_format_nvm = 0x80,
	nvme_admin_security_send = 0x81,
	nvme_admin_security_recv = 0x82,
	nvme_admin_sanitize_nvm = 0x84,
	nvme_admin_get_lba_status = 0x86,
};

enum nvme_io_opcode {
	nvme_cmd_flush = 0x00,
	nvme_cmd_write = 0x01,
	nvme_cmd_read = 0x02,
	nvme_cmd_write_uncor = 0x04,
	nvme_cmd_compare = 0x05,
	nvme_cmd_write_zeroes = 0x08,
	nvme_cmd_dsm = 0x09,
	nvme_cmd_verify = 0x0c,
	nvme_cmd_resv_register = 0x0d,
	nvme_cmd_resv_report = 0x0e,
	nvme_cmd_resv_acquire = 0x11,
	nvme_cmd_resv_release = 0x15,
	nvme_cmd_copy = 0x19,
};

/* Fabrics commands: opcode 0x7f, the type in byte 4 (NVMe Base 2.0c 6.1) */
#define nvme_fabrics_command 0x7f
enum nvmf_fabrics_type {
	nvme_fabrics_type_property_set = 0x00,
	nvme_fabrics_type_connect = 0x01,
	nvme_fabrics_type_property_get = 0x04,
	nvme_fabrics_type_auth_send = 0x05,
	nvme_fabrics_type_auth_receive = 0x06,
	nvme_fabrics_type_disconnect = 0x08,
};

/* Read/Write/Compare/Write Zeroes: cdw10-11 SLBA, cdw12 NLB (0's based) and flags */
#define NVME_RW_FUA (1u << 30)
#define NVME_RW_LR (1u << 31)
#define NVME_WZ_DEAC (1u << 25)
#define NVME_RW_NLB_MASK 0xffffu
/* Dataset Management: cdw10 NR (0's based), cdw11 attributes */
#define NVME_DSMGMT_AD (1u << 2)
#define NVME_DSM_MAX_RANGES 256

struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb; /* not 0's based */
	uint64_t slba;
} NVMF_PACKED;
static_assert(sizeof(struct nvme_dsm_range) == 16, "dsm range");

/* ---------------------------------------------------------------------------------------
 * Fabrics commands (NVMe Base 2.0c 6.3 Connect, 6.5 Property Get, 6.6 Property Set)
 */
struct nvmf_common_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t ts[24];
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_common_cmd) == 64, "fabrics cmd");

/* CATTR bit 2: disable SQ flow control (NVMe Base 2.0c Figure 547) */
#define NVMF_CONNECT_CATTR_DISABLE_SQFLOW (1u << 2)

struct nvmf_connect_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[19];
	struct nvme_sgl_desc dptr;
	uint16_t recfmt;
	uint16_t qid;
	uint16_t sqsize; /* 0's based */
	uint8_t cattr;
	uint8_t rsvd3;
	uint32_t kato; /* ms */
	uint8_t rsvd4[12];
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_connect_cmd) == 64, "connect cmd");
static_assert(offsetof(struct nvmf_connect_cmd, recfmt) == 40, "connect recfmt");
static_assert(offsetof(struct nvmf_connect_cmd, kato) == 48, "connect kato");

struct nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t rsvd4[238];
	char subsysnqn[NVME_NQN_FIELD_LEN];
	char hostnqn[NVME_NQN_FIELD_LEN];
	uint8_t rsvd5[256];
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_connect_data) == 1024, "connect data");
static_assert(offsetof(struct nvmf_connect_data, subsysnqn) == 256, "connect subnqn");
static_assert(offsetof(struct nvmf_connect_data, hostnqn) == 512, "connect hostnqn");

#define NVME_CNTLID_DYNAMIC 0xffff
#define NVME_CNTLID_MIN 1
#define NVME_CNTLID_MAX 0xffef

/* Property Get/Set: attrib bit 0 selects 8-byte access (NVMe Base 2.0c Figure 554) */
struct nvmf_property_cmd {
	uint8_t opcode;
	uint8_t rsvd1;
	uint16_t cid;
	uint8_t fctype;
	uint8_t rsvd2[35];
	uint8_t attrib;
	uint8_t rsvd3[3];
	uint32_t offset;
	uint64_t value; /* Property Set only */
	uint8_t rsvd4[8];
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_property_cmd) == 64, "property cmd");
static_assert(offsetof(struct nvmf_property_cmd, offset) == 44, "property offset");
static_assert(offsetof(struct nvmf_property_cmd, value) == 48, "property value");

/* Controller properties (NVMe Base 2.0c 3.1.4, Figure 33) */
enum {
	NVME_REG_CAP = 0x00,
	NVME_REG_VS = 0x08,
	NVME_REG_INTMS = 0x0c,
	NVME_REG_INTMC = 0x10,
	NVME_REG_CC = 0x14,
	NVME_REG_CSTS = 0x1c,
	NVME_REG_NSSR = 0x20,
	NVME_REG_AQA = 0x24,
	NVME_REG_ASQ = 0x28,
	NVME_REG_ACQ = 0x30,
};

#define NVME_CAP_MQES(cap) ((cap)&0xffff)
#define NVME_CAP_CQR (1ull << 16)
#define NVME_CAP_AMS_WRR (1ull << 17)
#define NVME_CAP_TO_SHIFT 24 /* 500 ms units */
#define NVME_CAP_TO(cap) (((cap) >> 24) & 0xff)
#define NVME_CAP_DSTRD_SHIFT 32 /* doorbell stride: 4 << DSTRD bytes */
#define NVME_CAP_DSTRD(cap) (((cap) >> 32) & 0xf)
#define NVME_CAP_NSSRS (1ull << 36)
#define NVME_CAP_CSS_NVM (1ull << 37)
#define NVME_CAP_CSS_CSI (1ull << 43)
#define NVME_CAP_MPSMIN_SHIFT 48 /* memory page size 2 ^ (12 + MPSMIN) */
#define NVME_CAP_MPSMIN(cap) (((cap) >> 48) & 0xf)
#define NVME_CAP_MPSMAX_SHIFT 52
#define NVME_CAP_MPSMAX(cap) (((cap) >> 52) & 0xf)

/* PCIe: Admin Queue Attributes (0's based sizes) and the doorbells (NVMe PCIe 1.0c 3.1) */
#define NVME_AQA_ASQS_MASK 0xfffu
#define NVME_AQA_ACQS_SHIFT 16
#define NVME_REG_DBS 0x1000	   /* SQ y tail at 0x1000 + 2y * stride, CQ y head one stride on */
#define NVME_NSSR_RESET 0x4e564d65 /* "NVMe" */

/*
 * Create I/O Completion/Submission Queue (NVMe Base 2.0c 5.4, 5.5): PRP1 is the queue's
 * base; CDW10 QSIZE (0's based) << 16 | QID; CDW11 of Create CQ IV << 16 | IEN | PC, of
 * Create SQ CQID << 16 | QPRIO << 1 | PC. Delete (5.6, 5.7): CDW10 QID.
 */
#define NVME_QUEUE_PHYS_CONTIG (1u << 0)
#define NVME_CQ_IRQ_ENABLED (1u << 1)
#define NVME_CREATE_QSIZE(cdw10) ((uint16_t)((cdw10) >> 16))
#define NVME_CREATE_QID(cdw10) ((uint16_t)((cdw10)&0xffff))
#define NVME_CREATE_CQ_IV(cdw11) ((uint16_t)((cdw11) >> 16))
#define NVME_CREATE_SQ_CQID(cdw11) ((uint16_t)((cdw11) >> 16))

#define NVME_CC_ENABLE (1u << 0)
#define NVME_CC_CSS_SHIFT 4
#define NVME_CC_CSS_MASK (7u << 4)
#define NVME_CC_MPS_SHIFT 7
#define NVME_CC_MPS_MASK (0xfu << 7)
#define NVME_CC_AMS_MASK (7u << 11)
#define NVME_CC_SHN_SHIFT 14
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_SHN_NONE (0u << 14)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_SHN_ABRUPT (2u << 14)
#define NVME_CC_IOSQES_SHIFT 16
#define NVME_CC_IOSQES_MASK (0xfu << 16)
#define NVME_CC_IOCQES_SHIFT 20
#define NVME_CC_IOCQES_MASK (0xfu << 20)
#define NVME_CC_CRIME (1u << 24)

#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_NORMAL (0u << 2)
#define NVME_CSTS_SHST_OCCUR (1u << 2)
#define NVME_CSTS_SHST_CMPLT (2u << 2)
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_NSSRO (1u << 4)
#define NVME_CSTS_PP (1u << 5)

#define NVME_VS(major, minor, ter) (((uint32_t)(major) << 16) | ((minor) << 8) | (ter))

/* ---------------------------------------------------------------------------------------
 * Identify (NVMe Base 2.0c 5.17)
 */
enum {
	NVME_ID_CNS_NS = 0x00,
	NVME_ID_CNS_CTRL = 0x01,
	NVME_ID_CNS_NS_ACTIVE_LIST = 0x02,
	NVME_ID_CNS_NS_DESC_LIST = 0x03,
	NVME_ID_CNS_CS_NS = 0x05,
	NVME_ID_CNS_CS_CTRL = 0x06,
	NVME_ID_CNS_NS_ACTIVE_LIST_CS = 0x07,
	NVME_ID_CNS_NS_CS_INDEP = 0x08,
	NVME_ID_CNS_NS_PRESENT_LIST = 0x10,
	NVME_ID_CNS_NS_PRESENT = 0x11,
	NVME_ID_CNS_CTRL_NS_LIST = 0x12,
	NVME_ID_CNS_CTRL_LIST = 0x13,
	NVME_ID_CNS_CTRL_IOCS = 0x1c, /* I/O Command Set data structures */
};

#define NVME_CSI_NVM 0x00
#define NVME_CSI_KV 0x01
#define NVME_CSI_ZNS 0x02

#define NVME_IDENTIFY_DATA_SIZE 4096

struct nvme_id_power_state {
	uint16_t max_power; /* centiwatts */
	uint8_t rsvd2;
	uint8_t flags;
	uint32_t entry_lat; /* us */
	uint32_t exit_lat;  /* us */
	uint8_t read_tput;
	uint8_t read_lat;
	uint8_t write_tput;
	uint8_t write_lat;
	uint16_t idle_power;
	uint8_t idle_scale;
	uint8_t rsvd19;
	uint16_t active_power;
	uint8_t active_work_scale;
	uint8_t rsvd23[9];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_id_power_state) == 32, "psd");

/* Identify Controller data structure, NVMe Base 2.0c Figure 275 */
struct nvme_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt1;
	uint16_t crdt2;
	uint16_t crdt3;
	uint8_t rsvd134[119];
	uint8_t nvmsr;
	uint8_t vwci;
	uint8_t mec;
	uint16_t oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint8_t tnvmcap[16];
	uint8_t unvmcap[16];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint16_t domainid;
	uint8_t rsvd358[10];
	uint8_t megcap[16];
	uint8_t rsvd384[128];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t icsvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	uint32_t sgls;
	uint32_t mnan;
	uint8_t maxdna[16];
	uint32_t maxcna;
	uint8_t rsvd564[204];
	char subnqn[NVME_NQN_FIELD_LEN];
	uint8_t rsvd1024[768];
	/* Fabrics specific, NVMe Base 2.0c Figure 275 bytes 1792..2047 */
	uint32_t ioccsz; /* 16-byte units */
	uint32_t iorcsz; /* 16-byte units */
	uint16_t icdoff; /* 16-byte units */
	uint8_t fcatt;
	uint8_t msdbd;
	uint16_t ofcs;
	uint8_t dctype;
	uint8_t rsvd1807[241];
	struct nvme_id_power_state psd[32];
	uint8_t vs[1024];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_id_ctrl) == 4096, "id ctrl");
static_assert(offsetof(struct nvme_id_ctrl, cntrltype) == 111, "id ctrl cntrltype");
static_assert(offsetof(struct nvme_id_ctrl, oacs) == 256, "id ctrl oacs");
static_assert(offsetof(struct nvme_id_ctrl, kas) == 320, "id ctrl kas");
static_assert(offsetof(struct nvme_id_ctrl, anatt) == 342, "id ctrl anatt");
static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "id ctrl sqes");
static_assert(offsetof(struct nvme_id_ctrl, nn) == 516, "id ctrl nn");
static_assert(offsetof(struct nvme_id_ctrl, vwc) == 525, "id ctrl vwc");
static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "id ctrl sgls");
static_assert(offsetof(struct nvme_id_ctrl, subnqn) == 768, "id ctrl subnqn");
static_assert(offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "id ctrl ioccsz");
static_assert(offsetof(struct nvme_id_ctrl, dctype) == 1806, "id ctrl dctype");
static_assert(offsetof(struct nvme_id_ctrl, psd) == 2048, "id ctrl psd");

#define NVME_CTRL_TYPE_IO 1
#define NVME_CTRL_TYPE_DISC 2
#define NVME_CTRL_TYPE_ADMIN 3

/* CMIC bits */
#define NVME_CTRL_CMIC_MULTI_PORT (1u << 0)
#define NVME_CTRL_CMIC_MULTI_CTRL (1u << 1)
#define NVME_CTRL_CMIC_ANA (1u << 3)
/* OAES bits */
#define NVME_OAES_NS_ATTR (1u << 8)
#define NVME_OAES_FW_ACT (1u << 9)
#define NVME_OAES_ANA_CHANGE (1u << 11)
#define NVME_OAES_DISC_CHANGE (1u << 31)
/* CTRATT bits */
#define NVME_CTRATT_HOST_ID_128 (1u << 0)
/* LPA bits */
#define NVME_LPA_SMART_PER_NS (1u << 0)
#define NVME_LPA_CMD_EFFECTS (1u << 1)
#define NVME_LPA_EXT_DATA (1u << 2)
/* ONCS bits */
#define NVME_ONCS_COMPARE (1u << 0)
#define NVME_ONCS_WRITE_UNCOR (1u << 1)
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
/* FUSES: compare and write */
#define NVME_FUSES_CMP_WRITE (1u << 0)
/* VWC: present, and bits 2:1 = 11b "flush with NSID FFFFFFFFh supported" */
#define NVME_VWC_PRESENT (1u << 0)
#define NVME_VWC_NSID_ALL_FLUSH (3u << 1)
/* SGLS bits, NVMe Base 2.0c Figure 275 */
#define NVME_SGLS_SUPPORTED (1u << 0)
#define NVME_SGLS_KEYED (1u << 2)
#define NVME_SGLS_OFFSET (1u << 20)
/* FCATT bit 0: 0 = dynamic controller model */
/* ANACAP bits */
#define NVME_ANACAP_OPTIMIZED (1u << 0)
#define NVME_ANACAP_NON_OPTIMIZED (1u << 1)
#define NVME_ANACAP_INACCESSIBLE (1u << 2)
#define NVME_ANACAP_PERSISTENT_LOSS (1u << 3)
#define NVME_ANACAP_CHANGE (1u << 4)
#define NVME_ANACAP_GRPID_NO_CHANGE (1u << 6)

struct nvme_lbaf {
	uint16_t ms;
	uint8_t ds; /* log2 of the LBA data size in bytes */
	uint8_t rp;
} NVMF_PACKED;

/* Identify Namespace data structure (NVM), NVM Command Set 1.0c Figure 97 */
struct nvme_id_ns {
	uint64_t nsze; /* LBAs */
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint16_t mssrl;
	uint32_t mcl;
	uint8_t msrc;
	uint8_t rsvd81[11];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[64];
	uint8_t vs[3712];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_id_ns) == 4096, "id ns");
static_assert(offsetof(struct nvme_id_ns, dlfeat) == 33, "id ns dlfeat");
static_assert(offsetof(struct nvme_id_ns, nvmcap) == 48, "id ns nvmcap");
static_assert(offsetof(struct nvme_id_ns, anagrpid) == 92, "id ns anagrpid");
static_assert(offsetof(struct nvme_id_ns, nguid) == 104, "id ns nguid");
static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "id ns lbaf");

#define NVME_NS_FEAT_THIN (1u << 0)
#define NVME_NS_FEAT_IO_OPT (1u << 4)
#define NVME_NS_NMIC_SHARED (1u << 0)
/* DLFEAT: read of deallocated LBAs returns zeroes (bits 2:0 = 001b), Write Zeroes DEAC (bit 3) */
#define NVME_NS_DLFEAT_READ_ZEROES 0x01
#define NVME_NS_DLFEAT_WZ_DEAC (1u << 3)

/* I/O Command Set Independent Identify Namespace, NVMe Base 2.0c Figure 280 */
struct nvme_id_ns_cs_indep {
	uint8_t nsfeat;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint32_t anagrpid;
	uint8_t nsattr;
	uint8_t rsvd9;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nstat;
	uint8_t rsvd15[4081];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_id_ns_cs_indep) == 4096, "id ns cs indep");
static_assert(offsetof(struct nvme_id_ns_cs_indep, nstat) == 14, "id ns cs indep nstat");

/* Namespace Identification Descriptor, NVMe Base 2.0c Figure 283 */
struct nvme_ns_id_desc {
	uint8_t nidt;
	uint8_t nidl;
	uint16_t rsvd;
} NVMF_PACKED;
#define NVME_NIDT_EUI64 0x01
#define NVME_NIDT_NGUID 0x02
#define NVME_NIDT_UUID 0x03
#define NVME_NIDT_CSI 0x04
#define NVME_NIDT_EUI64_LEN 8
#define NVME_NIDT_NGUID_LEN 16
#define NVME_NIDT_UUID_LEN 16
#define NVME_NIDT_CSI_LEN 1

/* ---------------------------------------------------------------------------------------
 * Log pages (NVMe Base 2.0c 5.16)
 */
enum {
	NVME_LOG_SUPPORTED = 0x00,
	NVME_LOG_ERROR = 0x01,
	NVME_LOG_SMART = 0x02,
	NVME_LOG_FW_SLOT = 0x03,
	NVME_LOG_CHANGED_NS = 0x04,
	NVME_LOG_CMD_EFFECTS = 0x05,
	NVME_LOG_DEVICE_SELF_TEST = 0x06,
	NVME_LOG_TELEMETRY_HOST = 0x07,
	NVME_LOG_ENDURANCE_GROUP = 0x09,
	NVME_LOG_ANA = 0x0c,
	NVME_LOG_DISC = 0x70,
	NVME_LOG_RESERVATION = 0x80,
};

/* Get Log Page cdw10: LID 7:0, LSP 14:8, RAE 15, NUMDL 31:16; cdw11 NUMDU 15:0, LSI 31:16 */
#define NVME_LOG_RAE (1u << 15)

struct nvme_error_log_entry {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cmdid;
	uint16_t status_field; /* bit 0 phase tag, as in the CQE */
	uint16_t param_error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vs;
	uint8_t trtype;
	uint16_t csi_rsvd;
	uint64_t cs;
	uint16_t trtype_spec_info;
	uint8_t rsvd[22];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_error_log_entry) == 64, "error log entry");
static_assert(offsetof(struct nvme_error_log_entry, nsid) == 24, "error log nsid");

struct nvme_smart_log {
	uint8_t critical_warning;
	uint16_t temperature; /* Kelvin */
	uint8_t avail_spare;
	uint8_t spare_thresh;
	uint8_t percent_used;
	uint8_t endu_grp_crit_warn_sumry;
	uint8_t rsvd7[25];
	uint8_t data_units_read[16]; /* thousands of 512-byte units, rounded up */
	uint8_t data_units_written[16];
	uint8_t host_reads[16];
	uint8_t host_writes[16];
	uint8_t ctrl_busy_time[16]; /* minutes */
	uint8_t power_cycles[16];
	uint8_t power_on_hours[16];
	uint8_t unsafe_shutdowns[16];
	uint8_t media_errors[16];
	uint8_t num_err_log_entries[16];
	uint32_t warning_temp_time;
	uint32_t critical_comp_time;
	uint16_t temp_sensor[8];
	uint32_t thm_temp1_trans_count;
	uint32_t thm_temp2_trans_count;
	uint32_t thm_temp1_total_time;
	uint32_t thm_temp2_total_time;
	uint8_t rsvd232[280];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_smart_log) == 512, "smart log");
static_assert(offsetof(struct nvme_smart_log, data_units_read) == 32, "smart dur");
static_assert(offsetof(struct nvme_smart_log, warning_temp_time) == 192, "smart wtt");

struct nvme_fw_slot_log {
	uint8_t afi;
	uint8_t rsvd1[7];
	char frs[7][8];
	uint8_t rsvd64[448];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_fw_slot_log) == 512, "fw slot log");

/* Commands Supported and Effects, NVMe Base 2.0c Figure 210/211 */
#define NVME_CMD_EFFECTS_CSUPP (1u << 0)
#define NVME_CMD_EFFECTS_LBCC (1u << 1)
#define NVME_CMD_EFFECTS_NCC (1u << 2)
#define NVME_CMD_EFFECTS_NIC (1u << 3)
#define NVME_CMD_EFFECTS_CCC (1u << 4)
#define NVME_CMD_EFFECTS_CSE_MASK (7u << 16)

struct nvme_effects_log {
	uint32_t acs[256];
	uint32_t iocs[256];
	uint8_t rsvd[2048];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_effects_log) == 4096, "effects log");

#define NVME_MAX_CHANGED_NAMESPACES 1024

/* ANA log page, NVMe Base 2.0c 5.16.1.12 */
enum nvme_ana_state {
	NVME_ANA_OPTIMIZED = 0x01,
	NVME_ANA_NONOPTIMIZED = 0x02,
	NVME_ANA_INACCESSIBLE = 0x03,
	NVME_ANA_PERSISTENT_LOSS = 0x04,
	NVME_ANA_CHANGE = 0x0f,
};
#define NVME_ANA_LOG_RGO (1u << 0) /* LSP bit: return groups only */

struct nvme_ana_rsp_hdr {
	uint64_t chgcnt;
	uint16_t ngrps;
	uint16_t rsvd10[3];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_ana_rsp_hdr) == 16, "ana hdr");

struct nvme_ana_group_desc {
	uint32_t grpid;
	uint32_t nnsids;
	uint64_t chgcnt;
	uint8_t state;
	uint8_t rsvd17[15];
	uint32_t nsids[];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_ana_group_desc) == 32, "ana desc");

/* Discovery log page, NVMe Base 2.0c 5.16.1.23 */
enum {
	NVMF_TRTYPE_RDMA = 1,
	NVMF_TRTYPE_FC = 2,
	NVMF_TRTYPE_TCP = 3,
	NVMF_TRTYPE_LOOP = 254,
	/*
	 * Not a fabrics transport: our ports that export a PCIe controller over vfio-user.
	 * Never in a discovery log entry (the value is ours, outside the spec's list).
	 */
	NVMF_TRTYPE_VFIO_USER = 253,
};
enum {
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
	NVMF_ADRFAM_IB = 3,
	NVMF_ADRFAM_FC = 4,
	NVMF_ADRFAM_LOOP = 254,
};
enum {
	NVME_NQN_DISC = 1, /* referral to a discovery subsystem */
	NVME_NQN_NVME = 2, /* NVM subsystem */
	NVME_NQN_CURR = 3, /* the current discovery subsystem */
};
enum {
	NVMF_TREQ_NOT_SPECIFIED = 0,
	NVMF_TREQ_REQUIRED = 1,
	NVMF_TREQ_NOT_REQUIRED = 2,
	NVMF_TREQ_DISABLE_SQFLOW = (1u << 2),
};
#define NVMF_DISC_EFLAGS_EPCSD (1u << 1)
#define NVMF_DISC_EFLAGS_DUPRETINFO (1u << 0)
#define NVMF_TCP_SECTYPE_NONE 0

struct nvmf_disc_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd12[20];
	char trsvcid[32];
	uint8_t rsvd64[192];
	char subnqn[NVME_NQN_FIELD_LEN];
	char traddr[256];
	union {
		uint8_t common[256];
		struct {
			uint8_t sectype;
		} tcp;
	} tsas;
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "disc entry");
static_assert(offsetof(struct nvmf_disc_log_entry, trsvcid) == 32, "disc trsvcid");
static_assert(offsetof(struct nvmf_disc_log_entry, subnqn) == 256, "disc subnqn");
static_assert(offsetof(struct nvmf_disc_log_entry, traddr) == 512, "disc traddr");

struct nvmf_disc_rsp_page_hdr {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd14[1006];
	struct nvmf_disc_log_entry entries[];
} NVMF_PACKED;
static_assert(sizeof(struct nvmf_disc_rsp_page_hdr) == 1024, "disc hdr");

/* ---------------------------------------------------------------------------------------
 * Features (NVMe Base 2.0c 5.27.1)
 */
enum {
	NVME_FEAT_ARBITRATION = 0x01,
	NVME_FEAT_POWER_MGMT = 0x02,
	NVME_FEAT_LBA_RANGE = 0x03,
	NVME_FEAT_TEMP_THRESH = 0x04,
	NVME_FEAT_ERR_RECOVERY = 0x05,
	NVME_FEAT_VOLATILE_WC = 0x06,
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_IRQ_COALESCE = 0x08,
	NVME_FEAT_IRQ_CONFIG = 0x09,
	NVME_FEAT_WRITE_ATOMIC = 0x0a,
	NVME_FEAT_ASYNC_EVENT = 0x0b,
	NVME_FEAT_AUTO_PST = 0x0c,
	NVME_FEAT_HOST_MEM_BUF = 0x0d,
	NVME_FEAT_TIMESTAMP = 0x0e,
	NVME_FEAT_KATO = 0x0f,
	NVME_FEAT_HCTM = 0x10,
	NVME_FEAT_NOPSC = 0x11,
	NVME_FEAT_RRL = 0x12,
	NVME_FEAT_HOST_BEHAVIOR = 0x16,
	NVME_FEAT_WRITE_PROTECT = 0x84,
	NVME_FEAT_HOST_ID = 0x81,
	NVME_FEAT_RESV_MASK = 0x82,
	NVME_FEAT_RESV_PERSIST = 0x83,
};
/* Get Features SEL (cdw10 10:8) */
#define NVME_FEAT_SEL_CURRENT 0
#define NVME_FEAT_SEL_DEFAULT 1
#define NVME_FEAT_SEL_SAVED 2
#define NVME_FEAT_SEL_SUPPORTED 3
#define NVME_FEAT_SV (1u << 31) /* Set Features: save */

/* Asynchronous events, NVMe Base 2.0c 5.2 */
enum {
	NVME_AER_TYPE_ERROR = 0,
	NVME_AER_TYPE_SMART = 1,
	NVME_AER_TYPE_NOTICE = 2,
};
enum {
	NVME_AER_NOTICE_NS_CHANGED = 0x00,
	NVME_AER_NOTICE_FW_ACT_STARTING = 0x01,
	NVME_AER_NOTICE_ANA = 0x03,
	NVME_AER_NOTICE_DISC_CHANGED = 0xf0,
};
/* Asynchronous Event Configuration feature bits */
#define NVME_AEN_CFG_NS_ATTR (1u << 8)
#define NVME_AEN_CFG_FW_ACT (1u << 9)
#define NVME_AEN_CFG_ANA_CHANGE (1u << 11)
#define NVME_AEN_CFG_DISC_CHANGE (1u << 31)

/* ---------------------------------------------------------------------------------------
 * NVMe/TCP PDUs (NVMe/TCP Transport 1.0c 3.6)
 */
enum nvme_tcp_pdu_type {
	nvme_tcp_icreq = 0x00,
	nvme_tcp_icresp = 0x01,
	nvme_tcp_h2c_term = 0x02,
	nvme_tcp_c2h_term = 0x03,
	nvme_tcp_cmd = 0x04,
	nvme_tcp_rsp = 0x05,
	nvme_tcp_h2c_data = 0x06,
	nvme_tcp_c2h_data = 0x07,
	nvme_tcp_r2t = 0x09,
};

enum {
	NVME_TCP_F_HDGST = (1u << 0),
	NVME_TCP_F_DDGST = (1u << 1),
	NVME_TCP_F_DATA_LAST = (1u << 2),
	NVME_TCP_F_DATA_SUCCESS = (1u << 3),
};

/* ICReq/ICResp DGST byte */
#define NVME_TCP_HDR_DIGEST_ENABLE (1u << 0)
#define NVME_TCP_DATA_DIGEST_ENABLE (1u << 1)
#define NVME_TCP_PFV_1_0 0x0
#define NVME_TCP_DIGEST_LEN 4
#define NVME_TCP_MAX_HPDA 31 /* dwords, 0's based: PDA = (HPDA+1)*4 bytes */

/* Termination PDU fatal error status (NVMe/TCP 1.0c Figure 23) */
enum nvme_tcp_fatal_error_status {
	NVME_TCP_FES_INVALID_PDU_HDR = 0x01,
	NVME_TCP_FES_PDU_SEQ_ERR = 0x02,
	NVME_TCP_FES_HDR_DIGEST_ERR = 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE = 0x04,
	NVME_TCP_FES_R2T_LIMIT_EXCEEDED = 0x05,
	NVME_TCP_FES_DATA_LIMIT_EXCEEDED = 0x05,
	NVME_TCP_FES_UNSUPPORTED_PARAM = 0x06,
};
#define NVME_TCP_TERM_MAX_DATA 128 /* bytes of the offending PDU header echoed back */

struct nvme_tcp_hdr {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;  /* bytes */
	uint8_t pdo;   /* bytes */
	uint32_t plen; /* bytes, the whole PDU */
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_hdr) == 8, "tcp hdr");

struct nvme_tcp_icreq_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t hpda;
	uint8_t digest;
	uint32_t maxr2t; /* 0's based */
	uint8_t rsvd2[112];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_icreq_pdu) == 128, "icreq");

struct nvme_tcp_icresp_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t pfv;
	uint8_t cpda;
	uint8_t digest;
	uint32_t maxdata; /* MAXH2CDATA, bytes */
	uint8_t rsvd[112];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_icresp_pdu) == 128, "icresp");

struct nvme_tcp_term_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t fes;
	uint32_t fei; /* field error information: byte offset, or the unsupported value */
	uint8_t rsvd[10];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_term_pdu) == 24, "term pdu");

struct nvme_tcp_cmd_pdu {
	struct nvme_tcp_hdr hdr;
	struct nvme_sqe cmd;
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_cmd_pdu) == 72, "cmd pdu");

struct nvme_tcp_rsp_pdu {
	struct nvme_tcp_hdr hdr;
	struct nvme_cqe cqe;
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_rsp_pdu) == 24, "rsp pdu");

struct nvme_tcp_data_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t datao; /* bytes */
	uint32_t datal; /* bytes */
	uint8_t rsvd[4];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_data_pdu) == 24, "data pdu");

struct nvme_tcp_r2t_pdu {
	struct nvme_tcp_hdr hdr;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to; /* bytes */
	uint32_t r2tl; /* bytes */
	uint8_t rsvd[4];
} NVMF_PACKED;
static_assert(sizeof(struct nvme_tcp_r2t_pdu) == 24, "r2t pdu");

#define NVME_TCP_DISC_PORT 8009
#define NVME_TCP_ADMIN_CCSZ 8192 /* admin/fabrics in-capsule data limit, bytes */

#endif /* NVMF_SPEC_H */
