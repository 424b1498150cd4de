// SPDX-License-Identifier: MIT
/*
 * Identify Controller (NVMe Base 2.0c Figure 275, with the later fields nvme-cli prints) and
 * Identify Namespace (NVM Command Set 1.0c Figure 97) field tables.
 */
#include "fields.h"

#include <string.h>

#define F(n, o, s, k)                                                                              \
	{                                                                                          \
		.name = (n), .off = (o), .size = (s), .kind = (k)                                  \
	}
#define FF(n, o, s, k, f)                                                                          \
	{                                                                                          \
		.name = (n), .off = (o), .size = (s), .kind = (k), .flags = (f)                    \
	}

const struct show_field id_ctrl_fields[] = {
	F("vid", 0, 2, FIELD_HEX),
	F("ssvid", 2, 2, FIELD_HEX),
	F("sn", 4, 20, FIELD_STR),
	F("mn", 24, 40, FIELD_STR),
	F("fr", 64, 8, FIELD_STR),
	F("rab", 72, 1, FIELD_DEC),
	F("ieee", 73, 3, FIELD_IEEE),
	F("cmic", 76, 1, FIELD_HEX),
	F("mdts", 77, 1, FIELD_DEC),
	F("cntlid", 78, 2, FIELD_HEX),
	F("ver", 80, 4, FIELD_HEX),
	F("rtd3r", 84, 4, FIELD_HEX),
	F("rtd3e", 88, 4, FIELD_HEX),
	F("oaes", 92, 4, FIELD_HEX),
	F("ctratt", 96, 4, FIELD_HEX),
	F("rrls", 100, 2, FIELD_HEX),
	F("bpcap", 102, 1, FIELD_HEX),
	F("nssl", 104, 4, FIELD_HEX),
	F("plsi", 110, 1, FIELD_DEC),
	F("cntrltype", 111, 1, FIELD_DEC),
	F("fguid", 112, 16, FIELD_UUID),
	F("crdt1", 128, 2, FIELD_DEC),
	F("crdt2", 130, 2, FIELD_DEC),
	F("crdt3", 132, 2, FIELD_DEC),
	F("crcap", 252, 1, FIELD_DEC),
	F("nvmsr", 253, 1, FIELD_DEC),
	F("vwci", 254, 1, FIELD_DEC),
	F("mec", 255, 1, FIELD_DEC),
	F("oacs", 256, 2, FIELD_HEX),
	F("acl", 258, 1, FIELD_DEC),
	F("aerl", 259, 1, FIELD_DEC),
	F("frmw", 260, 1, FIELD_HEX),
	F("lpa", 261, 1, FIELD_HEX),
	F("elpe", 262, 1, FIELD_DEC),
	F("npss", 263, 1, FIELD_DEC),
	F("avscc", 264, 1, FIELD_HEX),
	F("apsta", 265, 1, FIELD_HEX),
	F("wctemp", 266, 2, FIELD_DEC),
	F("cctemp", 268, 2, FIELD_DEC),
	F("mtfa", 270, 2, FIELD_DEC),
	F("hmpre", 272, 4, FIELD_DEC),
	F("hmmin", 276, 4, FIELD_DEC),
	F("tnvmcap", 280, 16, FIELD_U128),
	F("unvmcap", 296, 16, FIELD_U128),
	F("rpmbs", 312, 4, FIELD_HEX),
	F("edstt", 316, 2, FIELD_DEC),
	F("dsto", 318, 1, FIELD_DEC),
	F("fwug", 319, 1, FIELD_DEC),
	F("kas", 320, 2, FIELD_DEC),
	F("hctma", 322, 2, FIELD_HEX),
	F("mntmt", 324, 2, FIELD_DEC),
	F("mxtmt", 326, 2, FIELD_DEC),
	F("sanicap", 328, 4, FIELD_HEX),
	F("hmminds", 332, 4, FIELD_DEC),
	F("hmmaxd", 336, 2, FIELD_DEC),
	F("nsetidmax", 338, 2, FIELD_DEC),
	F("endgidmax", 340, 2, FIELD_DEC),
	F("anatt", 342, 1, FIELD_DEC),
	F("anacap", 343, 1, FIELD_DEC),
	F("anagrpmax", 344, 4, FIELD_DEC),
	F("nanagrpid", 348, 4, FIELD_DEC),
	F("pels", 352, 4, FIELD_DEC),
	F("domainid", 356, 2, FIELD_DEC),
	F("kpioc", 358, 1, FIELD_DEC),
	F("mptfawr", 360, 2, FIELD_DEC),
	F("megcap", 368, 16, FIELD_U128),
	F("tmpthha", 384, 1, FIELD_HEX),
	F("cqt", 386, 2, FIELD_DEC),
	F("sqes", 512, 1, FIELD_HEX),
	F("cqes", 513, 1, FIELD_HEX),
	F("maxcmd", 514, 2, FIELD_DEC),
	F("nn", 516, 4, FIELD_DEC),
	F("oncs", 520, 2, FIELD_HEX),
	F("fuses", 522, 2, FIELD_HEX),
	F("fna", 524, 1, FIELD_HEX),
	F("vwc", 525, 1, FIELD_HEX),
	F("awun", 526, 2, FIELD_DEC),
	F("awupf", 528, 2, FIELD_DEC),
	F("icsvscc", 530, 1, FIELD_DEC),
	F("nwpc", 531, 1, FIELD_DEC),
	F("acwu", 532, 2, FIELD_DEC),
	F("ocfs", 534, 2, FIELD_HEX),
	F("sgls", 536, 4, FIELD_HEX),
	F("mnan", 540, 4, FIELD_DEC),
	F("maxdna", 544, 16, FIELD_U128),
	F("maxcna", 560, 4, FIELD_DEC),
	F("oaqd", 564, 4, FIELD_DEC),
	F("rhiri", 568, 1, FIELD_DEC),
	F("hirt", 569, 1, FIELD_DEC),
	F("cmmrtd", 570, 2, FIELD_DEC),
	F("nmmrtd", 572, 2, FIELD_DEC),
	F("minmrtg", 574, 1, FIELD_DEC),
	F("maxmrtg", 575, 1, FIELD_DEC),
	F("trattr", 576, 1, FIELD_DEC),
	F("mcudmq", 578, 2, FIELD_DEC),
	F("mnsudmq", 580, 2, FIELD_DEC),
	F("mcmr", 582, 2, FIELD_DEC),
	F("nmcmr", 584, 2, FIELD_DEC),
	F("mcdqpc", 586, 2, FIELD_DEC),
	FF("subnqn", 768, 256, FIELD_STR, FIELD_JSON_SKIP_EMPTY),
	F("ioccsz", 1792, 4, FIELD_DEC),
	F("iorcsz", 1796, 4, FIELD_DEC),
	F("icdoff", 1800, 2, FIELD_DEC),
	F("fcatt", 1802, 1, FIELD_HEX),
	F("msdbd", 1803, 1, FIELD_DEC),
	F("ofcs", 1804, 2, FIELD_DEC),
	{ .name = NULL },
};

