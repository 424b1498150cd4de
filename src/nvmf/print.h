/* SPDX-License-Identifier: MIT */
/*
 * Output of the CLI in nvme-cli's shapes: "normal" text (print.c), JSON through json-c
 * (print-json.c) and raw binary; and the names nvme-cli prints for status codes, features,
 * opcodes and discovery fields (names.c).
 *
 * Every show_*() takes the output format; CLI_FMT_BINARY writes the structure as it came
 * off the wire to stdout.
 */
#ifndef NVMF_CLI_PRINT_H
#define NVMF_CLI_PRINT_H

#include "cli.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* show flags */
#define SHOW_HUMAN (1u << 0) /* -H / -v: decode fields */
#define SHOW_VS (1u << 1)    /* -V: vendor specific bytes */

/* names.c */

/**
 * nvme_status_str() - "NAME: description" of an NVMe status, as nvme-cli 1.x prints it
 * @status: status field (SCT/SC, More and DNR are ignored)
 * @connect: the status answers a Fabrics Connect (SCT 1 codes 0x80.. differ)
 */
const char *nvme_status_str(int status, bool connect);
/** nvme_feature_str() - name of a Feature Identifier ("Number of Queues") */
const char *nvme_feature_str(uint8_t fid);
/** nvme_select_str() - Get Features SEL name ("Current") */
const char *nvme_select_str(uint8_t sel);
/** nvme_opcode_str() - name of an admin or I/O opcode ("Identify"), "Unknown" if none */
const char *nvme_opcode_str(bool admin, uint8_t opcode);
/** Discovery Log Page Entry field names, as libnvme spells them */
const char *nvmf_trtype_str(uint8_t trtype);
const char *nvmf_adrfam_str(uint8_t adrfam);
const char *nvmf_subtype_str(uint8_t subtype);
const char *nvmf_treq_str(uint8_t treq);
const char *nvmf_eflags_str(uint16_t eflags);
const char *nvmf_sectype_str(uint8_t sectype);
/** nvme_ana_state_str() - "optimized", "non-optimized", ... */
const char *nvme_ana_state_str(uint8_t state);

/* print.c */

/** le128_to_str() - the decimal text of a 16-byte little-endian counter */
void le128_to_str(const uint8_t v[16], char *out, size_t len);
/** le128_to_double() - the value of a 16-byte little-endian counter, approximately */
double le128_to_double(const uint8_t v[16]);
/** show_hexdump() - nvme-cli's d(): 16 bytes a line with offsets and ASCII */
void show_hexdump(const void *buf, size_t len);
/** show_binary() - raw bytes to stdout; 0 or 1 (the exit status) */
int show_binary(const void *buf, size_t len);
/** json_print() - pretty-print @o on stdout and drop it */
void json_print(struct json_object *o);
/** json_hex() - a JSON string of the bytes of @buf in hexadecimal */
struct json_object *json_hex(const void *buf, size_t len);

void show_id_ctrl(const struct nvme_id_ctrl *id, enum cli_fmt fmt, unsigned int flags);
void show_id_ns(const struct nvme_id_ns *ns, uint32_t nsid, enum cli_fmt fmt, unsigned int flags);
void show_ns_list(const uint32_t *list, size_t nr, enum cli_fmt fmt, unsigned int flags);
void show_ns_descs(const void *buf, uint32_t nsid, enum cli_fmt fmt, unsigned int flags);
void show_smart_log(const struct nvme_smart_log *s, uint32_t nsid, const char *dev,
		    enum cli_fmt fmt, unsigned int flags);
void show_error_log(const struct nvme_error_log_entry *e, unsigned int nr, const char *dev,
		    enum cli_fmt fmt);
void show_effects_log(const struct nvme_effects_log *l, uint8_t csi, enum cli_fmt fmt,
		      unsigned int flags);
void show_discovery_log(const struct nvmf_disc_rsp_page_hdr *log, uint64_t numrec,
			enum cli_fmt fmt);
void show_feature(uint8_t fid, uint8_t sel, uint32_t result, const void *buf, uint32_t len,
		  enum cli_fmt fmt, unsigned int flags);

/* print-json.c: the JSON side of the show_*() functions */
void json_id_ctrl(const struct nvme_id_ctrl *id);
void json_id_ns(const struct nvme_id_ns *ns);
void json_ns_list(const uint32_t *list, size_t nr);
void json_ns_descs(const void *buf);
void json_smart_log(const struct nvme_smart_log *s, unsigned int flags);
void json_error_log(const struct nvme_error_log_entry *e, unsigned int nr);
void json_effects_log(const struct nvme_effects_log *l, uint8_t csi);
void json_discovery_log(const struct nvmf_disc_rsp_page_hdr *log, uint64_t numrec);
void json_feature(uint8_t fid, uint8_t sel, uint32_t result, const void *buf, uint32_t len);
/** json_feature_obj() - the object json_feature() prints (get-feature of every feature) */
struct json_object *json_feature_obj(uint8_t fid, uint8_t sel, uint32_t result, const void *buf,
				     uint32_t len);
/** json_uint128() - a JSON number of a 16-byte little-endian counter (exact) */
struct json_object *json_uint128(const uint8_t v[16]);

#endif /* NVMF_CLI_PRINT_H */
