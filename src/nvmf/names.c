// SPDX-License-Identifier: MIT
/*
 * Names the CLI prints: NVMe status codes (nvme-cli 1.x "NAME: description" form, which
 * keeps the spec's short names greppable), feature identifiers, opcodes, and the Discovery
 * Log Page Entry fields as libnvme spells them.
 */
#include "print.h"

#include "common/ana.h"
#include "nvmf/spec.h"

#include <stddef.h>

struct code_name {
	uint16_t code;
	const char *name;
};

/* NVMe Base 2.0c Figures 102-106, NVM Command Set 1.0c Figure 15 */
static const struct code_name status_names[] = {
	{ NVME_SC_SUCCESS, "SUCCESS: The command completed successfully" },
	{ NVME_SC_INVALID_OPCODE, "INVALID_OPCODE: The associated command opcode field is not "
				  "valid" },
	{ NVME_SC_INVALID_FIELD, "INVALID_FIELD: A reserved coded value or an unsupported value "
				 "in a defined field" },
	{ NVME_SC_CMDID_CONFLICT, "CMDID_CONFLICT: The command identifier is already in use" },
	{ NVME_SC_DATA_XFER_ERROR, "DATA_XFER_ERROR: Error while transferring the data or "
				   "metadata" },
	{ NVME_SC_POWER_LOSS, "POWER_LOSS: Command aborted due to a power loss notification" },
	{ NVME_SC_INTERNAL, "INTERNAL: The command was not completed due to an internal error" },
	{ NVME_SC_ABORT_REQ, "ABORT_REQ: The command was aborted by a Command Abort request" },
	{ NVME_SC_ABORT_QUEUE, "ABORT_QUEUE: The command was aborted by a Delete I/O Submission "
			       "Queue request" },
	{ NVME_SC_FUSED_FAIL, "FUSED_FAIL: The other command of a fused operation failed" },
	{ NVME_SC_FUSED_MISSING, "FUSED_MISSING: The command was aborted due to a missing fused "
				 "command" },
	{ NVME_SC_INVALID_NS, "INVALID_NS: The namespace or the format of that namespace is "
			      "invalid" },
	{ NVME_SC_CMD_SEQ_ERROR, "CMD_SEQ_ERROR: Protocol violation in a multicommand sequence" },
	{ NVME_SC_SGL_INVALID_LAST, "SGL_INVALID_LAST: Invalid SGL Last Segment or SGL Segment "
				    "descriptor" },
	{ NVME_SC_SGL_INVALID_COUNT, "SGL_INVALID_COUNT: Invalid number of SGL descriptors" },
	{ NVME_SC_SGL_INVALID_DATA, "SGL_INVALID_DATA: The length of a Data SGL is invalid" },
	{ NVME_SC_SGL_INVALID_METADATA, "SGL_INVALID_METADATA: The length of a Metadata SGL is "
					"invalid" },
	{ NVME_SC_SGL_INVALID_TYPE, "SGL_INVALID_TYPE: The SGL descriptor type is not "
				    "supported" },
	{ NVME_SC_SGL_INVALID_OFFSET, "SGL_INVALID_OFFSET: The offset in an SGL descriptor is "
				      "invalid" },
	{ NVME_SC_NS_WRITE_PROTECTED, "NS_WRITE_PROTECTED: The namespace is write protected" },
	{ NVME_SC_CMD_INTERRUPTED, "CMD_INTERRUPTED: Command processing was interrupted; retry "
				   "it" },
	{ NVME_SC_TRANSIENT_TR_ERR, "TRANSIENT_TRANSPORT: A transient transport error was "
				    "detected" },
	{ NVME_SC_INVALID_IO_CMD_SET, "INVALID_IOCS: The I/O command set is invalid" },
	{ NVME_SC_LBA_RANGE, "LBA_RANGE: The command references an LBA that exceeds the size of "
			     "the namespace" },
	{ NVME_SC_CAP_EXCEEDED, "CAP_EXCEEDED: The capacity of the namespace was exceeded" },
	{ NVME_SC_NS_NOT_READY, "NS_NOT_READY: The namespace is not ready to be accessed" },
	{ NVME_SC_RESERVATION_CONFLICT, "RESERVATION_CONFLICT: Conflict with a reservation held "
					"on the namespace" },
	{ NVME_SC_CQ_INVALID, "CQ_INVALID: The completion queue does not exist" },
	{ NVME_SC_QID_INVALID, "QID_INVALID: Invalid queue identifier" },
	{ NVME_SC_QUEUE_SIZE, "QUEUE_SIZE: Invalid queue size" },
	{ NVME_SC_ABORT_LIMIT, "ABORT_LIMIT: Too many outstanding Abort commands" },
	{ NVME_SC_ASYNC_LIMIT, "ASYNC_LIMIT: Too many outstanding Asynchronous Event Requests" },
	{ NVME_SCT_CMD_SPECIFIC | 0x06, "FIRMWARE_IMAGE: Invalid firmware image" },
	{ NVME_SC_INVALID_LOG_PAGE, "INVALID_LOG_PAGE: The log page indicated is invalid" },
	{ NVME_SCT_CMD_SPECIFIC | 0x0a, "INVALID_FORMAT: The LBA Format is not supported" },
	{ NVME_SC_FEATURE_NOT_SAVEABLE, "FEATURE_NOT_SAVEABLE: The feature does not support a "
					"saveable value" },
	{ NVME_SC_FEATURE_NOT_CHANGEABLE, "FEATURE_NOT_CHANGEABLE: The feature is not "
					  "changeable" },
	{ NVME_SC_FEATURE_NOT_PER_NS, "FEATURE_NOT_PER_NS: The feature is not namespace "
				      "specific" },
	{ NVME_SCT_CMD_SPECIFIC | 0x18, "KEEP_ALIVE_EXPIRED: The Keep Alive Timer expired" },
	{ NVME_SCT_CMD_SPECIFIC | 0x19, "KEEP_ALIVE_INVALID: The Keep Alive Timeout value is "
					"invalid" },
	{ NVME_SC_BAD_ATTRIBUTES, "BAD_ATTRIBUTES: Conflicting dataset management attributes" },
	{ NVME_SCT_CMD_SPECIFIC | 0x81, "INVALID_PROTECTION_INFO: Invalid protection information "
					"settings" },
	{ NVME_SCT_CMD_SPECIFIC | 0x82, "WRITE_ATTEMPT_READ_ONLY_RANGE: The LBA range contains "
					"read-only blocks" },
	{ NVME_SC_WRITE_FAULT, "WRITE_FAULT: The write data could not be committed to the "
			       "media" },
	{ NVME_SC_READ_ERROR, "READ_ERROR: The read data could not be recovered from the media" },
	{ NVME_SCT_MEDIA | 0x82, "GUARD_CHECK: End-to-end guard check failure" },
	{ NVME_SCT_MEDIA | 0x83, "APPTAG_CHECK: End-to-end application tag check failure" },
	{ NVME_SCT_MEDIA | 0x84, "REFTAG_CHECK: End-to-end reference tag check failure" },
	{ NVME_SC_COMPARE_FAILED, "COMPARE_FAILED: The command failed due to a miscompare during "
				  "a Compare command" },
	{ NVME_SC_ACCESS_DENIED, "ACCESS_DENIED: Access to the namespace or LBA range is "
				 "denied" },
	{ NVME_SCT_MEDIA | 0x87, "UNWRITTEN_BLOCK: Read of a deallocated or unwritten logical "
				 "block" },
	{ NVME_SCT_PATH | 0x00, "INTERNAL_PATH_ERROR: Controller internal path error" },
	{ NVME_SC_ANA_PERSISTENT_LOSS, "ANA_PERSISTENT_LOSS: The namespace is in the ANA "
				       "Persistent Loss state" },
	{ NVME_SC_ANA_INACCESSIBLE, "ANA_INACCESSIBLE: The namespace is in the ANA Inaccessible "
				    "state" },
	{ NVME_SC_ANA_TRANSITION, "ANA_TRANSITION: The namespace is in ANA transition" },
	{ NVME_SC_CTRL_PATH_ERROR, "CONTROLLER_PATHING_ERROR: A pathing error was detected by the "
				   "controller" },
	{ NVME_SC_HOST_PATH_ERROR, "HOST_PATHING_ERROR: A pathing error was detected by the "
				   "host" },
	{ NVME_SC_HOST_ABORTED_CMD, "HOST_COMMAND_ABORT: The command was aborted by the host" },
};