const struct show_field id_ns_fields[] = {
	F("nsze", 0, 8, FIELD_HEX),
	F("ncap", 8, 8, FIELD_HEX),
	F("nuse", 16, 8, FIELD_HEX),
	F("nsfeat", 24, 1, FIELD_HEX),
	F("nlbaf", 25, 1, FIELD_DEC),
	F("flbas", 26, 1, FIELD_HEX),
	F("mc", 27, 1, FIELD_HEX),
	F("dpc", 28, 1, FIELD_HEX),
	F("dps", 29, 1, FIELD_HEX),
	F("nmic", 30, 1, FIELD_HEX),
	F("rescap", 31, 1, FIELD_HEX),
	F("fpi", 32, 1, FIELD_HEX),
	F("dlfeat", 33, 1, FIELD_DEC),
	F("nawun", 34, 2, FIELD_DEC),
	F("nawupf", 36, 2, FIELD_DEC),
	F("nacwu", 38, 2, FIELD_DEC),
	F("nabsn", 40, 2, FIELD_DEC),
	F("nabo", 42, 2, FIELD_DEC),
	F("nabspf", 44, 2, FIELD_DEC),
	F("noiob", 46, 2, FIELD_DEC),
	F("nvmcap", 48, 16, FIELD_U128),
	FF("npwg", 64, 2, FIELD_DEC, FIELD_IF_NPWG),
	FF("npwa", 66, 2, FIELD_DEC, FIELD_IF_NPWG),
	FF("npdg", 68, 2, FIELD_DEC, FIELD_IF_NPWG | FIELD_IF_NPDG),
	FF("npda", 70, 2, FIELD_DEC, FIELD_IF_NPWG),
	FF("nows", 72, 2, FIELD_DEC, FIELD_IF_NPWG),
	F("mssrl", 74, 2, FIELD_DEC),
	F("mcl", 76, 4, FIELD_DEC),
	F("msrc", 80, 1, FIELD_DEC),
	F("kpios", 81, 1, FIELD_DEC),
	F("nulbaf", 82, 1, FIELD_DEC),
	F("kpiodaag", 84, 4, FIELD_DEC),
	F("anagrpid", 92, 4, FIELD_DEC),
	F("nsattr", 99, 1, FIELD_DEC),
	F("nvmsetid", 100, 2, FIELD_DEC),
	F("endgid", 102, 2, FIELD_DEC),
	F("nguid", 104, 16, FIELD_BYTES),
	F("eui64", 120, 8, FIELD_BYTES),
	{ .name = NULL },
};

static_assert(offsetof(struct nvme_id_ctrl, mnan) == 540, "id ctrl mnan");
static_assert(offsetof(struct nvme_id_ctrl, maxcna) == 560, "id ctrl maxcna");
static_assert(offsetof(struct nvme_id_ctrl, megcap) == 368, "id ctrl megcap");
static_assert(offsetof(struct nvme_id_ns, eui64) == 120, "id ns eui64");

uint64_t field_u64(const void *base, const struct show_field *f)
{
	const uint8_t *p = (const uint8_t *)base + f->off;
	uint64_t v = 0;

	for (unsigned int i = f->size < 8 ? f->size : 8; i; i--)
		v = v << 8 | p[i - 1];
	return v;
}

unsigned int id_ns_lbaf_in_use(const struct nvme_id_ns *ns)
{
	return (ns->flbas & 0xf) | ((ns->flbas >> 5) & 3) << 4;
}
