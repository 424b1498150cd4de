/* SPDX-License-Identifier: MIT */
/*
 * Field tables of the Identify Controller and Identify Namespace data structures, in the
 * order and with the names nvme-cli prints them, shared by the text and JSON printers.
 * Fields newer than include/nvmf/spec.h's structs (bpcap, nssl, kpioc, ...) are read by
 * offset from their reserved bytes.
 */
#ifndef NVMF_CLI_FIELDS_H
#define NVMF_CLI_FIELDS_H

#include "nvmf/spec.h"

#include <stdint.h>

enum field_kind {
	FIELD_HEX,   /* text %#x, JSON number */
	FIELD_DEC,   /* text %u, JSON number */
	FIELD_STR,   /* fixed-size ASCII */
	FIELD_U128,  /* 16-byte little-endian counter */
	FIELD_IEEE,  /* 3-byte IEEE OUI, printed most significant byte first */
	FIELD_UUID,  /* 16-byte UUID */
	FIELD_BYTES, /* bytes in hexadecimal (nguid, eui64) */
};

#define FIELD_IF_NPWG (1u << 0) /* id-ns: only when NSFEAT bit 4 or 5 is set */
#define FIELD_IF_NPDG (1u << 1) /* id-ns: only when NSFEAT bit 4 is set */
#define FIELD_JSON_SKIP_EMPTY (1u << 2)

/**
 * struct show_field - one field of a data structure
 * @name: as nvme-cli names it
 * @off: byte offset
 * @size: bytes (1, 2, 4 or 8 for numbers)
 * @kind: enum field_kind
 * @flags: FIELD_IF_* conditions
 */
struct show_field {
	const char *name;
	uint16_t off;
	uint16_t size;
	uint8_t kind;
	uint8_t flags;
};

/* NULL-name terminated */
extern const struct show_field id_ctrl_fields[];
extern const struct show_field id_ns_fields[];

/** field_u64() - the little-endian number at @f in @base */
uint64_t field_u64(const void *base, const struct show_field *f);

/** id_ns_lbaf_in_use() - the LBA format index FLBAS selects */
unsigned int id_ns_lbaf_in_use(const struct nvme_id_ns *ns);

#endif /* NVMF_CLI_FIELDS_H */