/* Connect command specific status, NVMe Base 2.0c Figure 104 */
static const struct code_name connect_names[] = {
	{ NVME_SC_CONNECT_FORMAT, "CONNECT_FORMAT: Incompatible Connect command format" },
	{ NVME_SC_CONNECT_CTRL_BUSY, "CONNECT_CTRL_BUSY: The controller is busy" },
	{ NVME_SC_CONNECT_INVALID_PARAM, "CONNECT_INVALID_PARAM: Invalid Connect parameters" },
	{ NVME_SC_CONNECT_RESTART_DISC, "CONNECT_RESTART_DISC: Restart discovery" },
	{ NVME_SC_CONNECT_INVALID_HOST, "CONNECT_INVALID_HOST: The host is not allowed to "
					"connect" },
};

static const char *find_name(const struct code_name *t, size_t n, unsigned int code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

const char *nvme_status_str(int status, bool connect)
{
	unsigned int code = (unsigned int)status & (NVME_SCT_MASK | NVME_SC_MASK);
	const char *name = NULL;

	if (connect)
		name = find_name(connect_names, sizeof(connect_names) / sizeof(connect_names[0]),
				 code);
	if (!name)
		name = find_name(status_names, sizeof(status_names) / sizeof(status_names[0]),
				 code);
	if (!name && (code & NVME_SCT_MASK) == 0x700)
		name = "VENDOR_SPECIFIC: Vendor specific status";
	return name ? name : "Unknown";
}

const char *nvme_feature_str(uint8_t fid)
{
	switch (fid) {
	case NVME_FEAT_ARBITRATION:
		return "Arbitration";
	case NVME_FEAT_POWER_MGMT:
		return "Power Management";
	case NVME_FEAT_LBA_RANGE:
		return "LBA Range Type";
	case NVME_FEAT_TEMP_THRESH:
		return "Temperature Threshold";
	case NVME_FEAT_ERR_RECOVERY:
		return "Error Recovery";
	case NVME_FEAT_VOLATILE_WC:
		return "Volatile Write Cache";
	case NVME_FEAT_NUM_QUEUES:
		return "Number of Queues";
	case NVME_FEAT_IRQ_COALESCE:
		return "Interrupt Coalescing";
	case NVME_FEAT_IRQ_CONFIG:
		return "Interrupt Vector Configuration";
	case NVME_FEAT_WRITE_ATOMIC:
		return "Write Atomicity Normal";
	case NVME_FEAT_ASYNC_EVENT:
		return "Async Event Configuration";
	case NVME_FEAT_AUTO_PST:
		return "Autonomous Power State Transition";
	case NVME_FEAT_HOST_MEM_BUF:
		return "Host Memory Buffer";
	case NVME_FEAT_TIMESTAMP:
		return "Timestamp";
	case NVME_FEAT_KATO:
		return "Keep Alive Timer";
	case NVME_FEAT_HCTM:
		return "Host Controlled Thermal Management";
	case NVME_FEAT_NOPSC:
		return "Non-Operational Power State Config";
	case NVME_FEAT_RRL:
		return "Read Recovery Level";
	case NVME_FEAT_HOST_BEHAVIOR:
		return "Host Behavior";
	case NVME_FEAT_HOST_ID:
		return "Host Identifier";
	case NVME_FEAT_RESV_MASK:
		return "Reservation Notification Mask";
	case NVME_FEAT_RESV_PERSIST:
		return "Reservation Persistence";
	case NVME_FEAT_WRITE_PROTECT:
		return "Namespace Write Protect";
	}
	return "Unknown";
}

const char *nvme_select_str(uint8_t sel)
{
	switch (sel) {
	case NVME_FEAT_SEL_CURRENT:
		return "Current";
	case NVME_FEAT_SEL_DEFAULT:
		return "Default";
	case NVME_FEAT_SEL_SAVED:
		return "Saved";
	case NVME_FEAT_SEL_SUPPORTED:
		return "Supported capabilities";
	}
	return "Reserved";
}

const char *nvme_opcode_str(bool admin, uint8_t opcode)
{
	if (admin) {
		switch (opcode) {
		case nvme_admin_delete_sq:
			return "Delete I/O Submission Queue";
		case nvme_admin_create_sq:
			return "Create I/O Submission Queue";
		case nvme_admin_get_log_page:
			return "Get Log Page";
		case nvme_admin_delete_cq:
			return "Delete I/O Completion Queue";
		case nvme_admin_create_cq:
			return "Create I/O Completion Queue";
		case nvme_admin_identify:
			return "Identify";
		case nvme_admin_abort_cmd:
			return "Abort";
		case nvme_admin_set_features:
			return "Set Features";
		case nvme_admin_get_features:
			return "Get Features";
		case nvme_admin_async_event:
			return "Asynchronous Event Request";
		case nvme_admin_ns_mgmt:
			return "Namespace Management";
		case nvme_admin_activate_fw:
			return "Firmware Commit";
		case nvme_admin_download_fw:
			return "Firmware Image Download";
		case nvme_admin_dev_self_test:
			return "Device Self-test";
		case nvme_admin_ns_attach:
			return "Namespace Attachment";
		case nvme_admin_keep_alive:
			return "Keep Alive";
		case nvme_admin_directive_send:
			return "Directive Send";
		case nvme_admin_directive_recv:
			return "Directive Receive";
		case nvme_admin_virtual_mgmt:
			return "Virtualization Management";
		case nvme_admin_nvme_mi_send:
			return "NVMe-MI Send";
		case nvme_admin_nvme_mi_recv:
			return "NVMe-MI Receive";
		case nvme_admin_dbbuf:
			return "Doorbell Buffer Config";
		case nvme_fabrics_command:
			return "Fabrics Command";
		case nvme_admin_format_nvm:
			return "Format NVM";
		case nvme_admin_security_send:
			return "Security Send";
		case nvme_admin_security_recv:
			return "Security Receive";
		case nvme_admin_sanitize_nvm:
			return "Sanitize";
		case nvme_admin_get_lba_status:
			return "Get LBA Status";
		}
		return "Unknown";
	}
	switch (opcode) {
	case nvme_cmd_flush:
		return "Flush";
	case nvme_cmd_write:
		return "Write";
	case nvme_cmd_read:
		return "Read";
	case nvme_cmd_write_uncor:
		return "Write Uncorrectable";
	case nvme_cmd_compare:
		return "Compare";
	case nvme_cmd_write_zeroes:
		return "Write Zeroes";
	case nvme_cmd_dsm:
		return "Dataset Management";
	case nvme_cmd_verify:
		return "Verify";
	case nvme_cmd_resv_register:
		return "Reservation Register";
	case nvme_cmd_resv_report:
		return "Reservation Report";
	case nvme_cmd_resv_acquire:
		return "Reservation Acquire";
	case nvme_cmd_resv_release:
		return "Reservation Release";
	case nvme_cmd_copy:
		return "Copy";
	case nvme_fabrics_command:
		return "Fabrics Command";
	}
	return "Unknown";
}

static const char *pick(const char *const *t, size_t n, size_t i)
{
	return i < n && t[i] ? t[i] : "unrecognized";
}

#define PICK(t, i) pick(t, sizeof(t) / sizeof(t[0]), i)

const char *nvmf_trtype_str(uint8_t trtype)
{
	static const char *const t[] = {
		[NVMF_TRTYPE_RDMA] = "rdma",
		[NVMF_TRTYPE_FC] = "fc",
		[NVMF_TRTYPE_TCP] = "tcp",
		[NVMF_TRTYPE_LOOP] = "loop",
	};

	return PICK(t, trtype);
}

const char *nvmf_adrfam_str(uint8_t adrfam)
{
	static const char *const t[] = {
		[0] = "pci",
		[NVMF_ADRFAM_IPV4] = "ipv4",
		[NVMF_ADRFAM_IPV6] = "ipv6",
		[NVMF_ADRFAM_IB] = "infiniband",
		[NVMF_ADRFAM_FC] = "fibre-channel",
		[NVMF_ADRFAM_LOOP] = "loop",
	};

	return PICK(t, adrfam);
}

const char *nvmf_subtype_str(uint8_t subtype)
{
	static const char *const t[] = {
		[NVME_NQN_DISC] = "discovery subsystem referral",
		[NVME_NQN_NVME] = "nvme subsystem",
		[NVME_NQN_CURR] = "current discovery subsystem",
	};

	return PICK(t, subtype);
}

const char *nvmf_treq_str(uint8_t treq)
{
	static const char *const t[] = {
		[NVMF_TREQ_NOT_SPECIFIED] = "not specified",
		[NVMF_TREQ_REQUIRED] = "required",
		[NVMF_TREQ_NOT_REQUIRED] = "not required",
		[NVMF_TREQ_NOT_SPECIFIED | NVMF_TREQ_DISABLE_SQFLOW] =
			"not specified, sq flow control disable supported",
		[NVMF_TREQ_REQUIRED | NVMF_TREQ_DISABLE_SQFLOW] =
			"required, sq flow control disable supported",
		[NVMF_TREQ_NOT_REQUIRED | NVMF_TREQ_DISABLE_SQFLOW] =
			"not required, sq flow control disable supported",
	};

	return PICK(t, treq);
}

const char *nvmf_eflags_str(uint16_t eflags)
{
	static const char *const t[] = {
		[0] = "none",
		[NVMF_DISC_EFLAGS_EPCSD] = "explicit discovery connections",
		[NVMF_DISC_EFLAGS_DUPRETINFO] = "duplicate discovery information",
		[NVMF_DISC_EFLAGS_EPCSD | NVMF_DISC_EFLAGS_DUPRETINFO] =
			"explicit discovery connections, duplicate discovery information",
		[4] = "no cdc connectivity",
		[NVMF_DISC_EFLAGS_EPCSD | 4] = "explicit discovery connections, no cdc "
					       "connectivity",
		[NVMF_DISC_EFLAGS_DUPRETINFO | 4] = "duplicate discovery information, no cdc "
						    "connectivity",
		[7] = "explicit discovery connections, duplicate discovery information, no cdc "
		      "connectivity",
	};

	return PICK(t, eflags);
}

const char *nvmf_sectype_str(uint8_t sectype)
{
	static const char *const t[] = {
		[NVMF_TCP_SECTYPE_NONE] = "none",
		[1] = "tls",
		[2] = "tls13",
	};

	return PICK(t, sectype);
}

const char *nvme_ana_state_str(uint8_t state)
{
	return nvmf_ana_state_name(state);
}
